"""``evkit run``: profiles over every evidence item of a case, records into ``case.db``.

Every file a profile matches is extracted into the bag (with its ``-wal``/``-journal``), so each
record points at a hashed artefact; records of one (file, profile) pair are committed together
with a ``parsed`` row, so a resumed run skips exactly the pairs that were finished.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evkit.case.case import Case
from evkit.case.extract import ArtefactWriter
from evkit.errors import EvkitError
from evkit.profiles.engine import SIDECARS, parse_entry_as
from evkit.profiles.forms import CASE_ROWS, CaseRows
from evkit.profiles.model import Profile
from evkit.profiles.record import FileProblem
from evkit.scratch import folder as scratch_folder


@dataclass
class RunResult:
    records: Counter[str] = field(default_factory=Counter)
    files: int = 0
    skipped: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # read in full, with something to know
    evidence_recheck: dict[str, str] = field(default_factory=dict)

    @property
    def evidence_changed(self) -> bool:
        return any(v != "unchanged" for v in self.evidence_recheck.values())


def run_case(case: Case, profiles: list[Profile], hunt: bool = False, include_deleted: bool = False,
             warn: Callable[[str], None] | None = None, note: Callable[[str], None] | None = None) -> RunResult:
    from evkit.case.evidence import Recheck
    from evkit.sources.source import open_source

    items = case.evidence()
    if not items:
        raise EvkitError(f"{case.root}: the case has no evidence yet; add some with `evkit case add`")
    ids = sorted(p.id for p in profiles)
    inputs = [{"evidence_number": i["number"], "sha256": i["sha256"]} for i in items]
    versions = {p.id: p.version for p in profiles}
    result = RunResult()
    key = f"run:{','.join(ids)}:{int(hunt)}:{int(include_deleted)}"
    with case.run("profiles-run", inputs, key=key, details={"profiles": versions, "hunt": hunt}) as run:
        rechecking = Recheck(case, [i["number"] for i in items])
        db = case.store.db
        for item in items:
            w = ArtefactWriter(case, item, run.seq)
            done = {(r[0], r[1]) for r in db.execute(
                "SELECT a.locator, p.profile FROM parsed p JOIN artefacts a ON a.id = p.artefact_id WHERE a.evidence_id = ?",
                (item["id"],))}
            with open_source(item["source_path"]) as src, scratch_folder("run") as scratch:
                for e in src.walk("/", recursive=True):
                    if e.type != "file" or (e.deleted and not include_deleted) or e.name.endswith(SIDECARS):
                        continue
                    todo = [p for p in profiles if (e.locator, p.id) not in done]
                    if not todo:
                        continue
                    found: dict[str, list[CaseRows]] = {}
                    problems: dict[str, str] = {}
                    for out in parse_entry_as(CASE_ROWS, src, e, todo, hunt, scratch):
                        if isinstance(out, FileProblem) and out.note:
                            result.notes.append(out.as_dict())
                            if note:
                                note(f"{item['number']}: {out.path} ({out.profile}): {out.message}")
                        elif isinstance(out, FileProblem):
                            problems[out.profile] = out.message
                            result.problems.append(out.as_dict())
                            if warn:
                                warn(f"{item['number']}: {out.path} ({out.profile}): {out.message}")
                        else:
                            found.setdefault(out.origin.profile, []).append(out)
                    if not found and not problems:
                        continue
                    artefact_id = _ensure_artefact(w, src, e)
                    result.files += 1
                    with case.store.transaction() as tx:
                        for pid in set(found) | set(problems):
                            batches = found.get(pid, [])
                            tx.executemany(
                                "INSERT INTO records(evidence_id, artefact_id, profile, profile_version, artifact, timestamp,"
                                " locator, source_sha256, row_table, row_id, row_index, data, seq)"
                                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                [(item["id"], artefact_id, b.origin.profile, b.origin.profile_version, b.origin.artifact,
                                  timestamp, b.origin.locator, b.origin.source_sha256, table, rowid, index, data, run.seq)
                                 for b in batches for timestamp, table, rowid, index, data in b.rows])
                            tx.execute("INSERT OR REPLACE INTO parsed(artefact_id, profile, records, problem, seq) VALUES (?,?,?,?,?)",
                                       (artefact_id, pid, sum(len(b.rows) for b in batches), problems.get(pid), run.seq))
                            for b in batches:
                                result.records[f"{pid}/{b.origin.artifact}"] += len(b.rows)
            w.close()
        total = {k: v for k, v in sorted(result.records.items())}
        run.outputs.append({"records": total, "files": result.files, "problems": len(result.problems)})
        result.evidence_recheck = rechecking.result()
        run.details["evidence_recheck"] = result.evidence_recheck
        run.details["problems"] = result.problems[:1000]
        run.details["notes"] = result.notes[:1000]
    return result


def _ensure_artefact(w: ArtefactWriter, src: Any, e: Any) -> int:
    """The artefact id of the evidence file (and its SQLite sidecars), extracting them if needed."""
    from evkit.profiles.engine import find_sidecars

    if e.locator not in w.done:
        w.copy(src, e)
        w.flush()
    parent = w.done[e.locator]
    for side in find_sidecars(src, e):
        if side.locator not in w.done:
            w.copy(src, side, parent_id=parent)
    w.flush()
    return parent
