"""The ``evkit`` command: a thin Typer layer over the Python API.

Every command's errors are :class:`evkit.errors.EvkitError`; :func:`run` turns them into one
line on stderr and the documented exit code, so no Python traceback ever reaches an examiner.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated, Optional

import typer

from evkit.cli import common

app = typer.Typer(
    name="evkit",
    help="Read-only digital-evidence toolkit: open images and extractions, list, read, hash and mount them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _versions() -> str:
    import platform

    from evkit import __version__

    parts = [f"evkit {__version__}", f"Python {platform.python_version()}"]
    try:
        import pytsk3

        parts.append(f"pytsk3 {pytsk3.get_version()} (TSK {pytsk3.TSK_VERSION_STR})")
    except ImportError:
        parts.append("pytsk3 missing")
    for mod in ("pyewf", "pyvmdk", "pyvhdi", "pyqcow", "pyfsapfs"):
        try:
            parts.append(f"{mod} {__import__(mod).get_version()}")
        except ImportError:
            parts.append(f"{mod} missing")
    return "\n".join(parts)


def _version_callback(value: bool) -> None:
    if value:
        print(_versions())
        raise typer.Exit(0)


@app.callback()
def main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (also: NO_COLOR in the environment).")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version_callback, is_eager=True,
                                                    help="Versions of evkit, Python, TSK and libyal bindings.")] = None,
) -> None:
    common.SETTINGS.quiet = quiet
    common.SETTINGS.verbose = verbose
    common.SETTINGS.color = not no_color


def _register() -> None:
    from evkit.cli import cat, hash as hash_cmd, info, ls
    from evkit.cli import case, extract, mount, parse, profiles, run, verify
    from evkit.cli import export

    app.command("info")(info.info)
    app.command("ls")(ls.ls)
    app.command("cat")(cat.cat)
    app.command("hash")(hash_cmd.hash_media)
    app.command("mount")(mount.mount)
    app.add_typer(case.app, name="case")
    app.command("extract")(extract.extract)
    app.command("verify")(verify.verify)
    app.command("parse")(parse.parse)
    app.add_typer(profiles.app, name="profiles")
    app.command("run")(run.run)
    app.command("export")(export.export)


_register()


def run() -> None:
    """Console-script entry point."""
    from evkit.errors import EXIT_UNREADABLE, EvkitError

    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        app()
    except EvkitError as exc:
        print(f"evkit: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("evkit: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except MemoryError:
        print("evkit: error: out of memory", file=sys.stderr)
        sys.exit(EXIT_UNREADABLE)
    except OSError as exc:
        print(f"evkit: error: {exc.filename or ''} {exc.strerror or exc}".strip(), file=sys.stderr)
        sys.exit(EXIT_UNREADABLE)
