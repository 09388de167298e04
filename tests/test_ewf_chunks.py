"""Tests for the EWF chunk verifier.

Images are built at test time with ``ewfacquire`` from a seeded raw file, then damaged in
copies. Damaged spots are located by searching the raw data (or its zlib stream) in the
segment files, not through the module under test, and ``ewfverify`` is asked to confirm
that each damaged set is indeed bad, so the verifier is checked against libewf itself.
"""

from __future__ import annotations

import math
import random
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from evkit.sources.containers.ewf_chunks import EwfFormatError, segment_count, verify_chunks

CHUNK = 32768  # ewfacquire default: 64 sectors of 512 bytes
FULL_CHUNKS = 96
TAIL = 5 * 512  # the last chunk is partial, to check the remainder length
RANDOM_CHUNKS = (0, 70, FULL_CHUNKS)  # first, in a later segment when split, and the partial last one
PATTERN_CHUNK = 71  # compressible but unique, so its zlib stream can be found in the image

Builder = Callable[..., list[Path]]


def _chunk_content(index: int, rng: random.Random) -> bytes:
    """Random chunks are incompressible, so ewfacquire stores them with an adler32; the rest compress."""
    if index % 7 == 3:
        return bytes(CHUNK)
    if index % 11 == 5:
        return (f"chunk {index:04d} pattern ".encode() * (CHUNK // 10))[:CHUNK]
    return rng.randbytes(CHUNK)


@pytest.fixture(scope="session")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(20240611)
    path = tmp_path_factory.mktemp("raw") / "media.raw"
    path.write_bytes(b"".join(_chunk_content(i, rng) for i in range(FULL_CHUNKS)) + rng.randbytes(TAIL))
    return path


@pytest.fixture(scope="session")
def build(raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Builder:
    """Build (once per session) an image and return its segment files in order."""
    if shutil.which("ewfacquire") is None or shutil.which("ewfverify") is None:
        pytest.skip("ewf-tools (ewfacquire, ewfverify) is not installed")
    cache: dict[tuple[str, bool, str], list[Path]] = {}

    def make(compression: str, split: bool, fmt: str = "encase6") -> list[Path]:
        key = (compression, split, fmt)
        if key not in cache:
            target = tmp_path_factory.mktemp(f"{fmt}-{compression}-{'split' if split else 'single'}") / "image"
            size = ["-S", "1MiB"] if split else []
            subprocess.run(
                ["ewfacquire", "-u", "-q", "-t", str(target), "-c", compression, "-f", fmt, *size, str(raw)],
                check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
            )
            cache[key] = sorted(p for p in target.parent.iterdir() if p.name != "image")
            assert len(cache[key]) > 1 if split else len(cache[key]) == 1
        return cache[key]

    return make


def _copy(segments: list[Path], dest: Path) -> list[Path]:
    return [Path(shutil.copy(p, dest / p.name)) for p in segments]


def _locate(segments: list[Path], needle: bytes) -> tuple[Path, int]:
    """The one segment file and offset where ``needle`` is stored."""
    hits = [(p, p.read_bytes().find(needle)) for p in segments]
    hits = [(p, at) for p, at in hits if at >= 0]
    assert len(hits) == 1, f"expected the bytes in exactly one segment, found {hits}"
    return hits[0]


def _patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def _flip(path: Path, offset: int) -> None:
    with open(path, "rb") as f:
        f.seek(offset)
        byte = f.read(1)[0]
    _patch(path, offset, bytes([byte ^ 0x5A]))


def _ewfverify_ok(segments: list[Path]) -> bool:
    result = subprocess.run(
        ["ewfverify", "-q", str(segments[0])], stdin=subprocess.DEVNULL, capture_output=True, timeout=120
    )
    return result.returncode == 0


def _raw_chunk(raw: Path, index: int) -> bytes:
    with open(raw, "rb") as f:
        f.seek(index * CHUNK)
        return f.read(CHUNK)


IMAGES = [("none", False), ("none", True), ("best", False), ("best", True)]
IMAGE_IDS = ["none-single", "none-split", "best-single", "best-split"]


@pytest.mark.parametrize(("compression", "split"), IMAGES, ids=IMAGE_IDS)
def test_clean_image_has_no_errors(build: Builder, raw: Path, compression: str, split: bool) -> None:
    segments = build(compression, split)
    seen: list[int] = []
    report = verify_chunks(segments, progress=seen.append)
    media = raw.stat().st_size
    assert report.errors == []
    assert report.chunks_checked == math.ceil(media / CHUNK) == FULL_CHUNKS + 1
    assert (report.chunk_size, report.media_size) == (CHUNK, media)
    assert seen == sorted(seen) and seen[-1] == media and len(seen) == report.chunks_checked
    assert segment_count(segments) == len(segments)
    assert _ewfverify_ok(segments)


@pytest.mark.parametrize("chunk", RANDOM_CHUNKS)
@pytest.mark.parametrize(("compression", "split"), IMAGES, ids=IMAGE_IDS)
def test_flipped_byte_in_uncompressed_chunk(
    build: Builder, raw: Path, tmp_path: Path, compression: str, split: bool, chunk: int
) -> None:
    segments = _copy(build(compression, split), tmp_path)
    segment, offset = _locate(segments, _raw_chunk(raw, chunk)[:64])
    _flip(segment, offset + 1000)
    (error,) = verify_chunks(segments).errors
    assert (error.chunk, error.segment, error.offset) == (chunk, segment.name, offset)
    assert error.reason.startswith("adler32 mismatch")
    assert not _ewfverify_ok(segments)


@pytest.mark.parametrize("split", [False, True], ids=["single", "split"])
def test_flipped_byte_in_compressed_chunk(build: Builder, raw: Path, tmp_path: Path, split: bool) -> None:
    segments = _copy(build("best", split), tmp_path)
    stream = zlib.compress(_raw_chunk(raw, PATTERN_CHUNK), 9)  # libewf "best" is zlib level 9
    segment, offset = _locate(segments, stream)
    _flip(segment, offset + len(stream) // 2)
    (error,) = verify_chunks(segments).errors
    assert (error.chunk, error.segment, error.offset) == (PATTERN_CHUNK, segment.name, offset)
    assert not _ewfverify_ok(segments)


@pytest.mark.parametrize("split", [False, True], ids=["single", "split"])
def test_overwritten_compressed_payload(build: Builder, raw: Path, tmp_path: Path, split: bool) -> None:
    segments = _copy(build("best", split), tmp_path)
    stream = zlib.compress(_raw_chunk(raw, PATTERN_CHUNK), 9)
    segment, offset = _locate(segments, stream)
    _patch(segment, offset + 2, b"\xff" * (len(stream) - 2))  # keep the zlib header, ruin the deflate data
    (error,) = verify_chunks(segments).errors
    assert (error.chunk, error.offset) == (PATTERN_CHUNK, offset)
    assert error.reason.startswith("zlib stream corrupt")
    assert not _ewfverify_ok(segments)


def test_compressed_chunk_of_wrong_length(build: Builder, raw: Path, tmp_path: Path) -> None:
    """A sound zlib stream still fails when it does not inflate to a whole chunk."""
    segments = _copy(build("best", True), tmp_path)
    segment, offset = _locate(segments, zlib.compress(_raw_chunk(raw, PATTERN_CHUNK), 9))
    _patch(segment, offset, zlib.compress(b"x" * 1000, 9))
    (error,) = verify_chunks(segments).errors
    assert (error.chunk, error.offset) == (PATTERN_CHUNK, offset)
    assert error.reason == f"decompressed size wrong: 1000 bytes, {CHUNK} expected"
    assert not _ewfverify_ok(segments)


def test_every_damaged_chunk_is_reported_in_order(build: Builder, raw: Path, tmp_path: Path) -> None:
    segments = _copy(build("none", True), tmp_path)
    for chunk in reversed(RANDOM_CHUNKS):
        segment, offset = _locate(segments, _raw_chunk(raw, chunk)[:64])
        _flip(segment, offset + 7)
    report = verify_chunks(segments)
    assert [e.chunk for e in report.errors] == list(RANDOM_CHUNKS)
    assert report.chunks_checked == FULL_CHUNKS + 1


@pytest.mark.parametrize("split", [False, True], ids=["single", "split"])
def test_truncated_segment(build: Builder, tmp_path: Path, split: bool) -> None:
    segments = _copy(build("best", split), tmp_path)
    victim = segments[-1]
    with open(victim, "r+b") as f:
        f.truncate(victim.stat().st_size // 2)
    with pytest.raises(EwfFormatError, match=rf"^{victim.name}: is truncated"):
        verify_chunks(segments)
    assert not _ewfverify_ok(segments)


def test_missing_second_segment(build: Builder, tmp_path: Path) -> None:
    segments = _copy(build("best", True), tmp_path)
    assert len(segments) == 3
    segments[1].unlink()
    remaining = [segments[0], segments[2]]
    with pytest.raises(EwfFormatError, match=rf"{segments[2].name}: is segment 3 .* segment file 2 is missing"):
        verify_chunks(remaining)
    with pytest.raises(EwfFormatError, match=rf"{segments[0].name}: ends with a 'next' section.* missing"):
        verify_chunks(segments[:1])
    assert segment_count(remaining) == 3
    with pytest.raises(EwfFormatError, match="missing"):
        segment_count(segments[:1])
    assert not _ewfverify_ok(remaining)


def test_damaged_section_descriptor(build: Builder, tmp_path: Path) -> None:
    segments = _copy(build("best", True), tmp_path)
    _flip(segments[1], 13 + 40)  # padding of the first descriptor, after the 13-byte file header
    with pytest.raises(EwfFormatError, match=rf"^{segments[1].name}: the section descriptor at offset 13 .* checksum"):
        verify_chunks(segments)


def test_section_size_disagreeing_with_next_offset(build: Builder, tmp_path: Path) -> None:
    segments = _copy(build("best", True), tmp_path)
    descriptor = bytearray(segments[1].read_bytes()[13 : 13 + 76])  # E02 starts with its 'data' section
    (size,) = struct.unpack_from("<Q", descriptor, 24)
    struct.pack_into("<Q", descriptor, 24, size + 1)
    struct.pack_into("<I", descriptor, 72, zlib.adler32(bytes(descriptor[:72])))
    _patch(segments[1], 13, bytes(descriptor))
    message = rf"^{segments[1].name}: the 'data' section at offset 13 has size {size + 1} but"
    with pytest.raises(EwfFormatError, match=message):
        verify_chunks(segments)


def test_damaged_table_entries(build: Builder, tmp_path: Path) -> None:
    """Stricter than libewf, which falls back to the table2 copy: a damaged table is reported, not hidden."""
    segments = _copy(build("best", True), tmp_path)
    table = segments[1].read_bytes().index(b"table" + bytes(11))  # the descriptor type, NUL padded to 16 bytes
    _flip(segments[1], table + 76 + 24 + 1)  # first entry, after the descriptor and the 24-byte table header
    with pytest.raises(EwfFormatError, match=rf"^{segments[1].name}: the entries of the table .* adler32 checksum"):
        verify_chunks(segments)


def _drop_last_chunk_from_geometry(path: Path, descriptor: int) -> None:
    """Rewrite a volume/data section (with a valid checksum) so that it describes one chunk less."""
    with open(path, "rb") as f:
        f.seek(descriptor + 76)
        payload = bytearray(f.read(1052))
    chunks, sectors_per_chunk, bytes_per_sector, sectors = struct.unpack_from("<IIIQ", payload, 4)
    struct.pack_into("<IIIQ", payload, 4, chunks - 1, sectors_per_chunk, bytes_per_sector, sectors - sectors_per_chunk)
    struct.pack_into("<I", payload, 1048, zlib.adler32(bytes(payload[:1048])))
    _patch(path, descriptor + 76, bytes(payload))


def test_chunk_count_must_match_the_tables(build: Builder, tmp_path: Path) -> None:
    segments = _copy(build("best", True), tmp_path)
    _drop_last_chunk_from_geometry(segments[0], segments[0].read_bytes().index(b"volume" + bytes(10)))
    for later in segments[1:]:
        _drop_last_chunk_from_geometry(later, 13)
    expected = f"announces {FULL_CHUNKS} chunks but the tables of the 3 segment file\\(s\\) list {FULL_CHUNKS + 1}"
    with pytest.raises(EwfFormatError, match=expected):
        verify_chunks(segments)


def test_segments_of_different_media(build: Builder, tmp_path: Path) -> None:
    segments = _copy(build("best", True), tmp_path)
    _drop_last_chunk_from_geometry(segments[0], segments[0].read_bytes().index(b"volume" + bytes(10)))
    with pytest.raises(EwfFormatError, match=rf"^{segments[1].name}: its 'data' section .* describes different media"):
        verify_chunks(segments)


@pytest.mark.parametrize("fmt", ["encase2", "encase5", "encase7", "linen6", "ftk", "ewfx"])
def test_other_writer_formats(build: Builder, fmt: str) -> None:
    """EnCase 2-5, FTK and linen 5 tables have no base offset; EnCase 6+ ones do."""
    report = verify_chunks(build("best", True, fmt))
    assert report.errors == [] and report.chunks_checked == FULL_CHUNKS + 1


def test_smart_layout_is_refused(build: Builder) -> None:
    with pytest.raises(EwfFormatError, match="SMART / EWF-S01 .* not supported by the chunk verifier"):
        verify_chunks(build("best", True, "smart"))


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"EVF2\x0d\x0a\x81\x00" + bytes(24), r"EWF2 \(Ex01\) is not supported by the chunk verifier"),
        (b"LVF\x09\x0d\x0a\xff\x00\x01\x01\x00\x00\x00", "logical evidence file"),
        (b"\x7fELF" + bytes(60), "no EWF signature"),
        (b"EVF\x09\x0d\x0a", "truncated"),
        (b"", r"is empty \(0 bytes\)"),
    ],
    ids=["ewf2", "l01", "not-ewf", "short", "empty"],
)
def test_foreign_files_are_refused(tmp_path: Path, head: bytes, message: str) -> None:
    path = tmp_path / "image.E01"
    path.write_bytes(head)
    with pytest.raises(EwfFormatError, match=rf"^image\.E01: .*{message}"):
        verify_chunks([path])


def test_segment_count_leaves_ewf2_to_libewf(tmp_path: Path) -> None:
    path = tmp_path / "image.Ex01"
    path.write_bytes(b"EVF2\x0d\x0a\x81\x00" + bytes(24))
    assert segment_count([path]) is None


@pytest.mark.parametrize(
    "names",
    [["dfvfs/ext2.E01"], ["dfvfs/ext2.split.E01", "dfvfs/ext2.split.E02"], ["sleuthkit/image.E01"]],
    ids=["ext2", "ext2-split", "sleuthkit"],
)
def test_corpus_images_verify(corpus: Path, names: list[str]) -> None:
    report = verify_chunks([corpus / "disk" / n for n in names])
    assert report.errors == []
    assert report.chunks_checked == math.ceil(report.media_size / report.chunk_size)


def test_corpus_empty_file_is_refused(corpus: Path) -> None:
    with pytest.raises(EwfFormatError, match=r"bogus\.E01: is empty"):
        verify_chunks([corpus / "disk" / "sleuthkit" / "bogus.E01"])


def test_a_truncated_middle_segment_is_an_error_at_open(build: Builder, tmp_path: Path) -> None:
    """Only the last segment's chain was checked: with E02 of three cut in half, the set opened and
    `ls -r` exited 0 with whole folders missing. Every segment's section chain is now walked at
    open; ewfverify (the independent truth) rejects the same set."""
    from tests.conftest import assert_one_line_error, evkit

    segments = _copy(build("none", True), tmp_path)
    assert len(segments) >= 3
    middle = segments[1]
    with open(middle, "r+b") as f:
        f.truncate(middle.stat().st_size // 2)
    assert not _ewfverify_ok(segments)
    for command in ("info", "ls", "hash"):
        err = assert_one_line_error(evkit(command, str(segments[0])), 3)
        assert f"{middle.name}: is truncated" in err, err
