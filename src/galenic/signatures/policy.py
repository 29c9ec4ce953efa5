"""The electronic-signature accountability policy users acknowledge (21 CFR 11.10(j), 11.100(c)).

Pure: no Django import. Changing the text means a new ``VERSION``: every signer then has to
acknowledge the new text before their next signature. The hash of the exact text is stored
with each acknowledgement, so what a person agreed to can always be shown.
"""

from __future__ import annotations

import hashlib

VERSION = "2026.1"
TITLE = "Electronic signature accountability policy"

STATEMENTS: tuple[str, ...] = (
    "My electronic signature in Galenic is the legally binding equivalent of my handwritten "
    "signature (21 CFR 11.100(c)). I am accountable and responsible for every action I sign, "
    "as if I had signed on paper (21 CFR 11.10(j)).",
    "I sign only what I have read and am entitled to sign, and only for the meaning shown "
    "with the signature (for example performed, verified, reviewed, approved, released).",
    "My user ID and password are mine alone. I will not share them, will not let anyone sign "
    "for me, and will never sign for anyone else.",
    "I will log out or lock the screen when I leave a terminal, and report at once to my "
    "supervisor or QA if I suspect that someone else knows my password or used my account.",
    "Each signature records my printed name, user ID, the date and time with time zone and its "
    "meaning, and is bound to exactly what I signed. Falsifying, copying or moving signatures "
    "or records is a serious violation with disciplinary and legal consequences.",
    "Repeated failed signing attempts lock my account; an administrator unlocks it only with a "
    "documented reason.",
)


def text() -> str:
    return "\n".join([f"{TITLE} (version {VERSION})", *STATEMENTS])


def sha256() -> str:
    return hashlib.sha256(text().encode("utf-8")).hexdigest()
