"""``evkit parse``: run profiles over any source without a case, for quick looks and scripts."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_PARTIAL


def parse(
    source: Annotated[str, typer.Argument(help="Evidence: image, archive, folder or phone extraction.")],
    profile: Annotated[Optional[list[str]], typer.Option("--profile", "-p", help="Profile id (repeatable); default: all.")] = None,
    hunt: Annotated[bool, typer.Option("--hunt", help="Also try every SQLite file, whatever its name, against SQLite profiles.")] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Also parse deleted files whose content survives.")] = False,
    profiles_dir: Annotated[Optional[list[str]], typer.Option("--profiles", help="Extra profile folder (repeatable).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per record.")] = False,
) -> None:
    """Print the records the profiles find, each with its locator, source SHA-256 and row."""
    from evkit.profiles.engine import run_profiles_as
    from evkit.profiles.forms import JSON_LINES, RECORDS, Form, Lines
    from evkit.profiles.loader import load_all, select
    from evkit.listing import json_line
    from evkit.profiles.record import FileProblem
    from evkit.sources.source import open_source

    chosen = select(load_all(profiles_dir), profile)
    problems = 0
    count = 0
    form: Form[Any] = JSON_LINES if json_out else RECORDS
    with open_source(source) as src:
        for item in run_profiles_as(form, src, chosen, hunt=hunt, include_deleted=deleted):
            if isinstance(item, FileProblem) and item.note:
                common.note(f"{item.path} ({item.profile}): {item.message}")
                if json_out:
                    sys.stdout.write(json_line({"kind": "note", **item.as_dict()}) + "\n")
            elif isinstance(item, FileProblem):
                problems += 1
                common.warn(f"{item.path} ({item.profile}): {item.message}")
            elif isinstance(item, Lines):
                count += len(item.lines)
                _write(item.lines)
            else:
                count += 1
                sys.stdout.write(common.record_line(item) + "\n")
    if not json_out and not common.SETTINGS.quiet:
        print(f"{count} records, {problems} files with problems", file=sys.stderr)
    if problems:
        raise typer.Exit(EXIT_PARTIAL)


def _write(lines: list[str]) -> None:
    """Lines written in pieces of 64: one write even when stdout is unbuffered (``PYTHONUNBUFFERED``),
    and never a text as large as a whole batch, which malloc would map and unmap page by page."""
    for start in range(0, len(lines), 64):
        sys.stdout.write("".join(lines[start:start + 64]))
