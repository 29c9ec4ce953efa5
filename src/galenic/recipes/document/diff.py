"""Semantic diff between two versions of a master record.

Items are matched by their stable keys (steps by key across the whole record, parameters by key
within a step, materials by code within a step, components/packaging by code, unit procedures and
operations by key), never by position, so a moved step is reported as moved, not as one removal
plus one addition. A step whose key changed but whose content is the same is reported as re-keyed.

    changes = diff(old, new)
    changes.render_text()      # readable, grouped by area
    changes.as_dict()          # structured data for the API and the UI
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from galenic.recipes.document.io import content_hash, to_data
from galenic.recipes.document.model import MasterBatchRecord, Operation, Step
from galenic.rules.numbers import plain

AREAS = (
    "header",
    "components",
    "packaging",
    "attachments",
    "structure",
    "steps",
    "parameters",
    "limits",
    "materials",
    "equipment",
    "flow",
)
AREA_TITLES = {
    "header": "Product, batch size and yield",
    "components": "Components",
    "packaging": "Packaging and labels",
    "attachments": "Attachments",
    "structure": "Unit procedures and operations",
    "steps": "Steps",
    "parameters": "Parameters",
    "limits": "Limits",
    "materials": "Material additions",
    "equipment": "Equipment",
    "flow": "Flow (order, conditions, repeats)",
}
LIMIT_FIELDS = {
    "target",
    "alert_low",
    "alert_high",
    "action_low",
    "action_high",
    "precision",
    "scales",
}
FLOW_STEP_FIELDS = ("condition", "repeat")


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed | moved | renamed | rekeyed
    area: str
    key: str  # what changed: "components[API-PCM]", "drying_cycle", "drying_cycle.lod", ...
    field: str = ""
    old: Any = None
    new: Any = None
    summary: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "area": self.area,
            "key": self.key,
            "field": self.field,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "summary": self.summary,
        }


@dataclass
class DocumentDiff:
    old_hash: str
    new_hash: str
    changes: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def by_area(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for area in AREAS:
            items = [c for c in self.changes if c.area == area]
            if items:
                grouped[area] = items
        return grouped

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "count": len(self.changes),
            "changes": [c.as_dict() for c in self.changes],
        }

    def render_text(self) -> str:
        if self.is_empty:
            return "No changes.\n"
        marks = {"added": "+", "removed": "-"}
        lines = [f"{len(self.changes)} change(s) from {self.old_hash[:12]} to {self.new_hash[:12]}"]
        for area, items in self.by_area().items():
            lines.extend(["", AREA_TITLES[area]])
            lines.extend(f"  {marks.get(c.kind, '~')} {c.summary}" for c in items)
        return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def show(value: Any) -> str:
    """A value as a person reads it."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, str):
        one_line = value if "\n" not in value else value.replace("\n", " ")
        return f'"{one_line[:77]}…"' if len(one_line) > 80 else f'"{one_line}"'
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of nested mappings by dotted path; lists are leaves (compared whole)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


