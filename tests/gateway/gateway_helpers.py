"""Helpers for gateway tests (imported as ``gateway_helpers``).

The device side runs on an asyncio loop in a background thread, exactly as in the gateway process;
the test thread owns the database (pytest-django's transaction) and pumps the outbox into the real
ingest endpoint through Django's test client, with the gateway's token.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from galenic.gateway.delivery import DeliveryFailed, DeliveryResult, items_body, parse_answer
from galenic.gateway.outbox import Outbox
from galenic.gateway.runner import deliver_batch


async def _cancel_all() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class BackgroundLoop:
    """An asyncio loop in a thread of its own, stopped for good on exit.

    On exit every task is cancelled and awaited, async generators and the default executor (the
    ``asyncio.to_thread`` workers) are shut down, the thread is joined and the loop closed, so no
    device task outlives its test and nothing logs after pytest has closed its capture files.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="gateway-test-loop", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> BackgroundLoop:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 10) -> None:
        if self.loop.is_closed():
            return

        async def _shutdown() -> None:
            await _cancel_all()
            await self.loop.shutdown_asyncgens()
            await self.loop.shutdown_default_executor()

        if self.thread.is_alive():
            try:
                self.call(_shutdown(), timeout)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError("the gateway test loop did not stop")
        self.loop.close()

    def cancel_all(self, timeout: float = 10) -> None:
        """Cancel every task (the connectors) and wait until they have ended; the loop runs on."""
        self.call(_cancel_all(), timeout)

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


class ClientDelivery:
    """The gateway's Delivery, over Django's test client instead of urllib."""

    def __init__(self, client: Any, token: str) -> None:
        self.client, self.token = client, token

    def _post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        response = self.client.post(
            path,
            data=body if isinstance(body, bytes) else json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if response.status_code != 200:
            raise DeliveryFailed(f"{response.status_code}: {response.content[:200]!r}")
        return dict(response.json())

    def send(self, items: list[str]) -> DeliveryResult:
        return parse_answer(self._post("/api/v1/equipment/ingest", items_body(items)))

    def report_status(self, status: dict[str, Any]) -> None:
        self._post("/api/v1/equipment/gateway/status", status)


def pump(outbox: Outbox, delivery: ClientDelivery, batch_size: int = 1000) -> DeliveryResult:
    """Deliver everything the outbox holds now; returns the summed answer."""
    total = DeliveryResult()
    while True:
        count, result = deliver_batch(outbox, delivery, batch_size)
        if not count:
            return total
        total.accepted += result.accepted
        total.duplicates += result.duplicates
        total.rejected.update({len(total.rejected) + k: v for k, v in result.rejected.items()})


def deliver_until(
    outbox: Outbox,
    delivery: ClientDelivery,
    arrived: Callable[[], Any],
    timeout: float = 15,
) -> DeliveryResult:
    """Deliver the outbox to the server until ``arrived()`` (a check on the server's side) holds.

    Waiting for the device side's counters and then pumping once races the outbox commit of the
    newest reading; this waits for the reading the test is about to arrive where it is used.
    """
    total = DeliveryResult()

    def _delivered() -> Any:
        result = pump(outbox, delivery)
        total.accepted += result.accepted
        total.duplicates += result.duplicates
        total.rejected.update({len(total.rejected) + k: v for k, v in result.rejected.items()})
        return arrived()

    wait_until(_delivered, timeout)
    return total


def wait_until(predicate: Callable[[], Any], timeout: float = 15, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


# --- MQTT brokers ------------------------------------------------------------------------------

MOSQUITTO_HOST, MOSQUITTO_PORT = "127.0.0.1", 1883


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateMosquitto:
    """A Mosquitto of our own (same binary as the system broker) that a test may stop and start.

    The shared broker on 1883 is not ours to kill; restart tests use this one, with persistence on,
    exactly as a site would run it.
    """

    def __init__(self, workdir: Any) -> None:
        import shutil

        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            # user root: when started as root, stay root so the persistence file in the test's
            # private directory is writable (ignored when not started as root).
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\nuser root\n"
            f"persistence_location {workdir}/\nmax_queued_messages 100000\n"
        )
        self.proc: Any = None

    def start(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open("127.0.0.1", self.port, 0.2), timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file and exits
            self.proc.wait(10)
        self.proc = None


def run_async(coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
    """asyncio.run in a thread of its own: the main thread may already run a loop (Playwright)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(asyncio.wait_for(coro, timeout))
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
