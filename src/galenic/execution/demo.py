"""Demo batches: one per demo MBR, issued by Sam (supervisor), released to the floor (signed) and
started, so an operator can open the tablet screens at once. Idempotent."""

from __future__ import annotations

from collections.abc import Iterator

from galenic.accounts.models import User

BATCHES = [
    ("MBR-PCM500-TAB", "PCM-DEMO-001", "150000 tablet"),
    ("MBR-DXM15-SYR", "DXM-DEMO-001", None),
]


def seed() -> Iterator[str]:
    from galenic.accounts.demo import DEMO_PASSWORD
    from galenic.core.errors import GalenicError
    from galenic.execution import services
    from galenic.execution.models import Batch, BatchStatus
    from galenic.recipes.models import MasterRecordVersion, VersionStatus
    from galenic.signatures import services as signing
    from galenic.signatures.selectors import has_acknowledged_policy

    sam = User.objects.filter(username="sam").first()
    olivia = User.objects.filter(username="olivia").first()
    if sam is None or olivia is None:
        yield "batches: skipped, demo users sam and olivia missing"
        return
    for person in (sam, olivia):
        if not has_acknowledged_policy(person):
            signing.acknowledge_policy(
                actor=person,
                authority=signing.authenticate_signer(
                    session=None, actor=person, user_id=person.username, password=DEMO_PASSWORD
                ),
            )
    made = []
    for code, number, size in BATCHES:
        effective = MasterRecordVersion.objects.filter(
            master__code=code, status=VersionStatus.EFFECTIVE
        ).exists()
        if not effective or Batch.objects.filter(number=number).exists():
            continue
        try:
            services.create_batch(actor=sam, mbr=code, number=number, batch_size=size)
            services.release_to_floor(
                actor=sam,
                number=number,
                authority=signing.authenticate_signer(
                    session=None, actor=sam, user_id="sam", password=DEMO_PASSWORD
                ),
            )
            services.start_batch(actor=olivia, number=number)
        except GalenicError as exc:
            yield f"batch {number}: not issued ({exc.message})"
            continue
        made.append(number)
    running = Batch.objects.filter(status=BatchStatus.IN_PROGRESS).count()
    yield f"batches: {len(made)} issued and started ({', '.join(made) or 'none new'}); {running} in progress"
