"""Court-ready reports of a case's records: HTML, CSV, XLSX, KML, GeoJSON, a timeline CSV and PDF.

A report is a product of the case, handled exactly like an export (:mod:`evkit.exporters`): it is
written under ``data/reports/`` inside a custody run, every file it consists of is recorded in the
``outputs`` table with its size, MD5 and SHA-256, the run's custody event lists them, and the bag
manifests written when the run closes cover them, so ``evkit verify`` checks a report like any
other file of the case.

Each format is first written outside ``data/`` (in ``.report-partial/`` at the case root, or as a
``.export-report-*.partial`` file), then moved into place: a folder format (HTML, CSV) replaces its
whole folder, a file format its file. Running the report again replaces the formats it writes and
leaves the others. A run killed half-way is finished by running ``evkit report`` again: files the
interrupted run left (recorded by it, not recorded at all, or changed since they were recorded) are
removed first, and the custody event names them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evkit.case.bag import file_hashes, fsync_dir
from evkit.case.case import Case, CaseError
from evkit.case.custody import read_events
from evkit.errors import UsageError
from evkit.exporters import _write_atomically

REPORT_DIR = "data/reports"
FORMAT_NAMES = ("html", "csv", "xlsx", "kml", "geojson", "timeline", "pdf")
DEFAULT_FORMATS = ("html", "csv", "xlsx", "kml", "geojson", "timeline")
TARGETS = {"html": f"{REPORT_DIR}/html", "csv": f"{REPORT_DIR}/csv", "xlsx": f"{REPORT_DIR}/report.xlsx",
           "kml": f"{REPORT_DIR}/located.kml", "geojson": f"{REPORT_DIR}/located.geojson",
           "timeline": f"{REPORT_DIR}/timeline.csv", "pdf": f"{REPORT_DIR}/report.pdf"}
FOLDERS = ("html", "csv")
STAGING = ".report-partial"
LISTED_FILES = 500  # a format with more files is summarised in the custody event by its listing hash


@dataclass
class FormatResult:
    format: str
    path: str                 # relative to the case folder (a folder for html and csv)
    files: list[dict[str, Any]]
    items: int                # records (or pages, for PDF) written

    @property
    def size(self) -> int:
        return sum(f["size"] for f in self.files)

    def listing_sha256(self) -> str:
        lines = "".join(f"{f['path']}\t{f['sha256']}\n" for f in sorted(self.files, key=lambda f: f["path"]))
        return hashlib.sha256(lines.encode("utf-8")).hexdigest()

    def custody(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": self.format, "path": self.path, "items": self.items}
        if self.format in FOLDERS:
            out.update({"files": len(self.files), "size": self.size, "listing_sha256": self.listing_sha256()})
            if len(self.files) <= LISTED_FILES:
                out["file_hashes"] = self.files
        else:
            f = self.files[0]
            out.update({"size": f["size"], "md5": f["md5"], "sha256": f["sha256"]})
        return out


@dataclass
class ReportResult:
    formats: list[FormatResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    records: int = 0
    seq: int | None = None
    tz: str | None = None
    discarded: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "seq": self.seq, "tz": self.tz, "skipped": self.skipped,
                "discarded": self.discarded, "formats": [f.custody() for f in self.formats]}


def parse_formats(values: list[str] | None) -> list[str]:
    """``--format html,csv --format pdf`` -> ["html", "csv", "pdf"]; none given -> every format but PDF."""
    out: list[str] = []
    for v in values or []:
        for part in v.split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name == "all":
                out += [f for f in FORMAT_NAMES if f not in out]
                continue
            if name not in FORMAT_NAMES:
                raise UsageError(f"unknown report format {part.strip()!r}; choose from: {', '.join(FORMAT_NAMES)} (comma-separated)")
            if name not in out:
                out.append(name)
    return out or list(DEFAULT_FORMATS)


def check_zone(tz: str | None) -> str | None:
    if tz is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = tz.strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"--tz {tz!r}: not a time zone name (use an IANA name such as Europe/Paris or America/New_York)") from None
    return name


def unavailable(fmt: str) -> str | None:
    if fmt == "pdf":
        from evkit.reports.pdf import pdf_available

        return pdf_available()
    return None


def load_profiles(extra: list[str] | None, warn: Callable[[str], None] | None) -> dict[str, Any]:
    from evkit.profiles.loader import load_all

    if extra:
        return load_all(extra)
    try:
        return load_all()
    except UsageError as exc:
        if warn:
            warn(f"profile definitions could not be loaded ({exc}); records are shown with their stored column names")
        return {}


def report_case(case: Case, formats: list[str] | None = None, tz: str | None = None,
                profile_dirs: list[str] | None = None, warn: Callable[[str], None] | None = None) -> ReportResult:
    """Write the chosen formats under ``data/reports/`` and record them (custody event, outputs rows, bag)."""
    chosen = parse_formats(formats)
    zone = check_zone(tz)
    result = ReportResult(tz=zone)
    for fmt in chosen:
        reason = unavailable(fmt)
        if reason:
            result.skipped[fmt] = reason
    todo = [f for f in chosen if f not in result.skipped]
    if not todo:
        return result
    profiles = load_profiles(profile_dirs, warn)
    db = case.store.db
    clash = db.execute("SELECT stored_path FROM artefacts WHERE lower(stored_path) = lower(?) OR lower(substr(stored_path, 1, ?)) = lower(?) LIMIT 1",
                       (REPORT_DIR, len(REPORT_DIR) + 1, REPORT_DIR + "/")).fetchone()
    if clash is not None:
        raise CaseError(f"{case.root}: {clash[0]} is an extracted artefact under {REPORT_DIR}/ (evidence numbered 'reports'?); "
                        "reports cannot be written there")
    events, problems = read_events(case.custody.path)
    if problems:
        raise CaseError(f"{case.root}: custody log is broken at line {problems[0].line} ({problems[0].reason}); "
                        "run `evkit verify` before reporting")
    counts = {f"{r[0]}/{r[1]}": r[2] for r in db.execute("SELECT profile, artifact, count(*) FROM records GROUP BY profile, artifact ORDER BY 1, 2")}
    tags = int(db.execute("SELECT count(*) FROM tags").fetchone()[0])
    inputs = [{"records": sum(counts.values()), "records_by_artifact": counts, "tags": tags,
               "custody_events": len(events), "custody_head": events[-1]["hash"] if events else None}]
    details: dict[str, Any] = {"formats": todo, "tz": zone}
    if result.skipped:
        details["skipped"] = result.skipped
    with case.run("report", inputs, key="report", details=details) as run:
        result.seq = run.seq
        if run.resumed is not None:
            old_seq = run.resumed.get("seq")
            result.discarded = _discard_unfinished(case, {run.seq, old_seq} - {None})
            if result.discarded:
                run.details["discarded"] = result.discarded[:1000]
        staging = case.root / STAGING
        _remove_tree(staging)
        staging.mkdir()
        from evkit.reports.collect import collect

        data = collect(case, zone, profiles, run.seq)
        result.records = data.records
        thumbs: dict[int, str] = {}
        fallback = False
        if "html" in todo or "pdf" in todo:
            from evkit.reports.thumbs import make_thumbnails, pillow_available

            if pillow_available():
                thumbs = make_thumbnails(data, case.root, staging / "thumbs")
            else:
                fallback = True
        for fmt in todo:
            try:
                result.formats.append(_produce(case, data, fmt, staging, thumbs, fallback))
            except Exception as exc:
                if fmt != "pdf":
                    raise
                # WeasyPrint failing on one document must not leave the case with an unfinished run.
                result.skipped[fmt] = f"WeasyPrint could not render the report: {type(exc).__name__}: {exc}".splitlines()[0]
                run.details.setdefault("skipped", {})[fmt] = result.skipped[fmt]
        with case.store.transaction() as tx:
            for fr in result.formats:
                target = TARGETS[fr.format]
                if fr.format in FOLDERS:
                    tx.execute("DELETE FROM outputs WHERE substr(stored_path, 1, ?) = ?", (len(target) + 1, target + "/"))
                else:
                    tx.execute("DELETE FROM outputs WHERE stored_path = ?", (target,))
                tx.executemany("INSERT OR REPLACE INTO outputs(stored_path, size, md5, sha256, seq, kind) VALUES (?, ?, ?, ?, ?, ?)",
                               [(f["path"], f["size"], f["md5"], f["sha256"], run.seq, f"report-{fr.format}") for f in fr.files])
        run.outputs.extend(fr.custody() for fr in result.formats)
        _remove_tree(staging)
    return result


def _produce(case: Case, data: Any, fmt: str, staging: Path, thumbs: dict[int, str], fallback: bool) -> FormatResult:
    rel = TARGETS[fmt]
    if fmt in FOLDERS:
        folder = staging / fmt
        folder.mkdir()
        items = _write_folder(case, data, fmt, folder, staging, thumbs, fallback)
        files = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            sub = path.relative_to(folder).as_posix()
            os.chmod(path, 0o444)  # like exports: a report file is not for editing in place
            hashes = file_hashes(path, ("md5", "sha256"))
            files.append({"path": f"{rel}/{sub}", "size": path.stat().st_size, "md5": hashes["md5"], "sha256": hashes["sha256"]})
        _swap_folder(case, folder, rel)
        return FormatResult(fmt, rel, files, items)
    writer = _file_writer(data, fmt, staging, thumbs)
    items = _write_atomically(case, rel, f"report-{fmt}", writer)
    hashes = file_hashes(case.root / rel, ("md5", "sha256"))
    return FormatResult(fmt, rel, [{"path": rel, "size": (case.root / rel).stat().st_size, "md5": hashes["md5"],
                                    "sha256": hashes["sha256"]}], items)


def _write_folder(case: Case, data: Any, fmt: str, folder: Path, staging: Path, thumbs: dict[int, str], fallback: bool) -> int:
    if fmt == "html":
        from evkit.reports.html import THUMB_DIR, Pages

        if thumbs:
            (folder / THUMB_DIR).mkdir()
            for name in thumbs.values():
                src, dst = staging / "thumbs" / name, folder / THUMB_DIR / name
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copyfile(src, dst)
        Pages(data, folder, thumbs, fallback).write()
        return int(data.records)
    from evkit.reports.tabular import csv_name, write_csv

    n = 0
    for g in data.groups:
        fd = os.open(folder / csv_name(g), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            n += write_csv(data, g, fh)
    return n


def _file_writer(data: Any, fmt: str, staging: Path, thumbs: dict[int, str]) -> Callable[[Any], int]:
    if fmt == "xlsx":
        from evkit.reports.tabular import write_xlsx

        return lambda fh: write_xlsx(data, fh)
    if fmt == "timeline":
        from evkit.reports.tabular import write_timeline_csv

        return lambda fh: write_timeline_csv(data, fh)
    if fmt == "kml":
        from evkit.reports.geo import write_kml

        return lambda fh: write_kml(data, fh)
    if fmt == "geojson":
        from evkit.reports.geo import write_geojson

        return lambda fh: write_geojson(data, fh)
    if fmt == "pdf":
        from evkit.reports.pdf import write_pdf

        return lambda fh: write_pdf(data, fh, staging, thumbs)
    raise AssertionError(fmt)


def _swap_folder(case: Case, staged: Path, rel: str) -> None:
    """Replace ``rel`` (a folder under data/reports) by ``staged``, after the staged files are on disk."""
    from evkit.case.extract import _syncfs

    dest = case.root / rel
    for p in (dest.parent.parent, dest.parent, dest):
        if p.is_symlink() or (p.exists() and not p.is_dir()):
            raise CaseError(f"{case.root}: {p.relative_to(case.root)} is not a plain folder; refusing to write there")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _syncfs(case.root)
    old = staged.parent / f"{staged.name}.old"
    if dest.exists():
        os.rename(dest, old)
    os.rename(staged, dest)
    fsync_dir(dest.parent)
    _remove_tree(old)


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _discard_unfinished(case: Case, seqs: set[int]) -> list[str]:
    """Remove what an interrupted report left, so the resumed run ends as a clean run would.

    The interrupted run may have moved a format into place with or without recording it: rows it
    recorded go, and so does any report file that is not recorded or no longer matches its row.
    """
    db = case.store.db
    root = case.root
    prefix = REPORT_DIR + "/"
    removed: list[str] = []
    rows = db.execute("SELECT stored_path, size, md5, sha256, seq FROM outputs WHERE substr(stored_path, 1, ?) = ?",
                      (len(prefix), prefix)).fetchall()
    drop = []
    for path, size, md5, sha, seq in rows:
        p = root / path
        if seq in seqs or not p.is_file() or p.is_symlink() or p.stat().st_size != size \
                or file_hashes(p, ("md5", "sha256")) != {"md5": md5, "sha256": sha}:
            drop.append(path)
    with case.store.transaction() as tx:
        tx.executemany("DELETE FROM outputs WHERE stored_path = ?", [(p,) for p in drop])
    for path in drop:
        p = root / path
        if p.is_file() or p.is_symlink():
            p.unlink()
        removed.append(path)
    tracked = {r[0] for r in db.execute("SELECT stored_path FROM outputs WHERE substr(stored_path, 1, ?) = ?", (len(prefix), prefix))}
    folder = root / REPORT_DIR
    if folder.is_dir() and not folder.is_symlink():
        for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
            for name in filenames:
                p = Path(dirpath) / name
                rel = p.relative_to(root).as_posix()
                if rel not in tracked:
                    p.unlink()
                    removed.append(rel)
            for name in dirnames:
                d = Path(dirpath) / name
                if d.is_symlink():
                    d.unlink()
                    removed.append(d.relative_to(root).as_posix())
                elif not any(d.iterdir()):
                    d.rmdir()
    _remove_tree(root / STAGING)
    return sorted(set(removed))
