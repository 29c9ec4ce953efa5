"""Why a reading cannot go into a batch record. Each is a ``Conflict`` (HTTP 409) with its own code.

``DeviceCheckFailed`` errors are device checks in the sense of 21 CFR 211.68 / 11.10(h) and are
recorded as security events; ``ReadingRefused`` errors are about the value itself (stale, unstable).
"""

from __future__ import annotations

from galenic.core.errors import Conflict


class ReadingRefused(Conflict):
    code = "reading_refused"
    security = False


class NoReading(ReadingRefused):
    code = "no_reading"


class StaleReading(ReadingRefused):
    code = "stale"


class Disconnected(StaleReading):
    """No fresh value because the device, the broker or the gateway is cut off (as reported)."""

    code = "disconnected"


class UnstableReading(ReadingRefused):
    code = "unstable"


class OverloadReading(ReadingRefused):
    code = "overload"


class DeviceCheckFailed(ReadingRefused):
    code = "device_check_failed"
    security = True


class UnregisteredDevice(DeviceCheckFailed):
    code = "unregistered_device"


class IdentityMismatch(DeviceCheckFailed):
    code = "identity_mismatch"


class CalibrationExpired(DeviceCheckFailed):
    code = "calibration_expired"


class EquipmentOutOfService(DeviceCheckFailed):
    code = "out_of_service"
