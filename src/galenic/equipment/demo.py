"""Demo equipment: balances with serial numbers and calibration dates, the solid-dose line, their
tags, and the demo gateway with its token (written where `galenic gateway demo` reads it).

The plant itself is defined once in ``galenic.gateway.demo_plant``, shared with the simulators.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from galenic.accounts.models import User
from galenic.core.timefmt import local_today
from galenic.equipment import services
from galenic.equipment.models import Equipment, Gateway, Tag
from galenic.gateway.demo_plant import BALANCES, GATEWAY_CODE, TAGS, UNITS


def token_path() -> Path:
    return Path(settings.DATA_DIR) / "gateway" / f"{GATEWAY_CODE}.token"


def _write_token(token: str) -> None:
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(0o600)


def seed() -> Iterator[str]:
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        yield "equipment: skipped (no admin user to act as)"
        return
    if not Gateway.objects.filter(code=GATEWAY_CODE).exists():
        _gateway, token = services.register_gateway(
            actor=admin, code=GATEWAY_CODE, name="Demo gateway, solid-dose building"
        )
        _write_token(token)
    elif not token_path().exists():
        _write_token(
            services.issue_gateway_token(
                actor=admin, code=GATEWAY_CODE, reason="demo token file was missing"
            )
        )
    today = local_today()
    created = 0
    for b in BALANCES:
        if Equipment.objects.filter(code=b.code).exists():
            continue
        services.register_equipment(
            actor=admin,
            code=b.code,
            name=b.name,
            kind="balance",
            manufacturer=b.manufacturer,
            model=b.model,
            serial_number=b.serial,
            location="Dispensing",
            gateway_code=GATEWAY_CODE,
        )
        due = today + timedelta(days=b.calibration_days)
        services.record_calibration(
            actor=admin,
            code=b.code,
            performed_on=min(today, due - timedelta(days=365)),
            due=due,
            certificate=f"CAL-{b.code}-{due.year}",
            reason="demo data",
        )
        created += 1
    for u in UNITS:
        if Equipment.objects.filter(code=u.code).exists():
            continue
        services.register_equipment(
            actor=admin,
            code=u.code,
            name=u.name,
            kind=u.kind,
            manufacturer=u.manufacturer,
            model=u.model,
            serial_number=u.serial,
            location="Solid dose, suite 2",
            gateway_code=GATEWAY_CODE,
            calibration_required=u.calibration_days is not None,
        )
        if u.calibration_days is not None:
            due = today + timedelta(days=u.calibration_days)
            services.record_calibration(
                actor=admin,
                code=u.code,
                performed_on=min(today, due - timedelta(days=365)),
                due=due,
                certificate=f"CAL-{u.code}-{due.year}",
                reason="demo data (instrument loops)",
            )
        created += 1
    tags = 0
    for t in TAGS:
        if Tag.objects.filter(code=t.code).exists():
            continue
        services.define_tag(
            actor=admin,
            code=t.code,
            equipment_code=t.equipment,
            name=t.name,
            unit=t.unit,
            max_age_s=t.max_age_s,
            alert_low=t.alert_low,
            alert_high=t.alert_high,
            action_low=t.action_low,
            action_high=t.action_high,
        )
        tags += 1
    yield (
        f"equipment: {created} registered, {tags} tags defined; gateway {GATEWAY_CODE} token in "
        f"{token_path()} (start the devices with `galenic gateway demo`)"
    )
