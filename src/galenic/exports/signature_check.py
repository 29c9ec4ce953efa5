"""Verify the signatures of a whole batch record at once.

``signatures.verify.check_many`` recomputes each signed record's content through the registry,
one record at a time (a few queries per step execution). A batch record has thousands of
signed step executions whose entries the export has already read, so their content is computed
here in bulk from those rows, with execution's own ``entry_content``/``current_entries``, and
each signature is checked as ``signatures.verify`` checks it. Any other signature goes through
``check_many`` unchanged. ``tests/review/test_review_signature_bulk_content.py`` holds the bulk
content equal to the registry's for every step, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from galenic.execution.models import Batch, Entry, StepExecution
from galenic.execution.selectors import current_entries, entry_content
from galenic.signatures import registry
from galenic.signatures.binding import binding_sha256, canonical_content, changed_keys, sha256_text
from galenic.signatures.models import Signature
from galenic.signatures.verify import AuditIndex, SignatureCheck, SignatureStatus, check_many

STEP = "execution.stepexecution"


def step_contents(
    batch: Batch, steps: Iterable[StepExecution], entries: Sequence[Entry]
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The registry content of each step execution (as ``execution.selectors.step_content``)."""
    by_step: dict[int, list[Entry]] = {}
    for entry in entries:
        by_step.setdefault(entry.step_id, []).append(entry)
    contents: dict[tuple[str, str], Mapping[str, Any]] = {}
    for step in steps:
        current = current_entries(by_step.get(step.pk, []))
        contents[(STEP, str(step.pk))] = {
            "batch": batch.number,
            "document_hash": batch.document_hash,
            "step": step.step_key,
            "iteration": step.iteration,
            "title": step.title,
            "entries": [entry_content(e) for e in current.values()],
        }
    return contents


def check_signatures(
    signatures: Sequence[Signature],
    *,
    index: AuditIndex,
    contents: Mapping[tuple[str, str], Mapping[str, Any]],
) -> list[SignatureCheck]:
    """Each signature checked as ``signatures.verify`` does, with content known in advance
    where ``contents`` has it."""
    digests: dict[tuple[str, str], str] = {}
    found: list[SignatureCheck] = []
    others = [s for s in signatures if (s.object_type, s.object_id) not in contents]
    checked_others = {c.signature.pk: c for c in check_many(others, index=index)} if others else {}
    for signature in signatures:
        key = (signature.object_type, signature.object_id)
        if key not in contents:
            found.append(checked_others[signature.pk])
            continue
        if signature.content_sha256 != sha256_text(signature.content_json) or (
            signature.binding_sha256 != binding_sha256(signature.binding_fields())
        ):
            found.append(SignatureCheck(signature, SignatureStatus.BINDING_BROKEN))
            continue
        audited = index.get(str(signature.uid))
        if audited is None or not audited.matches(signature):
            found.append(SignatureCheck(signature, SignatureStatus.BINDING_BROKEN))
            continue
        if not registry.is_registered(signature.object_type):
            found.append(SignatureCheck(signature, SignatureStatus.UNVERIFIABLE))
            continue
        if key not in digests:
            digests[key] = sha256_text(canonical_content(contents[key]))
        if digests[key] != signature.content_sha256:
            signed = json.loads(signature.content_json)
            found.append(
                SignatureCheck(
                    signature, SignatureStatus.CHANGED, tuple(changed_keys(signed, contents[key]))
                )
            )
            continue
        found.append(SignatureCheck(signature, SignatureStatus.VALID))
    return found
