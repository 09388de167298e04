"""GPT read by evkit when The Sleuth Kit refuses it: one hostile entry must not hide the others.

TSK rejects a whole GUID partition table when one entry is out of range (a start LBA of 2^63, as a
damaged or planted table holds), and then sees only the protective MBR: the valid partitions
vanish. Here the header (UEFI 2.10, 5.3.2) and the entry array (5.3.3) are read with every number
range-checked against the media: entries that fit are returned, the others named in a note.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

SECTOR = 512
SIGNATURE = b"EFI PART"
MAX_ENTRIES = 1024        # the specification's minimum array is 128 entries; far more is not a GPT
MAX_ENTRY_SIZE = 4096


@dataclass(frozen=True)
class GptEntry:
    index: int            # 1-based, as gdisk numbers them
    first_lba: int
    last_lba: int
    type_guid: str
    name: str

    @property
    def offset(self) -> int:
        return self.first_lba * SECTOR

    @property
    def size(self) -> int:
        return (self.last_lba - self.first_lba + 1) * SECTOR


def read_gpt(read: Callable[[int, int], bytes], media_size: int) -> tuple[list[GptEntry], list[str]] | None:
    """The entries of the GPT at LBA 1 that lie inside the media, and notes on the others; None when
    there is no GPT header there."""
    header = read(SECTOR, SECTOR)
    if len(header) < 92 or header[:8] != SIGNATURE:
        return None
    notes: list[str] = []
    size = struct.unpack_from("<I", header, 12)[0]
    if 92 <= size <= SECTOR:
        stored = struct.unpack_from("<I", header, 16)[0]
        check = bytearray(header[:size])
        check[16:20] = b"\0\0\0\0"
        if zlib.crc32(bytes(check)) != stored:
            notes.append("GPT header checksum does not match (read anyway)")
    entries_lba, count, entry_size = struct.unpack_from("<QII", header, 72)
    sectors = media_size // SECTOR
    if not (2 <= entries_lba < sectors and 0 < count <= MAX_ENTRIES and 128 <= entry_size <= MAX_ENTRY_SIZE
            and entry_size % 8 == 0):
        notes.append(f"GPT entry array out of range (LBA {entries_lba}, {count} entries of {entry_size} bytes)")
        return [], notes
    raw = read(entries_lba * SECTOR, count * entry_size)
    if zlib.crc32(raw) != struct.unpack_from("<I", header, 88)[0]:
        notes.append("GPT entry array checksum does not match (read anyway)")
    out: list[GptEntry] = []
    for i in range(min(count, len(raw) // entry_size)):
        e = raw[i * entry_size:(i + 1) * entry_size]
        if e[:16] == b"\0" * 16:
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        if not (1 <= first <= last < sectors):
            notes.append(f"GPT entry {i + 1}: LBA {first}-{last} lies outside the media ({sectors} sectors); skipped")
            continue
        name = e[56:128].decode("utf-16-le", "replace").split("\0", 1)[0]
        out.append(GptEntry(i + 1, first, last, str(uuid.UUID(bytes_le=bytes(e[:16]))), name))
    return out, notes
