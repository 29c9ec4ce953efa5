"""Gateway configuration: one YAML file, a few environment overrides (no Django here).

    gateway:
      code: GW-DEMO                        # registered on the server (galenic equipment gateways)
      server_url: http://127.0.0.1:8000
      token_file: var/gateway/GW-DEMO.token   # or token: ..., or GALENIC_GATEWAY_TOKEN
      outbox: var/gateway/GW-DEMO.outbox.sqlite3
      batch_size: 1000
      deliver_interval: 0.5                # seconds between delivery attempts when idle
      status_interval: 5
    mqtt:                                  # optional
      url: mqtt://127.0.0.1:1883           # mqtts:// for TLS
      username: ...                        # password: ... or password_env: NAME
      client_id: galenic-gw-demo           # fixed id + persistent session: no loss while away
      qos: 1
      tls: {ca_file: ..., cert_file: ..., key_file: ..., insecure: false}
      topics: [...]                        # the tag map, see tagmap.py
    balances:                              # optional, MT-SICS over TCP
      - {source: BAL-01, tag: BAL-01.weight, host: 127.0.0.1, port: 4001, poll_interval: 0.5}

Environment: GALENIC_GATEWAY_CONFIG (the file), GALENIC_GATEWAY_TOKEN, GALENIC_GATEWAY_SERVER,
GALENIC_MQTT_URL, GALENIC_MQTT_USERNAME, GALENIC_MQTT_PASSWORD.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from galenic.gateway.tagmap import TagMap


class ConfigError(ValueError):
    pass


@dataclass
class TlsConfig:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


@dataclass
class MqttConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    tls: TlsConfig | None = None
    username: str | None = None
    password: str | None = None
    client_id: str = "galenic-gateway"
    qos: int = 1
    keepalive: int = 15
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0
    tagmap: TagMap = field(default_factory=lambda: TagMap([]))


@dataclass
class BalanceConfig:
    source: str
    tag: str
    host: str
    port: int
    poll_interval: float = 1.0
    timeout: float = 2.0


@dataclass
class GatewayConfig:
    code: str
    server_url: str
    token: str
    outbox: Path
    token_file: Path | None = None  # re-read when the server refuses the token (rotated)
    batch_size: int = 1000
    deliver_interval: float = 0.5
    status_interval: float = 5.0
    mqtt: MqttConfig | None = None
    balances: list[BalanceConfig] = field(default_factory=list)


def parse_mqtt_url(url: str) -> tuple[str, int, bool, str | None, str | None]:
    parsed = urlparse(url)
    if parsed.scheme not in {"mqtt", "mqtts", "tcp", "ssl"}:
        raise ConfigError(f"MQTT URL {url!r}: use mqtt://host:port or mqtts://host:port")
    tls = parsed.scheme in {"mqtts", "ssl"}
    return (
        parsed.hostname or "127.0.0.1",
        parsed.port or (8883 if tls else 1883),
        tls,
        unquote(parsed.username) if parsed.username else None,
        unquote(parsed.password) if parsed.password else None,
    )


def _resolve(base: Path, value: str | None) -> str | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path))


def mqtt_from_dict(raw: dict[str, Any], base: Path | None = None) -> MqttConfig:
    base = base or Path.cwd()
    url = os.environ.get("GALENIC_MQTT_URL") or str(raw.get("url", "mqtt://127.0.0.1:1883"))
    host, port, tls_on, user, password = parse_mqtt_url(url)
    tls_raw = raw.get("tls")
    tls = None
    if tls_on or tls_raw:
        tls_raw = tls_raw if isinstance(tls_raw, dict) else {}
        tls = TlsConfig(
            ca_file=_resolve(base, tls_raw.get("ca_file")),
            cert_file=_resolve(base, tls_raw.get("cert_file")),
            key_file=_resolve(base, tls_raw.get("key_file")),
            insecure=bool(tls_raw.get("insecure", False)),
        )
    password_env = raw.get("password_env")
    qos = int(raw.get("qos", 1))
    if qos not in (0, 1):
        raise ConfigError("mqtt.qos: 0 or 1 (1 for no loss across restarts)")
    return MqttConfig(
        host=host,
        port=port,
        tls=tls,
        username=os.environ.get("GALENIC_MQTT_USERNAME") or raw.get("username") or user,
        password=os.environ.get("GALENIC_MQTT_PASSWORD")
        or (os.environ.get(password_env) if password_env else None)
        or raw.get("password")
        or password,
        client_id=str(raw.get("client_id", "galenic-gateway")),
        qos=qos,
        keepalive=int(raw.get("keepalive", 15)),
        tagmap=TagMap.from_config(list(raw.get("topics", []))),
    )


def load(path: str | Path | None = None) -> GatewayConfig:
    path = Path(path or os.environ.get("GALENIC_GATEWAY_CONFIG", "gateway.yaml"))
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"gateway config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"gateway config {path}: not valid YAML: {exc}") from None
    return from_dict(raw, base=path.resolve().parent)


def from_dict(raw: dict[str, Any], base: Path | None = None) -> GatewayConfig:
    base = base or Path.cwd()
    gw = raw.get("gateway") or {}
    code = str(gw.get("code", "")).strip()
    if not code:
        raise ConfigError("gateway.code is required (the code registered on the server)")
    token = os.environ.get("GALENIC_GATEWAY_TOKEN") or str(gw.get("token", ""))
    token_file = _resolve(base, gw.get("token_file"))
    if not token and token_file:
        try:
            token = Path(token_file).read_text().strip()
        except OSError:
            token = ""  # not yet issued: readings are buffered until it is
    balances = []
    for n, b in enumerate(raw.get("balances") or []):
        try:
            balances.append(
                BalanceConfig(
                    source=str(b["source"]),
                    tag=str(b["tag"]),
                    host=str(b.get("host", "127.0.0.1")),
                    port=int(b["port"]),
                    poll_interval=float(b.get("poll_interval", 1.0)),
                    timeout=float(b.get("timeout", 2.0)),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"balances[{n}]: missing or bad {exc}") from None
    outbox = _resolve(base, gw.get("outbox")) or str(base / f"{code}.outbox.sqlite3")
    return GatewayConfig(
        code=code,
        server_url=os.environ.get("GALENIC_GATEWAY_SERVER")
        or str(gw.get("server_url", "http://127.0.0.1:8000")),
        token=token,
        outbox=Path(outbox),
        token_file=Path(token_file)
        if token_file and not os.environ.get("GALENIC_GATEWAY_TOKEN")
        else None,
        batch_size=int(gw.get("batch_size", 1000)),
        deliver_interval=float(gw.get("deliver_interval", 0.5)),
        status_interval=float(gw.get("status_interval", 5.0)),
        mqtt=mqtt_from_dict(raw["mqtt"], base) if raw.get("mqtt") else None,
        balances=balances,
    )
