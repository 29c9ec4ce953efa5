"""The MBR PDF holds the whole master record (211.186): header fields, every unit procedure,
operation and step with instructions, parameters and limits, materials, equipment, completion
requirements; the signatures as the signatures app manifests them; the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from galenic.exports import mbr, selectors, services
from galenic.exports.records import record_sha256
from galenic.signatures.manifestation import manifestation

pytestmark = pytest.mark.django_db


def flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_contains_every_part_of_the_master_record(
    mbr_version: Any, personas: dict[str, Any], extract_text: Callable[[bytes], str]
) -> None:
    export = services.export_mbr(actor=personas["reviewer"], version=mbr_version, fmt="pdf")
    text = flat(extract_text(export.content))
    doc = mbr_version.document()

    for needle in (
        doc.product.name,
        doc.product.strength,
        doc.product.dosage_form,
        doc.product.unit_weight,
        doc.theoretical_yield.quantity,
        mbr_version.content_hash,
    ):
        assert flat(needle) in text, needle
    for component in doc.components:
        assert flat(f"{component.code}") in text
        assert flat(component.name) in text
        assert component.quantity in text
        assert component.tolerance in text
    steps = list(doc.walk_steps())
    assert len(steps) > 40
    for ref in steps:
        step = ref.step
        assert f"[{step.key}]" in text, step.key
        if step.instructions:
            first_words = flat(mbr.instructions_text(step.instructions))[:60]
            assert first_words in text, step.key
        for p in step.parameters:
            assert f"[{p.key}]" in text
            limits = flat(mbr.limits_text(p))
            if limits:
                assert limits in text, (step.key, p.key, limits)
        for m in step.materials:
            assert m.material in text
            assert m.quantity in text
        for e in step.equipment:
            assert (e.equipment_id or e.equipment_class or "") in text
        if step.completion.verification:
            assert "second-person verification" in text


def test_every_page_carries_the_record_hash_and_page_numbers(
    mbr_version: Any, personas: dict[str, Any], extract_text: Callable[[bytes], str]
) -> None:
    export = services.export_mbr(actor=personas["operator"], version=mbr_version, fmt="pdf")
    assert export.record_sha256 == record_sha256(selectors.mbr_record(mbr_version))
    import io

    import pypdf

    pages = pypdf.PdfReader(io.BytesIO(export.content)).pages
    for number, page in enumerate(pages, start=1):
        page_text = page.extract_text()
        assert export.record_sha256 in page_text
        assert f"Page {number} of {len(pages)}" in page_text
        assert f"{mbr_version.master.code} v1" in page_text


def test_signatures_are_the_signatures_apps_manifestations(
    mbr_version: Any, personas: dict[str, Any], extract_text: Callable[[bytes], str]
) -> None:
    from galenic.signatures.selectors import signatures_for_object

    signatures = [e.signature for e in signatures_for_object(mbr_version)]
    assert [s.meaning for s in signatures] == ["authored", "checked", "approved"]
    export = services.export_mbr(actor=personas["reviewer"], version=mbr_version, fmt="pdf")
    text = flat(extract_text(export.content))
    for signature in signatures:
        rendered = manifestation(signature)
        assert flat(rendered.as_text()) in text
        assert rendered.printed_name in text
        assert rendered.meaning_label in text
        assert rendered.signed_at_text in text  # date-time with zone and offset (11.50)
    assert "Changed after signing" not in text


def test_audit_appendix_lists_the_versions_events_but_not_exports(
    mbr_version: Any, personas: dict[str, Any], extract_text: Callable[[bytes], str]
) -> None:
    first = services.export_mbr(actor=personas["reviewer"], version=mbr_version, fmt="pdf")
    second = services.export_mbr(actor=personas["reviewer"], version=mbr_version, fmt="pdf")
    text = flat(extract_text(second.content))
    for action in ("recipes.version.create", "recipes.version.submit", "recipes.version.approve"):
        assert action in text
    assert "exports.mbr.export" not in text
    # Exporting is audited, yet does not change the record's data or its hash.
    assert first.record_sha256 == second.record_sha256
    exported = selectors.exports_of("recipes.masterrecordversion", str(mbr_version.pk))
    assert [e.actor_username for e in exported] == ["quinn", "quinn"]
