"""The demo gateway's tag map and the demo seeding describe the same plant."""

from __future__ import annotations

import yaml

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
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
    assert "8 registered, 11 tags defined" in first[0]
    assert "0 registered, 0 tags defined" in second[0]
    token = (tmp_path / "gateway" / "GW-DEMO.token").read_text().strip()
    assert token.startswith("GW-DEMO:")
    assert Gateway.objects.get().code == "GW-DEMO"
    assert Equipment.objects.get(code="BAL-03").calibration_state(utcnow().date()) == "expired"
    assert Tag.objects.count() == len(TAGS)
