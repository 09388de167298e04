"""Names read from evidence: kept losslessly, shown escaped.

Internally a name is a ``str`` decoded with ``surrogateescape``, so bytes that are not UTF-8
survive a round trip. For display and JSON, each such byte and every control character is
written ``\\xNN`` and a backslash ``\\\\``: the shown form is printable, unambiguous, and turned
back into the exact bytes by :func:`unescape`.
"""

from __future__ import annotations

import re

_UNESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2})")
_NEEDS_ESCAPE = re.compile("[\x00-\x1f\x7f-\x9f\\\\\udc80-\udcff]")


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
        elif 0x80 <= o < 0xA0:
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


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
