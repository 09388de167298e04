"""APFS containers through pyfsapfs: pytsk3 has no APFS pool support.

Each APFS volume is one filesystem; an encrypted (locked) volume is reported, not opened.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from typing import Any

from evkit import names
from evkit.errors import EncryptedVolume, EvidenceError, NotFound
from evkit.locator import Layer, Locator
from evkit.sources.base import Entry, FileSystem, ReadAtStream

APFS_MAGIC_OFFSET = 32
APFS_MAGIC = b"NXSB"
ROOT_INODE = 2
_S_IFMT = 0o170000
_TYPES = {0o040000: "dir", 0o100000: "file", 0o120000: "link"}


def _fold(name: str) -> str:
    return unicodedata.normalize("NFD", name).casefold()


def _ts(ns: int | None) -> tuple[str | None, int]:
    if not ns:
        return None, 0
    from evkit.timefmt import iso_utc

    return iso_utc(ns // 1_000_000_000, ns % 1_000_000_000), ns // 1_000_000_000


class MediaFileObject:
    """The file-like object libyal bindings ask for: read/seek/tell/get_size over a byte range."""

    def __init__(self, read_at: Any, offset: int, size: int) -> None:
        self._read_at = read_at
        self._base = offset
        self._size = size
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self._size - self._pos
        size = max(0, min(size, self._size - self._pos))
        data = self._read_at(self._base + self._pos, size) if size else b""
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = {0: 0, 1: self._pos, 2: self._size}[whence] + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def get_size(self) -> int:
        return self._size

    def close(self) -> None:
        """Nothing to release: the media belongs to the source."""


def open_container(read_at: Any, offset: int, size: int, parent: Locator) -> list["ApfsFileSystem"]:
    import pyfsapfs

    container = pyfsapfs.container()
    try:
        container.open_file_object(MediaFileObject(read_at, offset, size))
    except OSError as exc:
        raise EvidenceError(parent, f"cannot open APFS container: {exc}") from exc
    volumes = []
    for index in range(container.get_number_of_volumes()):
        volume = container.get_volume(index)
        if volume.is_locked():
            raise EncryptedVolume(parent, "APFS encryption", f"APFS volume {index + 1} ({volume.get_name()})")
        volumes.append(ApfsFileSystem(container, volume, parent.child(Layer("apfs", str(index + 1)))))
    return volumes


class ApfsFileSystem(FileSystem):
    fs_type = "apfs"

    def __init__(self, container: Any, volume: Any, locator: Locator) -> None:
        super().__init__(locator)
        self._container = container
        self._volume = volume

    def info(self) -> dict[str, Any]:
        return {"type": "apfs", "label": self._volume.get_name(), "volume_identifier": self._volume.get_identifier()}

    def _entry(self, fe: Any, parent: str) -> Entry:
        """The entry of ``fe``, a child of folder ``parent``; the root (inode 2, whose own name is
        "root") is ``/``."""
        ident = int(fe.get_identifier())
        raw_name = fe.get_name() or ""
        name = "" if ident == ROOT_INODE else names.decode(raw_name.encode("utf-8", "surrogateescape"))
        path = f"{parent.rstrip('/')}/{name}" if name else "/"
        mode = fe.get_file_mode() or 0
        etype = _TYPES.get(mode & _S_IFMT, "other")
        mt, mts = _ts(fe.get_modification_time_as_integer())
        at, ats = _ts(fe.get_access_time_as_integer())
        ct, cts = _ts(fe.get_inode_change_time_as_integer())
        cr, crs = _ts(fe.get_creation_time_as_integer())
        return Entry(path=path, name=name, type=etype, size=int(fe.get_size() or 0) if etype != "dir" else 0,
                     deleted=False, locator=self.entry_locator("apfs_fs", path, str(ident)),
                     inode=ident, address=str(ident), mtime=mt, atime=at, ctime=ct, crtime=cr,
                     mtime_s=mts, atime_s=ats, ctime_s=cts, crtime_s=crs, mode=mode & 0o7777,
                     uid=int(fe.get_owner_identifier() or 0), gid=int(fe.get_group_identifier() or 0),
                     link_target=fe.get_symbolic_link_target() if etype == "link" else None, ref=fe)

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        top = self.lookup(path)
        if top.type != "dir":
            yield top
            return
        stack = [(top.ref, top.path)]
        while stack:
            fe, parent = stack.pop()
            for i in range(fe.get_number_of_sub_file_entries()):
                child = self._entry(fe.get_sub_file_entry(i), parent)
                child_path = child.path
                yield child
                if recursive and child.type == "dir":
                    stack.append((child.ref, child_path))

    @staticmethod
    def _child(fe: Any, part: str) -> Any:
        """The entry named ``part`` in folder ``fe``, or None.

        libfsapfs 20260921 answers a name that is not there with the folder itself, so the answer
        is checked: another inode, and the name asked for (up to case and Unicode normalisation,
        which APFS may ignore). A name that is not valid UTF-8 cannot exist on APFS."""
        try:
            part.encode("utf-8")
            nxt = fe.get_sub_file_entry_by_name(part)
        except (UnicodeEncodeError, OSError):
            return None
        if nxt is None or int(nxt.get_identifier()) == int(fe.get_identifier()):
            return None
        return nxt if _fold(nxt.get_name() or "") == _fold(part) else None

    def lookup(self, path: str) -> Entry:
        parts = [p for p in path.split("/") if p]
        fe = self._volume.get_root_directory()
        current = "/"
        for part in parts:
            nxt = self._child(fe, part)
            if nxt is None:
                raise NotFound(f"{names.escape(current.rstrip('/') + '/' + part)}: no such file in {self.locator}")
            fe = nxt
            real = names.decode((nxt.get_name() or part).encode("utf-8", "surrogateescape"))
            current = f"{current.rstrip('/')}/{real}"
        return self._entry(fe, current.rsplit("/", 1)[0] or "/")

    def by_inode(self, inode: int, stream: str | None = None) -> Entry:
        try:
            fe = self._volume.get_file_entry_by_identifier(inode)
        except OSError:
            fe = None
        if fe is None:
            raise NotFound(f"inode {inode}: not found in {self.locator}")
        return self._entry(fe, self._parent_path(fe))

    def _parent_path(self, fe: Any) -> str:
        """The path of the folder holding ``fe``, from the parent identifiers up to the root."""
        parts: list[str] = []
        current = fe
        for _ in range(4096):
            parent_id = int(current.get_parent_identifier() or 0)
            if int(current.get_identifier()) == ROOT_INODE or parent_id in (0, 1, ROOT_INODE):
                break
            try:
                current = self._volume.get_file_entry_by_identifier(parent_id)
            except OSError:
                current = None
            if current is None:
                return "/$OrphanFiles"
            parts.append(names.decode((current.get_name() or "").encode("utf-8", "surrogateescape")))
        return "/" + "/".join(reversed(parts))

    def open(self, entry: Entry) -> io.RawIOBase:
        fe = entry.ref
        if entry.type == "dir":
            raise NotFound(f"{names.escape(entry.path)} is a directory")
        return ReadAtStream(lambda off, n: fe.read_buffer_at_offset(n, off), entry.size)
