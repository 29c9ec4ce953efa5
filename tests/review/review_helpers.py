"""Drive a batch of the review test record (data/review.yaml) through the real execution
services, as the shop floor would, so the review sees real exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.execution import services as execution
from galenic.execution.models import Batch, Entry
from galenic.recipes.document import io
from galenic.recipes.models import MasterRecord, MasterRecordVersion, VersionStatus
from galenic.signatures import services as signatures
from galenic.signatures.selectors import has_acknowledged_policy
from galenic.testing.support import PASSWORD

DATA = Path(__file__).with_name("data")


def effective_version(author: Any, name: str = "review.yaml") -> Any:
    """Store the document as the effective version of its MBR (stand-in for the lifecycle,
    which tests/recipes covers)."""
    doc = io.load_yaml((DATA / name).read_text("utf-8"))
    existing = MasterRecordVersion.objects.filter(
        master__code=doc.code, status=VersionStatus.EFFECTIVE
    ).first()
    if existing is not None:
        return existing
    now = utcnow()
    master = MasterRecord.objects.create(
        code=doc.code, name=doc.title, created_at=now, created_by=author
    )
    return MasterRecordVersion.objects.create(
        master=master,
        version=1,
        status=VersionStatus.EFFECTIVE,
        document_json=io.dump_json(doc),
        content_hash=io.content_hash(doc),
        created_at=now,
        created_by=author,
        updated_at=now,
        effective_at=now,
    )


def authority(user: Any) -> Any:
    return signatures.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=PASSWORD
    )


def acknowledge_policy(user: Any) -> None:
    if not has_acknowledged_policy(user):
        with action_context("test"):
            signatures.acknowledge_policy(actor=user, authority=authority(user))


@dataclass
class Run:
    """One batch: ``record``, ``perform``, ``correct``… as the operator does them."""

    people: dict[str, Any]
    number: str

    @property
    def operator(self) -> Any:
        return self.people["operator"]

    def batch(self) -> Batch:
        return Batch.objects.get(number=self.number)

    def record(self, step: str, key: str, value: Any, unit: str = "", **kw: Any) -> Entry:
        with action_context("test"):
            return execution.record_value(
                actor=kw.pop("user", None) or self.operator,
                number=self.number,
                step_key=step,
                key=key,
                value=value,
                unit=unit,
                **kw,
            )

    def perform(self, step: str, user: Any = None) -> Any:
        user = user or self.operator
        granted = authority(user)
        with action_context("test"):
            return execution.perform_step(
                actor=user, number=self.number, step_key=step, authority=granted
            )

    def correct(self, entry: Entry, value: Any, reason: str) -> Entry:
        with action_context("test"):
            return execution.correct_entry(
                actor=self.operator,
                number=self.number,
                entry_id=entry.pk,
                value=value,
                reason=reason,
            )

    def comment(self, text: str, step: str | None = None) -> Any:
        with action_context("test"):
            return execution.add_comment(
                actor=self.operator, number=self.number, text=text, step_key=step
            )

    def complete(self) -> Batch:
        with action_context("test"):
            return execution.complete_batch(actor=self.people["supervisor"], number=self.number)

    # the usual path, with hooks to deviate from it
    def check(self, temperature: str = "21.0", mixing: bool = False) -> None:
        self.record("check", "temperature", temperature)
        self.record("check", "extra_mixing", mixing)
        self.perform("check")

    def dry(self, *lods: str) -> None:
        for lod in lods or ("2.0",):
            self.record("dry", "lod", lod)
            self.perform("dry")

    def count(self, good: str = "990") -> None:
        self.record("count", "good_tablets", good)
        self.perform("count")

    def clean(self) -> Batch:
        self.check()
        self.dry()
        self.count()
        return self.complete()


def start(people: dict[str, Any], number: str = "R001") -> Run:
    for role in ("operator", "verifier", "supervisor", "reviewer", "approver"):
        acknowledge_policy(people[role])
    version = effective_version(people["engineer"])
    supervisor = people["supervisor"]
    with action_context("test"):
        execution.create_batch(actor=supervisor, mbr=version.master.code, number=number)
        execution.release_to_floor(actor=supervisor, number=number, authority=authority(supervisor))
        execution.start_batch(actor=people["operator"], number=number)
    return Run(people, number)
