"""Looking into a case without changing it: ``evkit case show`` and ``evkit records``.

An examiner needs record ids (for ``evkit tag``) and a case's outline without opening the HTML
report. Everything here reads ``case.db`` through a read-only connection and writes nothing, not
even a log line: looking must leave the case exactly as verified.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from evkit.case.case import DB_FILE, MARKER, CaseError
from evkit.case.custody import FILENAME as CUSTODY_FILE
from evkit.case.custody import read_events
from evkit.reports.collect import fallback_description, render_template, row_ref


def _connect(root: Path) -> sqlite3.Connection:
    db = root / DB_FILE
    if not db.is_file() or not (root / CUSTODY_FILE).is_file():
        raise CaseError(f"{root}: not an evkit case folder (no {DB_FILE} or {CUSTODY_FILE})")
    try:
        return sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CaseError(f"{root}: cannot open {DB_FILE} read-only ({exc})") from exc


def _summary(data: dict[str, Any], template: str | None) -> str:
    text = render_template(template, data) if template else ""
    return text or fallback_description(data)


def _matches(data: dict[str, Any], needle: str) -> bool:
    for v in data.values():
        if v is not None and needle in (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)).lower():
            return True
    return False


def find_records(root: Path, profile: str | None = None, artifact: str | None = None, evidence: str | None = None,
                 search: str | None = None, limit: int | None = 100,
                 templates: dict[tuple[str, str], str | None] | None = None) -> Iterator[dict[str, Any]]:
    """Records of the case in time order (undated last), filtered; ``search`` matches any value,
    ignoring case. ``templates`` gives each (profile, artifact) its one-line description template."""
    where, args = [], []
    if profile:
        where.append("r.profile = ?")
        args.append(profile)
    if artifact:
        where.append("r.artifact = ?")
        args.append(artifact)
    if evidence:
        where.append("e.number = ?")
        args.append(evidence)
    sql = ("SELECT r.id, e.number, r.profile, r.artifact, r.timestamp, r.locator, r.row_table, r.row_id, r.row_index,"
           " r.source_sha256, r.data FROM records r JOIN evidence e ON e.id = r.evidence_id"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY r.timestamp IS NULL, r.timestamp, r.id")
    needle = search.lower() if search else None
    shown = 0
    with closing(_connect(root)) as con:
        for rid, number, prof, art, ts, locator, table, rowid, rowindex, sha, text in con.execute(sql, args):
            try:
                data = json.loads(text)
            except ValueError:
                data = {"data (not JSON)": text}
            if not isinstance(data, dict):
                data = {"value": data}
            if needle is not None and not _matches(data, needle):
                continue
            yield {"id": rid, "evidence": number, "profile": prof, "artifact": art, "timestamp": ts,
                   "locator": locator, "row": row_ref(table, rowid, rowindex), "source_sha256": sha,
                   "summary": _summary(data, (templates or {}).get((prof, art))), "data": data}
            shown += 1
            if limit is not None and shown >= limit:
                return


def case_summary(root: Path) -> dict[str, Any]:
    """The case at a glance: facts, evidence, record counts per evidence item and profile (0 shown),
    tags, custody events and the signature."""
    with closing(_connect(root)) as con:
        meta = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}
        evidence = []
        for (eid, number, desc, name, kind, fmt, size, media, files, sha, verified) in con.execute(
                "SELECT id, number, description, source_name, kind, format, source_size, media_size, files, sha256,"
                " verified FROM evidence ORDER BY id"):
            listed = json.loads(files)
            folder = next((f for f in listed if f.get("kind") == "folder"), None)
            counts = {p: n for p, n in con.execute(
                "SELECT profile, count(*) FROM records WHERE evidence_id = ? GROUP BY profile ORDER BY profile", (eid,))}
            evidence.append({
                "number": number, "description": desc, "source": name, "kind": kind, "format": fmt,
                "size": folder["size"] if folder else (media if media is not None else size),
                "files": folder["files"] if folder else len(listed), "folder": folder is not None,
                "sha256": sha, "verified": None if verified is None else bool(verified),
                "records": sum(counts.values()), "records_by_profile": counts})
        records = con.execute("SELECT count(*) FROM records").fetchone()[0]
        tags = con.execute("SELECT count(*), count(DISTINCT record_id) FROM tags").fetchone()
    events, _ = read_events(root / CUSTODY_FILE)
    out: dict[str, Any] = {
        "case_number": meta.get("case_number"), "examiner": meta.get("examiner"), "agency": meta.get("agency") or None,
        "created": meta.get("created"), "evidence": evidence, "records": records,
        "tags": tags[0], "tagged_records": tags[1], "custody_events": len(events),
        "last_event": ({k: events[-1].get(k) for k in ("seq", "action", "time", "examiner")} if events else None),
        "interrupted_run": (root / MARKER).exists(), "signature": None}
    if (root / "signature.ed25519").exists():
        from evkit.case.signing import verify_signature

        sig = verify_signature(root)
        out["signature"] = {"valid": sig["valid"], "fingerprint": sig.get("fingerprint"),
                            "signed_at_event": sig.get("signed_at_event"), "reason": sig.get("reason")}
    return out


def same_evidence(root: Path, number: str) -> list[str]:
    """Other evidence items whose SHA-256 equals ``number``'s: the same evidence added twice?"""
    with closing(_connect(root)) as con:
        return [r[0] for r in con.execute(
            "SELECT o.number FROM evidence e JOIN evidence o ON o.sha256 = e.sha256 AND o.id != e.id"
            " WHERE e.number = ? AND e.sha256 IS NOT NULL ORDER BY o.id", (number,))]
