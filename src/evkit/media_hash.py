"""Hashing and verifying whole media: what ``evkit hash`` and ``evkit case add`` rely on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evkit.errors import EvidenceError
from evkit.hashing import CHUNK, hash_chunks
from evkit.sources.source import Source


@dataclass
class MediaHashResult:
    source: str
    format: str
    size: int
    hashes: dict[str, str]
    stored: dict[str, str]
    matches: dict[str, bool] = field(default_factory=dict)
    chunk_errors: list[dict[str, Any]] = field(default_factory=list)
    chunks_checked: int | None = None

    @property
    def verified(self) -> bool | None:
        """True when every stored hash matched and no chunk failed; None when nothing is stored."""
        if not self.stored and self.chunks_checked is None:
            return None
        return all(self.matches.values()) and not self.chunk_errors

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "format": self.format, "size": self.size, **self.hashes,
                               "stored": self.stored, "matches": self.matches, "verified": self.verified}
        if self.chunks_checked is not None:
            out["chunks"] = {"checked": self.chunks_checked, "errors": self.chunk_errors}
        return out


def _media_chunks(read_at: Callable[[int, int], bytes], size: int, where: str) -> Iterator[bytes]:
    offset = 0
    while offset < size:
        want = min(CHUNK, size - offset)
        data = read_at(offset, want)
        if len(data) != want:
            raise EvidenceError(where, f"media ends early: got {offset + len(data)} of {size} bytes")
        offset += want
        yield data


def hash_media(src: Source, algos: list[str], verify: bool = False,
               progress: Callable[[int], None] | None = None) -> MediaHashResult:
    """Hash the acquired media in one pass; with ``verify``, compare stored hashes and EWF chunk checksums."""
    if src.media is not None:
        media = src.media
        stored = media.stored_hashes()
        algos = list(dict.fromkeys([*algos, *(stored if verify else [])]))
        fmt, size, read_at = media.format, media.size, media.read
    elif src.path.is_file():
        import os

        fd = os.open(src.path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        stored, fmt = {}, src.kind

        def read_at(offset: int, n: int) -> bytes:
            return os.pread(fd, n, offset)
    else:
        raise EvidenceError(src.path, "is a folder: there is no single media to hash (hash its files with `evkit ls -r --hash`)")

    chunk_result: dict[str, Any] = {}
    checker = None
    if verify and src.media is not None and src.media.format == "ewf":
        checker = threading.Thread(target=_check_chunks, args=(src.media.segments, chunk_result), daemon=True)
        checker.start()
    try:
        hashes = hash_chunks(_media_chunks(read_at, size, str(src.path)), algos, progress)
    finally:
        if src.media is None:
            os.close(fd)
        if checker is not None:
            checker.join()
    result = MediaHashResult(str(src.path), fmt, size, hashes, stored if verify else {})
    if verify:
        result.matches = {a: hashes[a] == v for a, v in stored.items() if a in hashes}
    if "error" in chunk_result:
        raise chunk_result["error"]
    if chunk_result:
        result.chunks_checked = chunk_result["checked"]
        result.chunk_errors = chunk_result["errors"]
    return result


def _check_chunks(segments: list[Path], out: dict[str, Any]) -> None:
    from evkit.sources.containers.ewf_chunks import EwfFormatError, verify_chunks

    try:
        report = verify_chunks(list(segments))
    except EwfFormatError as exc:
        out["error"] = EvidenceError(segments[0], str(exc))
        return
    out["checked"] = report.chunks_checked
    out["errors"] = [{"chunk": e.chunk, "segment": e.segment, "offset": e.offset, "reason": e.reason} for e in report.errors]
