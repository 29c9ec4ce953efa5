"""Hostile and malformed values through the API and the UI record paths: each is refused with an
error naming the field, or stored exactly as given and shown escaped; never misread.

The number rules themselves are tested without HTTP in tests/pure/test_numbers.py and
tests/pure/test_execution_values.py, user-ID rules in tests/accounts/test_identity.py; here the
same inputs travel the real request paths (JSON, form posts, login, signing).
"""

from __future__ import annotations

import html

import pytest

from galenic.core.timefmt import utcnow
from galenic.execution.models import Entry
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

B = "/api/v1/batches"
MEGABYTE = "9" * 1_000_000

BAD_NUMBERS = [
    # (value, unit, field the error must name)
    ("NaN", "", "value"),
    ("nan", "", "value"),
    ("Infinity", "", "value"),
    ("-inf", "", "value"),
    ("1e308", "", "value"),
    (1e308, "", "value"),
    ("1,5", "", "value"),
    ("1.000,5", "", "value"),
    ("100", "mL", "value"),  # wrong dimension
    ("100 mL", "", "value"),
    ("100 g", "kg", "value"),  # the unit typed twice, differently
    ("100", "zorkmid", "value"),
    ("", "", "value"),
    ("   ", "", "value"),
    (MEGABYTE, "", "value"),
    ("1; DROP TABLE execution_entry; --", "", "value"),
    ("<script>alert(1)</script>", "", "value"),
    ("\u202e001", "", "value"),  # right-to-left override: would show as "100"
    ("\u0661\u0660\u0660", "", "value"),  # Arabic-Indic digits
    ("\uff11\uff10\uff10", "", "value"),  # full-width digits
    (True, "", "value"),
    ([100], "", "value"),
    ({"$gt": 0}, "", "value"),
]


def _mass_entries() -> int:
    return Entry.objects.filter(batch__number="SEC-RUN", key="mass").count()


@pytest.mark.parametrize(("value", "unit", "field"), BAD_NUMBERS, ids=lambda v: repr(v)[:24])
def test_api_refuses_bad_numbers_naming_the_field(caller, value, unit, field):
    olivia = caller("operator")
    answer = olivia.call(
        "POST", f"{B}/SEC-RUN/steps/weigh/values", {"key": "mass", "value": value, "unit": unit}
    )
    assert answer.status_code == 400, answer.content[:300]
    payload = answer.json()
    assert set(payload) == {"code", "message", "errors"}
    assert payload["errors"][0]["field"] in (field, "unit", "value.0", "value.1"), payload
    assert payload["errors"][0]["message"]
    assert len(answer.content) < 5000  # the error does not echo a megabyte back
    assert _mass_entries() == 0


@pytest.mark.parametrize(
    "raw", [b'{"key": "mass", "value": NaN}', b'{"key": "mass", "value": 1e999}']
)
def test_api_refuses_non_json_numbers(caller, raw):
    olivia = caller("operator")
    answer = olivia.call(
        "POST", f"{B}/SEC-RUN/steps/weigh/values", raw.decode(), content_type="application/json"
    )
    assert answer.status_code == 400, answer.content
    assert _mass_entries() == 0


UI_BAD = [case for case in BAD_NUMBERS[:20] if case[:2] != ("100 g", "kg")]


@pytest.mark.parametrize(("value", "unit", "field"), UI_BAD, ids=lambda v: repr(v)[:24])
def test_ui_refuses_bad_numbers_with_a_message(caller, value, unit, field):
    olivia = caller("operator")
    answer = olivia.call(
        "POST",
        "/batches/SEC-RUN/steps/weigh/record/",
        {"key": "mass", "value": value, "unit": unit},
        content_type="form",
    )
    assert answer.status_code == 400, answer.status_code
    assert 'class="error' in answer.content.decode() or "error" in answer.content.decode()
    assert _mass_entries() == 0


def test_ui_a_unit_typed_with_the_number_wins_over_the_unit_box(caller):
    """A scanner or a person typing "100 g" means grams, whatever the unit box still says;
    the entry keeps exactly what was typed."""
    olivia = caller("operator")
    answer = olivia.call(
        "POST",
        "/batches/SEC-RUN/steps/weigh/record/",
        {"key": "mass", "value": "100 g", "unit": "kg"},
        content_type="form",
    )
    assert answer.status_code == 200
    entry = Entry.objects.get(batch__number="SEC-RUN", key="mass")
    assert (entry.raw_value, entry.value, entry.unit) == ("100 g", "100", "g")


def test_a_good_value_in_another_unit_is_converted_exactly(caller):
    olivia = caller("operator")
    answer = olivia.call(
        "POST", f"{B}/SEC-RUN/steps/weigh/values", {"key": "mass", "value": "0.1", "unit": "kg"}
    )
    assert answer.status_code == 201, answer.content
    entry = Entry.objects.get(batch__number="SEC-RUN", key="mass")
    assert (entry.raw_value, entry.raw_unit, entry.value, entry.unit) == ("0.1", "kg", "100", "g")


