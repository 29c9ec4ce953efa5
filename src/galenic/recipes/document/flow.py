"""The execution flow engine (pure): which steps may be done now, given what has happened.

    flow = Flow(doc, batch_size=Quantity.parse("150000 tablet"))
    state = flow.start()                       # or flow.replay(runs) from the stored history
    state.available()                          # ['line_clearance'] (several in parallel branches)
    state = state.complete("line_clearance", {"room_clean": True})
    state.complete("compression", {...})       # raises OutOfTurn("… cannot be done yet …")

Rules:

* A step becomes *reachable* when every predecessor has ended (see ``graph``: sequence by default,
  parallel branches through operations' ``after``).
* A reachable conditional step is decided once: if its condition holds it becomes available,
  otherwise it is *skipped* and the reason (the condition and the values it saw) is recorded.
* A repeating step is offered again after each completion until its ``until`` holds, or it has
  run ``max`` times; then it ends as *exhausted*, which the flow reports so execution can raise an
  exception. Either way the flow continues.
* Completing a step that is not available is refused with the reason. Required values must be
  present; calculated values are computed here from the recorded ones (never typed).

``FlowState`` is immutable: ``complete`` returns a new state. Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from galenic.recipes.document.graph import RESERVED_NAMES, Graph
from galenic.recipes.document.model import DataType, MasterBatchRecord, Parameter, Source, Step
from galenic.recipes.document.validate import require_valid
from galenic.rules import limits as limit_rules
from galenic.rules.expressions import Expression, ExpressionError, MissingValue, Value, render
from galenic.rules.units import Quantity, UnitError
from galenic.rules.yields import YieldError, YieldResult, evaluate_yield, scale, scale_factor


class StepStatus(StrEnum):
    PENDING = "pending"  # earlier steps are not done yet
    AVAILABLE = "available"  # may be worked on and completed now
    COMPLETED = "completed"
    SKIPPED = "skipped"  # its condition was false
    EXHAUSTED = "exhausted"  # a repeat reached its maximum without 'until' holding
    BLOCKED = "blocked"  # the condition could not be decided

    @property
    def ended(self) -> bool:
        return self in (StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.EXHAUSTED)


class FlowError(ValueError):
    """Base of flow refusals; ``step`` names the step, ``str()`` is the reason."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


class OutOfTurn(FlowError):
    """The step is not available now."""


class IncompleteStep(FlowError):
    """Required values are missing or a calculation failed; ``missing`` lists parameter keys."""

    def __init__(self, step: str, reason: str, missing: list[str] | None = None) -> None:
        super().__init__(step, reason)
        self.missing = missing or []


@dataclass(frozen=True)
class StepRun:
    """One completion of a step (one iteration of a repeat) with its values by parameter key."""

    step: str
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class StepState:
    key: str
    status: StepStatus
    runs: int = 0  # completions so far
    reason: str = ""

    @property
    def iteration(self) -> int:
        """The iteration now offered (1-based) for an available step."""
        return self.runs + 1


@dataclass(frozen=True)
class FlowEvent:
    """Something the flow decided by itself, to be kept in the record."""

    kind: str  # skipped | repeat | loop_done | exhausted | blocked
    step: str
    reason: str
    iteration: int = 0


@dataclass(frozen=True)
class Calculation:
    """A calculated value with the inputs it was computed from."""

    step: str
    parameter: str
    expression: str
    inputs: dict[str, Value]
    result: Value | None
    error: str = ""

    def describe(self) -> str:
        inputs = ", ".join(f"{k} = {render(v)}" for k, v in self.inputs.items())
        outcome = render(self.result) if self.result is not None else f"not computed: {self.error}"
        return (
            f"{self.step}.{self.parameter} = {self.expression}"
            + (f"  [{inputs}]" if inputs else "")
            + f"  → {outcome}"
        )


@dataclass(frozen=True)
class MaterialTarget:
    """A material addition scaled to the batch, with its action limits (target ± tolerance)."""

    material: str
    quantity: Quantity
    limits: limit_rules.NumericLimits | None
    weighed: bool
    verified: bool


