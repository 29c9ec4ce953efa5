"""The stand-in broker speaks enough MQTT 3.1.1 for aiomqtt: QoS 0/1, wildcards, retained,
persistent sessions."""

from __future__ import annotations

import aiomqtt
from gateway_helpers import run_async

from galenic.gateway.broker import Broker

run = run_async


async def _collect(client: aiomqtt.Client, n: int) -> list[tuple[str, bytes]]:
    got = []
    async for message in client.messages:
        got.append((str(message.topic), bytes(message.payload)))  # type: ignore[arg-type]
        if len(got) == n:
            return got
    return got


def test_publish_subscribe_with_wildcards_and_retained():
    async def go():
        async with (
            Broker(port=0) as broker,
            aiomqtt.Client("127.0.0.1", broker.port, identifier="pub") as pub,
        ):
            await pub.publish("plant/a/temp", b"retained", qos=1, retain=True)
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="sub") as sub:
                await sub.subscribe("plant/+/temp", qos=1)
                await sub.subscribe("other/#", qos=0)
                await pub.publish("plant/b/temp", b"1", qos=1)
                await pub.publish("other/x/y", b"2", qos=0)
                await pub.publish("nobody/listens", b"3", qos=0)
                return await _collect(sub, 3)

    assert run(go()) == [
        ("plant/a/temp", b"retained"),
        ("plant/b/temp", b"1"),
        ("other/x/y", b"2"),
    ]


def test_persistent_session_gets_what_was_published_while_away():
    async def go():
        async with Broker(port=0) as broker:
            async with aiomqtt.Client(
                "127.0.0.1", broker.port, identifier="gw", clean_session=False
            ) as gw:
                await gw.subscribe("t/#", qos=1)
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub") as pub:
                for n in range(5):
                    await pub.publish("t/x", str(n).encode(), qos=1)
            async with aiomqtt.Client(
                "127.0.0.1", broker.port, identifier="gw", clean_session=False
            ) as gw:
                return [p for _, p in await _collect(gw, 5)]

    assert run(go()) == [b"0", b"1", b"2", b"3", b"4"]
