"""The gateway process: device connectors → durable outbox → delivery to the server.

Every connector owns its connection, reconnects by itself with back-off and reports its state
(``connected`` / ``disconnected`` / ``connecting``) to the shared ``States``; the gateway sends those
states to the server, which shows them in the UI. Nothing here imports Django: this process runs on
the shop floor, next to the equipment, and talks to the server only over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiomqtt

from galenic.gateway.balance import MtSicsClient
from galenic.gateway.config import BalanceConfig, GatewayConfig, MqttConfig
from galenic.gateway.delivery import Delivery, DeliveryFailed, DeliveryResult, HttpDelivery
from galenic.gateway.mtsics import BalanceError, BalanceUnavailable, Overload, Underload
from galenic.gateway.outbox import Outbox
from galenic.gateway.readings import Quality, Reading, iso, utcnow
from galenic.gateway.tagmap import MappingError, TagMap

log = logging.getLogger("galenic.gateway")


@dataclass
class ConnectionState:
    name: str
    kind: str  # "mqtt" | "balance" | "server"
    state: str = "connecting"
    since: datetime = field(default_factory=utcnow)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "since": iso(self.since),
            "detail": self.detail,
        }


class States:
    """Connection states of one gateway; ``changed`` wakes the status reporter."""

    def __init__(self) -> None:
        self.items: dict[str, ConnectionState] = {}
        self.changed = asyncio.Event()

    def set(self, name: str, kind: str, state: str, detail: str = "") -> None:
        current = self.items.get(name)
        if current is not None and current.state == state and current.detail == detail:
            return
        if current is None or current.state != state:
            level = logging.INFO if state == "connected" else logging.WARNING
            log.log(level, "%s %s: %s %s", kind, name, state, detail)
            self.items[name] = ConnectionState(name=name, kind=kind, state=state, detail=detail)
        else:
            current.detail = detail
        self.changed.set()

    def get(self, name: str) -> str:
        item = self.items.get(name)
        return item.state if item else "unknown"


class Backoff:
    def __init__(self, minimum: float = 0.5, maximum: float = 10.0) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.current = minimum

    def reset(self) -> None:
        self.current = self.minimum

    async def wait(self) -> None:
        await asyncio.sleep(self.current)
        self.current = min(self.current * 2, self.maximum)


# --- balances --------------------------------------------------------------------------------


class BalanceConnector:
    """Polls one MT-SICS balance with ``SI`` and turns every answer into a reading.

    The server keeps the latest one; pressing "read" in a step takes it only if it is stable, fresh
    and from the registered serial number, so the web app never waits for the balance.
    """

    def __init__(
        self, cfg: BalanceConfig, outbox: Outbox, states: States, notify: Callable[[], None]
    ) -> None:
        self.cfg = cfg
        self.outbox = outbox
        self.states = states
        self.notify = notify
        self.client = MtSicsClient(cfg.host, cfg.port, timeout=cfg.timeout)

    def _reading(self, value: Any, unit: str, quality: Quality, raw: str) -> Reading:
        identity = self.client.identity
        return Reading(
            source=self.cfg.source,
            tag=self.cfg.tag,
            value=value,
            unit=unit,
            received_at=utcnow(),
            quality=quality,
            serial=identity.serial if identity else "",
            raw=raw,
        )

    async def poll_once(self) -> Reading:
        if self.client.identity is None or not self.client.connected:
            await self.client.identify()
        try:
            weight = await self.client.immediate_weight()
        except Overload as exc:
            return self._reading(None, "", Quality.OVERLOAD, exc.reply.strip())
        except Underload as exc:
            return self._reading(None, "", Quality.UNDERLOAD, exc.reply.strip())
        quality = Quality.GOOD if weight.stable else Quality.UNSTABLE
        return self._reading(weight.value, weight.unit, quality, weight.raw)

    async def run(self) -> None:
        name = self.cfg.source
        backoff = Backoff()
        while True:
            try:
                reading = await self.poll_once()
                self.states.set(
                    name,
                    "balance",
                    "connected",
                    f"{self.client.identity.model if self.client.identity else ''} "
                    f"serial {reading.serial} at {self.client.address}",
                )
                await asyncio.to_thread(self.outbox.append, [reading])
                self.notify()
                backoff.reset()
                await asyncio.sleep(self.cfg.poll_interval)
            except BalanceUnavailable as exc:
                self.client.identity = None
                self.states.set(name, "balance", "disconnected", str(exc))
                await backoff.wait()
            except BalanceError as exc:
                self.states.set(name, "balance", "connected", f"error: {exc}")
                await asyncio.sleep(self.cfg.poll_interval)


# --- MQTT ------------------------------------------------------------------------------------


def tls_context(cfg: MqttConfig) -> ssl.SSLContext | None:
    if cfg.tls is None:
        return None
    context = ssl.create_default_context(cafile=cfg.tls.ca_file)
    if cfg.tls.cert_file:
        context.load_cert_chain(cfg.tls.cert_file, cfg.tls.key_file)
    if cfg.tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def read_disconnect_reason(client: aiomqtt.Client) -> None:
    """aiomqtt keeps why the broker went away in a future that only its message iterator reads;
    after a publish or subscribe failed, read it, or asyncio logs "Future exception was never
    retrieved" for every broker outage."""
    disconnected = client._disconnected
    if disconnected.done() and not disconnected.cancelled():
        disconnected.exception()


