"""The visual builder's forms: which fields each part of an MBR has, how a posted form becomes
an edit (``editing.EditOp``), and where each validation problem shows.

Every form posts ``kind`` (what it edits), ``path`` (where, in the same notation validation
uses) and its fields. Field problems are placed by path: a problem at
``unit_procedures[0].operations[1].steps[2].title`` shows beside that step's title field.
No database here: views pass in the document and get back ops and bound fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from galenic.recipes import editing
from galenic.recipes.document import Problem
from galenic.recipes.document.model import (
    Capture,
    ComponentRole,
    DataType,
    InstrumentKind,
    PackagingKind,
    Source,
    Symbology,
)
from galenic.rules.numbers import plain


class PostData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


def _options(enum: Iterable[Any], *, blank: str | None = None) -> tuple[tuple[str, str], ...]:
    items = [(e.value, e.value.replace("_", " ")) for e in enum]
    return ((("", blank),) if blank is not None else ()) + tuple(items)


@dataclass(frozen=True)
class FieldSpec:
    name: str  # dotted within the item: "title", "repeat.until"
    label: str
    kind: str = "text"  # text | long | number | int | bool | lines | csv | select | expected
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    wide: bool = False
    placeholder: str = ""


@dataclass(frozen=True)
class ItemSpec:
    kind: str
    title: str
    fields: tuple[FieldSpec, ...]
    # Lists inside the item that have their own forms: their problems show there.
    children: tuple[str, ...] = ()


F = FieldSpec

SPECS: dict[str, ItemSpec] = {
    s.kind: s
    for s in [
        ItemSpec(
            "header",
            "Master record",
            (
                F("title", "Title", wide=True),
                F("description", "Description", "long", wide=True),
                F("batch_size.size", "Batch size", "number"),
                F("batch_size.unit", "Batch size unit", placeholder="tablet, kg, L"),
                F("batch_size.min", "Smallest batch", "number"),
                F("batch_size.max", "Largest batch", "number"),
                F("theoretical_yield.quantity", "Theoretical yield", placeholder="300000 tablet"),
                F("theoretical_yield.low_percent", "Yield low limit (%)", "number"),
                F("theoretical_yield.high_percent", "Yield high limit (%)", "number"),
                F("theoretical_yield.precision", "Yield % decimals", "int"),
                F("theoretical_yield.actual", "Actual yield parameter", placeholder="step.param"),
                F(
                    "precautions",
                    "Special notations and precautions",
                    "lines",
                    help="One per line (211.186(b)(9)).",
                    wide=True,
                ),
            ),
            children=("product", "components", "packaging", "attachments", "unit_procedures"),
        ),
        ItemSpec(
            "product",
            "Product",
            (
                F("name", "Product name"),
                F("strength", "Strength", placeholder="500 mg"),
                F("dosage_form", "Dosage form", placeholder="film-coated tablet"),
                F("dosage_unit", "Dosage unit", placeholder="tablet"),
                F("unit_weight", "Weight of one unit", placeholder="600 mg"),
            ),
            children=("active_ingredients",),
        ),
        ItemSpec(
            "active",
            "Active ingredient",
            (
                F("material", "Component code"),
                F("amount_per_unit", "Amount per unit", placeholder="500 mg"),
            ),
        ),
        ItemSpec(
            "component",
            "Component",
            (
                F("code", "Code"),
                F("name", "Name"),
                F("role", "Role", "select", _options(ComponentRole)),
                F("quantity", "Quantity per batch", placeholder="150 kg"),
                F("tolerance", "Permitted variation", placeholder="0.5 % or 0.75 kg"),
                F("per_unit", "Per unit"),
                F("excess", "Excess", placeholder="2 %"),
                F("excess_reason", "Why the excess"),
            ),
        ),
        ItemSpec(
            "packaging",
            "Packaging item",
            (
                F("kind", "Kind", "select", _options(PackagingKind)),
                F("code", "Code"),
                F("description", "Description"),
                F("specimen", "Specimen (attachment id)"),
            ),
        ),
        ItemSpec(
            "attachment",
            "Attachment",
            (F("id", "Id (for attachment:id)"), F("description", "Description")),
        ),
        ItemSpec(
            "unit_procedure",
            "Unit procedure",
            (
                F("key", "Key"),
                F("title", "Title"),
                F("theoretical_output", "Theoretical output", placeholder="152 kg"),
            ),
            children=("operations",),
        ),
        ItemSpec(
            "operation",
            "Operation",
            (
                F("key", "Key"),
                F("title", "Title"),
                F(
                    "after",
                    "After operations",
                    "csv",
                    help="Keys, comma separated; empty: after the previous operation.",
                ),
            ),
            children=("steps",),
        ),
        ItemSpec(
            "step",
            "Step",
            (
                F("key", "Key"),
                F("title", "Title"),
                F("instructions", "Instructions", "long", wide=True, help="Safe Markdown."),
                F("precautions", "Precautions", "lines", wide=True, help="One per line."),
                F("completion.performer_signature", "Performer signs", "bool"),
                F("completion.verification", "Second-person verification", "bool"),
                F("completion.supervisor_approval", "Supervisor approval", "bool"),
                F("condition", "Runs only if", placeholder="ph > 5.5 pH", wide=True),
                F("repeat.until", "Repeat until", placeholder="ph_adjusted <= 5.5 pH"),
                F("repeat.max", "At most (runs)", "int"),
                F("duration.min", "Expected at least", placeholder="10 min"),
                F("duration.max", "Expected at most", placeholder="30 min"),
                F("sampling.description", "Sampling"),
                F("sampling.quantity", "Sample quantity", placeholder="20 mL"),
                F("sampling.destination", "Sample goes to"),
            ),
            children=("parameters", "materials", "equipment"),
        ),
        ItemSpec(
            "parameter",
            "Parameter",
            (
                F("key", "Key"),
                F("name", "Name"),
                F("type", "Type", "select", _options(DataType)),
                F("unit", "Unit", placeholder="mg, °C, %, pH"),
                F("source", "Source", "select", _options(Source)),
                F("target", "Target", "number"),
                F("action_low", "Action low", "number"),
                F("alert_low", "Alert low", "number"),
                F("alert_high", "Alert high", "number"),
                F("action_high", "Action high", "number"),
                F("precision", "Decimals", "int"),
                F("scales", "Limits scale with batch size", "bool"),
                F("required", "Required", "bool"),
                F("instrument.kind", "Instrument", "select", _options(InstrumentKind, blank="—")),
                F("instrument.tag", "Tag"),
                F("instrument.capture", "Capture", "select", _options(Capture, blank="—")),
                F("expression", "Calculation", wide=True, placeholder="mass / theoretical_yield"),
                F("choices", "Choices", "csv", help="Comma separated."),
                F("expected", "Expected answer", "expected", help="true/false, a choice, a code."),
                F("pattern", "Pattern"),
                F("symbology", "Barcode kind", "select", _options(Symbology)),
                F("max_length", "Maximum length", "int"),
                F("help", "Help for the operator", "long", wide=True),
            ),
        ),
        ItemSpec(
            "material",
            "Material addition",
            (
                F("material", "Component code"),
                F("quantity", "Quantity per batch", placeholder="150 kg"),
                F("tolerance", "Tolerance", placeholder="default: the component's"),
                F("weighed", "Weighed", "bool"),
                F("verified", "Second person verifies", "bool"),
                F("scales", "Scales with batch size", "bool"),
            ),
        ),
        ItemSpec(
            "equipment",
            "Equipment",
            (
                F("equipment_class", "Class", placeholder="balance"),
                F("equipment_id", "Unit", placeholder="HSG-001"),
                F("purpose", "Purpose"),
            ),
        ),
    ]
}

# What "add" inserts, and where (relative to the parent's path).
LIST_OF = {
    "active": "active_ingredients",
    "component": "components",
    "packaging": "packaging",
    "unit_procedure": "unit_procedures",
    "operation": "operations",
    "step": "steps",
    "parameter": "parameters",
    "material": "materials",
    "equipment": "equipment",
}


# --- paths and DOM ids -----------------------------------------------------------------------


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def slot_id(path: str) -> str:
    """A DOM id for a path: ``steps[2].title`` → ``p-steps-2-title``."""
    return "p-" + (re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-") or "record")


def form_id(kind: str, path: str) -> str:
    return f"f-{kind}-" + (re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-") or "record")


# --- values ----------------------------------------------------------------------------------


def _dig(data: Mapping[str, Any] | None, dotted: str) -> Any:
    node: Any = data or {}
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, list):
        return ("\n" if kind == "lines" else ", ").join(_text(v, "text") for v in value)
    if hasattr(value, "value"):
        return str(value.value)
    return str(value)


@dataclass
class BoundField:
    spec: FieldSpec
    path: str
    value: str
    checked: bool
    problems: list[str] = field(default_factory=list)

    @property
    def slot(self) -> str:
        return slot_id(self.path)

    @property
    def input_id(self) -> str:
        return "i" + self.slot[1:]


# Defaults the model applies when a field is absent (so the form shows what holds).
_BOOL_DEFAULTS = {
    ("step", "completion.performer_signature"): True,
    ("parameter", "required"): True,
    ("material", "weighed"): True,
    ("material", "verified"): True,
    ("material", "scales"): True,
}
_SELECT_DEFAULTS = {
    ("component", "role"): "excipient",
    ("parameter", "type"): "number",
    ("parameter", "source"): "manual",
    ("parameter", "symbology"): "any",
}


def bind(
    kind: str, path: str, item: Mapping[str, Any] | None, problems: Mapping[str, list[str]]
) -> list[BoundField]:
    spec = SPECS[kind]
    bound = []
    for f in spec.fields:
        raw = _dig(item, f.name)
        full = join(path, f.name)
        if f.kind == "bool":
            checked = bool(raw) if raw is not None else _BOOL_DEFAULTS.get((kind, f.name), False)
            bound.append(BoundField(f, full, "", checked, list(problems.get(full, []))))
            continue
        text = _text(raw, f.kind)
        if not text and f.kind == "select":
            text = _SELECT_DEFAULTS.get((kind, f.name), "")
        bound.append(BoundField(f, full, text, False, list(problems.get(full, []))))
    return bound


def _convert(spec: FieldSpec, post: PostData, prefix: str, item_type: str) -> Any:
    name = prefix + spec.name
    if spec.kind == "bool":
        return post.get(name) in ("on", "true", "1", "yes")
    raw = post.get(name)
    text = "" if raw is None else str(raw)
    if spec.kind not in ("long",):
        text = text.strip()
    if spec.kind == "long":
        text = text.replace("\r\n", "\n").strip("\n")
    if text == "":
        return None
    if spec.kind == "int":
        return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else text
    if spec.kind == "lines":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines or None
    if spec.kind == "csv":
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return parts or None
    if spec.kind == "expected":
        if item_type == "boolean" and text.lower() in ("true", "yes", "false", "no"):
            return text.lower() in ("true", "yes")
        if item_type == "choice" and "," in text:
            return [p.strip() for p in text.split(",") if p.strip()]
        return text
    return text


def values_from_post(kind: str, post: PostData, prefix: str = "") -> dict[str, Any]:
    """The item's fields as the posted form gives them, nested by group; an empty group (every
    field blank) becomes None so the field is removed and its default applies."""
    spec = SPECS[kind]
    item_type = str(post.get(prefix + "type") or "")
    values: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for f in spec.fields:
        value = _convert(f, post, prefix, item_type)
        if "." in f.name:
            group, sub = f.name.split(".", 1)
            groups.setdefault(group, {})[sub] = value
        else:
            values[f.name] = value
    for group, members in groups.items():
        kept = {k: v for k, v in members.items() if v is not None}
        values[group] = kept or None
    return values


def edits_for_set(kind: str, path: str, post: PostData) -> list[editing.EditOp]:
    values = values_from_post(kind, post)
    if kind == "header":
        # The header form holds only some top-level fields; groups are replaced whole.
        return [editing.EditOp("set", "", values=values)]
    return [editing.EditOp("set", path, values=values)]


def new_item(kind: str, data: Mapping[str, Any], parent: Any, post: PostData) -> dict[str, Any]:
    """What "add" inserts: posted fields where the add form has them, else a fresh keyed item."""
    siblings = list(parent or [])
    if kind == "step":
        return {"key": editing.new_step_key(data), "title": "New step"}
    if kind == "parameter":
        return {"key": editing.new_key_in(siblings, "param"), "name": "New parameter"}
    if kind == "operation":
        key = editing.new_key_in(siblings, "operation")
        return {"key": key, "title": "New operation"}
    if kind == "unit_procedure":
        ups = list(data.get("unit_procedures") or [])
        return {"key": editing.new_key_in(ups, "unit_procedure"), "title": "New unit procedure"}
    values = {k: v for k, v in values_from_post(kind, post, prefix="new_").items() if v is not None}
    if kind == "equipment" and not values:
        values = {"equipment_class": "balance"}
    if kind == "packaging" and "kind" not in values:
        values["kind"] = "container"
    return values


# --- where problems show ---------------------------------------------------------------------


def problems_by_path(problems: Sequence[Problem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for p in problems:
        grouped.setdefault(p.path, []).append(p.message)
    return grouped


def _under(path: str, prefix: str) -> bool:
    if not prefix:
        return True
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def item_problems(
    kind: str, path: str, problems: Sequence[Problem], *, field_paths: Iterable[str] = ()
) -> list[Problem]:
    """Problems of this item not shown beside one of its fields nor in a child's form."""
    spec = SPECS[kind]
    fields = set(field_paths) or {join(path, f.name) for f in spec.fields}
    children = [join(path, c) for c in spec.children]
    found = []
    for p in problems:
        if not _under(p.path, path) or p.path in fields:
            continue
        # A child list's own path (e.g. "components" missing) belongs to its section.
        if any(_under(p.path, c) for c in children):
            continue
        found.append(p)
    return found


