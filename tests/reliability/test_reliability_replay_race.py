"""Copies of one request racing each other into several app processes (a double-click, a client
retrying while the first attempt is still running): with the same Idempotency-Key exactly one
is carried out, the others are refused as replays; the audit trail still verifies."""

from __future__ import annotations

import threading

from reliability_support import AppServer, Client


def test_racing_copies_of_a_request_are_carried_out_once(site):
    number = site.rel_batches()[0]
    path = f"/api/v1/batches/{number}/steps/s1/values"
    copies = 6
    with AppServer(site, workers=2, threads=4) as server:
        clients = []
        for _ in range(copies):
            client = Client(server.base)
            client.login("olivia")
            clients.append(client)
        for client in clients:  # warm every worker up, so the copies really overlap
            client.get(f"/api/v1/batches/{number}")
        go = threading.Barrier(copies)
        answers: list = [None] * copies

        def send(i: int) -> None:
            go.wait()
            answers[i] = clients[i].post_json(
                path, {"key": "a", "value": "21.0", "unit": "°C"}, key="double-click-1"
            )

        threads = [threading.Thread(target=send, args=(i,)) for i in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    statuses = sorted(a.status for a in answers)
    assert statuses == [201] + [409] * (copies - 1), [a.text[:200] for a in answers]
    for answer in answers:
        if answer.status == 409:
            assert answer.data["code"] == "replayed", answer.text
    assert site.entries_of(number) == 1
    assert (
        site.scalar(
            "SELECT COUNT(*) FROM audit_auditevent WHERE action = ? AND category = ?",
            ("api.request.replayed", "security"),
        )
        >= 1
    )
    site.assert_verifies()
