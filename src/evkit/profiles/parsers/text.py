"""Line-oriented text (logs): each artifact's ``pattern``, a regular expression with named groups,
gives one record per match per line; the named groups are the record's fields.

* Lines are read one at a time from a file on disk (a multi-gigabyte log is never held in
  memory) and cut at :data:`MAX_LINE` bytes: a longer line is matched on its first
  :data:`MAX_LINE` bytes only (``row.truncated``), which also bounds the regular expression's work.
* UTF-8, with undecodable bytes shown ``\\xNN``; a UTF-16 byte-order mark switches to UTF-16; a
  UTF-8 one is dropped. Line endings ``\\n``, ``\\r\\n``.
* Empty matches are skipped; at most :data:`MAX_MATCHES` matches per line and artifact; a pattern
  gets :data:`evkit.profiles.patterns.MATCH_SECONDS` per line (:mod:`evkit.profiles.patterns`).
* ``row`` is ``{"line": N}`` (1-based), plus ``"match": K`` for the second and later matches of a line.

Identify is always true (plus ``identify.header`` when the profile sets it): the pattern decides.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evkit.profiles.conversions import clean_text
from evkit.profiles.model import Profile
from evkit.profiles.patterns import compile_pattern, finditer
from evkit.profiles.parsers.file import header_ok, read_head

NEEDS_FILE = True
TABLES = False
MAX_LINE = 64 * 1024
MAX_MATCHES = 1000
CHUNK = 1024 * 1024

def identify(profile: Profile, target: Any) -> bool:
    try:
        return header_ok(profile, read_head(target, 4096))
    except OSError:
        return False


def _skip_rest(fh: Any) -> None:
    """Read past the remainder of an over-long line, a chunk at a time."""
    while True:
        chunk = fh.readline(CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


def _skip_rest_text(fh: Any) -> None:
    while True:
        chunk = fh.readline(CHUNK)
        if not chunk or chunk.endswith("\n"):
            return


def lines(fh: Any) -> Iterator[tuple[int, str, bool]]:
    """(line number, text without its ending, truncated?) for a binary stream."""
    head = fh.read(4)
    fh.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        reader = io.TextIOWrapper(fh, encoding="utf-16", errors="replace", newline=None)
        try:
            number = 0
            while True:
                line = reader.readline(MAX_LINE)
                if not line:
                    return
                number += 1
                truncated = not line.endswith("\n") and len(line) >= MAX_LINE
                if truncated:
                    _skip_rest_text(reader)
                yield number, line.rstrip("\r\n"), truncated
        finally:
            reader.detach()
    if head.startswith(codecs.BOM_UTF8):
        fh.seek(3)
    number = 0
    while True:
        raw = fh.readline(MAX_LINE)
        if not raw:
            return
        number += 1
        truncated = not raw.endswith(b"\n") and len(raw) >= MAX_LINE
        if truncated:
            _skip_rest(fh)
        yield number, clean_text(raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")), truncated


def parse(profile: Profile, target: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    arts = [(art.name, compile_pattern(art.pattern)) for art in profile.artifacts.values() if art.pattern]
    if isinstance(target, (str, Path)):
        fh: Any = open(target, "rb")
    else:
        fh = target
        fh.seek(0)
    try:
        for number, line, truncated in lines(fh):
            for name, rx in arts:
                k = 0
                for m in finditer(rx, line, f"on line {number}"):
                    if m.end() == m.start():
                        continue
                    row: dict[str, Any] = {"line": number}
                    if k:
                        row["match"] = k
                    if truncated:
                        row["truncated"] = True
                    yield name, row, m.groupdict()
                    k += 1
                    if k >= MAX_MATCHES:
                        break
    finally:
        if fh is not target:
            fh.close()
