"""The disk holding the SQLite database fills up while people record values and sign.

While it is full the app refuses new work with a clear message: the API answers 507 in its
error shape, the operator's screen (htmx) and plain form posts get the message as text; what is
recorded can still be read. Nothing committed is lost; once space is freed the same app
processes carry on, and `galenic audit verify` passes.
"""

from __future__ import annotations

import shutil
import time

import pytest
from reliability_support import (
    AppServer,
    Client,
    Operator,
    SmallDisk,
    at_work,
    check_after_work,
    soak,
    wait_until,
    work_done,
)

from galenic.testing.support import service_unavailable

pytestmark = pytest.mark.sqlite_only

FULL = "storage is full"


@pytest.fixture
def small_disk(tmp_path):
    # Room for the database and a WAL of up to 1000 pages (SQLite checkpoints it then).
    disk = SmallDisk(tmp_path / "disk", "16m")
    why = disk.mount()
    if why:
        service_unavailable("tmpfs", f"cannot mount a small tmpfs: {why}")
    yield disk
    disk.unmount()


def _refused_cleanly(client: Client, number: str) -> None:
    api = client.post_json(
        f"/api/v1/batches/{number}/steps/s1/values", {"key": "a", "value": "21", "unit": "°C"}
    )
    assert api.status == 507, api.text
    assert api.data["code"] == "storage_full"
    assert FULL in api.data["message"]
    assert "nothing was saved" in api.data["message"]
    form = {"key": "a", "value": "21", "unit": "°C"}
    fragment = client.post_form(
        f"/batches/{number}/steps/s1/record/", form, **{"HX-Request": "true"}
    )
    assert fragment.status == 507
    assert "<html" not in fragment.text
    assert FULL in fragment.text
    page = client.post_form(f"/batches/{number}/steps/s1/record/", form)
    assert page.status == 507
    assert FULL in page.text
    for answer in (api, fragment, page):
        assert "Traceback" not in answer.text
        assert "sqlite" not in answer.text.lower()
    # What is recorded can still be read.
    assert client.get(f"/batches/{number}/").status == 200
    assert client.get(f"/api/v1/batches/{number}").status == 200


def test_disk_full_during_writes(site, small_disk):
    database = small_disk.path / "galenic.sqlite3"
    shutil.copy(site.sqlite_path, database)
    site.database_url = f"sqlite:///{database}"
    server = AppServer(site, workers=2, threads=2)
    server.start()
    numbers = site.rel_batches()
    people = [
        Operator(server, "olivia", numbers[0:-1:2], transient=(507,)),
        Operator(server, "oscar", numbers[1:-1:2], transient=(507,)),
    ]
    probe = Client(server.base)
    probe.login("victor")
    with at_work(server, people):
        for _ in range(soak(2, 10)):
            before = work_done(people)
            wait_until(
                lambda before=before: work_done(people) > before + 3, timeout=60, what="work"
            )
            small_disk.fill()
            refused = sum(len(p.transient_answers) for p in people)
            wait_until(
                lambda refused=refused: sum(len(p.transient_answers) for p in people) > refused + 2,
                timeout=60,
                what="work refused on the full disk",
            )
            _refused_cleanly(probe, numbers[-1])
            time.sleep(0.3)
            small_disk.free_space()
            after = work_done(people)
            wait_until(
                lambda after=after: work_done(people) > after + 3,
                timeout=60,
                what="work after space was freed",
            )
    check_after_work(site, people)
    refusals = [a for p in people for a in p.transient_answers]
    assert refusals
    for answer in refusals:
        assert answer.data["code"] == "storage_full", answer.text
    site.assert_verifies()
