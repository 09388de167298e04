"""``evkit report``: court-ready reports of a case's records, written into data/reports/ and recorded in custody."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_PARTIAL


def report(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    format_: Annotated[Optional[list[str]], typer.Option(
        "--format", "-f",
        help="Comma-separated (or repeated): html, csv, xlsx, kml, geojson, timeline, pdf, or all. "
             "Default: every format but pdf.")] = None,
    tz: Annotated[Optional[str], typer.Option(
        "--tz", help="Also show times in this zone (IANA name, e.g. Europe/Paris), beside UTC and marked.")] = None,
    profiles_dir: Annotated[Optional[list[str]], typer.Option("--profiles", help="Extra profile folder (repeatable).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the formats and files written, with hashes, and the custody event.")] = False,
) -> None:
    """Write the case's records as reports under data/reports/; each file joins the custody log and the manifests."""
    from evkit.case.case import Case
    from evkit.reports import report_case

    with Case(case) as c:
        result = report_case(c, format_, tz, profiles_dir, warn=common.warn)
    if json_out:
        common.emit_json(result.as_dict())
    else:
        for fr in result.formats:
            if fr.format in ("html", "csv"):
                entry = f"{fr.path}/index.html" if fr.format == "html" else f"{fr.path}/"
                print(f"{entry}: {fr.format}, {len(fr.files)} files, {fr.size} bytes, listing sha256 {fr.listing_sha256()}")
            else:
                print(f"{fr.path}: {fr.format}, {fr.size} bytes, sha256 {fr.files[0]['sha256']}")
        if result.seq is not None:
            print(f"{result.records} records reported; custody event {result.seq}")
    for fmt, reason in result.skipped.items():
        common.warn(f"{fmt} not written: {reason}")
    if result.skipped:
        raise typer.Exit(EXIT_PARTIAL)
