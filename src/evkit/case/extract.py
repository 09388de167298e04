"""Copying files out of evidence into the case, hashing each one while it is copied.

Files are written first and their rows committed after a filesystem sync, in batches: a row in
``case.db`` therefore always describes a file that is fully on disk, and a resumed run only redoes
files without a row. SQLite ``-wal``/``-journal``/``-shm`` files travel with their database.
"""

from __future__ import annotations

import ctypes
import fnmatch
import hashlib
import os
import threading
from concurrent.futures import Future
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evkit import names
from evkit.case.case import Case
from evkit.case.safenames import safe_component, safe_relpath, with_suffix
from evkit.errors import EvkitError
from evkit.sources.base import Entry

SIDECARS = ("-wal", "-journal", "-shm")
BATCH_FILES = 500
BATCH_BYTES = 128 * 1024 * 1024
CHUNK = 1024 * 1024
MAGIC_BYTES = 4096


@dataclass
class ExtractResult:
    extracted: int = 0
    already: int = 0
    unreadable: list[str] = field(default_factory=list)
    bytes: int = 0
    evidence_recheck: dict[str, str] = field(default_factory=dict)

    @property
    def evidence_changed(self) -> bool:
        return any(v != "unchanged" for v in self.evidence_recheck.values())


def _syncfs(path: Path) -> None:
    """Flush the case's filesystem once per batch (fsync per file would dominate the run)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syncfs(fd) != 0:
            os.sync()
    except (AttributeError, OSError):
        os.sync()
    finally:
        os.close(fd)


class FileTyper:
    """libmagic's description of each file's first bytes, computed beside the copying.

    libmagic takes milliseconds per file (it tries thousands of rules), more than copying a small
    file does; its calls release the GIL, so a small pool of threads, each with its own libmagic
    handle (one handle is not thread-safe), overlaps typing with reading and writing.
    """

    def __init__(self, workers: int = 2) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="magic")

    def _handle(self) -> Any:
        if not hasattr(self._local, "m"):
            try:
                import magic

                self._local.m = magic.Magic()
            except (ImportError, OSError):
                self._local.m = None
        return self._local.m

    def _describe(self, head: bytes) -> str | None:
        if not head:
            return "empty"
        m = self._handle()
        if m is None:
            return None
        try:
            return str(m.from_buffer(head))
        except Exception:  # libmagic reports hostile input as generic errors; a type is optional
            return None

    def submit(self, head: bytes) -> Future[str | None]:
        return self._pool.submit(self._describe, head)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def matches(path: str, globs: list[str]) -> bool:
    """Shell-style patterns on the shown in-evidence path; ``*`` also crosses ``/``; case-insensitive."""
    if not globs:
        return True
    low = path.lower()
    return any(fnmatch.fnmatchcase(low, g.lower()) for g in globs)


class ArtefactWriter:
    """Copies entries into ``data/<evidence>/`` and records them as artefacts, in synced batches."""

    def __init__(self, case: Case, evidence: dict[str, Any], seq: int) -> None:
        self.case = case
        self.ev = evidence
        self.seq = seq
        self.base = f"data/{safe_component(evidence['number'])}"
        db = case.store.db
        self.done = {r[0]: r[1] for r in db.execute("SELECT locator, id FROM artefacts WHERE evidence_id=?", (evidence["id"],))}
        self.taken = {r[0].lower() for r in db.execute("SELECT stored_path FROM artefacts UNION ALL SELECT stored_path FROM outputs")}
        self.pending: list[tuple[Any, ...]] = []
        self.pending_bytes = 0
        self.typer = FileTyper()
        self.root = str(case.root)
        self.made: set[str] = set()
        self.run_rows: list[tuple[str, str]] = []
        self.run_bytes = 0

    def stored_path(self, e: Entry) -> tuple[str, bool]:
        rel = f"{self.base}/{safe_relpath(e.path)}"
        renamed = rel != f"{self.base}/{e.path.lstrip('/')}"
        if rel.lower() in self.taken:
            rel = with_suffix(rel, hashlib.sha256(e.locator.encode("utf-8", "surrogateescape")).hexdigest()[:10])
            renamed = True
        return rel, renamed

    def _makedirs(self, folder: str) -> None:
        if folder not in self.made:
            os.makedirs(folder, exist_ok=True)
            self.made.add(folder)

    def copy(self, src: Any, e: Entry, parent_id: int | None = None) -> int:
        rel, renamed = self.stored_path(e)
        dest = os.path.join(self.root, rel)
        try:
            self._makedirs(os.path.dirname(dest))
        except (FileExistsError, NotADirectoryError):
            rel = f"{self.base}/_conflicts/{hashlib.sha256(e.locator.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}/{safe_component(e.name)}"
            dest = os.path.join(self.root, rel)
            self._makedirs(os.path.dirname(dest))
            renamed = True
        md5, sha = hashlib.md5(), hashlib.sha256()
        size = 0
        head = b""
        stream = src.open(e)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o444)
        try:
            while chunk := stream.read(CHUNK):
                if not head:
                    head = chunk[:MAGIC_BYTES]
                md5.update(chunk)
                sha.update(chunk)
                os.write(fd, chunk)
                size += len(chunk)
        finally:
            os.close(fd)
            stream.close()
        self.taken.add(rel.lower())
        raw_path = names.encode(e.path)
        row = (self.ev["id"], e.locator, names.escape(e.path), raw_path.hex(), rel, int(renamed), e.inode, e.address,
               size, e.mtime, e.atime, e.ctime, e.crtime, int(e.deleted), self.typer.submit(head), md5.hexdigest(),
               sha.hexdigest(), parent_id, self.seq)
        self.pending.append(row)
        self.pending_bytes += size
        self.run_rows.append((rel, row[16]))
        self.run_bytes += size
        if len(self.pending) >= BATCH_FILES or self.pending_bytes >= BATCH_BYTES:
            self.flush()
        return size

    def flush(self) -> None:
        if not self.pending:
            return
        _syncfs(self.case.root)
        with self.case.store.transaction() as db:
            db.executemany(
                "INSERT INTO artefacts(evidence_id, locator, path, path_hex, stored_path, renamed, inode, address, size,"
                " mtime, atime, ctime, crtime, deleted, magic, md5, sha256, parent_id, seq)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(*row[:14], row[14].result(), *row[15:]) for row in self.pending])
            for row in self.pending:
                self.done[row[1]] = db.execute("SELECT id FROM artefacts WHERE evidence_id=? AND locator=?",
                                               (row[0], row[1])).fetchone()[0]
        self.pending = []
        self.pending_bytes = 0

    def close(self) -> None:
        """Write what is pending and stop the typing threads."""
        self.flush()
        self.typer.close()


def extract(case: Case, evidence: str | None = None, globs: list[str] | None = None, deleted: bool = False,
            progress: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None) -> ExtractResult:
    """Copy every matching file of the chosen evidence items into ``data/<evidence number>/``."""
    from evkit.case.evidence import recheck
    from evkit.sources.source import open_source

    globs = list(globs or [])
    items = case.evidence(evidence)
    if not items:
        raise EvkitError(f"{case.root}: the case has no evidence yet; add some with `evkit case add`")
    key = f"extract:{','.join(i['number'] for i in items)}:{'|'.join(globs)}:{int(deleted)}"
    inputs = [{"evidence_number": i["number"], "sha256": i["sha256"], "source": i["source_path"]} for i in items]
    result = ExtractResult()
    with case.run("extract", inputs, key=key, details={"globs": globs, "deleted": deleted}) as run:
        for item in items:
            w = ArtefactWriter(case, item, run.seq)
            sidecars: dict[str, Entry] = {}
            mains: dict[str, str] = {}
            with open_source(item["source_path"]) as src:
                for e in src.walk("/", recursive=True):
                    if e.type not in ("file", "ads"):
                        continue
                    if e.name.endswith(SIDECARS) and not e.deleted:
                        sidecars[e.path] = e
                    if (e.deleted and not deleted) or not matches(names.escape(e.path), globs):
                        continue
                    if e.locator in w.done:
                        result.already += 1
                        mains[e.path] = e.locator
                        continue
                    if e.deleted and e.ref is None:
                        result.unreadable.append(f"{names.escape(e.path)}: deleted, no metadata left")
                        continue
                    try:
                        result.bytes += w.copy(src, e)
                        result.extracted += 1
                        mains[e.path] = e.locator
                    except EvkitError as exc:
                        result.unreadable.append(f"{names.escape(e.path)}: {exc}")
                        if warn:
                            warn(f"{item['number']}: {names.escape(e.path)}: content not readable ({exc})")
                    if progress:
                        progress(e.path)
                w.flush()
                for path, loc in mains.items():
                    for suffix in SIDECARS:
                        side = sidecars.get(path + suffix)
                        if side is None or side.locator in w.done:
                            continue
                        result.bytes += w.copy(src, side, parent_id=w.done[loc])
                        result.extracted += 1
                w.close()
            listing = hashlib.sha256("".join(f"{p}\t{h}\n" for p, h in sorted(w.run_rows)).encode()).hexdigest()
            run.outputs.append({"evidence_number": item["number"], "artefacts": len(w.run_rows),
                                "bytes": w.run_bytes, "listing_sha256": listing})
        result.evidence_recheck = recheck(case, [i["number"] for i in items])
        run.details["evidence_recheck"] = result.evidence_recheck
        run.details["already_extracted"] = result.already
        run.details["unreadable"] = result.unreadable[:1000]
    return result