class MqttConnector:
    """Subscribes to the tag map's topics and writes each message's readings to the outbox.

    With QoS 1 the gateway keeps a persistent session (fixed client id, clean_session=False) and
    acknowledges a message to the broker only after its readings are committed to the outbox, so a
    broker restart, a gateway crash or a network cut loses nothing the broker accepted.
    """

    MAX_BATCH = 2000

    def __init__(
        self,
        cfg: MqttConfig,
        outbox: Outbox,
        states: States,
        notify: Callable[[], None],
        *,
        name: str = "mqtt",
    ) -> None:
        self.cfg = cfg
        self.outbox = outbox
        self.states = states
        self.notify = notify
        self.name = name
        self.tagmap: TagMap = cfg.tagmap
        self.received = 0
        self.stored = 0
        self.bad_messages = 0
        self.batches = 0  # outbox commits: messages per commit = received / batches
        self.connected = asyncio.Event()
        self._bad_logged: set[str] = set()

    @property
    def address(self) -> str:
        return f"{'mqtts' if self.cfg.tls else 'mqtt'}://{self.cfg.host}:{self.cfg.port}"

    def _client(self) -> aiomqtt.Client:
        client = aiomqtt.Client(
            self.cfg.host,
            self.cfg.port,
            username=self.cfg.username,
            password=self.cfg.password,
            identifier=self.cfg.client_id,
            clean_session=self.cfg.qos == 0,
            keepalive=self.cfg.keepalive,
            tls_context=tls_context(self.cfg),
            timeout=10,
        )
        if self.cfg.qos > 0:
            # Acknowledge only after the outbox commit (aiomqtt does not expose this paho option).
            client._client.manual_ack_set(True)
        return client

    def decode(self, message: aiomqtt.Message, received_at: datetime) -> list[Reading]:
        payload = message.payload
        if not isinstance(payload, bytes | bytearray):
            payload = str(payload).encode()
        try:
            return self.tagmap.decode(str(message.topic), bytes(payload), received_at)
        except MappingError as exc:
            self.bad_messages += 1
            reason = str(exc)
            if reason not in self._bad_logged and len(self._bad_logged) < 1000:
                self._bad_logged.add(reason)
                log.warning("mqtt message on %s refused: %s", message.topic, reason)
            return []

    async def _consume(self, client: aiomqtt.Client) -> None:
        messages = client.messages
        iterator = aiter(messages)
        while True:
            batch = [await anext(iterator)]
            # Take what is already queued without a task per message (aiomqtt's iterator makes
            # one); the queue is aiomqtt's own, as filled by its on_message callback.
            queue = client._queue
            while len(batch) < self.MAX_BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            received_at = utcnow()
            readings: list[Reading] = []
            for message in batch:
                readings.extend(self.decode(message, received_at))
            if readings:
                self.stored += await asyncio.to_thread(self.outbox.append, readings)
                self.notify()
            # Counted once committed: whoever waits on ``received`` finds the readings in the outbox.
            self.received += len(batch)
            self.batches += 1
            if self.cfg.qos > 0:
                for message in batch:
                    if message.qos > 0:
                        client._client.ack(message.mid, message.qos)

    async def run(self) -> None:
        backoff = Backoff(self.cfg.reconnect_min, self.cfg.reconnect_max)
        while True:
            self.states.set(self.name, "mqtt", "connecting", self.address)
            client = self._client()
            try:
                async with client:
                    for topic in self.tagmap.subscriptions():
                        await client.subscribe(topic, qos=self.cfg.qos)
                    self.states.set(self.name, "mqtt", "connected", self.address)
                    self.connected.set()
                    backoff.reset()
                    await self._consume(client)
            except aiomqtt.MqttError as exc:
                read_disconnect_reason(client)
                self.connected.clear()
                self.states.set(
                    self.name, "mqtt", "disconnected", f"{self.address}: {exc}; reconnecting"
                )
                await backoff.wait()


