"""The one signature manifestation (21 CFR 11.50): printed name, date and time with zone, meaning.

The UI (``signatures/_manifestation.html``), the API, and every export (PDF, JSON, CSV) render
signatures through ``manifestation()`` so they can never disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from galenic.audit.chain import format_ts
from galenic.core.timefmt import format_datetime
from galenic.signatures.models import Signature


@dataclass(frozen=True)
class Manifestation:
    printed_name: str
    user_id: str
    signed_at_text: str  # local date-time in the zone recorded at signing, with zone and offset
    meaning_label: str
    reason: str
    meaning: str  # the code, for machines
    signed_at_utc: str  # ISO 8601 UTC, for machines
    time_zone: str

    def as_text(self) -> str:
        text = (
            f"Signed by {self.printed_name} (user ID {self.user_id}) on {self.signed_at_text}; "
            f"meaning: {self.meaning_label}"
        )
        if self.reason:
            text += f"; reason: {self.reason}"
        return text

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "text": self.as_text()}


def manifestation(signature: Signature) -> Manifestation:
    return Manifestation(
        printed_name=signature.signer_name,
        user_id=signature.signer_user_id,
        signed_at_text=format_datetime(signature.signed_at, zone=signature.time_zone or None),
        meaning_label=signature.meaning_label,
        reason=signature.reason,
        meaning=signature.meaning,
        signed_at_utc=format_ts(signature.signed_at),
        time_zone=signature.time_zone,
    )
