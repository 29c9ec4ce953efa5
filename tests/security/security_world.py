"""A seeded plant for the security tests: every record a route can name, in every state a route
acts on, made through the real services by people who are *not* the personas.

The personas (tests/conftest.py) only ever act in the requests under test, so what they may do
depends on their roles alone, never on having touched a record before (segregation of duties is
tested on its own in test_signing_abuse.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.testing.support import PASSWORD

DATA = Path(__file__).with_name("data")
SEC_YAML = (DATA / "sec.yaml").read_text("utf-8")
LABEL_BYTES = b"foo"  # its SHA-256 is the one sec.yaml names for the label specimen

# Helpers who build the world (never personas): an author, a floor crew, QA.
EXTRAS = {
    "ed": ["process_engineer"],
    "otto": ["operator"],
    "vera": ["verifier"],
    "sue": ["supervisor"],
    "rex": ["qa_reviewer"],
    "ann": ["qa_approver"],
    # targets of user administration
    "uma": ["operator", "supervisor"],
    "dee": ["operator"],
    "lou": ["operator"],
    "adm2": ["admin"],  # a second administrator (creates "ivy", whose identity is unchecked)
}


def document(code: str) -> str:
    return SEC_YAML.replace("code: MBR-SEC", f"code: {code}", 1)


@dataclass
class World:
    users: dict[str, Any]
    gateway_token: str
    params: dict[str, Any] = field(default_factory=dict)


def _authority(user: Any) -> Any:
    from galenic.signatures import services as signing

    return signing.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=PASSWORD
    )


def _acknowledge(user: Any) -> None:
    from galenic.signatures import services as signing
    from galenic.signatures.selectors import has_acknowledged_policy

    if not has_acknowledged_policy(user):
        signing.acknowledge_policy(actor=user, authority=_authority(user))


def build(personas: dict[str, Any], make_user: Any) -> World:
    with action_context("test"):
        return _build(personas, make_user)


def _build(personas: dict[str, Any], make_user: Any) -> World:
    from galenic.accounts import services as accounts
    from galenic.core.errors import GalenicError
    from galenic.equipment import services as equipment
    from galenic.execution import services as execution
    from galenic.execution.models import Entry
    from galenic.gateway.readings import to_micros
    from galenic.quality import services as quality
    from galenic.recipes import services as recipes
    from galenic.recipes.models import MasterRecordAttachment
    from galenic.review import services as review

    u = {name: make_user(name, roles) for name, roles in EXTRAS.items()}
    for person in [*personas.values(), *u.values()]:
        if person.role_codes() - {"admin", "inspector"}:
            _acknowledge(person)
    ed, otto, vera, sue, rex, ann = (u[n] for n in ("ed", "otto", "vera", "sue", "rex", "ann"))

    # --- users in the states user administration acts on
    accounts.deactivate_user(actor=personas["admin"], user=u["dee"], reason="left")
    while not type(u["lou"]).objects.get(pk=u["lou"].pk).is_locked:
        with contextlib.suppress(GalenicError):
            accounts.verify_credentials(
                user_id="lou", password="wrong-password", expected_user=u["lou"], purpose="login"
            )

    accounts.create_user(
        actor=u["adm2"],
        username="ivy",
        full_name="Ivy New",
        password="Ivy-is-new-2026!",
        roles=["operator"],
        reason="hired",
    )
    training = accounts.record_training(
        actor=personas["admin"], user=u["uma"], course="SOP-SEC-001", completed_on="2026-01-05"
    )

    # --- master records, one per lifecycle state
    def create(code: str) -> Any:
        return recipes.import_text(actor=ed, text=document(code), reason="security tests")

    def submit(v: Any) -> Any:
        return recipes.submit_for_review(actor=ed, version=v, authority=_authority(ed))

    def check(v: Any) -> Any:
        return recipes.check_version(actor=rex, version=v, authority=_authority(rex))

    def approve(v: Any) -> Any:
        return recipes.approve(actor=ann, version=v, authority=_authority(ann))

    effective = approve(check(submit(create("MBR-SEC"))))
    effective = recipes.make_effective(actor=ann, version=effective, reason="security tests")
    draft = create("MBR-DRAFT")
    in_review = submit(create("MBR-INREV"))
    checked = check(submit(create("MBR-CHK")))
    approved = approve(check(submit(create("MBR-APPR"))))
    MasterRecordAttachment.objects.create(
        sha256="2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        filename="label-s.png",
        media_type="image/png",
        size=len(LABEL_BYTES),
        content=LABEL_BYTES,
        uploaded_at=utcnow(),
        uploaded_by=ed,
    )

    # --- equipment: a gateway, a calibrated balance with a fresh stable reading, a process tag
    admin = personas["admin"]
    today = utcnow().date()
    gateway, token = equipment.register_gateway(actor=admin, code="GW-S", name="Security gateway")
    for code, kind in (("BAL-S1", "balance"), ("GRN-S1", "granulator")):
        equipment.register_equipment(
            actor=admin,
            code=code,
            name=code,
            kind=kind,
            serial_number="S-" + code,
            gateway_code="GW-S",
        )
        equipment.record_calibration(
            actor=admin, code=code, performed_on=today, due=today + timedelta(days=30)
        )
    day = 24 * 3600
    equipment.define_tag(
        actor=admin,
        code="BAL-S1.weight",
        equipment_code="BAL-S1",
        name="Weight",
        unit="g",
        max_age_s=day,
    )
    equipment.define_tag(
        actor=admin,
        code="GRN-S1.temp",
        equipment_code="GRN-S1",
        name="Temperature",
        unit="degC",
        max_age_s=day,
        action_low="15",
        action_high="32",
    )
    now = utcnow()
    reading = {"device_time": now.isoformat(), "received_at": now.isoformat(), "quality": "good"}
    equipment.ingest_readings(
        actor=equipment.DevicePrincipal(gateway),
        items=[
            {
                **reading,
                "source": "BAL-S1",
                "tag": "BAL-S1.weight",
                "seq": to_micros(now),
                "value": "100.0",
                "unit": "g",
                "serial": "S-BAL-S1",
                "raw": "S S     100.0 g",
            },
            {
                **reading,
                "source": "GRN-S1",
                "tag": "GRN-S1.temp",
                "seq": to_micros(now),
                "value": "24.5",
                "unit": "degC",
                "serial": "",
                "raw": "24.5",
            },
        ],
    )

    # --- batches, one per state a route acts on
    def issue(number: str) -> None:
        execution.create_batch(actor=sue, mbr="MBR-SEC", number=number)

    def release(number: str) -> None:
        issue(number)
        execution.release_to_floor(actor=sue, number=number, authority=_authority(sue))

    def start(number: str) -> None:
        release(number)
        execution.start_batch(actor=otto, number=number)

    def record(number: str, step: str, key: str, value: str) -> Any:
        return execution.record_value(
            actor=otto, number=number, step_key=step, key=key, value=value
        )

    def perform(number: str, step: str) -> None:
        execution.perform_step(actor=otto, number=number, step_key=step, authority=_authority(otto))

    def weighed(number: str) -> None:
        start(number)
        record(number, "weigh", "mass", "100.0")
        perform(number, "weigh")

    def weigh_done(number: str) -> None:
        weighed(number)
        execution.verify_step(
            actor=vera, number=number, step_key="weigh", authority=_authority(vera)
        )
        execution.approve_step(
            actor=sue, number=number, step_key="weigh", authority=_authority(sue)
        )

    def ended(number: str) -> None:
        weigh_done(number)
        record(number, "count", "good_tablets", "1000")
        perform(number, "count")

    def completed(number: str, comment: str = "") -> None:
        ended(number)
        if comment:
            execution.add_comment(actor=otto, number=number, text=comment, step_key="count")
        execution.complete_batch(actor=sue, number=number)
        review.refresh_report(actor=None, number=number)  # on commit in production

    issue("SEC-NEW")
    release("SEC-REL")
    start("SEC-RUN")
    entry = record("SEC-RUN", "weigh", "note", "first remark")
    attachment = execution.add_attachment(
        actor=otto,
        number="SEC-RUN",
        filename="photo.txt",
        content=b"a photo, really",
        content_type="text/plain",
        step_key="weigh",
    )
    start("SEC-HOLD")
    execution.hold_batch(actor=sue, number="SEC-HOLD", reason="security tests")
    start("SEC-PERF")
    record("SEC-PERF", "weigh", "mass", "100.0")
    weighed("SEC-VER")
    weighed("SEC-APR")
    execution.verify_step(
        actor=vera, number="SEC-APR", step_key="weigh", authority=_authority(vera)
    )
    ended("SEC-END")
    completed("SEC-ACK", comment="a remark the reviewer must judge")
    completed("SEC-CLEAN")
    completed("SEC-SIGNED")
    review.sign_review(actor=rex, number="SEC-SIGNED", authority=_authority(rex))
    from galenic.review.models import ReviewItem

    item = ReviewItem.objects.filter(review__batch__number="SEC-ACK").order_by("id").first()

    # --- deviations: one open, one investigated and ready to close
    open_dev = quality.open_deviation(actor=otto, title="Spill", description="A small spill.")
    ready = quality.open_deviation(actor=otto, title="Label", description="A torn label.")
    quality.classify_deviation(
        actor=rex, number=ready.number, classification="minor", reason="no impact"
    )
    quality.investigate_deviation(actor=rex, number=ready.number, investigation="Checked.")

    params = {
        "username": "uma",
        "training_id": training.pk,
        "role": "supervisor",
        "code": "MBR-SEC",
        "number": "SEC-RUN",
        "step_key": "weigh",
        "entry_id": entry.pk,
        "attachment_id": attachment.pk,
        "item_id": item.pk if item else 0,
        "version_id": effective.pk,
        "deviation": open_dev.number,
        "deviation_ready": ready.number,
        "draft_pk": draft.pk,
        "in_review_pk": in_review.pk,
        "checked_pk": checked.pk,
        "approved_pk": approved.pk,
        "perf_entry_id": Entry.objects.get(batch__number="SEC-PERF", key="mass").pk,
        "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    }
    return World(users={**personas, **u}, gateway_token=token, params=params)
