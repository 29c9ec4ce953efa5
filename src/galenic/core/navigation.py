"""Main navigation: each bounded context registers its entries here with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    help: str
    roles: frozenset[str] | None = None  # None: every signed-in user


NAV: list[NavItem] = []


def register(item: NavItem) -> None:
    if item not in NAV:
        NAV.append(item)


def nav_items_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    codes = user.role_codes() if hasattr(user, "role_codes") else set()
    return [i for i in NAV if i.roles is None or codes & i.roles]
