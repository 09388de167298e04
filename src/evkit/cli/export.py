"""``evkit export``: write the case as DFXML or CASE/UCO JSON-LD into data/exports/, recorded in custody."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common


class ExportFormat(str, enum.Enum):
    dfxml = "dfxml"
    case_uco = "case-uco"


def export(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    format_: Annotated[ExportFormat, typer.Option("--format", help="dfxml (Digital Forensics XML 1.2.0) or case-uco (CASE 1.x JSON-LD).")],
    output: Annotated[Optional[str], typer.Option("--output", help="File name inside data/exports/ (default: <case number>.dfxml or .case.jsonld).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the file written, its hashes and the custody event.")] = False,
) -> None:
    """Export every artefact, evidence item and custody event; the file joins the case's manifests."""
    from evkit.case.case import Case
    from evkit.exporters import export_case

    with Case(case) as c:
        result = export_case(c, format_.value, output)
    if json_out:
        common.emit_json(result.as_dict())
    else:
        print(f"{result.path}: {result.format}, {result.artefacts} artefacts, {result.size} bytes, sha256 {result.sha256}")
