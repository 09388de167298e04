"""QEMU QCOW images (version 1, 2 and 3), decoded here, with backing files found beside the image.

The format is small enough to read directly, and doing so avoids a decoder that returned zeros for
part of some zlib-compressed clusters (libqcow 20260703, ``qemu-img convert -c``), i.e. silently
wrong media. Supported: compressed (zlib) clusters, zero clusters, extended L2 entries
(subclusters), backing chains whose members are QCOW or raw. Refused with a clear error:
encryption, external data files, zstd compression, unknown incompatible features.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from evkit.errors import EncryptedVolume, EvidenceError
from evkit.sources.base import Container, Media

MAGIC = b"QFI\xfb"
MAX_CHAIN = 32
_MAX_L1_BYTES = 32 * 1024 * 1024
_L2_CACHE = 64
_CLUSTER_CACHE = 16
_OFFSET_MASK = 0x00FF_FFFF_FFFF_FE00
_COMPRESSED_V2 = 1 << 62
_ZERO_V3 = 1
_INCOMPAT_DIRTY, _INCOMPAT_CORRUPT, _INCOMPAT_DATA_FILE, _INCOMPAT_COMPRESSION, _INCOMPAT_EXTL2 = (1 << i for i in range(5))
_KNOWN_INCOMPAT = (1 << 5) - 1
_EXT_BACKING_FORMAT = 0xE2792ACA
_CRYPT = {1: "AES", 2: "LUKS"}


MAX_OFFSET = 2**62  # far beyond any real file, well inside what pread accepts
MAX_READ = 2**31


class _Layer:
    """One file of a backing chain: a QCOW image, or a raw file at the bottom."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.size = 0
        self.parent: _Layer | None = None

    def pread(self, size: int, offset: int) -> bytes:
        """Bytes of this file at an offset read from the image's own tables: checked first, since a
        damaged or planted header can name any number (2^63 once ended every command in OverflowError)."""
        if not 0 <= offset < MAX_OFFSET or not 0 <= size <= MAX_READ:
            raise EvidenceError(self.path, f"the image points at offset {offset} (length {size}), which no file can hold: "
                                           "its header or tables are damaged")
        return os.pread(self.fd, size, offset)

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes of this layer's guest view at ``offset`` (zeros past its end)."""
        if offset >= self.size:
            return bytes(size)
        data = self.pread(min(size, self.size - offset), offset)
        return data.ljust(size, b"\0")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _QcowLayer(_Layer):
    def __init__(self, path: Path, fd: int) -> None:
        super().__init__(path, fd)
        self._lock = threading.Lock()
        self._l2: OrderedDict[int, bytes] = OrderedDict()
        self._clusters: OrderedDict[int, bytes] = OrderedDict()
        self.backing_name = ""
        self.backing_format = ""
        self.snapshots = 0
        self.flags: list[str] = []
        self._parse_header()

    def _fail(self, reason: str) -> EvidenceError:
        return EvidenceError(self.path, reason)

    def _parse_header(self) -> None:
        head = self.pread(4096, 0)
        if len(head) < 48 or head[:4] != MAGIC:
            raise self._fail("not a QCOW image (no QFI\\xfb signature)")
        self.version = struct.unpack_from(">I", head, 4)[0]
        backing_offset, backing_size = struct.unpack_from(">QI", head, 8)
        if self.version == 1:
            self.size, self.cluster_bits, self.l2_bits, crypt, self.l1_offset = struct.unpack_from(">QBBxxIQ", head, 24)
            self.l2_entry = 8
            self.extended_l2 = False
            if not 9 <= self.cluster_bits <= 16 or not 6 <= self.l2_bits <= 16:
                raise self._fail(f"damaged QCOW header: cluster bits {self.cluster_bits}, L2 bits {self.l2_bits}")
            self.l1_size = -(-self.size // (1 << (self.cluster_bits + self.l2_bits)))
            self.compression = "zlib"
        elif self.version in (2, 3):
            (self.cluster_bits, self.size, crypt, self.l1_size, self.l1_offset) = struct.unpack_from(">IQIIQ", head, 20)
            self.snapshots = struct.unpack_from(">I", head, 60)[0]
            incompat, header_length, compression_type = 0, 72, 0
            if self.version == 3:
                if len(head) < 104:
                    raise self._fail("damaged QCOW header: too short for version 3")
                incompat = struct.unpack_from(">Q", head, 72)[0]
                header_length = struct.unpack_from(">I", head, 100)[0]
                if header_length > 104:
                    compression_type = head[104]
            if not 9 <= self.cluster_bits <= 21:
                raise self._fail(f"damaged QCOW header: cluster bits {self.cluster_bits}")
            if incompat & ~_KNOWN_INCOMPAT:
                raise self._fail(f"QCOW image uses incompatible features this reader does not know (0x{incompat:x})")
            if incompat & _INCOMPAT_DATA_FILE:
                raise self._fail("QCOW image keeps its data in an external data file, which is not supported")
            self.flags = [n for bit, n in ((_INCOMPAT_DIRTY, "dirty"), (_INCOMPAT_CORRUPT, "corrupt")) if incompat & bit]
            self.extended_l2 = bool(incompat & _INCOMPAT_EXTL2)
            self.compression = {0: "zlib", 1: "zstd"}.get(compression_type, f"type {compression_type}")
            self.l2_entry = 16 if self.extended_l2 else 8
            self.l2_bits = self.cluster_bits - (4 if self.extended_l2 else 3)
            self._read_extensions(header_length)
        else:
            raise self._fail(f"QCOW version {self.version} is not supported")
        if crypt:
            raise EncryptedVolume(self.path, f"QCOW encryption ({_CRYPT.get(crypt, crypt)})", "the QCOW image")
        self.cluster_size = 1 << self.cluster_bits
        if self.l1_size * 8 > _MAX_L1_BYTES:
            raise self._fail(f"damaged QCOW header: L1 table of {self.l1_size} entries")
        if self.l1_size * (1 << (self.cluster_bits + self.l2_bits)) < self.size:
            raise self._fail("damaged QCOW header: its L1 table does not cover the media size")
        raw_l1 = self.pread(self.l1_size * 8, self.l1_offset)
        if len(raw_l1) != self.l1_size * 8:
            raise self._fail(f"truncated QCOW image: L1 table at offset {self.l1_offset} is past the end of the file")
        self.l1 = struct.unpack(f">{self.l1_size}Q", raw_l1)
        if self.compression != "zlib" and self._has_compressed_cluster():
            raise self._fail(f"QCOW image holds {self.compression}-compressed clusters, which are not supported")
        if backing_offset:
            name = self.pread(backing_size, backing_offset)
            if len(name) != backing_size or not 0 < backing_size <= 4096:
                raise self._fail("damaged QCOW header: unreadable backing file name")
            self.backing_name = name.decode("utf-8", "surrogateescape")

    def _has_compressed_cluster(self) -> bool:
        """Whether any cluster is stored compressed (checked up front only for compressions not read here)."""
        mask = _OFFSET_MASK if self.version > 1 else (1 << 63) - 1
        bit = (1 << 63) if self.version == 1 else _COMPRESSED_V2
        for l1_entry in self.l1:
            if l1_entry & mask:
                table = self._l2_table(l1_entry & mask)
                step = self.l2_entry
                if any(int.from_bytes(table[i : i + 8], "big") & bit for i in range(0, len(table), step)):
                    return True
        return False

    def _read_extensions(self, offset: int) -> None:
        for _ in range(64):
            raw = self.pread(8, offset)
            if len(raw) < 8:
                return
            kind, length = struct.unpack(">II", raw)
            if kind == 0:
                return
            if kind == _EXT_BACKING_FORMAT:
                self.backing_format = self.pread(length, offset + 8).decode("ascii", "replace")
            offset += 8 + ((length + 7) & ~7)

    # -- reading --------------------------------------------------------------------------
    def _l2_table(self, l2_offset: int) -> bytes:
        table = self._l2.get(l2_offset)
        if table is None:
            want = (1 << self.l2_bits) * self.l2_entry
            table = self.pread(want, l2_offset)
            if len(table) != want:
                raise self._fail(f"truncated QCOW image: L2 table at offset {l2_offset} is past the end of the file")
            self._l2[l2_offset] = table
            if len(self._l2) > _L2_CACHE:
                self._l2.popitem(last=False)
        return table

    def _entry(self, cluster: int) -> tuple[int, int]:
        """The L2 entry of guest cluster ``cluster`` and its subcluster bitmap (0 without extended L2)."""
        l1_index, l2_index = divmod(cluster, 1 << self.l2_bits)
        l2_offset = self.l1[l1_index] & (_OFFSET_MASK if self.version > 1 else (1 << 63) - 1)
        if not l2_offset:
            return 0, 0
        table = self._l2_table(l2_offset)
        if self.extended_l2:
            return struct.unpack_from(">QQ", table, l2_index * 16)
        return struct.unpack_from(">Q", table, l2_index * 8)[0], 0

    def _compressed(self, entry: int) -> tuple[int, int] | None:
        """Host offset and stored size of a compressed cluster, or None when not compressed."""
        if self.version == 1:
            if not entry & (1 << 63):
                return None
            shift = 63 - self.cluster_bits
            return entry & ((1 << shift) - 1), (entry >> shift) & (self.cluster_size - 1)
        if not entry & _COMPRESSED_V2:
            return None
        shift = 62 - (self.cluster_bits - 8)
        offset = entry & ((1 << shift) - 1)
        sectors = ((entry >> shift) & ((1 << (self.cluster_bits - 8)) - 1)) + 1
        return offset, sectors * 512 - (offset & 511)

    def _inflate(self, host: int, stored: int) -> bytes:
        cached = self._clusters.get(host)
        if cached is not None:
            return cached
        if self.compression != "zlib":
            raise self._fail(f"QCOW image uses {self.compression} compression, which is not supported")
        data = self.pread(stored, host)
        try:
            out = zlib.decompressobj(-15).decompress(data, self.cluster_size)
        except zlib.error as exc:
            raise self._fail(f"compressed cluster at offset {host} is damaged: {exc}") from exc
        if len(out) != self.cluster_size:
            raise self._fail(f"compressed cluster at offset {host} is damaged: {len(out)} of {self.cluster_size} bytes")
        self._clusters[host] = out
        if len(self._clusters) > _CLUSTER_CACHE:
            self._clusters.popitem(last=False)
        return out

    def _below(self, offset: int, size: int) -> bytes:
        return self.parent.read(offset, size) if self.parent is not None else bytes(size)

    def _host(self, host: int, size: int) -> bytes:
        data = self.pread(size, host)
        if len(data) != size:
            raise self._fail(f"truncated QCOW image: cluster data at offset {host} is past the end of the file")
        return data

    def _cluster_part(self, cluster: int, start: int, size: int) -> bytes:
        """``size`` bytes from ``start`` inside guest cluster ``cluster``."""
        guest = cluster * self.cluster_size + start
        entry, bitmap = self._entry(cluster)
        compressed = self._compressed(entry)
        if compressed is not None:
            return self._inflate(*compressed)[start : start + size]
        host = entry & (_OFFSET_MASK if self.version > 1 else (1 << 63) - 1)
        if not self.extended_l2:
            if self.version == 3 and entry & _ZERO_V3:
                return bytes(size)
            return self._host(host + start, size) if host else self._below(guest, size)
        sub_size = self.cluster_size // 32
        out = bytearray()
        pos = start
        while pos < start + size:
            sub = pos // sub_size
            n = min(start + size, (sub + 1) * sub_size) - pos
            if bitmap & (1 << sub) and host:
                out += self._host(host + pos, n)
            elif bitmap & (1 << (32 + sub)):
                out += bytes(n)
            else:
                out += self._below(cluster * self.cluster_size + pos, n)
            pos += n
        return bytes(out)

    def read(self, offset: int, size: int) -> bytes:
        size = max(0, min(size, self.size - offset))
        out = bytearray()
        with self._lock:
            while size > 0:
                cluster, start = divmod(offset, self.cluster_size)
                n = min(size, self.cluster_size - start)
                out += self._cluster_part(cluster, start, n)
                offset += n
                size -= n
        return bytes(out)


class QcowMedia(Media):
    format = "qcow"

    def __init__(self, path: Path, segments: list[Path], chain: list[_Layer]) -> None:
        super().__init__(path, segments)
        self._chain = chain
        self._top = chain[0]

    @property
    def size(self) -> int:
        return self._top.size

    def read(self, offset: int, size: int) -> bytes:
        if offset >= self._top.size or size <= 0:
            return b""
        return self._top.read(offset, min(size, self._top.size - offset))

    def metadata(self) -> dict[str, Any]:
        top = self._top
        assert isinstance(top, _QcowLayer)
        return {"version": top.version, "cluster_size": top.cluster_size, "compression": top.compression,
                "backing_files": [p.name for p in self.segments[1:]], "internal_snapshots": top.snapshots,
                "flags": top.flags}

    def close(self) -> None:
        for layer in self._chain:
            layer.close()


class Qcow(Container):
    name = "qcow"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head.startswith(MAGIC)

    @classmethod
    def open(cls, path: Path) -> Media:
        chain: list[_Layer] = []
        as_raw = False
        try:
            current = path
            while True:
                try:
                    fd = os.open(current, os.O_RDONLY)
                except OSError as exc:
                    raise EvidenceError(current, f"cannot read: {exc.strerror}") from exc
                if as_raw or os.pread(fd, 4, 0) != MAGIC:
                    raw = _Layer(current, fd)
                    raw.size = os.fstat(fd).st_size
                    chain.append(raw)
                    break
                try:
                    layer = _QcowLayer(current, fd)
                except BaseException:
                    os.close(fd)
                    raise
                chain.append(layer)
                if not layer.backing_name:
                    break
                backing = layer.backing_name
                if layer.backing_format and layer.backing_format not in ("qcow2", "qcow", "raw"):
                    raise EvidenceError(path, f"QCOW image's backing file {backing!r} is in {layer.backing_format} "
                                              "format; only QCOW and raw backing files are supported")
                nxt = current.parent / os.path.basename(backing)
                if not nxt.is_file():
                    raise EvidenceError(path, f"QCOW image needs its backing file {backing!r}, which is not next to {current.name}")
                if nxt in [c.path for c in chain] or len(chain) > MAX_CHAIN:
                    raise EvidenceError(path, f"QCOW backing chain loops or is longer than {MAX_CHAIN} at {nxt.name}")
                current = nxt
                as_raw = layer.backing_format == "raw"
        except BaseException:
            for c in chain:
                c.close()
            raise
        for child, parent in zip(chain, chain[1:]):
            child.parent = parent
        if chain[0].size == 0:
            for c in chain:
                c.close()
            raise EvidenceError(path, "QCOW image reports a media size of 0 bytes")
        return QcowMedia(path, [c.path for c in chain], chain)
