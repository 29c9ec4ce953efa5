"""Reads of the batch record: batches, the flow state replayed from stored completions, the step
view an operator works from, entries, exceptions. Nothing here writes."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from django.db.models import Prefetch, QuerySet

from galenic.accounts.models import User
from galenic.core.errors import NotFound
from galenic.core.rows import RowShape, all_rows, connection_for, first_row
from galenic.execution import values as stored_values
from galenic.execution.models import (
    OPEN_STEP,
    Attachment,
    Batch,
    BatchException,
    Comment,
    Entry,
    EntryKind,
    StepExecution,
    StepStatus,
)
from galenic.recipes.document import io
from galenic.recipes.document.flow import Flow, FlowState, MaterialTarget, StepRun
from galenic.recipes.document.model import MasterBatchRecord, Parameter, Source, Step
from galenic.rules import limits as limit_rules
from galenic.rules import units
from galenic.rules.expressions import Value
from galenic.rules.numbers import plain
from galenic.rules.units import Quantity

# --- the frozen document and its flow, cached per process -------------------------------------

_FLOW_CACHE_SIZE = 64
_flows: OrderedDict[tuple[str, str], Flow] = OrderedDict()
_flows_lock = threading.Lock()


def document_of(batch: Batch) -> MasterBatchRecord:
    return flow_of(batch).doc


def flow_of(batch: Batch) -> Flow:
    """The compiled flow of the batch's frozen document at its size (parsed once per process)."""
    key = (batch.document_hash, batch.batch_size)
    with _flows_lock:
        found = _flows.get(key)
        if found is not None:
            _flows.move_to_end(key)
            return found
    flow = Flow(io.load_json(batch.document_json), batch_size=Quantity.parse(batch.batch_size))
    # The unit registry loads lazily and slowly; load it now, with the batch, rather than in the
    # middle of an operator's first entry.
    units.registry()
    with _flows_lock:
        _flows[key] = flow
        while len(_flows) > _FLOW_CACHE_SIZE:
            _flows.popitem(last=False)
    return flow


def history(batch: Batch) -> list[StepRun]:
    """The batch's step completions in the order they happened, with their values."""
    done = StepExecution.objects.filter(batch=batch, completion_seq__isnull=False).order_by(
        "completion_seq"
    )
    return [
        StepRun(s.step_key, stored_values.decode_map(s.flow_values_dict()))
        for s in done.only("step_key", "flow_values", "completion_seq")
    ]


_STATE_CACHE_SIZE = 256
_states: OrderedDict[tuple[int, int, str], FlowState] = OrderedDict()


def _state_key(batch: Batch) -> tuple[int, int, str]:
    # Every change to the completion history bumps the batch's row_version.
    return (batch.pk, batch.row_version, batch.document_hash)


def flow_state(batch: Batch, flow: Flow | None = None) -> FlowState:
    """Where the batch stands: the flow replayed from its stored completions (kept per process
    for the batch's row version, so a long batch is not replayed from its start on every step;
    ``batch`` must be as stored now)."""
    key = _state_key(batch)
    with _flows_lock:
        found = _states.get(key)
        if found is not None:
            _states.move_to_end(key)
            return found
    state = (flow or flow_of(batch)).replay(history(batch))
    remember_state(batch, state)
    return state


def remember_state(batch: Batch, state: FlowState) -> None:
    """The flow state after a change the caller just made (at the batch's new row version)."""
    with _flows_lock:
        _states[_state_key(batch)] = state
        while len(_states) > _STATE_CACHE_SIZE:
            _states.popitem(last=False)


# --- batches ----------------------------------------------------------------------------------


def batches(*, status: str | None = None, mbr: str | None = None) -> QuerySet[Batch]:
    found = batch_rows().select_related("created_by")
    if status:
        found = found.filter(status=status)
    if mbr:
        found = found.filter(mbr_code=mbr)
    return found.order_by("-created_at", "-id")


def batch_rows() -> QuerySet[Batch]:
    """Batches without their frozen document text (large; read once per process by flow_of)."""
    return Batch.objects.defer("document_json")


_BATCH_ROW = RowShape(Batch, defer=["document_json"])


def get_batch(number: str) -> Batch:
    """The batch (without its frozen document), as ``batch_rows()`` reads it: read by every batch
    page and API call, so with SQL written once."""
    batch = _batch_by_number(number, lock=False)
    if batch is None:
        raise NotFound(f"There is no batch {number!r}.", field="number")
    return batch


