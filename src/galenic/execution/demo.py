"""Demo batches: one per demo MBR, issued by Sam (supervisor), released to the floor (signed) and
started, so an operator can open the tablet screens at once; and a second tablet batch already
worked through dispensing to the granulator's dry mix, where its values come from MQTT
(`galenic gateway demo`). Idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from galenic.accounts.models import User

BATCHES = [
    ("MBR-PCM500-TAB", "PCM-DEMO-001", "150000 tablet"),
    ("MBR-DXM15-SYR", "DXM-DEMO-001", None),
    ("MBR-PCM500-TAB", "PCM-DEMO-002", "150000 tablet"),
]
# Worked by the seeding up to this step (dispensing done, the granulator charged), so the demo
# shows process values captured from MQTT without first weighing every component.
ADVANCE = {"PCM-DEMO-002": "dry_mix"}
SEEDED_BY_HAND = (
    "demo data: recorded by the demo seeding, before the demo devices ran (a real batch reads "
    "the instrument)"
)


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
    victor = User.objects.filter(username="victor").first()
    if sam is None or olivia is None or victor is None:
        yield "batches: skipped, demo users sam, olivia and victor missing"
        return
    for person in (sam, olivia, victor):
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
            if number in ADVANCE:
                _advance(number, ADVANCE[number], operator=olivia, verifier=victor, supervisor=sam)
        except GalenicError as exc:
            yield f"batch {number}: not issued ({exc.message})"
            continue
        made.append(number)
    running = Batch.objects.filter(status=BatchStatus.IN_PROGRESS).count()
    yield f"batches: {len(made)} issued and started ({', '.join(made) or 'none new'}); {running} in progress"


def _signed(person: User) -> Any:
    from galenic.accounts.demo import DEMO_PASSWORD
    from galenic.signatures import services as signing

    return signing.authenticate_signer(
        session=None, actor=person, user_id=person.username, password=DEMO_PASSWORD
    )


def _example(flow: Any, step_key: str, param: Any) -> Any:
    """What the floor would enter in a run that goes to plan: the target or the middle of the
    limits that apply in this batch, the expected answer, a well-formed label."""
    from galenic.core.timefmt import utcnow
    from galenic.recipes.document.flow import default_value
    from galenic.recipes.document.model import DataType
    from galenic.rules.units import Quantity

    if param.type is DataType.NUMBER:
        limits = flow.limits(step_key, param.key)
        param = param.model_copy(
            update={
                name: getattr(limits, name)
                for name in ("target", "alert_low", "alert_high", "action_low", "action_high")
            }
        )
    if param.type is DataType.BARCODE and not isinstance(param.expected, str):
        return "(01)09501101530003(10)DEMO-LOT-1"
    if param.type is DataType.DATETIME:
        return utcnow().isoformat()
    value = default_value(param)
    if value is None:
        return "demo"
    if isinstance(value, Quantity):
        return f"{value.magnitude} {value.unit}".strip()
    return value


def _advance(
    number: str, stop_at: str, *, operator: User, verifier: User, supervisor: User
) -> None:
    """Work the batch as operator, verifier and supervisor would (values as planned, instrument
    values typed with a reason: exceptions, as they would be) until ``stop_at`` is open."""
    from galenic.execution import selectors, services
    from galenic.execution.models import Batch, StepStatus
    from galenic.recipes.document.model import Source

    open_states = (StepStatus.AVAILABLE, StepStatus.IN_PROGRESS, StepStatus.PERFORMED)
    for _ in range(200):
        batch = Batch.objects.get(number=number)
        steps = [s for s in selectors.steps_of(batch) if s.status in open_states]
        if not steps or any(s.step_key == stop_at for s in steps):
            return
        ex = steps[0]
        flow = selectors.flow_of(batch)
        if ex.status != StepStatus.PERFORMED:
            items = [
                services.ValueInput(
                    key=param.key,
                    value=_example(flow, ex.step_key, param),
                    reason=SEEDED_BY_HAND if param.source is Source.INSTRUMENT else "",
                )
                for param in flow.step(ex.step_key).parameters
                if param.source is not Source.CALCULATED and param.required
            ]
            items += [
                services.ValueInput(
                    material=target.material,
                    value=f"{target.quantity.magnitude} {target.quantity.unit}",
                )
                for target in flow.materials(ex.step_key)
                if target.weighed
            ]
            if items:
                services.record_values(
                    actor=operator,
                    number=number,
                    step_key=ex.step_key,
                    values=items,
                    iteration=ex.iteration,
                )
            services.perform_step(
                actor=operator,
                number=number,
                step_key=ex.step_key,
                authority=_signed(operator),
                iteration=ex.iteration,
            )
        ex = selectors.step_execution(Batch.objects.get(number=number), ex.step_key, ex.iteration)
        if ex.verification_required and ex.verified_at is None:
            services.verify_step(
                actor=verifier,
                number=number,
                step_key=ex.step_key,
                authority=_signed(verifier),
                iteration=ex.iteration,
            )
        if ex.approval_required and ex.approved_at is None:
            services.approve_step(
                actor=supervisor,
                number=number,
                step_key=ex.step_key,
                authority=_signed(supervisor),
                iteration=ex.iteration,
            )
