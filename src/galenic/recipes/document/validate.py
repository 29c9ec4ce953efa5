"""Validation of a master record: every problem, each with its path and a reason.

``validate(data_or_document)`` never stops at the first problem. Paths look like
``unit_procedures[1].operations[0].steps[3].parameters[2].action_high``. Each problem carries a
stable ``code`` (the rule), listed in ``RULES`` and documented in docs/mbr-format.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from galenic.recipes.document import richtext
from galenic.recipes.document.graph import RESERVED_NAMES, Graph
from galenic.recipes.document.model import (
    Component,
    DataType,
    InstrumentKind,
    MasterBatchRecord,
    Parameter,
    Source,
    Step,
    StepRef,
)
from galenic.rules import units
from galenic.rules.expressions import (
    BOOL,
    DATETIME,
    FUNCTIONS,
    KEYWORDS,
    TEXT,
    Expression,
    ExpressionError,
    Type,
    number_type,
)
from galenic.rules.limits import InvalidValue, check_pattern
from galenic.rules.numbers import plain
from galenic.rules.units import Quantity, UnitError

MAX_REPEATS = 1000

RULES: dict[str, str] = {
    "structure": "the document does not have the shape of a master record (wrong field, type or format)",
    "cfr.missing": "a field 21 CFR 211.186 requires is missing",
    "key.duplicate": "two items share a key or code that must be unique",
    "key.reserved": "a key is a reserved word of the expression language",
    "unit.unknown": "a unit is not a known unit",
    "unit.incompatible": "two quantities that must be comparable have incompatible units",
    "unit.systems": "components are stated in more than one unit system",
    "quantity.invalid": "a quantity is not a number followed by a unit",
    "limits.order": "limits are out of order (action low ≤ alert low ≤ target ≤ alert high ≤ action high)",
    "limits.type": "limits or a unit are given for a value that is not a number",
    "param.choices": "choices are missing, duplicated, or the expected value is not one of them",
    "param.expected": "the expected value does not fit the parameter's type",
    "param.pattern": "a pattern is not a valid regular expression",
    "source.expression": "a calculated parameter lacks its expression, or a non-calculated one has one",
    "source.instrument": "an instrument source is missing or does not fit the parameter",
    "expr.syntax": "an expression cannot be parsed",
    "expr.type": "an expression mixes types or units, or gives the wrong kind of result",
    "expr.percent": "a % value multiplies by 100 by hand (a ratio is already shown in %)",
    "ref.unknown": "an expression or reference names a value that does not exist",
    "ref.ambiguous": "a bare parameter key matches parameters in several steps",
    "ref.later": "an expression uses a value not recorded before it is evaluated",
    "ref.optional": "an expression uses a value that may never be recorded",
    "ref.cycle": "calculated parameters depend on each other in a cycle",
    "flow.after": "an operation's 'after' names an unknown or later operation",
    "flow.unreachable": "a step can never run",
    "loop.unbounded": "a repeat has no (or an unreasonable) maximum count",
    "loop.static": "a repeat's 'until' does not depend on anything the step records",
    "structure.empty": "a unit procedure without operations or an operation without steps",
    "material.unknown": "a material or active ingredient is not in the component list",
    "material.verification": "a second-person-verified addition is in a step without verification",
    "equipment.spec": "an equipment requirement must name a class or a unit, not both",
    "duration.order": "an expected duration is not a time range from min to max",
    "batch.range": "the batch size or its scaling range is not positive and ordered",
    "attachment.unknown": "an attachment reference does not match an attachment of the record",
    "instructions.unsafe": "instructions use HTML or links/images outside the safe Markdown subset",
}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path or '(document)'}: {self.message} [{self.code}]"


class DocumentInvalid(ValueError):
    """Raised by ``parse``/``require_valid``; ``problems`` lists every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        head = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"master record is not valid: {head}{more}")


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------

_UNION_TAGS = {"bool", "str", "int", "decimal", "list[str]", "none", "float", "is-instance"}


def format_location(loc: tuple[Any, ...]) -> str:
    path = ""
    for item in loc:
        if isinstance(item, int):
            path += f"[{item}]"
            continue
        text = str(item)
        if text in _UNION_TAGS or "[" in text or text.startswith(("function-", "constrained-")):
            continue
        path += f".{text}" if path else text
    return path


