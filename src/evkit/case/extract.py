"""Copying files out of evidence into the case, hashing each one while it is copied.

Reading, writing and hashing stay on the calling thread; libmagic typing, which costs more per
file than copying a small one, runs on threads beside it. Artefact rows are committed in walk
order, in batches, once the files they describe are written and closed and their types known. The
data is flushed to disk once, at the end of the run, before its custody event: a run killed before
that leaves rows whose files may not have reached the disk (a power loss, not a killed process, can
lose them), so a resumed run re-hashes the files of the interrupted run and redoes any that do not
match their row. SQLite ``-wal``/``-journal``/``-shm`` files travel with their database.
"""

from __future__ import annotations

import ctypes
import errno
import fnmatch
import hashlib
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evkit import names
from evkit.case.case import Case
from evkit.case.safenames import safe_component, safe_relpath, with_suffix
from evkit.errors import EvkitError
from evkit.sources.base import SIDECARS, Entry

BATCH_FILES = 500
BATCH_BYTES = 128 * 1024 * 1024
CHUNK = 1024 * 1024
MAX_PATH_BYTES = 3072  # of a stored file's full path; Linux allows 4096, other systems copying the case less
MAGIC_BYTES = 4096


@dataclass
class ExtractResult:
    extracted: int = 0
    already: int = 0
    unreadable: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # stored under =conflicts/, each with a warning
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


class _Batch:
    """Heads typed together; ``future`` is set once the batch is sent to the typing threads."""

    __slots__ = ("heads", "future")

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.future: Future[list[str | None]] | None = None


Ticket = tuple[_Batch, int] | str


