"""Browser history profiles: chromium.history, firefox.history, safari.history.

Known values come from the third-party corpus (plaso's test files) when it is present; schema
variants the corpus lacks, hostile content, WAL-only rows and corrupt files use databases built
here with the browsers' real table and column names.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import need_corpus

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "profiles"
EVKIT = Path(sys.executable).parent / "evkit"
IDS = ("chromium.history", "firefox.history", "safari.history")

CHROME_DEFAULT = "Users/jo/AppData/Local/Google/Chrome/User Data/Default/History"
CHROME_PROFILE1 = "Users/jo/AppData/Local/Google/Chrome/User Data/Profile 1/History"
FIREFOX_PLACES = "Users/jo/AppData/Roaming/Mozilla/Firefox/Profiles/k2x9.default-release/places.sqlite"
FENIX_PLACES = "data/data/org.mozilla.firefox/files/places.sqlite"
SAFARI_HISTORY = "Users/jo/Library/Safari/History.db"


# --------------------------------------------------------------------------- helpers

def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(EVKIT), *args], capture_output=True, timeout=120, env=env)


def records(proc: subprocess.CompletedProcess[bytes]) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def by_artifact(rows: list[dict], artifact: str) -> list[dict]:
    return [r for r in rows if r["artifact"] == artifact]


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def webkit(text: str, micros: int = 0) -> int:
    return (unix(text) + 11644473600) * 1_000_000 + micros


def prtime(text: str, micros: int = 0) -> int:
    return unix(text) * 1_000_000 + micros


def cocoa(text: str) -> int:
    return unix(text) - 978307200


def digest_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def browser_corpus() -> Path:
    return need_corpus("browser/chrome_plaso/History") / "browser"


# --------------------------------------------------------------------------- synthetic databases

CHROME_SCHEMA = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT,url INTEGER NOT NULL,visit_time INTEGER NOT NULL,
  from_visit INTEGER,external_referrer_url TEXT,transition INTEGER DEFAULT 0 NOT NULL,segment_id INTEGER,
  visit_duration INTEGER DEFAULT 0 NOT NULL,incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL,
  opener_visit INTEGER,originator_cache_guid TEXT,originator_visit_id INTEGER,originator_from_visit INTEGER,
  originator_opener_visit INTEGER,is_known_to_sync BOOLEAN DEFAULT FALSE NOT NULL,
  consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL,visited_link_id INTEGER DEFAULT 0 NOT NULL,
  app_id TEXT);
CREATE TABLE visit_source(id INTEGER PRIMARY KEY,source INTEGER NOT NULL);
CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL,url_id INTEGER NOT NULL,
  term LONGVARCHAR NOT NULL,normalized_term LONGVARCHAR NOT NULL);
CREATE TABLE downloads (id INTEGER PRIMARY KEY,guid VARCHAR NOT NULL,current_path LONGVARCHAR NOT NULL,
  target_path LONGVARCHAR NOT NULL,start_time INTEGER NOT NULL,received_bytes INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,state INTEGER NOT NULL,danger_type INTEGER NOT NULL,
  interrupt_reason INTEGER NOT NULL,hash BLOB NOT NULL,end_time INTEGER NOT NULL,opened INTEGER NOT NULL,
  last_access_time INTEGER NOT NULL,transient INTEGER NOT NULL,referrer VARCHAR NOT NULL,
  site_url VARCHAR NOT NULL,embedder_download_data VARCHAR NOT NULL,tab_url VARCHAR NOT NULL,
  tab_referrer_url VARCHAR NOT NULL,http_method VARCHAR NOT NULL,by_ext_id VARCHAR NOT NULL,
  by_ext_name VARCHAR NOT NULL,by_web_app_id VARCHAR NOT NULL,etag VARCHAR NOT NULL,
  last_modified VARCHAR NOT NULL,mime_type VARCHAR(255) NOT NULL,original_mime_type VARCHAR(255) NOT NULL);
CREATE TABLE downloads_url_chains (id INTEGER NOT NULL,chain_index INTEGER NOT NULL,url LONGVARCHAR NOT NULL,
  PRIMARY KEY (id, chain_index));
"""

T0 = "2024-03-01T12:00:00Z"
CONTROL_TITLE = "tab\there nul\x00 esc\x1b[31mred\x1b[0m bell\x07 cr\r\nlf del\x7f"
HYPERLINK = '=HYPERLINK("http://evil.example/","click me")'
# 0xA0000000 (server_redirect | chain_end, core link) as Chrome stores it: a signed 32-bit integer
SIGNED_REDIRECT = 0xA0000000 - (1 << 32)


