"""21 CFR 11.10(j), 11.100(c): no electronic signature is accepted from a person until they have
signed their acknowledgement of the accountability policy, once, with user ID and password."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction

from galenic.audit.models import AuditEvent
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.signatures import policy, selectors, services
from galenic.signatures.models import PolicyAcknowledgement, Signature
from galenic.signatures.verify import SignatureStatus, verify

pytestmark = pytest.mark.usefixtures("signable_users")


def test_11_10j_no_signature_before_the_policy_is_acknowledged(personas, authenticate):
    user = personas["reviewer"]
    authority = authenticate(user)
    with pytest.raises(PermissionDenied) as refused, transaction.atomic():
        services.sign(authority=authority, obj=personas["operator"], meaning="reviewed")
    assert refused.value.field == "policy"
    assert not Signature.objects.exists()


def test_11_10j_acknowledgement_via_the_page(personas, logged_in, post, password):
    user = personas["reviewer"]
    client = logged_in(user)
    page = client.get("/signatures/policy/").content.decode()
    assert policy.STATEMENTS[0] in page
    assert 'name="user_id"' in page  # always both components for the acknowledgement

    refused = post(client, "/signatures/policy/acknowledge/", {"password": password})
    assert "Enter your user ID" in refused.content.decode()
    assert not PolicyAcknowledgement.objects.exists()

    done = post(
        client, "/signatures/policy/acknowledge/", {"user_id": user.username, "password": password}
    )
    assert done.status_code == 200
    html = done.content.decode()
    assert 'data-testid="policy-acknowledged"' in html
    assert user.full_name in html
    assert "Acknowledged" in html

    ack = PolicyAcknowledgement.objects.get(user=user)
    assert (ack.policy_version, ack.policy_sha256, ack.policy_text) == (
        policy.VERSION,
        policy.sha256(),
        policy.text(),
    )
    [signature] = Signature.objects.filter(object_type="signatures.policyacknowledgement")
    assert signature.meaning == "acknowledged"
    assert signature.credentials == "user_id+password"
    assert verify(signature) is SignatureStatus.VALID

    # Audited in the same request: the acknowledgement and its signature.
    events = AuditEvent.objects.filter(object_type="signatures.policyacknowledgement").order_by(
        "seq"
    )
    assert [e.action for e in events] == [services.ACKNOWLEDGE_ACTION, services.SIGN_ACTION]
    assert len({e.request_id for e in events}) == 1
    assert json.loads(events[1].new_values)["binding_sha256"] == signature.binding_sha256

    # Now the page shows the signed acknowledgement instead of the form.
    page = client.get("/signatures/policy/").content.decode()
    assert 'data-testid="sign-form"' not in page
    assert "Signature valid" in page


def test_11_10j_acknowledgement_needs_the_user_id_even_mid_session(
    personas, acknowledge, authenticate, password
):
    user = personas["reviewer"]
    session = SessionStore()
    # Even when the session would allow password-only signing...
    session[services.SESSION_KEY] = {"user": user.pk}
    authority = services.authenticate_signer(
        session=session, actor=user, user_id=None, password=password
    )
    with pytest.raises(ValidationFailed) as refused:
        services.acknowledge_policy(actor=user, authority=authority)
    assert refused.value.field == "user_id"
    assert not selectors.has_acknowledged_policy(user)


def test_11_10j_acknowledge_once(signer, authenticate):
    with pytest.raises(Conflict):
        services.acknowledge_policy(actor=signer, authority=authenticate(signer))
    assert PolicyAcknowledgement.objects.filter(user=signer).count() == 1


def test_11_10j_sign_form_sends_the_unacknowledged_to_the_policy(personas, logged_in, settings):
    from django.test import RequestFactory

    from galenic.signatures.forms import sign_form

    request = RequestFactory().get("/")
    request.user = personas["reviewer"]
    request.session = SessionStore()
    form = sign_form(request, obj=personas["operator"], meaning="reviewed", action_url="/x/")
    assert form.blocked_by_policy
    from galenic.signatures.forms import render_sign_form

    html = render_sign_form(request, form).content.decode()
    assert "/signatures/policy/" in html
    assert 'name="password"' not in html


def test_11_10j_api_acknowledgement(personas, logged_in, csrf_token, password):
    user = personas["reviewer"]
    client = logged_in(user)
    before = client.get("/api/v1/signatures/policy").json()
    assert before["acknowledged"] is False
    assert before["version"] == policy.VERSION

    headers = {"X-CSRFToken": csrf_token(client)}
    wrong = client.post(
        "/api/v1/signatures/policy/acknowledge",
        {"user_id": user.username, "password": "not-my-password"},
        content_type="application/json",
        headers=headers,
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == [{"field": "password", "message": wrong.json()["message"]}]

    done = client.post(
        "/api/v1/signatures/policy/acknowledge",
        {"user_id": user.username, "password": password},
        content_type="application/json",
        headers=headers,
    )
    assert done.status_code == 201
    body = done.json()
    assert body["acknowledged"] is True
    assert body["acknowledgement"]["meaning"] == "acknowledged"
    assert body["acknowledgement"]["status"] == "valid"


def test_11_100c_roster_lists_who_acknowledged(signer):
    from typer.testing import CliRunner

    from galenic.cli import app

    result = CliRunner().invoke(app, ["signatures", "roster"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0] == "user_id,printed_name,active,policy_version,acknowledged_at"
    assert lines[1].startswith(f"{signer.username},{signer.full_name},yes,{policy.VERSION},")
