"""Compiled row code (SQLite rows to JSON lines and case.db rows) against the generic path.

The generic path (``convert_row``, ``Record.as_dict``, the JSON encoder) is the reference: for
every column kind, every timestamp format and hostile values, the compiled code must give the
same text, byte for byte, and fail where it fails."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from evkit.profiles import conversions, loader
from evkit.profiles.engine import run_profiles, run_profiles_as
from evkit.profiles.forms import CASE_ROWS, JSON_LINES, RECORDS, Lines
from evkit.profiles.loader import load_file
from evkit.profiles.model import Artifact
from evkit.profiles.record import ENCODE, FileProblem, Origin
from evkit.profiles.rowcode import TableRows, row_code
from evkit.sources.logical.directory import DirectoryTree
from tests.conftest import evkit

FORMATS = ["unix_s", "unix_ms", "unix_us", "unix_ns", "mac_absolute", "mac_absolute_s", "mac_absolute_ns",
           "webkit", "filetime", "prtime", "iso8601", "exif"]
BLOBS = ["hex", "base64", "length", "text", "nskeyedarchiver_text", "tl_message_text"]

INTS = [0, 1, -1, 2, 3, 7, 59, 60, 86399, 86400, -86400, -86401, 1388534436523, 1388534436000, 1388534436,
        -62135596800, -62135596801, -62135596800000, 253402300799, 253402300800, 253402300799999, 2**63 - 1, -2**63,
        10**11, 10**11 + 1, -10**11, -10**11 - 1, 978307200, -978307200, 13000000000000000, 130000000000000000,
        11644473600 * 10**6, 116444736000000000, 10**18, 1699999999999999999, 999, 1000, 1001, 123456789,
        -1388534436523, 1388534436523456, 1388534436523456789, 1388534436000000, 1388534436000000000, 500_000_000_000]
FLOATS = [1.5, -0.5, 1e300, 1388534436523.7, 0.0, -0.0, 5e-324, 1e11 + 0.5, 253402300799.9999999, 1388534436.25,
          0.1, 4e8, 1e19, -1e19]
TEXTS = ["", "0", "1", "2", "-1", "12.5", "1e3", " 5", "abc", "2014-01-01T00:00:00Z", "2014-01-01T00:00:00+02:00",
         "2014-01-01T00:00:00", "2014-01-01T00:00:00.123456Z", "2014:01:01 10:00:00", "0000:00:00 00:00:00",
         'q"uote\\back', "ctl\x01\x1f\n\t\x7f", "café", "😀", "\u2028\u2029", "received", "1388534436523", "0.0",
         "-0", "x" * 300, "é" * 50 + "Z", "endsZ", 'a"Z', "a\\Z", "{}", "null", "\x00nul"]
BLOB_VALUES = [b"", b"\x00\xff", b"1", b"abc", bytes(range(256)), b"bplist00garbage",
               b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x08NSString\x01\x94\x84\x01+\x05hello", b"\xff" * 40]
VALUES: list[Any] = [None, *INTS, *FLOATS, *TEXTS, *BLOB_VALUES]
INFINITE = [float("inf"), float("-inf"), float("nan")]  # no time at all: null, the raw value kept

COLUMNS = "\n".join(
    [f"      ts_{f}: {{type: timestamp, format: {f}}}" for f in FORMATS]
    + ["      ts_default: {type: timestamp}", "      ts_kept: {type: timestamp, format: unix_s, zero_is_null: false}"]
    + [f"      bl_{b}: {{type: blob, blob: {b}}}" for b in BLOBS]
    + ["      bl_default: {type: blob}",
       '      en: {type: enum, map: {1: received, "2": sent, 3: "2014-01-01T00:00:00Z", 4: 44, 5: true, 6: null,'
       ' 7: 1.5, abc: text-key, "": empty, café: "çé", 0: zero}}',
       "      en_empty: {type: enum}"]
    + [f"      c_{t}: {{type: {t}}}" for t in ("bool", "text", "integer", "real", "json")])
NAMES = ([f"ts_{f}" for f in FORMATS] + ["ts_default", "ts_kept"] + [f"bl_{b}" for b in BLOBS]
         + ["bl_default", "en", "en_empty"] + [f"c_{t}" for t in ("bool", "text", "integer", "real", "json")]
         + ["undeclared", 'we"ird {key}\\', "ünï"])

PROFILE = f"""\
id: test.rowcode
name: Row code
version: 2
parser: sqlite
sources:
  - names: ["*.db"]