def build_chrome(path: Path, wal: bool = False) -> sqlite3.Connection:
    """A current-schema History with hostile content; returned open (so a WAL stays unmerged)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    if wal:
        assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("BEGIN")
    for stmt in CHROME_SCHEMA.split(";"):
        if stmt.strip():
            con.execute(stmt)
    con.execute("INSERT INTO meta VALUES ('version', '68'), ('last_compatible_version', '16')")
    t = webkit(T0)
    con.executemany("INSERT INTO urls(id, url, title, visit_count, typed_count, last_visit_time, hidden) VALUES (?,?,?,?,?,?,?)", [
        (1, "https://example.com/", "Example", 1, 1, t, 0),
        (2, "javascript:alert(1)", "<script>alert(1)</script>", 1, 0, t + 1_000_000, 0),
        (3, HYPERLINK, CONTROL_TITLE, 1, 0, t + 2_000_000, 0),
        (5, "https://www.google.com/search?q=how+to", "how to - Google Search", 1, 0, t + 4_000_000, 0),
    ])
    # invalid UTF-8 in url and title, stored as TEXT the way a damaged or hostile record would be
    con.execute("INSERT INTO urls(id, url, title, visit_count, typed_count, last_visit_time, hidden) VALUES "
                "(4, CAST(X'68747470733a2f2fff2e6578616d706c652f' AS TEXT), CAST(X'6361c3286665' AS TEXT), 1, 0, ?, 0)",
                (t + 3_000_000,))
    con.executemany("INSERT INTO visits(id, url, visit_time, from_visit, transition, visit_duration, opener_visit, "
                    "originator_cache_guid) VALUES (?,?,?,?,?,?,?,?)", [
                        (1, 1, t, 0, 0x30000001, 5_000_000, 0, ""),
                        (2, 2, t + 1_000_000, 1, SIGNED_REDIRECT, 0, 0, "sync-guid-1"),
                        (3, 3, t + 2_000_000, 0, 0x30000000 | 7, 0, 0, ""),
                        (4, 4, t + 3_000_000, 0, 0x30000000 | 8, 0, 0, ""),
                        (5, 5, t + 4_000_000, 0, 0x30000000 | 5, 0, 0, ""),
                    ])
    con.execute("INSERT INTO visit_source VALUES (2, 0)")
    con.execute("INSERT INTO keyword_search_terms VALUES (2, 5, 'how to <script>', 'how to <script>')")
    con.execute(
        "INSERT INTO downloads VALUES (1, 'A1B2', 'C:\\Users\\jo\\Downloads\\payload.exe.crdownload', "
        "'C:\\Users\\jo\\Downloads\\payload.exe', ?, 1024, 4096, 4, 1, 40, X'00ff', ?, 1, ?, 0, "
        "'https://ref.example/', '', '', 'https://tab.example/', '', 'GET', '', '', '', '', '', "
        "'application/x-msdownload', 'application/octet-stream')",
        (t + 5_000_000, t + 6_000_000, t + 7_000_000))
    con.executemany("INSERT INTO downloads_url_chains VALUES (?,?,?)", [
        (1, 0, "http://short.example/x"), (1, 1, "https://cdn.example/payload.exe")])
    con.execute("COMMIT")
    return con


def place(tmp: Path, rel: str, src: Path) -> Path:
    dest = tmp / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


# --------------------------------------------------------------------------- validation and matching

@pytest.mark.parametrize("profile_id", IDS)
def test_profile_validates(profile_id: str) -> None:
    proc = run("profiles", "validate", str(PROFILES / f"{profile_id}.yaml"))
    assert proc.returncode == 0, proc.stderr.decode()
    from evkit.profiles.loader import load_file

    p = load_file(PROFILES / f"{profile_id}.yaml")
    assert p.id == profile_id and p.parser == "sqlite"
    expected = {"chromium.history": {"visits", "downloads", "searches"},
                "firefox.history": {"visits", "bookmarks", "downloads"},
                "safari.history": {"visits"}}[profile_id]
    assert set(p.artifacts) == expected
    for art in p.artifacts.values():
        assert art.timeline_time in art.columns
        assert all("_rowid" in q.sql for q in art.queries), art.name


def test_profiles_listed() -> None:
    proc = run("profiles", "list", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    listed = {json.loads(line)["id"] for line in proc.stdout.splitlines()}
    assert set(IDS) <= listed


@pytest.mark.parametrize("profile_id,path,expected", [
    ("chromium.history", "/" + CHROME_DEFAULT, True),
    ("chromium.history", "/" + CHROME_PROFILE1, True),
    ("chromium.history", "/Documents and Settings/jo/Local Settings/Application Data/Google/Chrome/User Data/Default/History", True),
    ("chromium.history", "/Users/jo/AppData/Local/Microsoft/Edge/User Data/Default/History", True),
    ("chromium.history", "/Users/jo/AppData/Local/BraveSoftware/Brave-Browser/User Data/Default/History", True),
    ("chromium.history", "/Users/jo/AppData/Roaming/Opera Software/Opera Stable/History", True),
    ("chromium.history", "/Users/jo/Library/Application Support/Google/Chrome/Default/History", True),
    ("chromium.history", "/Users/jo/Library/Application Support/Microsoft Edge/Profile 2/History", True),
    ("chromium.history", "/home/jo/.config/google-chrome/Default/History", True),
    ("chromium.history", "/home/jo/.config/chromium/Default/History", True),
    ("chromium.history", "/data/data/com.android.chrome/app_chrome/Default/History", True),
    ("chromium.history", "/data/data/com.sec.android.app.sbrowser/app_sbrowser/Default/History", True),
    ("chromium.history", "filesystem1/data/data/com.brave.browser/app_chrome/Default/History", True),
    ("chromium.history", "/home/jo/Documents/History", False),
    ("chromium.history", "/Users/jo/AppData/Local/Google/Chrome/User Data/Default/History-journal", False),
    ("firefox.history", "/" + FIREFOX_PLACES, True),
    ("firefox.history", "/Users/jo/Library/Application Support/Firefox/Profiles/ab12.default/places.sqlite", True),
    ("firefox.history", "/home/jo/.mozilla/firefox/ab12.default/places.sqlite", True),
    ("firefox.history", "/home/jo/.mozilla/firefox/ab12.default/downloads.sqlite", True),
    ("firefox.history", "/Users/jo/Desktop/Tor Browser/Browser/TorBrowser/Data/Browser/profile.default/places.sqlite", True),
    ("firefox.history", "/home/jo/tor-browser_en-US/Browser/TorBrowser/Data/Browser/profile.default/places.sqlite", True),
    ("firefox.history", "/home/jo/tor-browser/Browser/TorBrowser/Data/Browser/profile.default/downloads.sqlite", True),
    ("firefox.history", "/" + FENIX_PLACES, True),
    ("firefox.history", "/home/jo/notes/places.sqlite", False),
    ("safari.history", "/" + SAFARI_HISTORY, True),
    ("safari.history", "/private/var/mobile/Library/Safari/History.db", True),
    ("safari.history", "/private/var/mobile/Containers/Data/Application/0A1B/Library/Safari/History.db", True),
    ("safari.history", "/Users/jo/Library/Application Support/Other/History.db", False),
])
def test_source_paths(profile_id: str, path: str, expected: bool) -> None:
    from evkit.profiles.loader import load_file

    p = load_file(PROFILES / f"{profile_id}.yaml")
    assert p.matches_name(path, path.rsplit("/", 1)[-1]) is expected


# --------------------------------------------------------------------------- corpus: Chrome

def test_chrome_schema20_corpus(browser_corpus: Path) -> None:
    proc = run("profiles", "test", "chromium.history", str(browser_corpus / "chrome_plaso" / "History"), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    visits = by_artifact(rows, "visits")
    assert len(visits) == 69
    first = visits[0]
    assert first["data"]["url"] == "http://start.ubuntu.com/10.04/Google/"
    assert first["timestamp"] == first["data"]["visit_time"] == "2011-04-07T12:03:11Z"
    assert first["data"]["visit_time_raw"] == 12946651391000000
    assert first["data"]["transition"] == "link" and first["data"]["transition_full"] == 805306368
    assert first["data"]["transition_qualifiers"] == "chain_start chain_end"
    assert first["row"] == {"table": "visits", "rowid": 1}
    assert all(r["data"]["transition"] in {"link", "typed", "auto_subframe", "generated", "auto_toplevel", "form_submit"}
               for r in visits)
    downloads = by_artifact(rows, "downloads")
    assert len(downloads) == 2
    d = next(r["data"] for r in downloads if r["data"]["target_path"] == "/home/john/Downloads/funcats_scr.exe")
    assert d["received_bytes"] == d["total_bytes"] == 1132155
    assert d["start_time"] == "2011-05-23T08:35:30Z" and d["start_time_unix_s"] == 1306139730
    assert d["url"] == "http://fatloss4idiotsx.com/download/funcats/funcats_scr.exe"
    assert d["state"] == "complete"
    searches = by_artifact(rows, "searches")
    assert [s["data"]["term"] for s in searches] == ["funny cats", "really really funny cats", "funnycats.exe"]
    assert searches[0]["data"]["url"].startswith("http://www.google.ch/search?")


@pytest.mark.parametrize("name", ["History-57.0.2987.133", "History-58.0.3029.96", "History-59.0.3071.86"])
def test_chrome_newer_schemas_corpus(browser_corpus: Path, name: str) -> None:
    proc = run("profiles", "test", "chromium.history", str(browser_corpus / "chrome_plaso" / name), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    assert len(by_artifact(rows, "visits")) == 1
    (dl,) = by_artifact(rows, "downloads")
    d = dl["data"]
    assert d["url"] == d["final_url"] == "https://raw.githubusercontent.com/log2timeline/l2tbinaries/master/win32/plaso-20171231.1.win32.msi"
    assert d["target_path"] == "/home/ubuntu/Downloads/plaso-20171231.1.win32.msi"
    assert d["received_bytes"] == d["total_bytes"] == 3080192
    assert d["state"] == "complete" and d["danger_type"] == "maybe_dangerous_content"
    assert d["mime_type"] == "application/octet-stream"
    assert d["start_time"].startswith("2018-01-21T14:") and d["end_time"] > d["start_time"]


def test_chrome_hunt_finds_renamed_copies(browser_corpus: Path) -> None:
    folder = browser_corpus / "chrome_plaso"
    plain = run("parse", "--profile", "chromium.history", "--json", str(folder))
    # Names decide, paths only help (issue 10): "History" is parsed outside a browser folder, as
    # hindsight and plaso keep profile copies; the renamed copies need --hunt.
    assert plain.returncode == 0
    assert {r["path"].rsplit("/", 1)[-1] for r in records(plain)} == {"History"} and len(records(plain)) == 74
    proc = run("parse", "--hunt", "--profile", "chromium.history", "--json", str(folder))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    per_file: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = per_file.setdefault(r["path"].rsplit("/", 1)[-1], {})
        counts[r["artifact"]] = counts.get(r["artifact"], 0) + 1
    assert per_file == {
        "History": {"visits": 69, "downloads": 2, "searches": 3},
        "History-57.0.2987.133": {"visits": 1, "downloads": 1},
        "History-58.0.3029.96": {"visits": 1, "downloads": 1},
        "History-59.0.3071.86": {"visits": 1, "downloads": 1},
    }


# --------------------------------------------------------------------------- corpus: Firefox

def test_firefox_places_corpus(browser_corpus: Path) -> None:
    proc = run("profiles", "test", "firefox.history", str(browser_corpus / "firefox_plaso" / "places.sqlite"), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    (visit,) = by_artifact(rows, "visits")
    v = visit["data"]
    assert (v["url"], v["title"]) == ("http://news.google.com/", "Google News")
    assert visit["timestamp"] == v["visit_date"] == "2011-07-01T11:16:21.371935Z"
    assert v["visit_date_raw"] == 1309518981371935
    assert v["last_visit_date"] == "2011-07-01T11:16:21.371935Z"
    assert v["visit_type"] == "typed" and v["visit_type_raw"] == 2
    bookmarks = by_artifact(rows, "bookmarks")
    assert len(bookmarks) == 91
    ubuntu = next(b["data"] for b in bookmarks if b["data"]["url"] == "http://www.ubuntulinux.org/")
    assert ubuntu["title"] == "Ubuntu" and ubuntu["folder"] == "Ubuntu and Free Software links"
    assert ubuntu["dateAdded"] == "2007-06-06T11:38:27Z"
    assert by_artifact(rows, "downloads") == []


def test_firefox_downloads_sqlite_corpus(browser_corpus: Path) -> None:
    proc = run("profiles", "test", "firefox.history", str(browser_corpus / "firefox_plaso" / "downloads.sqlite"), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    (dl,) = records(proc)
    d = dl["data"]
    assert dl["artifact"] == "downloads" and dl["row"] == {"table": "moz_downloads", "rowid": 1}
    assert d["name"] == "plaso-static-1.0.1-win32-vs2008.zip"
    assert d["source"] == "https://plaso.googlecode.com/files/plaso-static-1.0.1-win32-vs2008.zip"
    assert d["target"] == "file:///D:/plaso-static-1.0.1-win32-vs2008.zip"
    assert d["startTime"] == "2013-07-18T18:59:59.312Z" and d["endTime"] == "2013-07-18T19:01:18.578Z"
    assert d["state"] == "finished" and d["currBytes"] == d["maxBytes"] == 15974599


def test_firefox_corpus_in_a_tor_browser_folder(browser_corpus: Path, tmp_path: Path) -> None:
    tor = tmp_path / "tor-browser_en-US/Browser/TorBrowser/Data/Browser/profile.default"
    for name in ("places.sqlite", "downloads.sqlite"):
        place(tor, name, browser_corpus / "firefox_plaso" / name)
    proc = run("parse", "--profile", "firefox.history", "--json", str(tmp_path))
    assert proc.returncode == 0, proc.stderr.decode()
    counts: dict[str, int] = {}
    for r in records(proc):
        counts[r["artifact"]] = counts.get(r["artifact"], 0) + 1
    assert counts == {"visits": 1, "bookmarks": 91, "downloads": 1}


# --------------------------------------------------------------------------- Chrome: current schema, hostile content

def test_chrome_current_schema_and_hostile_content(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    build_chrome(evidence / CHROME_DEFAULT).close()
    before = digest_tree(evidence)
    proc = run("parse", "--profile", "chromium.history", "--json", str(evidence))
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    rows = records(proc)
    visits = {r["row"]["rowid"]: r["data"] for r in by_artifact(rows, "visits")}
    assert len(visits) == 5
    assert visits[1]["transition"] == "typed" and visits[1]["visit_duration"] == 5_000_000
    assert visits[1]["visit_time"] == T0 and visits[1]["source"] == "browsed"
    # the script and the javascript: URL are kept as text, never interpreted
    assert visits[2]["url"] == "javascript:alert(1)" and visits[2]["title"] == "<script>alert(1)</script>"
    assert visits[2]["transition"] == "link" and visits[2]["transition_full"] == SIGNED_REDIRECT
    assert visits[2]["transition_qualifiers"] == "chain_end server_redirect"
    assert visits[2]["from_visit"] == 1 and visits[2]["from_url"] == "https://example.com/"
    assert visits[2]["source"] == "synced" and visits[2]["originator_cache_guid"] == "sync-guid-1"
    assert visits[3]["url"] == HYPERLINK and visits[3]["title"] == CONTROL_TITLE
    assert visits[3]["transition"] == "form_submit"
    assert visits[4]["url"] == "https://\\xff.example/" and visits[4]["title"] == "ca\\xc3(fe"
    assert visits[4]["transition"] == "reload"
    (dl,) = by_artifact(rows, "downloads")
    d = dl["data"]
    assert d["url"] == "http://short.example/x" and d["final_url"] == "https://cdn.example/payload.exe"
    assert d["url_chain_length"] == 2
    assert d["target_path"] == "C:\\Users\\jo\\Downloads\\payload.exe"
    assert (d["state"], d["danger_type"], d["interrupt_reason"]) == ("interrupted", "dangerous_file", "user_canceled")
    assert d["opened"] is True and d["hash"] == "00ff" and d["mime_type"] == "application/x-msdownload"
    assert d["start_time"] == "2024-03-01T12:00:05Z" and d["end_time"] == "2024-03-01T12:00:06Z"
    assert d["last_access_time"] == "2024-03-01T12:00:07Z"
    (search,) = by_artifact(rows, "searches")
    assert search["data"]["term"] == "how to <script>"
    assert search["data"]["url"] == "https://www.google.com/search?q=how+to"
    assert search["row"]["table"] == "keyword_search_terms"
    assert all(r["source_sha256"] == before[CHROME_DEFAULT] for r in rows)
    # the human listing shows control characters escaped, never raw
    text = run("parse", "--profile", "chromium.history", str(evidence))
    assert text.returncode == 0, text.stderr.decode()
    for raw in (b"\x00", b"\x1b", b"\x07", b"\x7f", b"\r"):
        assert raw not in text.stdout
    assert digest_tree(evidence) == before


def test_chrome_rows_only_in_wal_are_included(tmp_path: Path) -> None:
    work = tmp_path / "work" / "History"
    con = build_chrome(work, wal=True)
    try:
        evidence = tmp_path / "evidence"
        dest = evidence / CHROME_DEFAULT
        dest.parent.mkdir(parents=True)
        shutil.copyfile(work, dest)
        shutil.copyfile(work.with_name("History-wal"), dest.with_name("History-wal"))
    finally:
        con.close()
    # the main file alone has no history at all: everything is in the WAL
    alone = tmp_path / "alone" / "History"
    alone.parent.mkdir()
    shutil.copyfile(dest, alone)
    check = sqlite3.connect(alone)
    assert check.execute("SELECT count(*) FROM sqlite_master WHERE name = 'visits'").fetchone()[0] == 0
    check.close()
    before = digest_tree(evidence)
    proc = run("parse", "--profile", "chromium.history", "--json", str(evidence))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    assert len(by_artifact(rows, "visits")) == 5
    assert len(by_artifact(rows, "downloads")) == 1 and len(by_artifact(rows, "searches")) == 1
    assert digest_tree(evidence) == before, "evidence changed (WAL checkpointed or -shm created)"


@pytest.mark.parametrize("damage", ["random", "header_then_garbage", "truncated"])
def test_corrupt_history_is_a_per_file_problem(tmp_path: Path, damage: str) -> None:
    evidence = tmp_path / "evidence"
    good = evidence / CHROME_PROFILE1
    build_chrome(good).close()
    bad = evidence / CHROME_DEFAULT
    bad.parent.mkdir(parents=True)
    if damage == "random":
        bad.write_bytes(os.urandom(16384))
    elif damage == "header_then_garbage":
        bad.write_bytes(b"SQLite format 3\x00" + os.urandom(16384 - 16))
    else:
        data = good.read_bytes()
        bad.write_bytes(data[:4096] + os.urandom(4096))
    proc = run("parse", "--profile", "chromium.history", "--json", str(evidence))
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 4, err
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if line.strip()]
    assert len(problems) == 1 and "Default/History" in problems[0] and "chromium.history" in problems[0], err
    rows = records(proc)
    assert rows and {r["path"] for r in rows} == {"/" + CHROME_PROFILE1}
    assert len(by_artifact(rows, "visits")) == 5
    # profiles test on the corrupt file alone: a problem, exit 4, no traceback
    single = run("profiles", "test", "chromium.history", str(bad), "--json")
    assert single.returncode == 4 and b"Traceback" not in single.stderr


# --------------------------------------------------------------------------- Firefox: schema variants

FIREFOX_SCHEMA = """
CREATE TABLE moz_origins (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, host TEXT NOT NULL, frecency INTEGER NOT NULL,
  recalc_frecency INTEGER NOT NULL DEFAULT 0, alt_frecency INTEGER, recalc_alt_frecency INTEGER NOT NULL DEFAULT 0,
  UNIQUE (prefix, host));
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, rev_host LONGVARCHAR,
  visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL, typed INTEGER DEFAULT 0 NOT NULL,
  frecency INTEGER DEFAULT -1 NOT NULL, last_visit_date INTEGER, guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL,
  url_hash INTEGER DEFAULT 0 NOT NULL, description TEXT, preview_image_url TEXT, site_name TEXT,
  origin_id INTEGER REFERENCES moz_origins(id), recalc_frecency INTEGER NOT NULL DEFAULT 0, alt_frecency INTEGER,
  recalc_alt_frecency INTEGER NOT NULL DEFAULT 0);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id INTEGER, visit_date INTEGER,
  visit_type INTEGER, session INTEGER, source INTEGER DEFAULT 0 NOT NULL, triggeringPlaceId INTEGER);
CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, type INTEGER, fk INTEGER DEFAULT NULL, parent INTEGER,
  position INTEGER, title LONGVARCHAR, keyword_id INTEGER, folder_type TEXT, dateAdded INTEGER, lastModified INTEGER,
  guid TEXT, syncStatus INTEGER NOT NULL DEFAULT 0, syncChangeCounter INTEGER NOT NULL DEFAULT 1);
CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT NULL);
CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL, anno_attribute_id INTEGER, content LONGVARCHAR,
  flags INTEGER DEFAULT 0, expiration INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0,
  lastModified INTEGER DEFAULT 0);
"""


def test_firefox_current_desktop_schema(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    db = evidence / FIREFOX_PLACES
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.executescript(FIREFOX_SCHEMA)
    t = prtime(T0, 123456)
    con.executemany("INSERT INTO moz_places(id, url, title, visit_count, typed, hidden, last_visit_date, guid) VALUES (?,?,?,?,?,?,?,?)", [
        (1, "https://www.google.com/search?q=x", "x - Google Search", 1, 0, 0, t, "p1"),
        (2, "https://example.com/", "<script>alert(1)</script>", 1, 0, 0, t + 1_000_000, "p2"),
        (3, "https://example.com/file.zip", None, 1, 0, 0, t + 2_000_000, "p3"),
        (4, "https://example.com/bad.zip", None, 1, 0, 0, t + 3_000_000, "p4"),
    ])
    con.executemany("INSERT INTO moz_historyvisits(id, from_visit, place_id, visit_date, visit_type, source, triggeringPlaceId) "
                    "VALUES (?,?,?,?,?,?,?)", [
                        (1, 0, 1, t, 2, 3, None),
                        (2, 1, 2, t + 1_000_000, 1, 0, 1),
                        (3, 2, 3, t + 2_000_000, 7, 0, None),
                    ])
    con.executemany("INSERT INTO moz_bookmarks(id, type, fk, parent, position, title, dateAdded, lastModified, guid) VALUES (?,?,?,?,?,?,?,?,?)", [
        (1, 2, None, 0, 0, "", 0, 0, "root________"),
        (2, 2, None, 1, 0, "menu", t, t, "menu________"),
        (3, 2, None, 1, 1, "", t, t, "toolbar_____"),
        (4, 2, None, 1, 2, "tags", t, t, "tags________"),
        (5, 1, 2, 3, 0, "Example", t + 5_000_000, t + 6_000_000, "bm1"),
        (6, 2, None, 4, 0, "work", t, t, "tagfolder1"),
        (7, 1, 2, 6, 0, None, t + 7_000_000, t + 7_000_000, "tag1"),
    ])
    con.executemany("INSERT INTO moz_anno_attributes VALUES (?,?)", [
        (1, "downloads/destinationFileURI"), (2, "downloads/metaData")])
    end_ms = unix(T0) * 1000 + 9_500
    con.executemany("INSERT INTO moz_annos(id, place_id, anno_attribute_id, content, dateAdded, lastModified) VALUES (?,?,?,?,?,?)", [
        (1, 3, 1, "file:///C:/Users/jo/Downloads/file.zip", t + 2_000_000, t + 2_000_000),
        (2, 3, 2, json.dumps({"state": 1, "deleted": False, "endTime": end_ms, "fileSize": 4096}), t + 2_000_000, t + 2_000_000),
        (3, 4, 1, "file:///C:/Users/jo/Downloads/bad.zip", t + 3_000_000, t + 3_000_000),
        (4, 4, 2, '{"state": 1, "endTime": <script>', t + 3_000_000, t + 3_000_000),
    ])
    con.commit()
    con.close()
    proc = run("parse", "--profile", "firefox.history", "--json", str(evidence))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    visits = {r["row"]["rowid"]: r["data"] for r in by_artifact(rows, "visits")}
    assert visits[1]["visit_date"] == "2024-03-01T12:00:00.123456Z" and visits[1]["source"] == "searched"
    assert visits[1]["visit_type"] == "typed"
    assert visits[2]["title"] == "<script>alert(1)</script>" and visits[2]["from_url"] == "https://www.google.com/search?q=x"
    assert visits[2]["triggering_url"] == "https://www.google.com/search?q=x" and visits[2]["source"] == "organic"
    assert visits[3]["visit_type"] == "download"
    bookmarks = {r["row"]["rowid"]: r["data"] for r in by_artifact(rows, "bookmarks")}
    assert set(bookmarks) == {5, 7}
    assert bookmarks[5]["folder"] == "toolbar" and bookmarks[5]["is_tag"] is False
    assert bookmarks[5]["dateAdded"] == "2024-03-01T12:00:05.123456Z" and bookmarks[5]["url"] == "https://example.com/"
    assert bookmarks[7]["folder"] == "work" and bookmarks[7]["is_tag"] is True
    downloads = {r["row"]["rowid"]: r for r in by_artifact(rows, "downloads")}
    assert set(downloads) == {1, 3} and downloads[1]["row"]["table"] == "moz_annos"
    d = downloads[1]["data"]
    assert d["source"] == "https://example.com/file.zip" and d["target"] == "file:///C:/Users/jo/Downloads/file.zip"
    assert d["state"] == "finished" and d["fileSize"] == 4096 and d["deleted"] is False
    assert d["startTime"] == "2024-03-01T12:00:02.123456Z" and d["endTime"] == "2024-03-01T12:00:09.5Z"
    bad = downloads[3]["data"]  # metaData that is not JSON: kept as text, no state
    assert bad["metaData"] == '{"state": 1, "endTime": <script>' and bad["state"] is None and bad["endTime"] is None


def test_firefox_for_android_times_in_milliseconds(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    db = evidence / FENIX_PLACES
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.executescript("""
    CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR NOT NULL, title LONGVARCHAR,
      visit_count_local INTEGER NOT NULL DEFAULT 0, visit_count_remote INTEGER NOT NULL DEFAULT 0,
      hidden INTEGER DEFAULT 0 NOT NULL, typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL,
      last_visit_date_local INTEGER NOT NULL DEFAULT 0, last_visit_date_remote INTEGER NOT NULL DEFAULT 0,
      guid TEXT NOT NULL UNIQUE, foreign_count INTEGER DEFAULT 0 NOT NULL, url_hash INTEGER DEFAULT 0 NOT NULL,
      description TEXT, preview_image_url TEXT, origin_id INTEGER, sync_status TINYINT NOT NULL DEFAULT 1,
      sync_change_counter INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, is_local INTEGER NOT NULL, from_visit INTEGER,
      place_id INTEGER NOT NULL, visit_date INTEGER NOT NULL, visit_type INTEGER NOT NULL);
    CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, fk INTEGER DEFAULT NULL, type INTEGER NOT NULL, parent INTEGER,
      position INTEGER NOT NULL, title TEXT, dateAdded INTEGER NOT NULL DEFAULT 0, lastModified INTEGER NOT NULL DEFAULT 0,
      guid TEXT NOT NULL UNIQUE, syncStatus INTEGER NOT NULL DEFAULT 0, syncChangeCounter INTEGER NOT NULL DEFAULT 1);
    """)
    ms = unix(T0) * 1000 + 250
    con.execute("INSERT INTO moz_places(id, url, title, visit_count_local, visit_count_remote, guid) "
                "VALUES (1, 'https://m.example.com/', 'Mobile', 1, 1, 'aaaaaaaaaaaa')")
    con.executemany("INSERT INTO moz_historyvisits VALUES (?,?,?,?,?,?)", [
        (1, 1, 0, 1, ms, 2), (2, 0, 0, 1, ms + 1000, 1)])
    con.executemany("INSERT INTO moz_bookmarks(id, fk, type, parent, position, title, dateAdded, lastModified, guid) "
                    "VALUES (?,?,?,?,?,?,?,?,?)", [
                        (1, None, 2, None, 0, "", 0, 0, "root________"),
                        (2, None, 2, 1, 0, "", ms, ms, "mobile______"),
                        (3, 1, 1, 2, 0, "Mobile bookmark", ms, ms + 1, "bbbbbbbbbbbb")])
    con.commit()
    con.close()
    proc = run("parse", "--profile", "firefox.history", "--json", str(evidence))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    visits = [r["data"] for r in by_artifact(rows, "visits")]
    assert [v["visit_date"] for v in visits] == ["2024-03-01T12:00:00.25Z", "2024-03-01T12:00:01.25Z"]
    assert visits[0]["visit_date_ms"] == ms and visits[0]["is_local"] is True and visits[1]["is_local"] is False
    assert visits[0]["visit_type"] == "typed" and visits[1]["from_visit"] == 0
    (bm,) = by_artifact(rows, "bookmarks")
    assert bm["data"]["folder"] == "mobile" and bm["data"]["dateAdded"] == "2024-03-01T12:00:00.25Z"
    assert bm["data"]["lastModified"] == "2024-03-01T12:00:00.251Z"


# --------------------------------------------------------------------------- Safari

SAFARI_SCHEMA = """
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT,url TEXT NOT NULL UNIQUE,domain_expansion TEXT NULL,
  visit_count INTEGER NOT NULL,daily_visit_counts BLOB NOT NULL,weekly_visit_counts BLOB NULL,
  autocomplete_triggers BLOB NULL,should_recompute_derived_visit_counts INTEGER NOT NULL,
  visit_count_score INTEGER NOT NULL,status_code INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT,
  history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE,visit_time REAL NOT NULL,
  title TEXT NULL,load_successful BOOLEAN NOT NULL DEFAULT 1,http_non_get BOOLEAN NOT NULL DEFAULT 0,
  synthesized BOOLEAN NOT NULL DEFAULT 0,
  redirect_source INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE,
  redirect_destination INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE,
  origin INTEGER NOT NULL DEFAULT 0,generation INTEGER NOT NULL DEFAULT 0,attributes INTEGER NOT NULL DEFAULT 0,
  score INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_tombstones (id INTEGER PRIMARY KEY AUTOINCREMENT,start_time REAL NOT NULL,end_time REAL NOT NULL,
  url TEXT,generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE metadata (key TEXT NOT NULL UNIQUE, value);
"""

SAFARI_OLD_SCHEMA = """
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT,url TEXT NOT NULL UNIQUE,domain_expansion TEXT NULL,
  visit_count INTEGER NOT NULL,daily_visit_counts BLOB NOT NULL,weekly_visit_counts BLOB NULL,
  autocomplete_triggers BLOB NULL,should_recompute_derived_visit_counts INTEGER NOT NULL);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT,
  history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE,visit_time REAL NOT NULL,
  title TEXT NULL,load_successful BOOLEAN NOT NULL DEFAULT 1,http_non_get BOOLEAN NOT NULL DEFAULT 0,
  synthesized BOOLEAN NOT NULL DEFAULT 0,
  redirect_source INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE,
  redirect_destination INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE);
