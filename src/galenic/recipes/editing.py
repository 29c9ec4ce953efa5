"""Fine-grained edits of a master record's plain data, as the visual builder and the API make them.

Pure (no Django import). An edit names its target by the same paths validation reports
(``unit_procedures[0].operations[1].steps[2].parameters[0]``), so a problem found after an edit
points at the field that was just edited.

    data = apply(to_data(doc), [EditOp("set", "unit_procedures[0].operations[0].steps[1]",
                                       values={"title": "Weigh the API"})])
    doc = parse(data)      # structure check; validate(doc) for the rules

Operations:

* ``set`` — set fields of the mapping at ``path`` (``""`` is the whole record); a value of
  ``None`` removes the field, so the default applies.
* ``insert`` — insert ``item`` into the list at ``path`` at ``index`` (default: at the end).
* ``remove`` — remove the list item at ``path``.
* ``move`` — move the list item at ``path`` to position ``to`` of its list, or of the list
  ``into`` (a step to another operation, say).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OPS = ("set", "insert", "remove", "move")
_TOKEN = re.compile(r"([a-z_][a-z0-9_]*)|\[(\d+)\]")


class EditError(ValueError):
    """An edit that cannot be applied: the path names nothing, or the wrong kind of thing."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '(document)'}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class EditOp:
    op: str
    path: str
    values: Mapping[str, Any] = field(default_factory=dict)
    item: Any = None
    index: int | None = None
    to: int | None = None
    into: str | None = None

    def describe(self) -> str:
        if self.op == "set":
            return f"set {', '.join(sorted(self.values))} of {self.path or 'the record'}"
        if self.op == "insert":
            return f"insert into {self.path}"
        if self.op == "move":
            return f"move {self.path} to {self.into or 'position'} {self.to}"
        return f"remove {self.path}"

    @staticmethod
    def of(data: Mapping[str, Any]) -> EditOp:
        """From plain data (the API's JSON)."""
        op = data.get("op")
        if op not in OPS:
            raise EditError("op", f"op must be one of {', '.join(OPS)}")
        path = data.get("path", "")
        if not isinstance(path, str):
            raise EditError("path", "path must be text")
        values = data.get("values") or {}
        if not isinstance(values, Mapping):
            raise EditError(path, "values must be a mapping of field names to values")
        for name in ("index", "to"):
            value = data.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise EditError(path, f"{name} must be a whole number")
        into = data.get("into")
        if into is not None and not isinstance(into, str):
            raise EditError(path, "into must be a path")
        return EditOp(
            op=op,
            path=path,
            values=dict(values),
            item=data.get("item"),
            index=data.get("index"),
            to=data.get("to"),
            into=into,
        )


def parse_path(path: str) -> list[str | int]:
    """``a[0].b`` → ``["a", 0, "b"]``; raises ``EditError`` for anything else."""
    tokens: list[str | int] = []
    if not path:
        return tokens
    pos = 0
    expect_name = True
    while pos < len(path):
        if path[pos] == "." and not expect_name and tokens:
            pos += 1
            expect_name = True
            continue
        match = _TOKEN.match(path, pos)
        if match is None:
            raise EditError(path, "not a path such as unit_procedures[0].operations[1]")
        name, number = match.groups()
        if name is not None:
            if not expect_name:
                raise EditError(path, "not a path such as unit_procedures[0].operations[1]")
            tokens.append(name)
        else:
            if not tokens:
                raise EditError(path, "a path starts with a field name")
            tokens.append(int(number))
        expect_name = False
        pos = match.end()
    if expect_name:
        raise EditError(path, "a path cannot end with '.'")
    return tokens


def format_path(tokens: Sequence[str | int]) -> str:
    out = ""
    for token in tokens:
        if isinstance(token, int):
            out += f"[{token}]"
        else:
            out += ("." if out else "") + token
    return out


def _resolve(data: Any, tokens: Sequence[str | int], path: str, *, create: bool = False) -> Any:
    """The node at ``tokens``; with ``create``, missing (or null) mapping fields become ``{}``."""
    node = data
    for i, token in enumerate(tokens):
        where = format_path(tokens[: i + 1])
        if isinstance(token, int):
            if not isinstance(node, list):
                raise EditError(path, f"{format_path(tokens[:i]) or 'the record'} is not a list")
            if not 0 <= token < len(node):
                raise EditError(path, f"there is no {where}")
            node = node[token]
        else:
            if not isinstance(node, dict):
                raise EditError(path, f"{format_path(tokens[:i]) or 'the record'} has no fields")
            if node.get(token) is None and create:
                node[token] = {}
            if token not in node:
                raise EditError(path, f"there is no {where}")
            node = node[token]
    return node


