"""Hostile databases and hostile profiles (issue 16): each input built as an attacker would build it.

The truth of each test is outside evkit: the JSON grammar (RFC 8259, via a strict parser), the
SQLite file format (WAL header salts and checksums), what is on disk after the command.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import evkit

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
