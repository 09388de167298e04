"""Names for the parties of a conversation, taken from the contact records of the same evidence item.

A conversation titled ``+33612340002`` makes the examiner look the number up; one titled
``Anna Martin (+33612340002)`` does not, provided the name is the one *that phone* stored. Names are
therefore only looked up among contact records of the same evidence item (a contact on one phone
never names a party on another), and a number that two contacts share is shown with both names
rather than one picked at random.

Profiles say which artefacts are contacts with ``contact: {name: COL, identifiers: [COL, ...]}``.
Identifiers are compared as people write them: a phone number by its last nine digits (so
``06 12 34 00 02``, ``+33 6 12 34 00 02`` and the WhatsApp JID ``33612340002@s.whatsapp.net``
agree), an e-mail address without case, and an app's numeric user id (stored as an integer, e.g.
a Telegram uid) only exactly, never as a phone number.
"""

from __future__ import annotations

import re
from typing import Any

PHONE_CHARS = re.compile(r"[\s\-().+/]")
SPLIT = re.compile(r"[,;\n]")
PHONE_DIGITS = 9   # enough to tell numbers apart, few enough to ignore country and trunk prefixes
MIN_DIGITS = 5     # shorter digit strings (short codes, extensions) are compared whole


def identity_key(value: Any) -> str | None:
    """The comparable form of one identifier, or None when it identifies nothing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"id:{value}"
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s:
        return None
    user = s.split("@", 1)[0] if "@" in s else s
    digits = PHONE_CHARS.sub("", user)
    if digits.isdigit() and len(digits) >= MIN_DIGITS:
        return "tel:" + digits[-PHONE_DIGITS:]
    return "at:" + s.lower() if "@" in s else "raw:" + s.lower()


class ContactNames:
    """Contact names by evidence item and identity key."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, str], list[str]] = {}

    def add(self, evidence: str, identifiers: Any, name: Any) -> None:
        if not isinstance(name, str) or not name.strip():
            return
        values = SPLIT.split(identifiers) if isinstance(identifiers, str) else [identifiers]
        for v in values:
            key = identity_key(v)
            if key is None:
                continue
            names = self._names.setdefault((evidence, key), [])
            if name.strip() not in names:
                names.append(name.strip())

    def name(self, evidence: str, value: Any) -> str | None:
        """Every name the evidence item's contacts give ``value``, joined; None when none does."""
        key = identity_key(value)
        names = self._names.get((evidence, key)) if key is not None else None
        return " / ".join(names) if names else None

    def __bool__(self) -> bool:
        return bool(self._names)
