"""JSON files (and JSON Lines), plus the tree helpers the plist parser shares.

Records from a tree (JSON or plist):

* With ``table`` (a key path such as ``accounts``, ``data.items`` or ``*.devices``), one record per
  item of the list or dict the path names: a dict item is flattened (``{"a": {"b": 1}}`` becomes
  ``a.b``), any other item becomes ``value``. Items of a dict also carry their key as ``_key``;
  with a ``*`` segment (every child) the matched path is ``_path``. Each path segment is a dict key
  or a list index; keys that themselves contain dots (``com.apple.madrid``) are matched whole
  (the longest key that fits wins). A path that is not in the file gives no records.
* Without ``table``, one record: the flattened top level.

Values are made plain and JSON-safe: bytes as hex (a record's own fields stay bytes, for the
column's ``blob`` conversion: hex unless the profile says ``text``, ``base64``...), dates as ISO-8601 UTC, non-finite floats as
text, undecodable text shown ``\\xNN`` (lone surrogates ``\\uXXXX``). Everything is bounded:
:data:`MAX_DEPTH` levels (deeper values become ``"<too deep>"``), :data:`MAX_NODES` values per file
per artifact, or one per byte of the file if more (shared sub-trees are counted every time they
appear, so a small binary plist cannot expand without limit), and :data:`MAX_BYTES` of JSON. Reference cycles become ``"<cycle>"``.

Identify: a file of at most :data:`MAX_BYTES` that parses as JSON, or as JSON Lines (every
non-empty line a JSON value, read as a list), plus ``identify.header`` when the profile sets it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from evkit.profiles.conversions import clean_text
from evkit.profiles.model import Artifact, Profile
from evkit.profiles.parsers.file import header_ok, keys_ok, read_head, size_of

NEEDS_FILE = False
TABLES = False
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000

_SURROGATE = re.compile("[\ud800-\udfff]")


class ParseError(Exception):
    """A file that cannot be read as its format says: shown per file, the run goes on."""


class Budget:
    """How many more values may be produced from one file."""

    def __init__(self, nodes: int = MAX_NODES) -> None:
        self.nodes = self.left = nodes

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ParseError(f"more than {self.nodes} values (shared sub-trees repeated without limit?): stopped")


def text(value: str) -> str:
    value = clean_text(value)
    if _SURROGATE.search(value):
        value = _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", value)
    return value


def iso(dt: datetime) -> str | None:
    """A date as ISO-8601 UTC; naive dates (plist) are UTC already."""
    try:
        if dt.tzinfo is not None:
            dt = dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    out = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if dt.microsecond:
        out += f".{dt.microsecond:06d}".rstrip("0")
    return out + "Z"


def key_text(key: Any) -> str:
    return text(key) if isinstance(key, str) else text(str(plain(key, Budget(16), 0, set())))


def plain(value: Any, budget: Budget, depth: int = 0, seen: set[int] | None = None, top: bool = False) -> Any:
    """``value`` as plain JSON-safe data (see the module doc), bounded in depth and size.

    ``top``: a record's own field, where bytes stay bytes so the profile's ``blob`` conversion
    (hex by default, ``text``, ``base64``...) applies to them.
    """
    budget.take()
    if value is None or isinstance(value, (bool, int)):
        return value
    if top and isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (dict, list, tuple)):
        if depth >= MAX_DEPTH:
            return "<too deep>"
        seen = seen if seen is not None else set()
        if id(value) in seen:
            return "<cycle>"
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                return {key_text(k): plain(v, budget, depth + 1, seen) for k, v in value.items()}
            return [plain(v, budget, depth + 1, seen) for v in value]
        finally:
            seen.discard(id(value))
    data = getattr(value, "data", None)     # plistlib.UID
    if isinstance(data, int):
        return data
    return text(str(value))


def flatten(value: dict[Any, Any], budget: Budget, prefix: str = "", out: dict[str, Any] | None = None,
            depth: int = 0, seen: set[int] | None = None) -> dict[str, Any]:
    """Nested dicts as one level of ``a.b.c`` keys; lists stay lists (plain)."""
    out = {} if out is None else out
    seen = set() if seen is None else seen
    if id(value) in seen:
        out[prefix.rstrip(".") or "value"] = "<cycle>"
        return out
    seen.add(id(value))
    for k, v in value.items():
        name = prefix + key_text(k)
        if isinstance(v, dict) and v and depth < MAX_DEPTH:
            flatten(v, budget, name + ".", out, depth + 1, seen)
        else:
            out[name] = plain(v, budget, depth + 1, seen, top=True)
    seen.discard(id(value))
    return out


def _children(node: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield key_text(k), v
    elif isinstance(node, (list, tuple)):
        yield from enumerate(node)


def resolve(root: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every node the key path names, with its concrete path (``*`` matches every child)."""
    if not path:
        yield "", root
        return
    stack: list[tuple[Any, str, str, int]] = [(root, path, "", 0)]
    while stack:
        node, rest, done, depth = stack.pop()
        if not rest:
            yield done.rstrip("."), node
            continue
        if depth > MAX_DEPTH:
            continue
        found: list[tuple[Any, str, str]] = []
        head, _, tail = rest.partition(".")
        if head == "*":
            found = [(child, tail, f"{done}{key}.") for key, child in _children(node)]
        elif isinstance(node, dict):
            keys = {key_text(k): k for k in node}
            # longest key that fits: keys may contain dots themselves
            parts = rest.split(".")
            for cut in range(len(parts), 0, -1):
                candidate = ".".join(parts[:cut])
                if candidate in keys:
                    found = [(node[keys[candidate]], ".".join(parts[cut:]), f"{done}{candidate}.")]
                    break
        elif isinstance(node, (list, tuple)) and re.fullmatch(r"-?\d+", head):
            index = int(head)
            if -len(node) <= index < len(node):
                found = [(node[index], tail, f"{done}{head}.")]
        stack.extend((child, r, d, depth + 1) for child, r, d in reversed(found))


