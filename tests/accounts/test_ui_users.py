"""User administration pages: list, create, edit, roles (htmx), access actions."""

from __future__ import annotations

import contextlib

from galenic.accounts.models import User


def test_user_list_shows_status_and_roles(personas, ui):
    page = ui(personas["admin"]).get("/accounts/users/?status=all").content.decode()
    assert "olivia" in page
    assert "Olivia" in page
    assert "operator" in page
    page = ui(personas["admin"]).get("/accounts/users/?q=victor").content.decode()
    assert "victor" in page
    assert "olivia" not in page


def test_create_user_shows_one_time_password_once(personas, ui, events):
    client = ui(personas["admin"])
    assert client.get("/accounts/create-user/").status_code == 200
    response = client.post(
        "/accounts/create-user/",
        {
            "username": "nadia",
            "full_name": "Nadia Novak",
            "roles": ["operator", "verifier"],
            "reason": "hired",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "User nadia created" in page
    assert 'data-testid="one-time-password"' in page
    user = User.objects.get(username="nadia")
    assert user.role_codes() == {"operator", "verifier"}
    assert user.must_change_password


def test_create_user_errors_keep_the_input(personas, ui):
    response = ui(personas["admin"]).post(
        "/accounts/create-user/", {"username": "0livia", "full_name": "Olivia Two", "reason": "x"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "confused with the existing ID" in page
    assert 'value="Olivia Two"' in page


def test_grant_and_revoke_with_htmx(personas, ui, events):
    client = ui(personas["admin"], HX_Request="true")
    response = client.post(
        "/accounts/users/olivia/roles/", {"role": "verifier", "reason": "trained"}
    )
    assert response.status_code == 200
    panel = response.content.decode()
    assert panel.lstrip().startswith('<section class="card" id="roles-panel"')
    assert "Role verifier granted to olivia." in panel
    response = client.post("/accounts/users/olivia/roles/verifier/revoke/", {"reason": ""})
    assert "Give a reason" in response.content.decode()
    assert "verifier" in User.objects.get(username="olivia").role_codes()
    client.post("/accounts/users/olivia/roles/verifier/revoke/", {"reason": "moved"})
    assert "verifier" not in User.objects.get(username="olivia").role_codes()


def test_own_roles_cannot_be_changed_in_the_ui(personas, ui):
    client = ui(personas["admin"])
    page = client.get("/accounts/users/ada/").content.decode()
    assert "You cannot change your own roles" in page
    response = client.post("/accounts/users/ada/roles/", {"role": "qa_approver", "reason": "x"})
    assert response.status_code == 403
    assert "your own roles" in response.content.decode()


def test_deactivate_unlock_reset_from_the_detail_page(personas, ui, lockout_3):
    from galenic.accounts import services
    from galenic.core.errors import GalenicError

    for _ in range(3):
        with contextlib.suppress(GalenicError):
            services.check_login(user_id="sam", password="wrong-wrong")
    client = ui(personas["admin"])
    page = client.get("/accounts/users/sam/").content.decode()
    assert "locked" in page
    assert "Unlock" in page
    response = client.post("/accounts/users/sam/unlock/", {"reason": "called the user"})
    assert response.status_code == 302
    assert not User.objects.get(username="sam").is_locked
    response = client.post("/accounts/users/sam/reset-password/", {"reason": "forgot"})
    assert 'data-testid="one-time-password"' in response.content.decode()
    response = client.post("/accounts/users/sam/deactivate/", {"reason": ""})
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    response = client.post("/accounts/users/sam/deactivate/", {"reason": "left"})
    assert response.status_code == 302
    assert "Reactivate" in client.get("/accounts/users/sam/").content.decode()


def test_edit_name_with_reason(personas, ui, events):
    client = ui(personas["admin"])
    response = client.post(
        "/accounts/users/sam/edit/", {"full_name": "Sam Sterling", "email": "", "reason": "married"}
    )
    assert response.status_code == 302
    (event,) = events("accounts.user.update")
    assert event["old"]["full_name"] == "Sam"
    assert event["new"]["full_name"] == "Sam Sterling"


def test_unknown_user_page_is_404(personas, ui):
    assert ui(personas["admin"]).get("/accounts/users/nobody/").status_code == 404


def test_my_account_page(personas, ui):
    page = ui(personas["operator"]).get("/accounts/me/").content.decode()
    assert "Change password" in page
    assert "operator" in page