def _batch_by_number(number: str, *, lock: bool) -> Batch | None:
    connection = connections[router.db_for_write(Batch) if lock else router.db_for_read(Batch)]
    row = first_row(
        connection,
        f"SELECT {_BATCH_ROW.columns(connection, 'b')} FROM {Batch._meta.db_table} b "  # noqa: S608
        f"WHERE b.number = %s{_for_update(connection) if lock else ''}",
        [number],
    )
    return None if row is None else _BATCH_ROW.build(connection, row)


_STEP_ROW = RowShape(StepExecution)
_ENTRY_ROW = RowShape(Entry)
_RECORDER_ROW = RowShape(
    User,
    defer=[f.attname for f in User._meta.concrete_fields if f.attname not in ("id", "username")],
)


def open_step(number: str, step_key: str, iteration: int | None = None) -> StepExecution | None:
    """The step execution of batch ``number`` open for entries now, with its batch (without the
    frozen document), in one read whose SQL is written once: this is the first read of every
    recorded value. Not locked: a writer rechecks under its lock."""
    connection = connections[router.db_for_read(StepExecution)]
    sql = (
        f"SELECT {_STEP_ROW.columns(connection, 's')}, "  # noqa: S608 (no user input)
        f"{_BATCH_ROW.columns(connection, 'b')} FROM {StepExecution._meta.db_table} s "
        f"JOIN {Batch._meta.db_table} b ON b.id = s.batch_id "
        "WHERE b.number = %s AND s.step_key = %s AND s.status IN (%s, %s)"
        + (" AND s.iteration = %s" if iteration is not None else "")
        + " LIMIT 1"
    )
    params: list[Any] = [number, step_key, *OPEN_STEP]
    if iteration is not None:
        params.append(iteration)
    row = first_row(connection, sql, params)
    if row is None:
        return None
    step = _STEP_ROW.build(connection, row)
    batch = _BATCH_ROW.build(connection, row, _STEP_ROW.width)
    StepExecution._meta.get_field("batch").set_cached_value(step, batch)
    return step


def _for_update(connection: Any) -> str:
    # As select_for_update(no_key=True) everywhere: a lock for changing the row that does not
    # block the key-share locks of foreign-key checks (an entry inserted for this batch).
    # SQLite has no row locks: its transactions take the database's write lock at BEGIN.
    if not connection.features.has_select_for_update:
        return ""
    return (
        " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else " FOR UPDATE"
    )


def lock_batch(number: str) -> Batch | None:
    """The batch (without its frozen document), locked until the transaction ends."""
    return _batch_by_number(number, lock=True)


def lock_open_step(
    batch: Batch, step_key: str, iteration: int | None = None
) -> StepExecution | None:
    """The execution of ``step_key`` open for entries now, locked until the transaction ends;
    ``batch`` (read by the caller in this transaction) is attached to it."""
    connection = connections[router.db_for_write(StepExecution)]
    row = first_row(
        connection,
        f"SELECT {_STEP_ROW.columns(connection, 's')} "  # noqa: S608
        f"FROM {StepExecution._meta.db_table} s "
        "WHERE s.batch_id = %s AND s.step_key = %s AND s.status IN (%s, %s)"
        + (" AND s.iteration = %s" if iteration is not None else "")
        + " LIMIT 1"
        + _for_update(connection),
        [batch.pk, step_key, *OPEN_STEP, *([iteration] if iteration is not None else [])],
    )
    if row is None:
        return None
    step = _STEP_ROW.build(connection, row)
    StepExecution._meta.get_field("batch").set_cached_value(step, batch)
    return step


def step_entries(step: StepExecution, *, recorders: bool = False) -> list[Entry]:
    """Every entry of a step execution, in the order recorded (read on every perform and every
    signing of a step). ``recorders``: with ``recorded_by`` (its ID and username only)."""
    connection = connections[router.db_for_read(Entry)]
    table = Entry._meta.db_table
    if recorders:
        sql = (
            f"SELECT {_ENTRY_ROW.columns(connection, 'e')}, "  # noqa: S608
            f"{_RECORDER_ROW.columns(connection, 'u')} FROM {table} e "
            f"JOIN {User._meta.db_table} u ON u.id = e.recorded_by_id "
            "WHERE e.step_id = %s ORDER BY e.id"
        )
    else:
        sql = (
            f"SELECT {_ENTRY_ROW.columns(connection, 'e')} FROM {table} e "  # noqa: S608
            "WHERE e.step_id = %s ORDER BY e.id"
        )
    step_field = Entry._meta.get_field("step")
    recorder_field = Entry._meta.get_field("recorded_by")
    entries = []
    for row in all_rows(connection, sql, [step.pk]):
        entry = _ENTRY_ROW.build(connection, row)
        step_field.set_cached_value(entry, step)
        if recorders:
            recorder_field.set_cached_value(
                entry, _RECORDER_ROW.build(connection, row, _ENTRY_ROW.width)
            )
        entries.append(entry)
    return entries


