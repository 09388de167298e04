"""``evkit report`` and ``evkit tag``: every format, written into the case, recorded, verifiable, and
safe with hostile content.

One case is built through the CLI, as an examiner would: an Android SMS database made here whose
messages and addresses are hostile (markup, script, spreadsheet formulas, control characters,
U+2028, ``</script>``), a photo with GPS coordinates whose file name is markup, and a few synthetic
records inserted into ``case.db`` afterwards (a hostile profile and artefact name, located records,
times with and without fractions, a huge integer). A record is tagged with a hostile note, then
every format is written with ``--tz Europe/Paris``. Tests that change the case work on a copy.

:func:`build_case` is also used by ``tests/test_reports_browser.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_one_line_error, evkit

CASE_NUMBER = "2026/REP-1"
ZONE = "Europe/Paris"
ALL_FORMATS = "html,csv,xlsx,kml,geojson,timeline,pdf"


def hostile_values(beacon: str) -> list[str]:
    """What a suspect's device can hold; ``beacon`` is a URL that must never be requested."""
    return [
        "<script>alert(1)</script>",
        "<img src=x onerror=\"document.title='PWNED';localStorage.setItem('pwned','1');document.body.setAttribute('data-pwned','1')\">",
        f"<img src=\"{beacon}/img\">",
        f"<script src=\"{beacon}/script.js\"></script>",
        f"<link rel=stylesheet href=\"{beacon}/style.css\"><style>body{{background:url({beacon}/css-url)}}</style>",
        f"<iframe src=\"{beacon}/frame\"></iframe><svg onload=\"document.title='PWNED'\"></svg>",
        "javascript:alert(1)",
        f"{beacon}/plain-url-text",
        "\" onmouseover=\"alert(1)",
        "' onmouseover='alert(1)",
        "=HYPERLINK(\"http://x\",\"y\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1)",
        "\tTAB-led",
        "\rCR-led",
        "ctrl\x01\x02\x1b[31mred\x7f",
        "line\u2028separator\u2029paragraph",
        "</script><script>document.title='PWNED'</script>",
        "\u202eexe.gpj",
        "_x0041_ literal OOXML escape",
    ]


