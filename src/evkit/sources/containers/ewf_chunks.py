"""Check the checksum of every chunk of an EWF-E01 image, as ``ewfverify`` does.

Why this exists: pyewf (libewf's Python binding) hands back zeros for a chunk whose
checksum fails and has no API that reports it, so a damaged chunk can go unnoticed,
and zeros read in place of a damaged chunk could even agree with a stored MD5 that
was itself computed over zeros. This module reads the segment files directly and checks
each chunk on its own: the adler32 that follows a stored (uncompressed) chunk, and the
zlib stream (whose trailer is an adler32) of a compressed chunk.

Scope is the EWF version 1 layout written by EnCase 1 to 7, linen 5 to 7, FTK Imager
and ``ewfacquire`` (``encase2`` ... ``encase7``, ``linen*``, ``ftk``, ``ewfx``): a 13-byte
file header, then sections chained by 76-byte descriptors. Chunks live in ``sectors``
sections (EnCase 2 and later) or inside the ``table`` section itself (EnCase 1); a
``table`` lists where each chunk starts. EWF2 (Ex01), logical evidence files (L01) and the
SMART / EWF-S01 layout are refused with :class:`EwfFormatError`.

Reading is streaming: only section descriptors, table entries and one chunk at a time
are read, so memory use does not grow with the segment size. The layout knowledge comes
from the libyal "Expert Witness Compression Format (EWF)" documentation.
"""

from __future__ import annotations

import bisect
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

EWF1_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
EWF2_SIGNATURE = b"EVF2\x0d\x0a\x81\x00"
LOGICAL_SIGNATURES = (b"LVF\x09\x0d\x0a\xff\x00", b"LEF2\x0d\x0a\x81\x00")

_FILE_HEADER = struct.Struct("<8sBHH")  # signature, fields start (1), segment number, fields end
_DESCRIPTOR = struct.Struct("<16sQQ40xI")  # type, next section offset, section size, adler32
_VOLUME_HEAD = struct.Struct("<B3xIIIQ")  # media type, chunks, sectors per chunk, bytes per sector, sectors
_TABLE_HEADER = struct.Struct("<I4xQ4xI")  # entries, base offset (EnCase 6+, else zero padding), adler32
_CHECKSUM = struct.Struct("<I")

_E01_VOLUME_SIZE = 1052  # volume/disk/data payload of EWF-E01; its adler32 covers the first 1048 bytes
_S01_VOLUME_SIZE = 94  # the ASR/SMART layout, which this verifier does not read
_GEOMETRY_SECTIONS = frozenset({"volume", "disk", "data"})
_END_SECTIONS = frozenset({"next", "done"})
_COMPRESSED = 0x80000000
_OFFSET_MASK = 0x7FFFFFFF
_BLOCK = 1 << 20  # read size for stored chunks and zlib input, bounds memory for huge chunks


class EwfFormatError(Exception):
    """The segment files are not a readable EWF-E01 set; the message names the file and why."""


@dataclass(frozen=True)
class ChunkError:
    """One chunk whose stored data does not match its checksum."""

    chunk: int  # chunk number across the whole media, 0-based
    segment: str  # segment file name (basename)
    offset: int  # byte offset of the chunk inside that segment file
    reason: str  # for people, e.g. "adler32 mismatch: ..." or "zlib stream corrupt: ..."


@dataclass
class ChunkReport:
    """Outcome of :func:`verify_chunks`: an empty ``errors`` means every chunk checked out."""

    chunks_checked: int
    errors: list[ChunkError]
    chunk_size: int
    media_size: int


@dataclass(frozen=True)
class _Section:
    kind: str
    offset: int
    end: int  # where the next section starts; equals offset for next/done


@dataclass(frozen=True)
class _Geometry:
    chunk_count: int
    chunk_size: int
    media_size: int
    set_identifier: bytes  # GUID that ties the segments of one acquisition together (zero if unset)


@dataclass(frozen=True)
class _Table:
    entries_offset: int
    count: int
    base: int


