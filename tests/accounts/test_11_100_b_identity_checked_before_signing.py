"""21 CFR 11.100(b): before an electronic signature is issued, the person's identity is checked,
by an administrator other than the one who created the account, and what was seen is kept."""

from __future__ import annotations

import pytest

from galenic.accounts import services
from galenic.accounts.models import User
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.signatures import services as signing

pytestmark = pytest.mark.django_db

PASSWORD = "Nadia-is-new-2026!"


@pytest.fixture
def second_admin(make_user):
    return make_user("bea", ["admin"])


@pytest.fixture
def nadia(personas) -> User:
    return services.create_user(
        actor=personas["admin"],
        username="nadia",
        full_name="Nadia Novak",
        password=PASSWORD,
        roles=["operator"],
        reason="hired",
    )


def _sign_in(user: User):
    return signing.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=PASSWORD
    )


def test_11_100_b_activation_needs_an_identity_check_from_a_second_admin(
    personas, second_admin, nadia, events
):
    assert nadia.created_by == personas["admin"]
    assert not nadia.identity_verified
    with pytest.raises(PermissionDenied) as refused:
        _sign_in(nadia)
    assert "11.100(b)" in refused.value.message
    # The admin who created the account cannot check the identity too.
    with pytest.raises(PermissionDenied) as creator:
        services.verify_identity(actor=personas["admin"], user=nadia, evidence="passport seen")
    assert "second administrator" in creator.value.message
    services.verify_identity(
        actor=second_admin, user=nadia, evidence="passport seen in person; HR record 4711"
    )
    nadia.refresh_from_db()
    assert nadia.identity_verified_by == second_admin
    assert nadia.identity_evidence == "passport seen in person; HR record 4711"
    (event,) = events("accounts.user.verify_identity")
    assert event["category"] == "security"
    assert event["actor"] == "bea"
    assert event["new"]["evidence"] == "passport seen in person; HR record 4711"
    assert _sign_in(nadia).user == nadia


def test_11_100_b_the_check_says_what_was_seen_and_happens_once(second_admin, nadia):
    with pytest.raises(ValidationFailed) as refused:
        services.verify_identity(actor=second_admin, user=nadia, evidence="  ")
    assert refused.value.errors[0].field == "evidence"
    services.verify_identity(actor=second_admin, user=nadia, evidence="ID card seen")
    with pytest.raises(Conflict):
        services.verify_identity(actor=second_admin, user=nadia, evidence="again")


def test_11_100_b_only_admins_check_identities(personas, nadia):
    with pytest.raises(PermissionDenied):
        services.verify_identity(actor=personas["supervisor"], user=nadia, evidence="seen")


def test_11_100_b_accounts_made_on_the_server_count_as_checked_with_the_evidence_kept():
    admin = services.create_user(
        actor=None,
        username="root1",
        full_name="First Admin",
        password=PASSWORD,
        roles=["admin"],
        identity_evidence="installed by J. Doe, passport seen by the site head",
    )
    assert admin.identity_verified
    assert admin.identity_evidence == "installed by J. Doe, passport seen by the site head"


def test_11_100_b_user_page_and_api_show_and_record_the_check(
    personas, second_admin, nadia, ui, api
):
    page = ui(personas["admin"]).get("/accounts/users/nadia/").content.decode()
    assert 'data-testid="identity-state">not checked' in page
    assert 'data-testid="identity-form"' not in page  # the creator gets no form
    client = ui(second_admin)
    page = client.get("/accounts/users/nadia/").content.decode()
    assert 'data-testid="identity-form"' in page
    refused = client.post("/accounts/users/nadia/identity/", {"evidence": ""})
    assert refused.status_code == 400
    assert 'data-testid="identity-error"' in refused.content.decode()
    assert (
        client.post("/accounts/users/nadia/identity/", {"evidence": "passport"}).status_code == 302
    )
    page = client.get("/accounts/users/nadia/").content.decode()
    assert 'data-testid="identity-state">checked' in page
    body = api(second_admin).get("/api/v1/accounts/users/nadia").json()
    assert body["identity_verified"] is True
