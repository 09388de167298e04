"""Turning one raw row into record data with the profile's column conversions.

This runs once per record, so each artifact's columns are compiled once into small functions
(one per declared column) and a row is converted in a single pass over its values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evkit.profiles.conversions import blob_value, enum_miss, json_safe, timestamp_function
from evkit.profiles.model import Artifact, Column

Step = Callable[[dict[str, Any], Any], None]

_PLANS: dict[int, tuple[Artifact, dict[str, Step]]] = {}


def _step(col: Column) -> Step:
    """The conversion of one declared column: writes ``data[name]`` (and ``<name>_raw`` where kept)."""
    name, raw_name = col.name, f"{col.name}_raw"
    if col.type == "timestamp":
        # zero_is_null needs no test: every format gives None for 0 and "0"
        convert = timestamp_function(col.format or "unix_s")

        def timestamp(data: dict[str, Any], value: Any) -> None:
            data[name] = convert(value)
            data[raw_name] = value if type(value) is int else json_safe(value)
        return timestamp
    if col.type == "enum":
        mapping = col.map or {}

        def enum(data: dict[str, Any], value: Any) -> None:
            if value in mapping:
                data[name] = mapping[value]
            else:
                text = str(value)
                data[name] = mapping[text] if text in mapping else enum_miss(value)
            data[raw_name] = json_safe(value)
        return enum
    if col.type == "blob":
        how = col.blob

        def blob(data: dict[str, Any], value: Any) -> None:
            data[name] = blob_value(bytes(value), how) if isinstance(value, (bytes, bytearray, memoryview)) else json_safe(value)
        return blob
    if col.type == "bool":
        def boolean(data: dict[str, Any], value: Any) -> None:
            data[name] = None if value is None else bool(value)
        return boolean

    def plain(data: dict[str, Any], value: Any) -> None:
        data[name] = json_safe(value)
    return plain


def _plan(art: Artifact) -> dict[str, Step]:
    cached = _PLANS.get(id(art))
    if cached is not None and cached[0] is art:  # the artifact is kept alive, so its id is not reused
        return cached[1]
    if len(_PLANS) > 1000:
        _PLANS.clear()
    steps = {name: _step(col) for name, col in art.columns.items()}
    _PLANS[id(art)] = (art, steps)
    return steps


def convert_row(art: Artifact, raw: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The record's ``data`` (converted values, with ``<col>_raw`` beside converted ones) and its time."""
    steps = _plan(art)
    data: dict[str, Any] = {}
    for name, value in raw.items():
        step = steps.get(name)
        if step is not None:
            step(data, value)
        elif type(value) is str:
            data[name] = value if value.isascii() else json_safe(value)
        elif type(value) is int or value is None:
            data[name] = value
        else:
            data[name] = json_safe(value)
    timestamp = data.get(art.timeline_time) if art.timeline_time else None
    if timestamp is not None and not (isinstance(timestamp, str) and timestamp.endswith("Z")):
        timestamp = None
    return data, timestamp
