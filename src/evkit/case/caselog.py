"""The case's operational log (``evkit.log`` in the case folder): what ran, warnings, counts, exit codes.

It is diagnostics, not evidence: the custody log (``custody.jsonl``) is the record of what was done
to the case. So it lives in the bag's top folder, outside ``data/`` (not payload) and outside the
tag manifest (not a tag file that is checked): a BagIt validator and ``evkit verify`` ignore it,
and it can grow after the manifests were written, by ``evkit verify`` itself included.

Each record is one line, ``<UTC time> <LEVEL> <command>[<pid>]: <message>``, written with a single
``write`` to a file opened ``O_APPEND``, so several processes (batch workers, a verify beside an
extract) can append at once without tearing lines. A multi-line message (a traceback) is one
record whose continuation lines start with two spaces. Evkit never fails a command because its log
cannot be written (a case on read-only media can still be verified): the line is dropped.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

from evkit import names
from evkit.commandline import command_words

LOG_FILE = "evkit.log"
INFO = "INFO"
WARNING = "WARNING"
ERROR = "ERROR"


def command_name(argv: list[str]) -> str:
    """What ran, for the log: ``extract``, ``case add``, ``batch`` for evkit; the program's name otherwise.

    Taken from the command line rather than passed in, so the case layer names the command the same
    way whoever opened the case: the CLI, a batch worker (whose ``sys.argv`` is the batch command)
    or a lab's own script.
    """
    path = Path(argv[0]) if argv and argv[0] not in ("", "-c") else Path("python")
    program = path.parent.name if path.name == "__main__.py" else path.name  # python -m PACKAGE
    if program != "evkit":
        return program
    words = command_words(argv)
    if words[:1] in (["case"], ["profiles"]):
        return " ".join(words[:2])
    return words[0] if words else program


def _now() -> str:
    """UTC with microseconds, always the same width, so the lines of a log sort and align."""
    seconds, micros = divmod(time.time_ns() // 1000, 10**6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


class CaseLog:
    """Appends records to one log file; the first record of a process is its command line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = False

    def info(self, message: str) -> None:
        self.write(INFO, message)

    def warning(self, message: str) -> None:
        self.write(WARNING, message)

    def error(self, message: str) -> None:
        self.write(ERROR, message)

    def write(self, level: str, message: str) -> None:
        if not self.started:
            self.started = True
            argv = [Path(sys.argv[0]).name if sys.argv else "", *sys.argv[1:]]
            self.write(INFO, "start: " + shlex.join(names.escape(a) for a in argv))
        lines = [names.printable(line) for line in message.rstrip("\n").split("\n")]
        head = f"{_now()} {level:<7} {command_name(sys.argv)}[{os.getpid()}]: "
        data = (head + "\n  ".join(lines) + "\n").encode("utf-8", "surrogateescape")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError:
            return
        try:
            os.write(fd, data)
        except OSError:
            pass
        finally:
            os.close(fd)


# The logs of the cases this process opened, so the CLI can add its warnings and its exit code to
# them without every command passing its case around.
_OPEN: dict[str, CaseLog] = {}


def for_case(root: Path) -> CaseLog:
    """The log of the case folder ``root`` (the same object for every opening in this process)."""
    key = os.path.abspath(root)
    log = _OPEN.get(key)
    if log is None:
        log = _OPEN[key] = CaseLog(Path(key) / LOG_FILE)
    return log


def to_open_cases(level: str, message: str) -> None:
    """A record for every case this process opened (none: nothing is written)."""
    for log in _OPEN.values():
        log.write(level, message)
