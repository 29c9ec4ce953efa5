"""Demo MBRs: the two records in ``demo/``, authored by Petra, checked by Quinn (QA reviewer),
approved by Rita (QA approver) and made effective, all through the real services and signatures.

Idempotent: an MBR that is already effective is left alone; one part-way through its lifecycle
(a seeding that stopped) is taken on from where it is.
"""

from __future__ import annotations

from collections.abc import Iterator

from galenic.accounts.models import User
from galenic.recipes.models import MasterRecord, MasterRecordVersion, VersionStatus
from galenic.signatures.services import SignerAuthority

AUTHOR, CHECKER, APPROVER = "petra", "quinn", "rita"
REASON = "demo site: first issue of this master record"


def _authority(user: User) -> SignerAuthority:
    from galenic.accounts.demo import DEMO_PASSWORD
    from galenic.signatures import services as signing

    # No browser session here: every signing gives user ID and password (11.200(a)(1)(ii)).
    return signing.authenticate_signer(
        session=None,
        actor=user,
        user_id=user.username,
        password=DEMO_PASSWORD,
    )


def _acknowledge_policy(user: User) -> bool:
    from galenic.signatures import services as signing
    from galenic.signatures.selectors import has_acknowledged_policy

    if has_acknowledged_policy(user):
        return False
    signing.acknowledge_policy(actor=user, authority=_authority(user))
    return True


def _bring_to_effective(version: MasterRecordVersion, people: dict[str, User]) -> None:
    from galenic.recipes import services

    author, checker, approver = people[AUTHOR], people[CHECKER], people[APPROVER]
    S = VersionStatus
    if version.status == S.DRAFT:
        version = services.submit_for_review(
            actor=author, version=version, authority=_authority(author)
        )
    if version.status == S.IN_REVIEW and version.checked_signature_id is None:
        version = services.check_version(
            actor=checker, version=version, authority=_authority(checker)
        )
    if version.status == S.IN_REVIEW:
        version = services.approve(
            actor=approver, version=version, authority=_authority(approver), reason="demo"
        )
    if version.status == S.APPROVED:
        services.make_effective(actor=approver, version=version, reason=REASON)


def demo_files(text: str) -> list[tuple[str, str, bytes]]:
    """The label specimens and images a demo MBR names, shipped in ``demo/files/``."""
    from galenic.recipes.document import load_yaml
    from galenic.recipes.document.demos import demo_paths

    folder = demo_paths()[0].parent / "files"
    return [
        (a.filename, a.media_type, (folder / a.filename).read_bytes())
        for a in load_yaml(text).attachments
        if (folder / a.filename).exists()
    ]


def seed() -> Iterator[str]:
    from galenic.recipes import services
    from galenic.recipes.document import load_yaml
    from galenic.recipes.document.demos import demo_paths

    people = {u.username: u for u in User.objects.filter(username__in=[AUTHOR, CHECKER, APPROVER])}
    missing = {AUTHOR, CHECKER, APPROVER} - set(people)
    if missing:
        yield f"MBRs: skipped, demo users missing: {', '.join(sorted(missing))}"
        return
    acknowledged = [name for name, user in sorted(people.items()) if _acknowledge_policy(user)]
    if acknowledged:
        yield f"signature policy acknowledged by {', '.join(acknowledged)}"
    made, present = [], []
    for path in demo_paths():
        text = path.read_text(encoding="utf-8")
        code = load_yaml(text).code
        master = MasterRecord.objects.filter(code=code).first()
        if master is not None and master.versions.filter(status=VersionStatus.EFFECTIVE).exists():
            present.append(code)
            continue
        if master is None:
            services.store_files(actor=people[AUTHOR], files=demo_files(text), reason=REASON)
            version = services.import_text(actor=people[AUTHOR], text=text, reason=REASON)
        else:
            latest = master.versions.order_by("-version").first()
            if latest is None:
                continue
            version = latest
        _bring_to_effective(version, people)
        made.append(code)
    yield (
        f"MBRs: {len(made)} made effective ({', '.join(made) or 'none'}), "
        f"{len(present)} already effective"
    )
