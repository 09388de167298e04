"""Examiner tags and notes on records (``evkit tag``), each recorded as a custody event.

A tag names a record by its ``records.id``; the event carries the record's profile, artefact
type, evidence, locator, row and source SHA-256, so the custody log alone says what was tagged.
Tags are shown beside their rows in every report format and listed in the HTML "tagged items".
"""

from __future__ import annotations

from typing import Any

from evkit.case.case import Case
from evkit.case.custody import now_utc
from evkit.errors import UsageError
from evkit.reports.collect import row_ref

MAX_TEXT = 10_000


def _clean(text: str, what: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise UsageError(f"{what} is longer than {MAX_TEXT:,} characters")
    return text


def _record(case: Case, record_id: int) -> dict[str, Any]:
    """The record as a custody event names it; a usage error when the case has no such record."""
    row = case.store.db.execute(
        "SELECT r.id, r.profile, r.profile_version, r.artifact, r.timestamp, r.locator, r.source_sha256, r.row_table,"
        " r.row_id, r.row_index, e.number FROM records r JOIN evidence e ON e.id = r.evidence_id WHERE r.id = ?",
        (record_id,)).fetchone()
    if row is None:
        raise UsageError(f"{case.root}: no record {record_id} in the case (record ids are in the reports' first column)")
    return {"record_id": row[0], "profile": row[1], "profile_version": row[2], "artifact": row[3], "timestamp": row[4],
            "evidence_number": row[10], "locator": row[5], "row": row_ref(row[7], row[8], row[9]), "source_sha256": row[6]}


def _tags_of(case: Case, record_id: int) -> set[str]:
    return {r[0] for r in case.store.db.execute("SELECT tag FROM tags WHERE record_id = ? AND tag IS NOT NULL", (record_id,))}


def tag_record(case: Case, record_id: int, tags: list[str] | None, note: str | None) -> dict[str, Any]:
    """Add ``tags`` (each a row) and ``note`` to one record; returns what was recorded.

    A tag the record already has is not added again: it is listed in ``already`` for a warning, and
    when nothing is left to record no custody event is written (``seq`` is None).
    """
    clean_tags = [t for t in (_clean(t, "--tag") for t in tags or []) if t]
    if tags and len(clean_tags) != len(tags):
        raise UsageError("--tag must not be empty")
    clean_note = _clean(note, "--note") if note is not None else None
    if not clean_tags and not clean_note:
        raise UsageError("give --tag and/or --note")
    record = _record(case, record_id)
    have = _tags_of(case, record_id)
    already = [t for t in clean_tags if t in have]
    clean_tags = list(dict.fromkeys(t for t in clean_tags if t not in have))
    if not clean_tags and not clean_note:
        return {"record_id": record_id, "tags": [], "note": None, "already": already, "seq": None}
    with case.run("tag", [record], key=f"tag:{record_id}", details={"tags": clean_tags, "note": clean_note}) as run:
        with case.store.transaction() as tx:
            if run.resumed is not None:
                tx.execute("DELETE FROM tags WHERE seq IN (?, ?)", (run.seq, run.resumed.get("seq")))
            when = now_utc()
            items = [(t, clean_note if i == 0 else None) for i, t in enumerate(clean_tags)] or [(None, clean_note)]
            tx.executemany("INSERT INTO tags(record_id, tag, note, examiner, time, seq) VALUES (?, ?, ?, ?, ?, ?)",
                           [(record_id, t, n, case.examiner, when, run.seq) for t, n in items])
        result = {"record_id": record_id, "tags": clean_tags, "note": clean_note, "examiner": case.examiner, "time": when,
                  "seq": run.seq, "already": already}
        run.outputs.append({"record_id": record_id, "tags": clean_tags, "note": clean_note})
    return result


def untag_record(case: Case, record_id: int, tags: list[str]) -> dict[str, Any]:
    """Remove ``tags`` from one record, as a custody event (``tag`` with ``removed`` in its details):
    the tags table loses the rows, the custody log keeps both the tagging and its removal."""
    clean = list(dict.fromkeys(_clean(t, "--remove") for t in tags))
    record = _record(case, record_id)
    missing = [t for t in clean if t not in _tags_of(case, record_id)]
    if missing:
        raise UsageError(f"record {record_id} has no tag {', '.join(repr(t) for t in missing)}")
    with case.run("tag", [record], key=f"untag:{record_id}", details={"removed": clean}) as run:
        with case.store.transaction() as tx:
            tx.executemany("DELETE FROM tags WHERE record_id = ? AND tag = ?", [(record_id, t) for t in clean])
        run.outputs.append({"record_id": record_id, "removed": clean})
        return {"record_id": record_id, "removed": clean, "examiner": case.examiner, "seq": run.seq}
