"""A balance simulator that speaks MT-SICS level 0/1 on a local TCP port (STYLE.md #6).

Tests drive it through its Python methods; the demo and people drive it through extra ``SIM ...``
lines on the same port (a real balance answers ``ES`` to those, so the gateway never sends them)::

    SIM WEIGHT 12.345        gross weight on the pan (in the balance's unit)
    SIM UNSTABLE 3           dynamic for 3 s (SIM UNSTABLE ON / OFF to hold it)
    SIM OVERLOAD ON|OFF      SIM UNDERLOAD ON|OFF
    SIM DISCONNECT 5         drop every connection and refuse new ones for 5 s
    SIM MUTE ON|OFF          keep connections open but never answer (timeouts)
    SIM SERIAL B0123         change the reported serial number (identity mismatch tests)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from decimal import Decimal, InvalidOperation

from galenic.gateway import mtsics
from galenic.gateway.mtsics import Command

log = logging.getLogger(__name__)


class BalanceSimulator:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "XS205 Excellence 220 g",
        serial: str = "B000000001",
        unit: str = "g",
        decimals: int = 3,
        capacity: Decimal = Decimal("220"),
        settle_wait: float = 0.5,
    ) -> None:
        self.host = host
        self.port = port
        self.model = model
        self.serial = serial
        self.unit = unit
        self.decimals = decimals
        self.capacity = capacity
        self.settle_wait = settle_wait
        self.gross = Decimal(0)
        self.tare_value = Decimal(0)
        self.zero_offset = Decimal(0)
        self.overload = False
        self.underload = False
        self.muted = False
        self._unstable_until = 0.0
        self._unstable_hold = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._reopen: asyncio.Task[None] | None = None
        self.commands_seen: list[str] = []

    # --- control (tests call these directly) -----------------------------------------------

    def set_weight(self, value: Decimal | str | float) -> None:
        self.gross = Decimal(str(value))

    def set_unstable(self, seconds: float | None = None, *, hold: bool | None = None) -> None:
        if hold is not None:
            self._unstable_hold = hold
        if seconds is not None:
            self._unstable_until = time.monotonic() + seconds

    @property
    def unstable(self) -> bool:
        return self._unstable_hold or time.monotonic() < self._unstable_until

    @property
    def net(self) -> Decimal:
        return self.gross - self.tare_value - self.zero_offset

    async def disconnect(self, seconds: float) -> None:
        """Drop every connection and stop listening for ``seconds`` (a power cycle, a cable pulled)."""
        await self._close_server()
        if self._reopen is not None:
            self._reopen.cancel()
        self._reopen = asyncio.create_task(self._reopen_after(seconds))

    async def _reopen_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.start()

    # --- server ----------------------------------------------------------------------------

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _close_server(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def stop(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        await self._close_server()

    async def __aenter__(self) -> BalanceSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        await self.start()
        while True:
            await asyncio.sleep(3600)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    raw = await reader.readuntil(mtsics.EOL)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                line = raw.decode("ascii", errors="replace").strip()
                self.commands_seen.append(line)
                if self.muted and not line.startswith("SIM"):
                    continue
                reply = await self.reply_to(line)
                if writer.is_closing():
                    return
                writer.write(mtsics.encode(reply))
                with contextlib.suppress(OSError):
                    await writer.drain()
        except asyncio.CancelledError:
            # The simulator's loop is shutting down: end quietly. (Python 3.11's start_server
            # logs a cancelled connection handler as an error in the loop's exception handler.)
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    # --- the protocol ----------------------------------------------------------------------

    def _fmt(self, head: str, status: str, value: Decimal) -> str:
        return mtsics.format_weight(head, status, value, self.unit, self.decimals)

    def _limit_status(self) -> str | None:
        if self.overload or self.gross > self.capacity:
            return "+"
        if self.underload:
            return "-"
        return None

    def _jitter(self) -> Decimal:
        step = Decimal(1).scaleb(-self.decimals)
        return step * random.randint(-40, 40)  # noqa: S311 - simulated noise, not security

    async def reply_to(self, line: str) -> str:
        parts = line.split()
        if not parts:
            return "ES"
        head = parts[0].upper()
        if head == "SIM":
            return self._control(parts[1:])
        if head == Command.TYPE:
            return mtsics.format_text("I2", self.model)
        if head == Command.SERIAL:
            return mtsics.format_text("I4", self.serial)
        if head == Command.IMMEDIATE_WEIGHT:
            limit = self._limit_status()
            if limit:
                return f"S {limit}"
            if self.unstable:
                return self._fmt("S", "D", self.net + self._jitter())
            return self._fmt("S", "S", self.net)
        if head == Command.STABLE_WEIGHT:
            limit = self._limit_status()
            if limit:
                return f"S {limit}"
            deadline = time.monotonic() + self.settle_wait
            while self.unstable and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if self.unstable:
                return "S I"
            return self._fmt("S", "S", self.net)
        if head == Command.TARE:
            limit = self._limit_status()
            if limit:
                return f"T {limit}"
            if self.unstable:
                return "T I"
            self.tare_value = self.gross - self.zero_offset
            return self._fmt("T", "S", self.tare_value)
        if head == Command.ZERO:
            limit = self._limit_status()
            if limit:
                return f"Z {limit}"
            if self.unstable:
                return "Z I"
            self.zero_offset = self.gross
            self.tare_value = Decimal(0)
            return "Z A"
        return "ES"

    def _control(self, args: list[str]) -> str:
        if not args:
            return "ES"
        what = args[0].upper()
        arg = args[1] if len(args) > 1 else ""
        flag = arg.upper() in {"ON", "1", "TRUE"}
        try:
            if what == "WEIGHT":
                self.set_weight(Decimal(arg))
            elif what == "UNSTABLE":
                if arg.upper() in {"ON", "OFF"}:
                    self.set_unstable(hold=flag)
                else:
                    self.set_unstable(float(arg))
            elif what == "OVERLOAD":
                self.overload = flag
            elif what == "UNDERLOAD":
                self.underload = flag
            elif what == "MUTE":
                self.muted = flag
            elif what == "SERIAL":
                self.serial = arg
            elif what == "DISCONNECT":
                asyncio.get_running_loop().call_soon(
                    lambda: asyncio.ensure_future(self.disconnect(float(arg or "5")))
                )
            else:
                return "ES"
        except (InvalidOperation, ValueError):
            return "EL"
        return "SIM A"


async def send_control(host: str, port: int, line: str, timeout: float = 2.0) -> str:
    """Send one ``SIM ...`` line to a running simulator (used by the CLI and browser tests)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(mtsics.encode(line))
        await writer.drain()
        raw = await asyncio.wait_for(reader.readuntil(mtsics.EOL), timeout)
        return raw.decode("ascii").strip()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
