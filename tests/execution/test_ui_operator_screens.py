"""The operator's screens: the batch shows the step to work on, the step screen records a value
with instant feedback on its limits, an excursion asks for its comment, the step is signed
through the shared sign form, and the verifier signs next."""

from __future__ import annotations

import pytest
from execution_helpers import CSRF

from galenic.execution.models import Entry, StepStatus
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _client(api, user):
    return api(user).client


def _post(client, url, data, htmx=True):
    headers = {"X-CSRFToken": CSRF, **(HX if htmx else {})}
    return client.post(url, data, headers=headers)


def test_operator_works_a_step_on_the_tablet(floor, api):
    floor.start()
    olivia = _client(api, floor.operator)
    page = olivia.get("/batches/B001/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="open-step-clearance"' in html
    assert "Line clearance" in html

    step = olivia.get("/batches/B001/steps/clearance/").content.decode()
    assert 'data-testid="entry-form-temperature"' in step
    assert 'data-testid="answer-yes"' in step  # a yes/no question is two big buttons
    assert "action 18 … 25 °C" in step

    row = _post(
        olivia, "/batches/B001/steps/clearance/record/", {"key": "temperature", "value": "26.1"}
    )
    assert row.status_code == 200
    fragment = row.content.decode()
    assert 'data-outcome="action_high"' in fragment
    assert "26.1 °C is above the action limit 25 °C" in fragment
    assert 'data-testid="excursion-comment"' in fragment  # asks for the comment at once
    entry = Entry.objects.get(key="temperature")

    commented = _post(
        olivia,
        "/batches/B001/steps/clearance/comment/",
        {"entry_id": entry.pk, "text": "door open during cleaning"},
    ).content.decode()
    assert "door open during cleaning" in commented
    assert 'data-testid="excursion-comment"' not in commented

    _post(olivia, "/batches/B001/steps/clearance/record/", {"key": "room_clear", "value": "true"})
    signed = _post(
        olivia,
        "/batches/B001/steps/clearance/perform/",
        {"user_id": "olivia", "password": PASSWORD},
    )
    assert signed.status_code == 204, signed.content.decode()
    assert signed["HX-Redirect"] == "/batches/B001/"
    assert floor.step("clearance").status == StepStatus.COMPLETED


def test_bad_input_is_shown_beside_the_field_and_nothing_is_recorded(floor, api):
    floor.start()
    olivia = _client(api, floor.operator)
    row = _post(
        olivia,
        "/batches/B001/steps/clearance/record/",
        {"key": "temperature", "value": "21", "unit": "kg"},
    )
    fragment = row.content.decode()
    assert 'data-field="unit"' in fragment
    assert "incompatible" in fragment
    assert not Entry.objects.exists()


def test_wrong_password_comes_back_in_the_sign_form(floor, api):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    olivia = _client(api, floor.operator)
    answer = _post(
        olivia,
        "/batches/B001/steps/clearance/perform/",
        {"user_id": "olivia", "password": "wrong-one"},
    ).content.decode()
    assert 'data-testid="sign-form"' in answer
    assert "password" in answer.lower()
    assert floor.step("clearance").status == StepStatus.IN_PROGRESS


def test_verifier_signs_after_the_performer_and_the_screen_shows_both(floor, api):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    floor.weigh("weigh", "API-L", "500", "g")
    floor.record("weigh", "check_weight", "500")
    floor.perform("weigh")
    victor = _client(api, floor.verifier)
    page = victor.get("/batches/B001/steps/weigh/").content.decode()
    assert "Verified (second person)" in page  # the form offers the verifier's signature
    signed = _post(
        victor,
        "/batches/B001/steps/weigh/verify/?iteration=1",
        {"user_id": "victor", "password": PASSWORD},
    )
    assert signed.status_code == 204, signed.content.decode()
    page = victor.get("/batches/B001/steps/weigh/").content.decode()
    assert "Victor" in page
    assert floor.available() == ["press"]


def test_supervisor_creates_releases_and_holds(floor, api):
    from execution_helpers import effective_version

    effective_version(floor.personas["engineer"])
    sam = _client(api, floor.supervisor)
    form = sam.get("/batches/new/").content.decode()
    assert "MBR-LINE v1" in form
    created = _post(
        sam,
        "/batches/new/",
        {"mbr": "MBR-LINE", "number": "UI-1", "batch_size": "1500 tablet"},
        htmx=False,
    )
    assert created.status_code == 302
    page = sam.get("/batches/UI-1/").content.decode()
    assert 'data-testid="sign-form"' in page  # release to the floor is signed
    released = _post(sam, "/batches/UI-1/release/", {"user_id": "sam", "password": PASSWORD})
    assert released.status_code == 204
    olivia = _client(api, floor.operator)
    assert _post(olivia, "/batches/UI-1/start/", {}, htmx=False).status_code == 302
    refused = _post(olivia, "/batches/UI-1/hold/", {"reason": "x"}, htmx=False)
    assert refused.status_code == 403
    held = _post(sam, "/batches/UI-1/hold/", {"reason": "press jam"}, htmx=False)
    assert held.status_code == 302
    assert "press jam" in sam.get("/batches/UI-1/").content.decode()


def test_inspector_reads_but_gets_no_forms(floor, api):
    floor.start()
    ian = _client(api, floor.personas["inspector"])
    page = ian.get("/batches/B001/steps/clearance/").content.decode()
    assert "Line clearance" in page
    assert "entry-form" not in page
    assert 'data-testid="sign-form"' not in page
    assert ian.get("/batches/").status_code == 200
