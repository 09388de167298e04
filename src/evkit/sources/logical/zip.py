"""Zip archives (how many phone extractions arrive), read in place with the standard library."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Container
from evkit.sources.logical.archive import ArchiveTree


class Zip(Container):
    name = "zip"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or (head.startswith(b"PK\x07\x08") and zipfile.is_zipfile(path))

    @classmethod
    def open(cls, path: Path) -> ArchiveTree:  # type: ignore[override]
        try:
            zf = zipfile.ZipFile(path)
            members = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise EvidenceError(path, f"corrupt zip archive: {exc}") from exc

        def opener(info: Any) -> io.RawIOBase:
            try:
                return zf.open(info)  # type: ignore[return-value]
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise EvidenceError(path, f"cannot read member {info.filename!r}: {exc}") from exc

        tree = ArchiveTree("zip", path.name, opener)
        for index, info in enumerate(members):
            import calendar

            try:
                mtime = calendar.timegm((*info.date_time, 0, 0, 0))
            except (ValueError, OverflowError):
                mtime = 0
            mode = (info.external_attr >> 16) & 0o170000
            etype = "dir" if info.is_dir() else "link" if mode == 0o120000 else "file"
            tree.add(info.filename, etype, info.file_size, info, index, mtime)
        return tree
