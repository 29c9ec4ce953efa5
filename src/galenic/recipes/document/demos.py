"""The demo master records shipped with Galenic (src/galenic/recipes/demo/*.yaml)."""

from __future__ import annotations

from pathlib import Path

from galenic.recipes.document.io import load_yaml
from galenic.recipes.document.model import MasterBatchRecord

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


def demo_paths() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.yaml"))


def demo_records() -> dict[str, MasterBatchRecord]:
    """Each demo record by its code, e.g. ``MBR-PCM500-TAB`` and ``MBR-DXM15-SYR``."""
    records = [load_yaml(path.read_text(encoding="utf-8")) for path in demo_paths()]
    return {doc.code: doc for doc in records}
