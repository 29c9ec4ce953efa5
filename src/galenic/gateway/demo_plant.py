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


# The codes are the equipment IDs the demo master records name (paracetamol tablets: BAL-001,
# BAL-002, HSG-001, FBD-001, BIN-001, TAB-001; syrup: FIL-001), so a demo batch's steps read these
# very instruments. A step binds a logical tag (``hsg_impeller_speed``) to its equipment's tag
# ``<equipment>.<tag>`` (``HSG-001.hsg_impeller_speed``).
BALANCES = [
    DemoBalance(
        "BAL-001",
        "Precision balance, dispensing booth 1",
        "Mettler-Toledo",
        "XS6002S Excellence 6.1 kg",
        "B731200451",
        4101,
        "g",
        2,
        Decimal("6100"),
        180,
        Decimal("2000.00"),  # the daily check weight is on the pan
    ),
    DemoBalance(
        "BAL-002",
        "Floor scale, dispensing booth 1",
        "Mettler-Toledo",
        "ICS685 floor scale 300 kg",
        "C000112233",
        4102,
        "kg",
        2,
        Decimal("300"),
        90,
        Decimal("200.00"),  # the daily check weight is on the platform
    ),
    DemoBalance(
        "BAL-003",
        "Analytical balance, weighing room 2 (calibration overdue)",
        "Mettler-Toledo",
        "XS205 Excellence 220 g",
        "B512345678",
        4103,
        "g",
        3,
        Decimal("220"),
        -3,
        Decimal("0.000"),
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
        "HSG-001",
        "High-shear granulator 300 L",
        "granulator",
        "GEA",
        "PMA 300",
        "GEA-PMA-7731",
        120,
    ),
    DemoUnit(
        "FBD-001",
        "Fluid-bed dryer 300 L",
        "fluid_bed_dryer",
        "Glatt",
        "GPCG 120",
        "GLT-120-0442",
        120,
    ),
    DemoUnit("BIN-001", "Bin blender 1,000 L", "blender", "Bohle", "PM 1000", "BOH-PM-2290", None),
    DemoUnit("TAB-001", "Rotary tablet press", "tablet_press", "Fette", "FE55", "FE55-10381", 60),
    DemoUnit(
        "FIL-001", "Bottle filling line", "filling_line", "Uhlmann", "UPS 4", "UHL-UPS4-0917", 90
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
        "HSG-001.hsg_product_temperature",
        "HSG-001",
        "Product temperature",
        "degC",
        10,
        _d("20"),
        _d("30"),
        _d("15"),
        _d("35"),
    ),
    DemoTag(
        "HSG-001.hsg_impeller_speed",
        "HSG-001",
        "Impeller speed",
        "rpm",
        10,
        _d("145"),
        _d("155"),
        _d("140"),
        _d("160"),
    ),
    DemoTag(
        "HSG-001.hsg_chopper_speed",
        "HSG-001",
        "Chopper speed",
        "rpm",
        10,
        None,
        None,
        None,
        _d("1700"),
    ),
    DemoTag(
        "HSG-001.hsg_impeller_power",
        "HSG-001",
        "Impeller power",
        "kW",
        10,
        None,
        _d("12"),
        None,
        _d("14"),
    ),
    DemoTag(
        "FBD-001.fbd_inlet_temperature",
        "FBD-001",
        "Inlet air temperature",
        "degC",
        10,
        _d("57"),
        _d("63"),
        _d("55"),
        _d("65"),
    ),
    DemoTag(
        "FBD-001.fbd_product_temperature",
        "FBD-001",
        "Product temperature",
        "degC",
        10,
        None,
        _d("42"),
        None,
        _d("45"),
    ),
    DemoTag("FBD-001.lod", "FBD-001", "Loss on drying (NIR)", "%", 10, None, None, None, _d("20")),
    DemoTag(
        "BIN-001.speed",
        "BIN-001",
        "Blender speed",
        "rpm",
        10,
        _d("11"),
        _d("13"),
        _d("10"),
        _d("14"),
    ),
    DemoTag(
        "TAB-001.main_force",
        "TAB-001",
        "Main compression force",
        "kN",
        10,
        _d("11"),
        _d("17"),
        _d("9"),
        _d("19"),
    ),
    DemoTag(
        "TAB-001.turret_speed",
        "TAB-001",
        "Turret speed",
        "rpm",
        10,
        _d("40"),
        _d("50"),
        _d("35"),
        _d("55"),
    ),
    DemoTag(
        "FIL-001.fill_weight",
        "FIL-001",
        "Fill weight",
        "g",
        10,
        _d("499.0"),
        _d("502.0"),
        _d("498.0"),
        _d("503.0"),
    ),
]
