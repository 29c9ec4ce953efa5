"""Demo personas, one or more per role. All share the demo password printed in the README."""

from __future__ import annotations

from collections.abc import Iterator

from galenic.accounts.models import User
from galenic.accounts.roles import Role

DEMO_PASSWORD = "Galenic-demo-2026"  # noqa: S105 - documented demo credential

PERSONAS: list[tuple[str, str, list[str]]] = [
    ("admin", "Ada Admin", [Role.ADMIN]),
    # A second administrator: the identity check of an account one admin creates is the other's.
    ("aaron", "Aaron Admin", [Role.ADMIN]),
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
    yield from _seed_training()


# Courses the shop floor is trained on (21 CFR 11.10(i)); a master record step that names one is
# refused to anyone without current training for it. Oscar's granulation training has lapsed.
TRAINING: list[tuple[str, str, list[str]]] = [
    (
        "SOP-GMP-001",
        "GMP basics and good documentation practice",
        ["olivia", "oscar", "victor", "sam"],
    ),
    ("SOP-DSP-003", "Dispensing and weighing", ["olivia", "oscar", "victor", "sam"]),
    ("SOP-GRN-004", "Wet granulation and fluid-bed drying", ["olivia", "victor", "sam", "oscar"]),
]


def _seed_training() -> Iterator[str]:
    from datetime import timedelta

    from galenic.accounts import services
    from galenic.accounts.models import TrainingRecord
    from galenic.core.timefmt import local_today

    today = local_today()
    added = 0
    for course, title, people in TRAINING:
        for username in people:
            user = User.objects.get(username=username)
            if TrainingRecord.objects.filter(user=user, course=course).exists():
                continue
            lapsed = username == "oscar" and course == "SOP-GRN-004"
            services.record_training(
                actor=None,
                user=user,
                course=course,
                title=title,
                completed_on=today - timedelta(days=400 if lapsed else 60),
                valid_until=today - timedelta(days=35) if lapsed else today + timedelta(days=305),
                note="demo data",
            )
            added += 1
    yield f"training: {added} records added"