def section_problems(path: str, problems: Sequence[Problem]) -> list[Problem]:
    """Problems about a whole list, e.g. ``packaging`` (no label) or ``unit_procedures``."""
    return [p for p in problems if p.path == path]


def anchor_for(path: str, anchors: set[str]) -> str:
    """The closest enclosing item (or field) that the page has an anchor for."""
    tokens = editing.parse_path(path) if _is_path(path) else []
    while tokens:
        candidate = editing.format_path(tokens)
        if candidate in anchors:
            return candidate
        tokens = tokens[:-1]
    return ""


def _is_path(path: str) -> bool:
    try:
        editing.parse_path(path)
    except editing.EditError:
        return False
    return True


# --- the builder page as a tree of item views ------------------------------------------------


@dataclass
class ItemView:
    kind: str
    path: str
    fields: list[BoundField]
    problems: list[Problem]
    label: str = ""
    index: int = 0
    count: int = 1
    children: dict[str, list[ItemView]] = field(default_factory=dict)
    child_problems: dict[str, list[Problem]] = field(default_factory=dict)
    problem_count: int = 0

    @property
    def form_id(self) -> str:
        return form_id(self.kind, self.path)

    @property
    def anchor(self) -> str:
        return slot_id(self.path).replace("p-", "a-", 1)

    @property
    def first(self) -> bool:
        return self.index == 0

    @property
    def last(self) -> bool:
        return self.index == self.count - 1

    def list_path(self, name: str) -> str:
        return join(self.path, name)

    @property
    def title(self) -> str:
        return SPECS[self.kind].title


