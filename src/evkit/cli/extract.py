"""``evkit extract``: copy files out of a case's evidence, hashing each while copying."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_PARTIAL


def extract(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Only this evidence number.")] = None,
    glob: Annotated[Optional[list[str]], typer.Option("--glob", help="Shell pattern on the in-evidence path (repeatable; * crosses /; case-insensitive).")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Also extract deleted files whose content survives.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: what was extracted and hashed, unreadable entries, the evidence re-check.")] = False,
) -> None:
    """Copy matching files to data/<evidence number>/..., keeping in-image paths; resumable."""
    from evkit.case.case import Case
    from evkit.case.extract import extract as run_extract

    with Case(case) as c:
        result = run_extract(c, evidence, glob or [], deleted, warn=common.warn)
    data = {"extracted": result.extracted, "already_extracted": result.already, "bytes": result.bytes,
            "unreadable": result.unreadable, "stored_under_conflicts": result.conflicts,
            "evidence_recheck": result.evidence_recheck}
    if json_out:
        common.emit_json(data)
    else:
        print(f"{result.extracted} files extracted ({result.bytes} bytes), {result.already} already in the case, "
              f"{len(result.unreadable)} unreadable" + (f", {len(result.conflicts)} stored under =conflicts/" if result.conflicts else ""))
    common.fail_if_evidence_changed(result.evidence_recheck)
    if result.unreadable:
        raise typer.Exit(EXIT_PARTIAL)
