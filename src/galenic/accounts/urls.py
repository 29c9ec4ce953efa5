from django.urls import path

from galenic.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("me/", views.me, name="me"),
    path("users/", views.user_list, name="user_list"),
    path("create-user/", views.user_create, name="user_create"),
    path("users/<str:username>/", views.user_detail, name="user_detail"),
    path("users/<str:username>/edit/", views.user_edit, name="user_edit"),
    path("users/<str:username>/roles/", views.role_grant, name="role_grant"),
    path("users/<str:username>/roles/<str:role>/revoke/", views.role_revoke, name="role_revoke"),
    path("users/<str:username>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<str:username>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("users/<str:username>/unlock/", views.user_unlock, name="user_unlock"),
    path("users/<str:username>/reset-password/", views.user_reset_password, name="user_reset"),
    path("users/<str:username>/training/", views.training_add, name="training_add"),
    path("users/<str:username>/identity/", views.identity_check, name="identity_check"),
    path("users/<str:username>/access-review/", views.access_review, name="access_review"),
    path(
        "users/<str:username>/training/<int:record_id>/withdraw/",
        views.training_withdraw,
        name="training_withdraw",
    ),
]
