"""YAML/JSON import and export round-trip exactly; the content hash is canonical."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from galenic.recipes.document import (
    DocumentFormatError,
    DocumentInvalid,
    MasterBatchRecord,
    canonical_json,
    content_hash,
    dump_json,
    dump_yaml,
    load,
    load_json,
    load_yaml,
)
from galenic.recipes.document.io import read_yaml

TINY_TEXT = (Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8")


def test_yaml_round_trip_is_exact(tiny_doc: MasterBatchRecord) -> None:
    text = dump_yaml(tiny_doc)
    assert load_yaml(text) == tiny_doc
    assert dump_yaml(load_yaml(text)) == text


def test_json_round_trip_is_exact(tiny_doc: MasterBatchRecord) -> None:
    text = dump_json(tiny_doc)
    assert load_json(text) == tiny_doc
    assert dump_json(load_json(text)) == text
    assert load(text) == tiny_doc  # load() recognises JSON
    assert load_yaml(text) == tiny_doc  # JSON is YAML too, and reads the same


def test_yaml_and_json_exports_are_the_same_document(tiny_doc: MasterBatchRecord) -> None:
    assert load_json(dump_json(tiny_doc)) == load_yaml(dump_yaml(tiny_doc))
    assert canonical_json(load_json(dump_json(tiny_doc))) == canonical_json(tiny_doc)


def test_numbers_stay_exactly_as_written() -> None:
    text = TINY_TEXT.replace("target: 25\n", "target: 25.0\n").replace(
        "low_percent: 98.0", "low_percent: 98.10"
    )
    doc = load_yaml(text)
    assert "target: 25.0\n" in dump_yaml(doc)
    assert doc.theoretical_yield.low_percent == Decimal("98.10")
    assert str(doc.theoretical_yield.low_percent) == "98.10"
    assert '"low_percent": 98.10' in dump_json(doc)


def test_defaults_written_out_do_not_change_the_canonical_form_or_hash(
    tiny_doc: MasterBatchRecord,
) -> None:
    verbose = TINY_TEXT.replace(
        "            title: Line clearance\n",
        "            title: Line clearance\n            completion:\n              performer_signature: true\n",
    )
    doc = load_yaml(verbose)
    assert doc == tiny_doc
    assert dump_yaml(doc) == dump_yaml(tiny_doc)
    assert content_hash(doc) == content_hash(tiny_doc)


def test_content_hash_changes_with_content(tiny_doc: MasterBatchRecord) -> None:
    changed = tiny_doc.model_copy(deep=True)
    changed.unit_procedures[0].operations[0].steps[1].parameters[0].action_high = Decimal("1.006")
    assert content_hash(changed) != content_hash(tiny_doc)
    assert len(content_hash(tiny_doc)) == 64
    assert content_hash(tiny_doc) == hashlib.sha256(canonical_json(tiny_doc).encode()).hexdigest()


def test_yaml_1_1_surprises_do_not_happen() -> None:
    data = read_yaml("a: no\nb: on\nc: 2026-01-01\nd: 1_000\ne: 0o17\nf: 1:30\ng: true\nh: 010\n")
    assert data == {
        "a": "no",
        "b": "on",
        "c": "2026-01-01",
        "d": "1_000",
        "e": "0o17",
        "f": "1:30",
        "g": True,
        "h": 10,
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: .nan\n", "not a finite number"),
        ("a: .inf\n", "not a finite number"),
        ("a: !!python/object:os.system x\n", "could not determine a constructor"),
        ("a: [1, 2\n", "line"),
        ("a: 1e400\n", "too large"),
    ],
)
def test_bad_yaml_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DocumentFormatError) as info:
        read_yaml(text)
    assert reason in info.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "reason"),
    [('{"a": 1, "a": 2}', "duplicate key"), ('{"a": NaN}', "finite"), ('{"a": ', "JSON")],
)
def test_bad_json_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DocumentFormatError, match=reason):
        load_json(text)


def test_a_list_is_not_a_master_record() -> None:
    with pytest.raises(DocumentInvalid, match="mapping"):
        load_yaml("- a\n- b\n")


def test_unknown_format_version_is_refused(tiny_data: dict[str, Any]) -> None:
    tiny_data["format"] = "galenic.mbr/99"
    from galenic.recipes.document import validate

    assert [p.path for p in validate(tiny_data)] == ["format"]
