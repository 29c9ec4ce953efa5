"""Importing an MBR file: whatever text arrives (random, a mangled real record, hostile YAML),
reading and validating it ends in a document or a DocumentInvalid with problems, never in any
other exception (the API and CLI turn DocumentInvalid into a 400 naming the problems).

test_mbr_validation_fuzz.py fuzzes the parsed data; this file fuzzes the text before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galenic.recipes.document import validate
from galenic.recipes.document.io import DocumentInvalid, load

TINY = (Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _import(text: str) -> None:
    try:
        document = load(text)
    except DocumentInvalid as exc:
        refused = exc
    else:
        validate(document)
        return
    assert refused.problems, "a refusal must say why"  # problems are answers, not exceptions


@FUZZ
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    _import(text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)


@FUZZ
@given(JSON)
def test_any_json_value(value: object) -> None:
    _import(json.dumps(value))  # NaN and Infinity included: json.dumps writes them


@FUZZ
@given(st.data())
def test_a_real_record_mangled(data: st.DataObject) -> None:
    text = TINY
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["cut", "insert", "swap"]))
        if kind == "cut":
            text = text[:at] + text[at + data.draw(st.integers(1, 40)) :]
        elif kind == "insert":
            junk = data.draw(
                st.sampled_from(
                    [
                        "\n",
                        ":",
                        "- ",
                        "{",
                        "[",
                        "&a ",
                        "*a",
                        "!!",
                        "'",
                        '"',
                        "\t",
                        "\x00",
                        "\u202e",
                        "1e999",
                        "nan",
                    ]
                )
                | st.text(max_size=6)
            )
            text = text[:at] + junk + text[at:]
        else:
            other = data.draw(st.integers(0, len(text)))
            lo, hi = sorted((at, other))
            text = text[:lo] + text[hi:] + text[lo:hi]
    _import(text)


HOSTILE = {
    "billion laughs": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "python object tag": "code: !!python/object/apply:os.system ['echo owned']\n",
    "python name tag": "code: !!python/name:os.system\n",
    "deep nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep json": '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
    "huge exponent": "format: galenic.mbr/1\nbatch_size: {size: 1e999999, unit: tablet}\n",
    "huge json int": '{"format": "galenic.mbr/1", "batch_size": {"size": ' + "9" * 5000 + "}}",
    "json nan": '{"format": "galenic.mbr/1", "batch_size": {"size": NaN, "unit": "L"}}',
    "binary tag": "code: !!binary aGVsbG8=\n",
    "merge keys": "base: &b {code: X}\nproduct:\n  <<: *b\n",
    "duplicate keys": "code: A\ncode: B\n",
    "null bytes": "code: A\x00B\n",
    "bom and crlf": "\ufeffformat: galenic.mbr/1\r\ncode: A\r\n",
    "lone surrogate": "code: \ud800\n",
    "tabs": "format:\tgalenic.mbr/1\n\tcode: A\n",
    "multiple documents": "code: A\n---\ncode: B\n",
    "not a mapping": "- a\n- b\n",
    "empty": "",
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_yaml_and_json(text: str) -> None:
    _import(text)
