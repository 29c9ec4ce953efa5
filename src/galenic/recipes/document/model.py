"""The master batch record document (21 CFR 211.186), ISA-88 shaped.

    MasterBatchRecord
      product, batch_size, components, theoretical_yield, packaging, precautions, attachments
      unit_procedures[] → operations[] → steps[]
        step: instructions, parameters[], materials[], equipment[], sampling, completion,
              duration, condition, repeat

The model is deliberately lenient about *completeness* so a draft can be held and edited: fields
the regulation requires default to empty, and ``validate.validate`` reports every gap with its
path. It is strict about *form*: unknown fields, malformed keys and non-numbers are refused when
the document is built. No Django import here: the Django app stores the canonical JSON
(``io.dump_json``) and signs ``io.content_hash``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from galenic.rules import limits as limit_rules
from galenic.rules.expressions import Value
from galenic.rules.numbers import NumberError, parse_decimal
from galenic.rules.units import Quantity

FORMAT = "galenic.mbr/1"


def _number(value: object) -> Decimal:
    if value is None:
        raise ValueError("a number is required")
    try:
        return parse_decimal(value)
    except NumberError as exc:
        raise ValueError(str(exc)) from exc


Number = Annotated[
    Decimal,
    BeforeValidator(_number),
    WithJsonSchema({"type": "number"}),
]
Key = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$"),
    Field(
        description="Stable identifier: lowercase letters, digits and _, starting with a letter."
    ),
]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
Code = Annotated[
    str,
    StringConstraints(pattern=CODE_PATTERN),
    Field(description="Material, equipment or document code, e.g. API-PCM-001."),
]
Text = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
QuantityText = Annotated[
    str,
    StringConstraints(max_length=80),
    Field(
        description="A number and a unit, e.g. '500 mg', '150 kg', '0.5 %'.", examples=["500 mg"]
    ),
]
UnitText = Annotated[
    str,
    StringConstraints(max_length=32),
    Field(examples=["mg", "kg", "mL", "g/mL", "°C", "%", "rpm", "N", "mm", "min", "tablet"]),
]
ExpressionText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1000),
    Field(examples=["dry_granule_mass / theoretical_yield", "lod <= 2.5 %"]),
]
Places = Annotated[
    int, Field(ge=0, le=10, description="Decimal places a value is rounded to before comparing.")
]


class Base(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, use_attribute_docstrings=True
    )


# ---------------------------------------------------------------------------------------------
# Header: product, batch, components, yield, packaging (211.186(b)(1) to (8))
# ---------------------------------------------------------------------------------------------


class ActiveIngredient(Base):
    material: Code
    """Code of the component that is the active ingredient."""
    amount_per_unit: QuantityText = ""
    """Amount of active ingredient per dosage unit, e.g. '500 mg' (211.186(b)(2))."""


class Product(Base):
    name: Text = ""
    """Product name (211.186(b)(1))."""
    strength: Text = ""
    """Strength as labelled, e.g. '500 mg' or '15 mg/5 mL' (211.186(b)(1))."""
    dosage_form: Text = ""
    """Dosage form, e.g. 'film-coated tablet', 'oral solution' (211.186(b)(1))."""
    dosage_unit: UnitText = ""
    """What one dosage unit is, as a unit: 'tablet', 'capsule', 'mL'."""
    unit_weight: QuantityText = ""
    """Total weight or measure of one dosage unit, e.g. '600 mg' (211.186(b)(2))."""
    active_ingredients: list[ActiveIngredient] = []
    """Active ingredients per dosage unit (211.186(b)(2))."""


class BatchSize(Base):
    size: Number
    """Nominal batch size that every quantity in this record is stated for."""
    unit: UnitText
    """Unit of the batch size, e.g. 'tablet', 'kg', 'L'."""
    min: Number | None = None
    """Smallest batch this record may be scaled to."""
    max: Number | None = None
    """Largest batch this record may be scaled to."""

    def quantity(self) -> Quantity:
        return Quantity(self.size, self.unit)


class ComponentRole(StrEnum):
    ACTIVE = "active"
    EXCIPIENT = "excipient"
    PROCESSING_AID = "processing_aid"  # e.g. purified water removed on drying


class Component(Base):
    code: Code
    """Specific code of the component (211.186(b)(3))."""
    name: Text = ""
    """Name of the component (211.186(b)(3))."""
    role: ComponentRole = ComponentRole.EXCIPIENT
    quantity: QuantityText = ""
    """Quantity for the nominal batch size, in the record's one unit system (211.186(b)(4))."""
    tolerance: QuantityText = ""
    """Permitted variation: '0.5 %' of the quantity or an amount such as '0.75 kg' (211.186(b)(4))."""
    per_unit: QuantityText | None = None
    """Amount per dosage unit, for information."""
    excess: QuantityText | None = None
    """Calculated excess (overage), e.g. '2 %' (211.186(b)(5))."""
    excess_reason: Text = ""
    """Why the excess is added."""


