"""A folder as evidence (an unpacked phone extraction, a mounted share). Symlinks are listed, never followed."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evkit import names
from evkit.errors import EvidenceError, NotFound
from evkit.locator import Layer, Locator
from evkit.sources.base import Container, Entry, FileSystem
from evkit.timefmt import iso_utc


def _type(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


class DirectoryTree(FileSystem):
    fs_type = "dir"

    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(Locator((Layer("dir", root.name or str(root)),)))

    def info(self) -> dict[str, Any]:
        return {"type": "dir", "root": str(self.root)}

    def _entry(self, rel: str, st: os.stat_result) -> Entry:
        etype = _type(st.st_mode)
        target = None
        if etype == "link":
            target = os.readlink(self._host(rel))
        return Entry(
            path=rel, name=rel.rsplit("/", 1)[-1], type=etype, size=st.st_size if etype != "dir" else 0,
            deleted=False, locator=self.entry_locator("file", rel, str(st.st_ino)),
            inode=st.st_ino, address=str(st.st_ino),
            mtime=iso_utc(int(st.st_mtime_ns // 10**9), st.st_mtime_ns % 10**9),
            atime=iso_utc(int(st.st_atime_ns // 10**9), st.st_atime_ns % 10**9),
            ctime=iso_utc(int(st.st_ctime_ns // 10**9), st.st_ctime_ns % 10**9),
            mtime_s=int(st.st_mtime), atime_s=int(st.st_atime), ctime_s=int(st.st_ctime),
            mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid, link_target=target,
        )

    def _host(self, rel: str) -> str:
        parts = [p for p in rel.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise NotFound(f"{names.escape(rel)}: '.' and '..' are not allowed in evidence paths")
        return os.path.join(self.root, *parts)

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        top = self.lookup(path)
        if top.type != "dir":
            yield top
            return
        stack = [top.path if top.path != "/" else ""]
        while stack:
            rel = stack.pop()
            try:
                with os.scandir(self._host(rel or "/")) as it:
                    items = sorted(it, key=lambda d: d.name)
            except OSError as exc:
                raise EvidenceError(self.root, f"cannot list {names.escape(rel or '/')}: {exc.strerror}") from exc
            subdirs = []
            for d in items:
                child = f"{rel}/{d.name}"
                e = self._entry(child, d.stat(follow_symlinks=False))
                yield e
                if recursive and e.type == "dir":
                    subdirs.append(child)
            stack.extend(reversed(subdirs))

    def lookup(self, path: str) -> Entry:
        rel = "/" + "/".join(p for p in path.split("/") if p)
        try:
            st = os.lstat(self._host(rel))
        except FileNotFoundError as exc:
            raise NotFound(f"{names.escape(rel)}: no such file in {self.root}") from exc
        e = self._entry(rel if rel != "/" else "/", st)
        if rel == "/":
            e.name = ""
        return e

    def open(self, entry: Entry) -> io.RawIOBase:
        if entry.type != "file":
            raise NotFound(f"{names.escape(entry.path)} is a {entry.type}, not a file")
        fd = os.open(self._host(entry.path), os.O_RDONLY | os.O_NOFOLLOW)
        return io.FileIO(fd, "rb", closefd=True)


class Directory(Container):
    name = "dir"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return path.is_dir()

    @classmethod
    def open(cls, path: Path) -> DirectoryTree:  # type: ignore[override]
        return DirectoryTree(path)
