"""Any file: one record per matched file, with its size and type as libmagic (python-magic) sees it.

For artefacts whose existence is the finding (a wallet file, an APK, a key store): the record
names the file (the record's ``path``), its size, its MIME type, libmagic's description and its
first bytes, so an examiner sees e.g. a ``.jpg`` that is really a ZIP.

``identify`` is always true, unless the profile narrows it: ``identify.header`` (the file must
start with these bytes; the YAML text is taken as Latin-1, so ``"\\x89PNG"`` works) and
``identify.magic`` (a regular expression searched in libmagic's description and MIME type). Both
checks are shared by the other tree and text parsers (:func:`header_ok`).

Needs a file on disk: libmagic then reads only what it needs, and the engine does not hold a big
file (a video, a disk image) in memory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evkit.profiles.model import Profile
from evkit.profiles.patterns import compile_pattern, search

NEEDS_FILE = True
TABLES = False
MAGIC_BYTES = 1024 * 1024       # what libmagic is given when the file is a stream
HEAD = 16                       # first bytes shown in the record

_lock = threading.Lock()
_magic: dict[bool, Any] = {}


def _detector(mime: bool) -> Any:
    with _lock:
        m = _magic.get(mime)
        if m is None:
            import magic

            m = _magic[mime] = magic.Magic(mime=mime)
        return m


def header_bytes(profile: Profile) -> bytes | None:
    header = profile.identify.get("header")
    if not header:
        return None
    try:
        return header.encode("latin-1")
    except UnicodeEncodeError:
        return header.encode("utf-8")


def keys_ok(profile: Profile, root: Any) -> bool:
    """True unless the profile's ``identify.keys`` is set and the document's top-level object lacks
    one of them (JSON and plist: what tells an Electrum wallet from any other JSON under any name)."""
    keys = profile.identify.get("keys")
    return not keys or (isinstance(root, dict) and all(k in root for k in keys))


def header_ok(profile: Profile, head: bytes) -> bool:
    """True unless the profile's ``identify.header`` is set and the file does not start with it."""
    want = header_bytes(profile)
    return want is None or head.startswith(want)


def read_head(target: Any, n: int) -> bytes:
    """The first ``n`` bytes of a path or a seekable stream (whose position is kept)."""
    if isinstance(target, (str, Path)):
        with open(target, "rb") as fh:
            return fh.read(n)
    pos = target.tell()
    try:
        target.seek(0)
        return target.read(n)
    finally:
        target.seek(pos)


def size_of(target: Any) -> int:
    if isinstance(target, (str, Path)):
        return os.stat(target).st_size
    pos = target.tell()
    try:
        return target.seek(0, os.SEEK_END)
    finally:
        target.seek(pos)


def file_type(target: Any) -> tuple[str | None, str | None]:
    """libmagic's MIME type and description (None, None if libmagic fails on the file)."""
    try:
        if isinstance(target, (str, Path)):
            return _detector(True).from_file(str(target)), _detector(False).from_file(str(target))
        head = read_head(target, MAGIC_BYTES)
        return _detector(True).from_buffer(head), _detector(False).from_buffer(head)
    except Exception:  # libmagic errors (magic.MagicException) on odd files: the record says unknown
        return None, None


def magic_ok(profile: Profile, mime: str | None, description: str | None) -> bool:
    pattern = profile.identify.get("magic")
    if not pattern:
        return True
    rx = compile_pattern(pattern)
    return any(search(rx, text, "on the file type") for text in (description, mime) if text)


def identify(profile: Profile, target: Any) -> bool:
    try:
        if not header_ok(profile, read_head(target, 4096)):
            return False
        if profile.identify.get("magic"):
            return magic_ok(profile, *file_type(target))
    except OSError:
        return False
    return True


def parse(profile: Profile, target: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    mime, description = file_type(target)
    head = read_head(target, HEAD)
    raw: dict[str, Any] = {"size": size_of(target), "mime_type": mime, "file_type": description,
                           "header_hex": head.hex()}
    for art in profile.artifacts.values():
        yield art.name, {"index": 0}, raw
