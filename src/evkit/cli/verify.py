"""``evkit verify``: re-hash a case folder and check its custody chain and signature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_MISMATCH


def verify(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    public_key: Annotated[Optional[Path], typer.Option("--public-key", help="Check the signature with this key instead of the embedded one.")] = None,
    evidence: Annotated[bool, typer.Option("--evidence", help="Also re-hash the original evidence files (images, segments, folders) against their registration; slow: reads every byte.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document: every file's status, the problems, the signature, the evidence re-check.")] = False,
) -> None:
    """List every file as matched, modified, missing or new; exit 0 only when all is intact."""
    from evkit.case import caselog
    from evkit.case.custody import FILENAME as CUSTODY_FILE
    from evkit.case.verify import verify_case
    from evkit.errors import UsageError

    if not case.is_dir():
        raise UsageError(f"{case}: no such case folder")
    log = caselog.for_case(case) if (case / CUSTODY_FILE).is_file() else None  # never a log in a folder that is no case
    if evidence and common.show_progress(json_out):
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

        from evkit.case.verify import registered_evidence

        total = sum(f.get("size") or 0 for _, files in registered_evidence(case) for f in files if f.get("kind") != "folder")
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task("re-hashing evidence", total=total or None)
            report = verify_case(case, public_key, evidence=True, progress=lambda n: bar.advance(task, n))
    else:
        report = verify_case(case, public_key, evidence=evidence)
    if log is not None:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items()))
        if report.ok:
            log.info(f"verify: case intact; {counts}; {report.events} custody events")
        else:
            more = f" (and {len(report.problems) - 5} more)" if len(report.problems) > 5 else ""
            log.error(f"verify: CASE NOT INTACT; {counts}; problems: {'; '.join(report.problems[:5])}{more}"
                      + (f"; interrupted run: {report.interrupted.get('action')}" if report.interrupted else ""))
    if json_out:
        common.emit_json(report.as_dict())
    elif common.SETTINGS.quiet and report.ok:
        pass  # --quiet: the exit code says intact; nothing on stdout
    else:
        for f in report.files:
            if f["status"] != "matched" or common.SETTINGS.verbose:
                extra = " (from the interrupted run)" if f.get("interrupted_run") else ""
                print(f"{f['status']:<9} {f['kind']:<8} {common.shown(f['path'])}{extra}")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items()))
        print(f"{counts}; custody log: {report.events} events")
        if report.interrupted:
            print(f"interrupted run: {report.interrupted.get('action')} started {report.interrupted.get('started')} "
                  f"({' '.join(report.interrupted.get('command') or [])}); run it again to resume")
        if report.signature:
            sig = report.signature
            print(f"signature: {'valid' if sig['valid'] else 'INVALID'}, key {sig.get('fingerprint')}"
                  + (f"; signed at custody event {sig['signed_at_event']}" if "signed_at_event" in sig else ""))
            later = sig.get("later_events") or []
            if later:
                shown = ", ".join(f"{e['seq']} {e['action']} ({e['time']})" for e in later[:10])
                more = f" and {len(later) - 10} more" if len(later) > 10 else ""
                print(f"  {len(later)} later event(s), an intact continuation not covered by the signature: {shown}{more}")
        if report.evidence is None:
            print("evidence: not re-hashed (verify --evidence re-hashes the original evidence files)")
        else:
            for number, state in report.evidence.items():
                print(f"evidence {common.shown(number)}: {common.shown(state)}")
        for p in report.problems:
            print(f"problem: {common.shown(p)}")
        print("case intact" if report.ok else "CASE NOT INTACT")
    if not report.ok:
        raise typer.Exit(EXIT_MISMATCH)
