"""Typed helpers for reading settings from environment variables.

Every setting Galenic reads is declared through these helpers so that a bad
value fails at start-up with the variable's name and the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse


class SettingError(ValueError):
    """A setting from the environment is missing or malformed."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name}: expected a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}: must be at least {minimum}, got {value}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingError(f"{name}: expected true/false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str  # "sqlite" or "postgresql"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""


def parse_database_url(name: str, url: str) -> DatabaseUrl:
    """Parse ``sqlite:///path`` or ``postgres://user:pass@host:port/db``."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif url.startswith("sqlite:///"):
            path = path.lstrip("/") if not path.startswith("//") else path
            path = str(Path(path).resolve()) if not Path(path).is_absolute() else path
        if not path:
            raise SettingError(
                f"{name}: SQLite URL needs a file path, e.g. sqlite:///var/galenic.sqlite3"
            )
        return DatabaseUrl(engine="sqlite", name=path)
    if scheme in {"postgres", "postgresql", "pgsql"}:
        db = unquote(parsed.path.lstrip("/"))
        if not db:
            raise SettingError(f"{name}: PostgreSQL URL needs a database name")
        return DatabaseUrl(
            engine="postgresql",
            name=db,
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            host=parsed.hostname or "",
            port=str(parsed.port or ""),
        )
    raise SettingError(f"{name}: unsupported scheme {scheme!r}; use sqlite:/// or postgres://")
