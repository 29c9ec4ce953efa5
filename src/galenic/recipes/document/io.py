"""YAML and JSON import/export, canonical form and content hash.

* Numbers are read as ``Decimal`` straight from the text (never through a float), so ``0.1``
  stays ``0.1`` and ``600.0`` stays ``600.0``.
* YAML is read with a YAML 1.2-like core schema: only ``true``/``false`` are booleans (``no``
  and ``on`` stay text), dates stay text, ``1_000`` and ``0o17`` are text, and a duplicated key
  is an error instead of silently winning. Only plain YAML: no tags, no Python objects.
* Export writes the canonical form: fields in model order, defaults left out. For any input x,
  ``dump_yaml(load_yaml(x))`` is canonical and ``load_yaml(dump_yaml(doc)) == doc``.
* ``content_hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces, numbers exactly as
  held): what the Django layer signs for a version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import yaml

from galenic.recipes.document.model import FORMAT, MasterBatchRecord
from galenic.recipes.document.validate import DocumentInvalid, Problem, parse
from galenic.rules.numbers import NumberError, check_decimal, plain

MAX_DOCUMENT_BYTES = 5_000_000


class DocumentFormatError(DocumentInvalid):
    """The text is not readable YAML/JSON (syntax, duplicate key, size)."""


# ---------------------------------------------------------------------------------------------
# YAML reading
# ---------------------------------------------------------------------------------------------

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _Loader(_BaseLoader):
    """SafeLoader with YAML 1.2 core resolution and Decimal numbers."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _SPECIAL_FLOAT, list("-+."))


def _construct_number(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node)
    if _SPECIAL_FLOAT.match(str(text)):
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a finite number", node.start_mark
        )
    try:
        return check_decimal(Decimal(str(text)))
    except NumberError as exc:
        raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"keys must be text, got {key!r}", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if len(text.lstrip("+-")) > 18:
        raise yaml.constructor.ConstructorError(None, None, "number too large", node.start_mark)
    return int(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)