"""


def build_safari(path: Path, schema: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(schema)
    extra = ", visit_count_score" if "visit_count_score" in schema else ""
    for item_id, url, count in ((1, "http://apple.com/", 1), (2, "https://www.apple.com/", 2), (3, "javascript:alert(1)", 1)):
        con.execute(f"INSERT INTO history_items (id, url, domain_expansion, visit_count, daily_visit_counts, "
                    f"should_recompute_derived_visit_counts{extra}) VALUES (?, ?, 'apple', ?, X'', 0{', 0' if extra else ''})",
                    (item_id, url, count))
    base = cocoa(T0)
    con.execute("INSERT INTO history_visits (id, history_item, visit_time, title, redirect_destination) "
                "VALUES (1, 1, ?, NULL, 2)", (base + 0.5,))
    con.execute("INSERT INTO history_visits (id, history_item, visit_time, title, redirect_source) "
                "VALUES (2, 2, ?, 'Apple', 1)", (base + 0.75,))
    con.execute("INSERT INTO history_visits (id, history_item, visit_time, title, load_successful) "
                "VALUES (3, 2, ?, 'Apple (other device)', 0)", (base + 60.123456,))
    con.execute("INSERT INTO history_visits (id, history_item, visit_time, title) "
                "VALUES (4, 3, ?, '<script>alert(1)</script>')", (base + 120,))
    if "origin" in schema:
        con.execute("UPDATE history_visits SET origin = 1 WHERE id = 3")
    con.commit()
    con.close()


def test_safari_history_db(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    build_safari(evidence / SAFARI_HISTORY, SAFARI_SCHEMA)
    proc = run("parse", "--profile", "safari.history", "--json", str(evidence))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    assert {r["artifact"] for r in rows} == {"visits"} and len(rows) == 4
    v = {r["row"]["rowid"]: r for r in rows}
    assert v[1]["timestamp"] == "2024-03-01T12:00:00.5Z" and v[1]["data"]["visit_time_raw"] == cocoa(T0) + 0.5
    assert v[1]["data"]["url"] == "http://apple.com/" and v[1]["data"]["title"] is None
    assert v[1]["data"]["redirect_destination"] == 2 and v[1]["data"]["redirect_destination_url"] == "https://www.apple.com/"
    assert v[2]["data"]["visit_time"] == "2024-03-01T12:00:00.75Z"
    assert v[2]["data"]["redirect_source_url"] == "http://apple.com/" and v[2]["data"]["title"] == "Apple"
    assert v[2]["data"]["origin"] == "this_device" and v[2]["data"]["load_successful"] is True
    assert v[3]["data"]["visit_time"].startswith("2024-03-01T12:01:00.123456")
    assert v[3]["data"]["origin"] == "icloud_synced" and v[3]["data"]["load_successful"] is False
    assert v[3]["data"]["visit_count"] == 2 and v[3]["row"] == {"table": "history_visits", "rowid": 3}
    assert v[4]["data"]["url"] == "javascript:alert(1)" and v[4]["data"]["title"] == "<script>alert(1)</script>"


def test_safari_older_schema_and_hunt(tmp_path: Path) -> None:
    db = tmp_path / "renamed" / "evidence_0042.sqlite"
    build_safari(db, SAFARI_OLD_SCHEMA)
    proc = run("profiles", "test", "safari.history", str(db), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    assert len(rows) == 4
    first = rows[0]["data"]
    assert first["visit_time"] == "2024-03-01T12:00:00.5Z" and first["redirect_destination_url"] == "https://www.apple.com/"
    assert "origin" not in first
    hunted = run("parse", "--hunt", "--profile", "safari.history", "--json", str(db.parent))
    assert hunted.returncode == 0 and len(records(hunted)) == 4


# --------------------------------------------------------------------------- every query variant

def _variants() -> list[tuple[str, str, int]]:
    from evkit.profiles.loader import load_file

    out = []
    for profile_id in IDS:
        p = load_file(PROFILES / f"{profile_id}.yaml")
        for art in p.artifacts.values():
            out += [(profile_id, art.name, i) for i in range(len(art.queries))]
    return out


@pytest.mark.parametrize("profile_id,artifact,index", _variants())
def test_each_query_runs_on_exactly_its_required_columns(profile_id: str, artifact: str, index: int) -> None:
    """A query may only use what its `requires` names: a schema with just those columns must run it."""
    from evkit.profiles.loader import load_file
    from evkit.profiles.parsers.sqlite import choose, schema

    p = load_file(PROFILES / f"{profile_id}.yaml")
    art = p.artifacts[artifact]
    query = art.queries[index]
    con = sqlite3.connect(":memory:")
    for table, cols in query.requires.items():
        con.execute(f'CREATE TABLE "{table}" ({", ".join(f"{c!r}" for c in cols)})')
    con.execute(query.sql).fetchall()
    names = [d[0] for d in con.execute(query.sql).description]
    assert names[0] == "_rowid" and art.timeline_time in names
    # and the engine picks this very variant on that schema: no variant is hidden behind an earlier one
    assert art.queries.index(choose(art, schema(con))) == index
    con.close()


def test_chrome_downloads_before_schema_24_with_end_time(tmp_path: Path) -> None:
    """Chrome 20-23: Unix seconds in downloads, end_time and opened added by InitDownloadTable."""
    db = tmp_path / "evidence" / CHROME_DEFAULT
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.executescript("""
    CREATE TABLE urls(id INTEGER PRIMARY KEY,url LONGVARCHAR,title LONGVARCHAR,visit_count INTEGER DEFAULT 0 NOT NULL,
      typed_count INTEGER DEFAULT 0 NOT NULL,last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL,
      favicon_id INTEGER DEFAULT 0 NOT NULL);
    CREATE TABLE visits(id INTEGER PRIMARY KEY,url INTEGER NOT NULL,visit_time INTEGER NOT NULL,from_visit INTEGER,
      transition INTEGER DEFAULT 0 NOT NULL,segment_id INTEGER,is_indexed BOOLEAN,visit_duration INTEGER DEFAULT 0 NOT NULL);
    CREATE TABLE downloads (id INTEGER PRIMARY KEY,full_path LONGVARCHAR NOT NULL,url LONGVARCHAR NOT NULL,
      start_time INTEGER NOT NULL,received_bytes INTEGER NOT NULL,total_bytes INTEGER NOT NULL,state INTEGER NOT NULL,
      end_time INTEGER NOT NULL DEFAULT 0,opened INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE visit_source(id INTEGER PRIMARY KEY,source INTEGER NOT NULL);
    """)
    con.execute("INSERT INTO urls VALUES (1, 'https://example.com/', 'Example', 1, 1, ?, 0, 0)", (webkit(T0),))
    con.execute("INSERT INTO visits VALUES (1, 1, ?, 0, 1, 0, 1, 0)", (webkit(T0),))
    con.executemany("INSERT INTO downloads VALUES (?,?,?,?,?,?,?,?,?)", [
        (1, "/home/jo/Downloads/a.iso", "https://example.com/a.iso", unix(T0) + 10, 10, 10, 1, unix(T0) + 70, 1),
        (2, "/home/jo/Downloads/b.iso", "https://example.com/b.iso", unix(T0) + 20, 5, 10, 3, 0, 0),
    ])
    con.commit()
    con.close()
    proc = run("parse", "--profile", "chromium.history", "--json", str(tmp_path / "evidence"))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = records(proc)
    (visit,) = by_artifact(rows, "visits")
    assert visit["data"]["transition"] == "typed" and visit["data"]["source"] == "browsed"  # no visit_source row
    assert visit["data"]["visit_duration"] == 0
    a, b = (r["data"] for r in by_artifact(rows, "downloads"))
    assert a["start_time"] == "2024-03-01T12:00:10Z" and a["end_time"] == "2024-03-01T12:01:10Z"
    assert a["start_time_unix_s"] == unix(T0) + 10 and a["end_time_unix_s"] == unix(T0) + 70
    assert a["full_path"] == a["target_path"] == "/home/jo/Downloads/a.iso" and a["opened"] is True
    assert b["end_time"] is None and b["state"] == "interrupted" and b["state_raw"] == 3
