"""Global options where examiners put them, and `--version` naming each TSK evkit uses."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, evkit


def test_version_names_the_system_tsk_of_the_c_walker_and_pytsk3s_own() -> None:
    out = evkit("--version", check=True).stdout.decode()
    pytsk3 = pytest.importorskip("pytsk3")
    assert f"bundled TSK {pytsk3.TSK_VERSION_STR}" in out
    fls = shutil.which("fls")
    if fls is None or "system TSK" not in out:
        pytest.skip("fls or the C walker is missing")
    # fls is the system's TSK: its own version line is the truth for the walker's libtsk.
    system = re.search(r"(\d+\.\d+\.\d+)", subprocess.run([fls, "-V"], capture_output=True, text=True).stdout)
    assert system and f"C walker of `ls`: system TSK {system.group(1)}" in out


def test_password_file_works_after_the_command_name(samples: Path) -> None:
    backup = samples / "phone" / "ios_backup_encrypted"
    password = samples / "phone" / "password.txt"
    err = assert_one_line_error(evkit("ls", str(backup)), 3)
    assert "--password-file FILE" in err and "before or after the command name" in err
    after = evkit("ls", str(backup), "--password-file", str(password))
    before = evkit("--password-file", str(password), "ls", str(backup))
    assert after.returncode == 0 and after.stdout == before.stdout and after.stdout
    assert_one_line_error(evkit("ls", str(backup), "--password-file", str(samples / "no-such-file")), 2)


def test_ls_text_has_a_heading_line_naming_its_columns_unless_no_header(samples: Path) -> None:
    image = str(samples / "gpt_ext4.raw")
    lines = evkit("ls", image, "/vol4", check=True).stdout.decode().splitlines()
    assert lines[0].split() == ["TYPE", "D", "ADDRESS", "SIZE", "MODIFIED", "(UTC)", "PATH"]
    assert evkit("ls", "--no-header", image, "/vol4", check=True).stdout.decode().splitlines() == lines[1:]
    hashed = evkit("ls", "--hash", "md5,sha256", image, "/vol4/home/bob", check=True).stdout.decode().splitlines()
    assert hashed[0].endswith("PATH MD5 SHA256")
    # The columns line up under the heading: the path starts where PATH does.
    start = lines[0].index("PATH")
    assert all(line[start - 1] == " " and line[start] == "/" for line in lines[1:])
    for machine in (["--json"], ["--bodyfile"]):
        assert not evkit("ls", *machine, image, "/vol4", check=True).stdout.startswith(b"TYPE")


def _all_parameters() -> list[tuple[str, object]]:
    import click
    import typer

    from evkit.cli import main

    main._register()
    root = typer.main.get_command(main.app)
    out: list[tuple[str, object]] = []

    def walk(c: click.Command, path: list[str]) -> None:
        if isinstance(c, click.Group):
            for name, sub in c.commands.items():
                walk(sub, path + [name])
            return
        out.extend((" ".join(path), p) for p in c.params)

    walk(root, [])
    return out


def test_every_argument_and_option_has_help(monkeypatch: pytest.MonkeyPatch) -> None:
    params = _all_parameters()
    assert len(params) > 50
    missing = [f"{cmd} {p.name}" for cmd, p in params if not getattr(p, "help", None)]  # type: ignore[attr-defined]
    assert not missing, missing
    # And --help shows an argument's help (click 8.5 once erased it behind Typer's back).
    monkeypatch.setenv("COLUMNS", "200")
    assert b"Evidence: image file (first segment), archive or folder." in evkit("ls", "--help").stdout.replace(b"\n", b" ")


def test_mistyped_command_and_profile_get_one_suggestion(samples: Path) -> None:
    err = assert_one_line_error(evkit("lss"), 2)
    assert err.count("Did you mean") == 1 and "'ls'" in err
    err = assert_one_line_error(evkit("parse", str(samples / "gpt_ext4.raw"), "--profile", "chromium.histroy"), 2)
    assert "did you mean 'chromium.history'" in err
    err = assert_one_line_error(evkit("parse", str(samples / "gpt_ext4.raw"), "--profile", "zzz"), 2)
    assert "did you mean" not in err and "unknown profile 'zzz'" in err


def test_error_lines_stay_one_bounded_line(tmp_path: Path) -> None:
    """A 6,000-character path in an error once made a 6 KB line; the start (what failed) and the end
    (why) are kept, in one line of at most about 1,000 characters."""
    missing = tmp_path / (("d" * 200 + "/") * 30 + "image.E01")
    err = assert_one_line_error(evkit("info", str(missing)), 3)
    assert len(err) <= 1100 and "characters cut" in err
