"""``evkit profiles list|show|validate|test``: what profiles exist and whether one works on a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common

app = typer.Typer(help="List, show, validate and try parsing profiles.", no_args_is_help=True)

ProfilesDir = Annotated[Optional[list[str]], typer.Option("--profiles", help="Extra profile folder (repeatable).")]


@app.command("list")
def list_profiles(profiles_dir: ProfilesDir = None, json_out: Annotated[bool, typer.Option("--json", help="One JSON object per profile: id, name, version, parser, category...")] = False) -> None:
    """Every profile evkit knows: built-in, EVKIT_PROFILES and --profiles folders."""
    from evkit.profiles.loader import load_all

    for p in sorted(load_all(profiles_dir).values(), key=lambda p: p.id):
        if json_out:
            common.emit_json({"id": p.id, "name": p.name, "version": p.version, "parser": p.parser, "category": p.category,
                              "platforms": list(p.platforms), "artifacts": list(p.artifacts), "file": str(p.origin)})
        else:
            print(f"{p.id:<22} v{p.version:<4} {p.parser:<7} {', '.join(p.artifacts):<30} {p.name}")


@app.command("show")
def show(profile: Annotated[str, typer.Argument(help="Profile id.")], profiles_dir: ProfilesDir = None,
         json_out: Annotated[bool, typer.Option("--json", help="The profile as one JSON object, with its file.")] = False) -> None:
    """Print a profile's YAML."""
    from evkit.profiles.loader import load_all, select

    p = select(load_all(profiles_dir), [profile])[0]
    text = Path(str(p.origin)).read_text(encoding="utf-8")
    if json_out:
        import yaml

        common.emit_json({"id": p.id, "file": str(p.origin), "profile": yaml.safe_load(text)})
    else:
        sys.stdout.write(text)


@app.command("validate")
def validate(files: Annotated[Optional[list[Path]], typer.Argument(help="Profile files; default: every known profile.")] = None,
             profiles_dir: ProfilesDir = None,
             json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the profiles checked.")] = False) -> None:
    """Check profiles against the schema; errors name the file, line and field."""
    from evkit.profiles.loader import load_all, load_file

    checked = [load_file(f) for f in files] if files else sorted(load_all(profiles_dir).values(), key=lambda p: p.id)
    if json_out:
        common.emit_json({"valid": True, "profiles": [{"id": p.id, "version": p.version, "file": str(p.origin)} for p in checked]})
    elif files:
        for f in files:
            print(f"{f}: ok")
    else:
        print(f"{len(checked)} profiles: ok")


@app.command("test")
def test(profile: Annotated[str, typer.Argument(help="Profile id or a profile file.")],
         file: Annotated[Path, typer.Argument(help="A file to parse (e.g. a copy of msgstore.db).")],
         profiles_dir: ProfilesDir = None, json_out: Annotated[bool, typer.Option("--json", help="One JSON object per record (as `evkit parse --json`).")] = False) -> None:
    """Run one profile on one file (identify, then parse) and print the records."""
    from evkit.errors import EXIT_PARTIAL, UsageError
    from evkit.listing import json_line

    from evkit.profiles.engine import parse_entry
    from evkit.profiles.loader import load_all, load_file, select
    from evkit.profiles.record import FileProblem
    from evkit.scratch import folder as scratch_folder
    from evkit.sources.logical.directory import DirectoryTree

    p = load_file(Path(profile)) if Path(profile).is_file() else select(load_all(profiles_dir), [profile])[0]
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    tree = DirectoryTree(file.parent.resolve())
    n = problems = 0
    with scratch_folder("test") as scratch:
        for item in parse_entry(tree, tree.lookup("/" + file.name), [p], False, scratch, explicit=True):
            if isinstance(item, FileProblem) and item.note:
                common.note(f"{item.path}: {item.message}")
                continue
            if isinstance(item, FileProblem):
                problems += 1
                common.warn(f"{item.path}: {item.message}")
                continue
            n += 1
            print(json_line(item.as_dict()) if json_out else common.record_line(item))
    if not common.SETTINGS.quiet:
        print(f"{n} records", file=sys.stderr)
    if problems or not n:
        raise typer.Exit(EXIT_PARTIAL)
