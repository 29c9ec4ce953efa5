from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from galenic.core.errors import GalenicError


class LoginForm(AuthenticationForm):
    """Login through ``services.check_login`` so failures count toward lockout (11.300(d))."""

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "User ID"

    def clean(self) -> dict[str, Any]:
        from galenic.accounts import services

        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        if username and password:
            try:
                self.user_cache = services.check_login(user_id=username, password=password)
            except GalenicError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return self.cleaned_data
