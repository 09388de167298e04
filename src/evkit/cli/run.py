"""``evkit run``: run parsing profiles over all of a case's evidence and store the records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_PARTIAL


def run(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    profile: Annotated[Optional[list[str]], typer.Option("--profile", "-p", help="Profile id (repeatable); default: all.")] = None,
    hunt: Annotated[bool, typer.Option("--hunt", help="Also try every SQLite file against SQLite profiles.")] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Also parse deleted files whose content survives.")] = False,
    profiles_dir: Annotated[Optional[list[str]], typer.Option("--profiles", help="Extra profile folder (repeatable).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: records per profile, files with problems, the evidence re-check.")] = False,
) -> None:
    """Extract every matched file as an artefact, store its records in case.db, log the run; resumable."""
    from evkit.case.case import Case
    from evkit.case.run_profiles import run_case
    from evkit.profiles.loader import load_all, select

    chosen = select(load_all(profiles_dir), profile)
    with Case(case) as c:
        result = run_case(c, chosen, hunt=hunt, include_deleted=deleted, warn=common.warn, note=common.note)
    data = {"records": dict(result.records), "files": result.files, "problems": result.problems,
            "notes": result.notes, "evidence_recheck": result.evidence_recheck}
    if json_out:
        common.emit_json(data)
    else:
        for key, n in sorted(result.records.items()):
            print(f"{n:>8}  {key}")
        print(f"{sum(result.records.values())} records from {result.files} files, {len(result.problems)} problems")
    common.fail_if_evidence_changed(result.evidence_recheck)
    if result.problems:
        raise typer.Exit(EXIT_PARTIAL)