def node_at(data: Any, path: str) -> Any:
    """What ``path`` names in ``data``; ``EditError`` if nothing."""
    return _resolve(data, parse_path(path), path)


def _list_at(data: Any, path: str, *, create: bool) -> list[Any]:
    tokens = parse_path(path)
    if not tokens or not isinstance(tokens[-1], str):
        raise EditError(path, "name a list, such as unit_procedures[0].operations")
    parent = _resolve(data, tokens[:-1], path)
    if not isinstance(parent, dict):
        raise EditError(path, f"{format_path(tokens[:-1]) or 'the record'} has no fields")
    name = tokens[-1]
    if name not in parent or parent[name] is None:
        if not create:
            raise EditError(path, f"there is no {path}")
        parent[name] = []
    target = parent[name]
    if not isinstance(target, list):
        raise EditError(path, f"{path} is not a list")
    return target


def _item_at(data: Any, path: str) -> tuple[list[Any], int]:
    tokens = parse_path(path)
    if not tokens or not isinstance(tokens[-1], int):
        raise EditError(path, "name a list item, such as unit_procedures[0].operations[1]")
    container = _resolve(data, tokens[:-1], path)
    if not isinstance(container, list):
        raise EditError(path, f"{format_path(tokens[:-1])} is not a list")
    index = tokens[-1]
    assert isinstance(index, int)
    if not 0 <= index < len(container):
        raise EditError(path, f"there is no {path}")
    return container, index


def _set(data: dict[str, Any], op: EditOp) -> None:
    # Setting fields of an absent group (``product``, ``steps[2].sampling``) creates it.
    target = _resolve(data, parse_path(op.path), op.path, create=True)
    if not isinstance(target, dict):
        raise EditError(op.path, "only the fields of a mapping can be set")
    for name, value in op.values.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise EditError(op.path, f"{name!r} is not a field name")
        if value is None:
            target.pop(name, None)
        else:
            target[name] = copy.deepcopy(value)


def _insert(data: dict[str, Any], op: EditOp) -> None:
    target = _list_at(data, op.path, create=True)
    if op.item is None:
        raise EditError(op.path, "give the item to insert")
    index = len(target) if op.index is None else op.index
    if not 0 <= index <= len(target):
        raise EditError(op.path, f"position {index} is outside 0 to {len(target)}")
    target.insert(index, copy.deepcopy(op.item))


def _remove(data: dict[str, Any], op: EditOp) -> None:
    container, index = _item_at(data, op.path)
    del container[index]


def _move(data: dict[str, Any], op: EditOp) -> None:
    container, index = _item_at(data, op.path)
    target = container if op.into is None else _list_at(data, op.into, create=True)
    item = container.pop(index)
    to = len(target) if op.to is None else op.to
    if not 0 <= to <= len(target):
        last = len(target)
        container.insert(index, item)
        raise EditError(op.path, f"position {to} is outside 0 to {last}")
    target.insert(to, item)


_APPLY = {"set": _set, "insert": _insert, "remove": _remove, "move": _move}


def apply(data: Mapping[str, Any], ops: Iterable[EditOp]) -> dict[str, Any]:
    """A changed deep copy of ``data``; ``data`` itself is left as it was."""
    result = copy.deepcopy(dict(data))
    for op in ops:
        if op.op not in _APPLY:
            raise EditError(op.path, f"op must be one of {', '.join(OPS)}")
        _APPLY[op.op](result, op)
    return result


# --- keys for new items ----------------------------------------------------------------------


def _all_step_keys(data: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for up in data.get("unit_procedures") or []:
        for op in up.get("operations") or []:
            keys.update(s.get("key", "") for s in op.get("steps") or [])
    return keys


def unused_key(taken: Iterable[str], prefix: str) -> str:
    """``prefix_1``, ``prefix_2``, … the first one not in ``taken``."""
    used = set(taken)
    n = 1
    while f"{prefix}_{n}" in used:
        n += 1
    return f"{prefix}_{n}"


def new_step_key(data: Mapping[str, Any]) -> str:
    """Step keys are unique in the whole record."""
    return unused_key(_all_step_keys(data), "step")


def new_key_in(items: Iterable[Mapping[str, Any]], prefix: str, field_name: str = "key") -> str:
    return unused_key((str(i.get(field_name, "")) for i in items), prefix)


__all__ = [
    "OPS",
    "EditError",
    "EditOp",
    "apply",
    "format_path",
    "new_key_in",
    "new_step_key",
    "node_at",
    "parse_path",
    "unused_key",
]
