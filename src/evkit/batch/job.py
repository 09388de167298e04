"""One batch job, start to finish, inside whichever worker process runs it.

The steps are the ones an examiner would type: create or open the case, add each evidence item,
extract, run the profiles, write the reports, verify. They call the case layer directly, so a run
killed at any moment is resumed by the case layer itself when the batch runs again: the same steps
are issued with the same arguments, hence the same resume keys. A step whose custody event is
already in the case (same action, same evidence, same parameters) is not issued again, so a re-run
adds no empty events; the one exception is a step whose run is still marked in progress, which is
issued so that it resumes. A run killed after its custody event was written is finished (rolled
forward) as soon as the case is opened, so it counts as done.

A job is complete when the case holds a ``batch-job`` custody event carrying the SHA-256 of the
job's definition (:meth:`JobSpec.digest`). That event is written only after the case verified, so a
later run skips the job; a changed definition has a different digest and runs again, redoing only
what the change requires. A batch killed while writing that event leaves its run marked in
progress; the next run records it (the case had verified) instead of refusing to go on.

A job logs into its case's log (``<case>/evkit.log``, see :mod:`evkit.case.caselog`), as every
command on a case does: its steps with durations and counts, every warning, and for an unexpected
error its Python traceback, which goes there rather than to the examiner's terminal. Lines written
before the case is open are held and added once it is; a job that ends without its case (a
missing source, a folder holding another case) leaves them in ``<cases_dir>/<case>.log`` instead,
as there is no case to hold them, and never writes into a folder that is not its case.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evkit.batch.jobfile import JobSpec
from evkit.case.case import DB_FILE, Case
from evkit.case.caselog import ERROR, INFO, LOG_FILE, WARNING, CaseLog
from evkit.case.custody import FILENAME as CUSTODY_FILE
from evkit.case.custody import read_events
from evkit.errors import EvkitError

COMPLETE = "batch-job"
Emit = Callable[[dict[str, Any]], None]
DETAIL_EVERY = 0.5  # seconds between progress details sent from inside a step


def job_log(spec: JobSpec) -> str:
    """Where a job's log is: its case's log once the case exists, else the file beside the case folder."""
    case = Path(spec.case_dir)
    return str(case / LOG_FILE) if (case / CUSTODY_FILE).is_file() else spec.log_file


def result_for(spec: JobSpec, status: str, error: str | None) -> dict[str, Any]:
    """A job's entry in the batch result; also made by the parent for jobs that never ran or whose worker died."""
    return {"index": spec.index, "case_number": spec.case_number, "status": status, "error": error, "step": None,
            "case": spec.case_dir, "log": job_log(spec), "job_sha256": spec.digest(),
            "evidence": [e.number for e in spec.evidence], "artefacts": None, "records": None, "warnings": 0,
            "durations": {}, "seconds": 0.0}


class StepFailed(EvkitError):
    """A step ended without doing its work; the message is what the examiner needs to know."""


def planned_steps(spec: JobSpec) -> list[str]:
    """The steps a job goes through, for progress bars (a skipped job stops after ``case``)."""
    return (["case", "evidence", "extract"] + (["profiles"] if spec.profiles else [])
            + (["report"] if spec.reports else []) + ["verify", "finish"])


def write_reports(case: Case, formats: tuple[str, ...], warn: Callable[[str], None]) -> list[str]:
    """The report step, as ``evkit report CASE --format ...`` runs it; the paths written.

    A format the report writer cannot produce here (a missing optional library) is a warning, as
    ``evkit report`` prints it: the other formats and the job still finish.
    """
    from evkit.reports import report_case

    result = report_case(case, list(formats), warn=warn)
    for fmt, reason in result.skipped.items():
        warn(f"report {fmt} not written: {reason}")
    return [f.path for f in result.formats]