def _structure_problems(error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for item in error.errors(include_url=False):
        path = format_location(tuple(item["loc"]))
        kind = item["type"]
        if kind == "missing":
            message = "required"
        elif kind == "extra_forbidden":
            message = "unknown field (check the spelling; see the published JSON Schema)"
        elif kind == "literal_error" and path == "format":
            message = "format must be 'galenic.mbr/1'"
        elif kind == "string_pattern_mismatch":
            message = _pattern_message(path)
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(Problem(path, "structure", message))
    return problems


def _pattern_message(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    if last in {"key", "specimen", "id"} or path.endswith("]") or ".after" in path:
        return "a key is lowercase letters, digits and _, starting with a letter (max 64)"
    if last in {"code", "material", "equipment_id"}:
        return "a code is letters, digits and . _ / - (max 64), starting with a letter or digit"
    if last == "sha256":
        return "sha256 is 64 lowercase hexadecimal characters"
    if last == "media_type":
        return "media type like image/png"
    return "has the wrong form"


def parse(data: Mapping[str, Any] | MasterBatchRecord) -> MasterBatchRecord:
    """Build the document from plain data; raises ``DocumentInvalid`` on any structural problem
    (semantic problems are left to ``validate``)."""
    if isinstance(data, MasterBatchRecord):
        return data
    if not isinstance(data, Mapping):
        raise DocumentInvalid([Problem("", "structure", "a master record is a mapping of fields")])
    try:
        return MasterBatchRecord.model_validate(dict(data))
    except ValidationError as exc:
        raise DocumentInvalid(_structure_problems(exc)) from None


def validate(data: Mapping[str, Any] | MasterBatchRecord) -> list[Problem]:
    """Every problem of the record (empty list: valid), sorted by document order of paths."""
    try:
        doc = parse(data)
    except DocumentInvalid as exc:
        return exc.problems
    return _Validator(doc).run()


def require_valid(data: Mapping[str, Any] | MasterBatchRecord) -> MasterBatchRecord:
    doc = parse(data)
    problems = _Validator(doc).run()
    if problems:
        raise DocumentInvalid(problems)
    return doc


# ---------------------------------------------------------------------------------------------
# Semantics
# ---------------------------------------------------------------------------------------------


class _Validator:
    def __init__(self, doc: MasterBatchRecord) -> None:
        self.doc = doc
        self.graph = Graph.build(doc)
        self.problems: list[Problem] = []
        self.attachments = {a.id for a in doc.attachments}

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message))

    def run(self) -> list[Problem]:
        self.required_fields()
        self.keys()
        self.header()
        self.components()
        self.packaging()
        self.structure()
        for ref in self.graph.steps:
            self.step(ref)
        self.theoretical_yield()
        # stable, de-duplicated, in the order found (document order)
        unique: dict[tuple[str, str, str], Problem] = {}
        for p in self.problems:
            unique.setdefault((p.path, p.code, p.message), p)
        return list(unique.values())

    # -- helpers ---------------------------------------------------------------------------
    def quantity(self, path: str, text: str | None, *, what: str = "quantity") -> Quantity | None:
        if text is None or text == "":
            return None
        try:
            return Quantity.parse(text)
        except units.UnknownUnit as exc:
            self.add(path, "unit.unknown", str(exc))
        except UnitError as exc:
            self.add(path, "quantity.invalid", f"{what}: {exc}")
        return None

    def unit(self, path: str, text: str) -> bool:
        try:
            units.check_unit(text)
        except units.UnknownUnit as exc:
            self.add(path, "unit.unknown", str(exc))
            return False
        return True

    def tolerance(self, path: str, text: str | None, base: Quantity | None) -> None:
        tol = self.quantity(path, text, what="tolerance")
        if tol is None:
            return
        if tol.magnitude < 0:
            self.add(path, "limits.order", "a tolerance cannot be negative")
        if units.is_percent(tol.unit) or base is None:
            return
        if not tol.compatible(base):
            self.add(
                path,
                "unit.incompatible",
                f"tolerance {tol} is neither a % nor in a unit comparable with {base}",
            )

    # -- 211.186 completeness ---------------------------------------------------------------
    def required_fields(self) -> None:
        doc = self.doc

        def need(path: str, present: object, what: str, clause: str) -> None:
            if present in (None, "", []):
                self.add(path, "cfr.missing", f"{what} is required (21 CFR 211.186{clause})")

        need("title", doc.title, "a title", "")
        need("product.name", doc.product.name, "the product name", "(b)(1)")
        need("product.strength", doc.product.strength, "the strength", "(b)(1)")
        need("product.dosage_form", doc.product.dosage_form, "the dosage form", "(b)(1)")
        need(
            "product.unit_weight",
            doc.product.unit_weight,
            "the total weight of a dosage unit",
            "(b)(2)",
        )
        need(
            "product.active_ingredients",
            doc.product.active_ingredients,
            "the active ingredient per dosage unit",
            "(b)(2)",
        )
        for i, active in enumerate(doc.product.active_ingredients):
            need(
                f"product.active_ingredients[{i}].amount_per_unit",
                active.amount_per_unit,
                "the amount per dosage unit",
                "(b)(2)",
            )
        need("batch_size", doc.batch_size, "the batch size", "")
        need("components", doc.components, "the complete list of components", "(b)(3)")
        for i, comp in enumerate(doc.components):
            need(f"components[{i}].name", comp.name, "the component name", "(b)(3)")
            need(f"components[{i}].quantity", comp.quantity, "the component quantity", "(b)(4)")
            need(f"components[{i}].tolerance", comp.tolerance, "the permitted variation", "(b)(4)")
        ty = doc.theoretical_yield
        need("theoretical_yield.quantity", ty.quantity, "the theoretical yield", "(b)(7)")
        need(
            "theoretical_yield.low_percent", ty.low_percent, "the lower yield limit in %", "(b)(7)"
        )
        need(
            "theoretical_yield.high_percent",
            ty.high_percent,
            "the upper yield limit in %",
            "(b)(7)",
        )
        if not any(up.theoretical_output for up in doc.unit_procedures):
            self.add(
                "unit_procedures",
                "cfr.missing",
                "state the theoretical weight or measure at the appropriate phases: at least one "
                "unit procedure needs theoretical_output (21 CFR 211.186(b)(6))",
            )
        kinds = {item.kind.value for item in doc.packaging}
        for kind in ("container", "label"):
            if kind not in kinds:
                self.add(
                    "packaging",
                    "cfr.missing",
                    f"describe at least one {kind} (21 CFR 211.186(b)(8))",
                )
        need("precautions", doc.precautions, "special notations and precautions", "(b)(9)")
        need("unit_procedures", doc.unit_procedures, "the manufacturing instructions", "(b)(9)")
        if self.graph.steps and not any(ref.step.sampling for ref in self.graph.steps):
            self.add(
                "unit_procedures",
                "cfr.missing",
                "no step describes sampling (21 CFR 211.186(b)(9))",
            )
        for ref in self.graph.steps:
            need(f"{ref.path}.title", ref.step.title, "a step title", "(b)(9)")
            need(
                f"{ref.path}.instructions", ref.step.instructions, "the step instructions", "(b)(9)"
            )

    # -- keys --------------------------------------------------------------------------------
    def keys(self) -> None:
        doc = self.doc

        def unique(items: list[tuple[str, str]], what: str) -> None:
            seen: dict[str, str] = {}
            for path, key in items:
                if key in seen:
                    self.add(
                        path, "key.duplicate", f"{what} {key!r} is already used at {seen[key]}"
                    )
                else:
                    seen[key] = path

        unique(
            [(f"components[{i}].code", c.code) for i, c in enumerate(doc.components)],
            "component code",
        )
        unique(
            [(f"attachments[{i}].id", a.id) for i, a in enumerate(doc.attachments)], "attachment id"
        )
        unique(
            [(f"packaging[{i}].code", p.code) for i, p in enumerate(doc.packaging)],
            "packaging code",
        )
        unique(
            [(f"unit_procedures[{u}].key", up.key) for u, up in enumerate(doc.unit_procedures)],
            "unit procedure key",
        )
        for u, up in enumerate(doc.unit_procedures):
            unique(
                [
                    (f"unit_procedures[{u}].operations[{o}].key", op.key)
                    for o, op in enumerate(up.operations)
                ],
                "operation key",
            )
        unique([(f"{ref.path}.key", ref.step.key) for ref in self.graph.steps], "step key")
        reserved = RESERVED_NAMES | KEYWORDS | FUNCTIONS
        for ref in self.graph.steps:
            if ref.step.key in reserved:
                self.add(f"{ref.path}.key", "key.reserved", f"{ref.step.key!r} is a reserved word")
            unique(
                [
                    (f"{ref.path}.parameters[{i}].key", p.key)
                    for i, p in enumerate(ref.step.parameters)
                ],
                "parameter key",
            )
            for i, p in enumerate(ref.step.parameters):
                if p.key in reserved:
                    self.add(
                        f"{ref.path}.parameters[{i}].key",
                        "key.reserved",
                        f"{p.key!r} is a reserved word of the expression language",
                    )

    # -- header ------------------------------------------------------------------------------
    def header(self) -> None:
        doc = self.doc
        batch = doc.batch_size
        if batch is not None and self.unit("batch_size.unit", batch.unit):
            if batch.size <= 0:
                self.add("batch_size.size", "batch.range", "the batch size must be positive")
            if batch.min is not None and (batch.min <= 0 or batch.min > batch.size):
                self.add(
                    "batch_size.min",
                    "batch.range",
                    f"the smallest batch ({plain(batch.min)}) must be positive and at most the "
                    f"nominal size {plain(batch.size)}",
                )
            if batch.max is not None and batch.max < batch.size:
                self.add(
                    "batch_size.max",
                    "batch.range",
                    f"the largest batch ({plain(batch.max)}) is below the nominal size {plain(batch.size)}",
                )
        if doc.product.dosage_unit:
            self.unit("product.dosage_unit", doc.product.dosage_unit)
        self.quantity("product.unit_weight", doc.product.unit_weight)
        codes = {c.code: c for c in doc.components}
        for i, active in enumerate(doc.product.active_ingredients):
            path = f"product.active_ingredients[{i}]"
            self.quantity(f"{path}.amount_per_unit", active.amount_per_unit)
            comp = codes.get(active.material)
            if comp is None:
                self.add(
                    f"{path}.material",
                    "material.unknown",
                    f"active ingredient {active.material!r} is not in the component list",
                )
            elif comp.role.value != "active":
                self.add(
                    f"{path}.material",
                    "material.unknown",
                    f"component {active.material!r} is listed as {comp.role.value}, not active",
                )

    def components(self) -> None:
        systems: dict[str, str] = {}
        for i, comp in enumerate(self.doc.components):
            path = f"components[{i}]"
            q = self.quantity(f"{path}.quantity", comp.quantity)
            if q is not None:
                if q.magnitude <= 0:
                    self.add(
                        f"{path}.quantity", "limits.order", "a component quantity must be positive"
                    )
                systems.setdefault(units.unit_system(q.unit), f"{comp.code} ({q.unit})")
            self.tolerance(f"{path}.tolerance", comp.tolerance, q)
            per_unit = self.quantity(f"{path}.per_unit", comp.per_unit)
            if per_unit is not None:
                systems.setdefault(
                    units.unit_system(per_unit.unit), f"{comp.code} ({per_unit.unit})"
                )
            excess = self.quantity(f"{path}.excess", comp.excess)
            if (
                excess is not None
                and q is not None
                and not units.is_percent(excess.unit)
                and not excess.compatible(q)
            ):
                self.add(
                    f"{path}.excess",
                    "unit.incompatible",
                    f"excess {excess} is neither a % nor comparable with {q}",
                )
        if len(systems) > 1:
            described = " and ".join(f"{s} ({example})" for s, example in sorted(systems.items()))
            self.add(
                "components",
                "unit.systems",
                f"components must be stated in one unit system (21 CFR 211.186(b)(4)); found {described}",
            )

    def packaging(self) -> None:
        for i, item in enumerate(self.doc.packaging):
            path = f"packaging[{i}]"
            if item.kind.value == "label" and not item.specimen:
                self.add(
                    f"{path}.specimen",
                    "cfr.missing",
                    "a specimen or copy of each label is required (21 CFR 211.186(b)(8))",
                )
            if item.specimen and item.specimen not in self.attachments:
                self.add(
                    f"{path}.specimen",
                    "attachment.unknown",
                    f"no attachment with id {item.specimen!r}",
                )

    def structure(self) -> None:
        for u, up in enumerate(self.doc.unit_procedures):
            if not up.operations:
                self.add(
                    f"unit_procedures[{u}].operations",
                    "structure.empty",
                    "a unit procedure needs operations",
                )
            self.quantity(f"unit_procedures[{u}].theoretical_output", up.theoretical_output)
            for o, op in enumerate(up.operations):
                if not op.steps:
                    self.add(
                        f"unit_procedures[{u}].operations[{o}].steps",
                        "structure.empty",
                        "an operation needs at least one step",
                    )
        for u, o, a, message in self.graph.after_problems:
            self.add(f"unit_procedures[{u}].operations[{o}].after[{a}]", "flow.after", message)

    # -- steps ---------------------------------------------------------------------------------
    def step(self, ref: StepRef) -> None:
        step = ref.step
        path = ref.path
        for problem in richtext.problems(step.instructions, self.attachments):
            code = (
                "attachment.unknown" if "unknown attachment" in problem else "instructions.unsafe"
            )
            self.add(f"{path}.instructions", code, problem)
        for i, param in enumerate(step.parameters):
            self.parameter(ref, f"{path}.parameters[{i}]", param)
        self.calculation_cycles(ref)
        verification_needed = False
        for i, add in enumerate(step.materials):
            mpath = f"{path}.materials[{i}]"
            comp = self.doc.component(add.material)
            base = self.quantity(f"{mpath}.quantity", add.quantity)
            if base is not None and base.magnitude <= 0:
                self.add(
                    f"{mpath}.quantity", "quantity.invalid", "a material quantity must be positive"
                )
            if comp is None:
                self.add(
                    f"{mpath}.material",
                    "material.unknown",
                    f"{add.material!r} is not in the component list",
                )
            else:
                comp_q = self._component_quantity(comp)
                if base is not None and comp_q is not None and not base.compatible(comp_q):
                    self.add(
                        f"{mpath}.quantity",
                        "unit.incompatible",
                        f"{base} is not comparable with the component quantity {comp_q}",
                    )
            self.tolerance(f"{mpath}.tolerance", add.tolerance, base)
            verification_needed |= add.verified
        if verification_needed and not step.completion.verification:
            self.add(
                f"{path}.completion.verification",
                "material.verification",
                "this step adds materials verified by a second person (21 CFR 211.101): "
                "set completion.verification to true",
            )
        for i, eq in enumerate(step.equipment):
            if (eq.equipment_class is None) == (eq.equipment_id is None):
                self.add(
                    f"{path}.equipment[{i}]",
                    "equipment.spec",
                    "name either equipment_class or equipment_id",
                )
        if step.sampling is not None:
            self.quantity(f"{path}.sampling.quantity", step.sampling.quantity)
        if step.duration is not None:
            self.duration(path, step)
        if step.condition is not None:
            result = self.expression(f"{path}.condition", step.condition, ref, "condition")
            if result is not None:
                expr, typ = result
                if typ is not None and typ.kind != "bool":
                    self.add(
                        f"{path}.condition",
                        "expr.type",
                        f"a condition must be true/false, not {typ.describe()}",
                    )
                elif expr.is_constant():
                    try:
                        value = expr.evaluate({})
                    except ExpressionError:
                        value = True
                    if value is False:
                        self.add(
                            f"{path}.condition",
                            "flow.unreachable",
                            "the condition is always false: the step can never run",
                        )
        if step.repeat is not None:
            self.repeat(ref)

    def _component_quantity(self, comp: Component) -> Quantity | None:
        try:
            return Quantity.parse(comp.quantity) if comp.quantity else None
        except UnitError:
            return None

    def duration(self, path: str, step: Step) -> None:
        assert step.duration is not None
        low = self.quantity(f"{path}.duration.min", step.duration.min)
        high = self.quantity(f"{path}.duration.max", step.duration.max)
        for name, q in (("min", low), ("max", high)):
            if q is not None and not q.compatible("min"):
                self.add(f"{path}.duration.{name}", "unit.incompatible", f"{q} is not a duration")
        if (
            low is not None
            and high is not None
            and low.compatible("min")
            and high.compatible("min")
            and low > high
        ):
            self.add(
                f"{path}.duration.max", "duration.order", f"max {high} is shorter than min {low}"
            )

    def repeat(self, ref: StepRef) -> None:
        step = ref.step
        repeat = step.repeat
        assert repeat is not None
        path = f"{ref.path}.repeat"
        if repeat.max is None:
            self.add(f"{path}.max", "loop.unbounded", "a repeat needs a maximum count (max)")
        elif not 1 <= repeat.max <= MAX_REPEATS:
            self.add(f"{path}.max", "loop.unbounded", f"max must be from 1 to {MAX_REPEATS}")
        result = self.expression(f"{path}.until", repeat.until, ref, "until")
        if result is None:
            return
        expr, typ = result
        if typ is not None and typ.kind != "bool":
            self.add(
                f"{path}.until", "expr.type", f"'until' must be true/false, not {typ.describe()}"
            )
        own = {f"{step.key}.{p.key}" for p in step.parameters}
        resolved = {self.graph.resolve(name, step.key)[0] for name in expr.references}
        if not own & resolved:
            self.add(
                f"{path}.until",
                "loop.static",
                "'until' uses none of this step's own values, so repeating cannot change it",
            )

    # -- parameters ------------------------------------------------------------------------------
    def parameter(self, ref: StepRef, path: str, param: Parameter) -> None:
        is_number = param.type is DataType.NUMBER
        limits_given = [
            name
            for name in (
                "target",
                "alert_low",
                "alert_high",
                "action_low",
                "action_high",
                "precision",
            )
            if getattr(param, name) is not None
        ]
        unit_ok = True
        if is_number:
            unit_ok = self.unit(f"{path}.unit", param.unit)
            for field_name, reason in param.numeric_limits().problems():
                self.add(f"{path}.{field_name}", "limits.order", reason)
        else:
            if param.unit:
                self.add(f"{path}.unit", "limits.type", f"a {param.type.value} value has no unit")
            if param.scales:
                self.add(f"{path}.scales", "limits.type", "only numbers scale with the batch size")
            for name in limits_given:
                self.add(f"{path}.{name}", "limits.type", f"{name} applies only to numbers")
        self.parameter_type(path, param)
        # source
        if param.source is Source.CALCULATED:
            if not param.expression:
                self.add(
                    f"{path}.expression",
                    "source.expression",
                    "a calculated parameter needs an expression",
                )
            else:
                result = self.expression(
                    f"{path}.expression", param.expression, ref, "calculation", param
                )
                if result is not None:
                    self.calculated_type(path, param, result[0], result[1], unit_ok)
        elif param.expression:
            self.add(
                f"{path}.expression",
                "source.expression",
                "only a calculated parameter (source: calculated) has an expression",
            )
        if param.source is Source.INSTRUMENT:
            inst = param.instrument
            if inst is None:
                self.add(
                    f"{path}.instrument",
                    "source.instrument",
                    "name the instrument (balance or tag)",
                )
            else:
                if not is_number:
                    self.add(f"{path}.type", "source.instrument", "instruments deliver numbers")
                if inst.kind is InstrumentKind.BALANCE:
                    if unit_ok and is_number and not units.compatible(param.unit, "g"):
                        self.add(
                            f"{path}.unit",
                            "source.instrument",
                            f"a balance weighs: {param.unit!r} is not a mass",
                        )
                    if inst.capture.value != "at_confirm":
                        self.add(
                            f"{path}.instrument.capture",
                            "source.instrument",
                            "a balance reading is captured at confirm",
                        )
                if inst.kind is InstrumentKind.TAG and not inst.tag:
                    self.add(f"{path}.instrument.tag", "source.instrument", "name the tag")
        elif param.instrument is not None:
            self.add(
                f"{path}.instrument",
                "source.instrument",
                "only a parameter with source: instrument has an instrument",
            )

    def parameter_type(self, path: str, param: Parameter) -> None:
        kind = param.type
        expected = param.expected
        if kind is DataType.CHOICE:
            if not param.choices:
                self.add(f"{path}.choices", "param.choices", "a choice needs its choices")
            if len(set(param.choices)) != len(param.choices):
                self.add(f"{path}.choices", "param.choices", "choices are duplicated")
            if isinstance(expected, bool):
                self.add(
                    f"{path}.expected", "param.expected", "expected is one or more of the choices"
                )
            for value in param.expected_choices:
                if value not in param.choices:
                    self.add(
                        f"{path}.expected",
                        "param.choices",
                        f"expected {value!r} is not one of the choices",
                    )
        elif param.choices:
            self.add(f"{path}.choices", "param.choices", "only a choice parameter has choices")
        if kind is DataType.BOOLEAN and expected is not None and not isinstance(expected, bool):
            self.add(f"{path}.expected", "param.expected", "expected is true or false")
        if (
            kind is DataType.BARCODE
            and expected is not None
            and not (isinstance(expected, str) and not isinstance(expected, bool))
        ):
            self.add(f"{path}.expected", "param.expected", "expected is the exact barcode text")
        if kind in {DataType.NUMBER, DataType.TEXT, DataType.DATETIME} and expected is not None:
            self.add(
                f"{path}.expected",
                "param.expected",
                f"a {kind.value} has no expected value (use limits or a pattern)",
            )
        if param.pattern is not None:
            if kind not in {DataType.TEXT, DataType.BARCODE}:
                self.add(
                    f"{path}.pattern", "param.pattern", "only text and barcodes have a pattern"
                )
            try:
                check_pattern(param.pattern)
            except InvalidValue as exc:
                self.add(f"{path}.pattern", "param.pattern", str(exc))

    def calculated_type(
        self, path: str, param: Parameter, expr: Expression, typ: Type | None, unit_ok: bool
    ) -> None:
        if typ is None:
            return
        wanted = {
            DataType.NUMBER: "number",
            DataType.BOOLEAN: "bool",
            DataType.TEXT: "text",
            DataType.CHOICE: "text",
            DataType.DATETIME: "datetime",
            DataType.BARCODE: "text",
        }[param.type]
        if typ.kind != wanted:
            self.add(
                f"{path}.expression",
                "expr.type",
                f"the expression gives {typ.describe()}, but the parameter is a {param.type.value}",
            )
            return
        if wanted == "number" and unit_ok:
            declared = number_type(param.unit)
            if typ.dimension != declared.dimension:
                self.add(
                    f"{path}.expression",
                    "unit.incompatible",
                    f"the expression gives {typ.describe()}, not comparable with {param.unit or 'a plain number'}",
                )
            elif declared.percent and expr.multiplies_by_hundred():
                self.add(
                    f"{path}.expression",
                    "expr.percent",
                    "the unit is %, so a ratio such as a / b is already shown as a percentage; "
                    "remove the * 100 (or write * 100 %)",
                )

    def calculation_cycles(self, ref: StepRef) -> None:
        step = ref.step
        calculated = {
            p.key: p for p in step.parameters if p.source is Source.CALCULATED and p.expression
        }
        edges: dict[str, set[str]] = {}
        for key, param in calculated.items():
            try:
                expr = Expression.parse(param.expression or "")
            except ExpressionError:
                continue
            targets: set[str] = set()
            for name in expr.references:
                qualified, _ = self.graph.resolve(name, step.key)
                if qualified and qualified.startswith(f"{step.key}."):
                    target = qualified.split(".", 1)[1]
                    if target in calculated:
                        targets.add(target)
            edges[key] = targets
        in_cycle: set[str] = set()
        for start in edges:
            stack = [(start, [start])]
            while stack:
                node, trail = stack.pop()
                for nxt in edges.get(node, ()):
                    if nxt == start:
                        in_cycle.update(trail)
                    elif nxt not in trail:
                        stack.append((nxt, [*trail, nxt]))
        for i, param in enumerate(step.parameters):
            if param.key in in_cycle:
                self.add(
                    f"{ref.path}.parameters[{i}].expression",
                    "ref.cycle",
                    f"{param.key!r} depends on itself through other calculations of this step",
                )

    # -- expressions ------------------------------------------------------------------------------
    def value_type(self, qualified: str, here: StepRef | None = None) -> Type | None:
        if qualified in RESERVED_NAMES:
            if qualified in {"batch_size", "nominal_batch_size"}:
                batch = self.doc.batch_size
                if batch is None or not units.is_unit(batch.unit):
                    return None
                return number_type(batch.unit)
            if qualified == "theoretical_output":
                text = here.unit_procedure.theoretical_output if here is not None else None
            else:
                text = self.doc.theoretical_yield.quantity
            try:
                return number_type(Quantity.parse(text).unit) if text else None
            except UnitError:
                return None
        found = self.graph.values.get(qualified)
        if found is None:
            return None
        param = found.param
        if param.type is DataType.NUMBER:
            if not units.is_unit(param.unit):
                return None
            return number_type(param.unit)
        if param.type is DataType.BOOLEAN:
            return BOOL
        if param.type is DataType.DATETIME:
            return DATETIME
        return TEXT

    def expression(
        self,
        path: str,
        source: str,
        ref: StepRef,
        kind: str,
        param: Parameter | None = None,
    ) -> tuple[Expression, Type | None] | None:
        try:
            expr = Expression.parse(source)
        except ExpressionError as exc:
            self.add(path, "expr.syntax", str(exc))
            return None
        here = ref.step.key
        resolved: dict[str, str] = {}
        usable = True
        for name in expr.references:
            qualified, problem = self.graph.resolve(name, here if kind != "condition" else None)
            if qualified is None:
                code = "ref.ambiguous" if "ambiguous" in problem else "ref.unknown"
                lead = "the condition refers to " if kind == "condition" else ""
                self.add(path, code, f"{lead}{problem}" if lead else problem)
                usable = False
                continue
            resolved[name] = qualified
            if qualified == "theoretical_output" and not ref.unit_procedure.theoretical_output:
                self.add(
                    path,
                    "ref.unknown",
                    f"unit procedure {ref.unit_procedure.key!r} states no theoretical_output",
                )
                usable = False
                continue
            if qualified in RESERVED_NAMES:
                continue
            target = self.graph.values[qualified]
            if target.step == here:
                if kind == "condition":
                    self.add(
                        path,
                        "ref.later",
                        f"{name!r} is recorded in this step, but a condition is decided before the step runs",
                    )
                elif param is not None and target.param.key == param.key:
                    self.add(path, "ref.cycle", f"{param.key!r} cannot be calculated from itself")
                continue
            if not self.graph.precedes(target.step, here):
                if self.graph.order.get(target.step, 0) > self.graph.order.get(here, 0):
                    why = f"{name!r} is recorded later, in step {target.step!r}"
                else:
                    why = f"{name!r} is recorded in step {target.step!r}, which runs in a parallel branch"
                self.add(path, "ref.later", f"{why}; use only values recorded before step {here!r}")
                continue
            source_step = self.graph.by_key[target.step].step
            if source_step.condition is not None:
                self.add(
                    path,
                    "ref.optional",
                    f"{name!r} comes from conditional step {target.step!r}, which may be skipped",
                )
            elif not target.param.required:
                self.add(path, "ref.optional", f"{name!r} is optional and may never be recorded")
        if not usable:
            return expr, None
        types = {name: self.value_type(q, ref) for name, q in resolved.items()}
        if any(t is None for t in types.values()):
            return expr, None
        analysis = expr.analyse({k: v for k, v in types.items() if v is not None})
        for error in analysis.errors:
            self.add(path, "expr.type", str(error))
        return expr, (analysis.type if not analysis.errors else None)

    # -- flow, yield ------------------------------------------------------------------------------
    def theoretical_yield(self) -> None:
        ty = self.doc.theoretical_yield
        quantity = self.quantity("theoretical_yield.quantity", ty.quantity)
        if (
            ty.low_percent is not None
            and ty.high_percent is not None
            and ty.low_percent > ty.high_percent
        ):
            self.add(
                "theoretical_yield.high_percent",
                "limits.order",
                f"high_percent {plain(ty.high_percent)} is below low_percent {plain(ty.low_percent)}",
            )
        for name in ("low_percent", "high_percent"):
            value: Decimal | None = getattr(ty, name)
            if value is not None and not 0 <= value <= 1000:
                self.add(
                    f"theoretical_yield.{name}",
                    "limits.order",
                    "a yield limit is a % from 0 to 1000",
                )
        unit_weight = None
        if self.doc.product.unit_weight:
            try:
                unit_weight = Quantity.parse(self.doc.product.unit_weight)
            except UnitError:
                unit_weight = None
        batch = self.doc.batch_size
        if (
            quantity is not None
            and batch is not None
            and units.is_unit(batch.unit)
            and not _bridgeable(quantity.unit, batch.unit, unit_weight)
        ):
            self.add(
                "theoretical_yield.quantity",
                "unit.incompatible",
                f"theoretical yield {quantity} is not comparable with the batch size unit {batch.unit!r}",
            )
        if ty.actual:
            qualified, problem = self.graph.resolve(ty.actual)
            if qualified is None or qualified in RESERVED_NAMES:
                self.add(
                    "theoretical_yield.actual",
                    "ref.unknown",
                    problem or f"{ty.actual!r} is not a parameter",
                )
                return
            target = self.graph.values[qualified]
            param = target.param
            if self.graph.by_key[target.step].step.condition is not None or not param.required:
                self.add(
                    "theoretical_yield.actual",
                    "ref.optional",
                    f"{ty.actual!r} may never be recorded (optional or in a conditional step)",
                )
            if param.type is not DataType.NUMBER:
                self.add("theoretical_yield.actual", "expr.type", f"{ty.actual!r} is not a number")
            elif (
                quantity is not None
                and units.is_unit(param.unit)
                and not _bridgeable(param.unit, quantity.unit, unit_weight)
            ):
                self.add(
                    "theoretical_yield.actual",
                    "unit.incompatible",
                    f"{ty.actual!r} is in {param.unit!r}, not comparable with {quantity}",
                )


def _bridgeable(a: str, b: str, unit_weight: Quantity | None) -> bool:
    if units.compatible(a, b):
        return True
    if unit_weight is None:
        return False
    from galenic.rules.yields import bridge

    try:
        bridge(Quantity(Decimal(1), a), b, unit_weight)
    except (UnitError, ValueError):
        return False
    return True


__all__ = [
    "RULES",
    "DocumentInvalid",
    "Problem",
    "format_location",
    "parse",
    "require_valid",
    "validate",
]
