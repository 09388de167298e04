"""Exporting a case to exchange formats (DFXML, CASE/UCO), as files inside the case itself.

An export is evidence of what the case held when it was made, so it is treated like any other
product of the case: it is written under ``data/exports/`` (never outside the case folder), inside
a custody run, and recorded in the ``outputs`` table with its hashes. The run's custody event names
the file and its hashes, and the bag manifests written when the run closes cover it, so ``evkit
verify`` checks an export exactly as it checks an extracted file.

A format's writer reads the case (store and custody log) and streams its document to a binary file;
the file is written under a temporary name in the case root, synced, and renamed into place, so a run
killed half-way never leaves a truncated export under ``data/``. Running the same export again
(after a crash or to refresh it) replaces the file and its ``outputs`` row.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from evkit.case.bag import file_hashes, fsync_dir
from evkit.case.case import Case, CaseError
from evkit.case.custody import read_events
from evkit.case.safenames import safe_component
from evkit.errors import UsageError

EXPORT_DIR = "data/exports"


@dataclass(frozen=True)
class Format:
    """One export format: its file suffix, its ``outputs.kind`` and the function that writes it."""

    suffix: str
    kind: str
    writer: Callable[["ExportSource", BinaryIO], int]


@dataclass
class ExportSource:
    """What a writer reads: the open case, its custody events, and the run doing the export."""

    case: Case
    events: list[dict[str, Any]]
    command: list[str]
    started: str


@dataclass
class ExportResult:
    format: str
    path: str           # relative to the case folder
    size: int
    md5: str
    sha256: str
    artefacts: int      # artefacts described in the export

    def as_dict(self) -> dict[str, Any]:
        return {"format": self.format, "path": self.path, "size": self.size, "md5": self.md5,
                "sha256": self.sha256, "artefacts": self.artefacts}


def _formats() -> dict[str, Format]:
    from evkit.exporters import caseuco, dfxml

    return {"dfxml": Format(".dfxml", "export-dfxml", dfxml.write),
            "case-uco": Format(".case.jsonld", "export-case-uco", caseuco.write)}


FORMAT_NAMES = ("dfxml", "case-uco")


def _file_name(case: Case, fmt: Format, output: str | None) -> str:
    """The export's file name: a single safe component, so the file can only land in data/exports/."""
    if output is None:
        return safe_component(str(case.meta.get("case_number") or "case")) + fmt.suffix
    if output != output.strip() or "/" in output or "\\" in output or output in ("", ".", ".."):
        raise UsageError(f"--output {output!r}: give a file name only; exports are always written to {EXPORT_DIR}/")
    if safe_component(output) != output or output.startswith("."):
        raise UsageError(f"--output {output!r}: not a safe file name (no control characters, % \\ : * ? \" < > |, "
                         f"leading dot, trailing dot or space, or reserved device name)")
    return output


def export_case(case: Case, format_name: str, output: str | None = None) -> ExportResult:
    """Write ``data/exports/<name>`` in the chosen format and record it (custody event, outputs row, bag)."""
    formats = _formats()
    if format_name not in formats:
        raise UsageError(f"unknown export format {format_name!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    fmt = formats[format_name]
    rel = f"{EXPORT_DIR}/{_file_name(case, fmt, output)}"
    clash = case.store.db.execute("SELECT 1 FROM artefacts WHERE lower(stored_path) = lower(?)", (rel,)).fetchone()
    if clash is not None:
        raise CaseError(f"{case.root}: {rel} is an extracted artefact; choose another --output name")
    events, problems = read_events(case.custody.path)
    if problems:
        raise CaseError(f"{case.root}: custody log is broken at line {problems[0].line} ({problems[0].reason}); "
                        "run `evkit verify` before exporting")
    artefacts = int(case.store.db.execute("SELECT count(*) FROM artefacts").fetchone()[0])
    inputs = [{"format": format_name, "custody_events": len(events),
               "custody_head": events[-1]["hash"] if events else None, "artefacts": artefacts}]
    with case.run("export", inputs, key=f"export:{format_name}") as run:
        if run.resumed is not None:
            _discard_unfinished(case, run.seq)
        marker = case.pending() or {}
        source = ExportSource(case, events, list(marker.get("command") or []), str(marker.get("started") or ""))
        described = _write_atomically(case, rel, format_name, lambda fh: fmt.writer(source, fh))
        hashes = file_hashes(case.root / rel, ("md5", "sha256"))
        size = (case.root / rel).stat().st_size
        with case.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO outputs(stored_path, size, md5, sha256, seq, kind) VALUES (?, ?, ?, ?, ?, ?)",
                       (rel, size, hashes["md5"], hashes["sha256"], run.seq, fmt.kind))
        run.outputs.append({"path": rel, "format": format_name, "size": size, "md5": hashes["md5"],
                            "sha256": hashes["sha256"], "artefacts": described})
    return ExportResult(format_name, rel, size, hashes["md5"], hashes["sha256"], described)


def _write_atomically(case: Case, rel: str, format_name: str, write: Callable[[BinaryIO], int]) -> int:
    """Write to a temporary file outside ``data/``, sync, then rename into ``rel`` (replacing any old export)."""
    dest = case.root / rel
    if dest.parent.is_symlink() or (dest.is_symlink() or (dest.exists() and not dest.is_file())):
        raise CaseError(f"{case.root}: {rel} (or its folder) is not a regular file; refusing to write there")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = case.root / f".export-{format_name}.partial"
    tmp.unlink(missing_ok=True)  # left read-only by a run killed between chmod and rename
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        count = write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o444)
    os.replace(tmp, dest)
    fsync_dir(dest.parent)
    return count


def _discard_unfinished(case: Case, seq: int) -> None:
    """Remove what an interrupted export left, so the resumed run ends as a clean run would.

    The interrupted attempt may have renamed its file into place and even recorded it (its row now
    carries this run's ``seq``) without reaching its custody event; resumed under another
    ``--output`` name, that file would otherwise stay in the case without being in the custody log.
    """
    db = case.store.db
    stale = [r[0] for r in db.execute("SELECT stored_path FROM outputs WHERE seq=?", (seq,))]
    with case.store.transaction():
        db.execute("DELETE FROM outputs WHERE seq=?", (seq,))
    for rel in stale:
        (case.root / rel).unlink(missing_ok=True)
    folder = case.root / EXPORT_DIR
    if not folder.is_dir() or folder.is_symlink():
        return
    tracked = {r[0] for r in db.execute("SELECT stored_path FROM outputs UNION ALL SELECT stored_path FROM artefacts")}
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink() and f"{EXPORT_DIR}/{path.name}" not in tracked:
            path.unlink()