def item_record(item: Any, budget: Budget) -> dict[str, Any]:
    if isinstance(item, dict):
        return flatten(item, budget)
    return {"value": plain(item, budget, top=True)}


def tree_records(profile: Profile, root: Any, size: int) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The records of every artifact of ``profile`` in one parsed tree read from ``size`` bytes."""
    for art in profile.artifacts.values():
        yield from artifact_records(art, root, Budget(max(MAX_NODES, size)))


def artifact_records(art: Artifact, root: Any, budget: Budget) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    if not art.table:
        data = item_record(root, budget)
        yield art.name, {"index": 0}, data
        return
    wild = "*" in art.table.split(".")
    for where, node in resolve(root, art.table):
        if isinstance(node, dict):
            for key, value in node.items():
                k = key_text(key)
                data = {"_key": k, **({"_path": where} if wild else {}), **item_record(value, budget)}
                row = {"table": art.table, **({"path": where} if wild else {}), "key": k}
                yield art.name, row, data
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                data = {**({"_path": where} if wild else {}), **item_record(value, budget)}
                row = {"table": art.table, **({"path": where} if wild else {}), "index": index}
                yield art.name, row, data
        else:
            row = {"table": art.table, **({"path": where} if wild else {}), "index": 0}
            yield art.name, row, {**({"_path": where} if wild else {}), "value": plain(node, budget, top=True)}


# ---------------------------------------------------------------------------------------------
# JSON

_cache: tuple[Any, Any, int] | None = None     # (target, parsed, size) from identify, used once by parse


def _constant(name: str) -> str:
    return name                             # NaN, Infinity, -Infinity kept as text


def loads(raw: bytes) -> Any:
    """JSON, or JSON Lines as a list; ParseError when neither."""
    if len(raw) > MAX_BYTES:
        raise ParseError(f"larger than {MAX_BYTES} bytes")
    try:
        encoding = json.detect_encoding(raw)
        doc = raw.decode(encoding, "surrogateescape" if encoding.startswith("utf-8") else "strict")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"not JSON text: {exc}") from exc
    if not doc.strip():
        raise ParseError("empty")
    try:
        return json.loads(doc, parse_constant=_constant)
    except RecursionError as exc:
        raise ParseError("JSON nested too deeply") from exc
    except ValueError as exc:
        first_error = exc
    lines = [line for line in doc.splitlines() if line.strip()]
    if len(lines) < 2:
        raise ParseError(f"not JSON: {first_error}")
    try:
        return [json.loads(line, parse_constant=_constant) for line in lines]
    except (ValueError, RecursionError):
        raise ParseError(f"not JSON: {first_error}") from None


def read_bounded(target: Any) -> bytes:
    """The whole target (a path or a stream), refused above MAX_BYTES: plist and JSON parse in memory."""
    if size_of(target) > MAX_BYTES:
        raise ParseError(f"larger than {MAX_BYTES} bytes")
    if hasattr(target, "getvalue"):
        return target.getvalue()
    if hasattr(target, "read"):
        target.seek(0)
        return target.read()
    with open(target, "rb") as fh:
        return fh.read()


def identify(profile: Profile, target: Any) -> bool:
    global _cache
    _cache = None
    try:
        if not header_ok(profile, read_head(target, 4096)):
            return False
        raw = read_bounded(target)
        root = loads(raw)
    except (ParseError, OSError):
        return False
    if not keys_ok(profile, root):
        return False
    _cache = (target, root, len(raw))
    return True


def parse(profile: Profile, target: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    global _cache
    if _cache is not None and _cache[0] is target:
        _, root, size = _cache
    else:
        raw = read_bounded(target)
        root, size = loads(raw), len(raw)
    _cache = None
    yield from tree_records(profile, root, size)