def read_yaml(text: str) -> Any:
    """Plain data from YAML text (Decimals for numbers), or ``DocumentFormatError``."""
    _check_size(text)
    try:
        return _checked(yaml.load(text, Loader=_Loader))  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise DocumentFormatError([_TOO_DEEP]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentFormatError([Problem("", "structure", f"YAML {where}{problem}")]) from None


MAX_NESTING = 64  # far deeper than any record; deeper input would exhaust Python's stack
MAX_NODES = 200_000  # values, counting each YAML alias as the copy it stands for
_TOO_DEEP = Problem("", "structure", f"nested more than {MAX_NESTING} levels deep")
_TOO_BIG = Problem("", "structure", f"more than {MAX_NODES} values (YAML aliases count as copies)")


def _checked(data: Any) -> Any:
    """``data`` if it nests at most MAX_NESTING levels, holds at most MAX_NODES values and all
    its text is valid Unicode (found by fuzzing: deep nesting and lone surrogates crashed,
    aliases expanding exponentially hung, instead of being refused)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:  # "billion laughs": a few aliases that expand exponentially
            raise DocumentFormatError([_TOO_BIG])
        if depth > MAX_NESTING:
            raise DocumentFormatError([_TOO_DEEP])
        if isinstance(node, str):
            _check_unicode(node)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, list | tuple):
            stack.extend((item, depth + 1) for item in node)
    return data


def _check_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DocumentFormatError(
            [Problem("", "structure", "the text contains characters that are not valid Unicode")]
        ) from None


def _check_size(text: str) -> None:
    if not isinstance(text, str):
        raise DocumentFormatError([Problem("", "structure", "expected text")])
    _check_unicode(text)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise DocumentFormatError(
            [Problem("", "structure", f"document larger than {MAX_DOCUMENT_BYTES} bytes")]
        )


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:
        raise ValueError("number too large")
    return int(text)


def read_json(text: str) -> Any:
    _check_size(text)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a finite number")

    try:
        return _checked(
            json.loads(
                text,
                parse_float=Decimal,
                parse_int=_json_int,
                parse_constant=constant,
                object_pairs_hook=pairs,
            )
        )
    except RecursionError:
        raise DocumentFormatError([_TOO_DEEP]) from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise DocumentFormatError([Problem("", "structure", f"JSON: {exc}")]) from None


def load_yaml(text: str) -> MasterBatchRecord:
    """Parse a YAML master record (structure only; call ``validate`` for the rules)."""
    return parse(_mapping(read_yaml(text)))


def load_json(text: str) -> MasterBatchRecord:
    return parse(_mapping(read_json(text)))


def load(text: str) -> MasterBatchRecord:
    """YAML or JSON (JSON is YAML too, but read as JSON when it looks like JSON)."""
    return load_json(text) if text.lstrip().startswith("{") else load_yaml(text)


def _mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise DocumentFormatError(
            [Problem("", "structure", "a master record is a mapping of fields")]
        )
    return data


# ---------------------------------------------------------------------------------------------
# Canonical data and writing
# ---------------------------------------------------------------------------------------------


def to_data(doc: MasterBatchRecord) -> dict[str, Any]:
    """Canonical plain data: model field order, defaults omitted, ``format`` always first,
    enums as their text, numbers as ``Decimal``."""
    data = doc.model_dump(mode="python", exclude_defaults=True)
    data.pop("format", None)
    return {"format": FORMAT, **_plain(data)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, Decimal | bool | int | str):
        return value.value  # enums
    if isinstance(value, str) and type(value) is not str:
        return str(value)
    return value


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.yaml_implicit_resolvers = {k: list(v) for k, v in _Loader.yaml_implicit_resolvers.items()}


def _represent_decimal(dumper: _Dumper, value: Decimal) -> yaml.ScalarNode:
    text = plain(value)
    tag = "tag:yaml.org,2002:int" if _INT.match(text) else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, text)


# Characters YAML treats as line breaks or cannot show plainly: such text is written double-quoted
# with escapes, so it reads back exactly.
_NEEDS_ESCAPES = re.compile(
    "[\r\x85\u2028\u2029\ufeff]|[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    if _NEEDS_ESCAPES.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_str)


def dump_yaml(doc: MasterBatchRecord) -> str:
    return yaml.dump(
        to_data(doc),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def _json_text(value: Any, *, indent: int | None, level: int = 0, sort: bool = False) -> str:
    """JSON with Decimals written as exact number literals."""
    pad = "" if indent is None else "\n" + " " * (indent * (level + 1))
    end = "" if indent is None else "\n" + " " * (indent * level)
    sep = ","
    colon = ":" if indent is None else ": "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = sorted(value.items()) if sort else list(value.items())
        inner = sep.join(
            f"{pad}{json.dumps(k, ensure_ascii=False)}{colon}{_json_text(v, indent=indent, level=level + 1, sort=sort)}"
            for k, v in items
        )
        return "{" + inner + end + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = sep.join(
            f"{pad}{_json_text(v, indent=indent, level=level + 1, sort=sort)}" for v in value
        )
        return "[" + inner + end + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dump_json(doc: MasterBatchRecord, *, indent: int | None = 2) -> str:
    """Canonical JSON text (model field order; ``indent=None`` for compact)."""
    return _json_text(to_data(doc), indent=indent) + ("\n" if indent is not None else "")


def canonical_json(doc: MasterBatchRecord) -> str:
    """Sorted keys, no whitespace, exact numbers: the bytes that are hashed and signed."""
    return _json_text(to_data(doc), indent=None, sort=True)


def content_hash(doc: MasterBatchRecord) -> str:
    """SHA-256 (64 lowercase hex digits) of ``canonical_json``; equal documents hash equally
    whatever their source format, key order or default fields written out."""
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


__all__ = [
    "DocumentFormatError",
    "canonical_json",
    "content_hash",
    "dump_json",
    "dump_yaml",
    "load",
    "load_json",
    "load_yaml",
    "read_json",
    "read_yaml",
    "to_data",
]
