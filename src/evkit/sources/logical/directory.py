"""A folder as evidence (an unpacked phone extraction, a mounted share). Symlinks are listed, never followed."""

from __future__ import annotations

import errno
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

    def _entry(self, rel: str, st: os.stat_result, dir_fd: int | None = None) -> Entry:
        """The entry for ``rel``; ``dir_fd`` is its parent folder, where a link's target is read."""
        etype = _type(st.st_mode)
        target = None
        if etype == "link" and dir_fd is not None:
            try:
                target = os.readlink(rel.rsplit("/", 1)[-1], dir_fd=dir_fd)
            except OSError:
                target = None
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

    def _parts(self, rel: str) -> list[str]:
        parts = [p for p in rel.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise NotFound(f"{names.escape(rel)}: '.' and '..' are not allowed in evidence paths")
        return parts

    def _dir_fd(self, rel: str) -> int:
        """A descriptor of the folder ``rel``, reached one component at a time without following
        any symbolic link, so a link inside the evidence never leads outside it."""
        parts = self._parts(rel)
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise EvidenceError(self.root, f"cannot open folder: {exc.strerror}") from exc
        done = ""
        for part in parts:
            done += "/" + part
            try:
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                os.close(fd)
                raise self._not_dir(done, exc) from exc
            os.close(fd)
            fd = nxt
        return fd

    def _not_dir(self, rel: str, exc: OSError) -> Exception:
        shown = names.escape(rel)
        if exc.errno in (errno.ENOENT,):
            return NotFound(f"{shown}: no such file in {self.root}")
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                parent = self._dir_fd(rel.rsplit("/", 1)[0])
                try:
                    is_link = stat.S_ISLNK(os.stat(rel.rsplit("/", 1)[-1], dir_fd=parent, follow_symlinks=False).st_mode)
                finally:
                    os.close(parent)
            except (OSError, NotFound):
                is_link = False
            if is_link:
                return NotFound(f"{shown} is a symbolic link; links in a folder source are listed, never followed")
            return NotFound(f"{shown} is not a folder")
        return EvidenceError(self.root, f"cannot open {shown}: {exc.strerror}")

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        top = self.lookup(path)
        if top.type != "dir":
            yield top
            return
        stack = [top.path if top.path != "/" else ""]
        while stack:
            rel = stack.pop()
            fd = self._dir_fd(rel)
            try:
                try:
                    with os.scandir(fd) as it:
                        items = sorted(it, key=lambda d: d.name)
                except OSError as exc:
                    raise EvidenceError(self.root, f"cannot list {names.escape(rel or '/')}: {exc.strerror}") from exc
                subdirs = []
                for d in items:
                    child = f"{rel}/{d.name}"
                    e = self._entry(child, d.stat(follow_symlinks=False), fd)
                    yield e
                    if recursive and e.type == "dir":
                        subdirs.append(child)
            finally:
                os.close(fd)
            stack.extend(reversed(subdirs))

    def lookup(self, path: str) -> Entry:
        parts = self._parts(path)
        rel = "/" + "/".join(parts)
        if not parts:
            fd = self._dir_fd("")
            try:
                e = self._entry("/", os.fstat(fd))
            finally:
                os.close(fd)
            e.name = ""
            return e
        fd = self._dir_fd("/".join(parts[:-1]))
        try:
            try:
                st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError as exc:
                raise NotFound(f"{names.escape(rel)}: no such file in {self.root}") from exc
            return self._entry(rel, st, fd)
        finally:
            os.close(fd)

    def open(self, entry: Entry) -> io.RawIOBase:
        if entry.type != "file":
            raise NotFound(f"{names.escape(entry.path)} is a {entry.type}, not a file")
        parts = self._parts(entry.path)
        parent = self._dir_fd("/".join(parts[:-1]))
        try:
            # O_NONBLOCK: should the file have been swapped for a FIFO, do not hang on it.
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
        except OSError as exc:
            raise self._not_dir(entry.path, exc) if exc.errno in (errno.ELOOP, errno.ENOENT) else \
                EvidenceError(self.root, f"cannot read {names.escape(entry.path)}: {exc.strerror}") from exc
        finally:
            os.close(parent)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotFound(f"{names.escape(entry.path)} is no longer a regular file")
        return io.FileIO(fd, "rb", closefd=True)


class Directory(Container):
    name = "dir"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return path.is_dir()

    @classmethod
    def open(cls, path: Path) -> DirectoryTree:  # type: ignore[override]
        return DirectoryTree(path)
