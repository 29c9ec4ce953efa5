"""Fixtures for export tests: a stored MBR version (the demo tablet record), signing helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from galenic.testing.support import PASSWORD

DEMO = Path(__file__).resolve().parents[2] / "src" / "galenic" / "recipes" / "demo"
TABLET = DEMO / "paracetamol-500-tablets.yaml"


def _version_content(version: Any) -> dict[str, Any]:
    return {"document_json": version.document_json, "content_hash": version.content_hash}


def authority(user: Any) -> Any:
    from galenic.signatures import services

    return services.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=PASSWORD
    )


def acknowledge_policy(user: Any) -> None:
    from galenic.core.context import action_context
    from galenic.signatures import selectors, services

    if not selectors.has_acknowledged_policy(user):
        with action_context("test"):
            services.acknowledge_policy(actor=user, authority=authority(user))


@pytest.fixture
def mbr_version(personas: dict[str, Any]) -> Any:
    """The demo tablet MBR, version 1, taken through the real lifecycle to effective: authored
    by the engineer, checked by the reviewer, approved and made effective by the approver."""
    from galenic.core.context import action_context
    from galenic.recipes import services
    from galenic.recipes.document import load_yaml

    doc = load_yaml(TABLET.read_text("utf-8"))
    engineer, reviewer, approver = personas["engineer"], personas["reviewer"], personas["approver"]
    for user in (engineer, reviewer, approver):
        acknowledge_policy(user)
    with action_context("test"):
        version = services.create_master_record(actor=engineer, document=doc, reason="new product")
    with action_context("test"):
        version = services.submit_for_review(
            actor=engineer, version=version, authority=authority(engineer)
        )
    with action_context("test"):
        version = services.check_version(
            actor=reviewer, version=version, authority=authority(reviewer)
        )
    with action_context("test"):
        version = services.approve(actor=approver, version=version, authority=authority(approver))
    with action_context("test"):
        version = services.make_effective(actor=approver, version=version, reason="introduction")
    version.refresh_from_db()
    return version


@pytest.fixture
def sign(personas: dict[str, Any]) -> Callable[..., Any]:
    """sign(user, record, meaning) → Signature, after the user acknowledged the policy."""
    from django.db import transaction

    from galenic.core.context import action_context
    from galenic.signatures import services

    def _sign(user: Any, record: Any, meaning: str, reason: str = "") -> Any:
        acknowledge_policy(user)
        with action_context("test"):
            granted = authority(user)
            with transaction.atomic():
                return services.sign(authority=granted, obj=record, meaning=meaning, reason=reason)

    return _sign


def pdf_text(data: bytes) -> str:
    """All text of a PDF, page by page (pypdf), as one string."""
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def extract_text() -> Callable[[bytes], str]:
    return pdf_text
