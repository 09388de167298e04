"""Column conversions: timestamps of every common epoch to UTC, enum maps, blobs, hostile text.

Everything happens in Python (never SQL ``localtime``), and the raw value is always kept beside
the converted one by the caller.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from evkit.timefmt import iso_utc

_MAC_EPOCH = 978307200          # 2001-01-01 in unix seconds
_WEBKIT_EPOCH = 11644473600     # 1601-01-01 .. 1970-01-01 in seconds
_SURROGATES = re.compile("[\udc80-\udcff]")


def _split(value: float | int, per_second: int) -> tuple[int, int]:
    if isinstance(value, float):
        secs = int(value // per_second)
        nanos = int(round((value / per_second - secs) * 1_000_000_000))
        return secs, min(nanos, 999_999_999)
    secs, rest = divmod(int(value), per_second)
    return secs, rest * (1_000_000_000 // per_second)


def to_utc(value: Any, fmt: str) -> str | None:
    """ISO-8601 UTC text for a raw timestamp, or None for empty/zero/unparseable values."""
    if value is None or value == "" or isinstance(value, (bytes, bytearray)):
        return None
    if fmt == "iso8601":
        return _iso_text(str(value))
    if fmt == "exif":
        return _exif_text(str(value))
    try:
        v: float | int = value if isinstance(value, (int, float)) else float(value) if "." in str(value) else int(value)
    except (TypeError, ValueError):
        return None
    if v == 0:
        return None
    if fmt in ("mac_absolute", "mac_absolute_s", "mac_absolute_ns"):
        # iOS stores seconds (often fractional) or, since iOS 11 in some apps, nanoseconds.
        if fmt == "mac_absolute_ns" or (fmt == "mac_absolute" and abs(v) > 1e11):
            secs, nanos = _split(v, 1_000_000_000)
        else:
            secs, nanos = _split(v, 1)
        secs += _MAC_EPOCH
    elif fmt == "unix_s":
        secs, nanos = _split(v, 1)
    elif fmt == "unix_ms":
        secs, nanos = _split(v, 1000)
    elif fmt in ("unix_us", "prtime"):
        secs, nanos = _split(v, 1_000_000)
    elif fmt == "unix_ns":
        secs, nanos = _split(v, 1_000_000_000)
    elif fmt == "webkit":
        secs, nanos = _split(v, 1_000_000)
        secs -= _WEBKIT_EPOCH
    elif fmt == "filetime":
        secs, nanos = _split(v, 10_000_000)
        secs -= _WEBKIT_EPOCH
    else:
        raise ValueError(f"unknown timestamp format {fmt!r}")
    if not -62135596800 <= secs <= 253402300799:  # outside years 1..9999
        return None
    return iso_utc(secs, nanos) if (secs or nanos) else "1970-01-01T00:00:00Z"


def _iso_text(text: str) -> str | None:
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{dt.microsecond:06d}".rstrip("0") if dt.microsecond else "") + "Z"


def _exif_text(text: str) -> str | None:
    """EXIF ``YYYY:MM:DD HH:MM:SS`` is camera local time with no zone: kept as local, never as UTC."""
    m = re.match(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})", text.strip())
    if not m or m.group(1) == "0000":
        return None
    return "{}-{}-{}T{}:{}:{}".format(*m.groups())


def clean_text(value: str) -> str:
    """Bytes that were not UTF-8 (kept as surrogate escapes) shown as ``\\xNN``."""
    if _SURROGATES.search(value) is None:
        return value
    return _SURROGATES.sub(lambda m: f"\\x{ord(m.group(0)) - 0xDC00:02x}", value)


def blob_value(value: bytes, how: str | None) -> Any:
    if how == "base64":
        return base64.b64encode(value).decode("ascii")
    if how == "length":
        return len(value)
    if how == "text":
        return clean_text(value.decode("utf-8", "surrogateescape"))
    if how == "nskeyedarchiver_text":
        from evkit.profiles.typedstream import attributed_text

        return attributed_text(value)
    return value.hex()


def json_safe(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, str):
        return clean_text(value)
    return value
