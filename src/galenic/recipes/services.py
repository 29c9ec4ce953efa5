"""Master batch records: the only writers (21 CFR 211.186, 211.100(a), Part 11).

Lifecycle of a version::

    draft ──submit (signed "authored")──▶ in_review ──check (signed "checked", not the author)
      ▲                                      │
      └──────── reject (reason) ◀────────────┤──approve (signed "approved" by QA)──▶ approved
                                                                                       │
    superseded ◀── (next version made effective) ◀── effective ◀── make_effective ◀────┘
                                                        │
                                                        └── retire (reason) ──▶ retired

Every function takes ``actor`` keyword-only, checks the permission, runs in one transaction and
records the audit event(s) there, next to the change. Document changes record the content hashes
before and after and a summary of the semantic diff. Signing functions take a ``SignerAuthority``
from ``signatures.services.authenticate_signer`` (called *before*, outside the transaction).
Writers that change a version take ``expected_row_version``: if someone else changed it since it
was read, the write is refused with a Conflict instead of silently overwriting their work.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from galenic.accounts import permissions
from galenic.audit import selectors as audit_selectors
from galenic.audit import services as audit
from galenic.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from galenic.core.timefmt import utcnow
from galenic.recipes import editing
from galenic.recipes.document import (
    DocumentInvalid,
    MasterBatchRecord,
    Problem,
    canonical_json,
    content_hash,
    diff,
    load,
    parse,
    to_data,
    validate,
)
from galenic.recipes.models import (
    MasterRecord,
    MasterRecordAttachment,
    MasterRecordVersion,
    VersionStatus,
)
from galenic.signatures import services as signing
from galenic.signatures import verify as signature_verify
from galenic.signatures.models import Meaning, Signature
from galenic.signatures.services import SignerAuthority

S = VersionStatus
OPEN_STATUSES = (S.DRAFT, S.IN_REVIEW)
NEW_VERSION_FROM = (S.APPROVED, S.EFFECTIVE, S.SUPERSEDED)
RETIRABLE = (S.APPROVED, S.EFFECTIVE, S.SUPERSEDED)
DIFF_SUMMARY_LINES = 50
MAX_ATTACHMENT_BYTES = 5_000_000
# Shown inline in the UI; anything that could carry script (SVG, HTML) is refused.
ATTACHMENT_MEDIA_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
}


# --- signed content --------------------------------------------------------------------------


def version_content(version: MasterRecordVersion) -> dict[str, Any]:
    """What an authoring, checking or approval signature vouches for: the canonical document
    and which MBR version it is. Never the status, which legitimately changes after signing."""
    return {
        "mbr": version.master.code,
        "version": version.version,
        "document": version.document_json,
    }


# --- helpers -----------------------------------------------------------------------------------


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("Give the reason for this change.", field="reason")
    return text


def problems_as_errors(problems: Sequence[Problem]) -> list[FieldError]:
    return [FieldError(p.path or "document", p.message) for p in problems]


def _invalid(message: str, problems: Sequence[Problem]) -> ValidationFailed:
    return ValidationFailed(message, errors=problems_as_errors(problems))


def read_document(text: str) -> MasterBatchRecord:
    """A document from YAML or JSON text (structure checked), or ValidationFailed with paths."""
    try:
        return load(text)
    except DocumentInvalid as exc:
        raise _invalid("The file is not a readable master record.", exc.problems) from None


def document_from_data(data: Mapping[str, Any]) -> MasterBatchRecord:
    try:
        return parse(data)
    except DocumentInvalid as exc:
        raise _invalid(
            "The document does not have the shape of a master record.", exc.problems
        ) from None


def _check_code(code: str) -> None:
    # The code names the MBR in URLs and on the command line.
    if "/" in code:
        raise ValidationFailed("An MBR code cannot contain '/'.", field="code")


def _store(version: MasterRecordVersion, doc: MasterBatchRecord) -> None:
    version.document_json = canonical_json(doc)
    version.content_hash = content_hash(doc)
    version._document_cache = doc


def _saved(version: MasterRecordVersion, fields: Iterable[str]) -> MasterRecordVersion:
    version.row_version += 1
    version.updated_at = utcnow()
    version.save(update_fields=[*fields, "row_version", "updated_at"])
    return version


def _lock(version: MasterRecordVersion, expected_row_version: int | None) -> MasterRecordVersion:
    """The version as stored, locked for this transaction; Conflict if it changed since read."""
    fresh = (
        MasterRecordVersion.objects.select_for_update(no_key=True)
        .select_related("master")
        .filter(pk=version.pk)
        .first()
    )
    if fresh is None:
        raise NotFound("This MBR version does not exist.", field="version")
    if expected_row_version is not None and fresh.row_version != expected_row_version:
        raise Conflict(
            f"{fresh.master.code} version {fresh.version} was changed by someone else since you "
            f"opened it (revision {expected_row_version}, now {fresh.row_version}). Reload it and "
            "make your change again.",
            field="row_version",
        )
    return fresh


def _require_status(version: MasterRecordVersion, allowed: Iterable[str], doing: str) -> None:
    allowed = tuple(allowed)
    if version.status not in allowed:
        names = " or ".join(S(s).label.lower() for s in allowed)
        raise Conflict(
            f"Only a version that is {names} can be {doing}; "
            f"{version.master.code} version {version.version} is {version.get_status_display().lower()}.",
            field="status",
        )


def diff_summary(old: MasterBatchRecord, new: MasterBatchRecord) -> dict[str, Any]:
    changes = diff(old, new)
    summaries = [c.summary for c in changes.changes]
    summary: dict[str, Any] = {"changes": len(summaries), "diff": summaries[:DIFF_SUMMARY_LINES]}
    if len(summaries) > DIFF_SUMMARY_LINES:
        summary["diff_truncated"] = len(summaries) - DIFF_SUMMARY_LINES
    return summary


DOCUMENT_ACTIONS = (
    "recipes.version.create",
    "recipes.version.edit",
    "recipes.version.replace_document",
)


def preparers(version: MasterRecordVersion) -> set[int]:
    """Everyone who prepared this version: who created it, changed its document (from the audit
    trail) or signed it as author. None of them checks or approves it (211.186)."""
    events = audit_selectors.events_for_object(audit.object_label(version), str(version.pk))
    people = set(
        events.filter(action__in=DOCUMENT_ACTIONS, actor__isnull=False).values_list(
            "actor_id", flat=True
        )
    )
    people.add(version.created_by_id)
    if version.authored_signature is not None:
        people.add(version.authored_signature.signer_id)
    return people


def _people(version: MasterRecordVersion) -> dict[str, Any]:
    """Who prepared and who checked this version (for the four-eyes rules)."""
    return {
        "prepared": preparers(version),
        "checked": version.checked_signature.signer_id if version.checked_signature else None,
    }


def _require_valid_signature(signature: Signature | None, what: str) -> None:
    if signature is None:
        raise Conflict(f"This version has no {what} signature.", field="signatures")
    status = signature_verify.verify(signature)
    if not status.ok:
        raise Conflict(
            f"The {what} signature by {signature.signer_name} is no longer valid: {status.label}.",
            field="signatures",
        )


def _next_version_number(master: MasterRecord) -> int:
    highest = master.versions.aggregate(n=Max("version"))["n"]
    return (highest or 0) + 1


def _refuse_second_working_copy(master: MasterRecord) -> None:
    open_version = master.versions.filter(status__in=OPEN_STATUSES).order_by("-version").first()
    if open_version is not None:
        raise Conflict(
            f"{master.code} already has version {open_version.version} "
            f"{open_version.get_status_display().lower()}; finish or reject it first.",
            field="version",
        )


# --- creating ----------------------------------------------------------------------------------


def create_master_record(
    *, actor: Any, document: MasterBatchRecord, reason: str
) -> MasterRecordVersion:
    """A new MBR with version 1 as a draft holding ``document`` (which may still be incomplete)."""
    permissions.require(actor, "recipes.author")
    reason = _reason(reason)
    _check_code(document.code)
    now = utcnow()
    try:
        with transaction.atomic():
            if MasterRecord.objects.filter(code=document.code).exists():
                raise Conflict(
                    f"There is already an MBR {document.code}; import a new version of it instead.",
                    field="code",
                )
            master = MasterRecord(
                code=document.code,
                name=document.title or document.product.name or document.code,
                created_at=now,
                created_by=actor,
            )
            master.save(force_insert=True)
            audit.record(
                actor=actor,
                action="recipes.mbr.create",
                obj=master,
                new={"code": master.code, "name": master.name},
                reason=reason,
            )
            version = MasterRecordVersion(
                master=master,
                version=1,
                status=S.DRAFT,
                change_reason=reason,
                created_at=now,
                created_by=actor,
                updated_at=now,
            )
            _store(version, document)
            version.save(force_insert=True)
            audit.record(
                actor=actor,
                action="recipes.version.create",
                obj=version,
                new={
                    "version": 1,
                    "status": version.status,
                    "content_hash": version.content_hash,
                    "problems": len(validate(document)),
                },
                reason=reason,
            )
    except IntegrityError:  # a concurrent creation of the same code won
        raise Conflict(f"There is already an MBR {document.code}.", field="code") from None
    return version


def import_document(*, actor: Any, document: MasterBatchRecord, reason: str) -> MasterRecordVersion:
    """A draft from a file: a new MBR, or a new version of an existing one (based on its
    effective or latest approved version). Refused while another version is being worked on."""
    permissions.require(actor, "recipes.author")
    reason = _reason(reason)
    _check_code(document.code)
    master = MasterRecord.objects.filter(code=document.code).first()
    if master is None:
        return create_master_record(actor=actor, document=document, reason=reason)
    with transaction.atomic():
        master = MasterRecord.objects.select_for_update(no_key=True).get(pk=master.pk)
        _refuse_second_working_copy(master)
        base = (
            master.versions.filter(status=S.EFFECTIVE).first()
            or master.versions.filter(status__in=NEW_VERSION_FROM).order_by("-version").first()
            or master.versions.order_by("-version").first()
        )
        return _new_draft(actor=actor, master=master, base=base, document=document, reason=reason)


def import_text(*, actor: Any, text: str, reason: str) -> MasterRecordVersion:
    """``import_document`` from YAML or JSON text."""
    permissions.require(actor, "recipes.author")
    return import_document(actor=actor, document=read_document(text), reason=reason)


def _new_draft(
    *,
    actor: Any,
    master: MasterRecord,
    base: MasterRecordVersion | None,
    document: MasterBatchRecord,
    reason: str,
) -> MasterRecordVersion:
    now = utcnow()
    version = MasterRecordVersion(
        master=master,
        version=_next_version_number(master),
        status=S.DRAFT,
        based_on=base,
        change_reason=reason,
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    _store(version, document)
    version.save(force_insert=True)
    new: dict[str, Any] = {
        "version": version.version,
        "status": version.status,
        "content_hash": version.content_hash,
        "based_on": base.version if base else None,
    }
    if base is not None:
        new.update(diff_summary(base.document(), document))
    audit.record(
        actor=actor,
        action="recipes.version.create",
        obj=version,
        old={"content_hash": base.content_hash} if base else None,
        new=new,
        reason=reason,
    )
    return version


def new_version(*, actor: Any, version: MasterRecordVersion, reason: str) -> MasterRecordVersion:
    """A new draft copied from an approved, effective or superseded version (change control)."""
    permissions.require(actor, "recipes.author")
    reason = _reason(reason)
    with transaction.atomic():
        master = MasterRecord.objects.select_for_update(no_key=True).get(pk=version.master_id)
        source = _lock(version, None)
        _require_status(source, NEW_VERSION_FROM, "the base of a new version")
        _refuse_second_working_copy(master)
        return _new_draft(
            actor=actor, master=master, base=source, document=source.document(), reason=reason
        )


# --- editing a draft ---------------------------------------------------------------------------


def _change_document(
    *,
    actor: Any,
    version: MasterRecordVersion,
    transform: Callable[[MasterBatchRecord], MasterBatchRecord],
    expected_row_version: int | None,
    reason: str | None,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> MasterRecordVersion:
    permissions.require(actor, "recipes.author")
    with transaction.atomic():
        locked = _lock(version, expected_row_version)
        _require_status(locked, [S.DRAFT], "edited")
        why = _reason(reason or locked.change_reason)
        old_doc, old_hash = locked.document(), locked.content_hash
        document = transform(old_doc)
        if document.code != locked.master.code:
            raise ValidationFailed(
                f"The code of this MBR is {locked.master.code}; a document with another code "
                "belongs to another MBR.",
                field="code",
            )
        _store(locked, document)
        if locked.content_hash == old_hash:
            return locked  # nothing changed: nothing to record
        _saved(locked, ["document_json", "content_hash"])
        audit.record(
            actor=actor,
            action=action,
            obj=locked,
            old={"content_hash": old_hash},
            new={
                "content_hash": locked.content_hash,
                **(dict(detail) if detail else {}),
                **diff_summary(old_doc, document),
            },
            reason=why,
        )
        return locked


def replace_document(
    *,
    actor: Any,
    version: MasterRecordVersion,
    document: MasterBatchRecord,
    expected_row_version: int | None,
    reason: str | None = None,
) -> MasterRecordVersion:
    """Replace the whole document of a draft. ``reason`` defaults to the draft's change reason."""
    return _change_document(
        actor=actor,
        version=version,
        transform=lambda _old: document,
        expected_row_version=expected_row_version,
        reason=reason,
        action="recipes.version.replace_document",
    )