def make_sms_db(path: Path, values: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER,"
               " type INTEGER, read INTEGER, body TEXT, service_center TEXT)")
    base = 1_700_000_000_000  # 2023-11-14T22:13:20Z
    rows = []
    for i, v in enumerate(values, start=1):
        rows.append((i, 1 + i % 2, v if i % 3 == 0 else f"+3361234{i:04d}", base + i * 61_000, base + i * 60_000,
                     1 + i % 2, i % 2, v, None))
    rows.append((len(values) + 1, 3, "+33600000000", base - 3_600_000, 0, 2, 1, "Rendez-vous at the station", None))
    db.executemany("INSERT INTO sms VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


def make_gps_jpeg(path: Path, lat: float, lon: float, make: str) -> bool:
    try:
        from fractions import Fraction

        from PIL import Image
    except ImportError:
        return False

    def dms(v: float) -> tuple[Fraction, Fraction, Fraction]:
        d = int(v)
        m = int((v - d) * 60)
        s = Fraction(((v - d) * 60 - m) * 60).limit_denominator(1000)
        return (Fraction(d), Fraction(m), s)

    im = Image.new("RGB", (320, 200), (40, 120, 200))
    for x in range(0, 320, 40):
        for y in range(0, 200):
            im.putpixel((x, y), (250, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = "=HYPERLINK(\"http://x\",\"y\")"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", dms(lat), "E", dms(lon)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, exif=exif)
    return True


def insert_synthetic(case: Path, values: list[str]) -> dict[str, Any]:
    """Records a profile could produce, written straight into case.db (as `evkit run` stores them)."""
    db = sqlite3.connect(case / "case.db")
    ev, art, locator, sha, seq = db.execute(
        "SELECT evidence_id, artefact_id, locator, source_sha256, seq FROM records ORDER BY id LIMIT 1").fetchone()
    ids = {}
    rows = [
        # (profile, artifact, timestamp, data)
        ("evil.profile", "<script>alert('artifact')</script>", "2020-01-01T00:00:00.5Z",
         {"text": values[0], "formula": "=HYPERLINK(\"http://x\",\"y\")", "plus": "+cmd|' /C calc'!A0", "minus": "-2+3",
          "at": "@SUM(1)", "tab": "\tTAB", "cr": "\rCR", "huge": 2**60, "neg": -5, "real": 1.5,
          "latitude": 51.5007, "longitude": -0.1246, "when": "2020-01-01T00:00:00.5Z", "nested": {"a": [1, "<b>"]}}),
        ("evil.profile", "<script>alert('artifact')</script>", "2020-01-01T00:00:00Z",
         {"text": "whole second, must sort before .5", "latitude": -33.8568, "longitude": 151.2153,
          "when": "2020-01-01T00:00:00Z"}),
        ("evil.profile", "<script>alert('artifact')</script>", "2020-07-01T12:00:00Z",
         {"text": "summer time in Paris", "latitude": 40.6892, "longitude": -74.0445, "when": "2020-07-01T12:00:00Z"}),
        ("evil.profile", "<script>alert('artifact')</script>", None, {"text": "no time at all", "latitude": "not a number"}),
    ]
    for profile, artifact, ts, data in rows:
        cur = db.execute("INSERT INTO records(evidence_id, artefact_id, profile, profile_version, artifact, timestamp, locator,"
                         " source_sha256, row_table, row_id, row_index, data, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (ev, art, profile, "7", artifact, ts, locator, sha, "<table>", None, len(ids), json.dumps(data), seq))
        ids[data["text"]] = cur.lastrowid
    db.commit()
    db.close()
    return ids


def build_case(root: Path, beacon: str = "http://127.0.0.1:9/beacon") -> dict[str, Any]:
    """The hostile case, reported in every format with --tz; returns what the tests need to know."""
    values = hostile_values(beacon)
    ev = root.parent / f"{root.name}-evidence"
    make_sms_db(ev / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db", values)
    photo = make_gps_jpeg(ev / "DCIM" / "Camera" / "<img src=x onerror=alert(9)>.jpg", 48.8584, 2.2945, "EvilCam <b>bold</b>")
    evkit("case", "init", str(root), "--case-number", CASE_NUMBER, "--examiner", "Examiner <Ex> & Co",
          "--agency", "<i>Agency</i>", "--notes", values[1], check=True)
    evkit("case", "add", str(root), str(ev), "--evidence-number", "P1", "--description", "Phone <script>", check=True)
    proc = evkit("run", str(root), timeout=300)
    assert proc.returncode in (0, 4), proc.stderr.decode(errors="replace")
    synthetic = insert_synthetic(root, values)
    db = sqlite3.connect(root / "case.db")
    sms = {r[1]: r[0] for r in db.execute("SELECT id, json_extract(data, '$.body') FROM records WHERE profile='android.sms'")}
    db.close()
    tagged = sms[values[0]]
    evkit("tag", str(root), str(tagged), "--tag", "<b>key</b>", "--tag", "=HYPERLINK(\"http://x\",\"tag\")",
          "--note", values[1], check=True)
    proc = evkit("report", str(root), "--format", ALL_FORMATS, "--tz", ZONE, timeout=600)
    assert proc.returncode in (0, 4), proc.stderr.decode(errors="replace")
    return {"root": root, "values": values, "synthetic": synthetic, "sms": sms, "tagged": tagged, "photo": photo,
            "report_exit": proc.returncode, "report_stderr": proc.stderr.decode(errors="replace")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_case(tmp_path_factory.mktemp("reports") / "case")


@pytest.fixture
def copy(built: dict[str, Any], tmp_path: Path) -> Path:
    dest = tmp_path / "case"
    shutil.copytree(built["root"], dest, symlinks=True)
    return dest


def _rows(case: Path, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{case / 'case.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def _events(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "custody.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def _csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def _group_csv(case: Path, profile: str) -> list[dict[str, str]]:
    files = [p for p in (case / "data" / "reports" / "csv").glob("*.csv") if f"-{profile}-" in p.name]
    assert files, f"no CSV for {profile}"
    return _csv(files[0])


def _data_js(text: str) -> dict[str, Any]:
    """The page data of a ``.data.js`` file: the JSON text inside its JavaScript string literal."""
    m = re.search(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)', text)
    assert m
    return json.loads(json.loads(m.group(1)))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- written, recorded, verifiable ------------------------------------------------------------

def test_every_format_is_written_under_data_reports(built: dict[str, Any]) -> None:
    case = built["root"]
    reports = case / "data" / "reports"
    assert (reports / "html" / "index.html").is_file()
    assert (reports / "html" / "timeline.html").is_file() and (reports / "html" / "tagged.html").is_file()
    assert (reports / "html" / "map.html").is_file()
    assert (reports / "html" / "assets" / "report.js").is_file() and (reports / "html" / "assets" / "report.css").is_file()
    assert len(list((reports / "csv").glob("*.csv"))) >= 2
    for name in ("report.xlsx", "located.kml", "located.geojson", "timeline.csv"):
        assert (reports / name).is_file(), name
    from evkit.reports.pdf import pdf_available

    if pdf_available() is None:
        assert (reports / "report.pdf").read_bytes().startswith(b"%PDF-")
        assert built["report_exit"] == 0, built["report_stderr"]
    else:
        assert built["report_exit"] == 4
        assert not (reports / "report.pdf").exists()


def test_outputs_rows_custody_event_and_verify(built: dict[str, Any]) -> None:
    case = built["root"]
    rows = {r["stored_path"]: r for r in _rows(case, "SELECT * FROM outputs")}
    on_disk = {p.relative_to(case).as_posix() for p in (case / "data" / "reports").rglob("*") if p.is_file()}
    assert on_disk == set(rows), on_disk ^ set(rows)
    for path, r in rows.items():
        data = (case / path).read_bytes()
        assert (r["size"], r["md5"], r["sha256"]) == (len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest())
        assert r["kind"].startswith("report-")
    manifest = (case / "manifest-sha256.txt").read_text(encoding="utf-8")
    for path, r in rows.items():
        assert f"{r['sha256']}  {path}\n" in manifest
    event = _events(case)[-1]
    assert event["action"] == "report"
    assert {r["seq"] for r in rows.values()} == {event["seq"]}
    formats = {o["format"]: o for o in event["outputs"]}
    assert {"html", "csv", "xlsx", "kml", "geojson", "timeline"} <= set(formats)
    assert formats["xlsx"]["sha256"] == rows["data/reports/report.xlsx"]["sha256"]
    listed = {f["path"]: f["sha256"] for f in formats["html"]["file_hashes"]}
    assert listed == {p: r["sha256"] for p, r in rows.items() if p.startswith("data/reports/html/")}
    assert event["details"]["tz"] == ZONE
    assert event["inputs"][0]["records"] == _rows(case, "SELECT count(*) AS n FROM records")[0]["n"]
    proc = evkit("verify", str(case))
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


def test_report_is_rerunnable_and_replaces_only_its_formats(copy: Path) -> None:
    before = {r["stored_path"]: r["seq"] for r in _rows(copy, "SELECT stored_path, seq FROM outputs")}
    proc = evkit("report", str(copy), "--format", "html", "--format", "timeline")
    assert proc.returncode == 0, proc.stderr.decode()
    after = {r["stored_path"]: r["seq"] for r in _rows(copy, "SELECT stored_path, seq FROM outputs")}
    seq = _events(copy)[-1]["seq"]
    assert set(after) == set(before)
    for path, s in after.items():
        replaced = path.startswith("data/reports/html/") or path == "data/reports/timeline.csv"
        assert s == (seq if replaced else before[path]), path
    assert evkit("verify", str(copy)).returncode == 0
    # Same report again: identical file set, still verifiable.
    assert evkit("report", str(copy), "--format", "html").returncode == 0
    assert evkit("verify", str(copy)).returncode == 0


def test_interrupted_report_is_finished_by_running_it_again(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evkit.case.case import Case
    from evkit.reports import report_case, tabular

    def boom(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("killed")

    monkeypatch.setattr(tabular, "write_timeline_csv", boom)
    with Case(copy) as c, pytest.raises(RuntimeError):
        report_case(c, ["html", "csv", "timeline"])
    monkeypatch.undo()
    proc = evkit("verify", str(copy))
    assert proc.returncode == 1 and b"interrupted" in proc.stdout + proc.stderr
    proc = evkit("report", str(copy), "--format", "html,csv,timeline")
    assert proc.returncode == 0, proc.stderr.decode()
    event = _events(copy)[-1]
    assert event["action"] == "report" and "resumed_interrupted_run_started" in event["details"]
    assert any(p.startswith("data/reports/html/") for p in event["details"]["discarded"])
    assert not (copy / ".report-partial").exists()
    proc = evkit("verify", str(copy))
    assert proc.returncode == 0, proc.stdout.decode()


def test_usage_errors_are_one_line(built: dict[str, Any], tmp_path: Path) -> None:
    case = str(built["root"])
    assert "unknown report format" in assert_one_line_error(evkit("report", case, "--format", "html,docx"), 2)
    assert "time zone" in assert_one_line_error(evkit("report", case, "--tz", "Mars/Olympus"), 2)
    assert "no record" in assert_one_line_error(evkit("tag", case, "999999", "--tag", "x"), 2)
    assert "--tag" in assert_one_line_error(evkit("tag", case, "1"), 2)


def test_pdf_without_system_libraries_is_one_warning_and_exit_4(copy: Path, tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    # What importing WeasyPrint does when Pango is missing: an OSError from cffi's dlopen.
    (shim / "weasyprint.py").write_text("raise OSError(\"cannot load library 'libpango-1.0-0': libpango-1.0-0: "
                                        "cannot open shared object file: No such file or directory\")\n")
    env = dict(os.environ, PYTHONPATH=str(shim))
    before = len(_events(copy))
    proc = subprocess.run([str(Path(sys.executable).parent / "evkit"), "report", str(copy), "--format", "pdf"],
                          capture_output=True, env=env, timeout=120)
    line = assert_one_line_error(proc, 4)
    assert line.startswith("evkit: warning: pdf not written:") and "libpango-1.0-0" in line
    assert len(_events(copy)) == before  # nothing written, nothing recorded
    proc = subprocess.run([str(Path(sys.executable).parent / "evkit"), "report", str(copy), "--format", "pdf,timeline"],
                          capture_output=True, env=env, timeout=120)
    assert_one_line_error(proc, 4)
    assert _events(copy)[-1]["details"]["skipped"]["pdf"].startswith("WeasyPrint cannot load")
    assert evkit("verify", str(copy)).returncode == 0


def test_pdf_pages_carry_case_number_and_page_numbers(built: dict[str, Any]) -> None:
    from evkit.reports.pdf import pdf_available

    if pdf_available() is not None:
        pytest.skip(f"WeasyPrint unavailable: {pdf_available()}")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF")
    text = subprocess.run(["pdftotext", "-layout", str(built["root"] / "data" / "reports" / "report.pdf"), "-"],
                          capture_output=True, check=True).stdout.decode("utf-8", "replace")
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) >= 3
    assert f"Case {CASE_NUMBER}" in pages[0] and "Page 1 of" in pages[0]
    assert "Examiner <Ex> & Co" in text  # shown as text, escaped in the source
    assert "Europe/Paris" in text and "All times are UTC" in text


# -- CSV, XLSX, timeline --------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_csv_has_bom_locator_hash_and_neutralised_cells(built: dict[str, Any]) -> None:
    case = built["root"]
    rows = _group_csv(case, "android.sms")
    assert rows and {"record_id", "locator", "row", "source_sha256", "profile", "time_utc", f"time ({ZONE})", "tags_and_notes"} <= set(rows[0])
    sha = _rows(case, "SELECT source_sha256 FROM records WHERE profile='android.sms' LIMIT 1")[0][0]
    assert all(r["source_sha256"] == sha and r["locator"].endswith(tuple("0123456789")) for r in rows)
    bodies = {r["body"] for r in rows}
    for v in built["values"]:
        expected = "'" + v if v.startswith(FORMULA_START) else v
        assert expected in bodies, v
    for r in rows:
        for k, v in r.items():
            assert not (v or "").startswith(FORMULA_START), (k, v)
    evil = _group_csv(case, "evil.profile")
    first = next(r for r in evil if r["text"] == built["values"][0])
    assert first["formula"] == "'=HYPERLINK(\"http://x\",\"y\")" and first["minus"] == "'-2+3" and first["at"] == "'@SUM(1)"
    assert first["plus"] == "'+cmd|' /C calc'!A0" and first["tab"] == "'\tTAB" and first["cr"] == "'\rCR"
    assert first["neg"] == "-5" and first["huge"] == str(2**60) and first["real"] == "1.5"


def test_xlsx_cells_are_strings_never_formulas(built: dict[str, Any]) -> None:
    path = built["root"] / "data" / "reports" / "report.xlsx"
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        workbook = ET.fromstring(z.read("xl/workbook.xml"))
        texts: list[str] = []
        for name in sheets:
            root = ET.fromstring(z.read(name))
            assert not list(root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}f")), "no formula cells"
            for c in root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}c"):
                t = c.get("t")
                assert t in (None, "inlineStr"), t
                if t == "inlineStr":
                    texts.append("".join(c.itertext()))
                else:
                    float(c.find("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}v").text)
    names = [s.get("name") for s in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")]
    assert names[0] == "Summary" and len(names) == len(set(n.lower() for n in names))
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert "'=HYPERLINK(\"http://x\",\"y\")" in texts and "'-2+3" in texts and "'@SUM(1)" in texts
    assert not any(t.startswith(FORMULA_START) for t in texts)
    assert "_x005F_x0041_ literal OOXML escape" in texts  # Excel shows "_x0041_", not "A"
    try:
        import openpyxl
    except ImportError:
        return
    wb = openpyxl.load_workbook(path, read_only=True)
    found = 0
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("'="):
                    assert cell.data_type == "s"
                    found += 1
    assert found >= 2



def test_xlsx_times_are_date_cells_with_widths_and_a_summary_of_evidence(built: dict[str, Any]) -> None:
    """UTC times are real date cells (Excel's 1900 date system, to the millisecond) equal to the
    time written into the SMS database; columns have widths; the Summary lists evidence and hashes."""
    openpyxl = pytest.importorskip("openpyxl")
    from datetime import datetime, timezone

    path = built["root"] / "data" / "reports" / "report.xlsx"
    wb = openpyxl.load_workbook(path)
    sms = next(ws for ws in wb.worksheets if ws.title.startswith("android.sms"))
    head = [c.value for c in sms[1]]
    t, raw = head.index("time_utc"), head.index("date_raw")
    for row in sms.iter_rows(min_row=2):
        if row[raw].value is None:
            continue
        want = datetime.fromtimestamp(row[raw].value / 1000, tz=timezone.utc).replace(tzinfo=None)
        assert row[t].is_date and row[t].value == want, (row[t].value, want)
        assert row[t].number_format == "yyyy\\-mm\\-dd hh:mm:ss.000"
    assert sms.column_dimensions["A"].width and sms.column_dimensions["F"].width >= 24
    summary = [[c.value for c in r] for r in wb["Summary"].iter_rows()]
    ev = next(r for r in summary if r[0] == "Evidence")
    first = summary[summary.index(ev) + 1]
    con = sqlite3.connect(built["root"] / "case.db")
    number, sha = con.execute("SELECT number, sha256 FROM evidence ORDER BY id").fetchone()
    con.close()
    assert first[0] == number and first[ev.index("SHA-256")] == sha

def _sort_key(ts: str) -> str:
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", ts)
    assert m, ts
    return m.group(1) + (m.group(2) or ".").ljust(10, "0")


def test_timeline_csv_is_sorted_with_source_and_profile(built: dict[str, Any]) -> None:
    rows = _csv(built["root"] / "data" / "reports" / "timeline.csv")
    keys = [_sort_key(r["time_utc"]) for r in rows]
    assert keys == sorted(keys)
    assert {"profile", "artifact", "locator", "source_sha256", "description", f"time ({ZONE})"} <= set(rows[0])
    times = [r["time_utc"] for r in rows]
    assert times.index("2020-01-01T00:00:00Z") < times.index("2020-01-01T00:00:00.5Z")
    timed = _rows(built["root"], "SELECT count(*) FROM records WHERE timestamp IS NOT NULL")[0][0]
    assert len(rows) == timed
    sms = next(r for r in rows if r["profile"] == "android.sms" and r["record_id"] == str(built["tagged"]))
    assert sms["description"].startswith(("sent SMS", "received SMS"))  # from the profile's template
    summer = next(r for r in rows if r["time_utc"] == "2020-07-01T12:00:00Z")
    assert summer[f"time ({ZONE})"] == "2020-07-01T14:00:00+02:00 (CEST)"
    winter = next(r for r in rows if r["time_utc"] == "2020-01-01T00:00:00.5Z")
    assert winter[f"time ({ZONE})"] == "2020-01-01T01:00:00.5+01:00 (CET)"


def test_tags_are_recorded_and_shown(built: dict[str, Any]) -> None:
    case = built["root"]
    tag_events = [e for e in _events(case) if e["action"] == "tag"]
    assert tag_events and tag_events[-1]["inputs"][0]["record_id"] == built["tagged"]
    assert tag_events[-1]["inputs"][0]["source_sha256"]
    rows = _group_csv(case, "android.sms")
    tagged = next(r for r in rows if r["record_id"] == str(built["tagged"]))
    assert "[<b>key</b>]" in tagged["tags_and_notes"] and "Examiner <Ex> & Co" in tagged["tags_and_notes"]
    assert not any(r["tags_and_notes"] for r in rows if r["record_id"] != str(built["tagged"]))
    html = (case / "data" / "reports" / "html" / "tagged.html").read_text(encoding="utf-8")
    assert "<b>key</b>" not in html and "&lt;b&gt;key&lt;/b&gt;" in html
    assert f"#r{built['tagged']}" in html
    # Two tag rows on one record: the count is of tagged records (issue 17), so 1.
    assert "Tagged items (1)" in (case / "data" / "reports" / "html" / "index.html").read_text(encoding="utf-8")


def test_kml_and_geojson_hold_every_located_record(built: dict[str, Any]) -> None:
    reports = built["root"] / "data" / "reports"
    gj = json.loads((reports / "located.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection"
    coords = {f["properties"]["record_id"]: f["geometry"]["coordinates"] for f in gj["features"]}
    syn = built["synthetic"]
    assert coords[syn[built["values"][0]]] == [-0.1246, 51.5007]
    assert coords[syn["whole second, must sort before .5"]] == [151.2153, -33.8568]
    assert syn["no time at all"] not in coords  # "not a number" is no coordinate
    for f in gj["features"]:
        assert {"locator", "source_sha256", "profile", "time_utc"} <= set(f["properties"])
    if built["photo"]:
        photo = [f for f in gj["features"] if f["properties"]["profile"] != "evil.profile"]
        assert [round(x, 4) for x in photo[0]["geometry"]["coordinates"]] == [2.2945, 48.8584]
    kml = ET.parse(reports / "located.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = kml.findall(".//k:Placemark", ns)
    assert len(marks) == len(gj["features"])
    pts = [m.find("k:Point/k:coordinates", ns).text for m in marks]
    assert "-0.1246,51.5007" in pts
    for m in marks:
        for v in m.iter("{http://www.opengis.net/kml/2.2}value"):
            assert "<" not in (v.text or ""), v.text  # KML viewers render HTML: values are escaped for it


# -- HTML -------------------------------------------------------------------------------------

class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Attrs:
    p = _Attrs()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_html_pages_load_nothing_from_elsewhere_and_run_nothing_inline(built: dict[str, Any]) -> None:
    folder = built["root"] / "data" / "reports" / "html"
    pages = sorted(folder.glob("*.html"))
    assert len(pages) >= 6
    for page in pages:
        p = _parse(page)
        tags = [t for t, _ in p.tags]
        assert "iframe" not in tags and "img" not in tags and "link" in tags, page.name
        for tag, attrs in p.tags:
            for k, v in attrs.items():
                assert not k.startswith("on"), (page.name, tag, k)
                if k in ("src", "href") and v is not None:
                    assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", v, re.I), (page.name, tag, k, v)
                    assert not v.startswith("/"), (page.name, v)
            if tag == "script":
                assert attrs.get("src"), f"{page.name}: inline script"
        csp = [a for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
        assert csp and "default-src 'none'" in csp[0]["content"] and "connect-src 'none'" in csp[0]["content"]
    css = (folder / "assets" / "report.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


def test_html_data_files_are_inert(built: dict[str, Any]) -> None:
    folder = built["root"] / "data" / "reports" / "html"
    for js in folder.glob("*.data.js"):
        text = js.read_text(encoding="utf-8")
        assert text.isascii(), js.name
        assert "<" not in text and ">" not in text and "&" not in text, js.name
        m = re.fullmatch(r'"use strict";\nwindow\.EVKIT_DATA_T0 = performance\.now\(\);\n'
                         r'window\.EVKIT_DATA = JSON\.parse\(("(?:[^"\\]|\\.)*")\);\n'
                         r'window\.EVKIT_DATA_MS = performance\.now\(\) - window\.EVKIT_DATA_T0;\n', text)
        assert m, js.name
        data = json.loads(json.loads(m.group(1)))
        assert {"rows", "sources", "profiles", "columns"} <= set(data)
    page = next(folder.glob("a*-android.sms-sms.data.js")).read_text(encoding="utf-8")
    data = _data_js(page)
    bodies = {v for row in data["rows"] for v in row if isinstance(v, str)}
    for v in built["values"]:
        assert v in bodies, v  # carried faithfully, as data
    evil = next(p for p in folder.glob("a*-evil.profile-*.data.js"))
    edata = _data_js(evil.read_text(encoding="utf-8"))
    assert str(2**60) in [v for row in edata["rows"] for v in row]  # beyond JavaScript's exact integers: text


def test_front_page_facts_versions_zone_and_summary(built: dict[str, Any]) -> None:
    case = built["root"]
    html = (case / "data" / "reports" / "html" / "index.html").read_text(encoding="utf-8")
    text = " ".join(_parse(case / "data" / "reports" / "html" / "index.html").text)
    assert CASE_NUMBER in text and "<i>Agency</i>" in text and "Examiner <Ex> & Co" in text
    assert built["values"][1] in text  # the notes, as text
    assert "&lt;i&gt;Agency&lt;/i&gt;" in html and "<i>Agency</i>" not in html
    assert "Phone <script>" in text and "<script>" not in html.replace('<script src="', "")
    ev = _rows(case, "SELECT sha256 FROM evidence")[0][0]
    assert ev in text
    assert "All times are UTC" in text and "Europe/Paris" in text
    assert re.search(r"Report generated\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\s+=\s+\S+\+0[12]:00 \(CES?T\) Europe/Paris", text), text[:2000]
    for name in ("evkit", "Python", "SQLite", "PyYAML"):
        assert name in text
    assert "android.sms" in text and "evil.profile" in text
    assert re.search(r"android\.sms\s+sms\s+One SMS, sent or received\.\s+" + str(len(built["sms"])), text)
    assert ".chat.html" in html  # conversation view of the chat artefact


def test_photos_get_thumbnails_and_the_map_is_local_svg(built: dict[str, Any]) -> None:
    folder = built["root"] / "data" / "reports" / "html"
    html = (folder / "map.html").read_text(encoding="utf-8")
    assert html.count("<circle") >= 3 and "<svg" in html and "Latitude" in html and "Longitude" in html
    if not built["photo"]:
        pytest.skip("Pillow not installed: no photo in the case")
    thumbs = list((folder / "thumbs").glob("a*.jpg"))
    assert len(thumbs) == 1
    from PIL import Image

    with Image.open(thumbs[0]) as im:
        assert max(im.size) <= 240 and im.format == "JPEG"
        assert not im.getexif()  # pixels only: no metadata from the evidence
    data = (folder / "map.data.js").read_text(encoding="utf-8")
    assert f"thumbs/{thumbs[0].name}" in data


def test_chat_artefacts_get_a_conversation_view(built: dict[str, Any]) -> None:
    folder = built["root"] / "data" / "reports" / "html"
    chat = next(folder.glob("a*-android.sms-sms.chat.html")).read_text(encoding="utf-8")
    assert 'data-view="chat"' in chat and 'id="chat"' in chat
    data_js = next(folder.glob("a*-android.sms-sms.data.js")).read_text(encoding="utf-8")
    data = _data_js(data_js)
    assert set(data["chat"]) == {"thread", "sender", "direction", "body"}


def test_front_page_shows_acquisition_hashes_and_whether_they_matched(samples: Path, tmp_path: Path) -> None:
    """An E01 stores the hashes taken at acquisition: the front page shows them beside evkit's and says they matched."""
    truth = json.loads((samples / "truth" / "images.json").read_text())["images"]["mbr_fat32_ntfs.raw"]["media"]
    case = tmp_path / "case"
    assert evkit("case", "init", str(case), "--case-number", "EVK-E01", "--examiner", "Jo").returncode == 0
    assert evkit("case", "add", str(case), str(samples / "mbr_fat32_ntfs.E01"), "--evidence-number", "E1").returncode == 0
    assert evkit("report", str(case), "--format", "html").returncode == 0
    text = " ".join(_parse(case / "data" / "reports" / "html" / "index.html").text)
    stored = text[text.index("Acquisition hashes (stored)"):text.index("Hashes evkit computed")]
    assert truth["md5"] in stored
    assert "matched: the hashes evkit computed equal the acquisition hashes" in text
    assert truth["sha256"] in text[text.index("Hashes evkit computed"):]
