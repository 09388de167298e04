"""Running a checked list of jobs on the chosen workers, and summing up what happened."""

from __future__ import annotations

import os
from typing import Any

from evkit.batch.display import Sink
from evkit.batch.job import result_for
from evkit.batch.jobfile import JobSpec

STATUSES = ("ok", "failed", "skipped", "cancelled")


def default_workers() -> int:
    """The CPUs this process may use (a container's or taskset's limit, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_batch(specs: list[JobSpec], workers: int | None, fail_fast: bool, scheduler: str | None,
              sink: Sink) -> list[dict[str, Any]]:
    """Every job's result, in job-file order.

    ``scheduler`` None runs local worker processes, ``local`` a Dask LocalCluster, anything else is a
    Dask scheduler address. ``workers`` None means one per CPU here, or on a cluster as many as it
    has threads. Jobs held back by ``--fail-fast`` come back ``cancelled``.
    """
    if scheduler is None:
        from evkit.batch.local import run_local

        results = run_local(specs, workers or default_workers(), fail_fast, sink)
    else:
        from evkit.batch.cluster import run_cluster

        results = run_cluster(specs, scheduler, workers, fail_fast, sink)
    return [results.get(s.index) or result_for(s, "cancelled", "--fail-fast: not started after a job failed")
            for s in specs]


def totals(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"jobs": len(results)}
    out.update({s: sum(1 for r in results if r["status"] == s) for s in STATUSES})
    for key in ("artefacts", "records", "warnings"):
        out[key] = sum(r[key] or 0 for r in results)
    out["seconds"] = round(seconds, 3)
    return out
