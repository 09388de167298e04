"""Split raw images (``x.000``/``x.001``..., ``x.001``/``x.002``..., ``x.aa``/``x.ab``...).

Segments carry no signature, so this is the one format recognised by name: the file given must
be the first segment and its successor must exist.
"""

from __future__ import annotations

import bisect
import os
import re
from pathlib import Path

from evkit.errors import EvidenceError
from evkit.sources.base import Container, Media

_NUMERIC = re.compile(r"^(?P<stem>.*\.)(?P<num>\d{3})$")
_ALPHA = re.compile(r"^(?P<stem>.*\.)(?P<alpha>[a-z]{2})$")


def _successor_alpha(s: str) -> str | None:
    a, b = s
    if b != "z":
        return a + chr(ord(b) + 1)
    if a != "z":
        return chr(ord(a) + 1) + "a"
    return None


def segment_names(first: Path) -> list[Path] | None:
    """Every segment of a split set in order, or None when ``first`` does not start one."""
    m = _NUMERIC.match(first.name)
    if m and int(m.group("num")) in (0, 1):
        width = len(m.group("num"))
        start = int(m.group("num"))
        segs = []
        n = start
        while (p := first.with_name(f"{m.group('stem')}{n:0{width}d}")).is_file():
            segs.append(p)
            n += 1
        return segs if len(segs) > 1 else None
    m = _ALPHA.match(first.name)
    if m and m.group("alpha") == "aa":
        segs = []
        suffix: str | None = "aa"
        while suffix and (p := first.with_name(m.group("stem") + suffix)).is_file():
            segs.append(p)
            suffix = _successor_alpha(suffix)
        return segs if len(segs) > 1 else None
    return None


class SplitMedia(Media):
    format = "split"

    def __init__(self, path: Path, segments: list[Path]) -> None:
        super().__init__(path, segments)
        self._fds: list[int] = []
        self._starts: list[int] = []
        total = 0
        for seg in segments:
            fd = os.open(seg, os.O_RDONLY)
            self._fds.append(fd)
            self._starts.append(total)
            total += os.fstat(fd).st_size
        self._size = total
        if total == 0:
            self.close()
            raise EvidenceError(path, "every segment of the split image is empty")

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        out = bytearray()
        while size > 0 and offset < self._size:
            i = bisect.bisect_right(self._starts, offset) - 1
            seg_end = self._starts[i + 1] if i + 1 < len(self._starts) else self._size
            n = min(size, seg_end - offset)
            chunk = os.pread(self._fds[i], n, offset - self._starts[i])
            if not chunk:
                break
            out += chunk
            offset += len(chunk)
            size -= len(chunk)
        return bytes(out)

    def metadata(self) -> dict[str, object]:
        return {"segment_sizes": [s.stat().st_size for s in self.segments]}

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []


class Split(Container):
    name = "split"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return segment_names(path) is not None

    @classmethod
    def open(cls, path: Path) -> Media:
        segs = segment_names(path)
        if not segs:
            raise EvidenceError(path, "not the first segment of a split raw image")
        return SplitMedia(path, segs)

