"""Names read from evidence: kept losslessly, shown escaped.

Internally a name is a ``str`` decoded with ``surrogateescape``, so bytes that are not UTF-8
survive a round trip. For display and JSON, each such byte, every control character (C0, C1)
and the invisible or line-breaking characters listed below are written ``\\xNN`` (one per UTF-8
byte) and a backslash ``\\\\``: the shown form is printable, unambiguous, and turned back into
the exact bytes by :func:`unescape`.
"""

from __future__ import annotations

import re

_UNESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2})")
# Also escaped: characters that break a line to some readers (U+2028, U+2029) and invisible or
# direction-changing ones that make two names look alike or a name look like another
# ("invoice\u202egpj.exe" shows as "invoiceexe.jpg").
_INVISIBLE = "\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff"
_NEEDS_ESCAPE = re.compile(f"[\x00-\x1f\x7f-\x9f\\\\\udc80-\udcff{_INVISIBLE}]")
_UNPRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\udc80-\udcff{_INVISIBLE}\ufffe\uffff]")


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def encode(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def escape(name: str) -> str:
    """Printable form of a name: control characters and undecodable bytes as ``\\xNN``."""
    if _NEEDS_ESCAPE.search(name) is None:
        return name
    out = []
    for ch in name:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0x80 <= o < 0xA0 or (o >= 0x600 and _NEEDS_ESCAPE.match(ch)):
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def printable(text: str) -> str:
    r"""Text from evidence made safe for a terminal line: control, invisible and undecodable
    characters as ``\xNN``, backslashes left alone. For people reading record values (where
    ``C:\Users`` should read as written); names that must round-trip use :func:`escape`."""
    if _UNPRINTABLE.search(text) is None:
        return text
    return _UNPRINTABLE.sub(lambda m: "".join(f"\\x{b:02x}" for b in encode(m.group(0))), text)


def unescape(shown: str) -> str:
    """Inverse of :func:`escape`: the lossless internal name for a name typed by a person."""
    if "\\" not in shown:
        return shown
    raw = bytearray()
    pos = 0
    for m in _UNESCAPE.finditer(shown):
        raw += shown[pos : m.start()].encode("utf-8", "surrogateescape")
        tok = m.group(1)
        raw += b"\\" if tok == "\\" else bytes([int(tok[1:], 16)])
        pos = m.end()
    raw += shown[pos:].encode("utf-8", "surrogateescape")
    return decode(bytes(raw))


def is_clean(name: str) -> bool:
    return _NEEDS_ESCAPE.search(name) is None
