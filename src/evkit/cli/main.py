"""The ``evkit`` command: a thin Typer layer over the Python API.

Every command's errors are :class:`evkit.errors.EvkitError`; :func:`run` turns them into one
line on stderr and the documented exit code, so no Python traceback ever reaches an examiner.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
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
    password_file: Annotated[Optional[Path], typer.Option("--password-file", help="Password of an encrypted iTunes or adb backup, read from this file (first line).")] = None,
    ask_password: Annotated[bool, typer.Option("--ask-password", help="Ask for the password of an encrypted backup on the terminal.")] = False,
) -> None:
    from evkit.sources.source import PASSWORD_ENV

    if password_file is not None:
        try:
            os.environ[PASSWORD_ENV] = password_file.read_text(encoding="utf-8").splitlines()[0] if password_file.stat().st_size else ""
        except (OSError, UnicodeError) as exc:
            from evkit.errors import UsageError

            raise UsageError(f"{password_file}: cannot read the password file ({exc})") from exc
    elif ask_password:
        import getpass

        os.environ[PASSWORD_ENV] = getpass.getpass("Backup password: ")
    common.SETTINGS.quiet = quiet
    common.SETTINGS.verbose = verbose
    common.SETTINGS.color = not no_color


# Every command: name -> (module in evkit.cli, attribute, whether it is a sub-command group).
# Only the command being run is imported and built: building all of them costs more start-up
# time than reading a small file (`evkit cat`) takes.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "info": ("info", "info", False),
    "ls": ("ls", "ls", False),
    "cat": ("cat", "cat", False),
    "hash": ("hash", "hash_media", False),
    "mount": ("mount", "mount", False),
    "case": ("case", "app", True),
    "extract": ("extract", "extract", False),
    "verify": ("verify", "verify", False),
    "parse": ("parse", "parse", False),
    "profiles": ("profiles", "app", True),
    "run": ("run", "run", False),
    "export": ("export", "export", False),
    "batch": ("batch", "batch", False),
    "report": ("report", "report", False),
    "tag": ("tag", "tag", False),
}


def _register(only: str | None = None) -> None:
    import importlib

    for name, (module, attr, group) in COMMANDS.items():
        if only is not None and name != only:
            continue
        obj = getattr(importlib.import_module(f"evkit.cli.{module}"), attr)
        if group:
            app.add_typer(obj, name=name)
        else:
            app.command(name)(obj)


def _command_word(argv: list[str]) -> str | None:
    """The sub-command named on the command line, if it is one of ours (global options come first)."""
    for word in argv[1:]:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def run() -> None:
    """Console-script entry point."""
    from evkit.errors import EXIT_UNREADABLE, EvkitError

    os.environ["TZ"] = "UTC"
    time.tzset()
    _register(_command_word(sys.argv))
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
