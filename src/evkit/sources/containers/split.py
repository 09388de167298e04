"""Split raw images (``x.000``/``x.001``..., ``x.001``/``x.002``..., ``x.aa``/``x.ab``...).

Segments carry no signature, so this is the one format recognised by name: the file given must
be the first segment and its successor must exist. A set is never read as if it ended early: a
missing segment with later ones beside it, a later segment given instead of the first, or a
segment other than the last that is shorter or longer than the first is an error, not a shorter
image with a silently different hash.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evkit.errors import EvidenceError, UsageError
from evkit.sources.base import Container, Media

_NUMERIC = re.compile(r"^(?P<stem>.*\.)(?P<num>\d{3})$")
_ALPHA = re.compile(r"^(?P<stem>.*\.)(?P<alpha>[a-z]{2})$")
# Two-letter suffixes are also ordinary extensions (x.gz, x.md): after a gap, only names this
# close to it are taken for the rest of the set.
_ALPHA_WINDOW = 26


def _alpha_index(s: str) -> int:
    return (ord(s[0]) - 97) * 26 + ord(s[1]) - 97


def _alpha(i: int) -> str:
    return chr(97 + i // 26) + chr(97 + i % 26)


@dataclass
class _Scan:
    segments: list[Path] = field(default_factory=list)
    missing: Path | None = None
    after_gap: list[Path] = field(default_factory=list)
    first: Path | None = None


def _scan(path: Path) -> _Scan:
    """What the split set that ``path`` names looks like on disk (empty when it names none)."""
    m = _NUMERIC.match(path.name)
    if m:
        stem, width, num = m.group("stem"), len(m.group("num")), int(m.group("num"))

        def name(i: int) -> Path:
            return path.with_name(f"{stem}{i:0{width}d}")

        if num not in (0, 1) or (num == 1 and name(0).is_file()):
            return _Scan(first=next((name(i) for i in (0, 1) if name(i).is_file() and i < num), None))
        i = num
        segs = []
        while (p := name(i)).is_file():
            segs.append(p)
            i += 1
        later = _siblings(path, stem, rf"\d{{{width}}}", lambda s: int(s) > i)
        return _Scan(segs, name(i), later)
    m = _ALPHA.match(path.name)
    if m:
        stem, idx = m.group("stem"), _alpha_index(m.group("alpha"))
        if idx != 0:
            first = path.with_name(stem + "aa")
            return _Scan(first=first if first.is_file() else None)
        segs = []
        while idx < 26 * 26 and (p := path.with_name(stem + _alpha(idx))).is_file():
            segs.append(p)
            idx += 1
        if idx >= 26 * 26:
            return _Scan(segs)
        gap = idx
        later = _siblings(path, stem, "[a-z]{2}", lambda s: gap < _alpha_index(s) <= gap + _ALPHA_WINDOW)
        return _Scan(segs, path.with_name(stem + _alpha(gap)), later)
    return _Scan()


def _siblings(first: Path, stem: str, suffix_re: str, wanted: Callable[[str], bool]) -> list[Path]:
    """Files beside ``first`` named ``stem`` plus a suffix of the set's kind for which ``wanted`` holds."""
    pattern = re.compile(re.escape(stem) + f"(?P<suffix>{suffix_re})")
    try:
        listing = os.listdir(first.parent)
    except OSError:
        return []
    found = []
    for name in listing:
        m = pattern.fullmatch(name)
        if m and wanted(m.group("suffix")) and (first.parent / name).is_file():
            found.append(first.parent / name)
    return sorted(found)


def segment_names(first: Path) -> list[Path] | None:
    """Every segment of the split set ``first`` starts, in order; None when it starts none.

    Raises :class:`EvidenceError` when a segment is missing between ones that exist or a segment
    before the last has a different size from the first, and :class:`UsageError` when ``first``
    is a later segment of a set whose first segment is beside it.
    """
    scan = _scan(first)
    if scan.first is not None:
        raise UsageError(f"{first}: is a later segment of a split raw image; open its first segment, {scan.first.name}")
    if scan.after_gap:
        assert scan.missing is not None
        later = ", ".join(p.name for p in scan.after_gap[:3]) + (", ..." if len(scan.after_gap) > 3 else "")
        verb = "exists" if len(scan.after_gap) == 1 else "exist"
        raise EvidenceError(first, f"split raw image is incomplete: segment {scan.missing.name} is missing "
                                   f"but {later} {verb} after it")
    segs = scan.segments
    if len(segs) < 2:
        return None
    sizes = [p.stat().st_size for p in segs]
    for p, size in zip(segs[1:-1], sizes[1:-1]):
        if size != sizes[0]:
            raise EvidenceError(first, f"split raw image is damaged: segment {p.name} is {size} bytes but "
                                       f"{segs[0].name} is {sizes[0]} (only the last segment may differ)")
    if sizes[-1] > sizes[0]:
        raise EvidenceError(first, f"split raw image is damaged: last segment {segs[-1].name} is {sizes[-1]} bytes, "
                                   f"larger than {segs[0].name} ({sizes[0]})")
    return segs


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
        """A set of two or more segments, or a name that is part of one but cannot be read as one
        (a gap, a later segment): claimed here so that ``open`` says why, rather than raw reading
        one segment as a whole, shorter image."""
        scan = _scan(path)
        return len(scan.segments) > 1 or bool(scan.after_gap) or scan.first is not None

    @classmethod
    def open(cls, path: Path) -> Media:
        segs = segment_names(path)
        if not segs:
            raise EvidenceError(path, "not the first segment of a split raw image")
        return SplitMedia(path, segs)

