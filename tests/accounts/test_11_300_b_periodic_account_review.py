"""21 CFR 11.300(b), Annex 11 12.3: every active account is reviewed periodically (is the ID
still this person's, are the roles still right?); the review is recorded, audited, and overdue
accounts are listed for the administrators and by a command a scheduler can run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from galenic.accounts import selectors, services
from galenic.accounts.models import User
from galenic.cli import app
from galenic.core.errors import PermissionDenied, ValidationFailed
from galenic.core.timefmt import local_today, utcnow

pytestmark = pytest.mark.django_db


def _age(user: User, days: int) -> None:
    User.objects.filter(pk=user.pk).update(created_at=utcnow() - timedelta(days=days))
    user.refresh_from_db()


def test_11_300_b_an_account_is_due_a_year_after_creation_or_its_last_review(
    personas, settings, events
):
    settings.ACCESS_REVIEW_DAYS = 365
    olivia = personas["operator"]
    _age(olivia, 400)
    assert selectors.review_due_on(olivia) <= local_today()
    assert olivia in [u for u, _ in selectors.reviews_due(personas["admin"])]
    review = services.review_access(
        actor=personas["admin"], user=olivia, note="still on line 2; roles confirmed"
    )
    assert review.roles == "operator"
    assert selectors.review_due_on(olivia) == local_today() + timedelta(days=365)
    assert olivia not in [u for u, _ in selectors.reviews_due(personas["admin"])]
    (event,) = events("accounts.user.review_access")
    assert event["category"] == "security"
    assert event["new"]["note"] == "still on line 2; roles confirmed"


def test_11_300_b_a_review_says_what_was_concluded_and_nobody_reviews_themselves(personas):
    with pytest.raises(ValidationFailed) as refused:
        services.review_access(actor=personas["admin"], user=personas["operator"], note=" ")
    assert refused.value.errors[0].field == "note"
    with pytest.raises(PermissionDenied):
        services.review_access(actor=personas["admin"], user=personas["admin"], note="fine")
    with pytest.raises(PermissionDenied):
        services.review_access(actor=personas["supervisor"], user=personas["operator"], note="ok")


def test_11_300_b_deactivated_accounts_and_untracked_sites_are_never_due(personas, settings):
    olivia = personas["operator"]
    _age(olivia, 400)
    settings.ACCESS_REVIEW_DAYS = 0
    assert selectors.review_due_on(olivia) is None
    settings.ACCESS_REVIEW_DAYS = 365
    services.deactivate_user(actor=personas["admin"], user=olivia, reason="left")
    olivia.refresh_from_db()
    assert selectors.review_due_on(olivia) is None


def test_11_300_b_command_lists_overdue_accounts_and_exits_3(personas, settings):
    settings.ACCESS_REVIEW_DAYS = 365
    runner = CliRunner()
    quiet = runner.invoke(app, ["users", "reviews-due"])
    assert quiet.exit_code == 0, quiet.output
    assert "No account review is due." in quiet.output
    _age(personas["operator"], 400)
    due = runner.invoke(app, ["users", "reviews-due"])
    assert due.exit_code == 3
    assert "olivia" in due.output


def test_11_300_b_user_page_and_api(personas, settings, ui, api):
    settings.ACCESS_REVIEW_DAYS = 365
    _age(personas["operator"], 400)
    listed = api(personas["admin"]).get("/api/v1/accounts/access-reviews/due").json()
    assert [row["username"] for row in listed] == ["olivia"]
    client = ui(personas["admin"])
    page = client.get("/accounts/users/olivia/").content.decode()
    assert 'data-testid="review-form"' in page
    assert "Not reviewed yet." in page
    refused = client.post("/accounts/users/olivia/access-review/", {"note": ""})
    assert refused.status_code == 400
    assert 'data-testid="review-error"' in refused.content.decode()
    done = client.post("/accounts/users/olivia/access-review/", {"note": "roles confirmed"})
    assert done.status_code == 302
    assert api(personas["admin"]).get("/api/v1/accounts/access-reviews/due").json() == []