class TheoreticalYield(Base):
    quantity: QuantityText = ""
    """Theoretical yield at the nominal batch size (211.186(b)(7))."""
    low_percent: Number | None = None
    """Lowest actual yield, in % of theoretical, that needs no investigation."""
    high_percent: Number | None = None
    """Highest actual yield, in % of theoretical, that needs no investigation."""
    precision: Places = 1
    """Decimals the yield % is rounded to before it is compared with the limits."""
    actual: Text | None = None
    """The parameter that records the actual yield, as 'step.parameter'."""


class PackagingKind(StrEnum):
    CONTAINER = "container"
    CLOSURE = "closure"
    LABEL = "label"
    OTHER = "other"


class PackagingItem(Base):
    kind: PackagingKind
    code: Code
    description: Text = ""
    specimen: Key | None = None
    """Attachment id of the label specimen (211.186(b)(8))."""


class Attachment(Base):
    id: Key
    filename: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    media_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$")]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    description: Text = ""


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------


class DataType(StrEnum):
    NUMBER = "number"
    TEXT = "text"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    BARCODE = "barcode"


class Source(StrEnum):
    MANUAL = "manual"
    INSTRUMENT = "instrument"
    CALCULATED = "calculated"


class InstrumentKind(StrEnum):
    BALANCE = "balance"
    TAG = "tag"


class Capture(StrEnum):
    AT_CONFIRM = "at_confirm"  # the reading when the operator confirms
    MINIMUM = "minimum"  # over the step's duration (tags)
    MAXIMUM = "maximum"
    MEAN = "mean"


class Instrument(Base):
    kind: InstrumentKind
    tag: Text | None = None
    """Logical tag name (e.g. 'impeller_power'), bound to a device through the tag map at run time."""
    capture: Capture = Capture.AT_CONFIRM


class Symbology(StrEnum):
    ANY = "any"
    GTIN = "gtin"
    GS1 = "gs1"


class Parameter(Base):
    key: Key
    name: Text = ""
    type: DataType = DataType.NUMBER
    unit: UnitText = ""
    """Unit of a number; target and limits are in this unit."""
    target: Number | None = None
    alert_low: Number | None = None
    alert_high: Number | None = None
    action_low: Number | None = None
    action_high: Number | None = None
    precision: Places | None = None
    scales: bool = False
    """Target and limits are stated for the nominal batch size and scale with the batch size
    (e.g. a dispensed mass); otherwise they apply as written."""
    required: bool = True
    source: Source = Source.MANUAL
    instrument: Instrument | None = None
    expression: ExpressionText | None = None
    """For calculated parameters: how the value is computed."""
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = []
    expected: bool | str | list[str] | None = None
    """Expected answer: true/false for boolean, one or more choices, or an exact barcode."""
    pattern: Text | None = None
    """Regular expression a text or barcode must match entirely."""
    symbology: Symbology = Symbology.ANY
    max_length: Annotated[int, Field(ge=1, le=2000)] | None = None
    help: LongText = ""

    def numeric_limits(self) -> limit_rules.NumericLimits:
        return limit_rules.NumericLimits(
            unit=self.unit,
            target=self.target,
            alert_low=self.alert_low,
            alert_high=self.alert_high,
            action_low=self.action_low,
            action_high=self.action_high,
            precision=self.precision,
        )

    @property
    def expected_choices(self) -> list[str]:
        if isinstance(self.expected, str) and not isinstance(self.expected, bool):
            return [self.expected]
        if isinstance(self.expected, list):
            return list(self.expected)
        return []

    def coerce(self, raw: object, *, allow_decimal_comma: bool = False) -> Value:
        """Turn captured input into this parameter's value type, or raise ``InvalidValue``."""
        if self.type is DataType.NUMBER:
            return limit_rules.to_quantity(raw, self.unit, allow_decimal_comma=allow_decimal_comma)
        if self.type is DataType.BOOLEAN:
            return limit_rules.to_boolean(raw)
        if self.type is DataType.DATETIME:
            return limit_rules.to_datetime(raw)
        if not isinstance(raw, str):
            raise limit_rules.InvalidValue("expected text")
        if self.type is DataType.CHOICE and raw not in self.choices:
            raise limit_rules.InvalidValue(f"{raw!r} is not one of: {', '.join(self.choices)}")
        return raw

    def evaluate(self, value: object) -> limit_rules.Evaluation:
        """Check a value against this parameter's limits (see ``galenic.rules.limits``)."""
        if self.type is DataType.NUMBER:
            return limit_rules.evaluate_number(value, self.numeric_limits())
        if self.type is DataType.CHOICE:
            return limit_rules.evaluate_choice(value, self.choices, self.expected_choices)
        if self.type is DataType.BOOLEAN:
            answer = self.expected if isinstance(self.expected, bool) else None
            return limit_rules.evaluate_boolean(value, answer)
        if self.type is DataType.DATETIME:
            return limit_rules.evaluate_datetime(value)
        if self.type is DataType.BARCODE:
            code = self.expected if isinstance(self.expected, str) else None
            return limit_rules.evaluate_barcode(
                value, symbology=self.symbology.value, pattern=self.pattern, expected=code
            )
        return limit_rules.evaluate_text(
            value, max_length=self.max_length or limit_rules.MAX_TEXT, pattern=self.pattern
        )