def step_states(batch: Batch) -> dict[tuple[str, int], str]:
    """(step key, iteration) -> status of every execution of the batch (read after each
    completed step, to open what the flow made available)."""
    connection = connections[router.db_for_read(StepExecution)]
    return {
        (key, iteration): status
        for key, iteration, status in all_rows(
            connection,
            f"SELECT step_key, iteration, status FROM {StepExecution._meta.db_table} "  # noqa: S608
            "WHERE batch_id = %s",
            [batch.pk],
        )
    }


def steps_of(batch: Batch) -> list[StepExecution]:
    return list(
        StepExecution.objects.filter(batch=batch)
        .select_related("performed_by", "verified_by", "approved_by", "started_by")
        .order_by("position", "iteration")
    )


def open_steps(batch: Batch) -> list[StepExecution]:
    return [s for s in steps_of(batch) if s.status in OPEN_STEP]


def step_execution(batch: Batch, step_key: str, iteration: int | None = None) -> StepExecution:
    """The execution of ``step_key`` (the given iteration, else the latest)."""
    found = StepExecution.objects.filter(batch=batch, step_key=step_key)
    if iteration is not None:
        found = found.filter(iteration=iteration)
    step = found.order_by("-iteration").first()
    if step is None:
        raise NotFound(
            f"Step {step_key!r} of batch {batch.number} has not been reached.", field="step"
        )
    return step


# --- entries ----------------------------------------------------------------------------------


def current_entries(entries: Iterable[Entry]) -> dict[tuple[str, str], Entry]:
    """The latest entry of each (kind, key): the ones no correction has superseded."""
    found: dict[tuple[str, str], Entry] = {}
    for entry in sorted(entries, key=lambda e: e.pk):
        found[(entry.kind, entry.key)] = entry
    return found


def parameter_values(entries: Iterable[Entry]) -> dict[str, Value]:
    """Captured parameter values of a step by key (calculated ones excluded: the flow makes them)."""
    return {
        key: stored_values.decode(e.value_type, e.value, e.unit)
        for (kind, key), e in current_entries(entries).items()
        if kind == EntryKind.PARAMETER
    }


def entries_of(step: StepExecution) -> list[Entry]:
    return list(Entry.objects.filter(step=step).select_related("recorded_by").order_by("id"))


def batch_entries(batch: Batch) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(batch=batch)
        .select_related("recorded_by", "step", "supersedes")
        .order_by("id")
    )


def exceptions(batch: Batch, *, kind: str | None = None) -> QuerySet[BatchException]:
    found = (
        BatchException.objects.filter(batch=batch)
        .select_related("step", "entry", "actor")
        .prefetch_related("deviations")
    )
    if kind:
        found = found.filter(kind=kind)
    return found.order_by("id")


def comments_of(batch: Batch, step: StepExecution | None = None) -> QuerySet[Comment]:
    found = Comment.objects.filter(batch=batch).select_related("created_by")
    return found.filter(step=step) if step is not None else found


def attachments_of(batch: Batch, step: StepExecution | None = None) -> QuerySet[Attachment]:
    found = Attachment.objects.filter(batch=batch).select_related("created_by")
    return found.filter(step=step) if step is not None else found


def get_attachment(batch: Batch, attachment_id: int) -> Attachment:
    found = Attachment.objects.filter(batch=batch, pk=attachment_id).first()
    if found is None:
        raise NotFound(f"Batch {batch.number} has no attachment {attachment_id}.", field="id")
    return found


# --- what a signature covers --------------------------------------------------------------------


def batch_content(batch: Batch) -> dict[str, Any]:
    """Signed at release to the floor: which master record, exactly, at which size (211.188(a))."""
    return {
        "batch": batch.number,
        "mbr": batch.mbr_code,
        "mbr_version": batch.mbr_version,
        "document_hash": batch.document_hash,
        "product": batch.product_name,
        "batch_size": batch.batch_size,
        "planned_start": batch.planned_start,
        "planned_end": batch.planned_end,
    }