def edit_document(
    *,
    actor: Any,
    version: MasterRecordVersion,
    ops: Sequence[editing.EditOp],
    expected_row_version: int | None,
    reason: str | None = None,
) -> MasterRecordVersion:
    """Apply the builder's fine-grained edits (``editing.EditOp``) to a draft, all or nothing.

    The result must still have the shape of a master record (a field error names the path);
    the rules (``validate``) may report problems, which a draft may have.
    """
    if not ops:
        raise ValidationFailed("No change given.", field="ops")
    return _change_document(
        actor=actor,
        version=version,
        transform=lambda old: apply_edits(old, ops),
        expected_row_version=expected_row_version,
        reason=reason,
        action="recipes.version.edit",
        detail={"edits": [op.describe() for op in ops][:DIFF_SUMMARY_LINES]},
    )


def apply_edits(document: MasterBatchRecord, ops: Sequence[editing.EditOp]) -> MasterBatchRecord:
    """The document after ``ops`` (structure checked), or ValidationFailed naming the path."""
    try:
        data = editing.apply(to_data(document), ops)
    except editing.EditError as exc:
        raise ValidationFailed(exc.message, field=exc.path or "path") from None
    return document_from_data(data)


def _store_bytes(
    actor: Any, filename: str, media_type: str, content: bytes, reason: str, digest: str = ""
) -> str:
    """Keep the bytes once, by SHA-256 (audited the first time); return the digest (``digest``:
    the caller computed it already)."""
    digest = digest or hashlib.sha256(content).hexdigest()
    if not MasterRecordAttachment.objects.filter(sha256=digest).exists():
        stored = MasterRecordAttachment(
            sha256=digest,
            filename=filename,
            media_type=media_type,
            size=len(content),
            content=content,
            uploaded_at=utcnow(),
            uploaded_by=actor,
        )
        stored.save(force_insert=True)
        audit.record(
            actor=actor,
            action="recipes.attachment.store",
            obj=stored,
            new={"sha256": digest, "filename": filename, "media_type": media_type},
            reason=reason,
        )
    return digest


