"""``evkit records``: find record ids (for ``evkit tag``) without opening the HTML report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common

SUMMARY_WIDTH = 120


def records(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    profile: Annotated[Optional[str], typer.Option("--profile", "-p", help="Only this profile's records (e.g. android.sms).")] = None,
    artifact: Annotated[Optional[str], typer.Option("--artifact", "-a", help="Only this artefact type (e.g. sms).")] = None,
    evidence: Annotated[Optional[str], typer.Option("--evidence", "-e", help="Only this evidence number.")] = None,
    search: Annotated[Optional[str], typer.Option("--search", "-s", help="Only records with a value containing TEXT (case ignored).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many records (0: all).", min=0)] = 100,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line: id, evidence, profile, artifact, timestamp, locator, row, source_sha256, summary, data.")] = False,
) -> None:
    """List records in time order: id, evidence, profile/artifact, time (UTC) and a one-line summary.

    Reads the case without changing it. The id is what `evkit tag CASE ID` takes.
    """
    from evkit.case.browse import find_records
    from evkit.profiles.loader import load_all

    templates = {(p.id, a.name): a.timeline_description for p in load_all().values() for a in p.artifacts.values()}
    found = 0
    for r in find_records(case, profile, artifact, evidence, search, limit or None, templates):
        found += 1
        if json_out:
            common.emit_json(r)
            continue
        summary = " ".join(r["summary"].split())
        if len(summary) > SUMMARY_WIDTH:
            summary = summary[:SUMMARY_WIDTH - 1] + "…"
        print(f"{r['id']:>8}  {common.shown(r['evidence'])}  {r['profile']}/{r['artifact']}  "
              f"{r['timestamp'] or '(no time)'}  {common.shown(summary)}")
    if not json_out and not common.SETTINGS.quiet:
        more = f" (--limit {limit} reached; --limit 0 lists all)" if limit and found == limit else ""
        print(f"evkit: {found:,} record(s){more}", file=sys.stderr)