def entry_content(entry: Entry) -> dict[str, Any]:
    return {
        "entry": entry.pk,
        "kind": entry.kind,
        "key": entry.key,
        "value": entry.value,
        "unit": entry.unit,
        "source": entry.source,
        "instrument": entry.instrument_code,
        "outcome": entry.outcome,
        "recorded_by": entry.recorded_by.username,
        "recorded_at": entry.recorded_at,
        "supersedes": entry.supersedes_id,
    }


def step_content(step: StepExecution) -> dict[str, Any]:
    """Signed by performer, verifier and approver: the step and its current values. A later
    correction changes this content, so those signatures then show 'changed after signing'."""
    entries = current_entries(step_entries(step, recorders=True))
    if StepExecution.batch.is_cached(step):
        number, document_hash = step.batch.number, step.batch.document_hash
    else:  # not the whole batch with its frozen document: two fields that never change
        connection = connection_for(Batch)
        number, document_hash = first_row(
            connection,
            f"SELECT number, document_hash FROM {Batch._meta.db_table} WHERE id = %s",  # noqa: S608
            [step.batch_id],
        )
    return {
        "batch": number,
        "document_hash": document_hash,
        "step": step.step_key,
        "iteration": step.iteration,
        "title": step.title,
        "entries": [entry_content(e) for e in entries.values()],
    }


# --- the step an operator works on -------------------------------------------------------------


@dataclass
class ParameterView:
    key: str
    name: str
    type: str
    unit: str
    source: str
    required: bool
    instrument: dict[str, Any] | None
    target: str | None
    limits: dict[str, str | None]
    choices: list[str]
    expected: Any
    help: str
    expression: str | None
    current: Entry | None = None
    provisional: dict[str, Any] | None = None  # calculated values shown before performing


@dataclass
class MaterialView:
    material: str
    name: str
    quantity: str
    unit: str
    low: str | None
    high: str | None
    weighed: bool
    verified: bool
    current: Entry | None = None


@dataclass
class StepView:
    execution: StepExecution | None
    key: str
    title: str
    instructions: str
    precautions: list[str]
    status: str  # the flow's view: pending/available/completed/skipped/exhausted/blocked
    reason: str
    iteration: int
    parameters: list[ParameterView]
    materials: list[MaterialView]
    equipment: list[dict[str, Any]]
    sampling: dict[str, Any] | None
    completion: dict[str, bool]
    duration: dict[str, str | None] | None
    training: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    exceptions: list[BatchException] = field(default_factory=list)


def _text(value: Any) -> str | None:
    return None if value is None else plain(value)


def parameter_view(flow: Flow, step: Step, param: Parameter) -> ParameterView:
    limits: dict[str, str | None] = {}
    target = None
    if param.type.value == "number":
        numeric = scaled_limits(flow, step.key, param)
        target = _text(numeric.target)
        limits = {
            "alert_low": _text(numeric.alert_low),
            "alert_high": _text(numeric.alert_high),
            "action_low": _text(numeric.action_low),
            "action_high": _text(numeric.action_high),
            "precision": None if numeric.precision is None else str(numeric.precision),
        }
    return ParameterView(
        key=param.key,
        name=param.name or param.key,
        type=param.type.value,
        unit=param.unit,
        source=param.source.value,
        required=param.required,
        instrument=param.instrument.model_dump(mode="json") if param.instrument else None,
        target=target,
        limits=limits,
        choices=list(param.choices),
        expected=param.expected,
        help=param.help,
        expression=param.expression,
    )


def scaled_limits(flow: Flow, step_key: str, param: Parameter) -> limit_rules.NumericLimits:
    """The limits that apply in this batch (scaled with the batch when the parameter scales)."""
    return flow.limits(step_key, param.key)


def evaluate(flow: Flow, step_key: str, param: Parameter, value: Value) -> limit_rules.Evaluation:
    """Check a value against the limits that apply in this batch, the moment it is captured."""
    return flow.evaluate(step_key, param.key, value)


def evaluate_material(target: MaterialTarget, quantity: Quantity) -> limit_rules.Evaluation:
    """A weighed quantity against the scaled target ± tolerance (211.101)."""
    if target.limits is None:
        shown = f"{plain(quantity.magnitude_in(target.quantity.unit))} {target.quantity.unit}"
        return limit_rules.Evaluation(limit_rules.Outcome.IN_RANGE, f"{shown} recorded", shown)
    return limit_rules.evaluate_number(quantity, target.limits)


