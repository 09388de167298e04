"""``evkit batch``: process many cases from a YAML or CSV job file, in parallel and resumably."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_PARTIAL, UsageError


def batch(
    jobs: Annotated[Path, typer.Argument(help="Job file: .yaml/.yml, or .csv (see docs/batch.md).")],
    workers: Annotated[Optional[int], typer.Option("--workers", "-w", help="Jobs at a time (default: one per CPU; on a remote cluster, its thread count).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout: every job's status, counts and durations, and totals.")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="After a job fails, start no more jobs (running ones finish).")] = False,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run on a Dask cluster: tcp://HOST:PORT, or 'local' for a LocalCluster (needs evkit\\[cluster]).")] = None,
    cases_dir: Annotated[Optional[Path], typer.Option("--cases-dir", help="Folder of the case folders (required for CSV; replaces the YAML's cases_dir).")] = None,
    examiner: Annotated[Optional[str], typer.Option("--examiner", help="Examiner of new cases (required for CSV; replaces the YAML's).")] = None,
    agency: Annotated[Optional[str], typer.Option("--agency", help="Agency of new cases (replaces the YAML's).")] = None,
    profile: Annotated[Optional[list[str]], typer.Option("--profile", "-p", help="Default profile id for jobs naming none (repeatable; replaces the YAML's profiles).")] = None,
    report: Annotated[Optional[list[str]], typer.Option("--report", help="Report format for every job (repeatable; replaces the YAML's report).")] = None,
) -> None:
    """Create or open each job's case, add its evidence, extract, run profiles, report and verify.

    Jobs run in parallel; a failed job never stops the others. Running the same file again skips finished jobs, resumes interrupted ones and retries failed ones. Exit 0 when every job is ok or skipped, 4 when some failed, 2 when the job file is wrong (nothing is started then).
    """
    from evkit.batch.display import PlainDisplay, RichDisplay, outcome
    from evkit.batch.jobfile import Settings, load_jobs
    from evkit.batch.runner import default_workers, run_batch, totals
    from evkit.profiles.loader import load_all

    if workers is not None and workers < 1:
        raise UsageError("--workers must be 1 or more")
    if scheduler is not None and scheduler != "local" and "://" not in scheduler:
        raise UsageError(f"--scheduler {scheduler}: give 'local' or an address such as tcp://HOST:8786")
    if workers is None and scheduler in (None, "local"):
        workers = default_workers()
    settings = Settings(cases_dir=cases_dir, examiner=examiner, agency=agency, profiles=profile, report=report)
    specs = load_jobs(jobs, settings, load_all(), sys.argv[:])

    started = time.perf_counter()
    display = RichDisplay(specs, common.color_enabled()) if common.show_progress() else PlainDisplay(specs, common.SETTINGS.quiet)
    with display:
        results = run_batch(specs, workers, fail_fast, scheduler, display)
    summary = totals(results, time.perf_counter() - started)
    if json_out:
        common.emit_json({"jobs_file": str(jobs.resolve()), "scheduler": scheduler, "workers": workers,
                          "jobs": results, "totals": summary})
    else:
        for r in results:
            print(f"{r['case_number']}: {outcome(r)}  [{common.shown(r['case'])}]")
        print(", ".join(f"{summary[s]} {s}" for s in ("ok", "skipped", "failed", "cancelled") if summary[s] or s == "ok")
              + f"; {summary['artefacts']} artefacts, {summary['records']} records in {summary['seconds']:.1f} s")
    if summary["failed"] or summary["cancelled"]:
        raise typer.Exit(EXIT_PARTIAL)