@dataclass
class BuilderView:
    header: ItemView
    product: ItemView
    actives: list[ItemView]
    components: list[ItemView]
    packaging: list[ItemView]
    attachments: list[ItemView]
    unit_procedures: list[ItemView]
    problems: list[Problem]
    sections: dict[str, list[Problem]]
    anchors: dict[str, str]  # problem path → anchor id on the page
    add_forms: dict[str, list[BoundField]]
    operations: list[tuple[str, str]] = field(default_factory=list)  # (steps list path, label)

    def problem_links(self) -> list[tuple[Problem, str]]:
        return [(p, self.anchors.get(p.path, "")) for p in self.problems]

    def step(self, path: str) -> ItemView | None:
        for up in self.unit_procedures:
            for op in up.children.get("operations", []):
                for step in op.children.get("steps", []):
                    if step.path == path:
                        return step
        return None


def _count(path: str, problems: Sequence[Problem]) -> int:
    return sum(1 for p in problems if _under(p.path, path))


def _item(
    kind: str,
    path: str,
    data: Mapping[str, Any] | None,
    problems: Sequence[Problem],
    by_path: Mapping[str, list[str]],
    *,
    index: int = 0,
    count: int = 1,
    label: str = "",
) -> ItemView:
    return ItemView(
        kind=kind,
        path=path,
        fields=bind(kind, path, data, by_path),
        problems=item_problems(kind, path, problems),
        label=label,
        index=index,
        count=count,
        problem_count=_count(path, problems),
    )


