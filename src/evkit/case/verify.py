"""Checking a case folder: every payload and tag file re-hashed, the custody chain, the signature.

Statuses follow hashdeep's audit mode: ``matched``, ``modified``, ``missing`` and ``new``. A folder
left by an interrupted run is reported as such: its unfinished files show as ``new`` and are marked
as belonging to that run, while everything finished before it is still checked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evkit.case import bag
from evkit.case.case import DB_FILE, MARKER
from evkit.case.custody import FILENAME as CUSTODY_FILE
from evkit.case.custody import read_events

IGNORED_TAG_FILES = {"tagmanifest-sha256.txt", MARKER, "signature.ed25519", "signature.pub",
                     "signature-tagmanifest-sha256.txt"}


@dataclass
class VerifyReport:
    files: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    events: int = 0
    interrupted: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    evidence: dict[str, str] | None = None  # evidence number -> "unchanged" or what changed; None: not re-hashed

    @property
    def ok(self) -> bool:
        return not self.problems and self.interrupted is None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f["status"]] = out.get(f["status"], 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts(), "events": self.events, "interrupted": self.interrupted,
                "signature": self.signature, "evidence": self.evidence, "problems": self.problems, "files": self.files}


def _in_payload(path: str) -> bool:
    """Whether a manifest path names a file inside ``data/`` (no absolute path, no ``..`` step)."""
    parts = path.split("/")
    return len(parts) >= 2 and parts[0] == "data" and not any(p in ("", ".", "..") for p in parts) and "\\" not in path


def _payload_files(root: Path) -> set[str]:
    out = set()
    data = root / "data"
    for dirpath, dirnames, filenames in os.walk(data, followlinks=False):
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            out.add(f"{rel}/{name}")
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                out.add(f"{rel}/{name}")
    return out


def registered_evidence(root: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each evidence item's number and registered files, read without changing ``case.db``."""
    import json
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{root / DB_FILE}?mode=ro&immutable=1", uri=True)
        try:
            rows = con.execute("SELECT number, files FROM evidence ORDER BY id").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []
    return [(number, json.loads(files)) for number, files in rows]


