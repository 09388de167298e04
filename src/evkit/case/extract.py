"""Copying files out of evidence into the case, hashing each one while it is copied.

Reading the evidence (TSK, under the GIL) stays on the calling thread; writing, hashing (both
release the GIL) and libmagic typing run on other threads beside it. Artefact rows are committed
in batches once the files they describe are written and closed. The data is flushed to disk once,
at the end of the run, before its custody event: a run killed before that leaves rows whose files
may not have reached the disk (a power loss, not a killed process, can lose them), so a resumed
run re-hashes the files of the interrupted run and redoes any that do not match their row. SQLite
``-wal``/``-journal``/``-shm`` files travel with their database.
"""

from __future__ import annotations

import ctypes
import fnmatch
import hashlib
import os
import queue
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
    """Flush the case's filesystem once per run (fsync per file would dominate the run)."""
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
        self._lock = threading.Lock()
        self._seen: dict[bytes, Future[str | None]] = {}

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
        """The type of ``head``; identical heads (copies of one file) are typed once."""
        key = hashlib.blake2b(head, digest_size=16).digest()
        with self._lock:
            fut = self._seen.get(key)
            if fut is None:
                fut = self._seen[key] = self._pool.submit(self._describe, head)
        return fut

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class _Copy:
    """One file on its way to the case: its open descriptor, running hashes and artefact row."""

    __slots__ = ("dest", "row", "fd", "md5", "sha", "size", "head")

    def __init__(self, dest: str, row: list[Any]) -> None:
        self.dest = dest
        self.row = row
        self.fd = -1
        self.md5 = hashlib.md5()
        self.sha = hashlib.sha256()
        self.size = 0
        self.head = b""


_DATA, _LAST, _ABORT = 0, 1, 2


class Copier:
    """Writes and hashes the chunks it is given on its own thread, in the order given.

    The queue is bounded (``DEPTH`` chunks of at most ``CHUNK`` bytes), so memory stays flat
    however large the files. An error on the writing side (a full disk, or any other) is raised
    on the reading side at its next call; the thread goes on taking chunks, so the reading side
    never waits on a full queue nobody empties.
    """

    DEPTH = 32

    def __init__(self, typer: FileTyper) -> None:
        self._typer = typer
        self._queue: queue.Queue[tuple[_Copy, bytes, int] | None] = queue.Queue(self.DEPTH)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._work, name="copier", daemon=True)
        self._thread.start()

    def put(self, job: _Copy, chunk: bytes, op: int = _DATA) -> None:
        """Queue a chunk of ``job``: ``_LAST`` also closes the file, ``_ABORT`` removes it."""
        if self._error is not None:
            raise self._error
        self._queue.put((job, chunk, op))

    def drain(self) -> None:
        """Wait until every queued chunk is written and every finished row is complete."""
        self._queue.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                if self._error is None:
                    self._step(*item)
            except Exception as exc:  # kept for the reading side, which raises it
                self._error = exc
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _step(self, job: _Copy, chunk: bytes, op: int) -> None:
        if op == _ABORT:
            if job.fd >= 0:
                os.close(job.fd)
                os.unlink(job.dest)
            return
        if job.fd < 0:
            job.fd = _create(job.dest)
        if chunk:
            if not job.head:
                job.head = chunk[:MAGIC_BYTES]
            job.md5.update(chunk)
            job.sha.update(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(job.fd, view):]
            job.size += len(chunk)
        if op == _LAST:
            os.close(job.fd)
            job.row[8] = job.size
            job.row[14] = self._typer.submit(job.head)
            job.row[15] = job.md5.hexdigest()
            job.row[16] = job.sha.hexdigest()


