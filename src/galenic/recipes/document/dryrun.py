"""Dry run: walk a master record with example values before it is approved.

    report = dry_run(doc, values={"drying_cycle.lod": ["3.1 %", "2.7 %", "2.1 %"]})
    print(report.render_text())

Each step takes its values from ``values`` (keyed ``step.param`` or a bare parameter key; a list
gives one value per run of a repeating step, the last one repeating) or, by default, the
parameter's target (or expected answer, or first choice, or the middle of its limits). The walk
always takes the first available step in document order, so parallel branches appear one after
the other. The report shows the path taken (with skipped steps and why), every calculation with
its inputs and result, every limit that would fire, and the yield against its limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from galenic.recipes.document.flow import (
    Calculation,
    Flow,
    FlowError,
    FlowEvent,
    FlowState,
    default_value,
)
from galenic.recipes.document.model import DataType, MasterBatchRecord, Parameter, Source
from galenic.rules.expressions import Value, render
from galenic.rules.limits import Evaluation, InvalidValue
from galenic.rules.units import Quantity, UnitError
from galenic.rules.yields import YieldError, YieldResult

_EXAMPLE_TIME = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Check:
    """One captured or calculated value and its limit evaluation."""

    step: str
    run: int
    parameter: str
    value: str
    evaluation: Evaluation | None
    placeholder: bool = False  # no target/example existed: an invented value, not checked

    @property
    def fires(self) -> bool:
        return self.evaluation is not None and self.evaluation.excursion


@dataclass(frozen=True)
class PathEntry:
    step: str
    title: str
    path: str
    status: str  # completed | skipped | exhausted | blocked
    run: int
    reason: str = ""
    checks: tuple[Check, ...] = ()


@dataclass
class DryRun:
    code: str
    batch_size: Quantity
    path: list[PathEntry] = field(default_factory=list)
    calculations: list[Calculation] = field(default_factory=list)
    events: list[FlowEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    yield_result: YieldResult | None = None
    complete: bool = False

    @property
    def firing(self) -> list[Check]:
        return [c for entry in self.path for c in entry.checks if c.fires]

    @property
    def placeholders(self) -> list[Check]:
        return [c for entry in self.path for c in entry.checks if c.placeholder]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "batch_size": str(self.batch_size),
            "complete": self.complete,
            "path": [
                {
                    "step": e.step,
                    "title": e.title,
                    "path": e.path,
                    "status": e.status,
                    "run": e.run,
                    "reason": e.reason,
                    "checks": [
                        {
                            "parameter": c.parameter,
                            "value": c.value,
                            "placeholder": c.placeholder,
                            **(c.evaluation.as_dict() if c.evaluation else {}),
                        }
                        for c in e.checks
                    ],
                }
                for e in self.path
            ],
            "calculations": [
                {
                    "step": c.step,
                    "parameter": c.parameter,
                    "expression": c.expression,
                    "inputs": {k: render(v) for k, v in c.inputs.items()},
                    "result": render(c.result) if c.result is not None else None,
                    "error": c.error,
                }
                for c in self.calculations
            ],
            "firing": [
                {"step": c.step, "run": c.run, "parameter": c.parameter, "value": c.value}
                | (c.evaluation.as_dict() if c.evaluation else {})
                for c in self.firing
            ],
            "yield": self.yield_result.message if self.yield_result else None,
            "problems": list(self.problems),
        }

    def render_text(self) -> str:
        lines = [f"Dry run of {self.code} at batch size {self.batch_size}", ""]
        lines.append(f"Path ({len(self.path)} entries):")
        for n, entry in enumerate(self.path, 1):
            run = f" (run {entry.run})" if entry.run > 1 or entry.status == "exhausted" else ""
            head = f"{n:>3}. {entry.step}{run}: {entry.title}"
            if entry.status == "skipped":
                lines.append(f"{head}  SKIPPED: {entry.reason}")
                continue
            if entry.status in {"blocked", "exhausted"}:
                head += f"  {entry.status.upper()}: {entry.reason}"
            lines.append(head)
            for check in entry.checks:
                if check.placeholder:
                    verdict = "example only, not checked"
                elif check.evaluation is None:
                    verdict = "recorded"
                elif check.evaluation.excursion:
                    verdict = (
                        f"{check.evaluation.outcome.value.upper()}: {check.evaluation.message}"
                    )
                else:
                    verdict = "in range"
                lines.append(f"       {check.parameter} = {check.value}  [{verdict}]")
        lines.append("")
        lines.append(f"Calculations ({len(self.calculations)}):")
        lines.extend(f"  {c.describe()}" for c in self.calculations)
        lines.append("")
        firing = self.firing
        lines.append(f"Limits that would fire ({len(firing)}):")
        for c in firing:
            assert c.evaluation is not None
            run = f" run {c.run}" if c.run > 1 else ""
            lines.append(
                f"  {c.step}{run}.{c.parameter}: {c.evaluation.severity.value} "
                f"({c.evaluation.outcome.value}) {c.evaluation.message}"
            )
        if not firing:
            lines.append("  none")
        if self.yield_result is not None:
            lines.extend(["", f"Yield: {self.yield_result.message}"])
        if self.problems:
            lines.extend(["", "Problems:", *(f"  {p}" for p in self.problems)])
        lines.extend(["", "Result: " + ("complete" if self.complete else "NOT complete")])
        return "\n".join(lines) + "\n"


def _lookup_given(values: Mapping[str, Any], step: str, param: str, run: int) -> tuple[bool, Any]:
    for key in (f"{step}.{param}", param):
        if key in values:
            given = values[key]
            if isinstance(given, list | tuple):
                if not given:
                    return False, None
                return True, given[min(run - 1, len(given) - 1)]
            return True, given
    return False, None


def _placeholder(param: Parameter, n: int) -> Value:
    if param.type is DataType.NUMBER:
        return Quantity(Decimal(0), param.unit)
    if param.type is DataType.DATETIME:
        return _EXAMPLE_TIME + timedelta(minutes=15 * n)
    if param.type is DataType.BARCODE:
        if param.symbology.value == "gs1":
            return "(01)09501101530003(10)EXAMPLE"
        if param.symbology.value == "gtin":
            return "09501101530003"
        return "EXAMPLE-001"
    if param.type is DataType.CHOICE:
        return param.choices[0] if param.choices else "example"
    if param.type is DataType.BOOLEAN:
        return True
    return "example"


def dry_run(
    doc: MasterBatchRecord,
    *,
    values: Mapping[str, Any] | None = None,
    batch_size: Quantity | str | None = None,
    max_runs: int = 5000,
) -> DryRun:
    """Walk ``doc`` (which must be valid) with example values; see the module docstring."""
    given = dict(values or {})
    size = Quantity.parse(batch_size) if isinstance(batch_size, str) else batch_size
    flow = Flow(doc, batch_size=size)
    report = DryRun(doc.code, flow.batch_size)
    state = flow.start()
    seen_events = 0
    for n in range(max_runs):
        _take_events(report, flow, state.events[seen_events:])
        seen_events = len(state.events)
        available = state.available()
        if not available:
            break
        key = available[0]
        ref = flow.graph.by_key[key]
        run = state.status(key).iteration
        entered: dict[str, Value] = {}
        checks: list[Check] = []
        for param in ref.step.parameters:
            if param.source is Source.CALCULATED:
                continue
            found, raw = _lookup_given(given, key, param.key, run)
            placeholder = False
            if not found:
                raw = default_value(param)
                if param.scales and isinstance(raw, Quantity):
                    raw = Quantity(raw.magnitude * flow.scale, raw.unit)
                if raw is None:
                    raw = _placeholder(param, n)
                    placeholder = True
            try:
                value = param.coerce(raw)
            except InvalidValue as exc:
                report.problems.append(f"{key}.{param.key}: example value {raw!r} refused: {exc}")
                value = param.coerce(_placeholder(param, n))
                placeholder = True
            entered[param.key] = value
            evaluation = None if placeholder else _evaluate(flow, key, param, value)
            checks.append(Check(key, run, param.key, render(value), evaluation, placeholder))
        calculations = flow.calculate(state, key, entered)
        report.calculations.extend(calculations)
        for calc in calculations:
            calculated = flow.parameter(key, calc.parameter)
            if calc.result is None:
                report.problems.append(f"{key}.{calc.parameter}: {calc.error}")
                continue
            checks.append(
                Check(
                    key,
                    run,
                    calc.parameter,
                    render(calc.result),
                    _evaluate(flow, key, calculated, calc.result),
                )
            )
        try:
            state = state.complete(key, entered)
        except FlowError as exc:
            report.problems.append(str(exc))
            break
        report.path.append(
            PathEntry(key, ref.step.title, ref.path, "completed", run, "", tuple(checks))
        )
    else:
        report.problems.append(f"stopped after {max_runs} step runs")
    _take_events(report, flow, state.events[seen_events:])
    report.complete = state.is_complete
    report.yield_result = _yield(flow, state, report)
    return report


def _take_events(report: DryRun, flow: Flow, events: Sequence[FlowEvent]) -> None:
    """Skipped and blocked steps join the path; an exhausted loop marks its last run."""
    for event in events:
        report.events.append(event)
        if event.kind in {"skipped", "blocked"}:
            ref = flow.graph.by_key[event.step]
            report.path.append(
                PathEntry(event.step, ref.step.title, ref.path, event.kind, 0, event.reason)
            )
        elif event.kind == "exhausted" and report.path:
            last = report.path[-1]
            report.path[-1] = PathEntry(
                last.step, last.title, last.path, "exhausted", last.run, event.reason, last.checks
            )


def _evaluate(flow: Flow, step: str, param: Parameter, value: Value) -> Evaluation | None:
    try:
        return flow.evaluate(step, param.key, value)
    except (InvalidValue, UnitError):
        return None


def _yield(flow: Flow, state: FlowState, report: DryRun) -> YieldResult | None:
    if not flow.doc.theoretical_yield.actual:
        return None
    try:
        result = flow.yield_result(state)
    except (UnitError, YieldError) as exc:
        report.problems.append(f"yield: {exc}")
        return None
    if result is None:
        report.problems.append(f"no actual yield recorded in {flow.doc.theoretical_yield.actual!r}")
    return result


def parse_example_values(pairs: Sequence[str]) -> dict[str, list[str]]:
    """``["drying_cycle.lod=3.1 %", "drying_cycle.lod=2.2 %"]`` → ``{"drying_cycle.lod": [...]}``
    (for a command line ``--value`` option)."""
    result: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{pair!r}: write name=value, e.g. drying_cycle.lod=2.1 %")
        result.setdefault(name.strip(), []).append(value.strip())
    return result


__all__ = ["Check", "DryRun", "PathEntry", "dry_run", "parse_example_values"]
