"""The tree of an archive (zip, tar), built from member names without ever following them.

Member names are evidence: ``..``, absolute paths, empty parts and NUL bytes are kept as literal
names (``/../etc/passwd`` is a folder literally called ``..`` holding ``etc``), so nothing is ever
resolved against the examiner's disk and every member stays visible.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from evkit import names
from evkit.errors import EvidenceError, NotFound
from evkit.locator import Layer, Locator
from evkit.sources.base import Entry, FileSystem
from evkit.timefmt import iso_utc

MAX_MEMBERS = 2_000_000


class ArchiveTree(FileSystem):
    def __init__(self, kind: str, label: str, opener: Callable[[Any], io.RawIOBase]) -> None:
        super().__init__(Locator((Layer(kind, label),)))
        self.fs_type = kind
        self._opener = opener
        self._children: dict[str, dict[str, Entry]] = {"/": {}}
        self._entries: dict[str, Entry] = {}
        self._count = 0

    def add(self, raw_name: str, etype: str, size: int, member: Any, index: int, mtime: int = 0,
            link_target: str | None = None) -> None:
        """Index one member; a repeated name is listed again as ``name (duplicate member N)``."""
        self._count += 1
        if self._count > MAX_MEMBERS:
            raise EvidenceError(self.locator, f"archive has more than {MAX_MEMBERS} members; refusing to index it")
        if raw_name.endswith("/"):
            etype = "dir"
        parts = [p for p in raw_name.split("/") if p != ""] or ["<empty name>"]
        parent = ""
        for part in parts[:-1]:
            parent = self._ensure_dir(parent, part)
        name = parts[-1]
        path = f"{parent}/{name}"
        existing = self._entries.get(path)
        if existing is not None:
            if etype == "dir" and existing.type == "dir":
                return
            base = name
            name = f"{base} (duplicate member {index})"
            n = 1
            while f"{parent}/{name}" in self._entries:  # a member may itself be called "x (duplicate member N)"
                n += 1
                name = f"{base} (duplicate member {index}, {n})"
            path = f"{parent}/{name}"
        e = Entry(path=path, name=name, type=etype, size=size if etype != "dir" else 0, deleted=False,
                  locator=self.entry_locator("member", path, str(index)), inode=index,
                  address=str(index), mtime=iso_utc(mtime), mtime_s=mtime, link_target=link_target,
                  ref=member)
        self._insert(parent, e)

    def _ensure_dir(self, parent: str, part: str) -> str:
        """The folder ``part`` of ``parent``; when a member that is not a folder already has that
        name (a file ``a`` and a member ``a/b``), the folder is ``a (folder)`` so both stay listed."""
        path = f"{parent}/{part}"
        n = 1
        while (existing := self._entries.get(path)) is not None and existing.type != "dir":
            n += 1
            path = f"{parent}/{part} (folder)" if n == 2 else f"{parent}/{part} (folder {n})"
        part = path.rsplit("/", 1)[1]
        if path not in self._entries:
            self._insert(parent, Entry(path=path, name=part, type="dir", size=0, deleted=False,
                                       locator=self.entry_locator("member", path)))
        return path

    def _insert(self, parent: str, e: Entry) -> None:
        self._entries[e.path] = e
        self._children.setdefault(parent or "/", {})[e.name] = e
        if e.type == "dir":
            self._children.setdefault(e.path, {})

    def info(self) -> dict[str, Any]:
        return {"type": self.fs_type, "members": self._count}

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        top = self.lookup(path)
        if top.type != "dir":
            yield top
            return
        stack = [iter(sorted(self._children.get(top.path, {}).items()))]
        while stack:
            try:
                _, e = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            yield e
            if recursive and e.type == "dir":
                stack.append(iter(sorted(self._children.get(e.path, {}).items())))

    def lookup(self, path: str) -> Entry:
        clean = "/" + "/".join(p for p in path.split("/") if p)
        if clean == "/":
            return Entry(path="/", name="", type="dir", size=0, deleted=False, locator=str(self.locator))
        e = self._entries.get(clean)
        if e is None:
            raise NotFound(f"{names.escape(clean)}: no such member in {self.locator}")
        return e

    def open(self, entry: Entry) -> io.RawIOBase:
        if entry.type != "file" or entry.ref is None:
            raise NotFound(f"{names.escape(entry.path)} is a {entry.type}, not a file")
        where = f"{self.locator}: member {names.escape(entry.path)}"
        try:
            return MemberStream(self._opener(entry.ref), where)
        except _DECODE_ERRORS as exc:
            raise EvidenceError(where, f"cannot be read: {_reason(exc)}") from exc


def _decode_errors() -> tuple[type[BaseException], ...]:
    import lzma
    import tarfile
    import zipfile
    import zlib

    return (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError)


_DECODE_ERRORS = _decode_errors()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text or exc.__class__.__name__


class MemberStream(io.RawIOBase):
    """A member's content stream whose decoding errors (bad CRC, truncated or corrupt compressed
    data) surface as :class:`EvidenceError`, the one-line error the CLI prints, not a traceback."""

    def __init__(self, inner: Any, where: str) -> None:
        self._inner = inner
        self._where = where

    def _fail(self, exc: BaseException) -> EvidenceError:
        return EvidenceError(self._where, f"content cannot be read: {_reason(exc)}")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        try:
            return bool(self._inner.seekable())
        except _DECODE_ERRORS:
            return False

    def read(self, size: int | None = -1) -> bytes:
        try:
            return self._inner.read(-1 if size is None else size)
        except EvidenceError:
            raise
        except _DECODE_ERRORS as exc:
            raise self._fail(exc) from exc

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return int(self._inner.seek(offset, whence))
        except EvidenceError:
            raise
        except _DECODE_ERRORS as exc:
            raise self._fail(exc) from exc

    def tell(self) -> int:
        return int(self._inner.tell())

    def close(self) -> None:
        try:
            self._inner.close()
        except _DECODE_ERRORS:
            pass
        super().close()
