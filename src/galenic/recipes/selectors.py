"""Reads of master batch records. Everyone who may read MBRs (``recipes.view``) reads them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from galenic.accounts import permissions
from galenic.core.errors import NotFound, ValidationFailed
from galenic.recipes.document import DocumentDiff, Problem, diff, validate
from galenic.recipes.models import (
    MasterRecord,
    MasterRecordAttachment,
    MasterRecordVersion,
    VersionStatus,
)
from galenic.signatures.selectors import SignatureEntry, signatures_for_object

S = VersionStatus


def master_records() -> QuerySet[MasterRecord]:
    return MasterRecord.objects.order_by("code")


def master_records_with_versions(user: Any) -> QuerySet[MasterRecord]:
    permissions.require(user, "recipes.view")
    return master_records().prefetch_related(
        Prefetch("versions", queryset=MasterRecordVersion.objects.order_by("-version"))
    )


def master_record(user: Any, code: str) -> MasterRecord:
    permissions.require(user, "recipes.view")
    master = MasterRecord.objects.filter(code=code).first()
    if master is None:
        raise NotFound(f"There is no MBR {code!r}.", field="code")
    return master


def versions_of(master: MasterRecord) -> QuerySet[MasterRecordVersion]:
    return master.versions.select_related(
        "created_by", "authored_signature", "checked_signature", "approved_signature"
    ).order_by("-version")


def version(user: Any, code: str, number: int | None = None) -> MasterRecordVersion:
    """Version ``number`` of MBR ``code``; without a number the effective one, else the latest."""
    permissions.require(user, "recipes.view")
    return find_version(code, number)


def find_version(code: str, number: int | None = None) -> MasterRecordVersion:
    """``version`` without a user, for the command line (run by whoever runs the server)."""
    master = MasterRecord.objects.filter(code=code).first()
    if master is None:
        raise NotFound(f"There is no MBR {code!r}.", field="code")
    versions = versions_of(master)
    if number is None:
        found = versions.filter(status=S.EFFECTIVE).first() or versions.first()
    else:
        found = versions.filter(version=number).first()
    if found is None:
        raise NotFound(f"MBR {code} has no version {number}.", field="version")
    return found


def version_by_pk(user: Any, pk: int) -> MasterRecordVersion:
    permissions.require(user, "recipes.view")
    found = MasterRecordVersion.objects.select_related("master").filter(pk=pk).first()
    if found is None:
        raise NotFound("There is no such MBR version.", field="version")
    return found


def effective_version(code: str) -> MasterRecordVersion:
    """The one effective version of an MBR; batches are created from it."""
    version = (
        MasterRecordVersion.objects.select_related("master")
        .filter(master__code=code, status=VersionStatus.EFFECTIVE)
        .first()
    )
    if version is None:
        raise NotFound(f"MBR {code!r} has no effective version", field="mbr")
    return version


def open_version(master: MasterRecord) -> MasterRecordVersion | None:
    """The version being worked on (draft or in review), if any."""
    return master.versions.filter(status__in=[S.DRAFT, S.IN_REVIEW]).order_by("-version").first()


def problems(version: MasterRecordVersion) -> list[Problem]:
    return validate(version.document())


def signatures(version: MasterRecordVersion) -> list[SignatureEntry]:
    return signatures_for_object(version)


@dataclass(frozen=True)
class VersionComparison:
    old: MasterRecordVersion
    new: MasterRecordVersion
    diff: DocumentDiff


def compare(old: MasterRecordVersion, new: MasterRecordVersion) -> VersionComparison:
    if old.master_id != new.master_id:
        raise ValidationFailed("Compare two versions of the same MBR.", field="version")
    return VersionComparison(old, new, diff(old.document(), new.document()))


def approval_baseline(version: MasterRecordVersion) -> MasterRecordVersion | None:
    """What the approver compares a version with: the effective version, else what it was
    based on (None for a first version)."""
    effective = version.master.versions.filter(status=S.EFFECTIVE).exclude(pk=version.pk).first()
    if effective is not None:
        return effective
    if version.based_on_id is not None:
        return MasterRecordVersion.objects.select_related("master").get(pk=version.based_on_id)
    return None


def attachment(user: Any, sha256: str) -> MasterRecordAttachment:
    permissions.require(user, "recipes.view")
    found = MasterRecordAttachment.objects.filter(sha256=sha256).first()
    if found is None:
        raise NotFound("This attachment has not been uploaded.", field="sha256")
    return found


def attachments_present(shas: list[str]) -> set[str]:
    return set(
        MasterRecordAttachment.objects.filter(sha256__in=shas).values_list("sha256", flat=True)
    )
