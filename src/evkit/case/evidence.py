"""Registering evidence in a case, and re-checking after each run that it has not changed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evkit.case.bag import file_hashes
from evkit.case.case import Case, CaseError
from evkit.timefmt import iso_utc


RESERVED_NUMBERS = {"reports", "exports"}


def evidence_files(src: Any) -> list[Path]:
    """The files that make up an evidence item: every segment, parent or backing file."""
    if src.media is not None:
        return [Path(p) for p in src.media.segments]
    return [src.path] if src.path.is_file() else []


def fingerprint(files: list[Path]) -> list[dict[str, Any]]:
    out = []
    for p in files:
        st = p.stat()
        out.append({"name": p.name, "path": str(p.resolve()), "size": st.st_size,
                    "mtime": iso_utc(int(st.st_mtime_ns // 10**9), st.st_mtime_ns % 10**9),
                    "sha256": file_hashes(p)["sha256"]})
    return out


def folder_digest(root: Path) -> dict[str, Any]:
    """A folder's fingerprint: SHA-256 over the sorted ``path<TAB>size<TAB>sha256`` lines of its files.

    A folder has no single media stream; this digest plays that role, so a changed, added or
    removed file is caught by the re-check after each run. Symlinks are recorded, not followed.
    """
    import hashlib

    lines = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix().encode("utf-8", "surrogateescape").hex()
            if p.is_symlink():
                lines.append(f"{rel}\tlink\t{os.readlink(p)}")
                continue
            size = p.stat().st_size
            total += size
            lines.append(f"{rel}\t{size}\t{file_hashes(p)['sha256']}")
    digest = hashlib.sha256("\n".join(sorted(lines)).encode("utf-8", "surrogateescape")).hexdigest()
    return {"name": root.name, "path": str(root.resolve()), "kind": "folder", "files": len(lines), "size": total,
            "sha256": digest}


def add_evidence(case: Case, source: str, number: str, description: str | None = None,
                 progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Hash, verify and record one evidence item; re-adding the identical item changes nothing."""
    from evkit.media_hash import hash_media
    from evkit.sources.source import open_source

    if not number.strip():
        raise CaseError("--evidence-number must not be empty")
    if number.strip().lower() in RESERVED_NUMBERS:
        raise CaseError(f"evidence number {number!r} is reserved (data/{number.lower()} holds evkit's own output)")
    from evkit.errors import EvidenceError

    try:
        src = open_source(source)
    except EvidenceError as exc:
        # Unreadable filesystems (encrypted, damaged) still get registered and hashed: the
        # container opens, and the reason is kept with the evidence's info.
        src = open_source(source, filesystems=False)
        src.notes.append(f"filesystems not readable: {exc.reason}")
    with src:
        files = fingerprint(evidence_files(src)) if src.path.is_file() or src.media is not None else [folder_digest(src.path)]
        existing = case.store.db.execute("SELECT * FROM evidence WHERE number = ?", (number,)).fetchone()
        if existing is not None:
            if json.loads(existing["files"]) and [f["sha256"] for f in json.loads(existing["files"])] == [f["sha256"] for f in files]:
                return {**dict(existing), "already_registered": True}
            raise CaseError(f"{case.root}: evidence number {number!r} is already used for {existing['source_path']}")
        inputs = [{"evidence_number": number, "source": str(Path(source).resolve()), "files": files}]
        with case.run("evidence-add", inputs, key=f"evidence-add:{number}") as run:
            info = src.info()
            result = None
            if src.media is not None or src.path.is_file():
                result = hash_media(src, ["md5", "sha1", "sha256"], verify=True, progress=progress)
            st = Path(source).stat()
            row = {
                "number": number, "description": description or "", "source_path": str(Path(source).resolve()),
                "source_name": Path(source).name, "source_size": st.st_size,
                "source_mtime": iso_utc(int(st.st_mtime_ns // 10**9), st.st_mtime_ns % 10**9),
                "source_ctime": iso_utc(int(st.st_ctime_ns // 10**9), st.st_ctime_ns % 10**9),
                "files": json.dumps(files), "format": info.get("container", {}).get("format", src.kind),
                "kind": src.kind, "media_size": result.size if result else None, "info": json.dumps(info, default=str),
                "stored_hashes": json.dumps(result.stored if result else {}),
                "md5": result.hashes.get("md5") if result else None,
                "sha1": result.hashes.get("sha1") if result else None,
                "sha256": result.hashes.get("sha256") if result else files[0]["sha256"],
                "verified": None if not result or result.verified is None else int(bool(result.verified)),
                "chunk_errors": len(result.chunk_errors) if result and result.chunks_checked is not None else None,
                "added_seq": run.seq,
            }
            with case.store.transaction() as db:
                db.execute(f"INSERT INTO evidence({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
            run.outputs.append({"evidence_number": number, "md5": row["md5"], "sha1": row["sha1"], "sha256": row["sha256"],
                                "media_size": row["media_size"], "stored_hashes": json.loads(row["stored_hashes"]),
                                "verified": result.verified if result else None,
                                "chunk_errors": result.chunk_errors if result else []})
    return row


class Recheck:
    """The re-check of evidence files, hashed beside the run that reads them.

    Hashing a large image again after a run costs as much as reading it once more; done in a
    thread from the start of the run, it overlaps with the run's own work (hashlib releases the
    GIL). Each file's ``stat`` is taken before it is hashed and again when the result is asked
    for: any write to the file between the two changes its ctime (which no user can set back) or
    size, and a file whose ``stat`` moved is hashed again then, as if nothing had been done early.
    Folders have no such guard for the files inside them, so they are digested at the end.
    """

    def __init__(self, case: Case, numbers: list[str]) -> None:
        import threading

        self._items = [(ev["number"], json.loads(ev["files"])) for ev in case.evidence() if ev["number"] in numbers]
        self._stats: dict[str, tuple[int, ...] | None] = {}
        self._digests: dict[str, str | None] = {}
        for _, files in self._items:
            for f in files:
                if f.get("kind") != "folder":
                    self._stats[f["path"]] = _stat_key(Path(f["path"]))
        self._thread = threading.Thread(target=self._hash_files, name="evidence-recheck", daemon=True)
        self._thread.start()

    def _hash_files(self) -> None:
        for path, st in self._stats.items():
            try:
                self._digests[path] = file_hashes(Path(path))["sha256"] if st is not None else None
            except OSError:
                self._digests[path] = None

    def result(self) -> dict[str, str]:
        """``unchanged``, or what changed, per evidence number."""
        self._thread.join()

        def digest(f: dict[str, Any], now: tuple[int, ...]) -> str | None:
            if now == self._stats[f["path"]]:
                return self._digests.get(f["path"])
            return file_hashes(Path(f["path"]))["sha256"]

        return {number: _compare(files, digest) for number, files in self._items}


def recheck_registered(items: list[tuple[str, list[dict[str, Any]]]],
                       progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Re-hash registered evidence files now (``verify --evidence``): ``unchanged`` or what changed,
    per evidence number. ``progress`` is called with each block's byte count."""

    def digest(f: dict[str, Any], now: tuple[int, ...]) -> str | None:
        return file_hashes(Path(f["path"]), progress=progress)["sha256"]

    return {number: _compare(files, digest) for number, files in items}


def _compare(files: list[dict[str, Any]], digest: Callable[[dict[str, Any], tuple[int, ...]], str | None]) -> str:
    """One evidence item's registered files against what is on disk now."""
    problems = []
    for f in files:
        p = Path(f["path"])
        if f.get("kind") == "folder":
            if not p.exists():
                problems.append(f"{f['name']} is missing")
            elif folder_digest(p)["sha256"] != f["sha256"]:
                problems.append(f"folder {f['name']} CHANGED since it was added (a file was changed, added or removed)")
            continue
        now = _stat_key(p)
        if now is None:
            problems.append(f"{f['name']} is missing")
            continue
        try:
            got = digest(f, now)
        except OSError as exc:
            problems.append(f"{f['name']} cannot be read ({exc.strerror})")
            continue
        if now[0] != f["size"] or got != f["sha256"]:
            problems.append(f"{f['name']} CHANGED since it was added (sha256 differs)")
    return "; ".join(problems) if problems else "unchanged"


def _stat_key(p: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_size, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns

