"""Running profiles over any source of the evidence layer.

One walk of the source; each file is offered to the profiles whose names/paths match (or, with
``hunt``, every SQLite file to every SQLite profile, recognised by schema alone). A matched file
is hashed while it is read; parsers that need a real file (SQLite) get a scratch copy made with
its ``-wal``/``-journal``/``-shm``, in a private scratch folder (:mod:`evkit.scratch`) that is removed afterwards.
A file that cannot be parsed becomes a :class:`FileProblem` and the run goes on.

Records come in the form the caller asks for (:mod:`evkit.profiles.forms`): Record objects, the
JSON lines of ``evkit parse --json``, or case.db rows. Converting happens here, inside the per-file
error handling, whatever the form.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from evkit import names
from evkit.errors import EvkitError
from evkit.profiles import parsers
from evkit.profiles.forms import RECORDS, Form
from evkit.profiles.model import Profile
from evkit.profiles.parsers.common import convert_row
from evkit.profiles.record import FileProblem, Origin, Record
from evkit.profiles.parsers import file as file_parser
from evkit.profiles.parsers.plist import looks_like_plist
from evkit.profiles.rowcode import TableRows
from evkit.scratch import folder as scratch_folder
from evkit.sources.base import SIDECARS, Entry

SQLITE_HEADER = b"SQLite format 3\x00"
CHUNK = 1024 * 1024
T = TypeVar("T")


@dataclass
class Material:
    """A matched evidence file, made readable for parsers."""

    entry: Entry
    sha256: str
    path: Path | None
    data: bytes | None
    sidecars: list[Entry]


def _copy(src: Any, e: Entry, dest: Path) -> str:
    h = hashlib.sha256()
    with src.open(e) as fh, open(dest, "wb") as out:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


def find_sidecars(src: Any, e: Entry) -> list[Entry]:
    from evkit.errors import NotFound

    found = []
    for suffix in SIDECARS:
        try:
            side = src.lookup(e.path + suffix)
        except (NotFound, EvkitError):
            continue
        if side.type == "file" and not side.deleted:
            found.append(side)
    return found


@contextmanager
def materialize(src: Any, e: Entry, on_disk: bool, scratch: Path) -> Iterator[Material]:
    if not on_disk:
        h = hashlib.sha256()
        buf = io.BytesIO()
        with src.open(e) as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
                buf.write(chunk)
        yield Material(e, h.hexdigest(), None, buf.getvalue(), [])
        return
    folder = Path(tempfile.mkdtemp(prefix="evkit-", dir=scratch))
    try:
        dest = folder / "db"
        digest = _copy(src, e, dest)
        sides = find_sidecars(src, e)
        for side in sides:
            _copy(src, side, folder / ("db" + side.name[len(e.name):]))
        yield Material(e, digest, dest, None, sides)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _head(src: Any, e: Entry) -> bytes:
    try:
        with src.open(e) as fh:
            return fh.read(64)
    except (EvkitError, OSError):
        return b""


def _hunts(p: Profile, head: bytes, size: int) -> bool:
    """Whether ``--hunt`` offers a file of any name to ``p``: every SQLite file to a SQLite profile,
    and to a profile that recognises its files by content (a header, JSON or plist keys) each file
    whose first bytes could be one; the profile's ``identify`` then decides."""
    if p.parser == "sqlite":
        return size >= 512 and head.startswith(SQLITE_HEADER)
    ident = p.identify
    if ident.get("header"):
        return head.startswith(file_parser.header_bytes(p) or b"")
    if ident.get("keys"):
        start = head.lstrip()[:1]
        return (p.parser == "json" and start in (b"{", b"[")) or (p.parser == "plist" and looks_like_plist(head))
    return False


def run_profiles(src: Any, profiles: list[Profile], hunt: bool = False, include_deleted: bool = False,
                 scratch: Path | None = None) -> Iterator[Record | FileProblem]:
    """Every record the profiles find in ``src``, with the per-file problems in between."""
    return run_profiles_as(RECORDS, src, profiles, hunt, include_deleted, scratch)


def run_profiles_as(form: Form[T], src: Any, profiles: list[Profile], hunt: bool = False, include_deleted: bool = False,
                    scratch: Path | None = None) -> Iterator[T | FileProblem]:
    """:func:`run_profiles` with the records in ``form`` (:mod:`evkit.profiles.forms`)."""
    with scratch_folder("parse", scratch) as scratch_root:
        for e in src.walk("/", recursive=True):
            if e.type != "file" or (e.deleted and not include_deleted) or e.name.endswith(SIDECARS):
                continue
            yield from parse_entry_as(form, src, e, profiles, hunt, scratch_root)


