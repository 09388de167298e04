"""Zip archives (how many phone extractions arrive), read in place with the standard library."""

from __future__ import annotations

import calendar
import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

from evkit import names
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
        except zipfile.BadZipFile as exc:
            reason = str(exc)
            if reason == "File is not a zip file":
                reason = "no end of central directory record (truncated, or not a zip file)"
            raise EvidenceError(path, f"corrupt zip archive: {reason}") from exc
        except (OSError, ValueError, EOFError) as exc:
            raise EvidenceError(path, f"corrupt zip archive: {exc}") from exc

        def opener(info: Any) -> io.RawIOBase:
            try:
                return zf.open(info)  # type: ignore[return-value]
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise EvidenceError(path, f"cannot read member {info.filename!r}: {exc}") from exc

        tree = ArchiveTree("zip", path.name, opener)
        for index, info in enumerate(members):
            mode = (info.external_attr >> 16) & 0o170000
            # orig_filename keeps what follows a NUL byte, which zipfile cuts from ``filename``.
            name = info.orig_filename
            etype = "dir" if name.endswith("/") else "link" if mode == 0o120000 else "file"
            target = _link_target(zf, info) if etype == "link" else None
            tree.add(name, etype, info.file_size, info, index, member_mtime(info), link_target=target)
        return tree


def _link_target(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """A symbolic link member stores its target as its content (Info-ZIP convention)."""
    if info.file_size > 4096:
        return None
    try:
        return names.decode(zf.read(info))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error):
        return None


def member_mtime(info: zipfile.ZipInfo) -> int:
    """Modification time in seconds since the epoch, UTC.

    The DOS date/time fields have no time zone (they are the creating machine's local time), so
    the UTC times of the extended-timestamp (``UT``, 0x5455) or NTFS (0x000a) extra fields win
    when present; the DOS fields are the fallback, read as if they were UTC.
    """
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag = int.from_bytes(extra[pos : pos + 2], "little")
        size = int.from_bytes(extra[pos + 2 : pos + 4], "little")
        data = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag == 0x5455 and len(data) >= 5 and data[0] & 1:
            return int.from_bytes(data[1:5], "little", signed=True)
        if tag == 0x000A and len(data) >= 8:
            sub = 4
            while sub + 4 <= len(data):
                stag = int.from_bytes(data[sub : sub + 2], "little")
                ssize = int.from_bytes(data[sub + 2 : sub + 4], "little")
                if stag == 1 and ssize >= 8 and sub + 12 <= len(data):
                    filetime = int.from_bytes(data[sub + 4 : sub + 12], "little")
                    if filetime:
                        return filetime // 10_000_000 - 11_644_473_600
                sub += 4 + ssize
    try:
        return calendar.timegm((*info.date_time, 0, 0, 0))
    except (ValueError, OverflowError):
        return 0
