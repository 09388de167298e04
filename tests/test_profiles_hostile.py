"""Hostile databases and hostile profiles (issue 16): each input built as an attacker would build it.

The truth of each test is outside evkit: the JSON grammar (RFC 8259, via a strict parser), the
SQLite file format (WAL header salts and checksums), what is on disk after the command.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVKIT, assert_one_line_error, evkit

TABLE_PROFILE = """\
id: test.hostile
name: hostile test
version: 1
parser: sqlite
sources:
  - names: [evil.db]
identify:
  any_tables: [t]
artifacts:
  rows:
    queries:
      - requires: {{t: [a]}}
        sql: {sql}
"""


def _profile(folder: Path, sql: str, text: str = TABLE_PROFILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hostile.yaml"
    path.write_text(text.format(sql=json.dumps(sql)))
    return folder


def _db(path: Path, *statements: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    for statement in ["CREATE TABLE t (a)", *statements]:
        con.execute(statement)
    con.commit()
    con.close()
    return path


def _strict_json(line: bytes) -> object:
    """RFC 8259 JSON only: the bare words Infinity, -Infinity and NaN are refused."""
    def refuse(word: str) -> object:
        raise ValueError(f"not JSON: {word}")
    return json.loads(line, parse_constant=refuse)


def test_json_output_has_no_bare_infinity_or_nan(tmp_path: Path) -> None:
    # REAL values SQLite itself stores as IEEE infinity (9e999 overflows) and NaN-producing arithmetic
    _db(tmp_path / "ev" / "evil.db", "INSERT INTO t VALUES (9e999), (-9e999), (1.5)")
    profiles = _profile(tmp_path / "profiles", "SELECT a FROM t ORDER BY rowid")
    proc = evkit("parse", "--profiles", str(profiles), "--profile", "test.hostile", "--json", str(tmp_path / "ev"))
    assert proc.returncode == 0, proc.stderr
    rows = [_strict_json(line) for line in proc.stdout.splitlines()]
    assert [r["data"]["a"] for r in rows] == ["Infinity", "-Infinity", 1.5]


def test_json_writer_makes_non_finite_floats_strings() -> None:
    from evkit.jsontext import dumps

    text = dumps({"a": [float("nan"), {"b": float("-inf")}], float("inf"): (1.0, 2)})
    assert _strict_json(text.encode()) == {"a": ["NaN", {"b": "-Infinity"}], "Infinity": [1.0, 2]}
    assert dumps({"x": 1}, sort_keys=True, separators=(",", ":")) == '{"x":1}'


ESCAPES = [
    "VACUUM INTO '{out}'",
    "ATTACH '{other}' AS other",
    "PRAGMA writable_schema = 1",
    "WITH x AS (SELECT 1) DELETE FROM t",
    "CREATE TEMP VIEW v AS SELECT 1",
    "SELECT * FROM pragma_table_info('t')",
]


def test_profile_sql_that_writes_is_refused_by_validate_and_by_the_run(tmp_path: Path) -> None:
    other = _db(tmp_path / "other" / "case.db", "INSERT INTO t VALUES ('keep me')")
    out = tmp_path / "stolen.db"
    for n, template in enumerate(ESCAPES):
        sql = template.format(out=out, other=other)
        profiles = _profile(tmp_path / f"profiles{n}", sql)
        proc = evkit("profiles", "validate", str(profiles / "hostile.yaml"))
        assert proc.returncode == 2, (sql, proc.stdout, proc.stderr)
        assert b"may only read" in proc.stderr or b"not a single query" in proc.stderr, proc.stderr
    # the run is guarded on its own, whatever validate said: a profile file is loaded by the same
    # validation, so the guard is tried directly on a scratch copy
    from evkit.profiles import sqlguard

    db = _db(tmp_path / "ev" / "evil.db", "INSERT INTO t VALUES (1)")
    con = sqlguard.open_readonly(db, sqlguard.limits())
    for template in ESCAPES:
        try:
            con.execute(template.format(out=out, other=other)).fetchall()
        except sqlite3.DatabaseError as exc:
            assert "authoriz" in str(exc) or "readonly" in str(exc), exc
        else:
            raise AssertionError(f"allowed: {template}")
    con.close()
    assert not out.exists()
    assert sqlite3.connect(other).execute("SELECT a FROM t").fetchall() == [("keep me",)]


ENDLESS = "CREATE VIEW t AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS a FROM c"


def _hostile_view(tmp_path: Path, view: str) -> tuple[Path, Path]:
    """A database whose only 'table' t is a view (a 4 KiB file: the harm is in the view's SQL)."""
    db = tmp_path / "ev" / "evil.db"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.execute(view)
    con.commit()
    con.close()
    return db.parent, _profile(tmp_path / "profiles", "SELECT a FROM t")


def test_endless_view_sorted_is_stopped_by_the_time_limit(tmp_path: Path, monkeypatch: Any) -> None:
    folder, profiles = _hostile_view(tmp_path, ENDLESS + " ORDER BY x DESC")  # the sorter never yields a row
    monkeypatch.setenv("EVKIT_QUERY_SECONDS", "1")
    proc = evkit("parse", "--profiles", str(profiles), "--profile", "test.hostile", str(folder), timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert b"stopped after 1 s (EVKIT_QUERY_SECONDS" in proc.stderr and b"Traceback" not in proc.stderr


def test_endless_view_is_stopped_by_the_row_limit(tmp_path: Path, monkeypatch: Any) -> None:
    folder, profiles = _hostile_view(tmp_path, ENDLESS)
    monkeypatch.setenv("EVKIT_QUERY_ROWS", "4500")
    proc = evkit("parse", "--profiles", str(profiles), "--profile", "test.hostile", "--json", str(folder), timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert [json.loads(line)["data"]["a"] for line in proc.stdout.splitlines()] == list(range(1, 4501))
    assert b"stopped after 4500 rows (EVKIT_QUERY_ROWS" in proc.stderr


def test_huge_value_is_capped_with_a_note(tmp_path: Path) -> None:
    folder, profiles = _hostile_view(tmp_path, "CREATE VIEW t AS SELECT 'first' AS a UNION ALL SELECT zeroblob(300000000)")
    proc = evkit("parse", "--profiles", str(profiles), "--profile", "test.hostile", "--json", str(folder), timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert [json.loads(line)["data"]["a"] for line in proc.stdout.splitlines()] == ["first"]
    assert b"larger than 16777216 bytes" in proc.stderr and b"EVKIT_VALUE_BYTES" in proc.stderr


def test_ctrl_c_stops_a_hanging_query_and_cleans_the_scratch(tmp_path: Path) -> None:
    folder, profiles = _hostile_view(tmp_path, ENDLESS + " ORDER BY x DESC")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = dict(os.environ, EVKIT_SCRATCH=str(scratch))
    proc = subprocess.Popen([str(EVKIT), "parse", "--profiles", str(profiles), "--profile", "test.hostile", str(folder)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_scratch_copy(proc, scratch)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert list(scratch.iterdir()) == []


REGEX_PROFILE = """\
id: test.regex
name: backtracking
version: 1
parser: text
sources: [{{names: ["*.log"]}}]
artifacts:
  lines:
    pattern: '{pattern}'
"""


def test_catastrophic_regex_is_stopped_per_file(tmp_path: Path) -> None:
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "app.log").write_text("a" * 40 + "!\n" + "a" * 10 + "\n")
    # the pattern (the regex engine needs no time for it), then one it backtracks on for ever
    for pattern, code, found in (("^(a+)+$", 0, ["a" * 10]), ("^(?P<x>a|aa)+$", 4, [])):
        profiles = tmp_path / f"profiles{code}"
        profiles.mkdir()
        (profiles / "regex.yaml").write_text(REGEX_PROFILE.format(pattern=pattern))
        proc = evkit("parse", "--profiles", str(profiles), "--profile", "test.regex", "--json", str(tmp_path / "ev"), timeout=60)
        assert proc.returncode == code, proc.stderr
        assert [json.loads(line)["row"]["line"] for line in proc.stdout.splitlines()] == ([2] if found else [])
        if code:
            assert b"took more than 1 s on line 1 (catastrophic backtracking?)" in proc.stderr, proc.stderr


LAUGHS = "id: x\nname: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10))


@pytest.mark.parametrize("text,why", [
    (LAUGHS, b"more than 100000 values once its aliases are expanded"),
    ("id: x\nname: " + "[" * 20_000 + "]" * 20_000 + "\n", b"nested more than 64 levels deep"),
    ("id: x\nloop: &a [1, *a]\n", b"alias *a refers to a node that contains it"),
    ("id: x\nloop: &a {k: *a}\n", b"alias *a refers to a node that contains it"),
    ("id: x\nname: a\x00b\n", b"hostile.yaml:2: malformed YAML: character U+0000 is not allowed"),
    ("id: x\n" + "# padding\n" * 120_000, b"a profile is at most 1048576"),
], ids=["billion-laughs", "deep", "list-loop", "map-loop", "nul", "size"])
def test_hostile_yaml_is_refused_in_one_line(tmp_path: Path, text: str, why: bytes) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    line = assert_one_line_error(evkit("profiles", "validate", str(path), timeout=60), 2)
    assert why in line.encode(), line


def _wait_for_scratch_copy(proc: subprocess.Popen[bytes], scratch: Path) -> Path:
    """The scratch folder of ``proc`` once its copy of the database is there (the query is running)."""
    deadline = time.monotonic() + 90
    while True:
        copies = [p for p in scratch.rglob("db") if p.is_file()]
        if copies:
            return next(p for p in copies[0].parents if p.parent == scratch)
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)


def test_killed_run_leaves_scratch_only_under_evkit_scratch_and_the_next_command_removes_it(tmp_path: Path, monkeypatch: Any) -> None:
    folder, profiles = _hostile_view(tmp_path, ENDLESS + " ORDER BY x DESC")
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "H-1", "--examiner", "Jo", check=True)
    evkit("case", "add", str(case), str(folder), "--evidence-number", "H1", check=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = dict(os.environ, EVKIT_SCRATCH=str(scratch))
    proc = subprocess.Popen([str(EVKIT), "run", str(case), "--profiles", str(profiles), "--profile", "test.hostile"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    left = _wait_for_scratch_copy(proc, scratch)
    proc.kill()
    proc.communicate(timeout=60)
    assert left.exists() and left.name.startswith(f"evkit-run@{socket.gethostname()}@{proc.pid}@")
    alive = scratch / f"evkit-run@{socket.gethostname()}@{os.getpid()}@x"  # a live process's folder is kept
    alive.mkdir()
    other_host = scratch / f"evkit-run@not-{socket.gethostname()}@{proc.pid}@x"  # another host's is not ours to judge
    other_host.mkdir()
    monkeypatch.setenv("EVKIT_SCRATCH", str(scratch))
    evkit("parse", "--profiles", str(profiles), "--profile", "test.hostile", str(tmp_path / "profiles"), check=True)
    assert sorted(p.name for p in scratch.iterdir()) == sorted([alive.name, other_host.name])