class _Differ:
    def __init__(self, old: MasterBatchRecord, new: MasterBatchRecord) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []

    def add(self, kind: str, area: str, key: str, summary: str, **extra: Any) -> None:
        self.changes.append(Change(kind, area, key, summary=summary, **extra))

    def fields(
        self, area: str, key: str, label: str, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        a, b = _flatten(old), _flatten(new)
        for name in [*a, *(n for n in b if n not in a)]:
            before, after = a.get(name), b.get(name)
            if before == after:
                continue
            self.add(
                "changed",
                area,
                key,
                f"{f'{label} ' if label else ''}{name}: {show(before)} → {show(after)}",
                field=name,
                old=before,
                new=after,
            )

    # -- header ------------------------------------------------------------------------------
    def header(self) -> None:
        old, new = to_data(self.old), to_data(self.new)
        for section in (
            "code",
            "title",
            "description",
            "product",
            "batch_size",
            "theoretical_yield",
            "precautions",
        ):
            before: dict[str, Any] = {section: old[section]} if section in old else {}
            after: dict[str, Any] = {section: new[section]} if section in new else {}
            self.fields("header", section, "", before, after)

    def keyed(
        self,
        area: str,
        noun: str,
        old: list[dict[str, Any]],
        new: list[dict[str, Any]],
        key: str,
    ) -> None:
        before = {item[key]: item for item in old}
        after = {item[key]: item for item in new}
        for name, item in after.items():
            if name not in before:
                self.add(
                    "added",
                    area,
                    f"{noun} {name}",
                    f"added {noun} {name} {_label(item)}".rstrip(),
                    new=item,
                )
        for name, item in before.items():
            if name not in after:
                self.add(
                    "removed",
                    area,
                    f"{noun} {name}",
                    f"removed {noun} {name} {_label(item)}".rstrip(),
                    old=item,
                )
        for name in after:
            if name in before:
                self.fields(area, f"{noun} {name}", f"{noun} {name}", before[name], after[name])

    # -- procedure -----------------------------------------------------------------------------
    def structure(self) -> None:
        old_ups = {up.key: (i, up) for i, up in enumerate(self.old.unit_procedures)}
        new_ups = {up.key: (i, up) for i, up in enumerate(self.new.unit_procedures)}
        for key, (i, up) in new_ups.items():
            if key not in old_ups:
                self.add(
                    "added",
                    "structure",
                    key,
                    f'added unit procedure {key} "{up.title}" at position {i + 1}',
                )
        for key, (_i, up) in old_ups.items():
            if key not in new_ups:
                self.add("removed", "structure", key, f'removed unit procedure {key} "{up.title}"')
        common_old = [k for k in old_ups if k in new_ups]
        common_new = [k for k in new_ups if k in old_ups]
        for key in _moved(common_old, common_new):
            self.add(
                "moved",
                "structure",
                key,
                f"moved unit procedure {key} from position {old_ups[key][0] + 1} to {new_ups[key][0] + 1}",
            )
        for key in common_new:
            a, b = old_ups[key][1], new_ups[key][1]
            if a.title != b.title:
                self.add(
                    "renamed",
                    "structure",
                    key,
                    f'renamed unit procedure {key}: "{a.title}" → "{b.title}"',
                    field="title",
                    old=a.title,
                    new=b.title,
                )
            if a.theoretical_output != b.theoretical_output:
                self.add(
                    "changed",
                    "header",
                    key,
                    f"theoretical output of {key}: {show(a.theoretical_output)} → {show(b.theoretical_output)}",
                    field="theoretical_output",
                    old=a.theoretical_output,
                    new=b.theoretical_output,
                )
        self.operations()

    def operations(self) -> None:
        def index(doc: MasterBatchRecord) -> dict[str, tuple[str, int, Operation]]:
            return {
                f"{up.key}/{op.key}": (up.key, o, op)
                for up in doc.unit_procedures
                for o, op in enumerate(up.operations)
            }

        before, after = index(self.old), index(self.new)
        for key, (_up, o, op) in after.items():
            if key not in before:
                self.add(
                    "added",
                    "structure",
                    key,
                    f'added operation {key} "{op.title}" at position {o + 1}',
                )
        for key, (_up, _o, op) in before.items():
            if key not in after:
                self.add("removed", "structure", key, f'removed operation {key} "{op.title}"')
        for up_key in {k.split("/")[0] for k in after}:
            old_order = [k for k in before if k.startswith(f"{up_key}/") and k in after]
            new_order = [k for k in after if k.startswith(f"{up_key}/") and k in before]
            for key in _moved(old_order, new_order):
                self.add(
                    "moved",
                    "structure",
                    key,
                    f"moved operation {key} from position {before[key][1] + 1} to {after[key][1] + 1}",
                )
        for key, (_up, _o, op) in after.items():
            if key not in before:
                continue
            old_op = before[key][2]
            if old_op.title != op.title:
                self.add(
                    "renamed",
                    "structure",
                    key,
                    f'renamed operation {key}: "{old_op.title}" → "{op.title}"',
                    field="title",
                    old=old_op.title,
                    new=op.title,
                )
            if old_op.after != op.after:
                self.add(
                    "changed",
                    "flow",
                    key,
                    f"operation {key} runs after: {_after(old_op.after)} → {_after(op.after)}",
                    field="after",
                    old=old_op.after,
                    new=op.after,
                )

    def steps(self) -> None:
        old_steps = {ref.step.key: ref for ref in self.old.walk_steps()}
        new_steps = {ref.step.key: ref for ref in self.new.walk_steps()}
        added = [k for k in new_steps if k not in old_steps]
        removed = [k for k in old_steps if k not in new_steps]
        # a removed and an added step with the same content: the key changed
        rekeyed: dict[str, str] = {}
        for gone in removed:
            body = _without_key(old_steps[gone].step)
            for fresh in added:
                if fresh not in rekeyed.values() and _without_key(new_steps[fresh].step) == body:
                    rekeyed[gone] = fresh
                    break
        for gone, fresh in rekeyed.items():
            self.add(
                "rekeyed",
                "steps",
                fresh,
                f"step {gone} is now keyed {fresh} (content unchanged)",
                old=gone,
                new=fresh,
            )
        for key in added:
            if key in rekeyed.values():
                continue
            ref = new_steps[key]
            self.add(
                "added",
                "steps",
                key,
                f'added step {key} "{ref.step.title}" in {ref.unit_procedure.key}/{ref.operation.key} at position {ref.index[2] + 1}',
                new=ref.step.title,
            )
        for key in removed:
            if key in rekeyed:
                continue
            ref = old_steps[key]
            self.add(
                "removed",
                "steps",
                key,
                f'removed step {key} "{ref.step.title}" from {ref.unit_procedure.key}/{ref.operation.key}',
                old=ref.step.title,
            )
        # moves: a new parent, or out of order relative to the other common steps of its parent
        common = [k for k in new_steps if k in old_steps]
        moved: set[str] = set()
        for key in common:
            a, b = old_steps[key], new_steps[key]
            if (a.unit_procedure.key, a.operation.key) != (b.unit_procedure.key, b.operation.key):
                moved.add(key)
        by_parent: dict[str, list[str]] = {}
        for key in common:
            if key in moved:
                continue
            ref = new_steps[key]
            by_parent.setdefault(f"{ref.unit_procedure.key}/{ref.operation.key}", []).append(key)
        for keys in by_parent.values():
            old_order = sorted(keys, key=lambda k: old_steps[k].index)
            moved.update(_moved(old_order, keys))
        for key in common:
            if key in moved:
                a, b = old_steps[key], new_steps[key]
                self.add(
                    "moved",
                    "flow",
                    key,
                    f"moved step {key} from {a.unit_procedure.key}/{a.operation.key} #{a.index[2] + 1} "
                    f"to {b.unit_procedure.key}/{b.operation.key} #{b.index[2] + 1}",
                    old=f"{a.unit_procedure.key}/{a.operation.key}#{a.index[2] + 1}",
                    new=f"{b.unit_procedure.key}/{b.operation.key}#{b.index[2] + 1}",
                )
        for key in common:
            self.step(key, old_steps[key].step, new_steps[key].step)

    def step(self, key: str, a: Step, b: Step) -> None:
        if a.title != b.title:
            self.add(
                "renamed",
                "steps",
                key,
                f'renamed step {key}: "{a.title}" → "{b.title}"',
                field="title",
                old=a.title,
                new=b.title,
            )
        da = a.model_dump(mode="python", exclude_defaults=True)
        db = b.model_dump(mode="python", exclude_defaults=True)
        for name in (
            "instructions",
            "precautions",
            "sampling",
            "completion",
            "duration",
            *FLOW_STEP_FIELDS,
        ):
            area = "flow" if name in FLOW_STEP_FIELDS else "steps"
            before = {name: da[name]} if name in da else {}
            after = {name: db[name]} if name in db else {}
            self.fields(area, key, f"step {key}", before, after)
        self.parameters(key, a, b)
        self.materials(key, da.get("materials", []), db.get("materials", []))
        old_eq, new_eq = da.get("equipment", []), db.get("equipment", [])
        for item in new_eq:
            if item not in old_eq:
                self.add(
                    "added", "equipment", key, f"step {key} now requires {show(item)}", new=item
                )
        for item in old_eq:
            if item not in new_eq:
                self.add(
                    "removed",
                    "equipment",
                    key,
                    f"step {key} no longer requires {show(item)}",
                    old=item,
                )

    def parameters(self, key: str, a: Step, b: Step) -> None:
        before = {p.key: p.model_dump(mode="python", exclude_defaults=True) for p in a.parameters}
        after = {p.key: p.model_dump(mode="python", exclude_defaults=True) for p in b.parameters}
        for name, data in after.items():
            if name not in before:
                self.add(
                    "added",
                    "parameters",
                    f"{key}.{name}",
                    f'added parameter {key}.{name} "{data.get("name", "")}"',
                    new=data,
                )
        for name, data in before.items():
            if name not in after:
                self.add(
                    "removed",
                    "parameters",
                    f"{key}.{name}",
                    f'removed parameter {key}.{name} "{data.get("name", "")}"',
                    old=data,
                )
        old_order = [n for n in before if n in after]
        new_order = [n for n in after if n in before]
        for name in _moved(old_order, new_order):
            self.add(
                "moved",
                "parameters",
                f"{key}.{name}",
                f"moved parameter {key}.{name} within the step",
            )
        for name in new_order:
            pa, pb = before[name], after[name]
            unit = pb.get("unit", "")
            for field_name in [*pa, *(f for f in pb if f not in pa)]:
                old_value, new_value = pa.get(field_name), pb.get(field_name)
                if old_value == new_value or field_name == "key":
                    continue
                area = "limits" if field_name in LIMIT_FIELDS else "parameters"
                suffix = (
                    f" ({unit})" if area == "limits" and unit and field_name != "precision" else ""
                )
                self.add(
                    "changed",
                    area,
                    f"{key}.{name}",
                    f"{key}.{name} {field_name}: {show(old_value)} → {show(new_value)}{suffix}",
                    field=field_name,
                    old=old_value,
                    new=new_value,
                )

    def materials(self, key: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
        before = {m["material"]: m for m in old}
        after = {m["material"]: m for m in new}
        for code, item in after.items():
            if code not in before:
                self.add(
                    "added",
                    "materials",
                    f"{key}[{code}]",
                    f"step {key} adds {code} {item['quantity']}",
                    new=item,
                )
        for code, item in before.items():
            if code not in after:
                self.add(
                    "removed",
                    "materials",
                    f"{key}[{code}]",
                    f"step {key} no longer adds {code} {item['quantity']}",
                    old=item,
                )
        for code in after:
            if code in before:
                self.fields(
                    "materials",
                    f"{key}[{code}]",
                    f"step {key} material {code}",
                    before[code],
                    after[code],
                )

    def run(self) -> DocumentDiff:
        self.header()
        old, new = to_data(self.old), to_data(self.new)
        self.keyed(
            "components", "component", old.get("components", []), new.get("components", []), "code"
        )
        self.keyed(
            "packaging", "packaging", old.get("packaging", []), new.get("packaging", []), "code"
        )
        self.keyed(
            "attachments",
            "attachment",
            old.get("attachments", []),
            new.get("attachments", []),
            "id",
        )
        self.structure()
        self.steps()
        return DocumentDiff(content_hash(self.old), content_hash(self.new), self.changes)


def _label(item: Mapping[str, Any]) -> str:
    text = item.get("name") or item.get("description") or item.get("filename") or ""
    quantity = item.get("quantity")
    parts = [f'"{text}"' if text else "", str(quantity) if quantity else ""]
    return " ".join(p for p in parts if p)


def _after(value: list[str] | None) -> str:
    if value is None:
        return "the previous operation"
    if not value:
        return "the start of the unit procedure"
    return ", ".join(value)


def _without_key(step: Step) -> dict[str, Any]:
    data = step.model_dump(mode="python", exclude_defaults=True)
    data.pop("key", None)
    return data


def _moved(old_order: Iterable[str], new_order: Iterable[str]) -> list[str]:
    """Items (present in both orders) outside a longest common subsequence: the fewest items
    whose move explains the new order."""
    a, b = list(old_order), list(new_order)
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
            )
    keep: set[str] = set()
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            keep.add(a[i])
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return [k for k in b if k not in keep]


def diff(old: MasterBatchRecord, new: MasterBatchRecord) -> DocumentDiff:
    """Every difference between ``old`` and ``new`` (see the module docstring)."""
    return _Differ(old, new).run()


__all__ = ["AREAS", "Change", "DocumentDiff", "diff", "show"]