def _create(dest: str) -> int:
    """A new read-only file at ``dest``; one left by an interrupted run is replaced, never followed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        return os.open(dest, flags, 0o444)
    except FileExistsError:
        os.unlink(dest)
        return os.open(dest, flags, 0o444)


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
        self.copier = Copier(self.typer)
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

    def copy(self, src: Any, e: Entry, parent_id: int | None = None) -> None:
        rel, renamed = self.stored_path(e)
        dest = os.path.join(self.root, rel)
        try:
            self._makedirs(os.path.dirname(dest))
        except (FileExistsError, NotADirectoryError):
            rel = f"{self.base}/_conflicts/{hashlib.sha256(e.locator.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}/{safe_component(e.name)}"
            dest = os.path.join(self.root, rel)
            self._makedirs(os.path.dirname(dest))
            renamed = True
        raw_path = names.encode(e.path)
        row: list[Any] = [self.ev["id"], e.locator, names.escape(e.path), raw_path.hex(), rel, int(renamed), e.inode,
                          e.address, 0, e.mtime, e.atime, e.ctime, e.crtime, int(e.deleted), None, None, None,
                          parent_id, self.seq]
        job = _Copy(dest, row)
        stream = src.open(e)
        try:
            chunk = stream.read(CHUNK)
            while True:
                after = stream.read(CHUNK) if chunk else b""
                self.copier.put(job, chunk, _DATA if after else _LAST)
                if not after:
                    break
                chunk = after
        except BaseException:
            self.copier.put(job, b"", _ABORT)
            raise
        finally:
            stream.close()
        self.taken.add(rel.lower())
        self.pending.append(row)
        self.pending_bytes += e.size
        if len(self.pending) >= BATCH_FILES or self.pending_bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Commit the rows of every file written so far."""
        self.copier.drain()
        if not self.pending:
            return
        with self.case.store.transaction() as db:
            last = db.execute("SELECT coalesce(max(id), 0) FROM artefacts").fetchone()[0]
            db.executemany(
                "INSERT INTO artefacts(evidence_id, locator, path, path_hex, stored_path, renamed, inode, address, size,"
                " mtime, atime, ctime, crtime, deleted, magic, md5, sha256, parent_id, seq)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(*row[:14], row[14].result(), *row[15:]) for row in self.pending])
            self.done.update(db.execute("SELECT locator, id FROM artefacts WHERE id > ?", (last,)))
        for row in self.pending:
            self.run_rows.append((row[4], row[16]))
            self.run_bytes += row[8]
        self.pending = []
        self.pending_bytes = 0

    def close(self) -> None:
        """Write what is pending and stop the writing and typing threads."""
        try:
            self.flush()
        finally:
            self.copier.close()
            self.typer.close()


def _drop_unwritten(case: Case, seq: int) -> int:
    """Forget the artefacts of an interrupted run whose files do not match their rows.

    Its rows were committed before the data was flushed to disk, so after a power loss a file
    may be short or empty; such files (and the sidecars recorded under them) are extracted again.
    """
    from evkit.case.bag import file_hashes

    bad = []
    for rid, stored, size, sha in case.store.db.execute(
            "SELECT id, stored_path, size, sha256 FROM artefacts WHERE seq=?", (seq,)).fetchall():
        p = case.root / stored
        try:
            ok = p.stat().st_size == size and file_hashes(p)["sha256"] == sha
        except OSError:
            ok = False
        if not ok:
            bad.append(rid)
    if bad:
        with case.store.transaction() as db:
            db.executemany("DELETE FROM artefacts WHERE id=? OR parent_id=?", [(rid, rid) for rid in bad])
    return len(bad)


def extract(case: Case, evidence: str | None = None, globs: list[str] | None = None, deleted: bool = False,
            progress: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None) -> ExtractResult:
    """Copy every matching file of the chosen evidence items into ``data/<evidence number>/``."""
    from evkit.case.evidence import Recheck
    from evkit.sources.source import open_source

    globs = list(globs or [])
    items = case.evidence(evidence)
    if not items:
        raise EvkitError(f"{case.root}: the case has no evidence yet; add some with `evkit case add`")
    key = f"extract:{','.join(i['number'] for i in items)}:{'|'.join(globs)}:{int(deleted)}"
    inputs = [{"evidence_number": i["number"], "sha256": i["sha256"], "source": i["source_path"]} for i in items]
    result = ExtractResult()
    with case.run("extract", inputs, key=key, details={"globs": globs, "deleted": deleted}) as run:
        rechecking = Recheck(case, [i["number"] for i in items])
        if run.resumed is not None:
            run.details["redone_after_interruption"] = _drop_unwritten(case, run.seq)
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
                        w.copy(src, e)
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
                        w.copy(src, side, parent_id=w.done[loc])
                        result.extracted += 1
                w.close()
            result.bytes += w.run_bytes
            listing = hashlib.sha256("".join(f"{p}\t{h}\n" for p, h in sorted(w.run_rows)).encode()).hexdigest()
            run.outputs.append({"evidence_number": item["number"], "artefacts": len(w.run_rows),
                                "bytes": w.run_bytes, "listing_sha256": listing})
        _syncfs(case.root)
        result.evidence_recheck = rechecking.result()
        run.details["evidence_recheck"] = result.evidence_recheck
        run.details["already_extracted"] = result.already
        run.details["unreadable"] = result.unreadable[:1000]
    return result
