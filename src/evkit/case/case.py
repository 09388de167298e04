"""A case folder and the actions on it: init, add evidence, extract, and closing every run.

Every command that changes a case runs inside :meth:`Case.run`: it writes a ``run-in-progress.json``
marker, does its work (artefact rows commit in batches once the files they describe are written),
appends one custody event, refreshes the BagIt manifests and removes the marker; its start, its
recorded event with counts, or the error that stopped it go to the case's log (``evkit.log``, see
:mod:`evkit.case.caselog`). A run killed at any point leaves either a finished case or a marker
naming the unfinished run; running the same command again resumes it and ends exactly as a clean
run would.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evkit import __version__
from evkit.case import bag, caselog
from evkit.case.custody import FILENAME as CUSTODY_FILE
from evkit.case.custody import CustodyLog, now_utc
from evkit.case.store import CaseStore
from evkit.errors import EvkitError, RunAlreadyFinished, UsageError

MARKER = "run-in-progress.json"
DB_FILE = "case.db"


class CaseError(EvkitError):
    exit_code = 2


MAX_ERROR = 1000     # characters of a failure kept in the run marker and the log
MAX_FAILURES = 5     # failures of one run kept in its marker


def _repeated_failure(pending: dict[str, Any]) -> str | None:
    """The error of a run whose last two attempts failed identically (a deterministic failure that
    resuming cannot get past), else None."""
    failures = [f.get("error") for f in pending.get("failures") or [] if isinstance(f, dict)]
    if len(failures) >= 2 and failures[-1] == failures[-2] and failures[-1]:
        return str(failures[-1])
    return None


@dataclass
class RunContext:
    """What a running command knows about its own run: its custody sequence number and results."""

    seq: int
    action: str
    resumed: dict[str, Any] | None
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    details: dict[str, Any]


class Case:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        if not (root / DB_FILE).is_file() or not (root / CUSTODY_FILE).is_file():
            raise CaseError(f"{root}: not an evkit case folder (no {DB_FILE} or {CUSTODY_FILE}); create one with `evkit case init`")
        self.store = CaseStore(root / DB_FILE)
        self.custody = CustodyLog(root / CUSTODY_FILE)
        self.meta = self.store.meta()
        self.log = caselog.for_case(root)

    # -- creation -------------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path, case_number: str, examiner: str, agency: str | None = None,
             notes: str | None = None) -> "Case":
        if root.exists() and any(root.iterdir()):
            raise CaseError(f"{root}: folder exists and is not empty; a case needs a new or empty folder")
        if not case_number.strip() or not examiner.strip():
            raise UsageError("--case-number and --examiner must not be empty")
        root.mkdir(parents=True, exist_ok=True)
        (root / "data").mkdir()
        store = CaseStore(root / DB_FILE)
        store.set_meta({"case_number": case_number, "examiner": examiner, "agency": agency or "",
                        "notes": notes or "", "created": now_utc(), "created_by": f"evkit {__version__}"})
        store.close()
        (root / CUSTODY_FILE).touch()
        case = cls(root)
        with case.run("case-init", [], details={"case_number": case_number, "agency": agency or "", "notes": notes or ""}):
            pass
        return case

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Case":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def examiner(self) -> str:
        return str(self.meta.get("examiner", ""))

    # -- runs -----------------------------------------------------------------------------
    def pending(self) -> dict[str, Any] | None:
        marker = self.root / MARKER
        if not marker.exists():
            return None
        try:
            return json.loads(marker.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return {"action": "unknown", "seq": None, "started": None, "key": None}

    @contextmanager
    def run(self, action: str, inputs: list[dict[str, Any]], key: str | None = None,
            details: dict[str, Any] | None = None) -> Iterator[RunContext]:
        """Bracket one command: marker, work, custody event, bag. ``key`` identifies resumable work."""
        key = key or action
        interrupted = self.pending()
        pending = self._roll_forward(interrupted)
        asked = dict(details or {})
        if interrupted is not None and pending is None and interrupted.get("key") == key \
                and interrupted.get("details") == json.loads(json.dumps(asked, ensure_ascii=False)):
            finished = {"action": action, "seq": interrupted.get("seq"), "started": interrupted.get("started")}
            message = (f"{self.root}: the interrupted `{action}` run (custody event {finished['seq']}, started "
                       f"{finished['started']}) had finished before it was stopped; its bookkeeping is now "
                       "complete and there is nothing to resume")
            self.log.info(message)
            raise RunAlreadyFinished(message, finished)
        last_seq, _ = self.custody.last()
        if pending is not None:
            if pending.get("key") != key:
                raise CaseError(f"{self.root}: an interrupted run must be finished first: `{' '.join(pending.get('command') or [pending.get('action', '?')])}` "
                                f"(started {pending.get('started')}); run that command again to resume it, "
                                f"or end it with `evkit case abandon-run {self.root}`")
            repeated = _repeated_failure(pending)
            if repeated is not None:
                raise CaseError(f"{self.root}: the interrupted `{action}` run failed twice the same way ({repeated}); "
                                "running it again would only fail again: remove the cause, or end the run with "
                                f"`evkit case abandon-run {self.root}` (recorded in the custody log)")
            seq = last_seq + 1
            self._restamp(pending.get("seq"), seq)
        else:
            seq = last_seq + 1
        import sys

        marker: dict[str, Any] = {"action": action, "key": key, "details": asked, "seq": seq, "started": now_utc(), "command": sys.argv[:],
                  "resuming": {k: v for k, v in pending.items() if k != "resuming"} if pending else None,
                  "failures": (pending or {}).get("failures") or []}
        bag.atomic_write(self.root / MARKER, json.dumps(marker, ensure_ascii=False, indent=1))
        resuming = f", resuming the run interrupted after starting {pending.get('started')}" if pending is not None else ""
        self.log.info(f"{action}: started as custody event {seq}{resuming}")
        began = time.monotonic()
        ctx = RunContext(seq, action, pending, inputs, [], asked)
        try:
            yield ctx
        except BaseException as exc:
            why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if isinstance(exc, Exception):  # a failure, not an interruption (Ctrl-C, a kill): remember it
                marker["failures"] = (marker["failures"] + [{"time": now_utc(), "error": why[:MAX_ERROR]}])[-MAX_FAILURES:]
                bag.atomic_write(self.root / MARKER, json.dumps(marker, ensure_ascii=False, indent=1))
            self.log.error(f"{action}: stopped ({why[:MAX_ERROR]}); the run stays marked in progress, the same command resumes it")
            raise
        ctx.details["started"] = marker["started"]
        if pending is not None:
            ctx.details["resumed_interrupted_run_started"] = pending.get("started")
        event = self.custody.append(action, self.examiner, ctx.inputs, ctx.outputs, ctx.details)
        self._finish(event)
        self.log.info(f"{action}: custody event {seq} recorded in {time.monotonic() - began:.2f} s{_summary(ctx.outputs)}")

    def abandon_run(self) -> dict[str, Any]:
        """End an interrupted run without resuming it, as custody event ``run-abandoned``.

        What the run had committed (artefact and record rows, hashed) stays in the case and is
        covered by this event; files it left under ``data/`` without a row are moved, not deleted,
        to ``abandoned/run-<seq>/`` beside the bag's payload, and listed in the event.
        """
        pending = self._roll_forward(self.pending())
        if pending is None:
            raise UsageError(f"{self.root}: no interrupted run to abandon")
        last_seq, _ = self.custody.last()
        seq = last_seq + 1
        self._restamp(pending.get("seq"), seq)
        moved = self._set_aside_untracked(seq)
        kept = {k: pending.get(k) for k in ("action", "key", "seq", "started", "command", "details", "failures")}
        counts = {t: self.store.db.execute(f"SELECT count(*) FROM {t} WHERE seq=?", (seq,)).fetchone()[0]
                  for t in ("artefacts", "outputs", "records")}
        event = self.custody.append("run-abandoned", self.examiner, [], [{"kept_rows": counts, "set_aside": moved[:1000]}],
                                    {"abandoned": kept, "set_aside_count": len(moved)})
        self._finish(event)
        self.log.info(f"run-abandoned: custody event {seq} ended the interrupted `{pending.get('action')}` run "
                      f"started {pending.get('started')}")
        return {"seq": seq, "abandoned": kept, "kept_rows": counts, "set_aside": moved}

    def _set_aside_untracked(self, seq: int) -> list[str]:
        """Move payload files no row accounts for to ``abandoned/run-<seq>/``; their paths."""
        tracked = {r[0] for r in self.store.db.execute("SELECT stored_path FROM artefacts UNION SELECT stored_path FROM outputs")}
        moved = []
        for dirpath, _dirs, files in os.walk(self.data, followlinks=False):
            for name in files:
                full = Path(dirpath) / name
                rel = full.relative_to(self.root).as_posix()
                if rel in tracked:
                    continue
                target = self.root / "abandoned" / f"run-{seq}" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(full, target)
                moved.append(rel)
        return sorted(moved)

    def settle(self) -> dict[str, Any] | None:
        """Finish the bookkeeping of a run killed after its custody event was written; return the
        run still pending (to be resumed by running the same command again), or None."""
        return self._roll_forward(self.pending())

    def _roll_forward(self, pending: dict[str, Any] | None) -> dict[str, Any] | None:
        """A run killed after its custody event was written only lacks its bookkeeping: finish it."""
        if pending is None:
            return None
        seq = pending.get("seq")
        # The event may already be in case.db too (killed inside _finish): look in the custody log itself.
        events = self._events_after(self._db_last_seq() if seq is None else seq - 1)
        for event in events:
            if seq is None or event.get("seq") == seq:
                self._finish(event)
                return None
        return pending

    def _events_after(self, seq: int) -> list[dict[str, Any]]:
        from evkit.case.custody import read_events

        events, _ = read_events(self.custody.path)
        return [e for e in events if isinstance(e.get("seq"), int) and e["seq"] > seq]

    def _db_last_seq(self) -> int:
        row = self.store.db.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def _restamp(self, old: int | None, new: int) -> None:
        if old is None or old == new:
            return
        with self.store.transaction() as db:
            db.execute("UPDATE artefacts SET seq=? WHERE seq=?", (new, old))
            db.execute("UPDATE outputs SET seq=? WHERE seq=?", (new, old))
            db.execute("UPDATE evidence SET added_seq=? WHERE added_seq=?", (new, old))

    def _finish(self, event: dict[str, Any]) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO events(seq, time, action, hash) VALUES (?, ?, ?, ?)",
                       (event["seq"], event["time"], event["action"], event["hash"]))
        self.write_bag()
        try:
            (self.root / MARKER).unlink()
        except FileNotFoundError:
            pass

    def write_bag(self) -> None:
        rows = [(r[0], r[1], r[2], r[3]) for r in self.store.db.execute(
            "SELECT stored_path, size, md5, sha256 FROM artefacts UNION ALL SELECT stored_path, size, md5, sha256 FROM outputs")]
        m = self.meta
        bag.write_bag(self.root, rows, {
            "Source-Organization": m.get("agency", ""),
            "Contact-Name": m.get("examiner", ""),
            "External-Identifier": m.get("case_number", ""),
            "External-Description": m.get("notes", ""),
            "Case-Number": m.get("case_number", ""),
            "Examiner": m.get("examiner", ""),
            "Agency": m.get("agency", ""),
            "Evkit-Version": __version__,
        })

    # -- queries --------------------------------------------------------------------------
    def evidence(self, number: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM evidence" + (" WHERE number = ?" if number else "") + " ORDER BY id"
        rows = [dict(r) for r in self.store.db.execute(sql, (number,) if number else ())]
        if number and not rows:
            known = ", ".join(r[0] for r in self.store.db.execute("SELECT number FROM evidence")) or "none"
            raise CaseError(f"{self.root}: no evidence numbered {number!r} (known: {known})")
        return rows


def _summary(outputs: list[dict[str, Any]], most: int = 5) -> str:
    """The counts a run's custody outputs hold, for its log line: ``; E1: artefacts 12, bytes 3456``."""
    parts = []
    for out in outputs[:most]:
        counts = [f"{k} {v}" for k, v in out.items() if isinstance(v, int) and not isinstance(v, bool)]
        if isinstance(out.get("records"), dict):
            counts.insert(0, f"records {sum(out['records'].values())}")
        text = ", ".join(counts)
        label = out.get("evidence_number") or out.get("path") or out.get("record_id")
        if label is not None:
            text = f"{label}: {text}" if text else str(label)
        if text:
            parts.append(text)
    if len(outputs) > most:
        parts.append(f"{len(outputs) - most} more outputs")
    return f"; {'; '.join(parts)}" if parts else ""
