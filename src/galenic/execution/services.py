"""Batch execution services: the only code that writes the batch record.

Every function takes ``actor`` keyword-only, checks its permission, runs in one transaction and
records its audit events (and signature, where one is needed) inside it. Sequencing, conditions,
repeats, calculations and limit checks come from the flow engine and the rules
(``galenic.recipes.document.flow``, ``galenic.rules``); nothing here re-implements them.

Concurrency: the rows an action changes are locked (``select_for_update``) and carry a
``row_version``; a caller that passes the version it saw gets a Conflict if someone else changed
the row first. Conflicts and out-of-turn attempts are refused with 409 and audited in a
transaction of their own (the refused action's transaction rolls back, its audit must not).

Signatures: ``authority`` comes from ``signatures.services.authenticate_signer`` called by the
view *before* the service (a wrong password counts toward lockout even though nothing is signed).
"""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction

from galenic.accounts.permissions import require
from galenic.audit import services as audit
from galenic.core import rows
from galenic.core.errors import (
    Conflict,
    GalenicError,
    NotFound,
    PermissionDenied,
    TrainingRequired,
    ValidationFailed,
)
from galenic.core.timefmt import utcnow
from galenic.execution import selectors
from galenic.execution import values as stored_values
from galenic.execution.models import (
    OPEN_STEP,
    Attachment,
    Batch,
    BatchException,
    BatchStatus,
    Comment,
    Entry,
    EntryKind,
    EntrySource,
    ExceptionKind,
    StepExecution,
    StepStatus,
)
from galenic.quality.models import DeviationSource
from galenic.recipes.document import io
from galenic.recipes.document.flow import (
    Calculation,
    Flow,
    FlowError,
    FlowEvent,
    FlowState,
    IncompleteStep,
    MaterialTarget,
    OutOfTurn,
)
from galenic.recipes.document.model import InstrumentKind, Parameter, Source, Step
from galenic.recipes.document.validate import DocumentInvalid
from galenic.rules import limits as limit_rules
from galenic.rules.expressions import Value
from galenic.rules.numbers import plain
from galenic.rules.units import Quantity, UnitError
from galenic.rules.yields import YieldError, evaluate_yield
from galenic.signatures import services as signatures
from galenic.signatures.models import Meaning
from galenic.signatures.services import SignerAuthority

NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MAX_REASON = 2000
MAX_COMMENT = 4000
MAX_VALUES_PER_CALL = 100
ATTACHMENT_TYPES = {
    "image/png",
    "image/jpeg",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
}

P = ParamSpec("P")
T = TypeVar("T")


# --- refusals --------------------------------------------------------------------------------


class OutOfTurnRefused(Conflict):
    """A step was worked on out of turn (21 CFR 11.10(f)); recorded as an exception too."""

    def __init__(self, message: str, *, batch_id: int, step_key: str, action: str) -> None:
        super().__init__(message, field="step")
        self.batch_id = batch_id
        self.step_key = step_key
        self.action = action


