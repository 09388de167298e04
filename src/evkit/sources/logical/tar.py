"""Tar archives, plain or gzip/bzip2/xz compressed (Android and iOS full-file-system dumps)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from pathlib import Path
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Container
from evkit.sources.logical.archive import ArchiveTree

_COMPRESSED = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_MAGICS = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00"}


def _compression(head: bytes) -> str | None:
    """The compression whose header starts ``head`` (gzip with deflate, bzip2 with a block size)."""
    if head[:3] == b"\x1f\x8b\x08":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return None


def _is_tar_block(block: bytes) -> bool:
    if len(block) < 512 or block[257:262] != b"ustar":
        return len(block) >= 512 and _checksum_ok(block)
    return True


def _checksum_ok(block: bytes) -> bool:
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 256 + sum(block[156:512])


class Tar(Container):
    name = "tar"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        """A tar, plain or compressed; any gzip/bzip2/xz file is claimed, so that one that is not a
        tar gets a clear error from :meth:`open` instead of being taken for a raw disk image."""
        if _compression(head):
            return True
        return _is_tar_block(head[:512])

    @classmethod
    def open(cls, path: Path) -> ArchiveTree:  # type: ignore[override]
        with open(path, "rb") as raw:
            head = raw.read(8)
        kind = _compression(head)
        if kind:
            try:
                with _COMPRESSED[_MAGICS[kind]](path, "rb") as fh:
                    first = fh.read(512)
            except (OSError, EOFError, lzma.LZMAError) as exc:
                raise EvidenceError(path, f"corrupt or truncated {kind} data: {exc}") from exc
            if not _is_tar_block(first):
                raise EvidenceError(path, f"{kind}-compressed data that is not a tar archive; evkit reads tar, "
                                          f"zip, folders and disk images: decompress it and open the result")
        try:
            tf = tarfile.open(path, "r:*")
            members = tf.getmembers()
        except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
            raise EvidenceError(path, f"corrupt or truncated tar archive: {exc}") from exc

        def opener(member: Any) -> io.RawIOBase:
            fh = tf.extractfile(member)
            if fh is None:
                raise EvidenceError(path, f"member {member.name!r} has no content")
            return fh  # type: ignore[return-value]

        tree = ArchiveTree("tar", path.name, opener)
        for index, m in enumerate(members):
            etype = "dir" if m.isdir() else "link" if m.issym() or m.islnk() else "file" if m.isfile() else "other"
            tree.add(m.name, etype, m.size, m if m.isfile() else None, index, int(m.mtime or 0),
                     link_target=m.linkname or None)
        return tree
