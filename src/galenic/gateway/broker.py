"""A minimal MQTT 3.1.1 broker in asyncio: the demo's stand-in when no real broker is reachable.

Why our own and not a library: the demo needs only loopback publish/subscribe with QoS 0/1,
wildcards, retained messages and persistent sessions for one gateway. The maintained Python broker
on PyPI (amqtt) brings a plugin system and half a dozen further dependencies into a regulated
product for a feature no production site uses: a site runs Mosquitto (or another real broker), and
the tests run against the real Mosquitto. This file is ~250 lines and is tested with the same
aiomqtt client the gateway uses.

Not for production: no authentication, no TLS, QoS 2 is accepted but delivered at QoS 1, sessions
and retained messages live in memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections import deque
from dataclasses import dataclass, field

from galenic.gateway.tagmap import topic_matches

log = logging.getLogger(__name__)

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14
OFFLINE_QUEUE = 10_000


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([(kind << 4) | flags]) + _varint(len(body)) + body


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from("!H", data, pos)
    return data[pos + 2 : pos + 2 + length], pos + 2 + length


def _encode_string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


@dataclass
class Session:
    client_id: str
    subscriptions: dict[str, int] = field(default_factory=dict)  # filter → granted QoS
    queue: deque[tuple[str, bytes, int]] = field(
        default_factory=lambda: deque(maxlen=OFFLINE_QUEUE)
    )
    writer: asyncio.StreamWriter | None = None
    clean: bool = True
    next_id: int = 0

    def packet_id(self) -> int:
        self.next_id = self.next_id % 65535 + 1
        return self.next_id


class Broker:
    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self.sessions: dict[str, Session] = {}
        self.retained: dict[str, tuple[bytes, int]] = {}
        self._server: asyncio.Server | None = None
        self.published = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in self.sessions.values():
                if session.writer is not None:
                    session.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None

    async def __aenter__(self) -> Broker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        await self.start()
        while True:
            await asyncio.sleep(3600)

    # --- routing ---------------------------------------------------------------------------

    def _send(
        self, session: Session, topic: str, payload: bytes, qos: int, retain: bool = False
    ) -> None:
        if session.writer is None or session.writer.is_closing():
            if qos > 0:
                session.queue.append((topic, payload, qos))
            return
        body = _encode_string(topic.encode())
        if qos > 0:
            body += struct.pack("!H", session.packet_id())
        session.writer.write(_packet(PUBLISH, (qos << 1) | int(retain), body + payload))

    def route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.published += 1
        if retain:
            if payload:
                self.retained[topic] = (payload, qos)
            else:
                self.retained.pop(topic, None)
        for session in self.sessions.values():
            granted = max(
                (q for f, q in session.subscriptions.items() if topic_matches(f, topic)), default=-1
            )
            if granted >= 0:
                self._send(session, topic, payload, min(qos, granted))

    # --- one connection --------------------------------------------------------------------

    async def _read_packet(self, reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
        header = (await reader.readexactly(1))[0]
        multiplier, length = 1, 0
        while True:
            byte = (await reader.readexactly(1))[0]
            length += (byte & 0x7F) * multiplier
            if not byte & 0x80:
                break
            multiplier *= 128
            if multiplier > 128**3:
                raise ValueError("malformed remaining length")
        return header >> 4, header & 0x0F, await reader.readexactly(length)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session: Session | None = None
        try:
            kind, _flags, body = await self._read_packet(reader)
            if kind != CONNECT:
                return
            session = self._connect(body, writer)
            if session is None:
                return
            while True:
                kind, flags, body = await self._read_packet(reader)
                if kind == DISCONNECT:
                    return
                self._handle(session, writer, kind, flags, body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, struct.error):
            return
        finally:
            if session is not None and session.writer is writer:
                session.writer = None
                if session.clean:
                    self.sessions.pop(session.client_id, None)
            writer.close()

    def _connect(self, body: bytes, writer: asyncio.StreamWriter) -> Session | None:
        protocol, pos = _string(body, 0)
        level, flags = body[pos], body[pos + 1]
        pos += 4  # level, flags, keepalive
        client_id_raw, pos = _string(body, pos)
        if protocol not in (b"MQTT", b"MQIsdp") or level not in (3, 4):
            writer.write(_packet(CONNACK, 0, b"\x00\x01"))  # unacceptable protocol version
            return None
        clean = bool(flags & 0x02)
        client_id = client_id_raw.decode() or f"anon-{id(writer)}"
        existing = self.sessions.get(client_id)
        if existing is not None and existing.writer is not None:
            existing.writer.close()  # a client id connects once: the newer connection wins
        present = existing is not None and not clean
        session = existing if present and existing is not None else Session(client_id)
        self.sessions[client_id] = session
        session.writer = writer
        session.clean = clean
        writer.write(_packet(CONNACK, 0, bytes([int(present), 0])))
        while session.queue:
            topic, payload, qos = session.queue.popleft()
            self._send(session, topic, payload, qos)
        return session

    def _handle(
        self, session: Session, writer: asyncio.StreamWriter, kind: int, flags: int, body: bytes
    ) -> None:
        if kind == PUBLISH:
            qos, retain = (flags >> 1) & 0x03, bool(flags & 0x01)
            topic_raw, pos = _string(body, 0)
            packet_id = b""
            if qos > 0:
                packet_id, pos = body[pos : pos + 2], pos + 2
            self.route(topic_raw.decode(), body[pos:], min(qos, 1), retain)
            if qos == 1:
                writer.write(_packet(PUBACK, 0, packet_id))
            elif qos == 2:
                writer.write(_packet(PUBREC, 0, packet_id))
        elif kind == PUBREL:
            writer.write(_packet(PUBCOMP, 0, body[:2]))
        elif kind == SUBSCRIBE:
            packet_id, pos, granted = body[:2], 2, bytearray()
            new_filters: list[str] = []
            while pos < len(body):
                topic_filter, pos = _string(body, pos)
                qos = min(body[pos], 1)
                pos += 1
                session.subscriptions[topic_filter.decode()] = qos
                new_filters.append(topic_filter.decode())
                granted.append(qos)
            writer.write(_packet(SUBACK, 0, packet_id + bytes(granted)))
            for topic, (payload, qos) in self.retained.items():
                for new_filter in new_filters:
                    if topic_matches(new_filter, topic):
                        self._send(
                            session,
                            topic,
                            payload,
                            min(qos, session.subscriptions[new_filter]),
                            True,
                        )
                        break
        elif kind == UNSUBSCRIBE:
            packet_id, pos = body[:2], 2
            while pos < len(body):
                topic_filter, pos = _string(body, pos)
                session.subscriptions.pop(topic_filter.decode(), None)
            writer.write(_packet(UNSUBACK, 0, packet_id))
        elif kind == PINGREQ:
            writer.write(_packet(PINGRESP, 0, b""))
        # PUBACK / PUBREC / PUBCOMP from subscribers: delivery on loopback, nothing to resend.


async def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Is something listening (a real broker)?"""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return True
