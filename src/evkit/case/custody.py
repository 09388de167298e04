"""The custody log (``custody.jsonl``): one JSON line per action, each hashing the one before.

A line's ``hash`` is the SHA-256 of its canonical form (sorted keys, no spaces, UTF-8) with the
``hash`` field left out and ``prev_hash`` included, so deleting, reordering or editing any line
breaks the chain at a point that verification names.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evkit import __version__
from evkit.timefmt import iso_utc

GENESIS = "0" * 64
FILENAME = "custody.jsonl"


def canonical(event: dict[str, Any]) -> bytes:
    body = {k: v for k, v in event.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def now_utc() -> str:
    import time

    ns = time.time_ns()
    return iso_utc(ns // 10**9, (ns % 10**9) // 1000 * 1000) or ""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass
class ChainProblem:
    line: int
    reason: str


def read_events(path: Path) -> tuple[list[dict[str, Any]], list[ChainProblem]]:
    """All events and every place where the chain is broken (empty when intact)."""
    events: list[dict[str, Any]] = []
    problems: list[ChainProblem] = []
    if not path.exists():
        return events, [ChainProblem(0, f"{FILENAME} is missing")]
    prev = GENESIS
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                problems.append(ChainProblem(number, "last line is incomplete (interrupted write)"))
                break
            try:
                event = json.loads(raw)
            except ValueError:
                problems.append(ChainProblem(number, "not valid JSON"))
                prev = None  # type: ignore[assignment]
                continue
            if not isinstance(event, dict):
                problems.append(ChainProblem(number, "not a JSON object"))
                continue
            if event.get("seq") != number:
                problems.append(ChainProblem(number, f"seq is {event.get('seq')!r}, expected {number} (line deleted or reordered)"))
            if prev is not None and event.get("prev_hash") != prev:
                problems.append(ChainProblem(number, "prev_hash does not match the line before (line deleted, inserted or reordered)"))
            if event.get("hash") != event_hash(event):
                problems.append(ChainProblem(number, "hash does not match the line's content (line edited)"))
            prev = event.get("hash")
            events.append(event)
    return events, problems


class CustodyLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def last(self) -> tuple[int, str]:
        """Sequence number and hash of the last complete line."""
        seq, prev = 0, GENESIS
        if self.path.exists():
            with open(self.path, "rb") as fh:
                for raw in fh:
                    if raw.endswith(b"\n"):
                        try:
                            event = json.loads(raw)
                        except ValueError:
                            continue
                        seq, prev = event.get("seq", seq), event.get("hash", prev)
        return seq, prev

    def append(self, action: str, examiner: str, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]],
               details: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write one event durably (fsync) and return it."""
        torn = self._drop_torn_tail()
        seq, prev = self.last()
        event: dict[str, Any] = {
            "seq": seq + 1,
            "time": now_utc(),
            "examiner": examiner,
            "host": socket.gethostname(),
            "user": _user(),
            "evkit_version": __version__,
            "command": sys.argv[:] if sys.argv and sys.argv[0] else ["<api>"],
            "action": action,
            "inputs": inputs,
            "outputs": outputs,
            "prev_hash": prev,
        }
        if torn:
            details = {**(details or {}), "discarded_torn_line_sha256": hashlib.sha256(torn).hexdigest()}
        if details:
            event["details"] = details
        event["hash"] = event_hash(event)
        line = json.dumps(event, ensure_ascii=False, sort_keys=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return event

    def _drop_torn_tail(self) -> bytes:
        """A line cut short by a crash is not an event: remove it (the next event records its hash)."""
        if not self.path.exists():
            return b""
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                fh.truncate(cut)
                return data[cut:]
        return b""