def _audits_refusals(action: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Record a refused attempt (409) in its own transaction, then refuse.

    Of two people acting on the same step at once, the one who loses gets a Conflict, and both
    attempts are in the audit trail (regulatory.md §6).
    """

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except (Conflict, TrainingRequired) as exc:
                _record_refusal(action, kwargs, exc)
                raise

        return wrapper

    return decorate


def _record_refusal(action: str, kwargs: dict[str, Any], exc: Conflict | TrainingRequired) -> None:
    actor = kwargs.get("actor")
    number = str(kwargs.get("number") or "")
    detail: dict[str, Any] = {
        k: kwargs[k] for k in ("step_key", "iteration", "entry_id", "row_version") if k in kwargs
    }
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=f"{action}.refused",
            object_type="execution.batch",
            object_id=number,
            object_repr=f"Batch {number}",
            new={"refused": exc.message, "field": exc.field, **detail},
            reason=exc.message,
        )
        if isinstance(exc, OutOfTurnRefused):
            batch = Batch.objects.get(pk=exc.batch_id)
            note_exception(
                actor=actor,
                batch=batch,
                kind=ExceptionKind.REFUSED_OUT_OF_TURN,
                severity="alert",
                message=f"Refused ({exc.action}): {exc.message}",
                context={"step": exc.step_key, "action": exc.action},
            )


# --- small helpers -----------------------------------------------------------------------------


def _who(user: Any) -> str:
    return getattr(user, "username", "") or "system"


def _text(value: Any, field: str, *, limit: int, required: bool, what: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed("Expected text.", field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(what or f"{field.capitalize()} is required.", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"At most {limit} characters.", field=field)
    if "\x00" in value or "\x1f" in value:
        raise ValidationFailed("Control characters are not allowed.", field=field)
    return value


def _reason(value: Any, field: str = "reason", what: str = "") -> str:
    return _text(value, field, limit=MAX_REASON, required=True, what=what)


def _check_version(row: Batch | StepExecution, expected: int | None, what: str) -> None:
    if expected is not None and expected != row.row_version:
        raise Conflict(
            f"{what} changed since you loaded it (version {expected}, now {row.row_version}); "
            "reload and try again.",
            field="row_version",
        )


def _check_shown(execution: StepExecution, content_sha256: str) -> None:
    """Nobody signs something other than what they saw: the step's values must be the ones the
    signer was shown (``content_sha256`` from the step view), if the caller says what that was."""
    if not content_sha256:
        return
    from galenic.signatures.binding import canonical_content, sha256_text

    if sha256_text(canonical_content(selectors.step_content(execution))) != content_sha256:
        raise Conflict(
            f"Step {execution.step_key} changed after it was shown to you; review it again "
            "before signing.",
            field="content_sha256",
        )


def _bump(row: Batch | StepExecution, *fields: str) -> None:
    row.row_version += 1
    rows.update(row, [*fields, "row_version"])


def _lock_batch(number: str) -> Batch:
    """The batch (without its frozen document), locked until the transaction ends."""
    batch = selectors.lock_batch(number)
    if batch is None:
        raise NotFound(f"There is no batch {number!r}.", field="number")
    return batch


def _require_status(batch: Batch, *allowed: str, doing: str) -> None:
    if batch.status in allowed:
        return
    if batch.status == BatchStatus.ON_HOLD:
        raise Conflict(
            f"Batch {batch.number} is on hold ({batch.hold_reason}): {doing} must wait until a "
            "supervisor resumes it.",
            field="status",
        )
    raise Conflict(
        f"Batch {batch.number} is {batch.get_status_display().lower()}: cannot {doing}.",
        field="status",
    )


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def note_exception(
    *,
    actor: Any,
    batch: Batch,
    kind: str,
    message: str,
    severity: str = "info",
    step: StepExecution | None = None,
    entry: Entry | None = None,
    context: dict[str, Any] | None = None,
) -> BatchException:
    """Record something a reviewer must judge (inside the caller's transaction)."""
    if kind not in ExceptionKind.values:
        raise ValueError(f"unknown exception kind {kind!r}")
    exception = BatchException(
        batch=batch,
        step=step,
        entry=entry,
        kind=kind,
        severity=severity,
        message=message,
        context=_json(context or {}),
        occurred_at=utcnow(),
        actor=actor if getattr(actor, "pk", None) else None,
    )
    rows.insert(exception)
    audit.record(
        actor=actor,
        action="execution.exception.raise",
        obj=exception,
        new={"kind": kind, "severity": severity, "message": message, "step": _step_label(step)},
    )
    return exception


def _step_label(step: StepExecution | None) -> str | None:
    if step is None:
        return None
    return step.step_key if step.iteration == 1 else f"{step.step_key}#{step.iteration}"


def _open_deviation(
    *,
    actor: Any,
    batch: Batch,
    title: str,
    description: str,
    source: str,
    step: StepExecution | None = None,
    entry: Entry | None = None,
    exception: BatchException | None = None,
) -> Any:
    from galenic.quality import services as quality

    return quality.raise_deviation(
        actor=actor,
        title=title,
        description=description,
        source=source,
        batch=batch,
        step=step,
        entry=entry,
        exception=exception,
    )


def locate(
    *, number: str, step_key: str | None = None, entry_id: int | None = None
) -> tuple[Batch, StepExecution | None, Entry | None]:
    """Batch, step execution and entry named by another context (e.g. a deviation report)."""
    batch = selectors.get_batch(number)
    step = selectors.step_execution(batch, step_key) if step_key else None
    entry = None
    if entry_id is not None:
        entry = Entry.objects.filter(batch=batch, pk=entry_id).select_related("step").first()
        if entry is None:
            raise NotFound(f"Batch {number} has no entry {entry_id}.", field="entry")
        step = step or entry.step
    return batch, step, entry


# --- batch lifecycle (211.188) -------------------------------------------------------------------


def _parse_moment(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = limit_rules.to_datetime(value)
    except limit_rules.InvalidValue as exc:
        raise ValidationFailed(str(exc), field=field) from None
    return moment


def create_batch(
    *,
    actor: Any,
    mbr: str,
    number: str,
    batch_size: str | None = None,
    planned_start: Any = None,
    planned_end: Any = None,
) -> Batch:
    """Issue a batch record from the MBR's effective version: a frozen copy of its document."""
    require(actor, "execution.create_batch")
    from galenic.recipes import selectors as recipes

    number = (number or "").strip()
    if not NUMBER_RE.match(number):
        raise ValidationFailed(
            "A batch number is 1 to 40 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit.",
            field="number",
        )
    start = _parse_moment(planned_start, "planned_start")
    end = _parse_moment(planned_end, "planned_end")
    if start and end and end < start:
        raise ValidationFailed("The planned end is before the planned start.", field="planned_end")
    version = recipes.effective_version((mbr or "").strip())
    try:
        doc = io.load_json(version.document_json)
    except (DocumentInvalid, ValueError) as exc:
        raise ValidationFailed(
            f"The effective version cannot be read: {exc}", field="mbr"
        ) from None
    if io.content_hash(doc) != version.content_hash:
        raise Conflict(
            f"MBR {version.master.code} v{version.version}: the stored document does not match "
            "its content hash; it cannot be issued.",
            field="mbr",
        )
    try:
        size = (
            Quantity.parse(batch_size)
            if batch_size
            else (doc.batch_size.quantity() if doc.batch_size else None)
        )
        flow = Flow(doc, batch_size=size)
    except UnitError as exc:
        raise ValidationFailed(str(exc), field="batch_size") from None
    except DocumentInvalid as exc:
        raise ValidationFailed(f"The master record is not valid: {exc}", field="mbr") from None
    except FlowError as exc:
        raise ValidationFailed(exc.reason, field="batch_size") from None
    size_text = f"{plain(flow.batch_size.magnitude)} {flow.batch_size.unit}".strip()
    now = utcnow()
    try:
        with transaction.atomic():
            if Batch.objects.filter(number=number).exists():
                raise Conflict(f"Batch number {number} is already used.", field="number")
            batch = Batch(
                number=number,
                master_version=version,
                mbr_code=version.master.code,
                mbr_version=version.version,
                document_json=version.document_json,
                document_hash=version.content_hash,
                product_name=doc.product.name,
                batch_size=size_text,
                planned_start=start,
                planned_end=end,
                created_at=now,
                created_by=actor,
            )
            batch.save(force_insert=True)
            audit.record(
                actor=actor,
                action="execution.batch.create",
                obj=batch,
                new={
                    "number": number,
                    "mbr": batch.mbr_code,
                    "mbr_version": batch.mbr_version,
                    "document_hash": batch.document_hash,
                    "batch_size": size_text,
                    "planned_start": start,
                    "planned_end": end,
                },
            )
    except IntegrityError:
        raise Conflict(f"Batch number {number} is already used.", field="number") from None
    return batch


@_audits_refusals("execution.batch.release_to_floor")
def release_to_floor(
    *, actor: Any, number: str, authority: SignerAuthority, row_version: int | None = None
) -> Batch:
    """The supervisor issues the record to the shop floor, signing the frozen master copy."""
    require(actor, "execution.release_batch")
    with transaction.atomic():
        batch = _lock_batch(number)
        _check_version(batch, row_version, f"Batch {number}")
        _require_status(batch, BatchStatus.CREATED, doing="release it to the floor")
        batch.status = BatchStatus.RELEASED_TO_FLOOR
        batch.released_to_floor_at = utcnow()
        batch.released_to_floor_by = actor
        _bump(batch, "status", "released_to_floor_at", "released_to_floor_by")
        audit.record(
            actor=actor,
            action="execution.batch.release_to_floor",
            obj=batch,
            old={"status": BatchStatus.CREATED},
            new={"status": batch.status},
        )
        signatures.sign(authority=authority, obj=batch, meaning=Meaning.APPROVED, actor=actor)
    return batch


@_audits_refusals("execution.batch.start")
def start_batch(*, actor: Any, number: str, row_version: int | None = None) -> Batch:
    """Start execution: the flow's first steps become available."""
    require(actor, "execution.start_batch")
    with transaction.atomic():
        batch = _lock_batch(number)
        _check_version(batch, row_version, f"Batch {number}")
        _require_status(batch, BatchStatus.RELEASED_TO_FLOOR, doing="start it")
        now = utcnow()
        batch.status = BatchStatus.IN_PROGRESS
        batch.started_at = now
        batch.started_by = actor
        _bump(batch, "status", "started_at", "started_by")
        audit.record(
            actor=actor,
            action="execution.batch.start",
            obj=batch,
            old={"status": BatchStatus.RELEASED_TO_FLOOR},
            new={"status": batch.status},
        )
        flow = selectors.flow_of(batch)
        state = flow.start()
        _materialise(actor=actor, batch=batch, flow=flow, state=state, events=state.events)
    return batch


@_audits_refusals("execution.batch.hold")
def hold_batch(*, actor: Any, number: str, reason: str, row_version: int | None = None) -> Batch:
    require(actor, "execution.hold")
    reason = _reason(reason, what="Say why the batch is put on hold.")
    with transaction.atomic():
        batch = _lock_batch(number)
        _check_version(batch, row_version, f"Batch {number}")
        _require_status(batch, BatchStatus.IN_PROGRESS, doing="put it on hold")
        batch.status = BatchStatus.ON_HOLD
        batch.hold_reason = reason
        _bump(batch, "status", "hold_reason")
        audit.record(
            actor=actor,
            action="execution.batch.hold",
            obj=batch,
            old={"status": BatchStatus.IN_PROGRESS},
            new={"status": batch.status},
            reason=reason,
        )
    return batch


@_audits_refusals("execution.batch.resume")
def resume_batch(*, actor: Any, number: str, reason: str, row_version: int | None = None) -> Batch:
    require(actor, "execution.resume")
    reason = _reason(reason, what="Say why the batch may continue.")
    with transaction.atomic():
        batch = _lock_batch(number)
        _check_version(batch, row_version, f"Batch {number}")
        if batch.status != BatchStatus.ON_HOLD:
            raise Conflict(f"Batch {number} is not on hold.", field="status")
        old_reason = batch.hold_reason
        batch.status = BatchStatus.IN_PROGRESS
        batch.hold_reason = ""
        _bump(batch, "status", "hold_reason")
        audit.record(
            actor=actor,
            action="execution.batch.resume",
            obj=batch,
            old={"status": BatchStatus.ON_HOLD, "hold_reason": old_reason},
            new={"status": batch.status},
            reason=reason,
        )
    return batch


@_audits_refusals("execution.batch.complete")
def complete_batch(*, actor: Any, number: str, row_version: int | None = None) -> Batch:
    """Complete the batch when every step has ended and every signature is there; compute the
    yield (Decimal) and open a deviation when it is outside the MBR's limits (211.192)."""
    require(actor, "execution.complete_batch")
    with transaction.atomic():
        batch = _lock_batch(number)
        _check_version(batch, row_version, f"Batch {number}")
        _require_status(batch, BatchStatus.IN_PROGRESS, doing="complete it")
        flow = selectors.flow_of(batch)
        state = selectors.flow_state(batch, flow)
        unfinished = [s.key for s in state.steps() if not s.status.ended]
        if unfinished:
            raise Conflict(
                f"Batch {number} cannot be completed: steps not done: {', '.join(unfinished)}.",
                field="steps",
            )
        waiting = StepExecution.objects.filter(batch=batch).exclude(
            status__in=[StepStatus.COMPLETED, StepStatus.SKIPPED]
        )
        reverify = StepExecution.objects.filter(batch=batch, needs_reverification=True)
        pending = [str(s) for s in [*waiting, *reverify]]
        if pending:
            raise Conflict(
                f"Batch {number} cannot be completed: waiting for signatures on "
                f"{', '.join(pending)}.",
                field="steps",
            )
        now = utcnow()
        _compute_yield(actor=actor, batch=batch, flow=flow, state=state)
        batch.status = BatchStatus.COMPLETED
        batch.completed_at = now
        batch.completed_by = actor
        _bump(
            batch,
            "status",
            "completed_at",
            "completed_by",
            "actual_yield",
            "theoretical_yield",
            "yield_percent",
            "yield_within_limits",
        )
        audit.record(
            actor=actor,
            action="execution.batch.complete",
            obj=batch,
            old={"status": BatchStatus.IN_PROGRESS},
            new={
                "status": batch.status,
                "actual_yield": batch.actual_yield,
                "theoretical_yield": batch.theoretical_yield,
                "yield_percent": batch.yield_percent,
                "yield_within_limits": batch.yield_within_limits,
            },
        )
    return batch


def _compute_yield(*, actor: Any, batch: Batch, flow: Flow, state: FlowState) -> None:
    doc = flow.doc
    spec = doc.theoretical_yield
    if not spec.actual or not spec.quantity:
        return
    theoretical = flow.theoretical_yield()
    batch.theoretical_yield = f"{plain(theoretical.magnitude)} {theoretical.unit}"
    actual = state.values.get(spec.actual)
    message = ""
    if not isinstance(actual, Quantity):
        message = (
            f"The actual yield ({spec.actual}) was not recorded; the yield cannot be computed."
        )
    else:
        batch.actual_yield = f"{plain(actual.magnitude)} {actual.unit}"
        unit_weight = Quantity.parse(doc.product.unit_weight) if doc.product.unit_weight else None
        try:
            result = evaluate_yield(
                actual,
                theoretical,
                low_percent=spec.low_percent,
                high_percent=spec.high_percent,
                precision=spec.precision,
                unit_weight=unit_weight,
            )
        except (YieldError, UnitError) as exc:
            message = f"The yield cannot be computed: {exc}"
        else:
            batch.yield_percent = result.percent_rounded
            batch.yield_within_limits = result.within_limits
            if result.within_limits:
                return
            message = result.message
    batch.yield_within_limits = False
    exception = note_exception(
        actor=actor,
        batch=batch,
        kind=ExceptionKind.YIELD_OUT_OF_LIMITS,
        severity="action",
        message=message,
        context={
            "actual": batch.actual_yield,
            "theoretical": batch.theoretical_yield,
            "percent": None if batch.yield_percent is None else str(batch.yield_percent),
            "low_percent": None if spec.low_percent is None else plain(spec.low_percent),
            "high_percent": None if spec.high_percent is None else plain(spec.high_percent),
        },
    )
    _open_deviation(
        actor=actor,
        batch=batch,
        title=f"Yield outside limits, batch {batch.number}",
        description=message,
        source=DeviationSource.YIELD,
        exception=exception,
    )


# --- the flow: which steps exist now ----------------------------------------------------------------


def _materialise(
    *, actor: Any, batch: Batch, flow: Flow, state: FlowState, events: Iterable[FlowEvent]
) -> None:
    """Create executions for steps the flow made available (or skipped) and turn the flow's own
    decisions (a repeat, a loop that ran out, an undecidable condition) into exceptions."""
    now = utcnow()
    existing = selectors.step_states(batch)
    for s in state.steps():
        if s.status.value == "available" and (s.key, s.iteration) not in existing:
            _new_execution(batch, flow, s.key, s.iteration, StepStatus.AVAILABLE, s.reason, now)
        elif s.status.value == "skipped" and (s.key, 1) not in existing:
            _new_execution(batch, flow, s.key, 1, StepStatus.SKIPPED, s.reason, now)
    for event in events:
        if event.kind == "repeat":
            note_exception(
                actor=actor,
                batch=batch,
                step=_latest(batch, event.step),
                kind=ExceptionKind.REPEATED_ATTEMPT,
                message=f"Step {event.step} runs again: {event.reason}",
                context={"step": event.step, "iteration": event.iteration + 1},
            )
        elif event.kind == "exhausted":
            note_exception(
                actor=actor,
                batch=batch,
                step=_latest(batch, event.step),
                kind=ExceptionKind.LOOP_EXHAUSTED,
                severity="action",
                message=f"Step {event.step} ended without meeting its goal: {event.reason}",
                context={"step": event.step, "runs": event.iteration},
            )
        elif event.kind == "blocked":
            note_exception(
                actor=actor,
                batch=batch,
                kind=ExceptionKind.FLOW_BLOCKED,
                severity="action",
                message=f"Step {event.step} is blocked: {event.reason}",
                context={"step": event.step},
            )


def _latest(batch: Batch, step_key: str) -> StepExecution | None:
    return (
        StepExecution.objects.filter(batch=batch, step_key=step_key).order_by("-iteration").first()
    )


def _new_execution(
    batch: Batch, flow: Flow, key: str, iteration: int, status: str, reason: str, now: datetime
) -> StepExecution:
    step = flow.step(key)
    execution = StepExecution(
        batch=batch,
        step_key=key,
        iteration=iteration,
        position=flow.graph.order[key],
        title=step.title or key,
        status=status,
        reason=reason,
        opened_at=now,
        signature_required=step.completion.performer_signature,
        verification_required=step.completion.verification,
        approval_required=step.completion.supervisor_approval,
    )
    rows.insert(execution)
    return execution


def _out_of_turn(
    batch: Batch, step_key: str, action: str, flow: Flow | None = None
) -> GalenicError:
    """The reason a step cannot be worked on now, from the flow."""
    flow = flow or selectors.flow_of(batch)
    if step_key not in flow.graph.by_key:
        return NotFound(f"Step {step_key!r} is not in this batch's master record.", field="step")
    state = selectors.flow_state(batch, flow)
    try:
        state.check(step_key)
    except OutOfTurn as exc:
        message = exc.reason
    else:
        message = f"step {step_key!r} is waiting for its signatures"
    return OutOfTurnRefused(
        message[:1].upper() + message[1:] + ".",
        batch_id=batch.pk,
        step_key=step_key,
        action=action,
    )


def _open_execution(
    batch: Batch, step_key: str, action: str, iteration: int | None = None
) -> StepExecution:
    """The step's execution that is open for entries now, locked; or an out-of-turn refusal.
    ``batch`` is the caller's locked batch, which the execution refers to."""
    execution = selectors.lock_open_step(batch, step_key, iteration)
    if execution is None:
        raise _out_of_turn(batch, step_key, action)
    return execution


# --- entries ----------------------------------------------------------------------------------


@dataclass
class ValueInput:
    """One value to record: a parameter (``key``) or a weighed material (``material``)."""

    key: str = ""
    material: str = ""
    value: Any = None
    unit: str = ""
    source: str = "manual"  # manual | instrument
    instrument: str = ""  # equipment code (a balance), for source=instrument
    tag: str = ""  # tag code, for source=instrument on a process value
    comment: str = ""
    reason: str = ""
    observed_at: Any = None  # late entry: when it was observed (with a reason)
    recorded_at: Any = None  # never accepted: the server records the time


@dataclass
class _Prepared:
    index: int
    input: ValueInput
    kind: str
    key: str
    param: Parameter | None
    target: MaterialTarget | None
    captured: stored_values.Captured
    evaluation: limit_rules.Evaluation
    source: str
    instrument_code: str = ""
    instrument_serial: str = ""
    reading: dict[str, Any] | None = None
    observed_at: datetime | None = None
    reason: str = ""
    comment: str = ""
    manual_instead_of_instrument: bool = False


def _field(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def _prepare(
    *,
    actor: Any,
    flow: Flow,
    step: Step,
    item: ValueInput,
    index: int,
    prefix: str,
    now: datetime,
    opened_at: datetime | None,
    started_at: datetime | None,
) -> _Prepared:
    """Validate one input and capture its value (reading the instrument when asked)."""
    f = functools.partial(_field, prefix)
    if item.recorded_at not in (None, ""):
        raise ValidationFailed(
            "The server records the time of every entry; it cannot be set. To record an "
            "observation made earlier (e.g. from a paper record), give observed_at and a reason: "
            "it becomes a late entry.",
            field=f("recorded_at"),
        )
    key = (item.key or "").strip()
    material = (item.material or "").strip()
    if bool(key) == bool(material):
        raise ValidationFailed(
            "Name either the parameter (key) or the material, not both.",
            field=f("key"),
        )
    source = (item.source or "manual").strip()
    if source not in (EntrySource.MANUAL, EntrySource.INSTRUMENT):
        raise ValidationFailed(
            "Source is 'manual' or 'instrument' (calculated values are computed by the system).",
            field=f("source"),
        )
    comment = _text(item.comment, f("comment"), limit=MAX_COMMENT, required=False)
    reason = _text(item.reason, f("reason"), limit=MAX_REASON, required=False)
    param: Parameter | None = None
    target: MaterialTarget | None = None
    if key:
        param = step.parameter(key)
        if param is None:
            known = ", ".join(p.key for p in step.parameters) or "none"
            raise ValidationFailed(
                f"Step {step.key!r} has no parameter {key!r} (parameters: {known}).",
                field=f("key"),
            )
        if param.source is Source.CALCULATED:
            raise ValidationFailed(
                f"{param.name or key} is calculated by the system from recorded values; it is "
                "never typed.",
                field=f("key"),
            )
    else:
        target = next((t for t in flow.materials(step.key) if t.material == material), None)
        if target is None:
            listed = ", ".join(t.material for t in flow.materials(step.key)) or "none"
            raise ValidationFailed(
                f"Step {step.key!r} adds no material {material!r} (materials: {listed}).",
                field=f("material"),
            )
        if not target.weighed:
            raise ValidationFailed(f"{material} is not weighed at this step.", field=f("material"))
    observed_at = None
    if item.observed_at not in (None, ""):
        if not reason:
            raise ValidationFailed(
                "A late entry needs a reason (e.g. 'transcribed from paper record PR-12 during "
                "the network outage').",
                field=f("reason"),
            )
        observed_at = _parse_moment(item.observed_at, f("observed_at"))
        assert observed_at is not None
        if observed_at > now:
            raise ValidationFailed("The observation time is in the future.", field=f("observed_at"))
        if started_at is not None and observed_at < started_at:
            raise ValidationFailed(
                f"The observation time is before the batch started ({started_at.isoformat()}).",
                field=f("observed_at"),
            )
    instrument_expected = param is not None and param.source is Source.INSTRUMENT
    if source == EntrySource.MANUAL and instrument_expected and not reason:
        raise ValidationFailed(
            f"{param.name or key if param else material} is read from an instrument; a manual "
            "entry needs a reason and is reported as an exception.",
            field=f("reason"),
        )
    raw: Any = item.value
    unit = item.unit or ""
    instrument_code = instrument_serial = ""
    reading: dict[str, Any] | None = None
    if source == EntrySource.INSTRUMENT:
        if item.value not in (None, ""):
            raise ValidationFailed(
                "An instrument value comes from the instrument; do not type it.",
                field=f("value"),
            )
        raw, unit, instrument_code, instrument_serial, reading = _read_instrument(
            actor=actor, param=param, item=item, prefix=prefix, opened_at=opened_at, now=now
        )
    try:
        if param is not None:
            captured = stored_values.capture(param, raw, unit or None)
        else:
            assert target is not None
            pseudo = Parameter(key="material", unit=target.quantity.unit)
            captured = stored_values.capture(pseudo, raw, unit or None)
    except limit_rules.InvalidValue as exc:
        raise ValidationFailed(
            str(exc), field=f("unit") if _unit_problem(exc) else f("value")
        ) from None
    try:
        if param is not None:
            evaluation = selectors.evaluate(flow, step.key, param, captured.value)
        else:
            assert target is not None
            assert isinstance(captured.value, Quantity)
            evaluation = selectors.evaluate_material(target, captured.value)
    except (limit_rules.InvalidValue, UnitError, ValueError) as exc:
        raise ValidationFailed(str(exc), field=f("value")) from None
    return _Prepared(
        index=index,
        input=item,
        kind=EntryKind.PARAMETER if param is not None else EntryKind.MATERIAL,
        key=key or material,
        param=param,
        target=target,
        captured=captured,
        evaluation=evaluation,
        source=source,
        instrument_code=instrument_code,
        instrument_serial=instrument_serial,
        reading=reading,
        observed_at=observed_at,
        reason=reason,
        comment=comment,
        manual_instead_of_instrument=source == EntrySource.MANUAL and instrument_expected,
    )


def _unit_problem(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unit" in text and "number" not in text


def _read_instrument(
    *,
    actor: Any,
    param: Parameter | None,
    item: ValueInput,
    prefix: str,
    opened_at: datetime | None,
    now: datetime,
) -> tuple[str, str, str, str, dict[str, Any]]:
    """Read the value from the device through the equipment context (device identity,
    calibration and freshness are checked there; a refusal is audited there)."""
    from galenic.equipment import services as equipment

    kind = param.instrument.kind if param is not None and param.instrument else None
    tag = (item.tag or "").strip()
    code = (item.instrument or "").strip()
    if tag or (kind is InstrumentKind.TAG):
        if not tag and code and param is not None and param.instrument and param.instrument.tag:
            tag = f"{code}.{param.instrument.tag}"
        if not tag:
            raise ValidationFailed("Name the tag to read.", field=f"{prefix}tag")
        capture_mode = {
            "at_confirm": "at_confirm",
            "minimum": "min",
            "maximum": "max",
            "mean": "mean",
        }[param.instrument.capture.value if param and param.instrument else "at_confirm"]
        window = (opened_at, now) if capture_mode != "at_confirm" and opened_at else None
        try:
            got = equipment.capture_tag_value(
                actor=actor,
                tag_code=tag,
                mode=capture_mode,  # type: ignore[arg-type]
                window=window,
            )
        except GalenicError as exc:
            raise type(exc)(exc.message, field=f"{prefix}tag") from None
        return (
            plain(got.value),
            got.unit,
            got.equipment_code,
            got.serial,
            got.as_dict(),
        )
    if not code:
        raise ValidationFailed("Name the balance to read.", field=f"{prefix}instrument")
    try:
        reading = equipment.capture_balance_weight(actor=actor, instrument_code=code)
    except GalenicError as exc:
        raise type(exc)(exc.message, field=f"{prefix}instrument") from None
    return (
        plain(reading.value),
        reading.unit,
        reading.instrument_code,
        reading.serial,
        reading.as_dict(),
    )


def _entry_values(entry: Entry) -> dict[str, Any]:
    return {
        "step": entry.step.step_key,
        "iteration": entry.step.iteration,
        "kind": entry.kind,
        "key": entry.key,
        "raw": entry.raw_value,
        "raw_unit": entry.raw_unit,
        "value": entry.value,
        "unit": entry.unit,
        "source": entry.source,
        "instrument": entry.instrument_code,
        "serial": entry.instrument_serial,
        "outcome": entry.outcome,
        "observed_at": entry.observed_at,
        "supersedes": entry.supersedes_id,
    }


def _save_entry(
    *,
    actor: Any,
    batch: Batch,
    step: StepExecution,
    prepared: _Prepared,
    now: datetime,
    supersedes: Entry | None = None,
) -> Entry:
    evaluation = prepared.evaluation
    entry = Entry(
        batch=batch,
        step=step,
        kind=prepared.kind,
        key=prepared.key,
        recorded_at=now,
        recorded_by=actor,
        source=prepared.source,
        instrument_code=prepared.instrument_code,
        instrument_serial=prepared.instrument_serial,
        reading=_json(prepared.reading) if prepared.reading else "",
        raw_value=prepared.captured.raw,
        raw_unit=prepared.captured.raw_unit,
        value_type=prepared.captured.stored.type,
        value=prepared.captured.stored.text,
        unit=prepared.captured.stored.unit,
        outcome=evaluation.outcome.value,
        severity=evaluation.severity.value,
        evaluation=evaluation.message,
        limit_name=evaluation.limit,
        limit_value=evaluation.limit_value[:120],
        observed_at=prepared.observed_at,
        late=prepared.observed_at is not None,
        reason=prepared.reason,
        comment=prepared.comment,
        supersedes=supersedes,
    )
    rows.insert(entry)
    audit.record(
        actor=actor,
        action="execution.entry.correct" if supersedes else "execution.entry.record",
        obj=entry,
        old=_entry_values(supersedes) if supersedes else None,
        new=_entry_values(entry),
        reason=prepared.reason,
    )
    _flag_entry(actor=actor, batch=batch, step=step, entry=entry, prepared=prepared)
    return entry


def _label(prepared: _Prepared) -> str:
    if prepared.param is not None:
        return prepared.param.name or prepared.key
    return f"material {prepared.key}"


def _flag_entry(
    *, actor: Any, batch: Batch, step: StepExecution, entry: Entry, prepared: _Prepared
) -> None:
    """Exceptions (and a deviation) the moment a value is captured."""
    evaluation = prepared.evaluation
    if (
        evaluation.severity.value not in ("alert", "action")
        and not entry.late
        and not prepared.manual_instead_of_instrument
    ):
        return  # nothing to flag (most values): no context to build
    context = {
        "key": entry.key,
        "name": _label(prepared),
        "value": entry.value,
        "unit": entry.unit,
        "raw": entry.raw_value,
        "raw_unit": entry.raw_unit,
        "source": entry.source,
        "instrument": entry.instrument_code,
        **evaluation.as_dict(),
    }
    if evaluation.severity.value == "alert":
        note_exception(
            actor=actor,
            batch=batch,
            step=step,
            entry=entry,
            kind=ExceptionKind.LIMIT_EXCURSION_ALERT,
            severity="alert",
            message=f"{_label(prepared)}: {evaluation.message}",
            context=context,
        )
    elif evaluation.severity.value == "action":
        exception = note_exception(
            actor=actor,
            batch=batch,
            step=step,
            entry=entry,
            kind=ExceptionKind.LIMIT_EXCURSION_ACTION,
            severity="action",
            message=f"{_label(prepared)}: {evaluation.message}",
            context=context,
        )
        _open_deviation(
            actor=actor,
            batch=batch,
            step=step,
            entry=entry,
            exception=exception,
            title=f"{_label(prepared)} outside action limit, {batch.number} {step.step_key}",
            description=(
                f"{_label(prepared)} recorded as {entry.value} {entry.unit}".rstrip()
                + f" by {_who(actor)}: {evaluation.message}."
                + (f" Comment: {entry.comment}" if entry.comment else "")
            ),
            source=DeviationSource.LIMIT_EXCURSION,
        )
    if entry.late:
        note_exception(
            actor=actor,
            batch=batch,
            step=step,
            entry=entry,
            kind=ExceptionKind.LATE_ENTRY,
            severity="alert",
            message=f"{_label(prepared)} recorded late (observed {entry.observed_at:%Y-%m-%d %H:%M:%S} UTC): {entry.reason}",
            context={**context, "observed_at": entry.observed_at, "reason": entry.reason},
        )
    if prepared.manual_instead_of_instrument:
        note_exception(
            actor=actor,
            batch=batch,
            step=step,
            entry=entry,
            kind=ExceptionKind.MANUAL_ENTRY_INSTRUMENT_EXPECTED,
            severity="alert",
            message=f"{_label(prepared)} typed by hand instead of read from the instrument: {entry.reason}",
            context={**context, "reason": entry.reason},
        )


def _values_list(values: Sequence[ValueInput]) -> list[ValueInput]:
    items = list(values)
    if not items:
        raise ValidationFailed("Give at least one value.", field="values")
    if len(items) > MAX_VALUES_PER_CALL:
        raise ValidationFailed(f"At most {MAX_VALUES_PER_CALL} values per call.", field="values")
    return items


@_audits_refusals("execution.entry.record")
def record_values(
    *,
    actor: Any,
    number: str,
    step_key: str,
    values: Sequence[ValueInput],
    iteration: int | None = None,
    row_version: int | None = None,
    single: bool = False,
) -> list[Entry]:
    """Record captured values of the step that is open now, each checked against its limits the
    moment it is captured. An excursion is flagged at once (an action excursion opens a
    deviation); the value is recorded all the same: the truth is never refused. All values of
    one call are recorded together or not at all."""
    require(actor, "execution.record")
    items = _values_list(values)
    # The open step with its batch in one read; refused at once (before reading any instrument)
    # when there is none. Rechecked below under the lock.
    peek = selectors.open_step(number, step_key, iteration)
    found = [peek] if peek is not None else []
    batch = peek.batch if peek is not None else selectors.get_batch(number)
    flow = selectors.flow_of(batch)
    if step_key not in flow.graph.by_key:
        raise NotFound(f"Step {step_key!r} is not in this batch's master record.", field="step")
    step_doc = flow.step(step_key)
    _require_status(batch, BatchStatus.IN_PROGRESS, doing="record values")
    if not found:
        raise _out_of_turn(batch, step_key, "record", flow)
    _check_training(actor, step_doc, doing="record values of")
    opened = found[0].opened_at
    now = utcnow()
    prepared = [
        _prepare(
            actor=actor,
            flow=flow,
            step=step_doc,
            item=item,
            index=i,
            prefix="" if single else f"values[{i}].",
            now=now,
            opened_at=opened,
            started_at=batch.started_at,
        )
        for i, item in enumerate(items)
    ]
    seen: set[tuple[str, str]] = set()
    for p in prepared:
        if (p.kind, p.key) in seen:
            raise ValidationFailed(
                f"{p.key} is given twice.",
                field="key" if single else f"values[{p.index}].key",
            )
        seen.add((p.kind, p.key))
    execution = found[0]
    try:
        with transaction.atomic():
            claimed = _claim_step(execution, row_version, actor, now)
            if claimed is None:
                raise _why_not_claimed(batch, step_key, execution, row_version)
            execution.row_version = claimed
            if execution.status == StepStatus.AVAILABLE:
                execution.status = StepStatus.IN_PROGRESS
                execution.started_at = now
                execution.started_by = actor
            entries = [
                _save_entry(actor=actor, batch=batch, step=execution, prepared=p, now=now)
                for p in prepared
            ]
    except IntegrityError:
        # uniq_first_entry: a value of this step was recorded by someone else meanwhile.
        raise _already_recorded(execution, prepared, single) from None
    return entries


_CLAIM_SQL = (
    "UPDATE execution_stepexecution SET row_version = row_version + 1, status = %s, "
    "started_at = COALESCE(started_at, %s), started_by_id = COALESCE(started_by_id, %s) "
    "WHERE id = %s AND status IN (%s, %s) AND (%s OR row_version = %s) "
    "AND batch_id IN (SELECT id FROM execution_batch WHERE status = %s) "
    "RETURNING row_version"
)


def _claim_step(
    execution: StepExecution, row_version: int | None, actor: Any, now: datetime
) -> int | None:
    """Bump the step's row version if it is still open, its batch still running and (when the
    caller says which version it saw) unchanged: one conditional UPDATE that also takes the
    row lock, so a concurrent perform waits for this entry or this entry sees it lost. The
    entries recorded with it are each audited; the bump itself is bookkeeping. Returns the new
    row version, or None when the step may not take values now."""
    field = StepExecution._meta.get_field("started_at")
    connection = transaction.get_connection()
    row = rows.first_row(
        connection,
        _CLAIM_SQL,
        [
            StepStatus.IN_PROGRESS.value,
            field.get_db_prep_value(now, connection),
            actor.pk,
            execution.pk,
            StepStatus.AVAILABLE.value,
            StepStatus.IN_PROGRESS.value,
            row_version is None,
            row_version or 0,
            BatchStatus.IN_PROGRESS.value,
        ],
    )
    return int(row[0]) if row else None


def _why_not_claimed(
    batch: Batch, step_key: str, execution: StepExecution, row_version: int | None
) -> GalenicError:
    current = selectors.batch_rows().get(pk=batch.pk)
    if current.status != BatchStatus.IN_PROGRESS:
        try:
            _require_status(current, BatchStatus.IN_PROGRESS, doing="record values")
        except Conflict as exc:
            return exc
    step = StepExecution.objects.get(pk=execution.pk)
    if step.status in OPEN_STEP and row_version is not None and step.row_version != row_version:
        return Conflict(
            f"Step {step_key} changed since you loaded it (version {row_version}, now "
            f"{step.row_version}); reload and try again.",
            field="row_version",
        )
    return _out_of_turn(current, step_key, "record")


def _already_recorded(
    execution: StepExecution, prepared: list[_Prepared], single: bool
) -> GalenicError:
    existing = {
        (e.kind, e.key): e
        for e in Entry.objects.filter(step=execution, supersedes__isnull=True).select_related(
            "recorded_by"
        )
    }
    for p in prepared:
        found = existing.get((p.kind, p.key))
        if found is not None:
            return Conflict(
                f"{_label(p)} was already recorded by {_who(found.recorded_by)} at "
                f"{found.recorded_at:%H:%M:%S} UTC; to change it, correct that entry with a "
                "reason.",
                field="key" if single else f"values[{p.index}].key",
            )
    return Conflict(
        "Someone recorded a value of this step at the same moment; reload.", field="key"
    )


def record_value(
    *,
    actor: Any,
    number: str,
    step_key: str,
    iteration: int | None = None,
    row_version: int | None = None,
    **value: Any,
) -> Entry:
    """One value (the operator's everyday call); errors name the plain field (``value``)."""
    [entry] = record_values(
        actor=actor,
        number=number,
        step_key=step_key,
        values=[ValueInput(**value)],
        iteration=iteration,
        row_version=row_version,
        single=True,
    )
    return entry


# --- performing, verifying, approving -----------------------------------------------------------


def _check_performable(
    flow: Flow, step_doc: Step, execution: StepExecution, entries: list[Entry]
) -> None:
    current = selectors.current_entries(entries)
    uncommented = [
        e
        for (kind, _), e in current.items()
        if kind != EntryKind.CALCULATED and e.severity == "action" and not e.comment
    ]
    commented: set[int] = set()
    if uncommented:  # a comment added to the entry later counts too
        commented = set(
            Comment.objects.filter(step=execution, entry__isnull=False).values_list(
                "entry_id", flat=True
            )
        )
    errors = []
    for e in uncommented:
        key = e.key
        if e.pk not in commented:
            errors.append(
                (
                    f"entries.{key}.comment",
                    f"{key} = {e.value} {e.unit}".rstrip()
                    + " is outside its action limit: add a comment before completing the "
                    "step.",
                )
            )
    for target in flow.materials(step_doc.key):
        if not target.weighed:
            continue
        got = current.get((EntryKind.MATERIAL, target.material))
        if got is None:
            errors.append(
                (f"materials.{target.material}", f"Weigh {target.material} and record it.")
            )
        elif got.severity != "none":
            errors.append(
                (
                    f"materials.{target.material}",
                    f"{target.material}: {got.evaluation}; the quantity must be within "
                    "tolerance of the target (211.101): re-weigh and correct the entry.",
                )
            )
    if errors:
        from galenic.core.errors import FieldError

        raise ValidationFailed(
            errors[0][1], errors=[FieldError(field, message) for field, message in errors]
        )


def _calculate(
    *,
    actor: Any,
    batch: Batch,
    flow: Flow,
    state: FlowState,
    execution: StepExecution,
    values: dict[str, Value],
    now: datetime,
    reason: str = "",
    entries: list[Entry] | None = None,
) -> list[Calculation]:
    """Store the step's calculated values (with their inputs); a recalculation after a
    correction supersedes the earlier calculated entry when the result changed. ``entries``:
    the step's entries as the caller read them in this transaction, if it did. Returns the
    calculations (``flow.calculate(state, step, values)``)."""
    step_doc = flow.step(execution.step_key)
    if entries is None:
        entries = list(Entry.objects.filter(step=execution))
    current = selectors.current_entries(entries)
    calculations = flow.calculate(state, execution.step_key, values)
    for calc in calculations:
        param = step_doc.parameter(calc.parameter)
        assert param is not None
        if calc.result is None:
            if param.required:
                raise ValidationFailed(
                    f"{param.name or param.key} could not be calculated: {calc.error}",
                    field=f"entries.{param.key}",
                )
            continue
        stored = stored_values.encode(calc.result, param.unit)
        previous = current.get((EntryKind.CALCULATED, param.key))
        if previous is not None and (previous.value, previous.unit) == (stored.text, stored.unit):
            continue
        evaluation = selectors.evaluate(flow, execution.step_key, param, calc.result)
        inputs = {k: stored_values.encode(v).as_dict() for k, v in calc.inputs.items()}
        prepared = _Prepared(
            index=0,
            input=ValueInput(key=param.key),
            kind=EntryKind.CALCULATED,
            key=param.key,
            param=param,
            target=None,
            captured=stored_values.Captured(calc.result, stored, calc.expression, ""),
            evaluation=evaluation,
            source=EntrySource.CALCULATED,
            reason=reason if previous is not None else "",
        )
        entry = Entry(
            batch=batch,
            step=execution,
            kind=EntryKind.CALCULATED,
            key=param.key,
            recorded_at=now,
            recorded_by=actor,
            source=EntrySource.CALCULATED,
            raw_value=calc.expression,
            value_type=stored.type,
            value=stored.text,
            unit=stored.unit,
            outcome=evaluation.outcome.value,
            severity=evaluation.severity.value,
            evaluation=evaluation.message,
            limit_name=evaluation.limit,
            limit_value=evaluation.limit_value[:120],
            calculation=_json({"expression": calc.expression, "inputs": inputs}),
            reason=prepared.reason,
            supersedes=previous,
        )
        rows.insert(entry)
        audit.record(
            actor=actor,
            action="execution.entry.calculate",
            obj=entry,
            old=_entry_values(previous) if previous else None,
            new={**_entry_values(entry), "expression": calc.expression, "inputs": inputs},
            reason=prepared.reason,
        )
        _flag_entry(actor=actor, batch=batch, step=execution, entry=entry, prepared=prepared)
    return calculations


def _duration_check(
    *, actor: Any, batch: Batch, step_doc: Step, execution: StepExecution, now: datetime
) -> None:
    if step_doc.duration is None or execution.started_at is None:
        return
    seconds = Decimal((now - execution.started_at).total_seconds()).quantize(Decimal("0.001"))
    took = Quantity(seconds, "s")
    low = Quantity.parse(step_doc.duration.min) if step_doc.duration.min else None
    high = Quantity.parse(step_doc.duration.max) if step_doc.duration.max else None
    minutes = plain((seconds / 60).quantize(Decimal("0.1")))
    if low is not None and took < low:
        message = f"took {minutes} min, shorter than the expected {step_doc.duration.min}"
    elif high is not None and took > high:
        message = f"took {minutes} min, longer than the expected {step_doc.duration.max}"
    else:
        return
    note_exception(
        actor=actor,
        batch=batch,
        step=execution,
        kind=ExceptionKind.DURATION_OUT_OF_RANGE,
        severity="alert",
        message=f"Step {execution.step_key} {message}.",
        context={
            "started_at": execution.started_at,
            "performed_at": now,
            "seconds": str(took.magnitude),
            "min": step_doc.duration.min,
            "max": step_doc.duration.max,
        },
    )


def _check_training(actor: Any, step_doc: Step, *, doing: str) -> None:
    """Whoever records, performs or verifies a step holds current training for each course the
    step names (21 CFR 11.10(i), 211.25(a)); refused (and the refusal audited) otherwise."""
    if not step_doc.training:
        return
    from galenic.accounts import selectors as accounts

    gaps = accounts.training_gaps(actor, step_doc.training)
    if gaps:
        raise TrainingRequired(
            f"You cannot {doing} step {step_doc.key}: {'; '.join(gaps)}. An administrator "
            "records your training (or retraining) before you can.",
            field="training",
        )


def _signer_checks(execution: StepExecution, actor: Any, *, verb: str) -> None:
    """Nobody verifies or approves their own work (performed it or recorded its values)."""
    me = getattr(actor, "pk", None)
    recorded = set(
        Entry.objects.filter(step=execution)
        .exclude(source=EntrySource.CALCULATED)
        .values_list("recorded_by_id", flat=True)
    )
    if me == execution.performed_by_id or me in recorded:
        raise PermissionDenied(
            f"Nobody may {verb} their own work: you performed or recorded values of step "
            f"{execution.step_key}. Another person must {verb} it.",
            field="user_id",
        )
    if verb == "approve" and me == execution.verified_by_id:
        raise PermissionDenied(
            "The verifier of a step does not approve it as well.", field="user_id"
        )


def _finish(
    *,
    actor: Any,
    batch: Batch,
    flow: Flow,
    execution: StepExecution,
    now: datetime,
    values: dict[str, Value] | None = None,
    calculations: list[Calculation] | None = None,
) -> None:
    """The step has every signature it needs: it completes in the flow, which moves on.
    ``values``: the step's recorded parameter values, if the caller read them in this
    transaction; ``calculations``: what ``_calculate`` returned for them."""
    state = selectors.flow_state(batch, flow)
    if values is None:
        values = selectors.parameter_values(Entry.objects.filter(step=execution))
        calculations = None
    try:
        after = state.complete(execution.step_key, values, calculations=calculations)
    except IncompleteStep as exc:
        raise ValidationFailed(
            exc.reason, field=f"entries.{exc.missing[0]}" if exc.missing else "step"
        ) from None
    except OutOfTurn:
        raise _out_of_turn(batch, execution.step_key, "complete", flow) from None
    batch.completions += 1
    _bump(batch, "completions")
    execution.status = StepStatus.COMPLETED
    execution.completed_at = now
    execution.completion_seq = batch.completions
    execution.flow_values = _json(stored_values.encode_map(values))
    _bump(execution, "status", "completed_at", "completion_seq", "flow_values")
    audit.record(
        actor=actor,
        action="execution.step.complete",
        obj=execution,
        new={"status": execution.status, "completion_seq": execution.completion_seq},
    )
    selectors.remember_state(batch, after)
    events = after.events[len(state.events) :]
    _materialise(actor=actor, batch=batch, flow=flow, state=after, events=events)


@_audits_refusals("execution.step.perform")
def perform_step(
    *,
    actor: Any,
    number: str,
    step_key: str,
    authority: SignerAuthority | None = None,
    iteration: int | None = None,
    row_version: int | None = None,
    comment: str = "",
    content_sha256: str = "",
) -> StepExecution:
    """The performer completes the step: required values are there, calculated values are
    computed and stored, and the performer signs (meaning: performed)."""
    require(actor, "execution.perform")
    comment = _text(comment, "comment", limit=MAX_COMMENT, required=False)
    with transaction.atomic():
        batch = _lock_batch(number)
        _require_status(batch, BatchStatus.IN_PROGRESS, doing="complete steps")
        flow = selectors.flow_of(batch)
        if step_key not in flow.graph.by_key:
            raise NotFound(f"Step {step_key!r} is not in this batch's master record.", field="step")
        execution = _open_execution(batch, step_key, "complete", iteration)
        _check_version(execution, row_version, f"Step {step_key}")
        _check_shown(execution, content_sha256)
        if execution.signature_required and authority is None:
            raise ValidationFailed(
                "Sign to complete the step: enter your password.", field="password"
            )
        step_doc = flow.step(step_key)
        _check_training(actor, step_doc, doing="perform")
        state = selectors.flow_state(batch, flow)
        entries = selectors.step_entries(execution)
        values = selectors.parameter_values(entries)
        missing = state.missing_values(step_key, values)
        if missing:
            from galenic.core.errors import FieldError

            raise ValidationFailed(
                f"Step {step_key} needs values for: {', '.join(missing)}.",
                errors=[FieldError(f"entries.{k}", "required") for k in missing],
            )
        _check_performable(flow, step_doc, execution, entries)
        now = utcnow()
        calculations = _calculate(
            actor=actor,
            batch=batch,
            flow=flow,
            state=state,
            execution=execution,
            values=values,
            now=now,
            entries=entries,
        )
        if comment:
            _comment(actor=actor, batch=batch, step=execution, entry=None, text=comment, now=now)
        _duration_check(actor=actor, batch=batch, step_doc=step_doc, execution=execution, now=now)
        if execution.started_at is None:
            execution.started_at = now
            execution.started_by = actor
        execution.status = StepStatus.PERFORMED
        execution.performed_at = now
        execution.performed_by = actor
        _bump(execution, "status", "performed_at", "performed_by", "started_at", "started_by")
        audit.record(
            actor=actor,
            action="execution.step.perform",
            obj=execution,
            old={"status": StepStatus.IN_PROGRESS},
            new={"status": execution.status},
        )
        if authority is not None:
            signatures.sign(
                authority=authority, obj=execution, meaning=Meaning.PERFORMED, actor=actor
            )
        if not execution.verification_required and not execution.approval_required:
            # Calculated entries were added since, but values are the recorded parameters only.
            _finish(
                actor=actor,
                batch=batch,
                flow=flow,
                execution=execution,
                now=now,
                values=values,
                calculations=calculations,
            )
    return execution


def _signed_execution(
    batch: Batch, step_key: str, iteration: int | None, *, verifying: bool
) -> StepExecution:
    found = StepExecution.objects.select_for_update(no_key=True).filter(
        batch=batch, step_key=step_key
    )
    if iteration is not None:
        found = found.filter(iteration=iteration)
    execution = found.order_by("-iteration").first()
    if execution is None:
        raise _out_of_turn(batch, step_key, "verify" if verifying else "approve")
    return execution


@_audits_refusals("execution.step.verify")
def verify_step(
    *,
    actor: Any,
    number: str,
    step_key: str,
    authority: SignerAuthority,
    iteration: int | None = None,
    row_version: int | None = None,
    content_sha256: str = "",
) -> StepExecution:
    """A second person verifies the performed step (meaning: verified); never the performer."""
    require(actor, "execution.verify")
    with transaction.atomic():
        batch = _lock_batch(number)
        _require_status(batch, BatchStatus.IN_PROGRESS, doing="verify steps")
        execution = _signed_execution(batch, step_key, iteration, verifying=True)
        _check_version(execution, row_version, f"Step {step_key}")
        _check_shown(execution, content_sha256)
        if not execution.verification_required:
            raise Conflict(f"Step {step_key} needs no second-person verification.", field="step")
        if execution.status in OPEN_STEP:
            raise Conflict(
                f"Step {step_key} is not performed yet: verify it once the performer has signed.",
                field="step",
            )
        if execution.verified_at is not None:
            raise Conflict(
                f"Step {step_key} was already verified by "
                f"{_who(execution.verified_by)} at {execution.verified_at:%H:%M:%S} UTC.",
                field="step",
            )
        _signer_checks(execution, actor, verb="verify")
        _check_training(actor, selectors.flow_of(batch).step(step_key), doing="verify")
        now = utcnow()
        reverified = execution.needs_reverification
        execution.verified_at = now
        execution.verified_by = actor
        execution.needs_reverification = False
        _bump(execution, "verified_at", "verified_by", "needs_reverification")
        audit.record(
            actor=actor,
            action="execution.step.reverify" if reverified else "execution.step.verify",
            obj=execution,
            new={"verified_by": _who(actor)},
        )
        signatures.sign(authority=authority, obj=execution, meaning=Meaning.VERIFIED, actor=actor)
        if execution.status == StepStatus.PERFORMED and (
            not execution.approval_required or execution.approved_at is not None
        ):
            _finish(
                actor=actor,
                batch=batch,
                flow=selectors.flow_of(batch),
                execution=execution,
                now=now,
            )
    return execution


@_audits_refusals("execution.step.approve")
def approve_step(
    *,
    actor: Any,
    number: str,
    step_key: str,
    authority: SignerAuthority,
    iteration: int | None = None,
    row_version: int | None = None,
    content_sha256: str = "",
) -> StepExecution:
    """The supervisor approves a step that asks for it (meaning: approved), after verification."""
    require(actor, "execution.approve")
    with transaction.atomic():
        batch = _lock_batch(number)
        _require_status(batch, BatchStatus.IN_PROGRESS, doing="approve steps")
        execution = _signed_execution(batch, step_key, iteration, verifying=False)
        _check_version(execution, row_version, f"Step {step_key}")
        _check_shown(execution, content_sha256)
        if not execution.approval_required:
            raise Conflict(f"Step {step_key} needs no supervisor approval.", field="step")
        if execution.status in OPEN_STEP:
            raise Conflict(f"Step {step_key} is not performed yet.", field="step")
        if execution.approved_at is not None:
            raise Conflict(
                f"Step {step_key} was already approved by {_who(execution.approved_by)}.",
                field="step",
            )
        if execution.verification_required and execution.verified_at is None:
            raise Conflict(
                f"Step {step_key} must be verified by a second person before approval.",
                field="step",
            )
        _signer_checks(execution, actor, verb="approve")
        now = utcnow()
        execution.approved_at = now
        execution.approved_by = actor
        _bump(execution, "approved_at", "approved_by")
        audit.record(
            actor=actor,
            action="execution.step.approve",
            obj=execution,
            new={"approved_by": _who(actor)},
        )
        signatures.sign(authority=authority, obj=execution, meaning=Meaning.APPROVED, actor=actor)
        if execution.status == StepStatus.PERFORMED:
            _finish(
                actor=actor,
                batch=batch,
                flow=selectors.flow_of(batch),
                execution=execution,
                now=now,
            )
    return execution


# --- corrections --------------------------------------------------------------------------------


@_audits_refusals("execution.entry.correct")
def correct_entry(
    *,
    actor: Any,
    number: str,
    entry_id: int,
    reason: str,
    value: Any = None,
    unit: str = "",
    source: str = "manual",
    instrument: str = "",
    tag: str = "",
    comment: str = "",
    row_version: int | None = None,
) -> Entry:
    """Correct a recorded value by a new entry with a reason; the original stays in the record.

    A correction after verification voids it (the step needs verifying again); on a performed
    or completed step, calculated values are recomputed, limits and exceptions re-evaluated.
    """
    require(actor, "execution.correct")
    reason = _reason(reason, what="A correction needs a reason.")
    with transaction.atomic():
        batch = _lock_batch(number)
        _require_status(batch, BatchStatus.IN_PROGRESS, doing="correct entries")
        original = (
            Entry.objects.select_related("step", "recorded_by")
            .filter(batch=batch, pk=entry_id)
            .first()
        )
        if original is None:
            raise NotFound(f"Batch {number} has no entry {entry_id}.", field="entry_id")
        if original.kind == EntryKind.CALCULATED:
            raise ValidationFailed(
                "A calculated value is never corrected by hand: correct the values it is "
                "calculated from.",
                field="entry_id",
            )
        later = Entry.objects.filter(supersedes=original).first()
        if later is not None:
            raise Conflict(
                f"Entry {entry_id} was already corrected by entry {later.pk} "
                f"({_who(later.recorded_by)}); correct the latest value.",
                field="entry_id",
            )
        execution = StepExecution.objects.select_for_update(no_key=True).get(pk=original.step_id)
        _check_version(execution, row_version, f"Step {execution.step_key}")
        if (
            execution.status == StepStatus.SKIPPED
        ):  # pragma: no cover - skipped steps hold no entries
            raise Conflict("A skipped step holds no values.", field="entry_id")
        flow = selectors.flow_of(batch)
        step_doc = flow.step(execution.step_key)
        now = utcnow()
        item = ValueInput(
            key=original.key if original.kind == EntryKind.PARAMETER else "",
            material=original.key if original.kind == EntryKind.MATERIAL else "",
            value=value,
            unit=unit,
            source=source,
            instrument=instrument,
            tag=tag,
            comment=comment,
            reason=reason,
        )
        prepared = _prepare(
            actor=actor,
            flow=flow,
            step=step_doc,
            item=item,
            index=0,
            prefix="",
            now=now,
            opened_at=execution.opened_at,
            started_at=batch.started_at,
        )
        prepared.manual_instead_of_instrument = prepared.manual_instead_of_instrument or (
            original.source == EntrySource.INSTRUMENT and prepared.source == EntrySource.MANUAL
        )
        entry = _save_entry(
            actor=actor,
            batch=batch,
            step=execution,
            prepared=prepared,
            now=now,
            supersedes=original,
        )
        correction = note_exception(
            actor=actor,
            batch=batch,
            step=execution,
            entry=entry,
            kind=ExceptionKind.CORRECTION,
            severity="alert",
            message=(
                f"{_label(prepared)} corrected from {original.value} {original.unit}".rstrip()
                + f" to {entry.value} {entry.unit}".rstrip()
                + f" by {_who(actor)}: {reason}"
            ),
            context={
                "key": entry.key,
                "original_entry": original.pk,
                "original_value": original.value,
                "original_unit": original.unit,
                "original_by": _who(original.recorded_by),
                "original_at": original.recorded_at,
                "original_source": original.source,
                "value": entry.value,
                "unit": entry.unit,
                "reason": reason,
                "step_status": execution.status,
            },
        )
        if original.source == EntrySource.INSTRUMENT and prepared.source == EntrySource.MANUAL:
            # 211.101: a captured scale value is not edited without a deviation.
            _open_deviation(
                actor=actor,
                batch=batch,
                step=execution,
                entry=entry,
                exception=correction,
                title=f"Instrument value replaced by hand, {batch.number} {execution.step_key}",
                description=(
                    f"{_label(prepared)} read from {original.instrument_code} as "
                    f"{original.value} {original.unit} was replaced by {entry.value} "
                    f"{entry.unit} typed by {_who(actor)}: {reason}"
                ),
                source=DeviationSource.INSTRUMENT_VALUE_CHANGED,
            )
        fields = ["row_version"]
        if execution.verified_at is not None:
            note_exception(
                actor=actor,
                batch=batch,
                step=execution,
                entry=entry,
                kind=ExceptionKind.VERIFICATION_VOIDED,
                severity="alert",
                message=(
                    f"Verification of step {execution.step_key} by "
                    f"{_who(execution.verified_by)} is void after the correction; it must be "
                    "verified again."
                ),
                context={
                    "verified_by": _who(execution.verified_by),
                    "verified_at": execution.verified_at,
                },
            )
            execution.verified_at = None
            execution.verified_by = None
            execution.needs_reverification = True
            fields += ["verified_at", "verified_by", "needs_reverification"]
        execution.row_version += 1
        execution.save(update_fields=fields)
        if execution.status in (StepStatus.PERFORMED, StepStatus.COMPLETED):
            _after_correction(
                actor=actor,
                batch=batch,
                flow=flow,
                execution=execution,
                entry=entry,
                now=now,
                reason=reason,
            )
    return entry


def _after_correction(
    *,
    actor: Any,
    batch: Batch,
    flow: Flow,
    execution: StepExecution,
    entry: Entry,
    now: datetime,
    reason: str,
) -> None:
    """Recompute what depends on a corrected value of a performed or completed step.

    The flow is replayed with the corrected values. If it still takes the same path, the stored
    completion values and every calculated value that changed are updated (by superseding
    entries). If the corrected value would have sent the batch down another path (a condition
    or a repeat would decide differently), the record keeps the path actually taken and the
    reviewer gets an exception and a deviation.
    """
    recalc_reason = f"recalculated after the correction of {entry.key} (entry {entry.pk}): {reason}"
    done = list(
        StepExecution.objects.filter(batch=batch, completion_seq__isnull=False).order_by(
            "completion_seq"
        )
    )
    performed = list(StepExecution.objects.filter(batch=batch, status=StepStatus.PERFORMED))
    new_values = {
        ex.pk: (
            selectors.parameter_values(Entry.objects.filter(step=ex))
            if ex.pk == execution.pk
            else stored_values.decode_map(ex.flow_values_dict())
        )
        for ex in done
    }
    state = flow.start()
    problem = ""
    try:
        for ex in done:
            state = state.complete(ex.step_key, new_values[ex.pk])
    except (OutOfTurn, IncompleteStep) as exc:
        problem = exc.reason
    if not problem:
        expected = set(state.available())
        actual = set(
            StepExecution.objects.filter(
                batch=batch, status__in=[*OPEN_STEP, StepStatus.PERFORMED]
            ).values_list("step_key", flat=True)
        )
        if expected != actual:
            problem = (
                f"with the corrected value the steps open now would be "
                f"{', '.join(sorted(expected)) or 'none'}, not {', '.join(sorted(actual)) or 'none'}"
            )
    if problem:
        exception = note_exception(
            actor=actor,
            batch=batch,
            step=execution,
            entry=entry,
            kind=ExceptionKind.FLOW_DECISION_CHANGED,
            severity="action",
            message=(
                f"The correction of {entry.key} in step {execution.step_key} changes a decision "
                f"the batch already followed: {problem}. The record keeps the path taken."
            ),
            context={"entry": entry.pk, "problem": problem},
        )
        _open_deviation(
            actor=actor,
            batch=batch,
            step=execution,
            entry=entry,
            exception=exception,
            title=f"Corrected value changes the batch path, {batch.number}",
            description=exception.message,
            source=DeviationSource.FLOW,
        )
        return
    # Same path: store the corrected completion values, recompute calculated values in order.
    state = flow.start()
    for ex in done:
        values = new_values[ex.pk]
        _calculate(
            actor=actor,
            batch=batch,
            flow=flow,
            state=state,
            execution=ex,
            values=values,
            now=now,
            reason=recalc_reason,
        )
        if ex.pk == execution.pk:
            old = ex.flow_values
            ex.flow_values = _json(stored_values.encode_map(values))
            if ex.flow_values != old:
                _bump(ex, "flow_values")
                _bump(batch)  # the history changed: a new flow state
        state = state.complete(ex.step_key, values)
    for ex in performed:
        _calculate(
            actor=actor,
            batch=batch,
            flow=flow,
            state=state,
            execution=ex,
            values=selectors.parameter_values(Entry.objects.filter(step=ex)),
            now=now,
            reason=recalc_reason,
        )


# --- comments and attachments ---------------------------------------------------------------------


def _comment(
    *,
    actor: Any,
    batch: Batch,
    step: StepExecution | None,
    entry: Entry | None,
    text: str,
    now: datetime,
) -> Comment:
    comment = Comment(
        batch=batch, step=step, entry=entry, text=text, created_at=now, created_by=actor
    )
    comment.save(force_insert=True)
    audit.record(
        actor=actor,
        action="execution.comment.add",
        obj=comment,
        new={"step": _step_label(step), "entry": entry.pk if entry else None, "text": text},
    )
    note_exception(
        actor=actor,
        batch=batch,
        step=step,
        entry=entry,
        kind=ExceptionKind.COMMENT,
        message=f"Comment by {_who(actor)}: {text}",
        context={"comment": comment.pk, "text": text},
    )
    return comment


def _target(
    batch: Batch, step_key: str | None, entry_id: int | None, iteration: int | None
) -> tuple[StepExecution | None, Entry | None]:
    entry = None
    step = None
    if entry_id is not None:
        entry = Entry.objects.select_related("step").filter(batch=batch, pk=entry_id).first()
        if entry is None:
            raise NotFound(f"Batch {batch.number} has no entry {entry_id}.", field="entry_id")
        step = entry.step
    if step_key:
        named = selectors.step_execution(batch, step_key, iteration)
        if step is not None and named.pk != step.pk:
            raise ValidationFailed(
                f"Entry {entry_id} does not belong to step {step_key}.", field="entry_id"
            )
        step = named
    return step, entry


@_audits_refusals("execution.comment.add")
def add_comment(
    *,
    actor: Any,
    number: str,
    text: str,
    step_key: str | None = None,
    entry_id: int | None = None,
    iteration: int | None = None,
) -> Comment:
    """A comment on the batch, a step or an entry (e.g. on an action-limit excursion)."""
    require(actor, "execution.comment")
    text = _text(text, "text", limit=MAX_COMMENT, required=True, what="Write the comment.")
    with transaction.atomic():
        batch = _lock_batch(number)
        _require_status(batch, BatchStatus.IN_PROGRESS, BatchStatus.ON_HOLD, doing="comment on it")
        step, entry = _target(batch, step_key, entry_id, iteration)
        return _comment(actor=actor, batch=batch, step=step, entry=entry, text=text, now=utcnow())


def max_attachment_bytes() -> int:
    return int(getattr(settings, "EXECUTION_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


def _sniff(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@_audits_refusals("execution.attachment.add")
def add_attachment(
    *,
    actor: Any,
    number: str,
    filename: str,
    content: bytes,
    content_type: str = "",
    description: str = "",
    step_key: str | None = None,
    entry_id: int | None = None,
    iteration: int | None = None,
) -> Attachment:
    """Keep a file with the record (photo, printout, paper record), stored under MEDIA_ROOT by
    its SHA-256; the type is checked against the file's content, the size is limited."""
    require(actor, "execution.attach")
    name = Path((filename or "").replace("\\", "/")).name.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ValidationFailed("Give the file a name (at most 200 characters).", field="file")
    if not content:
        raise ValidationFailed("The file is empty.", field="file")
    limit = max_attachment_bytes()
    if len(content) > limit:
        raise ValidationFailed(
            f"The file is {len(content)} bytes; at most {limit} bytes are accepted.", field="file"
        )
    declared = (content_type or "").split(";")[0].strip().lower() or (
        mimetypes.guess_type(name)[0] or ""
    )
    if declared not in ATTACHMENT_TYPES:
        raise ValidationFailed(
            f"Files of type {declared or 'unknown'} are not accepted (accepted: "
            f"{', '.join(sorted(ATTACHMENT_TYPES))}).",
            field="content_type",
        )
    sniffed = _sniff(content)
    if declared.startswith("text/"):
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed("A text file must be UTF-8.", field="file") from None
        if sniffed is not None:
            raise ValidationFailed(
                f"The file's content is {sniffed}, not {declared}.", field="content_type"
            )
    elif sniffed != declared:
        raise ValidationFailed(f"The file's content is not {declared}.", field="content_type")
    description = _text(description, "description", limit=MAX_COMMENT, required=False)
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        batch = _lock_batch(number)
        _require_status(
            batch, BatchStatus.IN_PROGRESS, BatchStatus.ON_HOLD, doing="attach files to it"
        )
        step, entry = _target(batch, step_key, entry_id, iteration)
        suffix = Path(name).suffix.lower()[:10]
        relative = Path("batches") / str(batch.pk) / f"{digest}{suffix}"
        target = Path(settings.MEDIA_ROOT) / relative
        _write_durably(target, content)
        now = utcnow()
        attachment = Attachment(
            batch=batch,
            step=step,
            entry=entry,
            filename=name,
            content_type=declared,
            size=len(content),
            sha256=digest,
            path=str(relative),
            description=description,
            created_at=now,
            created_by=actor,
        )
        attachment.save(force_insert=True)
        audit.record(
            actor=actor,
            action="execution.attachment.add",
            obj=attachment,
            new={
                "filename": name,
                "content_type": declared,
                "size": len(content),
                "sha256": digest,
                "step": _step_label(step),
                "entry": entry.pk if entry else None,
            },
        )
        note_exception(
            actor=actor,
            batch=batch,
            step=step,
            entry=entry,
            kind=ExceptionKind.ATTACHMENT,
            message=f"Attachment {name} ({len(content)} bytes) by {_who(actor)}",
            context={"attachment": attachment.pk, "sha256": digest, "filename": name},
        )
    return attachment


def _write_durably(target: Path, content: bytes) -> None:
    """Write the file and fsync it and its directory before the record refers to it. Content
    addressed: the same file twice is one file."""
    import os

    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == target.stem:
        return
    temp = target.with_suffix(target.suffix + ".part")
    with open(temp, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def attachment_path(attachment: Attachment) -> Path:
    return Path(settings.MEDIA_ROOT) / attachment.path


__all__ = [
    "ValueInput",
    "add_attachment",
    "add_comment",
    "approve_step",
    "attachment_path",
    "complete_batch",
    "correct_entry",
    "create_batch",
    "hold_batch",
    "locate",
    "note_exception",
    "perform_step",
    "record_value",
    "record_values",
    "release_to_floor",
    "resume_batch",
    "start_batch",
    "verify_step",
]
