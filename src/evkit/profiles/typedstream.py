"""The text inside an Apple ``typedstream`` NSAttributedString (iMessage ``attributedBody``).

Since iOS 16 / macOS Ventura many messages keep their text only there. The stream stores the
string right after the ``NSString`` class name as ``+`` followed by a typedstream integer length
(one byte, or 0x81 + int16, or 0x82 + int32, little-endian) and the UTF-8 bytes.
"""

from __future__ import annotations

from evkit.profiles.conversions import clean_text


def attributed_text(blob: bytes | None) -> str | None:
    if not blob:
        return None
    at = blob.find(b"NSString")
    if at < 0:
        return None
    plus = blob.find(b"+", at + 8, at + 24)
    if plus < 0:
        return None
    pos = plus + 1
    if pos >= len(blob):
        return None
    marker = blob[pos]
    if marker == 0x81:
        length, pos = int.from_bytes(blob[pos + 1 : pos + 3], "little"), pos + 3
    elif marker == 0x82:
        length, pos = int.from_bytes(blob[pos + 1 : pos + 5], "little"), pos + 5
    else:
        length, pos = marker, pos + 1
    raw = blob[pos : pos + length]
    if len(raw) != length:
        return None
    return clean_text(raw.decode("utf-8", "surrogateescape"))
