"""The signature binding rules (21 CFR 11.70), without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from galenic.signatures import policy
from galenic.signatures.binding import (
    BindingFields,
    binding_sha256,
    canonical_content,
    changed_keys,
    content_sha256,
)

BASE = BindingFields(
    uid="6f1c0e0c-0000-4000-8000-000000000001",
    signer_pk="7",
    signer_user_id="olivia",
    signer_name="Olivia Operator",
    meaning="performed",
    signed_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    time_zone="Europe/Berlin",
    object_type="execution.step",
    object_id="42",
    content_sha256="a" * 64,
    reason="",
    request_id="r" * 32,
    credentials="password",
)

text = st.text(max_size=40)


@given(
    field=st.sampled_from([f.name for f in dataclasses.fields(BindingFields)]),
    value=text,
)
def test_changing_any_field_changes_the_binding(field, value):
    original = getattr(BASE, field)
    if field == "signed_at":
        changed = dataclasses.replace(BASE, signed_at=BASE.signed_at + timedelta(microseconds=1))
    else:
        if value == original:
            value += "x"
        changed = dataclasses.replace(BASE, **{field: value})
    assert binding_sha256(changed) != binding_sha256(BASE)


@given(a=text, b=text)
def test_text_cannot_slide_between_fields(a, b):
    """Moving characters from one field to the next never gives the same binding."""
    one = dataclasses.replace(BASE, signer_name=a + b, reason="")
    two = dataclasses.replace(BASE, signer_name=a, reason=b)
    if b:
        assert binding_sha256(one) != binding_sha256(two)


@given(st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=8))
def test_content_hash_ignores_key_order(content):
    reordered = dict(reversed(list(content.items())))
    assert content_sha256(content) == content_sha256(reordered)


def test_canonical_content_is_stable_text():
    content = {
        "b": Decimal("1.50"),
        "a": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        "c": ["ä", None],
    }
    assert canonical_content(content) == (
        '{"a":"2026-03-01T09:00:00.000000Z","b":"1.50","c":["ä",null]}'
    )


def test_signing_time_is_compared_in_utc():
    from zoneinfo import ZoneInfo

    local = BASE.signed_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert binding_sha256(dataclasses.replace(BASE, signed_at=local)) == binding_sha256(BASE)


def test_changed_keys_names_what_differs():
    signed = {"qty": "1.50", "unit": "kg", "lot": "L1"}
    now = {"qty": "1.55", "unit": "kg", "note": "x"}
    assert changed_keys(signed, now) == ["lot", "note", "qty"]


def test_policy_hash_is_of_the_exact_text():
    import hashlib

    assert policy.sha256() == hashlib.sha256(policy.text().encode()).hexdigest()
    assert policy.VERSION in policy.text()