# --- delivery --------------------------------------------------------------------------------


def deliver_batch(
    outbox: Outbox, delivery: Delivery, batch_size: int
) -> tuple[int, DeliveryResult]:
    """Send the oldest ``batch_size`` readings and forget them once the server has answered.

    Synchronous on purpose: the gateway runs it in a worker thread; tests call it directly.
    Raises DeliveryFailed (nothing forgotten) when the server did not answer.
    """
    items = outbox.peek(batch_size)
    if not items:
        return 0, DeliveryResult()
    result = delivery.send([i.text for i in items])
    outbox.ack(items, {items[index].id: reason for index, reason in result.rejected.items()})
    return len(items), result


class Deliverer:
    def __init__(
        self,
        outbox: Outbox,
        delivery: Delivery,
        states: States,
        *,
        batch_size: int = 1000,
        interval: float = 0.5,
    ) -> None:
        self.outbox = outbox
        self.delivery = delivery
        self.states = states
        self.batch_size = batch_size
        self.interval = interval
        self.wake = asyncio.Event()
        self.delivered = 0
        self.duplicates = 0
        self.rejected = 0

    async def deliver_once(self) -> int:
        """Send one batch; returns how many items the server answered for (0: nothing to do)."""
        count, result = await asyncio.to_thread(
            deliver_batch, self.outbox, self.delivery, self.batch_size
        )
        self.delivered += result.accepted
        self.duplicates += result.duplicates
        self.rejected += len(result.rejected)
        if result.rejected:
            log.warning(
                "server refused %d reading(s), e.g. %s",
                len(result.rejected),
                next(iter(result.rejected.values())),
            )
        return count

    async def run(self) -> None:
        backoff = Backoff(0.5, 15.0)
        while True:
            try:
                sent = await self.deliver_once()
                self.states.set("server", "server", "connected", "")
                backoff.reset()
                if sent < self.batch_size:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), self.interval)
            except DeliveryFailed as exc:
                pending = await asyncio.to_thread(self.outbox.pending)
                self.states.set(
                    "server", "server", "disconnected", f"{exc}; {pending} reading(s) buffered"
                )
                await backoff.wait()


class Gateway:
    def __init__(self, config: GatewayConfig, delivery: Delivery | None = None) -> None:
        self.config = config
        self.outbox = Outbox(config.outbox)
        self.delivery = delivery or HttpDelivery(
            config.server_url, config.token, token_file=config.token_file
        )
        self.states = States()
        self.deliverer = Deliverer(
            self.outbox,
            self.delivery,
            self.states,
            batch_size=config.batch_size,
            interval=config.deliver_interval,
        )
        self.mqtt = (
            MqttConnector(config.mqtt, self.outbox, self.states, self.deliverer.wake.set)
            if config.mqtt
            else None
        )
        self.balances = [
            BalanceConnector(b, self.outbox, self.states, self.deliverer.wake.set)
            for b in config.balances
        ]

    def status(self) -> dict[str, Any]:
        return {
            "gateway": self.config.code,
            "reported_at": iso(utcnow()),
            "pending": self.outbox.pending(),
            "connections": [s.as_dict() for s in self.states.items.values() if s.kind != "server"],
        }

    async def report_status(self) -> None:
        while True:
            self.states.changed.clear()
            try:
                status = await asyncio.to_thread(self.status)
                await asyncio.to_thread(self.delivery.report_status, status)
            except DeliveryFailed as exc:
                log.debug("status report failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.states.changed.wait(), self.config.status_interval)

    async def run(self) -> None:
        log.info(
            "gateway %s: outbox %s (%d buffered), server %s",
            self.config.code,
            self.config.outbox,
            self.outbox.pending(),
            self.config.server_url,
        )
        if not self.config.token:
            log.warning("no gateway token configured: readings are buffered until one is set")
        tasks = [self.deliverer.run(), self.report_status()]
        if self.mqtt is not None:
            tasks.append(self.mqtt.run())
        tasks.extend(b.run() for b in self.balances)
        try:
            async with asyncio.TaskGroup() as group:
                for coro in tasks:
                    group.create_task(coro)
        finally:
            self.outbox.close()
