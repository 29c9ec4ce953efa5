"""A small registered plant: one gateway, a calibrated balance, a granulator with a limited tag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from galenic.core.context import action_context
from galenic.core.timefmt import local_today
from galenic.equipment import services


@dataclass
class Plant:
    admin: Any
    gateway: Any
    token: str
    device: services.DevicePrincipal
    balance: Any
    granulator: Any
    weight_tag: Any
    temp_tag: Any


@pytest.fixture
def plant(personas) -> Plant:
    admin = personas["admin"]
    today = local_today()
    with action_context("test"):
        gateway, token = services.register_gateway(actor=admin, code="GW-T", name="Test gateway")
        balance = services.register_equipment(
            actor=admin,
            code="BAL-T1",
            name="Test balance",
            kind="balance",
            manufacturer="Mettler-Toledo",
            model="XS205",
            serial_number="B512345678",
            gateway_code="GW-T",
        )
        services.record_calibration(
            actor=admin, code="BAL-T1", performed_on=today, due=today + timedelta(days=30)
        )
        granulator = services.register_equipment(
            actor=admin, code="GRN-T1", name="Granulator", kind="granulator", gateway_code="GW-T"
        )
        services.record_calibration(
            actor=admin, code="GRN-T1", performed_on=today, due=today + timedelta(days=30)
        )
        weight_tag = services.define_tag(
            actor=admin,
            code="BAL-T1.weight",
            equipment_code="BAL-T1",
            name="Weight",
            unit="g",
            max_age_s=5,
        )
        temp_tag = services.define_tag(
            actor=admin,
            code="GRN-T1.temp",
            equipment_code="GRN-T1",
            name="Product temperature",
            unit="degC",
            max_age_s=10,
            alert_low="20",
            alert_high="28",
            action_low="15",
            action_high="32",
        )
    return Plant(
        admin,
        gateway,
        token,
        services.DevicePrincipal(gateway),
        balance,
        granulator,
        weight_tag,
        temp_tag,
    )
