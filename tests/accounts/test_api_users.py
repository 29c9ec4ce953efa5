"""User administration through the API: every change goes through the audited services."""

from __future__ import annotations

from galenic.accounts.models import User


def test_admin_creates_a_user_with_a_one_time_password(personas, api, events):
    admin = api(personas["admin"])
    response = admin.post(
        "/api/v1/accounts/users",
        {"username": "Nadia", "full_name": "Nadia Novak", "roles": ["operator"], "reason": "hired"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "nadia"
    assert body["user"]["must_change_password"] is True
    assert len(body["one_time_password"]) >= 16
    (event,) = events("accounts.user.create", actor_username="ada")
    assert event["new"]["roles"] == ["operator"]
    assert event["reason"] == "hired"
    assert body["one_time_password"] not in str(event)


def test_api_errors_name_the_field(personas, api):
    admin = api(personas["admin"])
    response = admin.post(
        "/api/v1/accounts/users", {"username": "o1ivia", "full_name": "X", "roles": []}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "username", "message": response.json()["message"]}
    ]
    response = admin.post("/api/v1/accounts/users/sam/deactivate", {"reason": ""})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"
    response = admin.get("/api/v1/accounts/users/nobody")
    assert response.status_code == 404
    response = admin.post(
        "/api/v1/accounts/users/ada/roles", {"role": "qa_approver", "reason": "x"}
    )
    assert response.status_code == 403
    response = admin.post("/api/v1/accounts/users/sam/unlock", {"reason": "x"})
    assert response.status_code == 409


def test_admin_lifecycle_through_the_api(personas, api):
    admin = api(personas["admin"])
    assert (
        admin.patch(
            "/api/v1/accounts/users/sam",
            {"full_name": "Sam Sterling", "email": "sam@example.org", "reason": "married"},
        ).json()["full_name"]
        == "Sam Sterling"
    )
    assert admin.post(
        "/api/v1/accounts/users/sam/roles", {"role": "qa_reviewer", "reason": "trained"}
    ).json()["roles"] == ["qa_reviewer", "supervisor"]
    assert admin.post(
        "/api/v1/accounts/users/sam/roles/qa_reviewer/revoke", {"reason": "moved back"}
    ).json()["roles"] == ["supervisor"]
    assert (
        admin.post("/api/v1/accounts/users/sam/deactivate", {"reason": "left"}).json()["status"]
        == "deactivated"
    )
    assert (
        admin.post("/api/v1/accounts/users/sam/reactivate", {"reason": "back"}).json()["status"]
        == "active"
    )
    reset = admin.post("/api/v1/accounts/users/sam/reset-password", {"reason": "forgot"}).json()
    assert reset["username"] == "sam"
    assert User.objects.get(username="sam").must_change_password


def test_user_list_filters(personas, api):
    User.objects.filter(username="sam").update(is_active=False)
    inspector = api(personas["inspector"])
    names = [
        u["username"] for u in inspector.get("/api/v1/accounts/users?status=deactivated").json()
    ]
    assert names == ["sam"]
    names = [u["username"] for u in inspector.get("/api/v1/accounts/users?search=oliv").json()]
    assert names == ["olivia"]


def test_me(personas, api):
    me = api(personas["verifier"]).get("/api/v1/accounts/me").json()
    assert me["username"] == "victor"
    assert me["roles"] == ["operator", "verifier"]
    assert me["password_change_required"] is None
