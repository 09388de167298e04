"""The ``evkit`` command: a thin Typer layer over the Python API.

Every command's errors are :class:`evkit.errors.EvkitError`; :func:`run` turns them into one
line on stderr and the documented exit code, so no Python traceback ever reaches an examiner.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

from evkit.cli import common


class OutputClosed(Exception):
    """Whoever read stdout went away (`evkit ls ... | head`): not a failure of the command."""


def _stdout_closed() -> bool:
    """Whether stdout is a pipe or socket nobody reads any more (poll reports POLLERR on it)."""
    import select

    poller = select.poll()
    poller.register(sys.stdout.fileno(), select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


class _Group(TyperGroup):
    """Typer's group, but a closed stdout ends the command with exit 0, not Typer's exit 1 (a mismatch)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            if _stdout_closed():
                raise OutputClosed() from exc
            from evkit.errors import EvkitError

            raise EvkitError(f"broken pipe: {exc}") from exc


app = typer.Typer(
    cls=_Group,
    name="evkit",
    help="Read-only digital-evidence toolkit: open images and extractions, list, read, hash and mount them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    suggest_commands=False,  # click suggests already; Typer's own made "Did you mean 'ls'? Did you mean 'ls'?"
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _versions() -> str:
    import platform

    from evkit import __version__

    parts = [f"evkit {__version__}", f"Python {platform.python_version()}"]
    try:
        import pytsk3

        parts.append(f"pytsk3 {pytsk3.get_version()} (its own bundled TSK {pytsk3.TSK_VERSION_STR}: every read but "
                     "`ls` listings through the C walker)")
    except ImportError:
        parts.append("pytsk3 missing")
    from evkit.sources.filesystems.tsk_native import walker_tsk_version

    walker = walker_tsk_version()
    parts.append(f"C walker of `ls`: system TSK {walker}" if walker else "C walker: not built (listings use pytsk3)")
    for mod in ("pyewf", "pyvmdk", "pyvhdi", "pyqcow", "pyfsapfs"):
        try:
            parts.append(f"{mod} {__import__(mod).get_version()}")
        except ImportError:
            parts.append(f"{mod} missing")
    return "\n".join(parts)


def _read_password_file(password_file: Path) -> None:
    from evkit.sources.source import PASSWORD_ENV

    try:
        os.environ[PASSWORD_ENV] = password_file.read_text(encoding="utf-8").splitlines()[0] if password_file.stat().st_size else ""
    except (OSError, UnicodeError, IndexError) as exc:
        from evkit.errors import UsageError

        raise UsageError(f"{password_file}: cannot read the password file ({exc})") from exc


def _ask_password() -> None:
    import getpass

    from evkit.sources.source import PASSWORD_ENV

    os.environ[PASSWORD_ENV] = getpass.getpass("Backup password: ")


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
    if password_file is not None:
        _read_password_file(password_file)
    elif ask_password:
        _ask_password()
    common.SETTINGS.quiet = quiet
    common.SETTINGS.verbose = verbose
    if no_color:
        common.disable_color()


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
    "records": ("records", "records", False),
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
    from evkit.commandline import command_words

    words = command_words(argv)
    return words[0] if words and words[0] in COMMANDS else None



def _common_options(group: click.Group) -> None:
    """Let every command take --quiet, --verbose, --no-color, --password-file and --ask-password after
    its name too (`evkit verify -q CASE`, `evkit case add CASE backup/ --password-file pw.txt ...`).

    They are options of ``evkit`` itself; scripts put them wherever they put --json, so each command
    also accepts them and sets the same settings before it runs.
    """
    def setter(action: Callable[[], None]) -> Callable[[click.Context, click.Parameter, bool], None]:
        return lambda ctx, param, value: action() if value else None

    def password(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            _read_password_file(Path(value))

    options = [
        (["--quiet", "-q"], "Only errors on stderr.", lambda: setattr(common.SETTINGS, "quiet", True)),
        (["--verbose", "-v"], "More detail on stderr.", lambda: setattr(common.SETTINGS, "verbose", True)),
        (["--no-color"], "No colour (also: NO_COLOR in the environment).", common.disable_color),
        (["--ask-password"], "Ask for the password of an encrypted backup on the terminal.", _ask_password),
    ]
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _common_options(command)
            continue
        taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for decls, help_text, action in options:
            if not taken & set(decls):
                command.params.append(click.Option(decls, is_flag=True, expose_value=False, is_eager=True,
                                                   help=help_text, callback=setter(action)))
        if "--password-file" not in taken:
            command.params.append(click.Option(["--password-file"], expose_value=False, is_eager=True, callback=password,
                                               metavar="FILE", help="Password of an encrypted iTunes or adb backup, "
                                               "read from this file (first line)."))


# Exit codes as the case log names them (docs/exit-codes.md).
_MEANING = {0: "success", 1: "verification mismatch", 2: "usage error", 3: "evidence unreadable or unsupported",
            4: "finished with some failures", 130: "interrupted"}


def _invoke() -> int:
    """Run the command named on the command line; its exit code, any error printed as one line."""
    from evkit.errors import EXIT_UNREADABLE, EXIT_USAGE, EvkitError, RunAlreadyFinished

    command = typer.main.get_command(app)
    assert isinstance(command, click.Group)
    _common_options(command)
    try:
        code = command.main(prog_name="evkit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError:
        return EXIT_USAGE  # the help was shown when the error was made
    except click.ClickException as exc:  # a usage error found by the option parser
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        return common.error(f"{exc.format_message().rstrip('.')}{hint}", EXIT_USAGE)
    except click.Abort:
        return common.error("no input where some was asked for", EXIT_USAGE)
    except RunAlreadyFinished as exc:
        print(f"evkit: {exc}", file=sys.stderr)
        if "--json" in sys.argv[1:]:
            common.emit_json({"already_finished": exc.event})
        return exc.exit_code
    except EvkitError as exc:
        return common.error(str(exc), exc.exit_code)
    except OutputClosed:
        _discard_stdout()
        return 0
    except KeyboardInterrupt:
        code = 130
    except MemoryError:
        return common.error("out of memory", EXIT_UNREADABLE)
    except OSError as exc:
        return common.error(f"{exc.filename or ''} {exc.strerror or exc}".strip(), EXIT_UNREADABLE)
    except Exception as exc:  # a defect met on some input: still one line; the traceback on request
        if common.SETTINGS.verbose:
            import traceback

            traceback.print_exc()
        return common.error(f"internal error: {type(exc).__name__}: {exc} (please report it; "
                            "--verbose shows where)", EXIT_UNREADABLE)
    if code == 130:
        print("evkit: interrupted", file=sys.stderr)
    return code if isinstance(code, int) else 0


def _discard_stdout() -> None:
    """Send what is left in stdout's buffer nowhere, so exiting does not fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    """Console-script entry point."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    started = time.monotonic()
    _register(_command_word(sys.argv))
    code = _invoke()
    if "evkit.case.caselog" in sys.modules:  # only a command that opened a case has a log to finish
        from evkit.case import caselog

        level = caselog.INFO if code == 0 else caselog.WARNING if code == 4 else caselog.ERROR
        caselog.to_open_cases(level, f"finished: exit code {code} ({_MEANING.get(code, 'error')}) "
                                     f"in {time.monotonic() - started:.2f} s")
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
    sys.exit(code)
