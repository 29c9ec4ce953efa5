"""Input and output shapes shared by the API and by features that take a signature."""

from __future__ import annotations

from ninja import Field, Schema

from galenic.signatures.selectors import SignatureEntry


class SignatureIn(Schema):
    """What a person enters to sign (11.200(a)(1)).

    ``user_id`` is needed at the first signing of a session and at every signing in kiosk mode
    (ask ``GET /api/v1/signatures/credentials``); ``content_sha256`` is the content fingerprint
    the signer was shown, so a record that changed in between is refused instead of signed.
    """

    user_id: str | None = Field(None, description="User ID; needed when needs_user_id is true.")
    password: str = Field(
        ..., repr=False, json_schema_extra={"format": "password", "writeOnly": True}
    )
    reason: str = Field("", description="Why; required for some meanings (e.g. rejected).")
    content_sha256: str = Field(
        "", description="Fingerprint of the content shown to the signer (optional)."
    )


class ManifestationOut(Schema):
    printed_name: str
    user_id: str
    signed_at_text: str
    meaning_label: str
    reason: str
    text: str


class SignatureOut(Schema):
    uid: str
    object_type: str
    object_id: str
    signer_user_id: str
    printed_name: str
    meaning: str
    meaning_label: str
    signed_at: str = Field(..., description="ISO 8601, UTC (server clock).")
    time_zone: str
    reason: str
    credentials: str
    content_sha256: str
    status: str = Field(
        ...,
        description="valid | changed_after_signing | binding_broken | record_missing | unverifiable",
    )
    status_label: str
    changed_fields: list[str]
    manifestation: ManifestationOut

    @staticmethod
    def of(entry: SignatureEntry) -> SignatureOut:
        s, m = entry.signature, entry.manifestation
        return SignatureOut(
            uid=str(s.uid),
            object_type=s.object_type,
            object_id=s.object_id,
            signer_user_id=s.signer_user_id,
            printed_name=s.signer_name,
            meaning=s.meaning,
            meaning_label=m.meaning_label,
            signed_at=m.signed_at_utc,
            time_zone=s.time_zone,
            reason=s.reason,
            credentials=s.credentials,
            content_sha256=s.content_sha256,
            status=entry.status.value,
            status_label=entry.status.label,
            changed_fields=list(entry.changed_fields),
            manifestation=ManifestationOut(
                printed_name=m.printed_name,
                user_id=m.user_id,
                signed_at_text=m.signed_at_text,
                meaning_label=m.meaning_label,
                reason=m.reason,
                text=m.as_text(),
            ),
        )


class CredentialsOut(Schema):
    mode: str = Field(..., description="session | kiosk")
    needs_user_id: bool
    policy_acknowledged: bool
    policy_version: str


class PolicyOut(Schema):
    version: str
    title: str
    statements: list[str]
    sha256: str
    acknowledged: bool
    acknowledgement: SignatureOut | None = None
