"""Column conversions: timestamps of every common epoch to UTC, enum maps, blobs, hostile text.

Everything happens in Python (never SQL ``localtime``), and the raw value is always kept beside
the converted one by the caller.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from typing import Any

from evkit.timefmt import iso_utc

MAC_EPOCH = 978307200           # 2001-01-01 in unix seconds
_WEBKIT_EPOCH = 11644473600     # 1601-01-01 .. 1970-01-01 in seconds
_SURROGATES = re.compile("[\udc80-\udcff]")


def _split(value: float | int, per_second: int) -> tuple[int, int]:
    """(seconds, nanoseconds) of a time in ``per_second`` units. A float keeps microseconds: an
    IEEE double of a present-day time holds 15-16 significant digits, 9-10 of them whole seconds,
    so digits past the sixth decimal are noise (``...28.829571009Z`` was printed for ``...28.829571Z``);
    integers are exact."""
    if isinstance(value, float):
        secs = int(value // per_second)
        micros = int(round((value / per_second - secs) * 1_000_000))
        if micros >= 1_000_000:
            secs, micros = secs + 1, micros - 1_000_000
        return secs, micros * 1000
    secs, rest = divmod(int(value), per_second)
    return secs, rest * (1_000_000_000 // per_second)


# Numeric formats: (units per second, seconds to add to reach the Unix epoch).
UNITS: dict[str, tuple[int, int]] = {
    "unix_s": (1, 0), "unix_ms": (1000, 0), "unix_us": (1_000_000, 0), "prtime": (1_000_000, 0),
    "unix_ns": (1_000_000_000, 0), "webkit": (1_000_000, -_WEBKIT_EPOCH), "filetime": (10_000_000, -_WEBKIT_EPOCH),
    "mac_absolute_s": (1, MAC_EPOCH), "mac_absolute_ns": (1_000_000_000, MAC_EPOCH),
}
MAC_SECONDS_LIMIT = 100_000_000_000  # ``mac_absolute``: a larger magnitude is nanoseconds, not seconds
_MIN_SECS, _MAX_SECS = -62135596800, 253402300799  # years 1..9999, whole days

# The text of an ISO time is put together from tables (the compiled row code inlines the same look-ups):
# DAYS holds "YYYY-MM-DDT" of each day seen, and only days of years 1..9999.
DAYS: dict[int, str] = {}
CLOCK = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]  # by minute of the day
TWO = [f"{i:02d}" for i in range(60)]
MILLIS = [""] + [f".{ms:03d}".rstrip("0") for ms in range(1, 1000)]  # the fraction of a whole number of ms


def fraction(nanos: int) -> str:
    """``.123``, ``.000000001`` (trailing zeros dropped) or nothing for a whole second."""
    millis, rest = divmod(nanos, 1_000_000)
    return MILLIS[millis] if not rest else f".{nanos:09d}".rstrip("0")


def day_text(days: int) -> str | None:
    """``YYYY-MM-DDT`` of a day since 1970-01-01 (cached in :data:`DAYS`), None outside years 1..9999."""
    day = DAYS.get(days)
    if day is None and _MIN_SECS <= days * 86400 <= _MAX_SECS:
        text = iso_utc(days * 86400 + 1, 0)  # a second of that day (never 0, which iso_utc leaves unset)
        if text is not None:
            if len(DAYS) > 100_000:
                DAYS.clear()
            day = DAYS[days] = text[: text.index("T") + 1]
    return day


def _iso(secs: int, nanos: int) -> str | None:
    """``iso_utc`` (same text) by table look-ups: it runs for every timestamp of every record."""
    if not _MIN_SECS <= secs <= _MAX_SECS:
        return None
    if not (secs or nanos):
        return "1970-01-01T00:00:00Z"
    days, rest = divmod(secs, 86400)
    day = day_text(days)
    if day is None:
        return iso_utc(secs, nanos)
    minute, second = divmod(rest, 60)
    return day + CLOCK[minute] + TWO[second] + (fraction(nanos) if nanos else "") + "Z"


def timestamp_function(fmt: str) -> Callable[[Any], str | None]:
    """``to_utc`` for one format, with the arithmetic for integer values decided once."""
    units = UNITS.get(fmt)
    if units is None:
        if fmt == "mac_absolute":
            def mac(value: Any) -> str | None:
                if type(value) is int and value:
                    if abs(value) > MAC_SECONDS_LIMIT:
                        secs, rest = divmod(value, 1_000_000_000)
                        return _iso(secs + MAC_EPOCH, rest)
                    return _iso(value + MAC_EPOCH, 0)
                return to_utc(value, fmt)
            return mac
        return lambda value: to_utc(value, fmt)  # text formats (and unknown ones, which to_utc reports)
    per, offset = units
    scale = 1_000_000_000 // per
    if per == 1:
        def seconds(value: Any) -> str | None:
            if type(value) is int and value:
                return _iso(value + offset, 0)
            return to_utc(value, fmt)
        return seconds

    def fraction(value: Any) -> str | None:
        if type(value) is int and value:
            secs, rest = divmod(value, per)
            return _iso(secs + offset, rest * scale)
        return to_utc(value, fmt)
    return fraction


def to_utc(value: Any, fmt: str) -> str | None:
    """ISO-8601 UTC text for a raw timestamp, or None for empty/zero/unparseable values."""
    if type(value) is int:  # the common case, straight to the arithmetic
        if value == 0:
            return None
        units = UNITS.get(fmt)
        if units is None and fmt == "mac_absolute":
            units = (1_000_000_000, MAC_EPOCH) if abs(value) > MAC_SECONDS_LIMIT else (1, MAC_EPOCH)
        if units is not None:
            per, offset = units
            if per == 1:
                return _iso(value + offset, 0)
            secs, rest = divmod(value, per)
            return _iso(secs + offset, rest * (1_000_000_000 // per))
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
    if v == 0 or not math.isfinite(v):
        return None
    if fmt in ("mac_absolute", "mac_absolute_s", "mac_absolute_ns"):
        # iOS stores seconds (often fractional) or, since iOS 11 in some apps, nanoseconds.
        if fmt == "mac_absolute_ns" or (fmt == "mac_absolute" and abs(v) > MAC_SECONDS_LIMIT):
            secs, nanos = _split(v, 1_000_000_000)
        else:
            secs, nanos = _split(v, 1)
        secs += MAC_EPOCH
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
    if not _MIN_SECS <= secs <= _MAX_SECS:  # outside years 1..9999
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


def enum_miss(value: Any) -> str | None:
    """What an enum column shows for a value its map lacks; undecodable bytes as ``\\xNN``."""
    if value is None:
        return None
    return f"unknown ({clean_text(value) if isinstance(value, str) else value})"


def clean_text(value: str) -> str:
    """Bytes that were not UTF-8 (kept as surrogate escapes) shown as ``\\xNN``."""
    if value.isascii() or _SURROGATES.search(value) is None:
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
    if how == "tl_message_text":
        from evkit.profiles.tl import message_text

        return message_text(value)
    return value.hex()


def json_safe(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if value.isascii() or _SURROGATES.search(value) is None else clean_text(value)
    if kind is int or kind is float or value is None:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, str):
        return clean_text(value)
    return value
