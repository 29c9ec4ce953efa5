"""How a database or storage fault is put to the user, wherever it surfaces (in-process, fast;
the end-to-end faults are in the other tests of this folder): 503 when the database cannot be
reached, 507 when storage is full, "may or may not have been saved" when the connection broke
during COMMIT; JSON for the API, a fragment for htmx, a page otherwise; never a stack trace.
A bug (a constraint violation) stays a 500."""

from __future__ import annotations

import errno
import sqlite3
import sys

import pytest
from django.db import IntegrityError, OperationalError
from django.test import RequestFactory

from galenic.core.faults import classify, mark_commit_in_doubt
from galenic.core.handlers import server_error
from galenic.core.middleware import RequestContextMiddleware


@pytest.fixture(autouse=True)
def _a_request_of_its_own():
    """As RequestContextMiddleware does for every request: nothing committed yet."""
    from galenic.core.faults import begin_request

    begin_request()
    yield
    begin_request()


def _wrapped(inner: BaseException) -> OperationalError:
    """As Django raises it: its own class, the driver's error as the cause."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as outer:
        return outer


def test_connection_failure_is_503_nothing_saved():
    error = classify(_wrapped(sqlite3.OperationalError("unable to open database file")))
    assert error is not None
    assert error.status == 503
    assert "nothing was saved" in error.message
    read = classify(OperationalError("connection refused"), writing=False)
    assert read is not None
    assert read.status == 503
    assert "cannot be shown" in read.message


def test_full_disk_is_507():
    for exc in (
        _wrapped(sqlite3.OperationalError("database or disk is full")),
        OSError(errno.ENOSPC, "No space left on device"),
    ):
        error = classify(exc)
        assert error is not None
        assert error.status == 507
        assert "storage is full" in error.message
        assert "Work recorded before is safe" in error.message


def test_broken_commit_is_in_doubt():
    exc = OperationalError("server closed the connection unexpectedly")
    mark_commit_in_doubt(exc)
    error = classify(exc)
    assert error is not None
    assert error.status == 503
    assert "may or may not have been saved" in error.message


def test_a_fault_after_the_work_was_committed_says_it_was_saved():
    """E.g. the database goes away while the answer is being read back after the COMMIT."""
    from galenic.core.faults import note_committed

    note_committed()
    error = classify(_wrapped(sqlite3.OperationalError("unable to open database file")))
    assert error is not None
    assert error.status == 503
    assert "had saved its work" in error.message
    assert "nothing was saved" not in error.message


def test_bugs_are_not_faults():
    assert classify(IntegrityError("UNIQUE constraint failed")) is None
    assert classify(ValueError("no")) is None


@pytest.mark.parametrize(
    ("path", "headers", "kind"),
    [
        ("/api/v1/batches/B1/steps/s1/values", {}, "json"),
        ("/batches/B1/steps/s1/record/", {"HTTP_HX_REQUEST": "true"}, "fragment"),
        ("/batches/B1/steps/s1/record/", {}, "page"),
    ],
)
@pytest.mark.django_db
def test_answers_per_interface(path, headers, kind):
    request = RequestFactory().post(path, **headers)
    middleware = RequestContextMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
    response = middleware.process_exception(request, _wrapped(sqlite3.OperationalError("x")))
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.content.decode()
    assert "database cannot be reached" in body
    assert "Traceback" not in body
    assert "sqlite" not in body.lower()
    if kind == "json":
        assert response["Content-Type"] == "application/json"
    elif kind == "fragment":
        assert "<html" not in body
    else:
        assert "<html" in body


@pytest.mark.django_db
def test_fault_outside_a_view_is_caught_by_the_500_handler():
    """E.g. the session middleware reading the session with the database down."""
    request = RequestFactory().get("/api/v1/batches/")
    try:
        raise _wrapped(sqlite3.OperationalError("unable to open database file"))
    except OperationalError:
        assert sys.exc_info()[1] is not None
        response = server_error(request)
    assert response.status_code == 503
    assert b"cannot be shown" in response.content
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = server_error(request)
    assert bug.status_code == 500
    assert b'"code": "server_error"' in bug.content


@pytest.mark.django_db
def test_api_request_with_the_database_down_answers_503(personas, monkeypatch):
    from django.test import Client

    from galenic.execution import services

    def down(**kwargs):
        raise _wrapped(sqlite3.OperationalError("unable to open database file"))

    monkeypatch.setattr(services, "record_value", down)
    client = Client()
    client.force_login(personas["operator"])
    answer = client.post(
        "/api/v1/batches/B1/steps/s1/values", {"key": "a", "value": "1"}, "application/json"
    )
    assert answer.status_code == 503
    assert answer.json()["code"] == "unavailable"


@pytest.mark.django_db
def test_a_page_is_shown_even_when_its_session_cannot_be_saved(personas, monkeypatch):
    """A full disk refuses new work, not reading: the sliding expiry is not extended, that's all."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    client = Client()
    client.force_login(personas["operator"])

    def full(self, must_create=False):
        raise _wrapped(sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(SessionStore, "save", full)
    assert client.get("/batches/").status_code == 200
