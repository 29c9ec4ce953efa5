"""Against the real Mosquitto: topics and JSON fields become tag values with units and times."""

from __future__ import annotations

from decimal import Decimal

import pytest
from gateway_helpers import BackgroundLoop, ClientDelivery, deliver_until, wait_until
from mqtt_rig import (
    MOSQUITTO_PORT,
    forget_session,
    message,
    mqtt_config,
    publish_all,
    register_granulator,
    require_mosquitto,
    unique_prefix,
)

from galenic.core.context import action_context
from galenic.equipment import errors, selectors, services
from galenic.equipment.models import Excursion, TagValue
from galenic.gateway.outbox import Outbox
from galenic.gateway.runner import MqttConnector, States

pytestmark = pytest.mark.mqtt


@pytest.fixture
def mqtt_rig(personas, tmp_path, csrf_client):
    require_mosquitto()
    token = register_granulator(personas["admin"])
    prefix = unique_prefix()
    cfg = mqtt_config(prefix)
    with Outbox(tmp_path / "outbox.sqlite3") as outbox, BackgroundLoop() as loop:
        states = States()
        connector = MqttConnector(cfg, outbox, states, lambda: None)
        loop.spawn(connector.run())
        wait_until(lambda: states.get("mqtt") == "connected")
        yield (
            loop,
            outbox,
            ClientDelivery(csrf_client, token),
            f"{prefix}/GRN-01/telemetry",
            connector,
        )
        # The connector first (it would take its persistent session back at once), then the session.
        loop.cancel_all()
        loop.call(forget_session(MOSQUITTO_PORT, cfg.client_id))


def stored(tag_code, seq):
    """Server side: the reading (tag, seq) has been stored."""
    return lambda: TagValue.objects.filter(tag__code=tag_code, seq=seq).exists()


def test_messages_map_to_tags_exactly(mqtt_rig, personas):
    loop, outbox, delivery, topic, connector = mqtt_rig
    payloads = [message(n, f"24.{n}", f"4{n}.25") for n in range(1, 6)]
    loop.call(publish_all(MOSQUITTO_PORT, topic, [*payloads, b"not json"]))
    wait_until(lambda: connector.received >= 6)  # counted once committed to the outbox
    result = deliver_until(outbox, delivery, stored("GRN-01.impeller_load", 5))
    assert (result.accepted, result.duplicates, result.rejected) == (10, 0, {})
    temps = list(
        TagValue.objects.filter(tag__code="GRN-01.product_temp")
        .order_by("seq")
        .values_list("seq", "value", "raw")
    )
    assert temps == [(n, Decimal(f"24.{n}"), f"24.{n}") for n in range(1, 6)]
    assert connector.bad_messages == 1
    with action_context("test"):
        live = services.capture_tag_value(
            actor=personas["operator"], tag_code="GRN-01.impeller_load"
        )
    assert live.value == Decimal("45.25")
    assert live.unit == "%"


def test_excursion_from_the_broker(mqtt_rig):
    loop, outbox, delivery, topic, _connector = mqtt_rig
    loop.call(
        publish_all(MOSQUITTO_PORT, topic, [message(1, "25"), message(2, "33"), message(3, "25")])
    )
    deliver_until(outbox, delivery, stored("GRN-01.product_temp", 3))
    excursion = Excursion.objects.get()
    assert (excursion.level, excursion.peak_value) == ("action", Decimal("33"))
    assert excursion.ended_at is not None


def test_stale_value_is_refused_then_fresh_one_accepted(mqtt_rig):
    loop, outbox, delivery, topic, _connector = mqtt_rig
    loop.call(publish_all(MOSQUITTO_PORT, topic, [message(1, "24.0", age_s=60)]))
    deliver_until(outbox, delivery, stored("GRN-01.product_temp", 1))
    with pytest.raises(errors.StaleReading, match=r"is 6[0-9] s old \(at most 5 s allowed\)"):
        selectors.tag_value_for_capture("GRN-01.product_temp")
    loop.call(publish_all(MOSQUITTO_PORT, topic, [message(2, "24.5")]))
    # Wait for the fresh value itself to reach the server: the broker delivering it to the
    # connector does not mean it is in the outbox yet (the cause of the old flake).
    deliver_until(outbox, delivery, stored("GRN-01.product_temp", 2))
    assert selectors.tag_value_for_capture("GRN-01.product_temp").value == Decimal("24.5")
