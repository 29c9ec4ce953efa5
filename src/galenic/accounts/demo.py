"""Demo personas, one or more per role. All share the demo password printed in the README."""

from __future__ import annotations

from collections.abc import Iterator

from galenic.accounts.models import User
from galenic.accounts.roles import Role

DEMO_PASSWORD = "Galenic-demo-2026"  # noqa: S105 - documented demo credential

PERSONAS: list[tuple[str, str, list[str]]] = [
    ("admin", "Ada Admin", [Role.ADMIN]),
    ("olivia", "Olivia Operator", [Role.OPERATOR]),
    ("oscar", "Oscar Operator", [Role.OPERATOR, Role.VERIFIER]),
    ("victor", "Victor Verifier", [Role.VERIFIER, Role.OPERATOR]),
    ("sam", "Sam Supervisor", [Role.SUPERVISOR, Role.VERIFIER]),
    ("petra", "Petra Process-Engineer", [Role.PROCESS_ENGINEER]),
    ("quinn", "Quinn QA-Reviewer", [Role.QA_REVIEWER]),
    ("rita", "Rita QA-Approver", [Role.QA_APPROVER, Role.QA_REVIEWER]),
    ("ian", "Ian Inspector", [Role.INSPECTOR]),
]


def seed() -> Iterator[str]:
    from galenic.accounts import services

    created = 0
    for username, full_name, roles in PERSONAS:
        if User.objects.filter(username=username).exists():
            continue
        services.create_user(
            actor=None,
            username=username,
            full_name=full_name,
            password=DEMO_PASSWORD,
            roles=[str(r) for r in roles],
        )
        created += 1
    yield f"users: {created} created, {len(PERSONAS) - created} already present (password {DEMO_PASSWORD})"