def store_files(*, actor: Any, files: Sequence[tuple[str, str, bytes]], reason: str) -> list[str]:
    """Keep (filename, media type, bytes) that documents name by SHA-256, e.g. before importing an
    MBR file whose ``attachments`` list them. Returns the digests."""
    permissions.require(actor, "recipes.author")
    for filename, media_type, content in files:
        if media_type not in ATTACHMENT_MEDIA_TYPES:
            raise ValidationFailed(
                f"{filename}: {media_type} files cannot be attached.", field="file"
            )
        if not content or len(content) > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed(f"{filename}: empty or too large.", field="file")
    with transaction.atomic():
        return [_store_bytes(actor, f, m, c, _reason(reason)) for f, m, c in files]


def add_attachment(
    *,
    actor: Any,
    version: MasterRecordVersion,
    attachment_id: str,
    filename: str,
    media_type: str,
    content: bytes,
    description: str = "",
    expected_row_version: int | None,
    reason: str | None = None,
) -> MasterRecordVersion:
    """Keep a file's bytes (label specimen, image) and list it in the draft's attachments."""
    permissions.require(actor, "recipes.author")
    media_type = (media_type or "").split(";")[0].strip().lower()
    if media_type not in ATTACHMENT_MEDIA_TYPES:
        raise ValidationFailed(
            f"Attach PNG, JPEG, GIF, WebP or PDF files, not {media_type or 'this kind of file'}.",
            field="file",
        )
    if not content:
        raise ValidationFailed("The file is empty.", field="file")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            f"Files up to {MAX_ATTACHMENT_BYTES // 1_000_000} MB can be attached.", field="file"
        )
    # Only the base name, in characters safe in a download header.
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    filename = re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:200] or "file"
    digest = hashlib.sha256(content).hexdigest()
    item: dict[str, Any] = {
        "id": attachment_id,
        "filename": filename,
        "media_type": media_type,
        "sha256": digest,
    }
    if description:
        item["description"] = description
    op = editing.EditOp("insert", "attachments", item=item)

    def attach(old: MasterBatchRecord) -> MasterBatchRecord:
        if any(a.id == attachment_id for a in old.attachments):
            raise ValidationFailed(
                f"There is already an attachment {attachment_id!r}.", field="attachment_id"
            )
        return apply_edits(old, [op])

    with transaction.atomic():
        _store_bytes(
            actor,
            filename,
            media_type,
            content,
            _reason(reason or version.change_reason),
            digest=digest,
        )
        return _change_document(
            actor=actor,
            version=version,
            transform=attach,
            expected_row_version=expected_row_version,
            reason=reason,
            action="recipes.version.edit",
            detail={"edits": [f"attach {attachment_id} ({filename}, sha256 {digest[:12]})"]},
        )


