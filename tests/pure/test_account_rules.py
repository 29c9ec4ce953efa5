"""Pure rules of accounts: ID normalisation, confusable skeletons, password ageing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.accounts.identity import clean_full_name, normalise_user_id, skeleton
from galenic.accounts.policy import locks_now, password_expired, password_expires_at

ID_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789._-")
ids = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"),
    st.lists(ID_CHARS, min_size=1, max_size=20),
)


@given(ids)
def test_normalise_is_idempotent(user_id):
    once = normalise_user_id(user_id)
    assert normalise_user_id(once) == once


@given(ids)
def test_case_and_width_do_not_make_a_new_id(user_id):
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in user_id.upper())
    assert normalise_user_id(wide) == normalise_user_id(user_id)


@given(ids)
def test_skeleton_is_idempotent(user_id):
    assert skeleton(skeleton(user_id)) == skeleton(user_id)


@given(ids)
def test_look_alike_substitutions_share_a_skeleton(user_id):
    swapped = user_id.replace("l", "1").replace("o", "0").replace("m", "rn").replace("_", "-")
    assert skeleton(swapped) == skeleton(user_id)


@given(st.text(min_size=1, max_size=30))
def test_normalised_ids_are_plain_ascii(raw):
    try:
        value = normalise_user_id(raw)
    except ValueError:
        return
    assert value.isascii()
    assert value == value.lower()


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u200b"])
def test_names_with_bidi_or_invisible_marks_refused(mark):
    with pytest.raises(ValueError, match="invisible"):
        clean_full_name(f"Ada{mark} Admin")


def test_password_ageing():
    set_at = datetime(2026, 1, 1, tzinfo=UTC)
    assert password_expires_at(set_at, 90) == set_at + timedelta(days=90)
    assert not password_expired(set_at, set_at + timedelta(days=89), 90)
    assert password_expired(set_at, set_at + timedelta(days=90), 90)
    assert not password_expired(set_at, set_at + timedelta(days=9999), 0)  # ageing off
    assert password_expired(None, set_at, 90)  # never set: must be changed


@given(st.integers(min_value=0, max_value=50), st.integers(min_value=1, max_value=20))
def test_lock_exactly_at_threshold(attempts, threshold):
    assert locks_now(attempts, threshold) == (attempts >= threshold)
