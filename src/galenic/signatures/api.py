"""Signatures API: list a record's signatures (verified now), the credentials a signing needs,
and the accountability policy acknowledgement. Features take a signature in their own endpoints
with the shared ``SignatureIn`` schema (see ``galenic.signatures.schemas``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from galenic.accounts import permissions
from galenic.core.errors import ValidationFailed
from galenic.signatures import policy, registry, selectors, services
from galenic.signatures.schemas import CredentialsOut, PolicyOut, SignatureIn, SignatureOut

router = Router(tags=["signatures"])

__all__ = ["SignatureIn", "authenticate", "router"]


def authenticate(
    request: HttpRequest,
    payload: SignatureIn,
    *,
    reason_required: bool = False,
    full_credentials: bool = False,
) -> services.SignerAuthority:
    """Step 1 of signing for an API endpoint that takes a ``SignatureIn``; call it before the
    feature's service (which calls ``services.sign`` in its transaction). A missing required
    reason is refused first, so it never costs a password attempt."""
    if reason_required and not payload.reason.strip():
        raise ValidationFailed("Give the reason for this signature.", field="reason")
    return services.authenticate_signer(
        session=request.session,
        actor=request.user,
        user_id=payload.user_id,
        password=payload.password,
        full_credentials=full_credentials,
    )


class ObjectFilter(Schema):
    object_type: str
    object_id: str


@router.get(
    "/",
    response=list[SignatureOut],
    summary="A record's signatures, each verified against the record as it is now",
)
def list_signatures(request: HttpRequest, filters: Query[ObjectFilter]) -> list[SignatureOut]:
    permissions.require(request.user, "signatures.view")
    object_type = filters.object_type.strip().lower()
    if not registry.is_registered(object_type):
        raise ValidationFailed(
            f"{object_type!r} is not a signable record type (one of: {', '.join(registry.labels())}).",
            field="object_type",
        )
    return [
        SignatureOut.of(e) for e in selectors.signatures_for(object_type, filters.object_id.strip())
    ]


@router.get(
    "/credentials",
    response=CredentialsOut,
    summary="What the next signature of this session needs (user ID or password only)",
)
def credentials(request: HttpRequest) -> CredentialsOut:
    return CredentialsOut(
        mode=services.signature_mode(),
        needs_user_id=services.needs_user_id(request.session, actor=request.user),
        policy_acknowledged=selectors.has_acknowledged_policy(request.user),
        policy_version=policy.VERSION,
    )


def _policy_out(request: HttpRequest) -> PolicyOut:
    ack = selectors.policy_acknowledgement(request.user)
    entries = selectors.signatures_for_object(ack) if ack else []
    return PolicyOut(
        version=policy.VERSION,
        title=policy.TITLE,
        statements=list(policy.STATEMENTS),
        sha256=policy.sha256(),
        acknowledged=ack is not None,
        acknowledgement=SignatureOut.of(entries[0]) if entries else None,
    )


@router.get("/policy", response=PolicyOut, summary="The e-signature accountability policy")
def get_policy(request: HttpRequest) -> PolicyOut:
    return _policy_out(request)


@router.post(
    "/policy/acknowledge",
    response={201: PolicyOut},
    summary="Sign the accountability policy (needs user ID and password)",
)
def acknowledge_policy(request: HttpRequest, payload: SignatureIn) -> Status[PolicyOut]:
    authority = authenticate(request, payload, full_credentials=True)
    services.acknowledge_policy(actor=request.user, authority=authority)
    return Status(201, _policy_out(request))
