"""Running jobs on a Dask distributed cluster (``--scheduler tcp://HOST:PORT`` or ``local``).

Each job is one task running the same code as a local worker, so a cluster spreads cases over
machines as the local pool spreads them over processes. The workers open the evidence and write the
cases themselves, at the absolute paths resolved from the job file: the evidence and the cases
folder must be on storage every worker mounts at the same path, and every worker needs the same
evkit installed.

Jobs are handed out no faster than the cluster has worker threads (or ``--workers``, if smaller),
so ``--fail-fast`` holds back every job not yet started. Progress comes back over a distributed
``Queue`` named for this batch; it is for display only, and losing a message never fails a job.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from contextlib import ExitStack
from typing import Any

from evkit.batch.display import Sink
from evkit.batch.job import result_for
from evkit.batch.jobfile import JobSpec
from evkit.errors import UsageError

POLL = 0.2  # seconds between looks at the running tasks
CONNECT_TIMEOUT = "20s"


def _task(spec: JobSpec, queue_name: str) -> dict[str, Any]:
    """The task a worker runs: one job, reporting its steps to the batch's queue."""
    from distributed import Queue

    from evkit.batch.job import run_job

    progress = Queue(queue_name)

    def emit(message: dict[str, Any]) -> None:
        try:
            progress.put(message)
        except Exception:  # the scheduler's queue is a display aid: whatever it raises, the job goes on
            pass

    return run_job(spec, emit)


def run_cluster(specs: list[JobSpec], address: str, workers: int | None, fail_fast: bool,
                sink: Sink) -> dict[int, dict[str, Any]]:
    """Run the jobs on a cluster; the results by job index (jobs never started are absent)."""
    try:
        import distributed
    except ImportError:
        raise UsageError("--scheduler needs Dask's distributed scheduler: pip install 'evkit[cluster]'") from None

    with ExitStack() as stack:
        if address == "local":
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = stack.enter_context(distributed.Client(address, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"--scheduler {address}: cannot connect to the scheduler ({exc})") from None
        name = f"evkit-batch-{uuid.uuid4().hex}"
        progress = distributed.Queue(name, client=client)
        pending = deque(specs)
        running: dict[Any, JobSpec] = {}
        results: dict[int, dict[str, Any]] = {}
        stopped = False
        while True:
            slots = max(1, sum(client.nthreads().values()))
            if workers is not None:
                slots = min(slots, workers)
            while pending and not stopped and len(running) < slots:
                spec = pending.popleft()
                running[client.submit(_task, spec, name, key=f"{name}-{spec.index}", pure=False)] = spec
                sink.started(spec)
            if not running:
                break
            done = [f for f in running if f.done()]
            for message in progress.get(batch=True):  # after `done`: a finished job's steps are all queued
                sink.event(message)
            for future in done:
                spec = running.pop(future)
                if future.status == "finished":
                    result = future.result()
                else:
                    result = result_for(spec, "failed", f"the cluster could not run this job: {future.exception()!r}")
                results[spec.index] = result
                sink.finished(result)
                stopped = stopped or (fail_fast and result["status"] == "failed")
            if not done:
                time.sleep(POLL)
        return results
