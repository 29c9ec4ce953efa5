"""The builder's edit operations on plain MBR data (pure: no database)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.recipes.editing import (
    EditError,
    EditOp,
    apply,
    format_path,
    new_step_key,
    parse_path,
)


def _data():
    return {
        "code": "MBR-X",
        "unit_procedures": [
            {
                "key": "up",
                "operations": [
                    {"key": "a", "steps": [{"key": "s1"}, {"key": "s2"}, {"key": "s3"}]},
                    {"key": "b", "steps": [{"key": "t1"}]},
                ],
            }
        ],
    }


def test_set_fields_and_remove_with_none():
    data = apply(_data(), [EditOp("set", "", values={"title": "X"})])
    assert data["title"] == "X"
    data = apply(data, [EditOp("set", "", values={"title": None})])
    assert "title" not in data


def test_set_creates_an_absent_group():
    data = apply(_data(), [EditOp("set", "product", values={"name": "Tabs"})])
    assert data["product"] == {"name": "Tabs"}
    path = "unit_procedures[0].operations[0].steps[1].sampling"
    data = apply(data, [EditOp("set", path, values={"description": "10 g"})])
    assert data["unit_procedures"][0]["operations"][0]["steps"][1]["sampling"] == {
        "description": "10 g"
    }


def test_insert_remove_move():
    steps = "unit_procedures[0].operations[0].steps"
    data = apply(_data(), [EditOp("insert", steps, item={"key": "new"}, index=1)])
    keys = [s["key"] for s in data["unit_procedures"][0]["operations"][0]["steps"]]
    assert keys == ["s1", "new", "s2", "s3"]
    data = apply(data, [EditOp("move", f"{steps}[0]", to=3)])
    keys = [s["key"] for s in data["unit_procedures"][0]["operations"][0]["steps"]]
    assert keys == ["new", "s2", "s3", "s1"]
    data = apply(data, [EditOp("remove", f"{steps}[2]")])
    keys = [s["key"] for s in data["unit_procedures"][0]["operations"][0]["steps"]]
    assert keys == ["new", "s2", "s1"]


def test_move_into_another_list():
    data = apply(
        _data(),
        [
            EditOp(
                "move",
                "unit_procedures[0].operations[0].steps[0]",
                into="unit_procedures[0].operations[1].steps",
                to=0,
            )
        ],
    )
    ops = data["unit_procedures"][0]["operations"]
    assert [s["key"] for s in ops[1]["steps"]] == ["s1", "t1"]
    assert [s["key"] for s in ops[0]["steps"]] == ["s2", "s3"]


def test_input_is_not_changed():
    original = _data()
    apply(original, [EditOp("remove", "unit_procedures[0].operations[0].steps[0]")])
    assert original == _data()


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (EditOp("remove", "unit_procedures[5]"), "there is no unit_procedures[5]"),
        (EditOp("remove", "unit_procedures"), "name a list item"),
        (EditOp("insert", "code", item={}), "code is not a list"),
        (EditOp("set", "unit_procedures", values={"x": 1}), "only the fields of a mapping"),
        (EditOp("move", "unit_procedures[0]", to=7), "outside 0 to"),
        (EditOp("set", "", values={"Bad-Name": 1}), "is not a field name"),
        (EditOp("remove", "unit_procedures[0]..operations"), "not a path"),
        (EditOp("remove", "[0]"), "starts with a field name"),
    ],
)
def test_errors_name_the_path(op, message):
    with pytest.raises(EditError, match=re.escape(message)):
        apply(_data(), [op])


def test_op_from_plain_data_checks_types():
    assert EditOp.of({"op": "move", "path": "a[0]", "to": 2}).to == 2
    with pytest.raises(EditError, match="op must be one of"):
        EditOp.of({"op": "eval", "path": ""})
    with pytest.raises(EditError, match="whole number"):
        EditOp.of({"op": "move", "path": "a[0]", "to": True})


def test_new_step_key_is_unique_in_the_record():
    data = _data()
    data["unit_procedures"][0]["operations"][1]["steps"].append({"key": "step_1"})
    assert new_step_key(data) == "step_2"


@given(
    st.lists(
        st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.integers(0, 99)),
        min_size=1,
        max_size=6,
    ).filter(lambda t: isinstance(t[0], str))
)
def test_paths_round_trip(tokens):
    assert parse_path(format_path(tokens)) == tokens
