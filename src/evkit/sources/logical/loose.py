"""A single file as evidence: a loose copy of ``msgstore.db`` (with its ``-wal`` beside it), a
``History`` file handed over by another lab, a photo.

Examiners receive databases on their own all the time. Any regular file that is neither a
recognised container nor an archive, and does not look like a disk image, is a logical source of
one file; its SQLite sidecars (``-wal``, ``-journal``, ``-shm``) lying beside it travel with it, so
the scratch copy a profile reads includes them. Each entry's locator is ``file:NAME``.

A file that looks like a disk image (an image's name, a boot sector or partition table) and whose
volumes or filesystems cannot be read is *not* opened this way: that stays an error saying what it
looked like, because silently listing a broken image as one opaque file would hide the failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from evkit import names
from evkit.errors import NotFound
from evkit.locator import Layer, Locator
from evkit.sources.base import SIDECARS, Entry
from evkit.sources.logical.directory import DirectoryTree

IMAGE_SUFFIXES = (".e01", ".ex01", ".s01", ".l01", ".lx01", ".aff", ".aff4", ".raw", ".dd", ".img", ".ima", ".bin",
                  ".iso", ".dmg", ".vmdk", ".vhd", ".vhdx", ".vdi", ".qcow", ".qcow2", ".000", ".001", ".aa")


def looks_like_disk(path: Path, head: bytes) -> str | None:
    """Why ``path`` looks like a disk image (so a failure to read it must be reported), or None."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return f"its name ends in {suffix}, as disk images do"
    if len(head) >= 512 and head[510:512] == b"\x55\xaa":
        return "it has a boot-sector signature (55 AA at offset 510)"
    if head[512:520] == b"EFI PART":
        return "it has a GPT header at offset 512"
    return None


class LooseFiles(DirectoryTree):
    """One file and the SQLite sidecars beside it, at the root of a tree of their own."""

    fs_type = "file"

    def __init__(self, path: Path) -> None:
        super().__init__(path.parent)
        self.locator = Locator((Layer("file", path.name),))
        self.file = path.name
        self.files = [n for n in (path.name, *(path.name + s for s in SIDECARS)) if (path.parent / n).is_file()]

    def info(self) -> dict[str, object]:
        return {"type": "file", "file": str(self.root / self.file), "with": self.files[1:]}

    def entry_locator(self, kind: str, path: str, address: str | None = None) -> str:
        return str(Layer("file", path.lstrip("/")))

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        top = self.lookup(path)
        if top.type != "dir":
            yield top
            return
        for name in self.files:
            yield self.lookup("/" + name)

    def lookup(self, path: str) -> Entry:
        parts = self._parts(path)
        if parts and (len(parts) != 1 or parts[0] not in self.files):
            raise NotFound(f"{names.escape(path)}: no such file in the loose file {names.escape(self.file)}")
        return super().lookup(path)


class LooseFile:
    """The logical-source class of a loose file: opened by ``open_source`` as the last resort."""

    name = "file"

    @classmethod
    def open(cls, path: Path) -> LooseFiles:
        return LooseFiles(path)
