"""Mettler-Toledo MT-SICS (level 0/1) as plain data: command lines and reply parsing.

No I/O here: the TCP client (``balance.py``) and the simulator (``simulator.py``) share these rules,
so both speak exactly the same dialect. Lines end with CR LF. Replies we understand::

    I2 A "XS205 Excellence 220 g"   type / identification      I4 A "B123456789"   serial number
    S S      12.345 g              stable weight               S D      12.301 g   dynamic (SI only)
    S I                            not executable (unstable)    S + / S -          overload / underload
    T S      10.000 g              tare taken                  Z A                 zero set
    ES / ET / EL                   syntax / transmission / logical error
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

EOL = b"\r\n"
ENCODING = "ascii"


class Command(StrEnum):
    TYPE = "I2"  # balance type and capacity
    SERIAL = "I4"  # serial number
    STABLE_WEIGHT = "S"  # wait for a stable weight
    IMMEDIATE_WEIGHT = "SI"  # weight now, stable or dynamic
    TARE = "T"
    ZERO = "Z"


class BalanceError(Exception):
    """A reply that carries no usable weight. ``code`` is stable across languages for UIs/logs."""

    code = "balance_error"

    def __init__(self, message: str, *, reply: str = "") -> None:
        super().__init__(message)
        self.reply = reply


class Unstable(BalanceError):
    code = "unstable"


class Overload(BalanceError):
    code = "overload"


class Underload(BalanceError):
    code = "underload"


class NotExecutable(BalanceError):
    code = "not_executable"


class SyntaxErrorReply(BalanceError):
    code = "syntax_error"


class TransmissionErrorReply(BalanceError):
    code = "transmission_error"


class LogicalErrorReply(BalanceError):
    code = "logical_error"


class ProtocolError(BalanceError):
    """A reply we cannot parse: treated like a broken connection by the client."""

    code = "protocol_error"


class BalanceUnavailable(BalanceError):
    """No answer in time, refused or dropped connection."""

    code = "unavailable"


class WeightStatus(StrEnum):
    STABLE = "stable"
    DYNAMIC = "dynamic"


@dataclass(frozen=True)
class Weight:
    value: Decimal
    unit: str
    status: WeightStatus
    raw: str

    @property
    def stable(self) -> bool:
        return self.status is WeightStatus.STABLE


@dataclass(frozen=True)
class Identity:
    model: str
    serial: str


def encode(command: str) -> bytes:
    return command.encode(ENCODING) + EOL


def _split(line: str) -> list[str]:
    return line.strip().split()


def _error_for(line: str) -> BalanceError | None:
    parts = _split(line)
    if not parts:
        return ProtocolError("empty reply from the balance", reply=line)
    head = parts[0]
    if head == "ES":
        return SyntaxErrorReply("the balance did not understand the command (ES)", reply=line)
    if head == "ET":
        return TransmissionErrorReply("the balance reports a transmission error (ET)", reply=line)
    if head == "EL":
        return LogicalErrorReply("the balance cannot execute the command now (EL)", reply=line)
    return None


def _check_head(line: str, command: str) -> list[str]:
    error = _error_for(line)
    if error is not None:
        raise error
    parts = _split(line)
    if parts[0] != command or len(parts) < 2:
        raise ProtocolError(f"unexpected reply to {command}: {line.strip()!r}", reply=line)
    return parts


def _weight_status_errors(parts: list[str], line: str, command: str) -> None:
    status = parts[1]
    if status == "+":
        raise Overload("the balance is overloaded (weight above its capacity)", reply=line)
    if status == "-":
        raise Underload("the balance is underloaded (weighing pan removed?)", reply=line)
    if status == "I":
        if command == Command.STABLE_WEIGHT:
            raise Unstable("no stable weight: the balance did not settle in time", reply=line)
        raise NotExecutable(f"the balance cannot execute {command} now", reply=line)


def _parse_value(parts: list[str], line: str) -> tuple[Decimal, str]:
    if len(parts) < 4:
        raise ProtocolError(f"weight reply without value and unit: {line.strip()!r}", reply=line)
    try:
        value = Decimal(parts[2])
    except InvalidOperation:
        raise ProtocolError(f"weight is not a number: {parts[2]!r}", reply=line) from None
    if not value.is_finite():
        raise ProtocolError(f"weight is not finite: {parts[2]!r}", reply=line)
    return value, parts[3]


def parse_weight(line: str, command: str = Command.STABLE_WEIGHT) -> Weight:
    """Parse the reply to ``S`` or ``SI`` (both answer with an ``S`` head)."""
    parts = _check_head(line, "S")
    _weight_status_errors(parts, line, command)
    if parts[1] == "S":
        status = WeightStatus.STABLE
    elif parts[1] == "D" and command == Command.IMMEDIATE_WEIGHT:
        status = WeightStatus.DYNAMIC
    else:
        raise ProtocolError(f"unexpected weight status in {line.strip()!r}", reply=line)
    value, unit = _parse_value(parts, line)
    return Weight(value=value, unit=unit, status=status, raw=line.strip())


def parse_tare(line: str) -> Weight:
    parts = _check_head(line, "T")
    _weight_status_errors(parts, line, Command.TARE)
    if parts[1] != "S":
        raise ProtocolError(f"unexpected tare reply {line.strip()!r}", reply=line)
    value, unit = _parse_value(parts, line)
    return Weight(value=value, unit=unit, status=WeightStatus.STABLE, raw=line.strip())


def parse_zero(line: str) -> None:
    parts = _check_head(line, "Z")
    _weight_status_errors(parts, line, Command.ZERO)
    if parts[1] != "A":
        raise ProtocolError(f"unexpected zero reply {line.strip()!r}", reply=line)


def parse_text(line: str, command: str) -> str:
    """``I2 A "text"`` → ``text``. The quoted text may contain spaces."""
    parts = _check_head(line, command)
    if parts[1] == "I":
        raise NotExecutable(f"the balance cannot answer {command} now", reply=line)
    if parts[1] != "A":
        raise ProtocolError(f"unexpected reply to {command}: {line.strip()!r}", reply=line)
    rest = line.strip()[len(command) :].strip()[1:].strip()
    if len(rest) >= 2 and rest[0] == '"' and rest[-1] == '"':
        return rest[1:-1]
    raise ProtocolError(f"expected quoted text in {line.strip()!r}", reply=line)


# --- replies, for the simulator --------------------------------------------------------------


def format_weight(head: str, status: str, value: Decimal, unit: str, decimals: int) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    return f"{head} {status} {value.quantize(quantum):>10} {unit}"


def format_text(command: str, text: str) -> str:
    return f'{command} A "{text}"'
