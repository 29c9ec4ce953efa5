"""The master record as a graph: step order, predecessors and value names.

Order rules (the flow every layer shares):

* Unit procedures run one after another; a unit procedure ends when all its operations end.
* Operations of a unit procedure run one after another, unless an operation lists ``after``: it
  then starts once those operations (listed earlier in the same unit procedure) have ended. Two
  operations after the same one are parallel branches; ``after: []`` starts with the unit
  procedure.
* Steps of an operation run one after another.

A value is named ``step_key.param_key``; a bare ``param_key`` names it too when no other step has
a parameter with that key, and, inside a step's own calculations and ``until``, the step's own
parameter comes first. Reserved names: ``batch_size``, ``nominal_batch_size``,
``theoretical_yield`` (scaled to the batch) and ``theoretical_output`` (of the unit procedure the
step belongs to, scaled to the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from galenic.recipes.document.model import MasterBatchRecord, Parameter, StepRef

RESERVED_NAMES = frozenset(
    {"batch_size", "nominal_batch_size", "theoretical_yield", "theoretical_output"}
)


@dataclass(frozen=True)
class ValueRef:
    qualified: str  # step.param
    step: str
    param: Parameter
    path: str  # document path of the parameter
    step_order: int  # position of the step in document order
    param_order: int


@dataclass
class Graph:
    doc: MasterBatchRecord
    steps: list[StepRef] = field(default_factory=list)
    by_key: dict[str, StepRef] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    predecessors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ancestors: dict[str, frozenset[str]] = field(default_factory=dict)
    values: dict[str, ValueRef] = field(default_factory=dict)
    bare: dict[str, list[str]] = field(default_factory=dict)
    # (unit procedure index, operation index, problem) for `after` entries that were ignored
    after_problems: list[tuple[int, int, int, str]] = field(default_factory=list)

    @classmethod
    def build(cls, doc: MasterBatchRecord) -> Graph:
        g = cls(doc)
        g._index()
        g._order()
        return g

    def _index(self) -> None:
        for ref in self.doc.walk_steps():
            self.steps.append(ref)
            key = ref.step.key
            if key not in self.by_key:
                self.by_key[key] = ref
                self.order[key] = len(self.order)
            for p_index, param in enumerate(ref.step.parameters):
                qualified = f"{key}.{param.key}"
                if qualified in self.values:
                    continue
                self.values[qualified] = ValueRef(
                    qualified,
                    key,
                    param,
                    f"{ref.path}.parameters[{p_index}]",
                    self.order[key],
                    p_index,
                )
                self.bare.setdefault(param.key, [])
                if qualified not in self.bare[param.key]:
                    self.bare[param.key].append(qualified)

    def _order(self) -> None:
        previous_up_exits: tuple[str, ...] = ()
        for u, up in enumerate(self.doc.unit_procedures):
            op_exits: list[tuple[str, ...]] = []
            op_keys = [op.key for op in up.operations]
            for o, op in enumerate(up.operations):
                if op.after is None:
                    starts_after = op_exits[o - 1] if o > 0 else previous_up_exits
                else:
                    gathered: list[str] = []
                    for a_index, name in enumerate(op.after):
                        if name not in op_keys:
                            self.after_problems.append(
                                (u, o, a_index, f"unknown operation {name!r}")
                            )
                            continue
                        target = op_keys.index(name)
                        if target >= o:
                            self.after_problems.append(
                                (
                                    u,
                                    o,
                                    a_index,
                                    f"operation {name!r} is not listed before {op.key!r}; "
                                    "list operations in the order they can start",
                                )
                            )
                            continue
                        gathered.extend(op_exits[target])
                    starts_after = tuple(dict.fromkeys(gathered)) or previous_up_exits
                last = starts_after
                for step in op.steps:
                    if step.key in self.predecessors:
                        continue  # duplicate key: reported by validation
                    self.predecessors[step.key] = last
                    last = (step.key,)
                op_exits.append(last)
            if up.operations:
                exits: list[str] = []
                for o_exits in op_exits:
                    exits.extend(o_exits)
                previous_up_exits = tuple(dict.fromkeys(exits))
        for ref in self.steps:
            key = ref.step.key
            if key in self.ancestors:
                continue
            found: set[str] = set()
            for pred in self.predecessors.get(key, ()):
                found.add(pred)
                found |= self.ancestors.get(pred, frozenset())
            self.ancestors[key] = frozenset(found)

    # -- queries ---------------------------------------------------------------------------
    def precedes(self, earlier: str, later: str) -> bool:
        """True if step ``earlier`` always ends before step ``later`` starts."""
        return earlier in self.ancestors.get(later, frozenset())

    def resolve(self, name: str, local: str | None = None) -> tuple[str | None, str]:
        """(qualified name, problem). Reserved names resolve to themselves. With ``local`` (a step
        key), a bare name first means that step's own parameter, as in its calculations and its
        repeat's ``until``."""
        if name in RESERVED_NAMES:
            return name, ""
        if local is not None and "." not in name and f"{local}.{name}" in self.values:
            return f"{local}.{name}", ""
        if "." in name:
            if name in self.values:
                return name, ""
            step, _, param = name.partition(".")
            if step not in self.by_key:
                return None, f"unknown step {step!r} in {name!r}"
            return None, f"step {step!r} has no parameter {param!r}"
        candidates = self.bare.get(name, [])
        if len(candidates) == 1:
            return candidates[0], ""
        if len(candidates) > 1:
            return None, (
                f"{name!r} is ambiguous: write one of " + ", ".join(repr(c) for c in candidates)
            )
        return None, f"unknown value {name!r}"

    def exits(self) -> tuple[str, ...]:
        """Steps with no successor."""
        has_successor = {p for preds in self.predecessors.values() for p in preds}
        return tuple(k for k in self.order if k not in has_successor)

    def parallel(self, a: str, b: str) -> bool:
        return a != b and not self.precedes(a, b) and not self.precedes(b, a)
