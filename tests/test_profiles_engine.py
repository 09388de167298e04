"""The profile engine: validation errors, WAL handling, scratch copies, evkit run inside a case."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, evkit

WAL_PROFILE = """\
id: test.wal
name: WAL test
version: 1
parser: sqlite
sources:
  - names: [wal_database.db]
identify:
  tables:
    MyTable: [Field1, Field2]
artifacts:
  rows:
    table: MyTable
    queries:
      - requires: {MyTable: [Field1, Field2, Field3]}
        sql: SELECT rowid AS _rowid, Field1, Field2, Field3 FROM MyTable
    columns:
      Field3: {type: blob, blob: length}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,line,field", [
    ("id: x.y\nname: [unclosed\n", 2, ""),
    (WAL_PROFILE.replace("parser: sqlite", "parser: nosuch"), 4, "parser"),
    (WAL_PROFILE.replace("version: 1\n", ""), 1, "(top level)"),
    (WAL_PROFILE.replace("Field3: {type: blob, blob: length}", "Field3: {type: timestamp, format: martian}"), 17, "artifacts.rows.columns.Field3.format"),
    (WAL_PROFILE.replace("    columns:", "    timeline: {time: nosuch}\n    columns:"), 16, "artifacts.rows.timeline.time"),
])
def test_validation_errors_name_file_line_field(tmp_path: Path, text: str, line: int, field: str) -> None:
    p = _write(tmp_path / "profiles", "bad.yaml", text)
    msg = assert_one_line_error(evkit("profiles", "validate", str(p)), 2)
    assert f"bad.yaml:{line}:" in msg, msg
    assert field in msg, msg


def test_builtin_profiles_validate() -> None:
    proc = evkit("profiles", "validate", check=True)
    assert b"profiles: ok" in proc.stdout
    listed = [json.loads(l)["id"] for l in evkit("profiles", "list", "--json", check=True).stdout.splitlines()]
    assert "android.sms" in listed


def test_wal_rows_included_and_evidence_untouched(corpus: Path, tmp_path: Path) -> None:
    folder = corpus / "other/sqlite_wal_plaso"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    profiles = tmp_path / "profiles"
    _write(profiles, "wal.yaml", WAL_PROFILE)
    proc = evkit("parse", "--profiles", str(profiles), "--profile", "test.wal", "--json", str(folder), check=True)
    rows = [json.loads(l) for l in proc.stdout.splitlines()]
    assert len(rows) == 11
    assert all(r["row"]["table"] == "MyTable" and r["row"]["rowid"] for r in rows)
    assert rows[0]["source_sha256"] == before["wal_database.db"]
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert after == before, "evidence folder changed (WAL checkpointed or -shm created)"


def test_env_profiles_folder_and_test_command(tmp_path: Path) -> None:
    db = tmp_path / "data" / "wal_database.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE MyTable (Field1 TEXT, Field2 INTEGER, Field3 BLOB)")
    con.execute("INSERT INTO MyTable VALUES ('a', 1, x'00ff'), (CAST(x'ff41' AS TEXT), 2, NULL)")
    con.commit()
    con.close()
    profiles = tmp_path / "profiles"
    _write(profiles, "wal.yaml", WAL_PROFILE)
    env = dict(os.environ, EVKIT_PROFILES=str(profiles))
    import subprocess
    import sys

    exe = str(Path(sys.executable).parent / "evkit")
    out = subprocess.run([exe, "profiles", "test", "test.wal", str(db), "--json"], capture_output=True, env=env, check=True)
    rows = [json.loads(l) for l in out.stdout.splitlines()]
    assert [r["data"]["Field1"] for r in rows] == ["a", "\\xffA"]
    assert rows[0]["data"]["Field3"] == 2
    missing = subprocess.run([exe, "profiles", "list"], capture_output=True, env=dict(os.environ, EVKIT_PROFILES=str(tmp_path / "nope")))
    assert missing.returncode == 2 and b"profile folder not found" in missing.stderr


def test_corrupt_database_is_a_per_file_problem(tmp_path: Path) -> None:
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "mmssms.db").write_bytes(os.urandom(4096))
    proc = evkit("parse", "--profile", "android.sms", str(folder))
    assert proc.returncode == 4
    assert b"mmssms.db" in proc.stderr and b"Traceback" not in proc.stderr


def test_run_in_case_links_records_to_artefacts(corpus: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "P-1", "--examiner", "Jo", check=True)
    evkit("case", "add", str(case), str(corpus / "chat/android_sms_plaso"), "--evidence-number", "P1", check=True)
    first = json.loads(evkit("run", "--json", str(case), "--profile", "android.sms", check=True).stdout)
    assert first["records"] == {"android.sms/sms": 9}
    again = json.loads(evkit("run", "--json", str(case), "--profile", "android.sms", check=True).stdout)
    assert again["records"] == {}
    con = sqlite3.connect(case / "case.db")
    rows = con.execute("SELECT r.timestamp, r.source_sha256, a.sha256, a.stored_path, r.row_table, r.row_id, r.data"
                       " FROM records r JOIN artefacts a ON a.id = r.artefact_id ORDER BY r.timestamp").fetchall()
    assert len(rows) == 9
    ts, src_sha, art_sha, stored, table, rowid, data = rows[0]
    assert ts == "2013-10-29T16:56:28.038Z" and src_sha == art_sha and table == "sms" and rowid == 1
    assert json.loads(data)["body"] == "Yo Fred this is my new number."
    assert hashlib.sha256((case / stored).read_bytes()).hexdigest() == art_sha
    assert evkit("verify", str(case)).returncode == 0
    actions = [json.loads(l)["action"] for l in (case / "custody.jsonl").read_text().splitlines()]
    assert actions == ["case-init", "evidence-add", "profiles-run", "profiles-run"]
