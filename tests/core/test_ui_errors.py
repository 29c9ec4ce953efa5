from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import RequestFactory

from galenic.core.errors import ValidationFailed
from galenic.core.middleware import RequestContextMiddleware


@pytest.mark.django_db
def test_galenic_error_in_a_view_becomes_a_page_naming_the_field():
    mw = RequestContextMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
    request: HttpRequest = RequestFactory().get("/somewhere")
    response = mw.process_exception(request, ValidationFailed("must be positive", field="quantity"))
    assert response is not None
    assert response.status_code == 400
    body = response.content.decode()
    assert "quantity" in body
    assert "must be positive" in body
    assert "Traceback" not in body


@pytest.mark.django_db
def test_galenic_error_in_htmx_request_becomes_a_fragment():
    mw = RequestContextMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
    request = RequestFactory().post("/x", HTTP_HX_REQUEST="true")
    response = mw.process_exception(request, ValidationFailed("too late", field="entered_at"))
    assert response is not None
    assert "<html" not in response.content.decode()
    assert "entered_at" in response.content.decode()
