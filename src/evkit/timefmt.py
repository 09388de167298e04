"""UTC ISO-8601 text for timestamps, the only form evkit prints."""

from __future__ import annotations

import time


def iso_utc(seconds: int | None, nanos: int = 0) -> str | None:
    """``2012-05-25T15:59:23.123456789Z`` (fraction only when the source has one), or None for unset."""
    if not seconds and not nanos:
        return None
    try:
        base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    except (OverflowError, OSError, ValueError):
        return None
    if nanos:
        return f"{base}.{nanos:09d}".rstrip("0") + "Z"
    return base + "Z"
