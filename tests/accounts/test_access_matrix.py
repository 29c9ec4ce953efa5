"""Role x endpoint check for the accounts routes (21 CFR 11.10(d)(g)): only administrators
manage users; admins, QA approvers and inspectors may read the user list; anonymous callers get
401 from the API and the login page in the UI."""

from __future__ import annotations

import pytest

ROLES = [
    "admin",
    "operator",
    "verifier",
    "supervisor",
    "engineer",
    "reviewer",
    "approver",
    "inspector",
]
READERS = {"admin", "approver", "inspector"}
MANAGERS = {"admin"}

# (method, path, body, allowed personas, success status)
API = [
    ("get", "/api/v1/accounts/users", None, READERS, 200),
    ("get", "/api/v1/accounts/users/sam", None, READERS, 200),
    (
        "post",
        "/api/v1/accounts/users",
        {"username": "newbie", "full_name": "New Bie", "roles": ["operator"]},
        MANAGERS,
        201,
    ),
    (
        "patch",
        "/api/v1/accounts/users/sam",
        {"full_name": "Sam Super", "email": "", "reason": "typo"},
        MANAGERS,
        200,
    ),
    (
        "post",
        "/api/v1/accounts/users/sam/roles",
        {"role": "qa_reviewer", "reason": "trained"},
        MANAGERS,
        200,
    ),
    (
        "post",
        "/api/v1/accounts/users/sam/roles/supervisor/revoke",
        {"reason": "moved"},
        MANAGERS,
        200,
    ),
    ("post", "/api/v1/accounts/users/sam/reset-password", {"reason": "forgot"}, MANAGERS, 200),
    ("post", "/api/v1/accounts/users/sam/deactivate", {"reason": "left"}, MANAGERS, 200),
]

UI_GET = [
    ("/accounts/users/", READERS),
    ("/accounts/users/sam/", READERS),
    ("/accounts/create-user/", MANAGERS),
]

UI_POST = [
    ("/accounts/users/sam/edit/", {"full_name": "Sam Super", "email": "", "reason": "typo"}),
    ("/accounts/users/sam/roles/", {"role": "qa_reviewer", "reason": "trained"}),
    ("/accounts/users/sam/roles/supervisor/revoke/", {"reason": "moved"}),
    ("/accounts/users/sam/deactivate/", {"reason": "left"}),
    ("/accounts/users/sam/reset-password/", {"reason": "forgot"}),
    ("/accounts/users/sam/unlock/", {"reason": "checked"}),
    ("/accounts/users/sam/reactivate/", {"reason": "back"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "allowed", "ok"), API)
def test_11_10_g_api_role_matrix(personas, api, role, method, path, body, allowed, ok):
    client = api(personas[role])
    response = getattr(client, method)(path, body) if body is not None else client.get(path)
    if role in allowed:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body", "allowed", "ok"), API)
def test_11_10_d_api_anonymous_gets_401(db, api, method, path, body, allowed, ok):
    client = api()
    response = getattr(client, method)(path, body) if body is not None else client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("path", ["/api/v1/accounts/me", "/api/v1/accounts/roles"])
def test_me_and_roles_for_every_role_but_not_anonymous(personas, api, path):
    assert api().get(path).status_code == 401
    for role in ROLES:
        assert api(personas[role]).get(path).status_code == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "allowed"), UI_GET)
def test_11_10_g_ui_pages_role_matrix(personas, ui, role, path, allowed):
    response = ui(personas[role]).get(path)
    assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
@pytest.mark.parametrize(("path", "body"), UI_POST)
def test_11_10_g_ui_actions_refused_to_non_admins(personas, ui, role, path, body, events):
    response = ui(personas[role]).post(path, body)
    assert response.status_code == 403
    changes = [
        e
        for e in events("accounts.")
        if e["action"] not in ("accounts.user.create", "accounts.login")
    ]
    assert changes == []


@pytest.mark.parametrize(
    ("path", "allowed"), [*UI_GET, ("/accounts/me/", None), ("/accounts/password/", None)]
)
def test_11_10_d_ui_anonymous_redirected_to_login(db, client, path, allowed):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize(("path", "body"), UI_POST)
def test_11_10_d_ui_anonymous_posts_redirected_to_login(db, ui, path, body):
    response = ui().post(path, body)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_users_nav_item_only_for_admins(personas, ui):
    assert 'href="/accounts/users/"' in ui(personas["admin"]).get("/").content.decode()
    assert 'href="/accounts/users/"' not in ui(personas["operator"]).get("/").content.decode()
