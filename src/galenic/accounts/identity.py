"""User IDs and printed names (21 CFR 11.100(a), 11.300(a)): one person, one ID, never
confusable, never reissued. Pure Python, no Django import.
"""

from __future__ import annotations

import re
import unicodedata

_ALLOWED = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")

# Look-alikes that survive the ASCII restriction (after UTS #39 confusables, reduced to the
# alphabet IDs may use). Two IDs with the same skeleton are one ID for uniqueness.
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_SINGLE = str.maketrans({"0": "o", "1": "l", "_": ".", "-": "."})

# Bidirectional and invisible formatting characters: they can make a printed name read
# differently on screen and on paper, so they are refused in names.
_FORMAT_CATEGORIES = {"Cf", "Cc", "Co", "Cs", "Cn"}


def normalise_user_id(raw: str) -> str:
    """NFKC-normalise and case-fold; refuse anything outside a plain, unambiguous alphabet.

    Restricting IDs to ASCII letters, digits, dot, dash and underscore after NFKC folding
    removes right-to-left marks, zero-width characters and cross-script confusables.
    """
    folded = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not _ALLOWED.match(folded):
        raise ValueError(
            "user ID must be 2-63 characters of letters a-z, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return folded


def skeleton(user_id: str) -> str:
    """The confusable skeleton of a normalised ID: ``o1ivia`` and ``olivia`` share one."""
    value = user_id
    for pair, single in _MULTI:
        value = value.replace(pair, single)
    value = value.translate(_SINGLE)
    # Applying the pairs again catches look-alikes created by the single-letter folding.
    for pair, single in _MULTI:
        value = value.replace(pair, single)
    return value


def clean_full_name(raw: str) -> str:
    """The printed name shown with every signature (11.50): NFC, single spaces, no hidden marks."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise ValueError("the printed name is required")
    if len(name) > 200:
        raise ValueError("the printed name must be at most 200 characters")
    if any(unicodedata.category(ch) in _FORMAT_CATEGORIES for ch in name):
        raise ValueError("the printed name contains invisible or right-to-left control characters")
    return name
