"""Who may call what: the expected side of the authorisation matrix (21 CFR 11.10(d)(g)).

Every API operation (from the OpenAPI document) and every UI route (from the URL resolver) must
appear here, or test_authorisation_matrix fails naming it: a new route cannot ship without
someone deciding who may use it.

``needs`` names actions of ``galenic.accounts.permissions.ACTIONS``; a principal may call the
route when its roles allow *every* action named (signed routes also need "signatures.sign").
``LOGGED_IN`` means any signed-in person, ``PUBLIC`` anyone at all, ``DEVICE`` only a gateway
token. Each entry carries one concrete request (against the world of security_world.py) that
must succeed for every allowed principal and be refused for everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from galenic.accounts.permissions import ACTIONS
from galenic.testing.support import PASSWORD

LOGGED_IN: tuple[str, ...] = ()
PUBLIC = ("<public>",)
DEVICE = ("equipment.ingest",)  # held only by gateway principals

# The personas of tests/conftest.py (verifier victor also holds the operator role).
PERSONA_ROLES = {
    "admin": {"admin"},
    "operator": {"operator"},
    "verifier": {"verifier", "operator"},
    "supervisor": {"supervisor"},
    "engineer": {"process_engineer"},
    "reviewer": {"qa_reviewer"},
    "approver": {"qa_approver"},
    "inspector": {"inspector"},
}
PRINCIPALS = [*PERSONA_ROLES, "anonymous", "device"]

SIGN = {"user_id": "{me}", "password": PASSWORD}


@dataclass(frozen=True)
class Rule:
    needs: tuple[str, ...]
    path: str = ""  # the concrete path; defaults to the route with the world's parameters
    body: Any = None  # JSON (API) or form fields (UI); strings are formatted with the world
    ok: int | tuple[int, ...] = 200
    content_type: str = "application/json"
    fresh_person: bool = False  # act as a new person with the principal's roles (see below)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def allowed(self, principal: str) -> bool:
        if self.needs == PUBLIC:
            return True
        if principal == "anonymous":
            return False
        if principal == "device":
            return self.needs == DEVICE
        if self.needs == DEVICE:
            return False
        roles = PERSONA_ROLES[principal]
        return all(roles & ACTIONS[action] for action in self.needs)


def R(*needs: str, **kw: Any) -> Rule:
    return Rule(needs=tuple(needs), **kw)


def signed(*needs: str, **kw: Any) -> Rule:
    body = {**SIGN, **kw.pop("body", {})}
    return Rule(needs=(*needs, "signatures.sign"), body=body, **kw)


B = "/api/v1/batches"
M = "/api/v1/mbrs"

# (METHOD, OpenAPI path) -> Rule
API: dict[tuple[str, str], Rule] = {
    # --- accounts
    ("GET", "/api/v1/accounts/me"): R(),
    ("POST", "/api/v1/accounts/me/password"): R(
        body={"old_password": PASSWORD, "new_password": "Another-horse-2026!"}
    ),
    ("GET", "/api/v1/accounts/roles"): R(),
    ("GET", "/api/v1/accounts/users"): R("accounts.view_users"),
    ("POST", "/api/v1/accounts/users"): R(
        "accounts.create_user",
        body={"username": "newbie", "full_name": "New Bie", "roles": ["operator"]},
        ok=201,
    ),
    ("GET", "/api/v1/accounts/users/{username}"): R("accounts.view_users"),
    ("PATCH", "/api/v1/accounts/users/{username}"): R(
        "accounts.edit_user", body={"full_name": "Uma Upright", "reason": "typo"}
    ),
    ("POST", "/api/v1/accounts/users/{username}/roles"): R(
        "accounts.grant_role", body={"role": "verifier", "reason": "trained"}
    ),
    ("POST", "/api/v1/accounts/users/{username}/roles/{role}/revoke"): R(
        "accounts.revoke_role", body={"reason": "moved"}
    ),
    ("POST", "/api/v1/accounts/users/{username}/deactivate"): R(
        "accounts.deactivate_user", body={"reason": "left"}
    ),
    ("POST", "/api/v1/accounts/users/{username}/reactivate"): R(
        "accounts.reactivate_user",
        path="/api/v1/accounts/users/dee/reactivate",
        body={"reason": "back"},
    ),
    ("POST", "/api/v1/accounts/users/{username}/unlock"): R(
        "accounts.unlock_user",
        path="/api/v1/accounts/users/lou/unlock",
        body={"reason": "identity checked"},
    ),
    ("POST", "/api/v1/accounts/users/{username}/reset-password"): R(
        "accounts.reset_password", body={"reason": "forgot"}
    ),
    ("POST", "/api/v1/accounts/users/{username}/verify-identity"): R(
        "accounts.verify_identity",
        path="/api/v1/accounts/users/ivy/verify-identity",
        body={"evidence": "passport seen"},
    ),
    ("GET", "/api/v1/accounts/access-reviews/due"): R("accounts.view_users"),
    ("POST", "/api/v1/accounts/users/{username}/access-review"): R(
        "accounts.review_access", body={"note": "roles confirmed with the line manager"}
    ),
    ("GET", "/api/v1/accounts/users/{username}/training"): R("accounts.view_users"),
    ("POST", "/api/v1/accounts/users/{username}/training"): R(
        "accounts.record_training",
        body={"course": "SOP-SEC-002", "completed_on": "2026-01-05"},
        ok=201,
    ),
    ("POST", "/api/v1/accounts/users/{username}/training/{record_id}/withdraw"): R(
        "accounts.record_training",
        path="/api/v1/accounts/users/uma/training/{training_id}/withdraw",
        body={"reason": "entered in error"},
    ),
    # --- audit trail
    ("GET", "/api/v1/audit/events"): R("audit.view"),
    ("GET", "/api/v1/audit/export.csv"): R("audit.view"),
    ("GET", "/api/v1/audit/export.json"): R("audit.view"),
    ("POST", "/api/v1/audit/verify"): R("audit.verify"),
    # --- signatures
    ("GET", "/api/v1/signatures/"): R(
        "signatures.view",
        path="/api/v1/signatures/?object_type=recipes.masterrecordversion&object_id={version_id}",
    ),
    ("GET", "/api/v1/signatures/credentials"): R(),
    ("GET", "/api/v1/signatures/policy"): R(),
    ("POST", "/api/v1/signatures/policy/acknowledge"): signed(
        ok=201, fresh_person=True, note="acknowledged once per person: a new person does it"
    ),
    # --- equipment
    ("POST", "/api/v1/equipment/ingest"): R(*DEVICE, body={"items": []}),
    ("POST", "/api/v1/equipment/gateway/status"): R(*DEVICE, body={"connections": []}),
    ("GET", "/api/v1/equipment/instruments"): R("equipment.view"),
    ("GET", "/api/v1/equipment/instruments/{code}"): R(
        "equipment.view", path="/api/v1/equipment/instruments/BAL-S1"
    ),
    ("POST", "/api/v1/equipment/instruments/{code}/capture"): R(
        "equipment.capture", path="/api/v1/equipment/instruments/BAL-S1/capture", body={}
    ),
    ("POST", "/api/v1/equipment/tags/{code}/capture"): R(
        "equipment.capture", path="/api/v1/equipment/tags/GRN-S1.temp/capture", body={}
    ),
    ("GET", "/api/v1/equipment/tags/{code}/values"): R(
        "equipment.view",
        path="/api/v1/equipment/tags/GRN-S1.temp/values?start=2020-01-01T00:00:00Z",
    ),
    ("GET", "/api/v1/equipment/excursions"): R(
        "equipment.view", path="/api/v1/equipment/excursions?start=2020-01-01T00:00:00Z"
    ),
    ("GET", "/api/v1/equipment/gateways"): R("equipment.view"),
    # --- master batch records
    ("GET", f"{M}/"): R("recipes.view"),
    ("POST", f"{M}/"): R(
        "recipes.author",
        path=f"{M}/?reason=new+product",
        body="{new_mbr_yaml}",
        content_type="application/yaml",
        ok=201,
    ),
    ("GET", f"{M}/schema"): R(),
    ("POST", f"{M}/validate"): R(body="{new_mbr_yaml}", content_type="application/yaml"),
    ("GET", f"{M}/{{code}}"): R("recipes.view"),
    ("GET", f"{M}/{{code}}/versions/{{number}}"): R("recipes.view", path=f"{M}/MBR-SEC/versions/1"),
    ("GET", f"{M}/{{code}}/versions/{{number}}/problems"): R(
        "recipes.view", path=f"{M}/MBR-SEC/versions/1/problems"
    ),
    ("GET", f"{M}/{{code}}/versions/{{number}}/export"): R(
        "recipes.view", path=f"{M}/MBR-SEC/versions/1/export"
    ),
    ("GET", f"{M}/{{code}}/diff"): R("recipes.view", path=f"{M}/MBR-SEC/diff?from=1&to=1"),
    ("GET", f"{M}/{{code}}/versions/{{number}}/review"): R(
        "recipes.view", path=f"{M}/MBR-CHK/versions/1/review"
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/dry-run"): R(
        "recipes.view", path=f"{M}/MBR-SEC/versions/1/dry-run", body={}
    ),
    ("PUT", f"{M}/{{code}}/versions/{{number}}/document"): R(
        "recipes.author",
        path=f"{M}/MBR-DRAFT/versions/1/document?reason=rewrite",
        body="{draft_yaml}",
        content_type="application/yaml",
    ),
    ("PATCH", f"{M}/{{code}}/versions/{{number}}/document"): R(
        "recipes.author",
        path=f"{M}/MBR-DRAFT/versions/1/document",
        body={"reason": "title", "ops": [{"op": "set", "path": "", "values": {"title": "New"}}]},
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/attachments"): Rule(
        needs=("recipes.author",),
        path=f"{M}/MBR-DRAFT/versions/1/attachments",
        body={"attachment_id": "photo"},
        content_type="multipart",
        extra={"file": ("photo.png", b"\x89PNG\r\n\x1a\n0000", "image/png")},
        ok=201,
    ),
    ("GET", f"{M}/attachments/{{sha256}}"): R("recipes.view"),
    ("POST", f"{M}/{{code}}/versions"): R(
        "recipes.author", body={"from_version": 1, "reason": "next"}, ok=201
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/submit"): signed(
        "recipes.author", path=f"{M}/MBR-DRAFT/versions/1/submit"
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/check"): signed(
        "recipes.check", path=f"{M}/MBR-INREV/versions/1/check"
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/approve"): signed(
        "recipes.approve", path=f"{M}/MBR-CHK/versions/1/approve"
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/reject"): R(
        "recipes.reject", path=f"{M}/MBR-INREV/versions/1/reject", body={"reason": "unclear"}
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/make-effective"): R(
        "recipes.make_effective",
        path=f"{M}/MBR-APPR/versions/1/make-effective",
        body={"reason": "go"},
    ),
    ("POST", f"{M}/{{code}}/versions/{{number}}/retire"): R(
        "recipes.retire", path=f"{M}/MBR-SEC/versions/1/retire", body={"reason": "obsolete"}
    ),
    # --- batch execution
    ("GET", f"{B}/"): R("execution.view"),
    ("POST", f"{B}/"): R(
        "execution.create_batch", body={"mbr": "MBR-SEC", "number": "SEC-X1"}, ok=201
    ),
    ("GET", f"{B}/{{number}}"): R("execution.view"),
    ("POST", f"{B}/{{number}}/release"): signed(
        "execution.release_batch", path=f"{B}/SEC-NEW/release"
    ),
    ("POST", f"{B}/{{number}}/start"): R("execution.start_batch", path=f"{B}/SEC-REL/start"),
    ("POST", f"{B}/{{number}}/hold"): R("execution.hold", body={"reason": "check"}),
    ("POST", f"{B}/{{number}}/resume"): R(
        "execution.resume", path=f"{B}/SEC-HOLD/resume", body={"reason": "checked"}
    ),
    ("POST", f"{B}/{{number}}/complete"): R(
        "execution.complete_batch", path=f"{B}/SEC-END/complete"
    ),
    ("GET", f"{B}/{{number}}/steps"): R("execution.view"),
    ("GET", f"{B}/{{number}}/steps/{{step_key}}"): R("execution.view"),
    ("POST", f"{B}/{{number}}/steps/{{step_key}}/values"): R(
        "execution.record", body={"key": "mass", "value": "100.0"}, ok=201
    ),
    ("POST", f"{B}/{{number}}/steps/{{step_key}}/values/batch"): R(
        "execution.record", body={"values": [{"key": "mass", "value": "100.0"}]}, ok=201
    ),
    ("POST", f"{B}/{{number}}/steps/{{step_key}}/perform"): signed(
        "execution.perform", path=f"{B}/SEC-PERF/steps/weigh/perform"
    ),
    ("POST", f"{B}/{{number}}/steps/{{step_key}}/verify"): signed(
        "execution.verify", path=f"{B}/SEC-VER/steps/weigh/verify"
    ),
    ("POST", f"{B}/{{number}}/steps/{{step_key}}/approve"): signed(
        "execution.approve", path=f"{B}/SEC-APR/steps/weigh/approve"
    ),
    ("GET", f"{B}/{{number}}/entries"): R("execution.view"),
    ("POST", f"{B}/{{number}}/entries/{{entry_id}}/correct"): R(
        "execution.correct",
        path=f"{B}/SEC-PERF/entries/{{perf_entry_id}}/correct",
        body={"value": "101.0", "reason": "misread"},
        ok=201,
    ),
    ("GET", f"{B}/{{number}}/comments"): R("execution.view"),
    ("POST", f"{B}/{{number}}/comments"): R(
        "execution.comment", body={"text": "a remark", "step_key": "weigh"}, ok=201
    ),
    ("GET", f"{B}/{{number}}/attachments"): R("execution.view"),
    ("POST", f"{B}/{{number}}/attachments"): R(
        "execution.attach", body={"step_key": "weigh"}, content_type="multipart", ok=201
    ),
    ("GET", f"{B}/{{number}}/attachments/{{attachment_id}}"): R("execution.view"),
    ("GET", f"{B}/{{number}}/document/{{attachment_id}}"): R(
        "execution.view", path=f"{B}/SEC-RUN/document/label_s"
    ),
    ("GET", f"{B}/{{number}}/exceptions"): R("execution.view"),
    # --- deviations
    ("GET", "/api/v1/deviations/"): R("quality.view"),
    ("POST", "/api/v1/deviations/"): R(
        "quality.open", body={"title": "Spill", "description": "On the floor."}, ok=201
    ),
    ("GET", "/api/v1/deviations/{number}"): R(
        "quality.view", path="/api/v1/deviations/{deviation}"
    ),
    ("POST", "/api/v1/deviations/{number}/classify"): R(
        "quality.classify",
        path="/api/v1/deviations/{deviation}/classify",
        body={"classification": "minor", "reason": "no impact"},
    ),
    ("POST", "/api/v1/deviations/{number}/investigate"): R(
        "quality.investigate",
        path="/api/v1/deviations/{deviation}/investigate",
        body={"investigation": "Looked into it."},
    ),
    ("POST", "/api/v1/deviations/{number}/close"): signed(
        "quality.close",
        path="/api/v1/deviations/{deviation_ready}/close",
        body={"conclusion": "No impact."},
    ),
    # --- exports
    ("GET", "/api/v1/exports/mbr-versions/{version_id}/{fmt}"): R(
        "exports.mbr", path="/api/v1/exports/mbr-versions/{version_id}/json"
    ),
    ("GET", "/api/v1/exports/batches/{number}/{fmt}"): R(
        "exports.batch", path="/api/v1/exports/batches/SEC-CLEAN/json"
    ),
    # --- review by exception and disposition
    ("GET", "/api/v1/review/batches/{number}"): R(
        "review.view", path="/api/v1/review/batches/SEC-ACK"
    ),
    ("POST", "/api/v1/review/batches/{number}/items/{item_id}/acknowledge"): R(
        "review.acknowledge",
        path="/api/v1/review/batches/SEC-ACK/items/{item_id}/acknowledge",
        body={"comment": "acceptable"},
    ),
    ("POST", "/api/v1/review/batches/{number}/sign"): signed(
        "review.sign", path="/api/v1/review/batches/SEC-CLEAN/sign"
    ),
    ("POST", "/api/v1/review/batches/{number}/release"): signed(
        "review.release", path="/api/v1/review/batches/SEC-SIGNED/release"
    ),
    ("POST", "/api/v1/review/batches/{number}/reject"): signed(
        "review.release",
        path="/api/v1/review/batches/SEC-SIGNED/reject",
        body={"reason": "out of specification"},
    ),
}


def fill(value: Any, params: dict[str, Any]) -> Any:
    """``value`` with every string formatted with the world's parameters (and ``me``)."""
    if isinstance(value, str):
        return value.format(**params)
    if isinstance(value, dict):
        return {k: fill(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, params) for v in value]
    return value


