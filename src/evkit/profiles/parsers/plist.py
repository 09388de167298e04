"""Apple property lists, binary (``bplist00``) and XML, with NSKeyedArchiver archives decoded.

Records come from the tree as for JSON (see :mod:`evkit.profiles.parsers.jsonfile`): with
``table`` (a key path such as ``Accounts`` or ``*.BSSList``), one record per item; without it,
one record of the flattened top level. Dates become ISO-8601 UTC, data becomes hex, UIDs integers.

An NSKeyedArchiver plist (``$archiver``, ``$objects``, ``$top``) is first decoded into plain
values: ``$top`` (its ``root`` when that is the only entry) with every UID reference followed;
``NSDictionary``/``NSArray``/``NSSet`` (``NS.keys``/``NS.objects``) become dicts and lists,
``NSString`` (``NS.string``/``NS.bytes``) text, ``NSData`` (``NS.data``) hex, ``NSDate``
(``NS.time``, Cocoa seconds) ISO-8601 UTC, ``NSUUID`` text, ``NSURL`` its string; any other object
a dict of its decoded fields plus ``$class`` (the class name). Depth is bounded
(:data:`MAX_DEPTH`), cycles become ``"<cycle>"`` and the number of decoded values is bounded.

Identify: ``bplist00`` at the start, or an XML document whose first KiB has ``<plist``;
plus ``identify.header`` when the profile sets it.
"""

from __future__ import annotations

import plistlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from evkit.profiles.model import Profile
from evkit.profiles.parsers.file import header_ok, keys_ok, read_head
from evkit.profiles.parsers.jsonfile import MAX_NODES, Budget, ParseError, read_bounded, tree_records

NEEDS_FILE = False
TABLES = False
MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64
_COCOA_EPOCH = datetime(2001, 1, 1)


def looks_like_plist(head: bytes) -> bool:
    if head.startswith(b"bplist00"):
        return True
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith((b"<?xml", b"<!DOCTYPE plist", b"<plist")) and b"<plist" in head[:1024]


def identify(profile: Profile, target: Any) -> bool:
    try:
        head = read_head(target, 1024)
    except OSError:
        return False
    if not (looks_like_plist(head) and header_ok(profile, head)):
        return False
    if not profile.identify.get("keys"):
        return True
    try:
        return keys_ok(profile, load(read_bounded(target)))
    except (ParseError, OSError):
        return False


def load(raw: bytes) -> Any:
    try:
        return plistlib.loads(raw)
    except RecursionError as exc:
        raise ParseError("plist nested too deeply") from exc
    except Exception as exc:  # InvalidFileException, ExpatError, ValueError, OverflowError... on damaged files
        raise ParseError(f"not a readable plist: {type(exc).__name__}: {exc}") from exc


def is_keyed_archive(root: Any) -> bool:
    return (isinstance(root, dict) and isinstance(root.get("$objects"), list) and isinstance(root.get("$top"), dict)
            and str(root.get("$archiver", "NSKeyedArchiver")).endswith("KeyedArchiver"))


class _Unarchiver:
    """NSKeyedArchiver's object graph as plain values."""

    def __init__(self, objects: list[Any], budget: Budget) -> None:
        self.objects = objects
        self.budget = budget
        self.path: set[int] = set()

    def value(self, ref: Any, depth: int = 0) -> Any:
        self.budget.take()
        if isinstance(ref, plistlib.UID):
            index = ref.data
            if not 0 <= index < len(self.objects):
                return f"<bad reference {index}>"
            if index in self.path:
                return "<cycle>"
            if depth >= MAX_DEPTH:
                return "<too deep>"
            self.path.add(index)
            try:
                return self.object(self.objects[index], depth + 1)
            finally:
                self.path.discard(index)
        return self.object(ref, depth + 1)

    def object(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, str):
            return None if obj == "$null" else obj
        if isinstance(obj, list):
            return [self.value(v, depth) for v in obj]
        if not isinstance(obj, dict):
            return obj
        if depth >= MAX_DEPTH:
            return "<too deep>"
        cls = self.classname(obj.get("$class"))
        keys, values = obj.get("NS.keys"), obj.get("NS.objects")
        if isinstance(keys, list) and isinstance(values, list):
            out: dict[str, Any] = {}
            for k, v in zip(keys, values):
                key = self.value(k, depth)
                out[key if isinstance(key, str) else str(key)] = self.value(v, depth)
            return out
        if isinstance(values, list) and "NS.keys" not in obj:
            return [self.value(v, depth) for v in values]
        if "NS.string" in obj:
            return self.value(obj["NS.string"], depth)
        if "NS.bytes" in obj and isinstance(obj["NS.bytes"], bytes) and cls in ("NSMutableString", "NSString"):
            return obj["NS.bytes"].decode("utf-8", "surrogateescape")
        if "NS.data" in obj:
            return self.value(obj["NS.data"], depth)
        if "NS.time" in obj and isinstance(obj["NS.time"], (int, float)):
            try:
                return _COCOA_EPOCH + timedelta(seconds=obj["NS.time"])
            except (OverflowError, ValueError):
                return obj["NS.time"]
        if "NS.uuidbytes" in obj and isinstance(obj["NS.uuidbytes"], bytes) and len(obj["NS.uuidbytes"]) == 16:
            return str(uuid.UUID(bytes=obj["NS.uuidbytes"]))
        if "NS.relative" in obj:
            base, rel = self.value(obj.get("NS.base"), depth), self.value(obj["NS.relative"], depth)
            return f"{base}{rel}" if isinstance(base, str) and base else rel
        if "$classname" in obj:             # a class description met as a value
            return obj["$classname"]
        out = {k: self.value(v, depth) for k, v in obj.items() if k != "$class"}
        if cls:
            out["$class"] = cls
        return out

    def classname(self, ref: Any) -> str | None:
        if isinstance(ref, plistlib.UID) and 0 <= ref.data < len(self.objects):
            desc = self.objects[ref.data]
            if isinstance(desc, dict) and isinstance(desc.get("$classname"), str):
                return desc["$classname"]
        return None


def unarchive(root: dict[str, Any], budget: Budget) -> Any:
    """The plain value of an NSKeyedArchiver plist."""
    u = _Unarchiver(root["$objects"], budget)
    top = root["$top"]
    decoded = {str(k): u.value(v) for k, v in top.items()}
    return decoded["root"] if list(decoded) == ["root"] else decoded


def parse(profile: Profile, target: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    raw = read_bounded(target)
    root = load(raw)
    if is_keyed_archive(root):
        root = unarchive(root, Budget(max(MAX_NODES, len(raw))))
    yield from tree_records(profile, root, len(raw))

