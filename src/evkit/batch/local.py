"""Running jobs in worker processes on this machine.

Not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies (a parser crashing
in C on a hostile image), it fails every job still queued, and jobs it has queued ahead cannot be
held back by ``--fail-fast``. Here each worker gets one job at a time over its own pipe, so the
parent always knows which job a dead worker was running: that job fails, a fresh worker takes
the next one, and nothing is handed out after a failure under ``--fail-fast``. Progress and
results come back over the same pipe, not a shared queue: a queue's lock, held by a worker killed
in mid-message, would block every other worker.

Workers are started with ``spawn`` (a fork of a parent with a progress-display thread could
inherit a held lock), ignore Ctrl-C (the parent decides), and on Linux die with the parent
(``PR_SET_PDEATHSIG``): a batch killed outright must not leave workers writing into cases that
its re-run is about to resume.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from evkit.batch.display import Sink
from evkit.batch.job import result_for
from evkit.batch.jobfile import JobSpec

PR_SET_PDEATHSIG = 1
POLL = 0.5  # seconds between looks at the workers while none reports


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the parent's shutdown still stops its workers
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _worker(conn: Connection, parent: int) -> None:
    from evkit.batch.job import run_job

    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            spec = conn.recv()
        except EOFError:
            return
        if spec is None:
            return
        result = run_job(spec, conn.send)
        conn.send({"job": spec.index, "kind": "result", "result": result})


@dataclass
class _Worker:
    process: Any
    conn: Connection  # jobs go down, progress and the result come back: one pipe per worker, no shared lock
    job: JobSpec | None = None


def run_local(specs: list[JobSpec], workers: int, fail_fast: bool, sink: Sink) -> dict[int, dict[str, Any]]:
    """Run the jobs on up to ``workers`` processes; the results by job index (jobs never started are absent)."""
    ctx = multiprocessing.get_context("spawn")
    pending = deque(specs)
    pool: list[_Worker] = []
    results: dict[int, dict[str, Any]] = {}
    stopped = False

    def start() -> _Worker:
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=_worker, args=(theirs, os.getpid()), daemon=True, name="evkit-batch-worker")
        process.start()
        theirs.close()  # so that the worker's death reads as end-of-file here
        return _Worker(process, ours)

    def finished(result: dict[str, Any]) -> None:
        nonlocal stopped
        results[result["index"]] = result
        sink.finished(result)
        if fail_fast and result["status"] == "failed":
            stopped = True

    def died(w: _Worker) -> None:
        w.process.join(timeout=5)
        if w.process.is_alive():  # closed its end without exiting: not a worker any more
            w.process.kill()
            w.process.join()
        if w.job is not None:
            finished(result_for(w.job, "failed", f"worker process died (exit code {w.process.exitcode}) "
                                                  "while running this job; run the batch again to resume it"))
        pool.remove(w)

    try:
        while True:
            while pending and not stopped and len(pool) < min(workers, len(specs)):
                pool.append(start())
            for w in pool:
                if w.job is None and pending and not stopped:
                    try:
                        w.conn.send(pending[0])
                    except OSError:  # died while idle: its end-of-file is read below
                        continue
                    w.job = pending.popleft()
                    sink.started(w.job)
            if not any(w.job for w in pool) and (stopped or not pending):
                break
            ready = wait([w.conn for w in pool], timeout=POLL)
            for w in [w for w in pool if w.conn in ready]:
                try:
                    message = w.conn.recv()
                except (EOFError, OSError):
                    died(w)
                    continue
                if message["kind"] == "result":
                    w.job = None
                    finished(message["result"])
                else:
                    sink.event(message)
    finally:
        interrupted = any(w.job for w in pool)
        for w in pool:
            if interrupted:
                w.process.kill()
            else:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in pool:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
    return results
