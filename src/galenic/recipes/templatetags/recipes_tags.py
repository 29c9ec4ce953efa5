"""Small template helpers for the MBR pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key, "")


@register.filter
def holds(path: str, focus: str) -> bool:
    """Whether the item at ``path`` is, or contains, the item at ``focus``."""
    if not focus:
        return False
    return focus == path or focus.startswith(path + ".") or focus.startswith(path + "[")


@register.filter
def show(value: Any) -> str:
    """A document value as a person reads it (yes/no, lists joined)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    return str(value)


@register.filter
def holds_in(path: str, list_path: str) -> bool:
    """Whether ``path`` is an item of the list at ``list_path``."""
    return path.startswith(list_path + "[")
