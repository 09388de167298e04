"""Turning one raw row into record data with the profile's column conversions."""

from __future__ import annotations

from typing import Any

from evkit.profiles.conversions import blob_value, json_safe, to_utc
from evkit.profiles.model import Artifact


def convert_row(art: Artifact, raw: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The record's ``data`` (converted values, with ``<col>_raw`` beside converted ones) and its time."""
    data: dict[str, Any] = {}
    for name, value in raw.items():
        col = art.columns.get(name)
        if col is None:
            data[name] = json_safe(value)
            continue
        if col.type == "timestamp":
            data[name] = to_utc(value, col.format or "unix_s") if not (col.zero_is_null and value in (0, "0")) else None
            data[f"{name}_raw"] = json_safe(value)
        elif col.type == "enum":
            mapping = col.map or {}
            key = value if value in mapping else str(value) if str(value) in mapping else None
            data[name] = mapping[key] if key is not None else (f"unknown ({value})" if value is not None else None)
            data[f"{name}_raw"] = json_safe(value)
        elif col.type == "blob" and isinstance(value, (bytes, bytearray, memoryview)):
            data[name] = blob_value(bytes(value), col.blob)
        elif col.type == "bool":
            data[name] = None if value is None else bool(value)
        else:
            data[name] = json_safe(value)
    timestamp = data.get(art.timeline_time) if art.timeline_time else None
    if timestamp is not None and not (isinstance(timestamp, str) and timestamp.endswith("Z")):
        timestamp = None
    return data, timestamp
