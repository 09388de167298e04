"""The text of a Telegram message kept as a TL-serialized blob (Telegram for Android ``cache4.db``).

``messages_v2.data`` (``messages.data`` in older versions) holds the ``Message`` object as the
app serialized it. Its layout changes with every API layer, but in every layer of ``message``
(and of the old and secret-chat variants) the field ``date:int`` is immediately followed by
``message:string``, and nothing before that pair is a string. Rather than follow one layer's
layout, this reader looks for the first such pair: an aligned 32-bit value that is a plausible
date (between Telegram's launch in August 2013 and 2038), or the row's own date when the caller
has it, followed by a well-formed TL string: a length byte (< 254) or 0xFE and a 3-byte
little-endian length, the bytes, zero padding to a multiple of 4, and the bytes valid UTF-8
without control characters. Values that are peer ids (right after a ``peerUser``, ``peerChat``
or ``peerChannel`` constructor) are never taken for dates, and the search starts after the
constructor, flags and id. An empty text (a media-only or service message) is reported as
``None``; when the message says it was sent via a bot (flags bit 11, an int64 whose high half
is often zero and would read as an empty string) an empty match does not end the search.

Everything is bounded (only the first :data:`MAX_SCAN` bytes are searched, a string must fit in
the blob) and nothing raises: a blob with no such pair gives ``None``. Bytes that are not valid
UTF-8 are never returned, so a false match cannot inject garbage; it is skipped.
"""

from __future__ import annotations

import struct

MAX_SCAN = 64 * 1024
DATE_MIN = 1375315200   # 2013-08-01, before Telegram's first release
DATE_MAX = 2147483647   # TL dates are signed 32-bit
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}
FIRST_FIELD = 16        # constructor, flags, id and at least one peer come before the date
PEER_CONSTRUCTORS = {0x59511722, 0x36C6019A, 0xA2A5371E, 0x9DB1BC6D, 0xBDDDE532}  # peerUser/Chat/Channel (+ old peerUser, peerChannel)
VIA_BOT_FLAG = 1 << 11


def read_string(blob: bytes, pos: int) -> tuple[bytes, int] | None:
    """A TL ``string``/``bytes`` at ``pos``: (its bytes, the position after the padding), or None."""
    n = len(blob)
    if pos >= n:
        return None
    first = blob[pos]
    if first < 254:
        length, start = first, pos + 1
    elif first == 254:
        if pos + 4 > n:
            return None
        length, start = int.from_bytes(blob[pos + 1 : pos + 4], "little"), pos + 4
    else:
        return None
    end = start + length
    padded = end + (-(end - pos) % 4)
    if padded > n or any(blob[end:padded]):
        return None
    return blob[start:end], padded


def _printable(text: str) -> bool:
    return all(ch >= " " or ch in _ALLOWED_CONTROLS for ch in text) and "\x7f" not in text


def _text_at(blob: bytes, pos: int) -> str | None:
    got = read_string(blob, pos)
    if got is None:
        return None
    try:
        text = got[0].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if _printable(text) else None


def message_text(blob: bytes | None, date: int | None = None) -> str | None:
    """The ``message`` string of a serialized Telegram message, or None when it has none or none is found.

    With ``date`` (the row's ``date`` column) only that exact value is accepted as the anchor,
    which also rules out other dates in the object (a forwarded message's original date)."""
    if not blob or len(blob) < FIRST_FIELD + 8:
        return None
    limit = min(len(blob), MAX_SCAN) - 4
    (flags,) = struct.unpack_from("<I", blob, 4)
    via_bot = bool(flags & VIA_BOT_FLAG)
    previous = struct.unpack_from("<I", blob, FIRST_FIELD - 4)[0]
    for pos in range(FIRST_FIELD, limit, 4):
        (value,) = struct.unpack_from("<I", blob, pos)
        after_peer, previous = previous in PEER_CONSTRUCTORS, value
        if after_peer:
            continue
        if date is not None:
            if value != date & 0xFFFFFFFF:
                continue
        elif not DATE_MIN <= value <= DATE_MAX:
            continue
        text = _text_at(blob, pos + 4)
        if text is None:
            continue
        if text or not via_bot:
            return text or None
    return None


def tl_string(text: str) -> bytes:
    """Serialize ``text`` as a TL string (the inverse of :func:`read_string`; used by tests)."""
    raw = text.encode("utf-8")
    head = bytes([len(raw)]) if len(raw) < 254 else b"\xfe" + len(raw).to_bytes(3, "little")
    body = head + raw
    return body + b"\x00" * (-len(body) % 4)