class _Log:
    """A job's log lines: held until its case is open, then written to the case's log as they come."""

    def __init__(self, fallback: Path) -> None:
        self.fallback = fallback
        self.held: list[tuple[str, str]] = []
        self.log: CaseLog | None = None

    def attach(self, log: CaseLog) -> None:
        self.log = log
        for level, text in self.held:
            log.write(level, text)
        self.held.clear()

    def write(self, level: str, text: str) -> None:
        if self.log is None:
            self.held.append((level, text))
        else:
            self.log.write(level, text)

    def close(self) -> str:
        """Where the lines went: a job that never opened its case writes them beside the case folder."""
        if self.log is None:
            try:
                self.fallback.parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # the log is best effort (CaseLog drops what it cannot write); the job's result says it all
            self.attach(CaseLog(self.fallback))
        assert self.log is not None
        return str(self.log.path)


class _Job:
    def __init__(self, spec: JobSpec, emit: Emit) -> None:
        self.spec = spec
        self.emit = emit
        self.root = Path(spec.case_dir)
        self.result = result_for(spec, "failed", None)
        self.current: str | None = None
        self.events: list[dict[str, Any]] = []
        self.pending: dict[str, Any] | None = None
        self.last_detail = 0.0
        self.log = _Log(Path(spec.log_file))
        self.case: Case | None = None
        self.case_numbers: list[str] = []  # the case's evidence, which extract and run_case work on
        self.issued = False  # whether this run changed the case before the report step (so reports are stale)

    # -- plumbing ----------------------------------------------------------------------------
    def say(self, text: str, level: str = INFO) -> None:
        self.log.write(level, text)

    def warn(self, text: str) -> None:
        self.result["warnings"] += 1
        self.say(text, WARNING)

    def detail(self, text: str) -> None:
        """Progress inside a step, at most every DETAIL_EVERY seconds (a message per file would flood)."""
        now = time.monotonic()
        if now - self.last_detail >= DETAIL_EVERY:
            self.last_detail = now
            self.emit({"job": self.spec.index, "kind": "detail", "text": text})

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.current = name
        self.emit({"job": self.spec.index, "kind": "step", "step": name})
        self.say(f"{name}: started")
        start = time.perf_counter()
        yield
        took = time.perf_counter() - start
        self.result["durations"][name] = round(took, 3)
        self.say(f"{name}: done in {took:.2f} s")

    def done_before(self, action: str, same: Callable[[dict[str, Any]], bool]) -> bool:
        """The case already holds this step's custody event over the same evidence with ``same`` details,
        and that step's run is not the one left unfinished (which must be issued again to resume)."""
        if self.pending is not None and self.pending.get("action") == action:
            return False
        numbers = sorted(self.case_numbers)
        return any(event.get("action") == action and same(event.get("details") or {})
                   and sorted(str(i.get("evidence_number")) for i in event.get("inputs") or []) == numbers
                   for event in self.events)

    # -- the job -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        argv = sys.argv
        sys.argv = list(self.spec.argv)  # custody events and resume markers name the batch command
        try:
            self.say(f"job {self.spec.index} of {self.spec.jobs_file}: case {self.spec.case_number}, "
                     f"definition sha256 {self.result['job_sha256']}")
            self.work()
        except EvkitError as exc:
            self.fail(str(exc))
        except OSError as exc:
            self.fail(f"{exc.filename or ''} {exc.strerror or exc}".strip())
        except Exception as exc:  # a bug or a library's own error must fail this job only, never the batch
            self.fail(f"{type(exc).__name__}: {exc}")
            self.say(traceback.format_exc().rstrip(), ERROR)
        finally:
            if self.case is not None:
                self.count(self.case)
                self.case.close()
            self.result["seconds"] = round(time.perf_counter() - started, 3)
            self.say(f"job {self.result['status']} in {self.result['seconds']:.2f} s"
                     + (f": {self.result['error']}" if self.result["error"] else ""),
                     ERROR if self.result["status"] == "failed" else INFO)
            self.result["log"] = self.log.close()
            sys.argv = argv
        return self.result

    def fail(self, message: str) -> None:
        self.result.update(status="failed", error=message, step=self.current)
        self.say(f"FAILED at {self.current or 'start'}: {message}", ERROR)

    def count(self, case: Case) -> None:
        db = case.store.db
        self.result["artefacts"] = db.execute("SELECT count(*) FROM artefacts").fetchone()[0]
        self.result["records"] = db.execute("SELECT count(*) FROM records").fetchone()[0]

    def work(self) -> None:
        with self.step("case"):
            for e in self.spec.evidence:
                if not os.path.exists(e.source):
                    raise StepFailed(f"evidence {e.number}: source {e.source} does not exist (nothing was done)")
            self.case = case = self.open_case()
            self.log.attach(case.log)
            # A run killed after writing its custody event only lacks its bookkeeping: the case layer
            # finishes it at the next run; doing it now lets that step count as done and the case verify.
            self.pending = case.settle()
            self.events, _ = read_events(case.custody.path)
            if self.pending is not None and self.pending.get("action") == COMPLETE \
                    and self.finish_recorded_completion(case, str(self.pending.get("key"))):
                return
            if self.complete(case):
                self.result.update(status="skipped")
                self.say("already complete for this definition: skipped")
                return
        self.process(case)

    def finish_recorded_completion(self, case: Case, key: str) -> bool:
        """A batch killed while recording a job's completion: that job had verified, so record it now.

        True when it was this very definition (the job is then done); a marker left by an earlier
        definition is recorded under its own digest, and the job goes on.
        """
        digest = key.partition(":")[2]
        ours = digest == self.result["job_sha256"]
        self.say(f"finishing the interrupted completion record of job definition {digest}")
        with case.run(COMPLETE, self.completion_inputs(case), key=key,
                      details=self.completion_details() if ours else {"job_sha256": digest}):
            pass
        self.pending = None
        self.events, _ = read_events(case.custody.path)
        if ours:
            self.result.update(status="ok")
        return ours

    def completion_inputs(self, case: Case) -> list[dict[str, Any]]:
        return [{"evidence_number": ev["number"], "sha256": ev["sha256"]} for ev in case.evidence()]

    def completion_details(self) -> dict[str, Any]:
        return {"job_sha256": self.result["job_sha256"], "job": self.spec.definition(),
                "jobs_file": self.spec.jobs_file, "job_index": self.spec.index}

    def open_case(self) -> Case:
        """Open the case, or create it; a creation killed half-way is completed, not refused."""
        spec = self.spec
        if (self.root / DB_FILE).is_file() and (self.root / CUSTODY_FILE).is_file():
            case = Case(self.root)
            if case.meta.get("case_number") != spec.case_number:
                case.close()
                raise StepFailed(f"{self.root} holds case {case.meta.get('case_number')!r}, not {spec.case_number!r}")
            if not any(e.get("action") == "case-init" for e in read_events(case.custody.path)[0]):
                self.say("case creation was interrupted before its custody event: finishing it")
                with case.run("case-init", [], details={"case_number": spec.case_number, "agency": spec.agency, "notes": ""}):
                    pass
            return case
        if self.root.is_dir() and self.torn_init():
            self.say("case creation was interrupted before its custody log existed: starting it again")
            for name in (DB_FILE, f"{DB_FILE}-journal"):
                (self.root / name).unlink(missing_ok=True)
            shutil.rmtree(self.root / "data", ignore_errors=True)
        self.say(f"creating case {spec.case_number} in {self.root}")
        return Case.init(self.root, spec.case_number, spec.examiner, spec.agency or None)

    def torn_init(self) -> bool:
        """Only what ``Case.init`` writes before the custody log: an empty ``data/`` and a fresh ``case.db``."""
        names = {p.name for p in self.root.iterdir()}
        if not names or not names <= {"data", DB_FILE, f"{DB_FILE}-journal"}:
            return False
        data = self.root / "data"
        return not data.exists() or (data.is_dir() and not data.is_symlink() and not any(data.iterdir()))

    def reported_last(self, formats: list[str]) -> bool:
        """The case's latest event is a finished report of these formats (``batch-job`` events aside, they
        change nothing reported): a report now would say the same."""
        last: dict[str, Any] = next((e for e in reversed(self.events) if e.get("action") != COMPLETE), {})
        return (self.pending is None and last.get("action") == "report"
                and (last.get("details") or {}).get("formats") == formats)

    def complete(self, case: Case) -> bool:
        """The case holds this definition's completion event, its custody chain is whole and nothing is unfinished."""
        if self.pending is not None or read_events(case.custody.path)[1]:
            return False
        return any(e.get("action") == COMPLETE and (e.get("details") or {}).get("job_sha256") == self.result["job_sha256"]
                   for e in self.events)

    def process(self, case: Case) -> None:
        from evkit.case.evidence import add_evidence

        spec = self.spec
        with self.step("evidence"):
            for e in spec.evidence:
                self.detail(f"{e.number}: hashing")
                row = add_evidence(case, e.source, e.number, e.description or None)
                self.issued = self.issued or not row.get("already_registered")
                state = "already registered" if row.get("already_registered") else "registered"
                self.say(f"evidence {e.number}: {state}, {row.get('format')}, sha256 {row.get('sha256')}")
                if row.get("verified") == 0:
                    raise StepFailed(f"evidence {e.number}: media hash does not match the hash stored at acquisition")
        self.case_numbers = [ev["number"] for ev in case.evidence()]

        with self.step("extract"):
            if self.done_before("extract", lambda d: d.get("globs") == list(spec.globs) and d.get("deleted") is False):
                self.say("extract: already done with these globs")
            else:
                self.extract(case)
                self.issued = True

        if spec.profiles:
            with self.step("profiles"):
                ids = sorted(p.id for p in spec.profiles)
                if self.done_before("profiles-run", lambda d: sorted(d.get("profiles") or {}) == ids and d.get("hunt") is False):
                    self.say("profiles: already run with these profiles")
                else:
                    self.run_profiles(case)
                    self.issued = True

        if spec.reports:
            with self.step("report"):
                if not self.issued and self.reported_last(list(spec.reports)):
                    self.say("report: already written, and nothing changed since")
                else:
                    for path in write_reports(case, spec.reports, self.warn):
                        self.say(f"report written: {path}")

        with self.step("verify"):
            from evkit.case.verify import verify_case

            report = verify_case(self.root)
            if not report.ok:
                problems = report.problems[:3] + ([f"interrupted run {report.interrupted.get('action')}"]
                                                   if report.interrupted else [])
                more = f" (and {len(report.problems) - 3} more)" if len(report.problems) > 3 else ""
                raise StepFailed(f"case does not verify: {'; '.join(problems)}{more}")
            self.say(f"verify: {report.counts()}, {report.events} custody events")

        with self.step("finish"):
            with case.run(COMPLETE, self.completion_inputs(case), key=f"{COMPLETE}:{self.result['job_sha256']}",
                          details=self.completion_details()):
                pass
        self.result.update(status="ok")

    def extract(self, case: Case) -> None:
        from evkit.case.extract import extract

        files = 0

        def progress(_path: str) -> None:
            nonlocal files
            files += 1
            self.detail(f"{files} files")

        result = extract(case, None, list(self.spec.globs), False, progress=progress, warn=self.warn)
        self.say(f"extract: {result.extracted} files ({result.bytes} bytes), {result.already} already in the case, "
                 f"{len(result.unreadable)} unreadable")
        self.evidence_unchanged(result.evidence_recheck)

    def run_profiles(self, case: Case) -> None:
        from evkit.case.run_profiles import run_case

        result = run_case(case, list(self.spec.profiles), warn=self.warn, note=self.warn)
        self.say(f"profiles: {sum(result.records.values())} records from {result.files} files, "
                 f"{len(result.problems)} problems")
        self.evidence_unchanged(result.evidence_recheck)

    def evidence_unchanged(self, recheck: dict[str, str]) -> None:
        changed = [f"{number}: {state}" for number, state in recheck.items() if state != "unchanged"]
        if changed:
            raise StepFailed(f"EVIDENCE CHANGED: {'; '.join(changed)}")


def run_job(spec: JobSpec, emit: Emit) -> dict[str, Any]:
    """Run one job; never raises: whatever goes wrong is the job's ``failed`` result."""
    return _Job(spec, emit).run()
