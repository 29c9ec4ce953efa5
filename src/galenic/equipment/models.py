"""Equipment and instrument registry, gateways, tags and the tag time series (211.68, 11.10(h)).

Equipment is identified by its code and, for instruments, by the serial number the device itself
reports; readings whose source, gateway or serial do not match the registry are refused. Tag values
are append-only raw data: each keeps its source identity, the device's and the gateway's timestamps
and the server's own receipt time.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from django.db import models

from galenic.equipment.limits import Limits


class EquipmentKind(models.TextChoices):
    BALANCE = "balance", "Balance / scale"
    GRANULATOR = "granulator", "Granulator"
    FLUID_BED_DRYER = "fluid_bed_dryer", "Fluid-bed dryer"
    BLENDER = "blender", "Blender"
    TABLET_PRESS = "tablet_press", "Tablet press"
    FILLING_LINE = "filling_line", "Filling line"
    SENSOR = "sensor", "Sensor / transmitter"
    OTHER = "other", "Other"


class EquipmentStatus(models.TextChoices):
    IN_SERVICE = "in_service", "In service"
    OUT_OF_SERVICE = "out_of_service", "Out of service"
    RETIRED = "retired", "Retired"


class CalibrationState(models.TextChoices):
    VALID = "valid", "Calibrated"
    EXPIRED = "expired", "Calibration expired"
    MISSING = "missing", "Never calibrated"
    FAILED = "failed", "Failed last calibration"
    NOT_REQUIRED = "not_required", "No calibration required"


class Gateway(models.Model):
    """An edge gateway: a device, not a person. It authenticates with its own token."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_status = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class GatewayConnection(models.Model):
    """The latest state a gateway reported for one of its device connections."""

    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="connections")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    state = models.CharField(max_length=20)
    since = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["gateway", "name"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "name"], name="uniq_gateway_connection")
        ]


class Equipment(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=EquipmentKind.choices)
    manufacturer = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=64, blank=True)
    location = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=20, choices=EquipmentStatus.choices, default=EquipmentStatus.IN_SERVICE
    )
    gateway = models.ForeignKey(
        Gateway, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment"
    )
    calibration_required = models.BooleanField(default=True)
    calibration_due = models.DateField(null=True, blank=True)
    calibration_failed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "equipment"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def calibration_state(self, today: date) -> CalibrationState:
        if not self.calibration_required:
            return CalibrationState.NOT_REQUIRED
        if self.calibration_failed:
            return CalibrationState.FAILED
        if self.calibration_due is None:
            return CalibrationState.MISSING
        if self.calibration_due < today:
            return CalibrationState.EXPIRED
        return CalibrationState.VALID


class CalibrationRecord(models.Model):
    """One calibration, as recorded. Never changed: a wrong record is corrected by a new one."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="calibrations")
    performed_on = models.DateField()
    due = models.DateField()
    passed = models.BooleanField(default=True)
    certificate = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]


class Tag(models.Model):
    """A named value of a piece of equipment (ISA-95 'equipment property'), with its unit and limits."""

    code = models.CharField(max_length=80, unique=True)
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="tags")
    name = models.CharField(max_length=200)
    source = models.CharField(
        max_length=80,
        help_text="Device id the gateway sends for this tag (usually the equipment code).",
    )
    unit = models.CharField(max_length=20)
    max_age_s = models.PositiveIntegerField(default=10)
    alert_low = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    alert_high = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    action_low = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    action_high = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def limits(self) -> Limits:
        return Limits(self.alert_low, self.alert_high, self.action_low, self.action_high)


class TagValueQuerySet(models.QuerySet["TagValue"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("tag values are raw data and append-only: update() is refused")

    def delete(self) -> NoReturn:
        raise PermissionError("tag values are raw data and append-only: delete() is refused")


class Quality(models.TextChoices):
    GOOD = "good", "Good"
    UNSTABLE = "unstable", "Unstable"
    OVERLOAD = "overload", "Overload"
    UNDERLOAD = "underload", "Underload"
    ERROR = "error", "Error"


class TagValue(models.Model):
    """One reading. Idempotency key (tag, seq): the tag fixes the source, so this is (source, tag, seq).

    Sized for thousands of tags at 1 Hz: inserted in batches, one composite index for "this tag
    over time" and the unique key for dedup; no other index.
    """

    id = models.BigAutoField(primary_key=True)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, db_index=False, related_name="+")
    seq = models.BigIntegerField()
    value = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    quality = models.CharField(max_length=12, choices=Quality.choices, default=Quality.GOOD)
    limit_state = models.CharField(max_length=8, blank=True)  # ok | alert | action | ""
    measured_at = models.DateTimeField()  # device time, else gateway receipt
    device_time = models.DateTimeField(null=True)
    gateway_received_at = models.DateTimeField()
    stored_at = models.DateTimeField()  # server clock
    serial = models.CharField(max_length=64, blank=True)
    raw = models.CharField(max_length=120, blank=True)
    gateway = models.ForeignKey(
        Gateway,
        on_delete=models.PROTECT,
        null=True,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )

    objects = TagValueQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "seq"], name="uniq_tag_value_seq")]
        indexes = [models.Index(fields=["tag", "measured_at"], name="tag_value_time_idx")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("tag values are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("tag values are append-only")


class Excursion(models.Model):
    """A stretch of values outside a tag's alert (or action) limits.

    Execution turns the excursions that overlap a running step into exceptions on that step
    (``selectors.excursions_between``).
    """

    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="excursions")
    level = models.CharField(max_length=8)  # alert | action (the worst reached)
    direction = models.CharField(max_length=4)  # low | high
    limit = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    first_value = models.DecimalField(max_digits=18, decimal_places=6)
    peak_value = models.DecimalField(max_digits=18, decimal_places=6)
    last_value_at = models.DateTimeField()
    value_count = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField()  # server clock

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tag", "started_at"], name="excursion_tag_time_idx")]

    def __str__(self) -> str:
        return f"{self.tag.code} {self.level} {self.direction} from {self.started_at:%Y-%m-%d %H:%M:%S}"


class DeviceRefusal(models.Model):
    """Readings refused by the device checks, counted per (gateway, source, tag, reason).

    A device that keeps sending at 1 Hz would otherwise flood the audit trail: the first refusal
    and then one per ``REFUSAL_AUDIT_EVERY`` are audited as security events, every one is counted here.
    """

    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="refusals")
    source = models.CharField(max_length=80)
    tag_code = models.CharField(max_length=80)
    reason = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    audited_at = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-last_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "source", "tag_code", "reason"], name="uniq_device_refusal"
            )
        ]