@dataclass
class _Segment:
    path: Path
    tables: list[_Table]
    areas: list[tuple[int, int]]  # [start, end) byte ranges that may hold chunk data


def verify_chunks(segments: list[Path], progress: Callable[[int], None] | None = None) -> ChunkReport:
    """Check every chunk of the EWF-E01 image made of ``segments`` (E01, E02, ... in order).

    The structure of all segments is read first (descriptors, volume, tables) so that a
    broken or incomplete set fails with :class:`EwfFormatError` before any chunk data is
    read. Damaged chunks do not stop the run: each becomes a :class:`ChunkError`.
    ``progress`` receives the number of media bytes verified so far, after each chunk.
    """
    if not segments:
        raise ValueError("verify_chunks needs at least one segment file")
    geometry: _Geometry | None = None
    scanned: list[_Segment] = []
    for position, path in enumerate(segments, start=1):
        segment, geometry = _scan_segment(path, position, position == len(segments), geometry)
        scanned.append(segment)
    if geometry is None:
        raise EwfFormatError(f"{segments[0].name}: no volume section, so the chunk size and media size are unknown")
    listed = sum(table.count for segment in scanned for table in segment.tables)
    if listed != geometry.chunk_count:
        raise EwfFormatError(
            f"{segments[0].name}: the volume section announces {geometry.chunk_count} chunks but the tables of "
            f"the {len(segments)} segment file(s) list {listed}; a segment file is missing or damaged"
        )

    errors: list[ChunkError] = []
    chunk = 0
    verified = 0
    for segment in scanned:
        with open(segment.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            for table in segment.tables:
                starts = _table_starts(f, segment.path.name, table)
                boundaries = sorted({start for start, _ in starts})
                for start, compressed in starts:
                    expected = min(geometry.chunk_size, geometry.media_size - chunk * geometry.chunk_size)
                    reason = _check_chunk(f, size, segment.areas, boundaries, start, compressed, expected)
                    if reason is not None:
                        errors.append(ChunkError(chunk, segment.path.name, start, reason))
                    chunk += 1
                    verified += expected
                    if progress is not None:
                        progress(verified)
    return ChunkReport(chunk, errors, geometry.chunk_size, geometry.media_size)


def segment_count(segments: list[Path]) -> int | None:
    """Number of segment files the set consists of, or None when this module cannot tell (EWF2).

    EWF1 stores no count; the segment that closes the set (its last section is ``done``)
    carries the highest segment number, so a gap such as E01 + E03 shows up as 3 against
    2 files given. If the last file given ends with ``next`` instead, the files after it
    are missing and :class:`EwfFormatError` says so.
    """
    if not segments:
        raise ValueError("segment_count needs at least one segment file")
    last = segments[-1]
    with open(last, "rb") as f:
        if f.read(len(EWF2_SIGNATURE)) == EWF2_SIGNATURE:
            return None
        size = os.fstat(f.fileno()).st_size
        number = _read_file_header(f, last.name, size)
        *_, end = _sections(f, last.name, size)
    if end.kind != "done":
        raise EwfFormatError(
            f"{last.name}: ends with a '{end.kind}' section, so segment file(s) after segment {number} are missing"
        )
    return number


def check_segments(segments: list[Path]) -> None:
    """Every segment's header and section chain, not only the last one's: a truncated *middle*
    segment otherwise opened, and a listing then silently lacked whole folders. Each file must be
    segment i of the set and end in ``next``, the last in ``done``; only section descriptors are read."""
    with open(segments[0], "rb") as f:
        if f.read(len(EWF2_SIGNATURE)) == EWF2_SIGNATURE:
            return
    for position, path in enumerate(segments, start=1):
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            number = _read_file_header(f, path.name, size)
            if number != position:
                raise EwfFormatError(f"{path.name}: is segment {number} of its set but was given as segment {position}; "
                                     f"segment file {position} is missing or the files are out of order")
            *_, end = _sections(f, path.name, size)
        want = "done" if position == len(segments) else "next"
        if end.kind != want and not (want == "next" and end.kind == "done"):
            raise EwfFormatError(f"{path.name}: ends with a '{end.kind}' section where '{want}' was expected")


def _scan_segment(
    path: Path, position: int, is_last: bool, geometry: _Geometry | None
) -> tuple[_Segment, _Geometry | None]:
    """Walk one segment's sections and collect its tables and chunk areas, checking all checksums on the way."""
    name = path.name
    segment = _Segment(path, [], [])
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        number = _read_file_header(f, name, size)
        if number != position:
            raise EwfFormatError(
                f"{name}: is segment {number} of its set but was given as segment {position}; "
                f"segment file {position} is missing or the files are out of order"
            )
        for section in _sections(f, name, size):
            if section.kind in _GEOMETRY_SECTIONS:
                found = _read_geometry(f, name, section)
                if geometry is None:
                    geometry = found
                elif found != geometry:
                    raise EwfFormatError(
                        f"{name}: its '{section.kind}' section at offset {section.offset} describes different media "
                        "than the first segment; the files do not belong to one image"
                    )
            elif section.kind == "sectors":
                segment.areas.append((section.offset + _DESCRIPTOR.size, section.end))
            elif section.kind == "table":
                if geometry is None:
                    raise EwfFormatError(
                        f"{name}: the table section at offset {section.offset} comes before any volume section"
                    )
                table = _read_table(f, name, section)
                segment.tables.append(table)
                # EnCase 1 keeps the chunks inside the table section, after the entries and their checksum.
                data_start = table.entries_offset + 4 * table.count + _CHECKSUM.size
                if data_start < section.end:
                    segment.areas.append((data_start, section.end))
            elif section.kind in _END_SECTIONS:
                _check_end(name, section, number, is_last)
    return segment, geometry


def _read_file_header(f: BinaryIO, name: str, size: int) -> int:
    """Check the signature and return the segment number; refuse the EWF variants this module does not read."""
    f.seek(0)
    head = f.read(_FILE_HEADER.size)
    if head.startswith(EWF2_SIGNATURE):
        raise EwfFormatError(f"{name}: is an EWF2 (Ex01) file; EWF2 (Ex01) is not supported by the chunk verifier")
    if head.startswith(LOGICAL_SIGNATURES):
        raise EwfFormatError(f"{name}: is an EWF logical evidence file (L01/Lx01), not supported by the chunk verifier")
    if size == 0:
        raise EwfFormatError(f"{name}: is empty (0 bytes), not an EWF segment file")
    if len(head) < _FILE_HEADER.size:
        raise EwfFormatError(
            f"{name}: is truncated: {size} bytes, shorter than the {_FILE_HEADER.size}-byte EWF file header"
        )
    signature, _, number, _ = _FILE_HEADER.unpack(head)
    if signature != EWF1_SIGNATURE:
        raise EwfFormatError(f"{name}: has no EWF signature (starts with {signature.hex()}), not an E01 segment file")
    return number


def _sections(f: BinaryIO, name: str, size: int) -> Iterator[_Section]:
    """Yield the sections of a segment in file order, ending with its ``next`` or ``done`` section.

    Each descriptor's adler32 is checked, and the chain must stay inside the file and move
    forward, so a truncated or garbled file ends in :class:`EwfFormatError`, never in a loop.
    """
    offset = _FILE_HEADER.size
    while True:
        if offset + _DESCRIPTOR.size > size:
            raise EwfFormatError(
                f"{name}: is truncated: the section descriptor at offset {offset} runs past the end of the file "
                f"({size} bytes), and no 'next' or 'done' section was found"
            )
        f.seek(offset)
        raw = f.read(_DESCRIPTOR.size)
        kind_raw, next_offset, section_size, checksum = _DESCRIPTOR.unpack(raw)
        kind = kind_raw.split(b"\0", 1)[0].decode("ascii", "replace")
        if zlib.adler32(raw[:72]) != checksum:
            raise EwfFormatError(
                f"{name}: the section descriptor at offset {offset} (type {kind!r}) fails its adler32 checksum"
            )
        if kind in _END_SECTIONS:
            yield _Section(kind, offset, offset)
            return
        if next_offset <= offset:
            raise EwfFormatError(
                f"{name}: the '{kind}' section at offset {offset} points back to offset {next_offset}; "
                "the chain of sections is broken"
            )
        if next_offset > size:
            raise EwfFormatError(
                f"{name}: is truncated: the '{kind}' section at offset {offset} extends to offset {next_offset}, "
                f"past the end of the file ({size} bytes)"
            )
        # A size of 0 means "not set" (Expert Witness 1.35); otherwise size and next offset must agree,
        # since a reader trusting only one of them could be shown a different image.
        if section_size not in (0, next_offset - offset):
            raise EwfFormatError(
                f"{name}: the '{kind}' section at offset {offset} has size {section_size} but the next section "
                f"starts {next_offset - offset} bytes later"
            )
        yield _Section(kind, offset, next_offset)
        offset = next_offset


def _check_end(name: str, section: _Section, number: int, is_last: bool) -> None:
    """A set is closed by ``done`` in its last segment and chained by ``next`` in every other one."""
    if is_last and section.kind == "next":
        raise EwfFormatError(
            f"{name}: ends with a 'next' section, so segment file(s) after segment {number} are missing"
        )
    if not is_last and section.kind == "done":
        raise EwfFormatError(
            f"{name}: ends the image with a 'done' section, yet more segment files were given after it"
        )


def _read_geometry(f: BinaryIO, name: str, section: _Section) -> _Geometry:
    """Read chunk and media size from a volume/disk/data section, after checking its adler32."""
    length = section.end - section.offset - _DESCRIPTOR.size
    if length == _S01_VOLUME_SIZE:
        raise EwfFormatError(
            f"{name}: uses the SMART / EWF-S01 volume layout, which is not supported by the chunk verifier"
        )
    if length < _E01_VOLUME_SIZE:
        raise EwfFormatError(
            f"{name}: the '{section.kind}' section at offset {section.offset} holds {length} bytes, "
            f"fewer than the {_E01_VOLUME_SIZE} of an E01 volume section"
        )
    data = _read_at(f, name, section.offset + _DESCRIPTOR.size, _E01_VOLUME_SIZE)
    (stored,) = _CHECKSUM.unpack_from(data, _E01_VOLUME_SIZE - 4)
    # Logicube Talon/Forensic Dossier leave this checksum 0 instead of computing it.
    if stored not in (0, zlib.adler32(data[: _E01_VOLUME_SIZE - 4])):
        raise EwfFormatError(
            f"{name}: the '{section.kind}' section at offset {section.offset} fails its adler32 checksum"
        )
    _, chunk_count, sectors_per_chunk, bytes_per_sector, sectors = _VOLUME_HEAD.unpack_from(data)
    chunk_size = sectors_per_chunk * bytes_per_sector
    media_size = sectors * bytes_per_sector
    if chunk_size == 0 or chunk_count != -(-media_size // chunk_size):
        raise EwfFormatError(
            f"{name}: the '{section.kind}' section is inconsistent: {chunk_count} chunks of {sectors_per_chunk} "
            f"sectors of {bytes_per_sector} bytes cannot hold {sectors} sectors"
        )
    return _Geometry(chunk_count, chunk_size, media_size, data[64:80])


def _read_table(f: BinaryIO, name: str, section: _Section) -> _Table:
    """Read a table header and check the adler32 of the header and of the entry array."""
    header_offset = section.offset + _DESCRIPTOR.size
    header = _read_at(f, name, header_offset, _TABLE_HEADER.size)
    count, base, checksum = _TABLE_HEADER.unpack(header)
    if zlib.adler32(header[:20]) != checksum:
        raise EwfFormatError(f"{name}: the table header at offset {header_offset} fails its adler32 checksum")
    table = _Table(header_offset + _TABLE_HEADER.size, count, base)
    if table.entries_offset + 4 * count + _CHECKSUM.size > section.end:
        raise EwfFormatError(
            f"{name}: the table at offset {section.offset} lists {count} entries, more than its section can hold"
        )
    entries = _read_at(f, name, table.entries_offset, 4 * count + _CHECKSUM.size)
    (stored,) = _CHECKSUM.unpack_from(entries, 4 * count)
    if zlib.adler32(entries[: 4 * count]) != stored:
        raise EwfFormatError(f"{name}: the entries of the table at offset {section.offset} fail their adler32 checksum")
    return table


def _table_starts(f: BinaryIO, name: str, table: _Table) -> list[tuple[int, bool]]:
    """(file offset, is compressed) of each chunk a table lists, in media order."""
    raw = _read_at(f, name, table.entries_offset, 4 * table.count)
    return [
        (table.base + (entry & _OFFSET_MASK), bool(entry & _COMPRESSED))
        for (entry,) in struct.iter_unpack("<I", raw)
    ]


def _check_chunk(
    f: BinaryIO,
    size: int,
    areas: list[tuple[int, int]],
    boundaries: list[int],
    start: int,
    compressed: bool,
    expected: int,
) -> str | None:
    """Why the chunk at ``start`` is bad, or None when it is intact.

    A chunk's stored length is not recorded: it runs to the next chunk of its table or to
    the end of the section that holds it, whichever comes first.
    """
    if start >= size:
        return f"chunk outside segment: offset {start} is past the end of the file ({size} bytes)"
    area_end = next((end for begin, end in areas if begin <= start < end), None)
    if area_end is None:
        return f"chunk outside the sectors data: offset {start} is not inside a section that holds chunks"
    following = bisect.bisect_right(boundaries, start)
    end = min(boundaries[following], area_end) if following < len(boundaries) else area_end
    if compressed:
        return _check_compressed(f, start, end - start, expected)
    return _check_stored(f, start, end - start, expected)


def _check_stored(f: BinaryIO, start: int, stored: int, expected: int) -> str | None:
    """An uncompressed chunk is its data followed by the little-endian adler32 of that data."""
    if stored < expected + _CHECKSUM.size:
        return f"chunk truncated: {stored} bytes stored, {expected + _CHECKSUM.size} needed"
    f.seek(start)
    computed = zlib.adler32(b"")
    left = expected
    while left:
        block = f.read(min(_BLOCK, left))
        if not block:
            return "chunk truncated: the file ended while reading it"
        computed = zlib.adler32(block, computed)
        left -= len(block)
    tail = f.read(_CHECKSUM.size)
    if len(tail) < _CHECKSUM.size:
        return "chunk truncated: the file ended before its checksum"
    (recorded,) = _CHECKSUM.unpack(tail)
    if recorded != computed:
        return f"adler32 mismatch: stored 0x{recorded:08x}, computed 0x{computed:08x}"
    return None


def _check_compressed(f: BinaryIO, start: int, stored: int, expected: int) -> str | None:
    """A compressed chunk is a zlib stream; zlib checks its adler32 trailer, we check the length."""
    inflater = zlib.decompressobj()
    produced = 0
    pending = b""
    left = stored
    f.seek(start)
    try:
        while not inflater.eof:
            if not pending:
                if left == 0:
                    return f"zlib stream truncated: the {stored} stored bytes end before the stream does"
                pending = f.read(min(_BLOCK, left))
                if not pending:
                    return "chunk truncated: the file ended while reading it"
                left -= len(pending)
            # Asking for one byte more than expected is enough to notice an oversized chunk.
            produced += len(inflater.decompress(pending, expected - produced + 1))
            if produced > expected:
                return f"decompressed size wrong: more than the {expected} bytes expected"
            pending = inflater.unconsumed_tail
    except zlib.error as exc:
        return f"zlib stream corrupt: {exc}"
    if produced != expected:
        return f"decompressed size wrong: {produced} bytes, {expected} expected"
    return None


def _read_at(f: BinaryIO, name: str, offset: int, length: int) -> bytes:
    """Read exactly ``length`` bytes of metadata; a short read means the file is truncated."""
    f.seek(offset)
    data = f.read(length)
    if len(data) != length:
        raise EwfFormatError(f"{name}: is truncated: {length} bytes needed at offset {offset}, {len(data)} available")
    return data