# --- review and approval (signed) --------------------------------------------------------------


def submit_for_review(
    *,
    actor: Any,
    version: MasterRecordVersion,
    authority: SignerAuthority,
    reason: str = "",
    expected_row_version: int | None = None,
    expected_content_sha256: str = "",
) -> MasterRecordVersion:
    """Sign the draft as its author and send it for review; refused while it has problems."""
    permissions.require(actor, "recipes.author")
    with transaction.atomic():
        locked = _lock(version, expected_row_version)
        _require_status(locked, [S.DRAFT], "sent for review")
        problems = validate(locked.document())
        if problems:
            raise _invalid(
                f"{locked.master.code} version {locked.version} has {len(problems)} problem(s) "
                "and cannot be sent for review until they are fixed.",
                problems,
            )
        locked.status = S.IN_REVIEW
        _saved(locked, ["status"])
        why = (reason or "").strip() or "sent for review"
        audit.record(
            actor=actor,
            action="recipes.version.submit",
            obj=locked,
            old={"status": S.DRAFT},
            new={"status": S.IN_REVIEW, "content_hash": locked.content_hash},
            reason=why,
        )
        signature = signing.sign(
            authority=authority,
            obj=locked,
            meaning=Meaning.AUTHORED,
            reason=reason,
            expected_content_sha256=expected_content_sha256,
            actor=actor,
        )
        locked.authored_signature = signature
        locked.save(update_fields=["authored_signature"])
        return locked