class MaterialAddition(Base):
    material: Code
    """Component code."""
    quantity: QuantityText
    """Quantity at the nominal batch size; scaled with the batch size unless scales is false."""
    tolerance: QuantityText | None = None
    """'0.5 %' or an amount; defaults to the component's permitted variation."""
    weighed: bool = True
    """Weighed or measured at this step (211.101(c))."""
    verified: bool = True
    """Checked by a second person (211.101(c)(d)); the step then needs verification."""
    scales: bool = True


class EquipmentRequirement(Base):
    equipment_class: Text | None = None
    """Any released unit of this class, chosen at run time (e.g. 'balance')."""
    equipment_id: Code | None = None
    """One specific unit (e.g. 'HSG-001')."""
    purpose: Text = ""


class Completion(Base):
    performer_signature: bool = True
    verification: bool = False
    """A second person verifies the step (never the performer)."""
    supervisor_approval: bool = False


class Duration(Base):
    min: QuantityText | None = None
    max: QuantityText | None = None


class Sampling(Base):
    description: Text
    quantity: QuantityText | None = None
    destination: Text = "QC laboratory"


class Repeat(Base):
    until: ExpressionText
    """Repeat the step until this holds (evaluated after each completion)."""
    max: int | None = None
    """The most times the step may run; reaching it without 'until' holding ends the loop and is
    reported so execution can raise an exception."""


class Step(Base):
    key: Key
    title: Text = ""
    instructions: LongText = ""
    """Safe Markdown subset; images as ![text](attachment:id)."""
    precautions: list[Text] = []
    parameters: list[Parameter] = []
    materials: list[MaterialAddition] = []
    equipment: list[EquipmentRequirement] = []
    sampling: Sampling | None = None
    completion: Completion = Completion()
    duration: Duration | None = None
    """Expected duration range; a step outside it is an exception."""
    condition: ExpressionText | None = None
    """The step runs only if this holds when it is reached; otherwise it is skipped, with the reason."""
    repeat: Repeat | None = None
    training: list[Code] = []
    """Courses (e.g. SOP codes) whoever records, performs or verifies this step must have
    current training for (21 CFR 11.10(i), 211.25(a)); checked when they act."""

    def parameter(self, key: str) -> Parameter | None:
        return next((p for p in self.parameters if p.key == key), None)


class Operation(Base):
    key: Key
    title: Text = ""
    after: list[Key] | None = None
    """Operations (of the same unit procedure) that must finish before this one starts. Absent: the
    previous operation. Two operations after the same one run side by side (parallel branches)."""
    steps: list[Step] = []


class UnitProcedure(Base):
    key: Key
    title: Text = ""
    theoretical_output: QuantityText | None = None
    """Theoretical weight or measure at the end of this phase (211.186(b)(6))."""
    operations: list[Operation] = []


class MasterBatchRecord(Base):
    format: Literal["galenic.mbr/1"] = "galenic.mbr/1"
    code: Code
    """Identifier of the master record, e.g. MBR-PCM500."""
    title: Text = ""
    description: LongText = ""
    product: Product = Product()
    batch_size: BatchSize | None = None
    components: list[Component] = []
    theoretical_yield: TheoreticalYield = TheoreticalYield()
    packaging: list[PackagingItem] = []
    precautions: list[Text] = []
    attachments: list[Attachment] = []
    unit_procedures: list[UnitProcedure] = []

    # -- navigation ------------------------------------------------------------------------
    def walk_steps(self) -> Iterator[StepRef]:
        for u, up in enumerate(self.unit_procedures):
            for o, op in enumerate(up.operations):
                for s, step in enumerate(op.steps):
                    yield StepRef(
                        f"unit_procedures[{u}].operations[{o}].steps[{s}]", up, op, step, (u, o, s)
                    )

    def step(self, key: str) -> Step | None:
        return next((ref.step for ref in self.walk_steps() if ref.step.key == key), None)

    def component(self, code: str) -> Component | None:
        return next((c for c in self.components if c.code == code), None)

    def to_data(self) -> dict[str, Any]:
        """Plain data (Decimals kept) without default values: the canonical content."""
        return self.model_dump(mode="python", exclude_defaults=True)


@dataclass(frozen=True)
class StepRef:
    path: str
    unit_procedure: UnitProcedure
    operation: Operation
    step: Step
    index: tuple[int, int, int]


__all__ = [
    "FORMAT",
    "ActiveIngredient",
    "Attachment",
    "BatchSize",
    "Capture",
    "Completion",
    "Component",
    "ComponentRole",
    "DataType",
    "Duration",
    "EquipmentRequirement",
    "Instrument",
    "InstrumentKind",
    "MasterBatchRecord",
    "MaterialAddition",
    "Operation",
    "PackagingItem",
    "PackagingKind",
    "Parameter",
    "Product",
    "Repeat",
    "Sampling",
    "Source",
    "Step",
    "StepRef",
    "Symbology",
    "TheoreticalYield",
    "UnitProcedure",
]
