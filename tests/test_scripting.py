"""Scripting: every command's --json parses, pipes get no escape codes, data on stdout and messages on
stderr, --quiet is silent on success, one-line usage errors, and the per-case log (evkit.log) that
every command on a case appends to without breaking the bag or `evkit verify`."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVKIT, assert_one_line_error, evkit

bagit = pytest.importorskip("bagit", reason="bagit-python (test dependency) is not installed")

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (INFO|WARNING|ERROR) +(\S.*?)\[(\d+)\]: (.+)$")
ESC = b"\x1b"


def _json(proc: subprocess.CompletedProcess[bytes]) -> Any:
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert ESC not in proc.stdout and ESC not in proc.stderr
    return json.loads(proc.stdout)


def _log(case: Path) -> list[tuple[str, str, str]]:
    """(level, command, message) of every record in the case's log; every line must be well formed."""
    out = []
    for line in (case / "evkit.log").read_text(encoding="utf-8").splitlines():
        m = LOG_LINE.match(line)
        assert m, line
        out.append((m.group(1), m.group(2), m.group(4)))
    return out


def _intact(case: Path) -> None:
    proc = evkit("verify", "--json", str(case))
    assert proc.returncode == 0, json.loads(proc.stdout)["problems"]
    assert not [f for f in json.loads(proc.stdout)["files"] if "evkit.log" in f["path"]]
    bagit.Bag(str(case)).validate()