def material_view(flow: Flow, target: MaterialTarget) -> MaterialView:
    component = flow.doc.component(target.material)
    return MaterialView(
        material=target.material,
        name=component.name if component else target.material,
        quantity=f"{plain(target.quantity.magnitude)} {target.quantity.unit}",
        unit=target.quantity.unit,
        low=_text(target.limits.action_low) if target.limits else None,
        high=_text(target.limits.action_high) if target.limits else None,
        weighed=target.weighed,
        verified=target.verified,
    )


def step_view(
    batch: Batch,
    step_key: str,
    *,
    state: FlowState | None = None,
    execution: StepExecution | None = None,
    detail: bool = True,
) -> StepView:
    flow = flow_of(batch)
    step = flow.step(step_key)
    state = state if state is not None else flow_state(batch, flow)
    flow_status = state.status(step_key)
    if execution is None:
        execution = (
            StepExecution.objects.filter(batch=batch, step_key=step_key)
            .order_by("-iteration")
            .first()
        )
    view = StepView(
        execution=execution,
        key=step.key,
        title=step.title or step.key,
        instructions=step.instructions,
        precautions=list(step.precautions),
        status=flow_status.status.value,
        reason=flow_status.reason or (execution.reason if execution else ""),
        iteration=execution.iteration if execution else flow_status.iteration,
        parameters=[parameter_view(flow, step, p) for p in step.parameters],
        materials=[material_view(flow, t) for t in flow.materials(step.key)],
        equipment=[e.model_dump(mode="json", exclude_none=True) for e in step.equipment],
        sampling=step.sampling.model_dump(mode="json") if step.sampling else None,
        completion=step.completion.model_dump(mode="json"),
        duration=step.duration.model_dump(mode="json") if step.duration else None,
        training=list(step.training),
    )
    if execution is None or not detail:
        return view
    view.entries = entries_of(execution)
    current = current_entries(view.entries)
    for p in view.parameters:
        kind = EntryKind.CALCULATED if p.source == Source.CALCULATED.value else EntryKind.PARAMETER
        p.current = current.get((kind, p.key))
    for m in view.materials:
        m.current = current.get((EntryKind.MATERIAL, m.material))
    if execution.status in OPEN_STEP and step_key in state.available():
        # Calculated values are shown as soon as their inputs are there; stored when performed.
        captured = parameter_values(view.entries)
        for calc in flow.calculate(state, step_key, captured):
            for p in view.parameters:
                if p.key == calc.parameter:
                    p.provisional = {
                        "value": None
                        if calc.result is None
                        else stored_values.encode(calc.result, p.unit).text,
                        "error": calc.error,
                        "inputs": {
                            k: stored_values.encode(v).as_dict() for k, v in calc.inputs.items()
                        },
                    }
    view.comments = list(comments_of(batch, execution))
    view.attachments = list(attachments_of(batch, execution))
    view.exceptions = list(
        BatchException.objects.filter(step=execution).prefetch_related(Prefetch("deviations"))
    )
    return view


@dataclass
class BatchView:
    batch: Batch
    state: FlowState
    executions: list[StepExecution]
    current: list[StepView]
    steps: list[dict[str, Any]]
    open_exceptions: int


def batch_view(batch: Batch, *, detail: bool = True) -> BatchView:
    """The batch with every step's flow status and the steps workable now, in detail."""
    flow = flow_of(batch)
    state = flow_state(batch, flow)
    executions = steps_of(batch)
    latest: dict[str, StepExecution] = {e.step_key: e for e in executions}
    rows = []
    for s in state.steps():
        ref = flow.graph.by_key[s.key]
        last = latest.get(s.key)
        rows.append(
            {
                "key": s.key,
                "title": ref.step.title or s.key,
                "unit_procedure": ref.unit_procedure.key,
                "operation": ref.operation.key,
                "flow_status": s.status.value,
                "runs": s.runs,
                "reason": s.reason,
                "execution": last,
            }
        )
    current = [
        step_view(batch, ex.step_key, state=state, execution=ex, detail=detail)
        for ex in executions
        if ex.status in (*OPEN_STEP, StepStatus.PERFORMED)
        or (ex.needs_reverification and ex.status == StepStatus.COMPLETED)
    ]
    return BatchView(
        batch=batch,
        state=state,
        executions=executions,
        current=current,
        steps=rows,
        open_exceptions=BatchException.objects.filter(batch=batch).count(),
    )


def reading_of(entry: Entry) -> dict[str, Any] | None:
    return json.loads(entry.reading) if entry.reading else None


def calculation_of(entry: Entry) -> dict[str, Any] | None:
    return json.loads(entry.calculation) if entry.calculation else None
