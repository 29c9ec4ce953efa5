"""Async MT-SICS client for a balance on TCP (e.g. a Mettler-Toledo Excellence with Ethernet option).

One command at a time (the protocol has no request ids). Every command has a timeout; a timeout,
refused or dropped connection or an unparseable reply closes the socket, and the next command
reconnects (once per call) so a balance that was switched off and on again comes back by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

from galenic.gateway import mtsics
from galenic.gateway.mtsics import (
    BalanceUnavailable,
    Command,
    Identity,
    ProtocolError,
    Weight,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class MtSicsClient:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 2.0,
        stable_timeout: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.stable_timeout = stable_timeout
        self.connect_timeout = connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()
        self.identity: Identity | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            await self.close()
            raise BalanceUnavailable(f"balance at {self.address} unreachable: {exc}") from None

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def __aenter__(self) -> MtSicsClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _roundtrip(self, command: str, timeout: float) -> str:
        if not self.connected:
            await self.connect()
        assert self._reader is not None
        assert self._writer is not None
        try:
            self._writer.write(mtsics.encode(command))
            await self._writer.drain()
            raw = await asyncio.wait_for(self._reader.readuntil(mtsics.EOL), timeout)
        except TimeoutError:
            await self.close()
            raise BalanceUnavailable(
                f"balance at {self.address} did not answer {command} within {timeout:g} s"
            ) from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            await self.close()
            raise BalanceUnavailable(
                f"connection to balance at {self.address} lost: {exc}"
            ) from None
        try:
            return raw.decode(mtsics.ENCODING)
        except UnicodeDecodeError:
            await self.close()
            raise ProtocolError(f"non-ASCII reply from balance at {self.address}") from None

    async def command(self, command: str, timeout: float | None = None) -> str:
        """Send one command and return its reply line; reconnect once if the link was broken."""
        async with self._lock:
            try:
                return await self._roundtrip(command, timeout or self.timeout)
            except BalanceUnavailable:
                if self.connected:
                    raise
                # A stale socket (balance restarted): one fresh attempt.
                return await self._roundtrip(command, timeout or self.timeout)

    async def _parsed(
        self, command: str, parse: Callable[[str], T], timeout: float | None = None
    ) -> T:
        line = await self.command(command, timeout)
        try:
            return parse(line)
        except ProtocolError:
            await self.close()
            raise

    async def identify(self) -> Identity:
        model = await self._parsed(Command.TYPE, lambda s: mtsics.parse_text(s, Command.TYPE))
        serial = await self._parsed(Command.SERIAL, lambda s: mtsics.parse_text(s, Command.SERIAL))
        self.identity = Identity(model=model, serial=serial)
        return self.identity

    async def stable_weight(self) -> Weight:
        """``S``: the balance answers once the weight is stable, or ``S I`` if it never settles."""
        return await self._parsed(
            Command.STABLE_WEIGHT,
            lambda s: mtsics.parse_weight(s, Command.STABLE_WEIGHT),
            timeout=self.stable_timeout,
        )

    async def immediate_weight(self) -> Weight:
        return await self._parsed(
            Command.IMMEDIATE_WEIGHT, lambda s: mtsics.parse_weight(s, Command.IMMEDIATE_WEIGHT)
        )

    async def tare(self) -> Weight:
        return await self._parsed(Command.TARE, mtsics.parse_tare, timeout=self.stable_timeout)

    async def zero(self) -> None:
        await self._parsed(Command.ZERO, mtsics.parse_zero, timeout=self.stable_timeout)
