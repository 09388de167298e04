"""Phone evidence: the tree that backups are rebuilt into, the backup password, and layout detection.

Phone backups (iTunes/Finder, ``adb backup``) do not store files under their device paths. The
sources in :mod:`itunes` and :mod:`adb_backup` rebuild the device paths (``/private/var/mobile/...``,
``/data/data/<package>/...``) in a :class:`MappedTree`, so profiles see the same paths as in a full
file system extraction. :func:`phone_layout` tells, from the top folders of any tree, whether it
is an Android or iOS file system (and under which prefix a tool put it).
"""

from __future__ import annotations

import os
from typing import Any

from evkit.locator import quote
from evkit.sources.base import Entry, FileSystem
from evkit.sources.logical.archive import ArchiveTree
from evkit.timefmt import iso_utc

PASSWORD_ENV = "EVKIT_BACKUP_PASSWORD"
# Where files that are part of the backup but have no device path are shown (manifests, plists).
METADATA_DIR = "/backup-metadata"


def backup_password(password: str | None = None) -> str | None:
    """The password given by the caller, else ``$EVKIT_BACKUP_PASSWORD`` (None when neither)."""
    if password is not None:
        return password
    return os.environ.get(PASSWORD_ENV) or None


def password_hint() -> str:
    return (f"give the password with --password-file FILE or --ask-password (before or after the command name, "
            f"e.g. `evkit case add CASE BACKUP --evidence-number E1 --password-file pw.txt`), or in {PASSWORD_ENV}")


class MappedTree(ArchiveTree):
    """An :class:`ArchiveTree` whose members are placed at rebuilt paths, each with its own
    locator kind and address (``itunes:<folder> > backup:/private/var/...#<fileID>``)."""

    entry_kind = "member"

    def add_mapped(self, path: str, etype: str, size: int, ref: Any, index: int, address: str | None, *,
                   mtime: int = 0, atime: int = 0, ctime: int = 0, crtime: int = 0, mode: int = 0,
                   uid: int = 0, gid: int = 0, inode: int | None = None,
                   link_target: str | None = None) -> Entry | None:
        """Add one item at ``path`` (names kept literally, duplicates listed as in archives)."""
        before = len(self._entries)
        self.add(path, etype, size, ref, index, mtime, link_target=link_target)
        if len(self._entries) == before:  # a folder that was already there
            existing = self._entries.get("/" + "/".join(p for p in path.split("/") if p))
            if existing is not None and existing.type == "dir" and address is not None and existing.address is None:
                self._stamp(existing, address, mtime, atime, ctime, crtime, mode, uid, gid, inode)
            return existing
        e = next(reversed(self._entries.values()))
        self._stamp(e, address, mtime, atime, ctime, crtime, mode, uid, gid, inode)
        return e

    def _stamp(self, e: Entry, address: str | None, mtime: int, atime: int, ctime: int, crtime: int,
               mode: int, uid: int, gid: int, inode: int | None) -> None:
        e.address = address
        e.inode = inode
        e.locator = self.entry_locator(self.entry_kind, e.path, address)
        e.mtime, e.mtime_s = iso_utc(mtime) if mtime else None, mtime
        e.atime, e.atime_s = iso_utc(atime) if atime else None, atime
        e.ctime, e.ctime_s = iso_utc(ctime) if ctime else None, ctime
        e.crtime, e.crtime_s = iso_utc(crtime) if crtime else None, crtime
        e.mode, e.uid, e.gid = mode & 0o7777, uid, gid

    def folder_locator(self, path: str) -> str:
        return f"{self._locator_text}{self.entry_kind}:{quote(path)}"


# -- layout detection ------------------------------------------------------------------------

_MAX_DEPTH = 3      # prefix folders looked through: filesystem1/, Dump/, extraction/fs/ ...
_MAX_LISTED = 64    # folders listed at most, so a large disk costs a few lookups only
_MAX_FANOUT = 8     # only folders with at most this many subfolders are looked into

_ANDROID_FFS = ("data/data", "data/user/0", "data/user_de/0", "data/system", "data/app")
_ANDROID_USERDATA = ("data", "system", "app", "user", "user_de", "media", "misc")
_IOS_FFS = ("private/var/mobile", "private/var/containers", "private/var/Keychains", "private/var/root",
            "var/mobile", "var/containers")
_IOS_DATA = ("mobile", "containers", "Keychains", "root", "wireless", "db", "preferences")


def phone_layout(fs: FileSystem) -> dict[str, Any] | None:
    """Whether ``fs`` holds an Android or iOS file system, and where.

    Returns None, or ``{"platform": "android"|"ios", "layout": ..., "prefix": "/Dump" or "",
    "markers": [paths found]}``; layout is ``adb-backup``, ``itunes-backup`` (rebuilt backups),
    ``full-file-system`` (a ``/data`` or ``/private/var`` tree, possibly under a tool's prefix
    folder) or ``data-partition`` (the Android userdata or iOS data volume itself).
    """
    own = getattr(fs, "phone_layout", None)
    if callable(own):
        return own()  # type: ignore[no-any-return]
    budget = [_MAX_LISTED]
    queue: list[tuple[str, int]] = [("/", 0)]
    while queue:
        folder, depth = queue.pop(0)
        names = _subfolders(fs, folder, budget)
        if names is None:
            continue
        prefix = "" if folder == "/" else folder
        found = _match(fs, prefix, names, budget)
        if found:
            return found
        # a tool's prefix folder holds a few folders; a disk's root (Windows, Users, ...) is not looked into
        if depth < _MAX_DEPTH and len(names) <= _MAX_FANOUT:
            queue.extend((f"{prefix}/{n}", depth + 1) for n in sorted(names))
    return None


def _subfolders(fs: FileSystem, folder: str, budget: list[int]) -> set[str] | None:
    if budget[0] <= 0:
        return None
    budget[0] -= 1
    try:
        return {e.name for e in fs.walk(folder, False) if e.type == "dir" and not e.deleted}
    except Exception:  # a layout hint must never make opening the evidence fail
        return None


def _is_dir(fs: FileSystem, path: str, budget: list[int]) -> bool:
    if budget[0] <= 0:
        return False
    budget[0] -= 1
    try:
        return fs.lookup(path).type == "dir"
    except Exception:
        return False


def _match(fs: FileSystem, prefix: str, names: set[str], budget: list[int]) -> dict[str, Any] | None:
    if "data" in names:
        markers = [f"{prefix}/{m}" for m in _ANDROID_FFS if _is_dir(fs, f"{prefix}/{m}", budget)]
        if markers:
            return {"platform": "android", "layout": "full-file-system", "prefix": prefix, "markers": markers}
    if "private" in names or "var" in names:
        markers = [f"{prefix}/{m}" for m in _IOS_FFS if m.split("/")[0] in names and _is_dir(fs, f"{prefix}/{m}", budget)]
        if markers:
            return {"platform": "ios", "layout": "full-file-system", "prefix": prefix, "markers": markers}
    android = [n for n in _ANDROID_USERDATA if n in names]
    if {"data", "system"} <= names and ({"app", "user", "user_de"} & names) and len(android) >= 3:
        return {"platform": "android", "layout": "data-partition", "prefix": prefix,
                "markers": [f"{prefix}/{n}" for n in android]}
    ios = [n for n in _IOS_DATA if n in names]
    if "mobile" in names and len(ios) >= 3:
        return {"platform": "ios", "layout": "data-partition", "prefix": prefix,
                "markers": [f"{prefix}/{n}" for n in ios]}
    return None
