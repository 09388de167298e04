"""What every command shares: the JSON/quiet settings, one-line errors, and output helpers.

Data goes to stdout, messages to stderr; colour and progress bars only on a terminal and never
when NO_COLOR is set, so pipes and scripts get clean bytes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from evkit import jsontext, names


@dataclass
class Settings:
    quiet: bool = False
    verbose: bool = False
    color: bool = True


SETTINGS = Settings()


def color_enabled() -> bool:
    return SETTINGS.color and "NO_COLOR" not in os.environ and sys.stderr.isatty()


def show_progress(json_mode: bool = False) -> bool:
    return not SETTINGS.quiet and sys.stderr.isatty()


def warn(message: str) -> None:
    """A problem with one item while the run goes on: on stderr (unless --quiet) and in the case's log."""
    from evkit.case import caselog

    message = bounded(message)
    caselog.to_open_cases(caselog.WARNING, message)
    if not SETTINGS.quiet:
        print(f"evkit: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    """Something the examiner must know that is no failure (columns an old schema lacks, read as
    empty): on stderr (unless --quiet) and in the case's log; it does not change the exit code."""
    from evkit.case import caselog

    message = bounded(message)
    caselog.to_open_cases(caselog.INFO, message)
    if not SETTINGS.quiet:
        print(f"evkit: note: {message}", file=sys.stderr)


def error(message: str, exit_code: int) -> int:
    """The one stderr line of a failed command (also in the case's log); returns the exit code to end with."""
    from evkit.case import caselog

    message = bounded(message)
    caselog.to_open_cases(caselog.ERROR, message)
    print(f"evkit: error: {message}", file=sys.stderr)
    return exit_code


MAX_LINE = 1000  # characters of one warning or error line


def bounded(message: str) -> str:
    """One readable line: a message made long by evidence (a 6,000-character path) keeps its start,
    where the command says what failed, and its end, where the reason is."""
    message = " ".join(message.splitlines())
    if len(message) <= MAX_LINE:
        return message
    cut = len(message) - (MAX_LINE - 300)
    return f"{message[:MAX_LINE - 500]} …[{cut:,} characters cut]… {message[-200:]}"


def disable_color() -> None:
    """--no-color: also set NO_COLOR, which rich (help, progress bars) and child processes honour."""
    SETTINGS.color = False
    os.environ["NO_COLOR"] = "1"


def emit_json(obj: Any) -> None:
    """One JSON document on its own line, flushed: a script waiting for it (`mount --json`) sees it at once."""
    sys.stdout.write(jsontext.dumps(obj) + "\n")
    sys.stdout.flush()


def shown(path: str) -> str:
    return names.escape(path)


def fail_if_evidence_changed(recheck: dict[str, str]) -> None:
    """A run that found its evidence changed ends loudly, with exit code 1, whatever else it did."""
    changed = {n: state for n, state in recheck.items() if state != "unchanged"}
    if not changed:
        return
    import typer

    from evkit.errors import EXIT_MISMATCH

    for number, state in changed.items():
        error(f"EVIDENCE {number} CHANGED DURING OR SINCE REGISTRATION: {state}", EXIT_MISMATCH)
    raise typer.Exit(EXIT_MISMATCH)


def record_line(record: Any) -> str:
    """One human line for a parsed record: time, profile/artifact and its first values."""
    values = " ".join(f"{k}={v}" for k, v in list(record.data.items())[:8] if v not in (None, "") and not k.endswith("_raw"))
    return f"{record.timestamp or '-':<27} {record.profile}/{record.artifact}  {names.printable(values)[:200]}"
