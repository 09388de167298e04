"""Signatures of encrypted volumes, so the error names the scheme instead of "unknown filesystem"."""

from __future__ import annotations

from collections.abc import Callable

ReadAt = Callable[[int, int], bytes]

# (scheme, offset inside the volume, signature)
SIGNATURES: tuple[tuple[str, int, bytes], ...] = (
    ("BitLocker", 3, b"-FVE-FS-"),
    ("LUKS", 0, b"LUKS\xba\xbe"),
    ("FileVault 2 (Core Storage)", 88, b"CS"),
)


def sniff(read_at: ReadAt, offset: int) -> str | None:
    """The encryption scheme whose signature sits at ``offset``, if any."""
    head = read_at(offset, 512)
    for scheme, where, magic in SIGNATURES:
        if head[where : where + len(magic)] == magic:
            if scheme.startswith("FileVault") and head[90:92] != b"\x01\x00":
                continue
            return scheme
    return None
