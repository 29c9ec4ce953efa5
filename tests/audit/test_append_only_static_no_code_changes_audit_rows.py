"""11.10(e) static check: no source file updates or deletes audit events.

Scans every Python file under src/ for (a) ORM calls that change rows, reached from AuditEvent,
and (b) SQL text that UPDATEs, DELETEs from or TRUNCATEs the audit table. The only places allowed
to name those statements are the ones that refuse them or lift them for the owner's flush.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "galenic"
MUTATORS = {"update", "delete", "bulk_update", "_update", "_raw_delete", "update_or_create", "save"}
SQL = re.compile(
    r"\b(UPDATE\s+\"?audit_auditevent|DELETE\s+FROM\s+\"?audit_auditevent|"
    r"TRUNCATE\s+(TABLE\s+)?\"?audit_auditevent)",
    re.IGNORECASE,
)


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def offending_calls(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and _root_name(node.func.value) == "AuditEvent"
        ):
            lines.append(node.lineno)
    return lines


def offending_sql(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)
    ]


def test_append_only_static_no_source_updates_or_deletes_audit_rows():
    offenders = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        offenders += [f"{path.relative_to(SRC)}:{n} ORM" for n in offending_calls(tree)]
        offenders += [f"{path.relative_to(SRC)}:{n} SQL" for n in offending_sql(tree)]
    assert offenders == []


def test_static_check_catches_what_it_should():
    sample = ast.parse(
        "AuditEvent.objects.filter(seq=1).update(reason='x')\n"
        "AuditEvent.objects.all().delete()\n"
        "cursor.execute('DELETE FROM audit_auditevent WHERE seq = 1')\n"
        "cursor.execute('update audit_auditevent set reason = 1')\n"
        "cursor.execute('TRUNCATE audit_auditevent')\n"
        "Other.objects.filter(x=1).update(y=2)\n"
    )
    assert offending_calls(sample) == [1, 2]
    assert offending_sql(sample) == [3, 4, 5]
