"""The demo gateway's tag map and the demo seeding describe the same plant."""

from __future__ import annotations

import yaml

from galenic.core.context import action_context
from galenic.core.timefmt import local_today, utcnow
from galenic.equipment import demo
from galenic.equipment.models import Equipment, Gateway, Tag
from galenic.gateway.demo import demo_config_text
from galenic.gateway.demo_plant import BALANCES, TAGS


def test_tag_map_matches_the_seeded_tags():
    config = yaml.safe_load(demo_config_text())
    mapped = {
        v["tag"]: (entry["source"], v["unit"])
        for entry in config["mqtt"]["topics"]
        for v in entry["values"]
    }
    mapped.update(
        {
            b["tag"]: (b["source"], next(x.unit for x in BALANCES if x.code == b["source"]))
            for b in config["balances"]
        }
    )
    assert mapped == {t.code: (t.equipment, t.unit) for t in TAGS}
    assert {b["port"] for b in config["balances"]} == {b.port for b in BALANCES}


def test_seeding_is_idempotent_and_writes_the_gateway_token(make_user, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    make_user("admin", ["admin"])
    with action_context("test"):
        first = list(demo.seed())
        second = list(demo.seed())
    assert "8 registered, 14 tags defined" in first[0]
    assert "0 registered, 0 tags defined" in second[0]
    token = (tmp_path / "gateway" / "GW-DEMO.token").read_text().strip()
    assert token.startswith("GW-DEMO:")
    assert Gateway.objects.get().code == "GW-DEMO"
    assert Equipment.objects.get(code="BAL-003").calibration_state(local_today()) == "expired"
    assert Tag.objects.count() == len(TAGS)


def test_the_demo_records_read_the_demo_plant():
    """Every instrument a demo master record binds exists in the demo plant: each balance-bound
    value names a demo balance on its step (or none, and the operator picks one), each tag-bound value a demo tag of its step's
    equipment, in a unit that converts to the parameter's."""
    from pathlib import Path

    import galenic.recipes
    from galenic.recipes.document import load_yaml
    from galenic.rules.units import Quantity

    balances = {b.code: b for b in BALANCES}
    tags = {t.code: t for t in TAGS}
    bound = []
    for path in sorted((Path(galenic.recipes.__file__).parent / "demo").glob("*.yaml")):
        doc = load_yaml(path.read_text())
        for ref in doc.walk_steps():
            step = ref.step
            ids = [e.equipment_id for e in step.equipment if e.equipment_id]
            for param in step.parameters:
                if param.instrument is None:
                    continue
                if param.instrument.kind.value == "balance":
                    if not ids:
                        continue  # no balance named: the operator picks one on the step screen
                    code = next(i for i in ids if i in balances)
                    unit = balances[code].unit
                else:
                    code = next(
                        f"{i}.{param.instrument.tag}"
                        for i in ids
                        if f"{i}.{param.instrument.tag}" in tags
                    )
                    unit = tags[code].unit
                Quantity.parse(f"1 {unit}").to(param.unit)  # converts, or raises
                bound.append((step.key, param.key, code))
    assert ("floor_scale_check", "check_reading", "BAL-002") in bound
    assert ("dispense_povidone", "net_mass", "BAL-001") in bound
    assert ("dry_mix", "product_temperature", "HSG-001.hsg_product_temperature") in bound


def test_the_publisher_feeds_every_mqtt_tag():
    from galenic.gateway.demo import demo_config
    from galenic.gateway.publisher import _stringify, demo_units, encode

    tagmap = demo_config().mqtt.tagmap
    published = set()
    for topic, produce in demo_units().items():
        readings = tagmap.decode(topic, encode(_stringify(produce())), utcnow())
        published.update(r.tag for r in readings)
    mqtt_tags = {t.code for t in TAGS if not t.code.endswith(".weight")}
    assert published == mqtt_tags