TEXTS = [
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "'; DROP TABLE execution_entry; --",
    '" onmouseover="alert(3)',
    "{{ 7*7 }} {% now 'Y' %}",
    "Grüße — ½ tablet ✓",
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_text_is_stored_verbatim_and_shown_escaped(caller, text):
    olivia = caller("operator")
    answer = olivia.call("POST", f"{B}/SEC-PERF/steps/weigh/values", {"key": "note", "value": text})
    assert answer.status_code == 201, answer.content
    entry = Entry.objects.get(batch__number="SEC-PERF", key="note")
    assert entry.raw_value == text
    assert entry.value == text
    page = olivia.call("GET", "/batches/SEC-PERF/steps/weigh/").content.decode()
    assert html.escape(text) in page or html.escape(text, quote=False) in page
    assert "<script>alert(1)" not in page
    assert "onerror=alert(2)>" not in page
    # Never evaluated as a template: "{{ 7*7 }} {% now 'Y' %}" would show as "49 <year>". (Not
    # just "49": a time on the page such as 13:00:49 holds that too.)
    assert f"49 {utcnow().year}" not in page


def test_bidi_controls_in_text_are_refused_or_kept_and_escaped(caller):
    olivia = caller("operator")
    text = "ok \u202egnp.exe"
    answer = olivia.call("POST", f"{B}/SEC-PERF/steps/weigh/values", {"key": "note", "value": text})
    if answer.status_code == 400:
        assert answer.json()["errors"][0]["field"] == "value"
        return
    assert answer.status_code == 201
    assert Entry.objects.get(batch__number="SEC-PERF", key="note").raw_value == text


def test_a_megabyte_of_text_is_refused_or_kept_whole(caller):
    olivia = caller("operator")
    text = "x" * 1_000_000
    answer = olivia.call("POST", f"{B}/SEC-PERF/steps/weigh/values", {"key": "note", "value": text})
    if answer.status_code == 400:
        assert answer.json()["errors"][0]["field"] == "value"
        assert len(answer.content) < 5000
        assert not Entry.objects.filter(batch__number="SEC-PERF", key="note").exists()
    else:
        assert answer.status_code == 201
        assert Entry.objects.get(batch__number="SEC-PERF", key="note").raw_value == text


def test_html_in_a_comment_is_shown_escaped(caller):
    olivia = caller("operator")
    text = "<b>bold</b><script>alert(1)</script>"
    assert (
        olivia.call(
            "POST", f"{B}/SEC-RUN/comments", {"text": text, "step_key": "weigh"}
        ).status_code
        == 201
    )
    for page in ("/batches/SEC-RUN/", "/batches/SEC-RUN/steps/weigh/"):
        body = olivia.call("GET", page).content.decode()
        assert "<script>alert(1)" not in body
        assert "<b>bold</b>" not in body


CONFUSABLE_IDS = [
    "\u043elivia",  # Cyrillic o
    "olivi\u0430",  # Cyrillic a
    "ol\u0456via",  # Cyrillic i
    "\u202eaivilo",  # right-to-left override
    "oli\u200dvia",  # zero-width joiner
    "OLIVIA\u200f",  # right-to-left mark
]


@pytest.mark.parametrize("username", CONFUSABLE_IDS, ids=ascii)
def test_confusable_ids_are_refused_when_creating_users(caller, username):
    ada = caller("admin")
    answer = ada.call(
        "POST",
        "/api/v1/accounts/users",
        {"username": username, "full_name": "Eve", "roles": ["operator"]},
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == "username"
    form = ada.call(
        "POST",
        "/accounts/create-user/",
        {"username": username, "full_name": "Eve", "roles": ["operator"], "reason": "x"},
        content_type="form",
    )
    assert form.status_code == 400, form.status_code


@pytest.mark.parametrize("username", CONFUSABLE_IDS, ids=ascii)
def test_a_confusable_id_never_logs_in_or_signs_as_the_real_person(caller, username):
    anonymous = caller("anonymous")
    answer = anonymous.call(
        "POST",
        "/accounts/login/",
        {"username": username, "password": PASSWORD},
        content_type="form",
    )
    assert answer.status_code != 302
    assert (
        "sessionid" not in anonymous.client.cookies
        or not anonymous.client.cookies["sessionid"].value
    )
    olivia = caller("operator")
    signed = olivia.call(
        "POST", f"{B}/SEC-PERF/steps/weigh/perform", {"user_id": username, "password": PASSWORD}
    )
    assert signed.status_code in (400, 403), signed.content
    assert signed.json()["errors"][0]["field"] == "user_id"


@pytest.mark.parametrize(
    "text",
    [
        '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
        "a: " + "[" * 5000 + "]" * 5000,
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n"
            for a, b in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ],
    ids=["deep json", "deep yaml", "billion laughs"],
)
def test_hostile_mbr_documents_are_refused_not_crashed(caller, text):
    petra = caller("engineer")
    imported = petra.call("POST", "/api/v1/mbrs/?reason=x", text, content_type="application/yaml")
    assert imported.status_code == 400, imported.content[:300]
    checked = petra.call("POST", "/api/v1/mbrs/validate", text, content_type="application/yaml")
    assert checked.status_code == 200
    assert checked.json()["valid"] is False
