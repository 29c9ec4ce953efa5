"""The app process is killed (SIGKILL: no cleanup runs anywhere) at random moments while people
record values and sign steps, again and again, on this pass's database engine.

What must hold after every restart: every entry and signature the client was told about is
there as it was told; nothing the client was not told about is half there (no entry without its
audit event, no signature without its record and event, no performed step without its
signature, no value twice); an unanswered request retried with its Idempotency-Key is carried
out exactly once; and at the end `galenic audit verify` and `galenic signatures verify` pass.
"""

from __future__ import annotations

import random
import time

from reliability_support import (
    AppServer,
    Operator,
    at_work,
    check_acknowledged_kept,
    check_after_work,
    check_nothing_half_written,
    soak,
    wait_until,
    work_done,
)


def test_sigkill_while_recording_and_signing(site):
    rounds = soak(4, 40)
    server = AppServer(site, workers=1, threads=4, GALENIC_AUDIT_CHECKPOINT_EVERY="25")
    server.start()
    numbers = site.rel_batches()
    people = [
        Operator(server, "olivia", numbers[0::2]),
        Operator(server, "oscar", numbers[1::2]),
    ]
    rng = random.Random()
    killed_during: list[int] = []
    with at_work(server, people):
        for _ in range(rounds):
            before = work_done(people)
            wait_until(
                lambda before=before: work_done(people) > before,
                timeout=60,
                what="work after restart",
            )
            time.sleep(rng.uniform(0.05, 0.8))
            in_flight = sum(1 for p in people for op in p.ops if op.attempts and not op.outcome)
            killed_during.append(in_flight)
            server.kill()
            # With every app process dead, what is on disk must already be whole.
            check_nothing_half_written(site)
            check_acknowledged_kept(site, [op for p in people for op in p.ops])
            server.start()
        # Let everyone finish what they were doing, then stop.
        target = work_done(people) + 4
        wait_until(lambda: work_done(people) >= target, timeout=60, what="final work")
    ops = check_after_work(site, people)
    lost = [op for op in ops if op.lost and op.outcome]
    print(
        f"{rounds} kills, {len([o for o in ops if o.outcome])} operations done, "
        f"{len(lost)} lost answers retried ({sum(o.outcome == 'done' for o in lost)} had been "
        f"carried out), requests in flight at each kill: {killed_during}"
    )
    site.assert_verifies()