def check_version(
    *,
    actor: Any,
    version: MasterRecordVersion,
    authority: SignerAuthority,
    reason: str = "",
    expected_row_version: int | None = None,
    expected_content_sha256: str = "",
) -> MasterRecordVersion:
    """Independent check by a second person (211.186(a)): never whoever prepared it."""
    permissions.require(actor, "recipes.check")
    with transaction.atomic():
        locked = _lock(version, expected_row_version)
        _require_status(locked, [S.IN_REVIEW], "checked")
        if locked.checked_signature_id is not None:
            raise Conflict("This version has been checked already.", field="status")
        people = _people(locked)
        if actor.pk in people["prepared"]:
            raise PermissionDenied(
                "You prepared this version: a second person must check it (21 CFR 211.186).",
                field="actor",
            )
        _require_valid_signature(locked.authored_signature, "authoring")
        signature = signing.sign(
            authority=authority,
            obj=locked,
            meaning=Meaning.CHECKED,
            reason=reason,
            expected_content_sha256=expected_content_sha256,
            actor=actor,
        )
        locked.checked_signature = signature
        _saved(locked, ["checked_signature"])
        audit.record(
            actor=actor,
            action="recipes.version.check",
            obj=locked,
            new={"checked": True, "content_hash": locked.content_hash},
            reason=(reason or "").strip() or "checked",
        )
        return locked


def approve(
    *,
    actor: Any,
    version: MasterRecordVersion,
    authority: SignerAuthority,
    reason: str = "",
    expected_row_version: int | None = None,
    expected_content_sha256: str = "",
) -> MasterRecordVersion:
    """QA approval, after the check; never by whoever prepared or checked this version."""
    permissions.require(actor, "recipes.approve")
    with transaction.atomic():
        locked = _lock(version, expected_row_version)
        _require_status(locked, [S.IN_REVIEW], "approved")
        if locked.checked_signature_id is None:
            raise Conflict(
                "A second person must check this version before QA approves it (21 CFR 211.186).",
                field="status",
            )
        people = _people(locked)
        if actor.pk in people["prepared"]:
            raise PermissionDenied(
                "You prepared this version: nobody approves their own MBR.", field="actor"
            )
        if actor.pk == people["checked"]:
            raise PermissionDenied(
                "You checked this version: its approval needs another person.", field="actor"
            )
        _require_valid_signature(locked.authored_signature, "authoring")
        _require_valid_signature(locked.checked_signature, "checking")
        locked.status = S.APPROVED
        signature = signing.sign(
            authority=authority,
            obj=locked,
            meaning=Meaning.APPROVED,
            reason=reason,
            expected_content_sha256=expected_content_sha256,
            actor=actor,
        )
        locked.approved_signature = signature
        _saved(locked, ["status", "approved_signature"])
        audit.record(
            actor=actor,
            action="recipes.version.approve",
            obj=locked,
            old={"status": S.IN_REVIEW},
            new={"status": S.APPROVED, "content_hash": locked.content_hash},
            reason=(reason or "").strip() or "approved",
        )
        return locked


