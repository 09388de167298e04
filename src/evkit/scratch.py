"""Private scratch folders, the one implementation: where copies of evidence files are parsed.

They go under ``$EVKIT_SCRATCH`` when it is set (a lab keeps evidence off the shared system temp
folder, or puts it on a larger disk), else the system's temp folder, and are removed when the
work ends. A process that is killed cannot remove its own, so each folder is named after its
host and process id (``evkit-run@HOST@PID@...``), and every new scratch folder first removes
those of this host whose process is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evkit.errors import UsageError

ENV = "EVKIT_SCRATCH"
_NAME = re.compile(r"^evkit-[a-z]+@(?P<host>[^@/]*)@(?P<pid>\d+)@")


def root() -> Path:
    """``$EVKIT_SCRATCH``, else the system's temp folder."""
    value = os.environ.get(ENV)
    if not value:
        return Path(tempfile.gettempdir())
    path = Path(value)
    if not path.is_dir():
        raise UsageError(f"{ENV}={value}: not a folder")
    return path


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())[:64]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number no process has: not ours to judge
    return True


def sweep(parent: Path) -> list[Path]:
    """Remove the scratch folders in ``parent`` left by dead evkit processes of this host."""
    removed = []
    host = _host()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        m = _NAME.match(entry.name)
        if m is None or m["host"] != host or int(m["pid"]) == os.getpid() or _alive(int(m["pid"])):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


@contextmanager
def folder(purpose: str, parent: Path | None = None) -> Iterator[Path]:
    """A new private folder (mode 0700) for ``purpose`` (``run``, ``parse``...), removed afterwards."""
    where = parent if parent is not None else root()
    sweep(where)
    path = Path(tempfile.mkdtemp(prefix=f"evkit-{purpose}@{_host()}@{os.getpid()}@", dir=where))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
