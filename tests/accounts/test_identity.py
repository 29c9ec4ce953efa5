"""User IDs: unique, case-folded, NFKC-normalised, never confusable, never reissued
(21 CFR 11.100(a), 11.300(a))."""

from __future__ import annotations

import pytest

from galenic.accounts import services
from galenic.accounts.models import User
from galenic.core.errors import ValidationFailed


def _create(username, full_name="Some One"):
    return services.create_user(
        actor=None,
        username=username,
        full_name=full_name,
        password="Correct-horse-42",
        roles=["operator"],
    )


def test_11_300_a_duplicate_id_refused(personas):
    with pytest.raises(ValidationFailed) as err:
        _create("olivia")
    assert err.value.field == "username"
    assert "never reissued" in err.value.message


def test_11_300_a_case_folded_and_nfkc_duplicates_refused(personas):
    full_width = "\uff2f\uff2c\uff29\uff36\uff29\uff21"  # OLIVIA in full-width letters
    for variant in ("OLIVIA", "Olivia", full_width, " olivia "):
        with pytest.raises(ValidationFailed, match="never reissued"):
            _create(variant)


def test_11_300_a_ids_are_stored_case_folded(db):
    user = _create("J.Smith")
    assert user.username == "j.smith"


@pytest.mark.parametrize(
    "look_alike",
    [
        "o1ivia",  # digit one for l
        "0livia",  # zero for o
    ],
)
def test_11_300_a_confusable_ids_refused(personas, look_alike):
    with pytest.raises(ValidationFailed) as err:
        _create(look_alike)
    assert err.value.field == "username"
    assert "confused with the existing ID 'olivia'" in err.value.message


def test_11_300_a_confusable_letter_pairs_and_separators_refused(db):
    _create("mary.jones")
    for look_alike in ("rnary.jones", "mary_jones", "mary-jones"):
        with pytest.raises(ValidationFailed, match="confused"):
            _create(look_alike)


@pytest.mark.parametrize(
    "bad",
    [
        "\u043elivia",  # Cyrillic small o
        "olivia\u200f",  # right-to-left mark
        "\u202eailivo",  # right-to-left override
        "oli\u200bvia",  # zero-width space
        "olívia",  # accented letter
        "a",  # too short
        "-olivia",  # must start with a letter or digit
        "o livia",
    ],
)
def test_11_300_a_rtl_invisible_and_foreign_script_ids_refused(db, bad):
    with pytest.raises(ValidationFailed) as err:
        _create(bad)
    assert err.value.field == "username"
    assert not User.objects.exists()


def test_11_100_a_deactivated_id_never_reissued(personas):
    services.deactivate_user(actor=personas["admin"], user=personas["operator"], reason="left")
    with pytest.raises(ValidationFailed, match="never reissued"):
        _create("olivia", full_name="Another Olivia")


def test_11_100_a_users_cannot_be_deleted(personas):
    with pytest.raises(PermissionError):
        personas["operator"].delete()
    with pytest.raises(PermissionError):
        User.objects.filter(username="olivia").delete()
    assert User.objects.filter(username="olivia").exists()


def test_11_50_printed_name_is_required_and_free_of_hidden_marks(db):
    with pytest.raises(ValidationFailed) as err:
        _create("newbie", full_name="   ")
    assert err.value.field == "full_name"
    with pytest.raises(ValidationFailed, match="right-to-left"):
        _create("newbie", full_name="Eve \u202eliveD")
    assert _create("newbie", full_name="  José   Müller ").full_name == "José Müller"


def test_unknown_role_refused(db):
    with pytest.raises(ValidationFailed) as err:
        services.create_user(
            actor=None, username="x1", full_name="X", password="Correct-horse-42", roles=["god"]
        )
    assert err.value.field == "roles"