def verify_case(root: Path, public_key: Path | None = None, evidence: bool = False,
                progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check the case folder; with ``evidence``, also re-hash the original evidence files against
    their registration (``progress`` gets the byte count of each block hashed)."""
    import json

    report = VerifyReport()
    if not (root / "bagit.txt").exists():
        report.problems.append("bagit.txt is missing: not a bag")
    marker = root / MARKER
    if marker.exists():
        try:
            report.interrupted = json.loads(marker.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            report.interrupted = {"action": "unknown"}
        report.interrupted.pop("resuming", None)

    sha = bag.read_manifest(root / "manifest-sha256.txt")
    md5 = bag.read_manifest(root / "manifest-md5.txt")
    present = _payload_files(root)
    for path in sorted(set(sha) | set(md5)):
        p = root / path
        if not _in_payload(path):
            # A manifest line naming a file outside data/ would make verify vouch for it.
            report.files.append({"path": path, "kind": "payload", "status": "outside"})
            report.problems.append(f"{path}: listed in the manifests but outside data/ (a manifest edited to point elsewhere)")
            continue
        if not p.is_file() or p.is_symlink():
            status = "missing"
        else:
            got = bag.file_hashes(p, ("md5", "sha256"))
            status = "matched" if got["sha256"] == sha.get(path, got["sha256"]) and got["md5"] == md5.get(path, got["md5"]) else "modified"
        report.files.append({"path": path, "kind": "payload", "status": status})
        if status != "matched":
            report.problems.append(f"{path}: {status}")
    for path in sorted(present - set(sha) - set(md5)):
        entry: dict[str, Any] = {"path": path, "kind": "payload", "status": "new"}
        if report.interrupted is not None:
            entry["interrupted_run"] = True
        else:
            report.problems.append(f"{path}: new (not in the manifests)")
        report.files.append(entry)

    tags = bag.read_manifest(root / "tagmanifest-sha256.txt")
    if not tags:
        report.problems.append("tagmanifest-sha256.txt is missing or empty")
    for name in sorted(tags):
        p = root / name
        if not p.is_file():
            status = "missing"
        else:
            status = "matched" if bag.file_hashes(p)["sha256"] == tags[name] else "modified"
        report.files.append({"path": name, "kind": "tag", "status": status})
        if status != "matched" and not (report.interrupted is not None and name in (DB_FILE, CUSTODY_FILE)):
            report.problems.append(f"{name}: {status}")
    for name in (DB_FILE, CUSTODY_FILE, "bag-info.txt", "manifest-sha256.txt"):
        if name not in tags and (root / name).exists():
            report.problems.append(f"{name}: not covered by the tag manifest")

    events, chain = read_events(root / CUSTODY_FILE)
    report.events = len(events)
    for c in chain:
        report.problems.append(f"{CUSTODY_FILE} line {c.line}: {c.reason}")
    _cross_check_db(root, events, report)
    report.signature = _check_signature(root, public_key, report)
    if evidence:
        from evkit.case.evidence import recheck_registered

        report.evidence = recheck_registered(registered_evidence(root), progress)
        for number, state in report.evidence.items():
            if state != "unchanged":
                report.problems.append(f"evidence {number}: {state}")
    return report


def _cross_check_db(root: Path, events: list[dict[str, Any]], report: VerifyReport) -> None:
    """The store's copy of each event hash must agree with the log (an edit of either shows)."""
    import sqlite3

    db_path = root / DB_FILE
    if not db_path.exists():
        report.problems.append(f"{DB_FILE} is missing")
        return
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
        rows = {r[0]: r[1] for r in con.execute("SELECT seq, hash FROM events")}
        con.close()
    except sqlite3.Error as exc:
        report.problems.append(f"{DB_FILE}: unreadable ({exc})")
        return
    logged = {e.get("seq"): e.get("hash") for e in events}
    for seq, digest in rows.items():
        if logged.get(seq) != digest:
            report.problems.append(f"{DB_FILE}: event {seq} differs from {CUSTODY_FILE} (or is missing there)")
    for seq in logged:
        if seq not in rows and report.interrupted is None:
            report.problems.append(f"{CUSTODY_FILE}: event {seq} is not recorded in {DB_FILE}")


def _check_signature(root: Path, public_key: Path | None, report: VerifyReport) -> dict[str, Any] | None:
    sig = root / "signature.ed25519"
    if not sig.exists():
        signed = [e.get("seq") for e in read_events(root / CUSTODY_FILE)[0] if e.get("action") == "case-sign"]
        if signed:  # once signed, a case stays signed: deleting the signature is not "unsigned"
            report.problems.append(f"the case was signed (custody event {signed[-1]}) but signature.ed25519 is missing")
            return {"valid": False, "reason": "signature files missing", "fingerprint": None}
        if public_key is not None:
            report.problems.append("a public key was given but the case is not signed")
        return None
    from evkit.case.signing import SIGNED_COPY, verify_signature

    result = verify_signature(root, public_key)
    if not result["valid"]:
        report.problems.append(f"signature: {result['reason']}")
    elif "signed_at_event" in result:
        events, _ = read_events(root / CUSTODY_FILE)
        result["later_events"] = [{"seq": e.get("seq"), "action": e.get("action"), "time": e.get("time")}
                                  for e in events[result["signed_at_event"]:]]
        # Only a later event rewrites the tag manifest: without one it must still be the signed one.
        copy = root / SIGNED_COPY
        if not result["later_events"] and copy.is_file() and copy.read_bytes() != _read(root / "tagmanifest-sha256.txt"):
            result["valid"] = False
            result["reason"] = "tagmanifest-sha256.txt changed after signing although no custody event followed"
            report.problems.append(f"signature: {result['reason']}")
    return result


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