@pytest.fixture(scope="module")
def phone_case(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Path:
    """A case with a disk image and a phone extraction, its SMS parsed: every case command run with --json."""
    case = tmp_path_factory.mktemp("scripting") / "case"
    _json(evkit("case", "init", "--json", str(case), "--case-number", "S-1", "--examiner", "Jo Examiner"))
    added = _json(evkit("case", "add", "--json", str(case), str(samples / "gpt_ext4.raw"), "--evidence-number", "E1"))
    assert added["number"] == "E1" and len(added["sha256"]) == 64
    _json(evkit("case", "add", "--json", str(case), str(samples / "phone" / "android_ffs.tar"), "--evidence-number", "E2"))
    assert _json(evkit("extract", "--json", str(case), "--evidence", "E1"))["extracted"] > 0
    assert _json(evkit("run", "--json", str(case), "-p", "android.sms", timeout=300))["records"]
    return case


def test_case_commands_json_and_log(phone_case: Path, tmp_path: Path) -> None:
    case = phone_case
    tag = _json(evkit("tag", "--json", str(case), "1", "--tag", "relevant", "--tag", "second", "--note", "first contact"))
    assert {k: tag[k] for k in ("record_id", "tags", "note", "examiner")} == {
        "record_id": 1, "tags": ["relevant", "second"], "note": "first contact", "examiner": "Jo Examiner"}
    assert tag["time"].endswith("Z") and isinstance(tag["seq"], int)
    assert [(r["id"] > 0, r["record_id"], r["tag"], r["note"], r["examiner"], r["time"], r["seq"]) for r in tag["rows"]] == [
        (True, 1, "relevant", "first contact", "Jo Examiner", tag["time"], tag["seq"]),
        (True, 1, "second", None, "Jo Examiner", tag["time"], tag["seq"])]

    exported = _json(evkit("export", "--json", str(case), "--format", "dfxml"))
    assert exported["path"].startswith("data/exports/")
    reported = _json(evkit("report", "--json", str(case), "--format", "csv"))
    assert reported is not None

    key = tmp_path / "examiner.key"
    keys = _json(evkit("case", "keygen", "--json", str(key)))
    assert keys == {"private_key": str(key), "public_key": str(key) + ".pub", "fingerprint": keys["fingerprint"]}
    assert keys["fingerprint"].startswith("SHA256:") and Path(keys["public_key"]).is_file()
    signed = _json(evkit("case", "sign", "--json", str(case), "--key", str(key)))
    assert signed["fingerprint"] == keys["fingerprint"]

    verified = _json(evkit("verify", "--json", str(case)))
    assert verified["ok"] and verified["signature"]["valid"]
    _intact(case)  # the log was written after the manifests and the signature: both still hold

    records = _log(case)
    commands = [c for _, c, m in records if m.startswith("start: ")]
    assert commands == ["case init", "case add", "case add", "extract", "run", "tag", "export", "report", "case sign",
                        "verify", "verify"]
    finished = [(c, m) for _, c, m in records if m.startswith("finished: ")]
    assert len(finished) == len(commands) and all("exit code 0 (success) in " in m for _, m in finished)
    assert any(c == "extract" and re.search(r"custody event \d+ recorded .*E1: artefacts \d+", m) for _, c, m in records)
    assert any(c == "verify" and m.startswith("verify: case intact") for _, c, m in records)
    # Appends only: whatever ran before is still there, unchanged, after verify wrote its own lines.
    before = (case / "evkit.log").read_bytes()
    _intact(case)
    assert (case / "evkit.log").read_bytes().startswith(before)


def test_failures_and_warnings_reach_the_log(phone_case: Path, tmp_path: Path) -> None:
    case = tmp_path / "copy"
    shutil.copytree(phone_case, case)
    assert_one_line_error(evkit("tag", str(case), "999999", "--tag", "x"), 2)
    level, command, message = _log(case)[-1]
    assert (level, command) == ("ERROR", "tag") and message.startswith("finished: exit code 2 (usage error)")
    assert any(lvl == "ERROR" and "no record 999999" in m for lvl, _, m in _log(case))

    (case / "data" / "E1").rename(case / "data" / "moved")
    proc = evkit("verify", str(case))
    assert proc.returncode == 1
    assert any(lvl == "ERROR" and m.startswith("verify: CASE NOT INTACT") for lvl, _, m in _log(case))

    # Nothing is written into a folder that is not a case.
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    assert evkit("verify", str(stranger)).returncode == 1
    assert_one_line_error(evkit("extract", str(stranger)), 2)
    assert list(stranger.iterdir()) == []


def test_quiet_is_silent_on_success_and_either_place_works(phone_case: Path, samples: Path, tmp_path: Path) -> None:
    image = str(samples / "gpt_ext4.raw")
    case = tmp_path / "quiet"
    runs = [
        ["--quiet", "case", "init", str(case), "--case-number", "Q-1", "--examiner", "Jo"],
        ["case", "add", "-q", str(case), image, "--evidence-number", "E1"],
        ["extract", str(case), "--quiet"],
        ["-q", "verify", str(case)],
        ["info", "-q", image],
        ["hash", "--quiet", image],
        ["ls", "-r", "-q", image],
        ["cat", image, "/vol4/home/bob/notes.txt", "-q"],
        ["profiles", "list", "-q"],
    ]
    for args in runs:
        proc = evkit(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stderr == b"", (args, proc.stderr)
    # Without --quiet, messages go to stderr and never to stdout.
    proc = evkit("case", "init", str(tmp_path / "loud"), "--case-number", "L-1", "--examiner", "Jo")
    assert proc.stdout == b"" and b"created" in proc.stderr


def test_no_escape_codes_in_pipes_or_with_no_color(phone_case: Path, samples: Path) -> None:
    image = str(samples / "mbr_fat32_ntfs.E01")
    commands = [["hash", image], ["info", image], ["ls", "-r", image], ["verify", "-v", str(phone_case)],
                ["--help"], ["cat", "--help"], ["cat"], ["ls", "--bogus"], ["cat", image, "/nope"]]
    env = dict(os.environ, NO_COLOR="1")
    for args in commands:
        for extra_env in (None, env):
            proc = subprocess.run([str(EVKIT), *args], check=False, capture_output=True, timeout=120, env=extra_env)
            assert ESC not in proc.stdout and ESC not in proc.stderr, (args, proc.stderr)


def test_usage_errors_are_one_line(samples: Path) -> None:
    assert "Missing argument 'SOURCE'" in assert_one_line_error(evkit("cat"), 2)
    assert "--bogus" in assert_one_line_error(evkit("ls", "--bogus", str(samples / "gpt_ext4.raw")), 2)
    assert "evkit case init --help" in assert_one_line_error(evkit("case", "init", "x"), 2)


def test_every_command_takes_json_and_the_common_options() -> None:
    import click
    import typer

    from evkit.cli import main

    main._register()
    root = typer.main.get_command(main.app)
    assert isinstance(root, click.Group)
    main._common_options(root)

    def leaves(group: click.Group, prefix: str) -> dict[str, click.Command]:
        out: dict[str, click.Command] = {}
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                out.update(leaves(cmd, f"{prefix}{name} "))
            else:
                out[prefix + name] = cmd
        return out

    commands = leaves(root, "")
    assert len(commands) >= 20
    for name, cmd in commands.items():
        opts = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
        assert {"--quiet", "-q", "--verbose", "-v", "--no-color"} <= opts, name
        assert "--json" in opts, name


def test_profiles_show_and_validate_json() -> None:
    shown = json.loads(evkit("profiles", "show", "android.sms", "--json", check=True).stdout)
    assert shown["id"] == "android.sms" and shown["profile"]["id"] == "android.sms" and shown["file"].endswith(".yaml")
    checked = json.loads(evkit("profiles", "validate", "--json", check=True).stdout)
    assert checked["valid"] is True and {"android.sms", "exif"} <= {p["id"] for p in checked["profiles"]}


def test_cat_json(samples: Path) -> None:
    image = str(samples / "mbr_fat32_ntfs.E01")
    path = "/vol3/Users/alice/Downloads/setup.exe"
    plain = evkit("cat", image, path, check=True).stdout
    doc = _json(evkit("cat", "--json", image, path))
    listed = [json.loads(line) for line in evkit("ls", "--json", image, "/vol3/Users/alice/Downloads", check=True).stdout.splitlines()]
    entry = next(e for e in listed if e["path"] == path)
    content = base64.b64decode(doc.pop("content_base64"), validate=True)
    assert content == plain
    assert doc == {**entry, "content_size": len(plain), "md5": hashlib.md5(plain).hexdigest(),
                   "sha256": hashlib.sha256(plain).hexdigest()}
    stream = _json(evkit("cat", "--json", image, path, "--stream", "Zone.Identifier"))
    assert stream["type"] == "ads" and base64.b64decode(stream["content_base64"]).startswith(b"[ZoneTransfer]")


class _ShortReads(io.BytesIO):
    """A stream answering each read with fewer bytes than asked, as a sparse or compressed file can."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes = iter([1, 2, 3, 4, 5, 7, 3 * 1024 * 1024 - 1, 10, 1 << 20])

    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(size if size and size > 0 else 1 << 30, next(self.sizes, 1 << 20)))


def test_cat_json_streams_whatever_the_read_sizes(tmp_path: Path) -> None:
    from evkit.cli.cat import _write_json
    from evkit.sources.base import Entry

    data = os.urandom(5 * 1024 * 1024 + 17)
    entry = Entry(path="/x\udce9.bin", name="x\udce9.bin", type="file", size=len(data), deleted=False, locator="dir:t > file:/x%E9.bin#1")
    out = tmp_path / "out.json"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        _write_json(entry, _ShortReads(data), fd)
    finally:
        os.close(fd)
    doc = json.loads(out.read_bytes())
    assert base64.b64decode(doc["content_base64"], validate=True) == data
    assert doc["path"] == "/x\\xe9.bin" and doc["path_hex"] == b"/x\xe9.bin".hex()
    assert (doc["content_size"], doc["sha256"], doc["md5"]) == (len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())


def test_cat_to_a_closed_pipe_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "big.bin").write_bytes(os.urandom(8 << 20))
    proc = subprocess.Popen([str(EVKIT), "cat", str(tmp_path / "src"), "/big.bin"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()
    assert proc.wait(60) == 0
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_log_lines_from_many_processes_never_tear(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    script = ("import sys; from pathlib import Path; from evkit.case.caselog import CaseLog\n"
              "log = CaseLog(Path(sys.argv[1]) / 'evkit.log')\n"
              "for i in range(300): log.warning(f'{sys.argv[2]} line {i} ' + 'x' * 200 + '\\nsecond line of the record')\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(case), f"writer{n}"]) for n in range(4)]
    assert all(p.wait(120) == 0 for p in procs)
    lines = (case / "evkit.log").read_text().splitlines()
    heads = [line for line in lines if not line.startswith("  ")]
    assert len(heads) == 4 * 301  # each process: its command line, then its 300 records
    assert all(LOG_LINE.match(h) for h in heads)
    for i, line in enumerate(lines):  # every continuation line follows its own record's head
        if line.startswith("  "):
            assert line == "  second line of the record" and "line" in lines[i - 1]


FUSERMOUNT = shutil.which("fusermount3") or shutil.which("fusermount")


@pytest.mark.skipif(not os.path.exists("/dev/fuse") or FUSERMOUNT is None, reason="FUSE is not available here")
def test_mount_json(tmp_path: Path, samples: Path) -> None:
    from evkit.fusemount import is_mounted

    where = tmp_path / "mnt"
    where.mkdir()
    proc = subprocess.Popen([str(EVKIT), "mount", "--json", str(samples / "mbr_fat32_ntfs.E01"), str(where)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no ready line within 60 s"
        mounted = json.loads(proc.stdout.readline())
        assert mounted["event"] == "mounted" and mounted["mountpoint"] == str(where) and mounted["pid"] == proc.pid
        assert mounted["source"] == str(samples / "mbr_fat32_ntfs.E01") and mounted["read_only"] is True
        assert [(f["path"], f["type"]) for f in mounted["filesystems"]] == [("/vol2", "fat32"), ("/vol3", "ntfs")]
        assert all(f["locator"].startswith("ewf:mbr_fat32_ntfs.E01 > dos:vol") for f in mounted["filesystems"])
        assert mounted["deleted_dir"] == "/$DELETED" and mounted["unmount"][1:] == ["-u", str(where)]
        assert mounted["time"].endswith("Z") and is_mounted(str(where))
        assert sorted(os.listdir(where)) == ["$DELETED", "vol2", "vol3"]
        os.kill(mounted["pid"], signal.SIGTERM)
        assert proc.wait(60) == 0
        unmounted = json.loads(proc.stdout.readline())
        assert unmounted["event"] == "unmounted" and unmounted["mountpoint"] == str(where)
        assert proc.stdout.read() == b"" and not is_mounted(str(where))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if is_mounted(str(where)):
            subprocess.run([str(FUSERMOUNT), "-u", "-z", str(where)], timeout=30, check=False)
        proc.stdout.close()
        proc.stderr.close()


def test_a_defect_is_one_line_and_the_traceback_only_on_request(tmp_path: Path) -> None:
    """A bug met on some input (here: the info command made to raise) is still one line, exit 3."""
    script = tmp_path / "broken.py"
    script.write_text(
        "import functools, sys\n"
        "import evkit.cli.info as module\n"
        "original = module.info\n"
        "@functools.wraps(original)\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('planted defect')\n"
        "module.info = broken\n"
        "sys.argv = ['evkit', *sys.argv[1:]]\n"
        "from evkit.cli.main import run\n"
        "run()\n")
    python = Path(sys.executable)
    quiet = subprocess.run([str(python), str(script), "info", str(tmp_path)], capture_output=True)
    line = assert_one_line_error(quiet, 3)
    assert "internal error: RuntimeError: planted defect" in line
    loud = subprocess.run([str(python), str(script), "--verbose", "info", str(tmp_path)], capture_output=True)
    assert loud.returncode == 3 and b"Traceback" in loud.stderr and b"planted defect" in loud.stderr
