"""Training records (21 CFR 11.10(i), 211.25(a)): kept per person by administrators, audited,
corrected by withdrawing with a reason, never by editing; bad input names the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from galenic.accounts import selectors, services
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.core.timefmt import local_today

pytestmark = pytest.mark.django_db


def test_11_10_i_admin_records_training_and_it_is_audited(personas, events):
    olivia = personas["operator"]
    record = services.record_training(
        actor=personas["admin"],
        user=olivia,
        course="SOP-GRAN-002",
        title="Granulation v2",
        completed_on=local_today().isoformat(),
        valid_until=(local_today() + timedelta(days=365)).isoformat(),
        note="assessed on the line",
    )
    assert selectors.training_state(record, local_today()) == "current"
    assert selectors.training_gaps(olivia, ["SOP-GRAN-002"]) == []
    (event,) = events("accounts.training.record")
    assert event["actor"] == "ada"
    assert event["new"]["course"] == "SOP-GRAN-002"
    assert event["new"]["user"] == olivia.username


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"course": "", "completed_on": "2026-01-05"}, "course"),
        ({"course": "bad code!", "completed_on": "2026-01-05"}, "course"),
        ({"course": "SOP-1", "completed_on": ""}, "completed_on"),
        ({"course": "SOP-1", "completed_on": "05/01/2026"}, "completed_on"),
        (
            {"course": "SOP-1", "completed_on": "2026-01-05", "valid_until": "2025-12-31"},
            "valid_until",
        ),
        ({"course": "SOP-1", "completed_on": "2999-01-01"}, "completed_on"),
        ({"course": "SOP-1", "completed_on": "2026-01-05", "valid_until": "never"}, "valid_until"),
    ],
)
def test_bad_training_input_names_the_field(personas, kwargs, field):
    with pytest.raises(ValidationFailed) as refused:
        services.record_training(actor=personas["admin"], user=personas["operator"], **kwargs)
    assert refused.value.errors[0].field == field
    assert not personas["operator"].training.exists()


def test_nobody_records_their_own_training_and_only_admins_record(personas):
    with pytest.raises(PermissionDenied):
        services.record_training(
            actor=personas["admin"],
            user=personas["admin"],
            course="SOP-1",
            completed_on="2026-01-05",
        )
    with pytest.raises(PermissionDenied):
        services.record_training(
            actor=personas["supervisor"],
            user=personas["operator"],
            course="SOP-1",
            completed_on="2026-01-05",
        )


def test_a_record_entered_in_error_is_withdrawn_with_a_reason_and_kept(personas, events):
    record = services.record_training(
        actor=personas["admin"],
        user=personas["operator"],
        course="SOP-1",
        completed_on="2026-01-05",
    )
    with pytest.raises(ValidationFailed) as refused:
        services.withdraw_training(actor=personas["admin"], record=record, reason=" ")
    assert refused.value.errors[0].field == "reason"
    services.withdraw_training(actor=personas["admin"], record=record, reason="wrong person")
    record.refresh_from_db()
    assert selectors.training_state(record, local_today()) == "withdrawn"
    assert record.withdraw_reason == "wrong person"
    with pytest.raises(Conflict):
        services.withdraw_training(actor=personas["admin"], record=record, reason="again")
    (event,) = events("accounts.training.withdraw")
    assert event["reason"] == "wrong person"
    assert selectors.training_gaps(personas["operator"], ["SOP-1"]) == [
        "olivia has no training record for SOP-1"
    ]


def test_training_api_lists_records_and_refuses_bad_dates(personas, api):
    admin = api(personas["admin"])
    created = admin.post(
        "/api/v1/accounts/users/olivia/training",
        {"course": "SOP-GRAN-002", "completed_on": "2026-01-05", "valid_until": "2026-02-01"},
    )
    assert created.status_code == 201, created.content
    assert created.json()["state"] == "expired"
    bad = admin.post(
        "/api/v1/accounts/users/olivia/training", {"course": "SOP-X", "completed_on": "soon"}
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "completed_on"
    listed = admin.get("/api/v1/accounts/users/olivia/training").json()
    assert [r["course"] for r in listed] == ["SOP-GRAN-002"]
    # A person reads their own training; not someone else's.
    own = api(personas["operator"]).get("/api/v1/accounts/users/olivia/training")
    assert own.status_code == 200
    assert api(personas["operator"]).get("/api/v1/accounts/users/sam/training").status_code == 403
    withdrawn = admin.post(
        f"/api/v1/accounts/users/olivia/training/{listed[0]['id']}/withdraw",
        {"reason": "wrong date"},
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"


def test_user_page_shows_training_and_records_it(personas, ui):
    client = ui(personas["admin"])
    page = client.get("/accounts/users/olivia/").content.decode()
    assert 'data-testid="training-form"' in page
    assert "No training recorded." in page
    response = client.post(
        "/accounts/users/olivia/training/",
        {"course": "SOP-GRAN-002", "title": "Granulation", "completed_on": "2026-01-05"},
    )
    assert response.status_code == 302
    page = client.get("/accounts/users/olivia/").content.decode()
    assert 'data-testid="training-SOP-GRAN-002"' in page
    assert "does not expire" in page
    refused = client.post(
        "/accounts/users/olivia/training/", {"course": "SOP-X", "completed_on": "2999-01-01"}
    )
    text = refused.content.decode()
    assert refused.status_code == 400
    assert 'data-field="completed_on"' in text
    assert 'value="SOP-X"' in text  # what was typed is kept
