"""PostgreSQL is restarted while people work on batches (a private cluster: the shared server
is never touched).

While it is down every request is refused cleanly: 503 with a readable message (JSON in the
API's error shape for the API, a page for the UI), never a stack trace. Once it is back, the
same app processes carry on without a restart, and nothing acknowledged is lost or half-written.
"""

from __future__ import annotations

import time

import pytest
from reliability_support import (
    AppServer,
    Client,
    Operator,
    PrivatePostgres,
    at_work,
    check_after_work,
    clone_into_private_postgres,
    soak,
    wait_until,
    work_done,
)

from galenic.testing.support import service_unavailable

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def private_postgres(tmp_path):
    cluster = PrivatePostgres(tmp_path / "pg")
    why = cluster.available()
    if why:
        service_unavailable("postgres", f"cannot run a private PostgreSQL cluster: {why}")
    cluster.init()
    cluster.start()
    yield cluster
    cluster.stop("immediate")


def _refused_cleanly(client: Client, path: str) -> None:
    api = client.post_json(path, {"key": "a", "value": "21", "unit": "°C"})
    assert api.status == 503, api.text
    assert api.headers["Content-Type"].startswith("application/json")
    assert api.data["code"] == "unavailable"
    assert "database cannot be reached" in api.data["message"]
    assert "nothing was saved" in api.data["message"]
    assert api.headers.get("Retry-After")
    page = client.get("/batches/")
    assert page.status == 503
    assert "database cannot be reached" in page.text
    for answer in (api, page):
        assert "Traceback" not in answer.text
        assert "psycopg" not in answer.text.lower()


def test_postgres_restart_during_a_running_batch(site_template, private_postgres, tmp_path):
    site = clone_into_private_postgres(site_template, private_postgres, tmp_path / "site")
    server = AppServer(site, workers=2, threads=2)
    server.start()
    numbers = site.rel_batches()
    people = [
        # A generous timeout: an answer that never comes is what this test must not see.
        Operator(server, "olivia", numbers[0::2], transient=(503,), timeout=45),
        Operator(server, "oscar", numbers[1::2], transient=(503,), timeout=45),
    ]
    probe = Client(server.base)
    probe.login("victor")
    with at_work(server, people):
        for _ in range(soak(2, 10)):
            before = work_done(people)
            wait_until(lambda before=before: work_done(people) > before + 3, timeout=60)
            private_postgres.stop("fast")  # what a restart for maintenance or a crash does
            _refused_cleanly(probe, f"/api/v1/batches/{numbers[-1]}/steps/s1/values")
            time.sleep(0.5)
            private_postgres.start()
            # The same app processes carry on: no restart of the app.
            after = work_done(people)
            wait_until(lambda after=after: work_done(people) > after + 3, timeout=60)
    ops = check_after_work(site, people)
    refusals = [a for p in people for a in p.transient_answers]
    for answer in refusals:
        assert answer.data["code"] == "unavailable", answer.text
        assert answer.data["message"], answer.text
    unanswered = [(op.batch, op.step, op.key, op.kind) for op in ops if op.lost]
    assert not unanswered, f"requests went unanswered: {unanswered}"
    site.assert_verifies()
