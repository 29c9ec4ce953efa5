"""Delivery of outbox batches to the Galenic server.

The server answers every item of a batch (accepted, duplicate or refused) in one transaction, so the
gateway may forget the whole batch once it has the answer. No answer (network down, server
restarting, 5xx) means "try the same batch again later": the server's dedup on (source, tag, seq)
makes the retry harmless.

The gateway authenticates as a device with its own token (``Authorization: Bearer <token>``), issued
by ``galenic equipment gateway-token <code>``; it is not a user and holds no user's rights.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

INGEST_PATH = "/api/v1/equipment/ingest"
STATUS_PATH = "/api/v1/equipment/gateway/status"


class DeliveryFailed(Exception):
    """The server did not take the batch. ``retry`` is False for answers a retry cannot fix."""

    def __init__(self, message: str, *, retry: bool = True, status: int = 0) -> None:
        super().__init__(message)
        self.retry = retry
        self.status = status


@dataclass
class DeliveryResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: dict[int, str] = field(default_factory=dict)  # index in the batch → reason


class Delivery(Protocol):
    def send(self, items: list[str]) -> DeliveryResult:
        """``items``: the readings' wire JSON texts, as the outbox keeps them."""
        ...

    def report_status(self, status: dict[str, Any]) -> None: ...


def parse_answer(answer: dict[str, Any]) -> DeliveryResult:
    return DeliveryResult(
        accepted=int(answer.get("accepted", 0)),
        duplicates=int(answer.get("duplicates", 0)),
        rejected={int(r["index"]): str(r["reason"]) for r in answer.get("rejected", [])},
    )


def items_body(items: list[str]) -> bytes:
    """``{"items": [...]}`` from already-encoded items (no decode/encode round trip)."""
    return b'{"items":[' + ",".join(items).encode() + b"]}"


class HttpDelivery:
    def __init__(
        self,
        server_url: str,
        token: str,
        *,
        timeout: float = 15.0,
        ca_file: str | None = None,
        token_file: Path | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.token_file = token_file
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def _post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - URL comes from the operator's config
            self.server_url + path,
            data=body if isinstance(body, bytes) else json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=self.timeout, context=self._ssl
            ) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message", exc.reason)
            except (ValueError, AttributeError):
                message = exc.reason
            # 4xx other than 408/429: the server refuses the request itself (bad token, bad shape).
            # Retrying may still succeed once an admin fixes it, so keep the batch, but say so.
            retry = exc.code >= 500 or exc.code in (408, 429)
            if exc.code == 401:
                self._reload_token()
            raise DeliveryFailed(
                f"server answered {exc.code}: {message}", retry=retry, status=exc.code
            ) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"server unreachable: {exc}") from None
        except ValueError as exc:
            raise DeliveryFailed(f"server answer is not JSON: {exc}") from None

    def _reload_token(self) -> None:
        """A rotated token is put in the token file: pick it up without a restart."""
        if self.token_file is None:
            return
        with contextlib.suppress(OSError):
            self.token = self.token_file.read_text().strip()

    def send(self, items: list[str]) -> DeliveryResult:
        if not self.token:
            self._reload_token()
        return parse_answer(self._post(INGEST_PATH, items_body(items)))

    def report_status(self, status: dict[str, Any]) -> None:
        self._post(STATUS_PATH, status)
