"""What an examiner sees on stderr while a batch runs.

On a terminal: a live display with one bar per running job (its step and what that step is
doing), an overall bar with elapsed time and ETA, and a line per finished job. Anywhere else (a
pipe, a log file, cron): one plain line per event, no colour and no control codes, so the output
stays readable in a log. ``--quiet`` leaves only the failures, which are errors.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Protocol

from evkit.batch.job import planned_steps
from evkit.batch.jobfile import JobSpec


class Sink(Protocol):
    """Where the runners report; the displays below, and nothing else, implement it."""

    def started(self, spec: JobSpec) -> None: ...

    def event(self, message: dict[str, Any]) -> None: ...

    def finished(self, result: dict[str, Any]) -> None: ...


def outcome(result: dict[str, Any]) -> str:
    """One job's result in words, the same on a terminal, in a log and in the summary."""
    status = result["status"]
    if status == "failed":
        return f"FAILED at {result.get('step') or 'start'}: {result['error']}"
    if status == "cancelled":
        return f"not started: {result['error']}"
    counts = f"{result['artefacts']} artefacts, {result['records']} records"
    warnings = f", {result['warnings']} warnings (see {result['log']})" if result.get("warnings") else ""
    if status == "skipped":
        return f"skipped: already complete ({counts})"
    return f"ok in {result['seconds']:.1f} s ({counts}{warnings})"


class PlainDisplay:
    def __init__(self, specs: list[JobSpec], quiet: bool) -> None:
        self.names = {s.index: s.case_number for s in specs}
        self.total = len(specs)
        self.done = 0
        self.quiet = quiet

    def __enter__(self) -> PlainDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _line(self, index: int, text: str) -> None:
        print(f"evkit: batch: [{self.done}/{self.total}] {self.names[index]}: {text}", file=sys.stderr, flush=True)

    def started(self, spec: JobSpec) -> None:
        if not self.quiet:
            self._line(spec.index, "started")

    def event(self, message: dict[str, Any]) -> None:
        if not self.quiet and message["kind"] == "step":
            self._line(message["job"], message["step"])

    def finished(self, result: dict[str, Any]) -> None:
        self.done += 1
        if not self.quiet or result["status"] == "failed":
            self._line(result["index"], outcome(result))


class RichDisplay:
    def __init__(self, specs: list[JobSpec], color: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.specs = {s.index: s for s in specs}
        self.console = Console(stderr=True, no_color=not color, highlight=False)
        self.progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[step]}", markup=False), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=self.console)
        self.overall = self.progress.add_task("all jobs", total=len(specs), step="")
        self.tasks: dict[int, Any] = {}
        self.steps: dict[int, list[str]] = {}
        self.current: dict[int, str] = {}

    def __enter__(self) -> RichDisplay:
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def started(self, spec: JobSpec) -> None:
        self.steps[spec.index] = planned_steps(spec)
        self.tasks[spec.index] = self.progress.add_task(spec.case_number, total=len(self.steps[spec.index]), step="starting")

    def event(self, message: dict[str, Any]) -> None:
        task = self.tasks.get(message["job"])
        if task is None:
            return
        if message["kind"] == "step":
            steps = self.steps[message["job"]]
            self.current[message["job"]] = message["step"]
            self.progress.update(task, completed=steps.index(message["step"]), step=message["step"])
        else:
            self.progress.update(task, step=f"{self.current.get(message['job'], '')}: {message['text']}")

    def finished(self, result: dict[str, Any]) -> None:
        from rich.text import Text

        task = self.tasks.pop(result["index"], None)
        if task is not None:
            self.progress.remove_task(task)
        self.progress.advance(self.overall)
        style = {"ok": "green", "skipped": "cyan", "failed": "bold red"}.get(result["status"], "yellow")
        self.console.print(Text.assemble((result["case_number"], style), f": {outcome(result)}"), soft_wrap=True)
