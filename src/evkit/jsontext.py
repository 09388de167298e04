"""evkit's one JSON writer: every ``--json`` line, record ``data`` in case.db, exports.

Python's ``json`` writes a float infinity or NaN as the bare words ``Infinity``/``NaN``, which
are not JSON: a database row holding ``9e999`` made ``evkit parse --json`` print a line that
``jq`` and every strict reader reject. Here such a value becomes the string ``"Infinity"``,
``"-Infinity"`` or ``"NaN"`` (a key too). The common case costs nothing extra: the strict C
encoder runs first, and only a document it refuses is rewritten and encoded again.
"""

from __future__ import annotations

import json
import math
from typing import Any

_ENCODERS: dict[tuple[bool, bool, tuple[str, str] | None, int | None], json.JSONEncoder] = {}


def _encoder(sort_keys: bool, ensure_ascii: bool, separators: tuple[str, str] | None, indent: int | None) -> json.JSONEncoder:
    key = (sort_keys, ensure_ascii, separators, indent)
    enc = _ENCODERS.get(key)
    if enc is None:
        enc = _ENCODERS[key] = json.JSONEncoder(ensure_ascii=ensure_ascii, check_circular=False, allow_nan=False,
                                                sort_keys=sort_keys, separators=separators, indent=indent)
    return enc


_STRICT = _encoder(False, False, None, None).encode


def float_text(value: float) -> str:
    """``"Infinity"``, ``"-Infinity"`` or ``"NaN"``: the string a non-finite float is written as."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (in lists, tuples and dicts, keys too) made its string."""
    if isinstance(value, float):
        return value if math.isfinite(value) else float_text(value)
    if isinstance(value, dict):
        return {finite(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, *, sort_keys: bool = False, ensure_ascii: bool = False,
          separators: tuple[str, str] | None = None, indent: int | None = None) -> str:
    """Strict JSON text of ``value`` (``json.dumps`` options), non-finite floats as strings."""
    encode = _STRICT if not (sort_keys or ensure_ascii or separators or indent is not None) \
        else _encoder(sort_keys, ensure_ascii, separators, indent).encode
    try:
        return encode(value)
    except ValueError:  # "Out of range float values are not JSON compliant"
        return encode(finite(value))
