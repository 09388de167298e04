"""``evkit parse``: run profiles over any source without a case, for quick looks and scripts."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

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
    import json

    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    from evkit.profiles.engine import run_profiles, scratch_dir
    from evkit.profiles.loader import load_all, select
    from evkit.profiles.record import FileProblem
    from evkit.sources.source import open_source

    chosen = select(load_all(profiles_dir), profile)
    problems = 0
    count = 0
    with open_source(source) as src:
        for item in run_profiles(src, chosen, hunt=hunt, include_deleted=deleted, scratch=scratch_dir()):
            if isinstance(item, FileProblem):
                problems += 1
                common.warn(f"{item.path} ({item.profile}): {item.message}")
                continue
            count += 1
            if json_out:
                sys.stdout.write(encode(item.as_dict()) + "\n")
            else:
                sys.stdout.write(common.record_line(item) + "\n")
    if not json_out and not common.SETTINGS.quiet:
        print(f"{count} records, {problems} files with problems", file=sys.stderr)
    if problems:
        raise typer.Exit(EXIT_PARTIAL)
