"""The MBR core and the rules are plain Python: no Django (or django-ninja) import, directly or
through anything they import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import galenic.recipes.document as document_package
import galenic.rules as rules_package

PACKAGES = [Path(rules_package.__file__).parent, Path(document_package.__file__).parent]


def test_no_module_imports_django() -> None:
    offenders = []
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                offenders += [
                    f"{path.name}: {n}" for n in names if n.split(".")[0] in {"django", "ninja"}
                ]
    assert offenders == []


def test_importing_the_core_loads_no_django() -> None:
    code = (
        "import sys, galenic.recipes.document, galenic.recipes.document.dryrun, "
        "galenic.recipes.document.diff, galenic.recipes.document.schema, galenic.rules.limits, "
        "galenic.rules.yields; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'ninja')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
