"""``evkit ls`` through the C walker (``_tskwalk.c``) wherever it prints what the Python walk prints.

Walking a filesystem through pytsk3 costs several microseconds of Python per entry, so a listing
of 50,000 files took eight times as long as ``fls``. The C walker repeats ``TskFileSystem.walk``
and ``entry_json``/``_text_line`` step for step against the system libtsk and writes the lines to
standard output itself. Python still opens the evidence and decides everything above the
filesystem: the mounts, their ``/vol<N>`` names, the locator prefix, and whether the walker
applies. It applies to images libtsk opens itself as pytsk3 does (raw, split raw; not EWF, which
pytsk3 reads through pyewf, with other answers to damaged segments than libtsk's old libewf) and
to the filesystem types whose listings tests/test_fastwalk.py compares byte for byte, damaged
ones included; anything else, and any filesystem or start folder libtsk cannot open, goes
through the Python walk, which stays the reference. ``EVKIT_NO_NATIVE=1`` forces the Python walk.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from types import ModuleType

from evkit import names
from evkit.sources.base import Entry
from evkit.sources.filesystems.tsk import TskFileSystem
from evkit.sources.source import Mount, Source
from evkit.timefmt import iso_utc

NO_NATIVE_ENV = "EVKIT_NO_NATIVE"
CONTAINERS = frozenset({"raw", "split"})
# Not NTFS: its named streams and inode-type-id addresses are not in the walker, and pytsk3's
# TSK (4.15) and the system's (4.11) read damaged MFT entries differently.
FS_TYPES = frozenset({"ext2", "ext3", "ext4", "fat12", "fat16", "fat32", "exfat", "hfs", "iso9660"})
ALL, DELETED, ALLOCATED = 0, 1, 2


def load() -> ModuleType | None:
    """The C walker, or None when it was not built (no libtsk-dev) or is switched off."""
    if os.environ.get(NO_NATIVE_ENV):
        return None
    try:
        from evkit.sources.filesystems import _tskwalk
    except ImportError:
        return None
    return _tskwalk


def walker_tsk_version() -> str | None:
    """The system libtsk the C walker is linked against (not the TSK bundled in pytsk3); None when
    the walker was not built."""
    try:
        from evkit.sources.filesystems import _tskwalk  # noqa: F401
    except ImportError:
        return None
    import ctypes
    import ctypes.util

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("tsk") or "libtsk.so")
        lib.tsk_version_get_str.restype = ctypes.c_char_p
        return str(lib.tsk_version_get_str().decode())
    except (OSError, AttributeError):
        return "unknown"


def native_walk(src: Source, path: str, recursive: bool, *, json: bool, only: int) -> Iterator[Entry] | None:
    """``src.walk(path, recursive)`` for ``evkit ls``: the C walker prints what it can as the walk
    reaches it, and the entries left (volume entries, filesystems it does not apply to) are
    yielded for the caller to print. None when the walker cannot apply to this source at all.

    ``json`` chooses ``entry_json`` or ``_text_line`` (without hashes); ``only`` is ``DELETED``
    or ``ALLOCATED`` for ``--deleted``/``--allocated``.
    """
    if src.media is None or src.media.format not in CONTAINERS:
        return None
    lib = load()
    fd = _stdout_fd()
    if lib is None or fd is None:
        return None
    return _Lister(src, lib, fd, json, only).walk(path, recursive)


def _stdout_fd() -> int | None:
    """The descriptor behind ``sys.stdout`` when writing UTF-8 bytes there is what writing text
    to ``sys.stdout`` would do: a real file, encoded as UTF-8."""
    try:
        fd = sys.stdout.fileno()
        encoding = codecs.lookup(sys.stdout.encoding).name
    except (AttributeError, OSError, ValueError, LookupError, TypeError):
        return None
    return fd if encoding == "utf-8" else None


@dataclass
class _Lister:
    src: Source
    lib: ModuleType
    fd: int
    json: bool
    only: int

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        return self.src.walk(path, recursive, self._walk_mount)

    def _walk_mount(self, m: Mount, sub: str, recursive: bool) -> Iterator[Entry]:
        fs = m.fs
        python_walk = self.src.walk_mount(m, sub, recursive)
        if not isinstance(fs, TskFileSystem) or fs.fs_type not in FS_TYPES:
            yield from python_walk
            return
        start = sub.rstrip("/") or "/"
        inode = None
        if start != "/":
            top = fs.lookup(start)
            if top.type != "dir" or top.inode is None:
                yield from python_walk  # a file: the Python walk yields just that entry
                return
            inode = top.inode
        assert self.src.media is not None
        sys.stdout.flush()  # what Python printed so far goes before what the walker prints
        written = self.lib.walk(
            [str(p) for p in self.src.media.segments], fs.offset, fs.fs_type, inode, names.encode(start),
            names.encode("/" + m.name if m.name else ""),
            encode_basestring(fs.entry_locator(fs.fs_type, ""))[1:-1].encode(),
            recursive, self.json, self.only, self.fd, iso_utc,
        )
        if written is None:  # libtsk cannot open it: the Python walk lists it, or says why not
            yield from python_walk