class Flow:
    """The compiled flow of one valid master record at one batch size."""

    def __init__(self, doc: MasterBatchRecord, *, batch_size: Quantity | None = None) -> None:
        self.doc = require_valid(doc)
        self.graph = Graph.build(self.doc)
        assert self.doc.batch_size is not None  # required by validation
        self.nominal_batch_size = self.doc.batch_size.quantity()
        self.batch_size = batch_size or self.nominal_batch_size
        self._check_batch_size()
        self.scale = scale_factor(self.nominal_batch_size, self.batch_size)
        self._expressions: dict[tuple[str, str], Expression] = {}
        self._calc_order: dict[str, list[Parameter]] = {}
        for ref in self.graph.steps:
            step = ref.step
            if step.condition:
                self._expressions[(step.key, "condition")] = Expression.parse(step.condition)
            if step.repeat:
                self._expressions[(step.key, "until")] = Expression.parse(step.repeat.until)
            for param in step.parameters:
                if param.source is Source.CALCULATED and param.expression:
                    self._expressions[(step.key, param.key)] = Expression.parse(param.expression)
            self._calc_order[step.key] = self._order_calculations(step)

    def _check_batch_size(self) -> None:
        batch = self.doc.batch_size
        assert batch is not None
        try:
            size = self.batch_size.magnitude_in(batch.unit)
        except UnitError as exc:
            raise FlowError("", f"batch size {self.batch_size}: {exc}") from exc
        if size <= 0:
            raise FlowError("", "the batch size must be positive")
        if batch.min is not None and size < batch.min:
            raise FlowError(
                "",
                f"batch size {self.batch_size} is below the smallest allowed ({batch.min} {batch.unit})",
            )
        if batch.max is not None and size > batch.max:
            raise FlowError(
                "",
                f"batch size {self.batch_size} is above the largest allowed ({batch.max} {batch.unit})",
            )

    def _order_calculations(self, step: Step) -> list[Parameter]:
        calculated = [p for p in step.parameters if p.source is Source.CALCULATED and p.expression]
        keys = {p.key for p in calculated}
        ordered: list[Parameter] = []
        done: set[str] = set()
        while len(ordered) < len(calculated):
            progressed = False
            for param in calculated:
                if param.key in done:
                    continue
                deps = {
                    q.split(".", 1)[1]
                    for name in self._expressions[(step.key, param.key)].references
                    if (q := self.graph.resolve(name, step.key)[0]) and q.startswith(f"{step.key}.")
                }
                if (deps & keys) <= done:
                    ordered.append(param)
                    done.add(param.key)
                    progressed = True
            if not progressed:  # pragma: no cover - validation refuses cycles
                break
        return ordered

    # -- states ----------------------------------------------------------------------------
    def start(self) -> FlowState:
        return FlowState._initial(self)

    def replay(self, runs: Iterable[StepRun]) -> FlowState:
        """The state after the given completions, in order, with the values as recorded
        (including calculated ones); ``OutOfTurn`` if the history breaks the master record's order
        (a corrupted record). ``replay(state.runs)`` reproduces ``state``."""
        state = self.start()
        for run in runs:
            state = state.complete(run.step, run.values, recorded=True)
        return state

    # -- values ----------------------------------------------------------------------------
    def reserved(self, name: str, here: str | None = None) -> Value:
        if name == "batch_size":
            return self.batch_size
        if name == "nominal_batch_size":
            return self.nominal_batch_size
        if name == "theoretical_output":
            ref = self.graph.by_key.get(here or "")
            text = ref.unit_procedure.theoretical_output if ref else None
            if not text:
                raise MissingValue("no theoretical output stated for this unit procedure")
            return scale(Quantity.parse(text), self.nominal_batch_size, self.batch_size)
        return self.theoretical_yield()

    def theoretical_yield(self) -> Quantity:
        """Theoretical yield scaled to this batch."""
        ty = Quantity.parse(self.doc.theoretical_yield.quantity)
        return scale(ty, self.nominal_batch_size, self.batch_size)

    def step(self, key: str) -> Step:
        ref = self.graph.by_key.get(key)
        if ref is None:
            raise OutOfTurn(key, f"there is no step {key!r} in this master record")
        return ref.step

    def materials(self, step_key: str) -> list[MaterialTarget]:
        """The step's material additions scaled to the batch, with target ± tolerance limits."""
        result: list[MaterialTarget] = []
        for add in self.step(step_key).materials:
            base = Quantity.parse(add.quantity)
            quantity = scale(base, self.nominal_batch_size, self.batch_size) if add.scales else base
            tolerance_text = add.tolerance
            if tolerance_text is None:
                comp = self.doc.component(add.material)
                tolerance_text = comp.tolerance if comp and comp.tolerance else None
            limits = None
            if tolerance_text:
                tolerance = Quantity.parse(tolerance_text)
                if add.scales and tolerance.unit.strip() not in {"%", "percent"}:
                    tolerance = Quantity(tolerance.magnitude * self.scale, tolerance.unit)
                limits = limit_rules.tolerance_limits(quantity, tolerance)
            result.append(MaterialTarget(add.material, quantity, limits, add.weighed, add.verified))
        return result

    def parameter(self, step_key: str, param_key: str) -> Parameter:
        param = self.step(step_key).parameter(param_key)
        if param is None:
            raise IncompleteStep(step_key, f"step {step_key!r} has no parameter {param_key!r}")
        return param

    def limits(self, step_key: str, param_key: str) -> limit_rules.NumericLimits:
        """The numeric limits that apply in this batch (scaled if the parameter scales)."""
        param = self.parameter(step_key, param_key)
        limits = param.numeric_limits()
        return limits.scaled(self.scale) if param.scales else limits

    def evaluate(self, step_key: str, param_key: str, value: object) -> limit_rules.Evaluation:
        """Check a captured or calculated value against the limits that apply in this batch:
        the one call execution makes the moment a value is captured."""
        param = self.parameter(step_key, param_key)
        if param.type is DataType.NUMBER and param.scales:
            return limit_rules.evaluate_number(value, self.limits(step_key, param_key))
        return param.evaluate(value)

    def check_duration(
        self, step_key: str, duration: timedelta | Quantity
    ) -> limit_rules.Evaluation | None:
        """How long a step took against its expected duration range (None if it has none). A
        duration outside the range is an exception for the reviewer."""
        expected = self.step(step_key).duration
        if expected is None or (expected.min is None and expected.max is None):
            return None
        if isinstance(duration, timedelta):
            seconds = Decimal(duration.days * 86400 + duration.seconds) + Decimal(
                duration.microseconds
            ).scaleb(-6)
            duration = Quantity(seconds, "s")
        low = Quantity.parse(expected.min) if expected.min else None
        high = Quantity.parse(expected.max) if expected.max else None
        bound = low if low is not None else high
        assert bound is not None
        unit = bound.unit
        limits = limit_rules.NumericLimits(
            unit=unit,
            action_low=low.magnitude_in(unit) if low else None,
            action_high=high.magnitude_in(unit) if high else None,
            precision=1,
        )
        return limit_rules.evaluate_number(duration.to(unit), limits)

    def yield_result(self, state: FlowState) -> YieldResult | None:
        """Actual against theoretical yield (211.186(b)(7), 211.192), once the parameter named by
        ``theoretical_yield.actual`` has a value; None before that or if the record names none."""
        ty = self.doc.theoretical_yield
        if not ty.actual:
            return None
        qualified, _ = self.graph.resolve(ty.actual)
        actual = state.values.get(qualified or "")
        if not isinstance(actual, Quantity):
            return None
        unit_weight = (
            Quantity.parse(self.doc.product.unit_weight) if self.doc.product.unit_weight else None
        )
        return evaluate_yield(
            actual,
            self.theoretical_yield(),
            low_percent=ty.low_percent,
            high_percent=ty.high_percent,
            precision=ty.precision,
            unit_weight=unit_weight,
        )

    def calculate(
        self, state: FlowState, step_key: str, values: Mapping[str, Value]
    ) -> list[Calculation]:
        """Compute the step's calculated parameters from ``values`` (this step's recorded values)
        and earlier steps' values in ``state``. Failed calculations carry the reason."""
        step = self.step(step_key)
        current = dict(values)
        results: list[Calculation] = []
        for param in self._calc_order[step.key]:
            expr = self._expressions[(step.key, param.key)]
            inputs: dict[str, Value] = {}

            def lookup(name: str, _inputs: dict[str, Value] = inputs) -> Value:
                value = state.lookup(name, step.key, current)
                _inputs[name] = value
                return value

            try:
                result = expr.evaluate(lookup)
                result = _fit(result, param)
            except (ExpressionError, UnitError, ValueError) as exc:
                results.append(
                    Calculation(step.key, param.key, expr.source, inputs, None, str(exc))
                )
                continue
            current[param.key] = result
            results.append(Calculation(step.key, param.key, expr.source, inputs, result))
        return results