class FileTyper:
    """libmagic's description of each file's first bytes, computed on threads beside the copying.

    libmagic spends about a third of a millisecond on any buffer (it walks its whole rule list),
    more than copying a small file takes. Heads are typed in batches on a small pool of threads,
    each with its own libmagic handle (one handle is not thread-safe). With the C helper
    (``evkit.case._magicbatch``) a batch is typed with the GIL released once; without it,
    python-magic gives the same descriptions one call at a time, the GIL taken back after each.

    Memory stays flat on any number of files: at most ``IN_FLIGHT`` batches wait to be typed (the
    copying waits when typing is slower), a batch is kept only by the tickets of rows not yet
    committed, and the table that gives copies of one head the same ticket is emptied at ``SEEN``
    entries.
    """

    BATCH = 128
    IN_FLIGHT = 32
    SEEN = 65536

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix="magic")
        self._filling = _Batch()
        self._waiting: deque[Future[list[str | None]]] = deque()
        self._seen: dict[bytes, Ticket] = {}

    def add(self, head: bytes) -> Ticket:
        """A ticket for the type of ``head`` (``empty`` at once for no bytes); copies of one head share a ticket."""
        if not head:
            return "empty"
        key = hashlib.blake2b(head, digest_size=16).digest()
        ticket = self._seen.get(key)
        if ticket is None:
            if len(self._seen) >= self.SEEN:
                self._seen.clear()
            ticket = self._seen[key] = (self._filling, len(self._filling.heads))
            self._filling.heads.append(head)
            if len(self._filling.heads) >= self.BATCH:
                self._submit()
        return ticket

    @staticmethod
    def ready(ticket: Ticket) -> bool:
        return isinstance(ticket, str) or (ticket[0].future is not None and ticket[0].future.done())

    def result(self, ticket: Ticket) -> str | None:
        """The type behind a ticket, waiting for its batch (which is sent now if it was still filling)."""
        if isinstance(ticket, str):
            return ticket
        batch, index = ticket
        if batch.future is None:
            self._submit()
        assert batch.future is not None
        return batch.future.result()[index]

    def _submit(self) -> None:
        batch, self._filling = self._filling, _Batch()
        while self._waiting and (self._waiting[0].done() or len(self._waiting) >= self.IN_FLIGHT):
            self._waiting.popleft().result()
        batch.future = self._pool.submit(self._describe, batch.heads)
        batch.heads = []  # the typing thread holds them until it is done
        self._waiting.append(batch.future)

    def _describe(self, heads: list[bytes]) -> list[str | None]:
        if not hasattr(self._local, "typer"):
            self._local.typer = _typer()
        typer = self._local.typer
        if typer is None:
            return [None] * len(heads)
        if hasattr(typer, "describe"):
            return list(typer.describe(heads))
        out: list[str | None] = []
        for head in heads:
            try:
                out.append(str(typer.from_buffer(head)))
            except Exception:  # libmagic reports hostile input as generic errors; a type is optional
                out.append(None)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _typer() -> Any:
    """A libmagic handle for one thread: the C batch typer, else python-magic, else None (no libmagic)."""
    try:
        from evkit.case._magicbatch import Typer

        return Typer()
    except ImportError:
        pass
    except OSError:
        return None
    try:
        import magic

        return magic.Magic()
    except (ImportError, OSError):
        return None


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
        self.pending: list[list[Any]] = []
        self.pending_bytes = 0
        self.typer = FileTyper()
        self.root = str(case.root)
        self.made: set[str] = set()
        self.run_rows: list[tuple[str, str]] = []
        self.run_bytes = 0
        self.conflicts: list[str] = []  # entries stored under =conflicts/ (see copy)

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

    def _place(self, rel: str) -> str | None:
        """The folder for ``rel`` made and its path returned; None when the evidence's own layout
        forbids it here: a file and a folder of one name (a renamed FAT entry, an NTFS deleted
        file ``report`` beside a folder ``report``), or a path too long for the case's filesystem."""
        dest = os.path.join(self.root, rel)
        if len(dest.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
            return None
        try:
            self._makedirs(os.path.dirname(dest))
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.ENAMETOOLONG):
                return None
            raise
        return None if os.path.isdir(dest) else dest

    def copy(self, src: Any, e: Entry, parent_id: int | None = None) -> None:
        rel, renamed = self.stored_path(e)
        dest = self._place(rel)
        if dest is None:
            # Kept, with its real path in the record, under a folder no evidence name can produce
            # (safe names write "=" as "=3D").
            token = hashlib.sha256(e.locator.encode("utf-8", "surrogateescape")).hexdigest()[:16]
            rel = f"{self.base}/=conflicts/{token}/{safe_component(e.name)}"
            dest = os.path.join(self.root, rel)
            self._makedirs(os.path.dirname(dest))
            renamed = True
            self.conflicts.append(names.escape(e.path))
        raw_path = names.encode(e.path)
        row: list[Any] = [self.ev["id"], e.locator, names.escape(e.path), raw_path.hex(), rel, int(renamed), e.inode,
                          e.address, 0, e.mtime, e.atime, e.ctime, e.crtime, int(e.deleted), None, None, None,
                          parent_id, self.seq]
        row[8], row[14], row[15], row[16] = self._copy_out(src.open(e), dest)
        self.taken.add(rel.lower())
        self.pending.append(row)
        self.pending_bytes += row[8]
        if len(self.pending) >= BATCH_FILES or self.pending_bytes >= BATCH_BYTES:
            self._commit(wait=False)

    def _copy_out(self, stream: Any, dest: str) -> tuple[int, Ticket, str, str]:
        """Copy ``stream`` to a new file at ``dest``, hashing it on the way: size, type ticket, MD5, SHA-256.

        Done on this thread: a writing thread paid more in GIL hand-offs than the writes cost.
        A file left half-written by an error is removed.
        """
        md5, sha = hashlib.md5(), hashlib.sha256()
        head = b""
        size = 0
        fd = -1
        try:
            fd = _create(dest)
            while chunk := stream.read(CHUNK):
                if not head:
                    head = chunk[:MAGIC_BYTES]
                md5.update(chunk)
                sha.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
                size += len(chunk)
        except BaseException:
            if fd >= 0:
                os.close(fd)
                fd = -1
                os.unlink(dest)
            raise
        finally:
            stream.close()
            if fd >= 0:
                os.close(fd)
        return size, self.typer.add(head), md5.hexdigest(), sha.hexdigest()

    def flush(self) -> None:
        """Commit the rows of every file written so far (waiting for their types)."""
        self._commit(wait=True)

    def _commit(self, wait: bool) -> None:
        """Commit pending rows in walk order; without ``wait``, only the leading ones already typed,
        and only once they are a good share of a batch (each commit is a transaction)."""
        n = len(self.pending)
        if not wait:
            n = next((i for i, row in enumerate(self.pending) if not self.typer.ready(row[14])), n)
            if n < BATCH_FILES // 2 and self.pending_bytes < BATCH_BYTES:
                return
        if not n:
            return
        done, self.pending = self.pending[:n], self.pending[n:]
        with self.case.store.transaction() as db:
            last = db.execute("SELECT coalesce(max(id), 0) FROM artefacts").fetchone()[0]
            db.executemany(
                "INSERT INTO artefacts(evidence_id, locator, path, path_hex, stored_path, renamed, inode, address, size,"
                " mtime, atime, ctime, crtime, deleted, magic, md5, sha256, parent_id, seq)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(*row[:14], self.typer.result(row[14]), *row[15:]) for row in done])
            self.done.update(db.execute("SELECT locator, id FROM artefacts WHERE id > ?", (last,)))
        for row in done:
            self.run_rows.append((row[4], row[16]))
            self.run_bytes += row[8]
            self.pending_bytes -= row[8]

    def close(self) -> None:
        """Commit what is pending and stop the typing threads."""
        try:
            self.flush()
        finally:
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
            failed: set[str] = set()  # locators the walk could not copy (not tried again as sidecars)
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
                        failed.add(e.locator)
                        result.unreadable.append(f"{names.escape(e.path)}: {exc}")
                        if warn:
                            warn(f"{item['number']}: {names.escape(e.path)}: content not readable ({exc})")
                    if progress:
                        progress(e.path)
                w.flush()
                for path, loc in mains.items():
                    for suffix in SIDECARS:
                        side = sidecars.get(path + suffix)
                        if side is None or side.locator in w.done or side.locator in failed:
                            continue
                        try:
                            w.copy(src, side, parent_id=w.done[loc])
                            result.extracted += 1
                        except EvkitError as exc:  # the database is kept; only its sidecar is lost, said so
                            result.unreadable.append(f"{names.escape(side.path)}: {exc}")
                            if warn:
                                warn(f"{item['number']}: {names.escape(side.path)}: content not readable ({exc}); "
                                     f"{names.escape(path)} is extracted without it")
                w.close()
            for path in w.conflicts:
                result.conflicts.append(f"{item['number']}: {path}")
                if warn:
                    warn(f"{item['number']}: {path}: stored under =conflicts/ (a file and a folder of this name, "
                         "or a path too long to copy out as it is)")
            result.bytes += w.run_bytes
            listing = hashlib.sha256("".join(f"{p}\t{h}\n" for p, h in sorted(w.run_rows)).encode()).hexdigest()
            run.outputs.append({"evidence_number": item["number"], "artefacts": len(w.run_rows),
                                "bytes": w.run_bytes, "listing_sha256": listing})
        _syncfs(case.root)
        result.evidence_recheck = rechecking.result()
        run.details["evidence_recheck"] = result.evidence_recheck
        run.details["already_extracted"] = result.already
        run.details["unreadable"] = result.unreadable[:1000]
        run.details["stored_under_conflicts"] = result.conflicts[:1000]
    return result