def parse_entry(src: Any, e: Entry, profiles: list[Profile], hunt: bool, scratch_root: Path,
                explicit: bool = False) -> Iterator[Record | FileProblem]:
    """The records of one file: profiles whose name patterns match, plus SQLite profiles when hunting.

    ``explicit``: the examiner named the profiles for this file (``evkit profiles test``): each is
    applied whatever the name, and one that finds nothing says why (not identified, and what the
    content lacks; or identified, and which artifacts found no rows)."""
    return parse_entry_as(RECORDS, src, e, profiles, hunt, scratch_root, explicit)


def parse_entry_as(form: Form[T], src: Any, e: Entry, profiles: list[Profile], hunt: bool,
                   scratch_root: Path, explicit: bool = False) -> Iterator[T | FileProblem]:
    """:func:`parse_entry` with the records in ``form``."""
    shown = names.escape(e.path)
    shown_name = names.escape(e.name)
    # Names decide; paths only help. A file where the app keeps it (name and path) is expected to be
    # the artefact, so content that does not fit is reported; a file whose name alone matches (a
    # loose copy, a lab's folder of profile copies) is parsed when its content is identified.
    matched = list(profiles) if explicit else [p for p in profiles if p.matches_name(shown, shown_name)]
    by_name = [p for p in profiles if p not in matched and p.name_only(shown_name)]
    hunted: list[Profile] = []
    if hunt:
        head = _head(src, e)
        hunted = [p for p in profiles if p not in matched and p not in by_name and _hunts(p, head, e.size)]
    candidates = matched + by_name + hunted
    if not candidates:
        return
    on_disk = any(parsers.get(p.parser).NEEDS_FILE for p in candidates)
    try:
        with materialize(src, e, on_disk, scratch_root) as m:
            for p in candidates:
                yield from _apply(form, p, m, shown, name_matched=p in matched, named=p in matched or p in by_name,
                                  explain_empty=explicit)
    except EvkitError as exc:
        yield FileProblem(candidates[0].id, e.locator, shown, f"cannot read the file: {exc}")


def _explain(parser: Any, p: Profile, target: Any) -> str | None:
    """The parser's account of why ``p`` finds nothing in ``target``, where it can give one."""
    explain = getattr(parser, "explain", None)
    if explain is None:
        return None
    try:
        return str(explain(p, target))
    except Exception:  # an explanation must never hide the problem it explains
        return None


def _apply(form: Form[T], p: Profile, m: Material, shown: str, name_matched: bool,
           named: bool, explain_empty: bool = False) -> Iterator[T | FileProblem]:
    """``name_matched``: name and path are the app's; ``named``: at least the name is;
    ``explain_empty``: a profile that finds nothing says why (see :func:`parse_entry`)."""
    parser = parsers.get(p.parser)
    target: Any = m.path if m.path is not None and parser.NEEDS_FILE else io.BytesIO(m.data or b"") if m.data is not None else m.path
    try:
        try:
            known = parser.identify(p, target)
        except Exception:  # unreadable content (truncated, encrypted): a problem wherever the name promised it
            if named:
                raise
            return
        if not known:
            if explain_empty:
                yield FileProblem(p.id, m.entry.locator, shown, _explain(parser, p, target) or "not identified")
            elif name_matched and p.identify:
                why = (_explain(parser, p, target) or "unexpected schema or format").removeprefix("not identified: ")
                yield FileProblem(p.id, m.entry.locator, shown, f"name matches but the content is not recognised ({why})")
            return
        if hasattr(target, "seek"):
            target.seek(0)
        found = 0
        if parser.TABLES:
            for rows in parser.parse(p, target):
                if not isinstance(rows, TableRows):  # a note on what this version of the database lacks
                    yield FileProblem(p.id, m.entry.locator, shown, rows.message, note=True)
                    continue
                for item in _table(form, Origin(p.id, p.version, rows.art.name, m.entry.locator, m.sha256, shown), rows):
                    found += 1
                    yield item
        else:
            for artifact, row, raw in parser.parse(p, target):
                data, timestamp = convert_row(p.artifacts[artifact], raw)
                found += 1
                yield form.record(Record(p.id, p.version, artifact, timestamp, m.entry.locator, m.sha256, shown, row, data))
        if explain_empty and not found:
            if hasattr(target, "seek"):
                target.seek(0)
            yield FileProblem(p.id, m.entry.locator, shown, _explain(parser, p, target) or "identified, but no records")
    except Exception as exc:  # a parser meeting hostile input must not stop the run; the file is reported
        message = str(exc) if exc.__class__.__name__ == "ParseError" else f"{type(exc).__name__}: {exc}"
        yield FileProblem(p.id, m.entry.locator, shown, message)


def _table(form: Form[T], origin: Origin, rows: TableRows) -> Iterator[T]:
    """A batch of table rows in ``form``. A value a conversion rejects ends the file's records at its
    row, as when rows were converted one at a time: the rows before it are still given."""
    try:
        out = form.table(origin, rows)
    except Exception:
        for i, values in enumerate(rows.rows):  # the failing row raises again, after the rows before it
            yield from form.table(origin, replace(rows, rows=[values], first=rows.first + i))
        raise
    yield from out