def _fit(result: Value, param: Parameter) -> Value:
    """Express a calculated number in the parameter's unit."""
    if param.type is DataType.NUMBER:
        if not isinstance(result, Quantity):
            raise ExpressionError(f"the calculation gave {render(result)}, not a number")
        return result.to(param.unit) if param.unit != result.unit else result
    return result


class FlowState:
    """Where a batch stands on its master record's flow. Immutable."""

    def __init__(
        self,
        flow: Flow,
        statuses: dict[str, StepState],
        values: dict[str, Value],
        runs: tuple[StepRun, ...],
        events: tuple[FlowEvent, ...],
    ) -> None:
        self.flow = flow
        self._statuses = statuses
        self.values = values  # latest value of each "step.param"
        self.runs = runs
        self.events = events

    @classmethod
    def _initial(cls, flow: Flow) -> FlowState:
        statuses = {key: StepState(key, StepStatus.PENDING) for key in flow.graph.order}
        state = cls(flow, statuses, {}, (), ())
        return state._advance()

    # -- reading ---------------------------------------------------------------------------
    def status(self, key: str) -> StepState:
        found = self._statuses.get(key)
        if found is None:
            raise OutOfTurn(key, f"there is no step {key!r} in this master record")
        return found

    def steps(self) -> list[StepState]:
        return [self._statuses[k] for k in self.flow.graph.order]

    def available(self) -> list[str]:
        return [k for k, s in self._statuses.items() if s.status is StepStatus.AVAILABLE]

    @property
    def is_complete(self) -> bool:
        return all(s.status.ended for s in self._statuses.values())

    def exceptions(self) -> list[FlowEvent]:
        """Flow decisions a reviewer must see (loops that ran out, undecidable conditions)."""
        return [e for e in self.events if e.kind in {"exhausted", "blocked"}]

    def lookup(
        self,
        name: str,
        here: str | None = None,
        current: Mapping[str, Value] | None = None,
        *,
        local: bool = True,
    ) -> Value:
        """The value a name refers to: this step's ``current`` values first (``local``: a bare name
        means the step's own parameter), then the latest recorded value of earlier steps, then the
        batch's reserved names."""
        qualified, problem = self.flow.graph.resolve(name, here if local else None)
        if qualified is None:
            raise ExpressionError(problem)
        if qualified in RESERVED_NAMES:
            return self.flow.reserved(qualified, here)
        step, _, param = qualified.partition(".")
        if here is not None and step == here:
            if current is not None and param in current:
                return current[param]
            raise MissingValue(f"no value recorded yet for {name!r}")
        if qualified in self.values:
            return self.values[qualified]
        raise MissingValue(f"no value recorded for {name!r}")

    # -- checks ----------------------------------------------------------------------------
    def check(self, key: str) -> StepState:
        """Raise ``OutOfTurn`` with the reason unless the step is available now."""
        state = self.status(key)
        if state.status is StepStatus.AVAILABLE:
            return state
        if state.status is StepStatus.COMPLETED:
            raise OutOfTurn(key, f"step {key!r} is already complete")
        if state.status is StepStatus.EXHAUSTED:
            raise OutOfTurn(key, f"step {key!r} has ended: {state.reason}")
        if state.status is StepStatus.SKIPPED:
            raise OutOfTurn(key, f"step {key!r} was skipped: {state.reason}")
        if state.status is StepStatus.BLOCKED:
            raise OutOfTurn(key, f"step {key!r} is blocked: {state.reason}")
        waiting = self._waiting_for(key)
        names = ", ".join(repr(w) for w in waiting) or "earlier steps"
        raise OutOfTurn(key, f"step {key!r} cannot be done yet: finish {names} first")

    def _waiting_for(self, key: str) -> list[str]:
        """The available (or blocked) steps that stand between now and ``key``."""
        ancestors = self.flow.graph.ancestors.get(key, frozenset())
        return [
            k
            for k in self.flow.graph.order
            if k in ancestors
            and self._statuses[k].status in (StepStatus.AVAILABLE, StepStatus.BLOCKED)
        ]

    def missing_values(self, key: str, values: Mapping[str, Value]) -> list[str]:
        step = self.flow.step(key)
        return [
            p.key
            for p in step.parameters
            if p.required and p.source is not Source.CALCULATED and p.key not in values
        ]

    # -- changing --------------------------------------------------------------------------
    def complete(
        self,
        key: str,
        values: Mapping[str, Value] | None = None,
        *,
        recorded: bool = False,
        calculations: Sequence[Calculation] | None = None,
    ) -> FlowState:
        """A new state with ``key`` completed with ``values`` (by parameter key).

        Live completion (default): calculated parameters are computed here and a value typed for
        one is refused. ``recorded=True`` replays history: calculated values found in ``values``
        are taken as they were recorded (missing ones are computed). ``calculations``: what
        ``flow.calculate(self, key, <the entered values>)`` returned, when the caller has just
        computed it (the expressions are then not evaluated twice)."""
        current = self.check(key)
        step = self.flow.step(key)
        given = dict(values or {})
        known = {p.key: p for p in step.parameters}
        for name, value in given.items():
            param = known.get(name)
            if param is None:
                raise IncompleteStep(key, f"step {key!r} has no parameter {name!r}")
            if param.source is Source.CALCULATED and not recorded:
                raise IncompleteStep(key, f"{name!r} is calculated by the system, not entered")
            if not isinstance(value, Quantity | bool | str | datetime):
                raise IncompleteStep(key, f"{name!r}: unsupported value {value!r}")
        missing = self.missing_values(key, given)
        if missing:
            raise IncompleteStep(
                key, f"step {key!r} needs values for: {', '.join(missing)}", missing
            )
        entered = {k: v for k, v in given.items() if known[k].source is not Source.CALCULATED}
        if calculations is None:
            calculations = self.flow.calculate(self, key, entered)
        elif any(calc.step != key for calc in calculations):
            raise ValueError(f"calculations of another step given to complete {key!r}")
        for calc in calculations:
            if calc.parameter in given:
                continue  # recorded history keeps its calculated value
            if calc.error:
                param = known[calc.parameter]
                if param.required:
                    raise IncompleteStep(
                        key,
                        f"{calc.parameter!r} could not be calculated: {calc.error}",
                        [calc.parameter],
                    )
                continue
            assert calc.result is not None
            given[calc.parameter] = calc.result
        statuses = dict(self._statuses)
        new_values = dict(self.values)
        for name, value in given.items():
            new_values[f"{key}.{name}"] = value
        runs = current.runs + 1
        events = list(self.events)
        status = StepStatus.COMPLETED
        reason = ""
        if step.repeat is not None:
            until = self.flow._expressions[(key, "until")]
            snapshot = FlowState(self.flow, statuses, new_values, self.runs, ())
            try:
                done = until.evaluate(lambda n: snapshot.lookup(n, key, given))
            except ExpressionError as exc:
                done = False
                why = f"'until' could not be decided ({exc})"
            else:
                why = f"'{until.source}' is false"
            max_runs = step.repeat.max or 1
            if done is True:
                events.append(
                    FlowEvent("loop_done", key, f"'{until.source}' holds after run {runs}", runs)
                )
            elif runs >= max_runs:
                status = StepStatus.EXHAUSTED
                reason = f"ran {runs} of at most {max_runs} times and {why}"
                events.append(FlowEvent("exhausted", key, reason, runs))
            else:
                status = StepStatus.AVAILABLE
                reason = f"{why} after run {runs}; repeat (run {runs + 1} of at most {max_runs})"
                events.append(FlowEvent("repeat", key, reason, runs))
        statuses[key] = StepState(key, status, runs, reason)
        state = FlowState(
            self.flow, statuses, new_values, (*self.runs, StepRun(key, given)), tuple(events)
        )
        return state._advance()

    def _advance(self) -> FlowState:
        """Open every step whose predecessors have ended; decide conditions. Document order is
        a topological order, so one pass settles cascades of skipped steps."""
        graph = self.flow.graph
        statuses = self._statuses
        events = list(self.events)
        for key in graph.order:
            current = statuses[key]
            if current.status is not StepStatus.PENDING:
                continue
            preds = graph.predecessors.get(key, ())
            if not all(statuses[p].status.ended for p in preds):
                continue
            step = graph.by_key[key].step
            if step.condition is None:
                statuses[key] = StepState(key, StepStatus.AVAILABLE)
                continue
            expr = self.flow._expressions[(key, "condition")]
            seen: dict[str, Value] = {}

            def lookup(name: str, _seen: dict[str, Value] = seen, _key: str = key) -> Value:
                value = self.lookup(name, _key, local=False)
                _seen[name] = value
                return value

            try:
                holds = expr.evaluate(lookup)
            except ExpressionError as exc:
                reason = f"condition '{expr.source}' could not be decided: {exc}"
                statuses[key] = StepState(key, StepStatus.BLOCKED, 0, reason)
                events.append(FlowEvent("blocked", key, reason))
                continue
            shown = ", ".join(f"{n} = {render(v)}" for n, v in seen.items())
            if holds is True:
                statuses[key] = StepState(key, StepStatus.AVAILABLE)
            else:
                reason = f"condition '{expr.source}' is false" + (f" ({shown})" if shown else "")
                statuses[key] = StepState(key, StepStatus.SKIPPED, 0, reason)
                events.append(FlowEvent("skipped", key, reason))
        return FlowState(self.flow, statuses, self.values, self.runs, tuple(events))


def default_value(param: Parameter) -> Value | None:
    """An example value for a parameter: its target, expected answer or first choice."""
    if param.type is DataType.NUMBER:
        if param.target is not None:
            return Quantity(param.target, param.unit)
        low = param.action_low if param.action_low is not None else param.alert_low
        high = param.action_high if param.action_high is not None else param.alert_high
        if low is not None and high is not None:
            return Quantity((low + high) / Decimal(2), param.unit)
        if low is not None or high is not None:
            return Quantity(low if low is not None else high, param.unit)  # type: ignore[arg-type]
        return None
    if param.type is DataType.BOOLEAN:
        return param.expected if isinstance(param.expected, bool) else True
    if param.type is DataType.CHOICE:
        return (param.expected_choices or param.choices or [""])[0]
    if param.type is DataType.BARCODE:
        return param.expected if isinstance(param.expected, str) else None
    if param.type is DataType.DATETIME:
        return None
    return "example"


__all__ = [
    "Calculation",
    "Flow",
    "FlowError",
    "FlowEvent",
    "FlowState",
    "IncompleteStep",
    "MaterialTarget",
    "OutOfTurn",
    "StepRun",
    "StepState",
    "StepStatus",
    "YieldError",
    "default_value",
]
