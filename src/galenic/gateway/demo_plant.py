"""The demo plant, shared by the device side (simulators, publisher) and the server's demo seeding.

Plain data, no Django: ``galenic.equipment.demo`` registers exactly these instruments and tags, and
``galenic gateway demo`` simulates exactly these devices, so serial numbers and units always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

GATEWAY_CODE = "GW-DEMO"


@dataclass(frozen=True)
class DemoBalance:
    code: str
    name: str
    manufacturer: str
    model: str
    serial: str
    port: int
    unit: str
    decimals: int
    capacity: Decimal
    calibration_days: int  # due date relative to seeding; negative = expired
    start_weight: Decimal


BALANCES = [
    DemoBalance(
        "BAL-01",
        "Analytical balance, dispensing booth 1",
        "Mettler-Toledo",
        "XS205 Excellence 220 g",
        "B512345678",
        4101,
        "g",
        3,
        Decimal("220"),
        180,
        Decimal("0.000"),
    ),
    DemoBalance(
        "BAL-02",
        "Floor scale, dispensing booth 1",
        "Mettler-Toledo",
        "ICS685 60 kg",
        "C000112233",
        4102,
        "kg",
        2,
        Decimal("60"),
        90,
        Decimal("0.00"),
    ),
    DemoBalance(
        "BAL-03",
        "Precision balance, weighing room 2 (calibration overdue)",
        "Mettler-Toledo",
        "XS6002S Excellence 6.1 kg",
        "B733300017",
        4103,
        "g",
        2,
        Decimal("6100"),
        -3,
        Decimal("0.00"),
    ),
]


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    kind: str
    manufacturer: str
    model: str
    serial: str
    calibration_days: int | None  # None: no calibration programme of its own


UNITS = [
    DemoUnit(
        "GRN-01", "High-shear granulator 300 L", "granulator", "GEA", "PMA 300", "GEA-PMA-7731", 120
    ),
    DemoUnit(
        "FBD-01",
        "Fluid-bed dryer 300 L",
        "fluid_bed_dryer",
        "Glatt",
        "GPCG 120",
        "GLT-120-0442",
        120,
    ),
    DemoUnit("BLD-01", "Bin blender 1,000 L", "blender", "Bohle", "PM 1000", "BOH-PM-2290", None),
    DemoUnit("TAB-01", "Rotary tablet press", "tablet_press", "Fette", "FE55", "FE55-10381", 60),
    DemoUnit(
        "FIL-01", "Bottle filling line", "filling_line", "Uhlmann", "UPS 4", "UHL-UPS4-0917", 90
    ),
]


@dataclass(frozen=True)
class DemoTag:
    code: str
    equipment: str
    name: str
    unit: str
    max_age_s: int
    alert_low: Decimal | None = None
    alert_high: Decimal | None = None
    action_low: Decimal | None = None
    action_high: Decimal | None = None


def _d(text: str) -> Decimal:
    return Decimal(text)


TAGS = [
    *(DemoTag(f"{b.code}.weight", b.code, "Weight (net)", b.unit, 5) for b in BALANCES),
    DemoTag(
        "GRN-01.product_temp",
        "GRN-01",
        "Product temperature",
        "degC",
        10,
        _d("20"),
        _d("28"),
        _d("15"),
        _d("32"),
    ),
    DemoTag(
        "GRN-01.impeller_load", "GRN-01", "Impeller load", "%", 10, None, _d("55"), None, _d("65")
    ),
    DemoTag(
        "FBD-01.inlet_temp",
        "FBD-01",
        "Inlet air temperature",
        "degC",
        10,
        _d("56"),
        _d("64"),
        _d("50"),
        _d("70"),
    ),
    DemoTag("FBD-01.lod", "FBD-01", "Loss on drying (NIR)", "%", 10, None, None, None, _d("20")),
    DemoTag(
        "BLD-01.speed", "BLD-01", "Blender speed", "rpm", 10, _d("11"), _d("13"), _d("10"), _d("14")
    ),
    DemoTag(
        "TAB-01.main_force",
        "TAB-01",
        "Main compression force",
        "kN",
        10,
        _d("11"),
        _d("17"),
        _d("9"),
        _d("19"),
    ),
    DemoTag(
        "TAB-01.turret_speed",
        "TAB-01",
        "Turret speed",
        "rpm",
        10,
        _d("40"),
        _d("50"),
        _d("35"),
        _d("55"),
    ),
    DemoTag(
        "FIL-01.fill_weight",
        "FIL-01",
        "Fill weight",
        "g",
        10,
        _d("499.0"),
        _d("502.0"),
        _d("498.0"),
        _d("503.0"),
    ),
]
