"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis), in process
through the WSGI app against the seeded world: no request may answer 5xx, and every documented
response must match its schema.

Each operation is called as a person whose roles allow it (access_table), so requests get past
the permission check into the code that parses and stores. Bounded for CI (a few examples per
operation); ``GALENIC_SOAK=1`` runs the long version (examples per operation from
GALENIC_SOAK_EXAMPLES, default 200):

    GALENIC_SOAK=1 .venv/bin/pytest tests/security/test_api_schema_fuzz.py
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from access_table import API, DEVICE, PERSONA_ROLES
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from security_helpers import CSRF, isolated

pytestmark = pytest.mark.django_db

SOAK = os.environ.get("GALENIC_SOAK", "") not in ("", "0")
EXAMPLES = int(os.environ.get("GALENIC_SOAK_EXAMPLES", "200")) if SOAK else 4

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture
def same_connection():
    """Like Django's test client: the WSGI app must not close the test's connection (it would
    at request end, seeing the open transaction) or the world's transaction is lost."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _principal(method: str, path: str) -> str:
    rule = API[(method.upper(), path)]
    return next(
        (p for p in PERSONA_ROLES if rule.allowed(p)), "device" if rule.needs == DEVICE else "admin"
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not SOAK,  # CI runs the same examples every time
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails_and_answers_as_documented(case, world, db, same_connection):
    principal = _principal(case.operation.method, case.operation.path)
    headers = {"X-CSRFToken": CSRF}
    cookies = {"csrftoken": CSRF}
    if principal == "device":
        headers["Authorization"] = f"Bearer {world.gateway_token}"
    else:
        cookies["sessionid"] = world.sessions[principal]
    with isolated():  # each example starts from the same world
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