def reject(
    *,
    actor: Any,
    version: MasterRecordVersion,
    reason: str,
    expected_row_version: int | None = None,
) -> MasterRecordVersion:
    """Back to draft, with the reason; the review round's signatures no longer count."""
    permissions.require(actor, "recipes.reject")
    reason = _reason(reason)
    with transaction.atomic():
        locked = _lock(version, expected_row_version)
        _require_status(locked, [S.IN_REVIEW, S.APPROVED], "sent back to draft")
        old = {
            "status": locked.status,
            "authored_signature": _uid(locked.authored_signature),
            "checked_signature": _uid(locked.checked_signature),
            "approved_signature": _uid(locked.approved_signature),
        }
        locked.status = S.DRAFT
        locked.authored_signature = None
        locked.checked_signature = None
        locked.approved_signature = None
        _saved(locked, ["status", "authored_signature", "checked_signature", "approved_signature"])
        audit.record(
            actor=actor,
            action="recipes.version.reject",
            obj=locked,
            old=old,
            new={"status": S.DRAFT},
            reason=reason,
        )
        return locked


def _uid(signature: Signature | None) -> str | None:
    return str(signature.uid) if signature is not None else None


# --- effective and retired ---------------------------------------------------------------------


def make_effective(
    *,
    actor: Any,
    version: MasterRecordVersion,
    reason: str,
    expected_row_version: int | None = None,
) -> MasterRecordVersion:
    """The approved version becomes the one batches are made from; the version effective until
    now is superseded in the same transaction."""
    permissions.require(actor, "recipes.make_effective")
    reason = _reason(reason)
    with transaction.atomic():
        MasterRecord.objects.select_for_update(no_key=True).get(pk=version.master_id)
        locked = _lock(version, expected_row_version)
        _require_status(locked, [S.APPROVED], "made effective")
        # 211.186: the record cannot take effect without its signatures, all still valid.
        _require_valid_signature(locked.authored_signature, "authoring")
        _require_valid_signature(locked.checked_signature, "checking")
        _require_valid_signature(locked.approved_signature, "approval")
        now = utcnow()
        previous = (
            MasterRecordVersion.objects.select_for_update(no_key=True)
            .filter(master_id=locked.master_id, status=S.EFFECTIVE)
            .first()
        )
        if previous is not None:
            previous.status = S.SUPERSEDED
            _saved(previous, ["status"])
            audit.record(
                actor=actor,
                action="recipes.version.supersede",
                obj=previous,
                old={"status": S.EFFECTIVE},
                new={"status": S.SUPERSEDED, "superseded_by": locked.version},
                reason=reason,
            )
        locked.status = S.EFFECTIVE
        locked.effective_at = now
        _saved(locked, ["status", "effective_at"])
        audit.record(
            actor=actor,
            action="recipes.version.make_effective",
            obj=locked,
            old={"status": S.APPROVED},
            new={
                "status": S.EFFECTIVE,
                "effective_at": now,
                "content_hash": locked.content_hash,
                "supersedes": previous.version if previous else None,
            },
            reason=reason,
        )
        return locked


def retire(
    *,
    actor: Any,
    version: MasterRecordVersion,
    reason: str,
    expected_row_version: int | None = None,
) -> MasterRecordVersion:
    """Withdraw a version from use for good (no new batches from it)."""
    permissions.require(actor, "recipes.retire")
    reason = _reason(reason)
    with transaction.atomic():
        locked = _lock(version, expected_row_version)
        _require_status(locked, RETIRABLE, "retired")
        old_status = locked.status
        locked.status = S.RETIRED
        locked.retired_at = utcnow()
        _saved(locked, ["status", "retired_at"])
        audit.record(
            actor=actor,
            action="recipes.version.retire",
            obj=locked,
            old={"status": old_status},
            new={"status": S.RETIRED, "retired_at": locked.retired_at},
            reason=reason,
        )
        return locked