# --- the UI: (METHOD, URL name, variant) -> Rule --------------------------------------------
# Paths are given in full; form posts succeed with 200/204/302 and, where they change something,
# an audit event by the person. Anonymous callers are sent to the login page.
MB = "/mbrs"
BT = "/batches"
RV = "/review"
ACC = "/accounts/users"


def form(*needs: str, **kw: Any) -> Rule:
    return Rule(needs=tuple(needs), content_type="form", **kw)


def signed_form(*needs: str, **kw: Any) -> Rule:
    body = {**SIGN, **kw.pop("body", {})}
    return Rule(needs=(*needs, "signatures.sign"), body=body, content_type="form", **kw)


READS = {"writes": False}  # a POST that changes nothing (previews, dry runs, checks)

UI: dict[tuple[str, str, str], Rule] = {
    # --- accounts
    ("GET", "accounts:login", ""): R(
        *PUBLIC, path="/accounts/login/", ok=(200, 302), note="signed-in people are sent home"
    ),
    ("POST", "accounts:login", ""): form(
        *PUBLIC,
        path="/accounts/login/",
        body={"username": "uma", "password": PASSWORD},
        ok=302,
        extra=READS,
        note="anyone may log in (here: as uma)",
    ),
    ("POST", "accounts:logout", ""): form(*PUBLIC, path="/accounts/logout/", ok=302, extra=READS),
    ("GET", "accounts:password_change", ""): R(path="/accounts/password/"),
    ("POST", "accounts:password_change", ""): form(
        path="/accounts/password/",
        body={
            "old_password": PASSWORD,
            "new_password": "Another-horse-2026!",
            "new_password_again": "Another-horse-2026!",
        },
        ok=302,
    ),
    ("GET", "accounts:me", ""): R(path="/accounts/me/"),
    ("GET", "accounts:user_list", ""): R("accounts.view_users", path=f"{ACC}/"),
    ("GET", "accounts:user_create", ""): R("accounts.create_user", path="/accounts/create-user/"),
    ("POST", "accounts:user_create", ""): form(
        "accounts.create_user",
        path="/accounts/create-user/",
        body={
            "username": "newbie",
            "full_name": "New Bie",
            "roles": ["operator"],
            "reason": "hired",
        },
    ),
    ("GET", "accounts:user_detail", ""): R("accounts.view_users", path=f"{ACC}/uma/"),
    ("POST", "accounts:user_edit", ""): form(
        "accounts.edit_user",
        path=f"{ACC}/uma/edit/",
        body={"full_name": "Uma U", "reason": "typo"},
        ok=302,
    ),
    ("POST", "accounts:role_grant", ""): form(
        "accounts.grant_role",
        path=f"{ACC}/uma/roles/",
        body={"role": "verifier", "reason": "x"},
        ok=302,
    ),
    ("POST", "accounts:role_revoke", ""): form(
        "accounts.revoke_role",
        path=f"{ACC}/uma/roles/supervisor/revoke/",
        body={"reason": "x"},
        ok=302,
    ),
    ("POST", "accounts:user_deactivate", ""): form(
        "accounts.deactivate_user", path=f"{ACC}/uma/deactivate/", body={"reason": "left"}, ok=302
    ),
    ("POST", "accounts:user_reactivate", ""): form(
        "accounts.reactivate_user", path=f"{ACC}/dee/reactivate/", body={"reason": "back"}, ok=302
    ),
    ("POST", "accounts:user_unlock", ""): form(
        "accounts.unlock_user", path=f"{ACC}/lou/unlock/", body={"reason": "checked"}, ok=302
    ),
    ("POST", "accounts:user_reset", ""): form(
        "accounts.reset_password", path=f"{ACC}/uma/reset-password/", body={"reason": "forgot"}
    ),
    ("POST", "accounts:identity_check", ""): form(
        "accounts.verify_identity",
        path=f"{ACC}/ivy/identity/",
        body={"evidence": "passport seen"},
        ok=302,
    ),
    ("POST", "accounts:access_review", ""): form(
        "accounts.review_access",
        path=f"{ACC}/uma/access-review/",
        body={"note": "roles confirmed"},
        ok=302,
    ),
    ("POST", "accounts:training_add", ""): form(
        "accounts.record_training",
        path=f"{ACC}/uma/training/",
        body={"course": "SOP-SEC-002", "completed_on": "2026-01-05"},
        ok=302,
    ),
    ("POST", "accounts:training_withdraw", ""): form(
        "accounts.record_training",
        path=f"{ACC}/uma/training/{{training_id}}/withdraw/",
        body={"reason": "entered in error"},
        ok=302,
    ),
    # --- audit trail
    ("GET", "audit:trail", ""): R("audit.view", path="/audit/"),
    ("POST", "audit:verify", ""): form("audit.verify", path="/audit/verify/", extra=READS),
    # --- signatures
    ("GET", "signatures:policy", ""): R(path="/signatures/policy/"),
    ("POST", "signatures:policy_acknowledge", ""): signed_form(
        path="/signatures/policy/acknowledge/", ok=302, fresh_person=True
    ),
    ("GET", "signatures:object_signatures", ""): R(
        "signatures.view",
        path="/signatures/list/?object_type=recipes.masterrecordversion&object_id={version_id}",
    ),
    # --- equipment
    ("GET", "equipment:list", ""): R("equipment.view", path="/equipment/"),
    ("GET", "equipment:live", ""): R("equipment.view", path="/equipment/live/"),
    ("GET", "equipment:detail", ""): R("equipment.view", path="/equipment/BAL-S1/"),
    ("GET", "equipment:balance_status", ""): R(
        "equipment.view", path="/equipment/status/balance/BAL-S1/"
    ),
    ("GET", "equipment:balance_status_for", ""): R(
        "equipment.view", path="/equipment/status/balance/?instrument=BAL-S1"
    ),
    ("GET", "equipment:tag_status", ""): R(
        "equipment.view", path="/equipment/status/tag/GRN-S1.temp/?since=2020-01-01T00:00:00Z"
    ),
    # --- master batch records
    ("GET", "recipes:list", ""): R("recipes.view", path=f"{MB}/"),
    ("GET", "recipes:new", ""): R("recipes.author", path=f"{MB}/new/"),
    ("POST", "recipes:new", ""): form(
        "recipes.author",
        path=f"{MB}/new/",
        body={"code": "MBR-UI", "title": "From the UI", "reason": "new product"},
        ok=302,
    ),
    ("GET", "recipes:attachment", ""): R("recipes.view", path=f"{MB}/attachments/{{sha256}}/"),
    ("GET", "recipes:detail", ""): R("recipes.view", path=f"{MB}/MBR-SEC/"),
    ("GET", "recipes:diff", ""): R("recipes.view", path=f"{MB}/MBR-SEC/diff/?from=1&to=1"),
    ("GET", "recipes:version", ""): R("recipes.view", path=f"{MB}/MBR-SEC/v1/"),
    ("GET", "recipes:export", ""): R("recipes.view", path=f"{MB}/MBR-SEC/v1/export.yaml"),
    ("GET", "recipes:dry_run", ""): R("recipes.view", path=f"{MB}/MBR-SEC/v1/dry-run/"),
    ("POST", "recipes:dry_run", ""): form(
        "recipes.view", path=f"{MB}/MBR-SEC/v1/dry-run/", body={"values": ""}, extra=READS
    ),
    ("POST", "recipes:sign", "submit"): signed_form(
        "recipes.author", path=f"{MB}/MBR-DRAFT/v1/sign/submit/", ok=302
    ),
    ("POST", "recipes:sign", "check"): signed_form(
        "recipes.check", path=f"{MB}/MBR-INREV/v1/sign/check/", ok=302
    ),
    ("POST", "recipes:sign", "approve"): signed_form(
        "recipes.approve", path=f"{MB}/MBR-CHK/v1/sign/approve/", ok=302
    ),
    ("POST", "recipes:action", "reject"): form(
        "recipes.reject", path=f"{MB}/MBR-INREV/v1/do/reject/", body={"reason": "unclear"}, ok=302
    ),
    ("POST", "recipes:action", "make-effective"): form(
        "recipes.make_effective",
        path=f"{MB}/MBR-APPR/v1/do/make-effective/",
        body={"reason": "go"},
        ok=302,
    ),
    ("POST", "recipes:action", "retire"): form(
        "recipes.retire", path=f"{MB}/MBR-SEC/v1/do/retire/", body={"reason": "old"}, ok=302
    ),
    ("POST", "recipes:new_version", ""): form(
        "recipes.author", path=f"{MB}/MBR-SEC/v1/new-version/", body={"reason": "next"}, ok=302
    ),
    ("GET", "recipes:builder", ""): R("recipes.author", path=f"{MB}/MBR-DRAFT/v1/builder/"),
    ("POST", "recipes:builder_op", ""): form(
        "recipes.author",
        path=f"{MB}/MBR-DRAFT/v1/builder/op/",
        body={
            "kind": "header",
            "action": "set",
            "path": "",
            "title": "Renamed",
            "code": "MBR-DRAFT",
        },
        ok=302,
    ),
    ("GET", "recipes:builder_item", ""): R(
        "recipes.author",
        path=f"{MB}/MBR-DRAFT/v1/builder/item/?path=unit_procedures[0].operations[0].steps[0]",
    ),
    ("POST", "recipes:builder_preview", ""): form(
        "recipes.author",
        path=f"{MB}/MBR-DRAFT/v1/builder/preview/",
        body={"kind": "header", "path": "", "title": "Renamed"},
        extra=READS,
    ),
    ("POST", "recipes:builder_attach", ""): Rule(
        needs=("recipes.author",),
        path=f"{MB}/MBR-DRAFT/v1/builder/attach/",
        body={"attachment_id": "photo"},
        content_type="multipart",
        ok=302,
        extra={"file": ("photo.png", b"\x89PNG\r\n\x1a\n0000", "image/png")},
    ),
    ("GET", "recipes:builder_yaml", ""): R(
        "recipes.author", path=f"{MB}/MBR-DRAFT/v1/builder/yaml/"
    ),
    ("POST", "recipes:builder_yaml", ""): form(
        "recipes.author",
        path=f"{MB}/MBR-DRAFT/v1/builder/yaml/",
        body={"text": "{draft_yaml}"},
        ok=302,
    ),
    # --- batch execution
    ("GET", "execution:list", ""): R("execution.view", path=f"{BT}/"),
    ("GET", "execution:new", ""): R("execution.create_batch", path=f"{BT}/new/"),
    ("POST", "execution:new", ""): form(
        "execution.create_batch",
        path=f"{BT}/new/",
        body={"mbr": "MBR-SEC", "number": "SEC-X2"},
        ok=302,
    ),
    ("GET", "execution:batch", ""): R("execution.view", path=f"{BT}/SEC-RUN/"),
    ("POST", "execution:release", ""): signed_form(
        "execution.release_batch", path=f"{BT}/SEC-NEW/release/", ok=302
    ),
    ("POST", "execution:start", ""): form(
        "execution.start_batch", path=f"{BT}/SEC-REL/start/", ok=302
    ),
    ("POST", "execution:hold", ""): form(
        "execution.hold", path=f"{BT}/SEC-RUN/hold/", body={"reason": "check"}, ok=302
    ),
    ("POST", "execution:resume", ""): form(
        "execution.resume", path=f"{BT}/SEC-HOLD/resume/", body={"reason": "checked"}, ok=302
    ),
    ("POST", "execution:complete", ""): form(
        "execution.complete_batch", path=f"{BT}/SEC-END/complete/", ok=302
    ),
    ("GET", "execution:document_file", ""): R(
        "execution.view", path=f"{BT}/SEC-RUN/document/label_s"
    ),
    ("POST", "execution:correct", ""): form(
        "execution.correct",
        path=f"{BT}/SEC-PERF/entries/{{perf_entry_id}}/correct/",
        body={"value": "101.0", "reason": "misread"},
    ),
    ("GET", "execution:step", ""): R("execution.view", path=f"{BT}/SEC-RUN/steps/weigh/"),
    ("POST", "execution:record", ""): form(
        "execution.record",
        path=f"{BT}/SEC-RUN/steps/weigh/record/",
        body={"key": "mass", "value": "100.0"},
    ),
    ("POST", "execution:comment", ""): form(
        "execution.comment",
        path=f"{BT}/SEC-RUN/steps/weigh/comment/",
        body={"text": "a remark"},
        ok=302,
    ),
    ("POST", "execution:attach", ""): Rule(
        needs=("execution.attach",),
        path=f"{BT}/SEC-RUN/steps/weigh/attach/",
        body={"description": "photo"},
        content_type="multipart",
        ok=302,
    ),
    ("POST", "execution:perform", ""): signed_form(
        "execution.perform", path=f"{BT}/SEC-PERF/steps/weigh/perform/", ok=302
    ),
    ("POST", "execution:verify", ""): signed_form(
        "execution.verify", path=f"{BT}/SEC-VER/steps/weigh/verify/", ok=302
    ),
    ("POST", "execution:approve", ""): signed_form(
        "execution.approve", path=f"{BT}/SEC-APR/steps/weigh/approve/", ok=302
    ),
    # --- exports
    ("GET", "exports:mbr_pdf", ""): R("exports.mbr", path="/exports/mbr-versions/{version_id}.pdf"),
    ("GET", "exports:mbr_yaml", ""): R(
        "exports.mbr", path="/exports/mbr-versions/{version_id}.yaml"
    ),
    ("GET", "exports:mbr_json", ""): R(
        "exports.mbr", path="/exports/mbr-versions/{version_id}.json"
    ),
    ("GET", "exports:mbr_record", ""): R(
        "exports.mbr", path="/exports/mbr-versions/{version_id}.record.json"
    ),
    ("GET", "exports:batch_pdf", ""): R("exports.batch", path="/exports/batches/SEC-CLEAN.pdf"),
    ("GET", "exports:batch_json", ""): R("exports.batch", path="/exports/batches/SEC-CLEAN.json"),
    ("GET", "exports:batch_csv", ""): R("exports.batch", path="/exports/batches/SEC-CLEAN.csv"),
    # --- review by exception and disposition
    ("GET", "review:list", ""): R("review.view", path=f"{RV}/"),
    ("GET", "review:detail", ""): R("review.view", path=f"{RV}/SEC-ACK/"),
    ("GET", "review:record", ""): R("review.view", path=f"{RV}/SEC-ACK/record/"),
    ("POST", "review:acknowledge", ""): form(
        "review.acknowledge",
        path=f"{RV}/SEC-ACK/items/{{item_id}}/acknowledge/",
        body={"comment": "acceptable"},
        ok=302,
    ),
    ("GET", "review:item_audit", ""): R(
        "review.view", path=f"{RV}/SEC-ACK/items/{{item_id}}/audit/"
    ),
    ("POST", "review:sign", ""): signed_form("review.sign", path=f"{RV}/SEC-CLEAN/sign/", ok=302),
    ("POST", "review:release", ""): signed_form(
        "review.release", path=f"{RV}/SEC-SIGNED/release/", ok=302
    ),
    ("POST", "review:reject", ""): signed_form(
        "review.release", path=f"{RV}/SEC-SIGNED/reject/", body={"reason": "out of spec"}, ok=302
    ),
    # --- home and health
    ("GET", "core:home", ""): R(path="/"),
    ("GET", "core:health", ""): R(*PUBLIC, path="/healthz"),
}