artifacts:
  all:
    table: v
    queries:
      - requires: {{v: [x]}}
        sql: SELECT x FROM v
    columns:
{COLUMNS}
    timeline:
      time: ts_unix_ms
  other:
    queries:
      - requires: {{v: [x]}}
        sql: SELECT x FROM v
    columns:
      a: {{type: timestamp, format: unix_s}}
      b: {{type: enum, map: {{1: one, 2: "2020-01-01T00:00:00Z", 3: "q\\"uote\\\\Z"}}}}
      c: {{type: bool}}
      t: {{type: timestamp, format: exif}}
    timeline:
      time: b
"""


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("profiles") / "rowcode.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return load_file(path)


ORIGIN = Origin("test.rowcode", "2", "all", 'dir:ev > file:/a "b".db#3', "ab" * 32, "/a \"b\".db")


def generic(art: Artifact, names: tuple[str, ...], rows: list[tuple[Any, ...]], first: int = 0) -> tuple[list[str], list[Any]]:
    """The JSON lines and case rows of the generic path, the reference."""
    records = RECORDS.table(ORIGIN, TableRows(art, "v", names, rows, first, True))
    lines = [ENCODE(r.as_dict()) + "\n" for r in records]
    case = [(r.timestamp, r.row.get("table"), r.row.get("rowid"), r.row.get("index"), ENCODE(r.data))
            for r in records]
    return lines, case


def compiled(art: Artifact, names: tuple[str, ...], rows: list[tuple[Any, ...]], first: int = 0, table: str | None = "v",
             strict: bool = True) -> tuple[list[str], list[Any]]:
    batch = TableRows(art, table, names, rows, first, strict)
    return ([line for item in JSON_LINES.table(ORIGIN, batch) for line in item.lines],
            [row for item in CASE_ROWS.table(ORIGIN, batch) for row in item.rows])


def failure(run: Any) -> tuple[type, str] | None:
    try:
        run()
    except Exception as exc:
        return type(exc), str(exc)
    return None


def test_every_column_kind_on_hostile_values(profile: Any) -> None:
    art = profile.artifacts["all"]
    names = ("_rowid", *NAMES)
    rows = [(i if i % 5 else None, *([v] * len(NAMES))) for i, v in enumerate(VALUES)]
    rows += [(i, *random.Random(i).sample(VALUES, len(NAMES))) for i in range(200)]
    assert compiled(art, names, rows, 17) == generic(art, names, rows, 17)


@pytest.mark.parametrize("value", INFINITE)
def test_infinite_times_are_null_both_ways(profile: Any, value: Any) -> None:
    art = profile.artifacts["all"]
    names = tuple(NAMES)
    rows = [tuple([value] * len(names))]
    assert failure(lambda: generic(art, names, rows)) is None
    assert compiled(art, names, rows) == generic(art, names, rows)
    for fmt in FORMATS:
        if fmt not in ("iso8601", "exif"):
            assert conversions.to_utc(value, fmt) is None


@pytest.mark.parametrize("names", [
    ("a", "a_raw", "b", "a", "b_raw", "c", "_rowid", "c_raw", "_rowid"),   # repeats: first place, last value
    ("x",), ("t", "x"), ("_rowid",), ("b", "t", "b"), ("a_raw", "a"), ("c",), ("t",), ("_rowid", "b"),
])
def test_column_lists_with_repeats_and_collisions(profile: Any, names: tuple[str, ...]) -> None:
    art = profile.artifacts["other"]
    rng = random.Random(len(names))
    rows = [tuple(rng.choice(VALUES[:120]) for _ in names) for _ in range(300)]
    rows = [tuple(None if n == "_rowid" and isinstance(v, bytes) else v for n, v in zip(names, row)) for row in rows]
    for table in ("v", None):
        assert compiled(art, names, rows, 5, table) == generic_table(art, names, rows, 5, table)


def generic_table(art: Artifact, names: tuple[str, ...], rows: list[tuple[Any, ...]], first: int, table: str | None) -> Any:
    records = RECORDS.table(ORIGIN, TableRows(art, table, names, rows, first, True))
    return ([ENCODE(r.as_dict()) + "\n" for r in records],
            [(r.timestamp, r.row.get("table"), r.row.get("rowid"), r.row.get("index"), ENCODE(r.data))
             for r in records])


def test_text_that_was_not_utf8_goes_the_generic_way(profile: Any) -> None:
    art = profile.artifacts["other"]
    names = ("_rowid", "t", "b", "x")
    hostile = b"bad\xff\xfe".decode("utf-8", "surrogateescape")
    rows = [(1, hostile, hostile, hostile), (2, "2014:01:01 10:00:00", 1, "fine")]
    lines, case = compiled(art, names, rows, strict=False)
    assert (lines, case) == generic(art, names, rows)
    assert '"x": "bad\\\\xff\\\\xfe"' in lines[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_timestamps_of_every_format_as_to_utc(fmt: str) -> None:
    """The inlined arithmetic against ``to_utc`` on edges and on values spread over the whole range."""
    rng = random.Random(fmt)
    values: list[Any] = list(INTS) + [0, None, "", "0", 0.0, 1.5, "12", "12.5", b"\x01"]
    for magnitude in (10**3, 10**6, 10**9, 10**10, 10**11, 10**12, 10**13, 10**15, 10**17, 10**18, 2**63 - 1):
        values += [rng.randrange(-magnitude, magnitude) for _ in range(200)]
    spec = {"queries": [{"sql": "SELECT 1", "requires": {}}], "columns": {"t": {"type": "timestamp", "format": fmt}},
            "timeline": {"time": "t"}}
    from evkit.profiles.model import build

    art = build({"id": "x", "name": "x", "version": 1, "parser": "sqlite", "sources": [{"names": ["x"]}],
                 "artifacts": {"t": spec}}, None).artifacts["t"]
    conversions.DAYS.clear()  # the first sight of a day goes the slow way, later ones the table way
    for _ in range(2):
        (batch,) = CASE_ROWS.table(ORIGIN, TableRows(art, None, ("t",), [(v,) for v in values], 0, True))
        case = batch.rows
        assert [json.loads(row[4])["t"] for row in case] == [conversions.to_utc(v, fmt) for v in values]
        assert [row[0] for row in case] == [t if t is not None and t.endswith("Z") else None
                                            for t in (conversions.to_utc(v, fmt) for v in values)]


def make_sms(path: Path, rows: int, bad_at: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE sms (_id INTEGER, thread_id INTEGER, address TEXT, date INTEGER,"
                " date_sent INTEGER, type INTEGER, read INTEGER, body TEXT, service_center TEXT)")
    rng = random.Random(rows)
    con.executemany("INSERT INTO sms VALUES (?,?,?,?,?,?,?,?,?)",
                    [(i, rng.randrange(9), f"+1555{i}", 1_400_000_000_000 + i * 7919, rng.choice([0, 1_400_000_000_000 + i]),
                      rng.choice([1, 2, 9, None]), rng.choice([0, 1, None]), rng.choice(["hi", "café 😀", 'q"\\', None]),
                      rng.choice([None, "+1555"])) for i in range(1, rows + 1)])
    if bad_at is not None:
        con.execute("UPDATE sms SET _id = x'00' WHERE _id = ?", (bad_at,))  # a row number that is no number
    con.execute("UPDATE sms SET body = CAST(x'6261649f' AS TEXT) WHERE _id = ?", (rows - 10,))
    con.commit()
    con.close()


def json_of(items: list[Any]) -> tuple[list[str], list[str]]:
    lines, problems = [], []
    for item in items:
        if isinstance(item, FileProblem):
            problems.append(item.message)
        elif isinstance(item, Lines):
            lines += item.lines
        else:
            lines.append(ENCODE(item.as_dict()) + "\n")
    return lines, problems


@pytest.mark.parametrize("bad_at", [None, 1, 2000, 2001, 4321])
def test_engine_json_lines_equal_records(tmp_path: Path, bad_at: int | None) -> None:
    """Batches of 2000 rows, non-UTF-8 text near the end (the tolerant re-read) and a row number
    that is a blob: the JSON form gives the same lines as records one at a time, the blob as hex."""
    make_sms(tmp_path / "ev" / "mmssms.db", 5000, bad_at)
    profiles = [p for p in loader.load_all().values() if p.id == "android.sms"]
    tree = DirectoryTree(tmp_path / "ev")
    fast = json_of(list(run_profiles_as(JSON_LINES, tree, profiles)))
    reference = json_of(list(run_profiles(tree, profiles)))
    assert fast == reference
    assert len(fast[0]) == 5000 and fast[1] == []
    if bad_at is not None:
        assert sum('"rowid": "00"' in line for line in fast[0]) == 1


def test_compiled_code_is_cached_per_artifact_and_columns(profile: Any) -> None:
    art = profile.artifacts["other"]
    assert row_code(art, ("a", "b"), "v") is row_code(art, ("a", "b"), "v")
    assert row_code(art, ("a", "b"), "v") is not row_code(art, ("b", "a"), "v")


def test_libyaml_and_python_parsers_agree_on_the_builtin_profiles() -> None:
    for path in sorted(loader.builtin_dir().glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        node, data = loader._parse_yaml(text)
        assert data == yaml.safe_load(text), path.name
        reference = yaml.compose(text, Loader=yaml.SafeLoader)
        assert node is not None and reference is not None
        lines: dict[tuple[Any, ...], int] = {}
        loader._lines(node, (), lines)
        python: dict[tuple[Any, ...], int] = {}
        loader._lines(reference, (), python)
        assert lines == python, path.name


def test_every_parser_says_whether_it_reads_tables() -> None:
    import importlib

    from evkit.profiles import parsers

    flags = {name: importlib.import_module(module).TABLES for name, module in parsers.PARSERS.items()}
    assert flags == {name: name == "sqlite" for name in parsers.PARSERS}


def test_hostile_enum_and_infinite_time_do_not_stop_a_case_run(tmp_path: Path) -> None:
    """A non-UTF-8 enum value and an infinite REAL time are values like others: shown escaped or
    empty, the raw value kept, and neither the JSON output nor the case run stops on them."""
    folder = tmp_path / "phone" / "data" / "data" / "com.android.providers.telephony" / "databases"
    folder.mkdir(parents=True)
    con = sqlite3.connect(folder / "mmssms.db")
    con.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, address TEXT, date INTEGER, type INTEGER, body TEXT)")
    con.execute("INSERT INTO sms VALUES (1, '+1555', 1388534400000, CAST(X'61FF' AS TEXT), 'bad type')")
    con.execute("INSERT INTO sms VALUES (2, '+1555', 9e999, 1, 'infinite date')")
    con.commit()
    con.close()
    proc = evkit("parse", "--profile", "android.sms", "--json", str(tmp_path / "phone"))
    assert proc.returncode == 0, proc.stderr
    rows = {r["row"]["rowid"] if isinstance(r["row"], dict) else r["row"]: r for r in map(json.loads, proc.stdout.decode("utf-8").splitlines())}
    assert len(rows) == 2
    datas = sorted((r["data"] for r in rows.values()), key=lambda d: d["body"])
    assert datas[0]["type"] == "unknown (a\\xff)"
    assert datas[1]["date"] is None and datas[1]["type"] == "received"
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "C", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(tmp_path / "phone"), "--evidence-number", "E1", check=True)
    run = evkit("run", str(case), "--profile", "android.sms")
    assert run.returncode == 0, run.stderr
    assert sqlite3.connect(case / "case.db").execute("SELECT count(*) FROM records").fetchone()[0] == 2