def _items(
    kind: str,
    list_path: str,
    items: Sequence[Mapping[str, Any]] | None,
    problems: Sequence[Problem],
    by_path: Mapping[str, list[str]],
    label: str | tuple[str, ...],
) -> list[ItemView]:
    rows = list(items or [])
    keys = (label,) if isinstance(label, str) else label
    return [
        _item(
            kind,
            f"{list_path}[{i}]",
            row,
            problems,
            by_path,
            index=i,
            count=len(rows),
            label=str(next((row[k] for k in (*keys, "key", "code") if row.get(k)), "")),
        )
        for i, row in enumerate(rows)
    ]


def builder_view(data: Mapping[str, Any], problems: Sequence[Problem]) -> BuilderView:
    by_path = problems_by_path(problems)
    product = data.get("product") or {}
    ups = []
    for u, up in enumerate(data.get("unit_procedures") or []):
        up_path = f"unit_procedures[{u}]"
        up_view = _item(
            "unit_procedure",
            up_path,
            up,
            problems,
            by_path,
            index=u,
            count=len(data.get("unit_procedures") or []),
            label=str(up.get("title") or up.get("key")),
        )
        ops = []
        for o, op in enumerate(up.get("operations") or []):
            op_path = f"{up_path}.operations[{o}]"
            op_view = _item(
                "operation",
                op_path,
                op,
                problems,
                by_path,
                index=o,
                count=len(up.get("operations") or []),
                label=str(op.get("title") or op.get("key")),
            )
            steps = []
            for s, step in enumerate(op.get("steps") or []):
                step_path = f"{op_path}.steps[{s}]"
                step_view = _item(
                    "step",
                    step_path,
                    step,
                    problems,
                    by_path,
                    index=s,
                    count=len(op.get("steps") or []),
                    label=str(step.get("title") or step.get("key")),
                )
                for child, kind in (
                    ("parameters", "parameter"),
                    ("materials", "material"),
                    ("equipment", "equipment"),
                ):
                    child_path = join(step_path, child)
                    step_view.children[child] = _items(
                        kind,
                        child_path,
                        step.get(child),
                        problems,
                        by_path,
                        ("name", "material", "equipment_id", "equipment_class"),
                    )
                    step_view.child_problems[child] = section_problems(child_path, problems)
                steps.append(step_view)
            op_view.children["steps"] = steps
            op_view.child_problems["steps"] = section_problems(join(op_path, "steps"), problems)
            ops.append(op_view)
        up_view.children["operations"] = ops
        up_view.child_problems["operations"] = section_problems(
            join(up_path, "operations"), problems
        )
        ups.append(up_view)

    anchors_paths = {""}
    view = BuilderView(
        header=_item("header", "", data, problems, by_path),
        product=_item("product", "product", product, problems, by_path),
        actives=_items(
            "active",
            "product.active_ingredients",
            product.get("active_ingredients"),
            problems,
            by_path,
            "material",
        ),
        components=_items(
            "component", "components", data.get("components"), problems, by_path, "code"
        ),
        packaging=_items(
            "packaging", "packaging", data.get("packaging"), problems, by_path, "code"
        ),
        attachments=_items(
            "attachment", "attachments", data.get("attachments"), problems, by_path, "filename"
        ),
        unit_procedures=ups,
        problems=list(problems),
        sections={
            name: section_problems(name, problems)
            for name in (
                "product.active_ingredients",
                "components",
                "packaging",
                "attachments",
                "unit_procedures",
            )
        },
        anchors={},
        add_forms={
            kind: bind(kind, "", None, {})
            for kind in ("active", "component", "packaging", "material", "equipment")
        },
    )

    view.operations = [
        (join(op.path, "steps"), f"{up.label} / {op.label}")
        for up in ups
        for op in up.children["operations"]
    ]

    def collect(items: Iterable[ItemView]) -> None:
        # Down to steps: a step's parameters, materials and equipment load when it is opened,
        # so a problem in them links to the step.
        for item in items:
            anchors_paths.add(item.path)
            if item.kind != "step":
                for children in item.children.values():
                    collect(children)

    collect(
        [view.product, *view.actives, *view.components, *view.packaging, *view.attachments, *ups]
    )
    for section in view.sections:
        anchors_paths.add(section)
    anchor_ids = {p: slot_id(p).replace("p-", "a-", 1) for p in anchors_paths}
    for problem in problems:
        target = anchor_for(problem.path, anchors_paths) if problem.path else ""
        view.anchors[problem.path] = anchor_ids.get(target, "a-record")
    return view
