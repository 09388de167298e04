"""Microsoft VHD (fixed, dynamic, differencing) and VHDX through pyvhdi; parents are found beside the child.

A VHD differencing disk says, per sector, whether the child or its parent holds the data (a
bitmap before each block). libvhdi misreads bitmap bytes whose sectors are only partly present in
the child (it returns the child's zeros for sectors the parent holds), so the sectors of VHD
differencing disks are chosen here, from the child's own block table and bitmaps, with pyvhdi
still opening and describing every disk of the chain.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path, PureWindowsPath
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Container, Media
from evkit.sources.containers.chain import parent_problem
from evkit.sources.containers.libyal import LibyalMedia, first_line

DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differential"}
MAX_CHAIN = 32


class VhdMedia(LibyalMedia):
    format = "vhd"

    def __init__(self, path: Path, segments: list[Path], handle: Any, keep: list[Any] | None = None) -> None:
        super().__init__(path, segments, handle, keep)
        try:
            self._diffs = _chain_readers(segments, [handle, *(keep or [])])
        except (OSError, struct.error, ValueError) as exc:
            self.close()
            raise EvidenceError(path, f"cannot read the differencing VHD: {first_line(exc)}") from exc

    def read(self, offset: int, size: int) -> bytes:
        if not self._diffs:
            return super().read(offset, size)
        size = max(0, min(size, self._size - offset))
        try:
            return self._diffs[0].read(offset, size)
        except (OSError, struct.error, ValueError) as exc:
            raise EvidenceError(self.path, f"read error at offset {offset}: {first_line(exc)}") from exc

    def close(self) -> None:
        super().close()
        for reader in getattr(self, "_diffs", []):
            reader.close()
        self._diffs = []

    def metadata(self) -> dict[str, Any]:
        h = self._handle
        return {
            "disk_type": DISK_TYPES.get(h.get_disk_type(), h.get_disk_type()),
            "vhd_format_version": h.get_format_version(),
            "parents": [str(p.name) for p in self.segments[1:]],
        }


class VhdxMedia(LibyalMedia):
    """A VHDX (Hyper-V, 2012+) disk: read by libvhdi alone, reported under its own name."""

    format = "vhdx"
    metadata = VhdMedia.metadata


class Vhd(Container):
    name = "vhd"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        if head.startswith((b"vhdxfile", b"conectix")):
            return True
        size = path.stat().st_size
        if size < 512:
            return False
        with open(path, "rb") as fh:
            fh.seek(size - 512)
            return fh.read(8) == b"conectix"

    @classmethod
    def open(cls, path: Path) -> Media:
        import pyvhdi

        chain: list[Any] = []
        segments: list[Path] = []
        current = path
        while True:
            handle = pyvhdi.file()
            try:
                handle.open(str(current))
            except OSError as exc:
                for h in chain:
                    h.close()
                raise EvidenceError(current, f"cannot open VHD: {first_line(exc)}") from exc
            chain.append(handle)
            segments.append(current)
            if handle.get_disk_type() != 4:
                break
            recorded = handle.get_parent_filename()
            parent = _find_parent(current, recorded)
            if parent is None or len(chain) > MAX_CHAIN or parent in segments:
                for h in chain:
                    h.close()
                raise EvidenceError(path, parent_problem("VHD", recorded, current, parent, segments, len(chain) > MAX_CHAIN))
            current = parent
        for child, parent_handle in zip(chain, chain[1:]):
            child.set_parent(parent_handle)
        with open(path, "rb") as fh:
            cls_media = VhdxMedia if fh.read(8) == b"vhdxfile" else VhdMedia
        return cls_media(path, segments, chain[0], keep=chain[1:])


def _find_parent(child: Path, recorded: str | None) -> Path | None:
    if not recorded:
        return None
    name = PureWindowsPath(recorded).name if "\\" in recorded else os.path.basename(recorded)
    candidate = child.parent / name
    return candidate if candidate.is_file() else None


MAX_BLOCK = 256 * 1024 * 1024


class _Differencing:
    """Reads one VHD differencing disk: sectors its bitmaps mark come from it, the rest from ``parent``."""

    def __init__(self, path: Path, parent: Callable[[int, int], bytes]) -> None:
        self._fh = open(path, "rb")
        try:
            self._read_header(path)
        except BaseException:
            self._fh.close()
            raise
        self.parent = parent
        self._bitmaps: dict[int, bytes] = {}

    def _read_header(self, path: Path) -> None:
        head = self._at(512, 1024) if self._at(0, 8) == b"conectix" else b""
        if head[:8] != b"cxsparse":
            foot = self._at(os.path.getsize(path) - 512, 512)
            head = self._at(struct.unpack(">Q", foot[16:24])[0], 1024)
        if head[:8] != b"cxsparse":
            raise ValueError("no dynamic disk header")
        table, entries, block = struct.unpack(">QxxxxII", head[16:36])
        if block < 512 or block > MAX_BLOCK or block & (block - 1):
            raise ValueError(f"implausible block size {block}")
        self._block = block
        self._bitmap_len = -(-block // 512 // 8 // 512) * 512
        raw = self._at(table, entries * 4)
        if len(raw) != entries * 4:
            raise ValueError("block allocation table is truncated")
        self._bat = struct.unpack(f">{entries}I", raw)

    def _at(self, offset: int, size: int) -> bytes:
        self._fh.seek(offset)
        return self._fh.read(size)

    def close(self) -> None:
        self._fh.close()

    def _bitmap(self, sector: int) -> bytes:
        bitmap = self._bitmaps.get(sector)
        if bitmap is None:
            if len(self._bitmaps) > 1024:
                self._bitmaps.clear()
            bitmap = self._at(sector * 512, self._bitmap_len)
            if len(bitmap) != self._bitmap_len:
                raise ValueError("sector bitmap is truncated")
            self._bitmaps[sector] = bitmap
        return bitmap

    def read(self, offset: int, size: int) -> bytes:
        out = bytearray()
        end = offset + size
        while offset < end:
            index, within = divmod(offset, self._block)
            n = min(end - offset, self._block - within)
            entry = self._bat[index] if index < len(self._bat) else 0xFFFFFFFF
            if entry == 0xFFFFFFFF:
                out += self.parent(offset, n)
            else:
                out += self._from_block(entry, offset - within, within, n)
            offset += n
        return bytes(out)

    def _from_block(self, entry: int, base: int, within: int, n: int) -> bytes:
        """Runs of sectors present in the child or not, each read from where it is."""
        bitmap = self._bitmap(entry)
        data = entry * 512 + self._bitmap_len
        out = bytearray()
        pos, stop = within, within + n
        while pos < stop:
            here = _present(bitmap, pos // 512)
            run_end = min(stop, (pos // 512 + 1) * 512)
            while run_end < stop and _present(bitmap, run_end // 512) == here:
                run_end = min(stop, run_end + 512)
            chunk = self._at(data + pos, run_end - pos) if here else self.parent(base + pos, run_end - pos)
            if len(chunk) != run_end - pos:
                raise ValueError("data block is truncated")
            out += chunk
            pos = run_end
        return bytes(out)


def _present(bitmap: bytes, sector: int) -> bool:
    """Whether the child holds ``sector`` of a block (its bit set, most significant bit first)."""
    return bool(bitmap[sector >> 3] & (0x80 >> (sector & 7)))


def _chain_readers(segments: list[Path], handles: list[Any]) -> list[_Differencing]:
    """Readers for the VHD differencing disks at the top of the chain, the topmost first.

    Below the last of them, libvhdi reads its parent (and that parent's own parents) itself.
    """
    count = 0
    while count < len(segments) and handles[count].get_disk_type() == 4 and _is_vhd(segments[count]):
        count += 1
    readers: list[_Differencing] = []
    if not count:
        return readers
    parent = _libvhdi_reader(handles[count])  # opening the chain found a parent for each of them
    try:
        for path in reversed(segments[:count]):
            readers.insert(0, _Differencing(path, parent))
            parent = readers[0].read
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers


def _libvhdi_reader(handle: Any) -> Callable[[int, int], bytes]:
    return lambda offset, size: handle.read_buffer_at_offset(size, offset)


def _is_vhd(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8) != b"vhdxfile"
