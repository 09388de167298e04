"""The shapes every evidence format fills in.

A *container* decodes an evidence file into a :class:`Media` (one byte stream); volume systems
and filesystems are found on that stream; a *logical source* (folder, zip, tar) yields entries
directly. Whatever the layers, callers see one read-only tree of :class:`Entry` objects, each
carrying its :class:`~evkit.locator.Locator`.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from evkit.locator import SEPARATOR, Layer, Locator, quote

ENTRY_TYPES = ("file", "dir", "link", "ads", "other")


class Media(ABC):
    """A decoded, random-access, read-only byte stream (the acquired media)."""

    format: ClassVar[str]

    def __init__(self, path: Path, segments: list[Path]) -> None:
        self.path = path
        self.segments = segments

    @property
    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def read(self, offset: int, size: int) -> bytes: ...

    def metadata(self) -> dict[str, Any]:
        """Container facts an examiner cites: acquisition headers, disk type, parents."""
        return {}

    def stored_hashes(self) -> dict[str, str]:
        """Hashes recorded by the acquisition tool inside the container (EWF)."""
        return {}

    def close(self) -> None:
        """Release file handles; safe to call twice."""

    def layer(self) -> Layer:
        return Layer(self.format, self.path.name)


# SQLite's companion files: a database's write-ahead log, rollback journal and WAL index. They travel
# with their database (a loose file, an extraction, a scratch copy), never as files of their own.
SIDECARS = ("-wal", "-journal", "-shm")


class Container(ABC):
    """One container format: recognises its files by content and opens them as :class:`Media`."""

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        """True when ``head`` (the first 4 KiB of ``path``) is this format."""

    @classmethod
    @abstractmethod
    def open(cls, path: Path) -> Media: ...


@dataclass(slots=True)
class Entry:
    """One item of the evidence tree, allocated or deleted, with everything ``ls`` prints."""

    path: str
    name: str
    type: str
    size: int
    deleted: bool
    locator: str
    inode: int | None = None
    address: str | None = None
    mtime: str | None = None
    atime: str | None = None
    ctime: str | None = None
    crtime: str | None = None
    mtime_s: int = 0
    atime_s: int = 0
    ctime_s: int = 0
    crtime_s: int = 0
    mode: int = 0
    uid: int = 0
    gid: int = 0
    link_target: str | None = None
    name_type: str = ""
    meta_type: str = ""
    ref: Any = field(default=None, repr=False, compare=False)


class FileSystem(ABC):
    """A mounted view of one filesystem (or logical tree), addressed by paths relative to its root."""

    fs_type: str

    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self._locator_text = str(locator) + SEPARATOR

    def entry_locator(self, kind: str, path: str, address: str | None = None) -> str:
        """The locator text of an entry of this filesystem (built as text: it is made for every entry)."""
        text = f"{self._locator_text}{kind}:{quote(path)}"
        return f"{text}#{quote(address)}" if address is not None else text

    @abstractmethod
    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        """Entries under ``path`` (a directory), deleted ones included; paths are relative to this fs."""

    @abstractmethod
    def lookup(self, path: str) -> Entry:
        """The entry at ``path``; allocated names win over deleted ones of the same name."""

    @abstractmethod
    def open(self, entry: Entry) -> io.RawIOBase:
        """The content of ``entry`` as a seekable read-only stream."""

    def by_inode(self, inode: int, stream: str | None = None) -> Entry:
        raise NotImplementedError(f"{self.fs_type} entries are not addressed by inode")

    def info(self) -> dict[str, Any]:
        return {"type": self.fs_type}

    def close(self) -> None:
        """Release handles."""


class ReadAtStream(io.RawIOBase):
    """A seekable stream over a ``read_at(offset, size)`` function, so callers use plain file APIs."""

    def __init__(self, read_at: Any, size: int) -> None:
        self._read_at = read_at
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        data = self._read_at(self._pos, want)
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        size = min(size, self._size - self._pos)
        if size <= 0:
            return b""
        data = self._read_at(self._pos, size)
        self._pos += len(data)
        return data

    @property
    def size(self) -> int:
        return self._size
