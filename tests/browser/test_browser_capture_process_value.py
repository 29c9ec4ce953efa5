"""An operator captures the granulator's product temperature from MQTT into a step, and the broker
indicator beside the button follows a broker restart by itself.

Real pieces throughout: a Mosquitto of the test's own (the shared one is not ours to restart), a
publisher, the gateway (MQTT connector, outbox, HTTP delivery and status reports) delivering to
the live test server, and the step screen polling its live panel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from galenic.testing.support import PASSWORD

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "execution"))
sys.path.insert(0, str(TESTS / "gateway"))

pytestmark = [pytest.mark.browser, pytest.mark.mqtt]


def _settled(page):
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


def test_capture_from_mqtt_and_the_broker_indicator_follows_a_restart(
    page, live_server, login, personas, tmp_path, one_request_at_a_time
):
    from execution_helpers import acknowledge, authority, effective_version
    from execution_helpers import tiny_with_process_values as record_text
    from gateway_helpers import BackgroundLoop, PrivateMosquitto
    from mqtt_rig import mqtt_config, register_granulator, require_mosquitto, unique_prefix
    from playwright.sync_api import expect

    from galenic.core.context import action_context
    from galenic.execution import services
    from galenic.gateway.config import GatewayConfig
    from galenic.gateway.publisher import publish
    from galenic.gateway.runner import Gateway

    require_mosquitto()
    token = register_granulator(personas["admin"])
    for role in ("operator", "supervisor"):
        acknowledge(personas[role])
    effective_version(personas["engineer"], text=record_text("GRN-01", "product_temp"))
    with action_context("test"):
        services.create_batch(actor=personas["supervisor"], mbr="MBR-TINY", number="T001")
        services.release_to_floor(
            actor=personas["supervisor"],
            number="T001",
            authority=authority(personas["supervisor"]),
        )
        services.start_batch(actor=personas["operator"], number="T001")

    broker = PrivateMosquitto(tmp_path)
    broker.start()
    prefix = unique_prefix()
    config = GatewayConfig(
        code="GW-T",
        server_url=live_server.url,
        token=token,
        outbox=tmp_path / "gateway.outbox.sqlite3",
        deliver_interval=0.2,
        status_interval=1.0,
        mqtt=mqtt_config(prefix, port=broker.port),
    )
    telemetry = {
        f"{prefix}/GRN-01/telemetry": lambda: {
            "product_temp": "24.6",
            "impeller": {"load_pct": "41.0"},
        }
    }
    try:
        with BackgroundLoop() as loop:
            loop.spawn(Gateway(config).run())
            loop.spawn(publish("127.0.0.1", broker.port, interval=0.5, units=telemetry))

            login(page, personas["operator"].username, PASSWORD)
            page.goto("/batches/T001/steps/line_clearance/")
            live = page.get_by_test_id("param-product_temp")
            expect(live.get_by_test_id("live-status")).to_contain_text("24.6 °C", timeout=20_000)
            expect(live.get_by_test_id("broker-status")).to_have_attribute(
                "data-state", "connected", timeout=20_000
            )
            expect(live.get_by_test_id("broker-status")).to_contain_text(
                "MQTT broker connected through GW-T"
            )

            live.get_by_test_id("read-product_temp").click()
            _settled(page)
            expect(live.get_by_test_id("recorded-value")).to_have_text("24.6 °C")
            expect(live.get_by_test_id("evaluation")).to_have_text("OK")
            expect(live.get_by_test_id("recorded-source")).to_contain_text(
                "Captured from GRN-01 · tag GRN-01.product_temp"
            )

            # The broker goes away: the indicator says so (and that it reconnects), by itself.
            mean = page.get_by_test_id("param-product_temp_mean")
            indicator = mean.get_by_test_id("broker-status")
            expect(indicator).to_have_attribute("data-state", "connected")
            broker.stop()
            expect(indicator).to_have_attribute("data-state", "disconnected", timeout=20_000)
            expect(indicator).to_contain_text("the gateway reconnects by itself")
            broker.start()
            expect(indicator).to_have_attribute("data-state", "connected", timeout=30_000)

            expect(mean.get_by_test_id("live-status")).to_have_attribute(
                "data-ready", "true", timeout=20_000
            )
            mean.get_by_test_id("read-product_temp_mean").click()
            _settled(page)
            expect(mean.get_by_test_id("recorded-value")).to_have_text("24.6 °C")
            expect(mean.get_by_test_id("recorded-source")).to_contain_text("mean of")
    finally:
        broker.stop()
