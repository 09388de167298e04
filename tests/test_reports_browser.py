"""The HTML report in a real browser (headless Chromium): nothing runs, nothing is fetched, it works.

The hostile case of ``tests/test_reports.py`` is built with every hostile value pointing at a
small HTTP server on 127.0.0.1 (the "beacon"): an ``<img>``, ``<script src>``, stylesheet, CSS
``url()`` and ``<iframe>`` that would reach it if any markup from the evidence were obeyed, and
``onerror``/``onload`` handlers that would change ``document.title``, set a ``data-pwned``
attribute or write to ``localStorage``. Every page is loaded, the DOM dumped after load, and the
beacon must have received nothing. Positive controls (a page of our own with the same payloads)
prove the harness would see a script run or a request made.

Screenshots of the front page, an artefact page, the conversation view and the map are written to
``test-output/`` (git-ignored) for a person to look at. A case of 200,000 records checks that the
artefact page loads and filters without freezing: the page measures itself (data parse, first
render, filter) and writes the figures into ``<body data-...>``.

Skipped when Chromium is not installed (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import http.server
import json
import random
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, evkit
from tests.test_reports import build_case, make_sms_db

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
OUT = ROOT / "test-output"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--no-default-browser-check", "--disable-default-apps", "--mute-audio",
         "--disable-extensions", "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication"]
BIG = 200_000


class Beacon:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            def log_message(self, *args: Any) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/beacon"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def beacon() -> Iterator[Beacon]:
    b = Beacon()
    yield b
    b.close()


@pytest.fixture(scope="module")
def profile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chromium-profile")


def chromium(profile: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def dump_dom(profile: Path, url: str, budget_ms: int | None = 3000, timeout: float = 120) -> str:
    args = ["--dump-dom"] + ([f"--virtual-time-budget={budget_ms}"] if budget_ms else []) + [url]
    return chromium(profile, *args, timeout=timeout).stdout


class Dom(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        self.text.append(data)

    def body(self) -> dict[str, str | None]:
        return next(a for t, a in self.elements if t == "body")


@pytest.fixture(scope="module")
def hostile(beacon: Beacon, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_case(tmp_path_factory.mktemp("browser") / "case", beacon=beacon.url)


def _pages(case: Path) -> list[Path]:
    return sorted((case / "data" / "reports" / "html").glob("*.html"))


def test_positive_controls_prove_the_harness_sees_scripts_requests_and_storage(beacon: Beacon, profile_dir: Path,
                                                                               tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text(f"""<!DOCTYPE html><html><head><title>clean</title></head><body>
<img src="{beacon.url}/control-img" onerror="document.title='RAN'">
<script>localStorage.setItem('control', 'written'); document.body.setAttribute('data-pwned', '1');</script>
</body></html>""", encoding="utf-8")
    before = len(beacon.hits)
    dom = Dom(dump_dom(profile_dir, control.as_uri()))
    assert dom.body().get("data-pwned") == "1"
    assert any(h.endswith("/control-img") for h in beacon.hits[before:])
    del beacon.hits[before:]
    check = tmp_path / "check.html"
    check.write_text("<!DOCTYPE html><html><head><title>x</title></head><body><script>"
                     "document.title = 'LS=' + localStorage.getItem('control');</script></body></html>", encoding="utf-8")
    assert Dom(dump_dom(profile_dir, check.as_uri())).title == "LS=written"


def test_hostile_content_neither_runs_nor_fetches(hostile: dict[str, Any], beacon: Beacon, profile_dir: Path,
                                                  tmp_path: Path) -> None:
    case = hostile["root"]
    pages = _pages(case)
    assert len(pages) >= 7
    beacon.hits.clear()
    urls = [p.as_uri() for p in pages]
    page_of_sms = next(p for p in pages if re.match(r"a\d+-android\.sms-sms\.html$", p.name))
    urls.append(page_of_sms.as_uri() + f"#r{hostile['tagged']}")  # opens the detail row: every value of the record
    urls.append(next(p for p in pages if "evil.profile" in p.name and not p.name.endswith(".chat.html")).as_uri() + "#q=script")
    shown = ""
    for url in urls:
        dom = Dom(dump_dom(profile_dir, url))
        body = dom.body()
        assert "PWNED" not in dom.title, url
        assert body.get("data-pwned") is None, url
        for tag, attrs in dom.elements:
            assert tag not in ("iframe", "object", "embed", "frame"), (url, tag)
            for k, v in attrs.items():
                assert not k.startswith("on"), (url, tag, k, v)
                if k in ("src", "href") and v:
                    assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", v, re.I), (url, tag, k, v)
            if tag == "img":
                assert re.fullmatch(r"thumbs/a\d+\.jpg", attrs.get("src") or ""), attrs
        if 'src="assets/report.js"' in page_text(url):
            assert body.get("data-ready") == "1", f"the page's own script did not run: {url}"
        shown += "\n".join(dom.text)
    # The hostile values are on the pages, as text.
    for v in ("<script>alert(1)</script>", "<img src=x onerror=", "javascript:alert(1)", "=HYPERLINK(\"http://x\",\"y\")",
              f"{beacon.url}/plain-url-text", "</script><script>document.title='PWNED'</script>"):
        assert v in shown, v
    assert "\\u202eexe.gpj" in shown  # a bidi override is shown, not obeyed
    assert "ctrl\\x01\\x02\\x1b[31mred\\x7f" in shown  # control characters are shown, not passed through
    time.sleep(0.5)
    assert beacon.hits == [], f"the report made requests: {beacon.hits}"
    check = tmp_path / "check.html"
    check.write_text("<!DOCTYPE html><html><head><title>x</title></head><body><script>"
                     "document.title = 'LS=' + localStorage.getItem('pwned');</script></body></html>", encoding="utf-8")
    assert Dom(dump_dom(profile_dir, check.as_uri())).title == "LS=null"


def page_text(url: str) -> str:
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    return Path(url2pathname(urlparse(url).path)).read_text(encoding="utf-8")


def test_screenshots_for_a_person_to_look_at(hostile: dict[str, Any], profile_dir: Path) -> None:
    OUT.mkdir(exist_ok=True)
    pages = _pages(hostile["root"])
    wanted = {"report-front.png": "index.html", "report-sms.png": r"a\d+-android\.sms-sms\.html",
              "report-chat.png": r"a\d+-android\.sms-sms\.chat\.html", "report-map.png": "map.html",
              "report-timeline.png": "timeline.html", "report-tagged.png": "tagged.html"}
    for shot, pattern in wanted.items():
        page = next(p for p in pages if re.fullmatch(pattern, p.name))
        target = OUT / shot
        target.unlink(missing_ok=True)
        chromium(profile_dir, f"--screenshot={target}", "--window-size=1280,900", "--hide-scrollbars",
                 "--virtual-time-budget=3000", page.as_uri())
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000, shot


# -- 200,000 rows ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("big")
    ev = work / "evidence"
    make_sms_db(ev / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db", ["seed"])
    case = work / "case"
    evkit("case", "init", str(case), "--case-number", "BIG-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(ev), "--evidence-number", "P1", check=True)
    assert evkit("run", str(case), "--profile", "android.sms", timeout=300).returncode in (0, 4)
    db = sqlite3.connect(case / "case.db")
    ev_id, art, locator, sha, seq = db.execute(
        "SELECT evidence_id, artefact_id, locator, source_sha256, seq FROM records ORDER BY id LIMIT 1").fetchone()
    have = db.execute("SELECT count(*) FROM records").fetchone()[0]
    rnd = random.Random(7)
    words = "hello call me back meeting thursday station documents thanks later tonight".split()
    zebras = 0
    batch = []
    for i in range(have + 1, BIG + 1):
        t = 1_672_531_200 + rnd.randrange(365 * 86400)
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{i % 1000:03d}Z"
        body = " ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 20)))
        if i % 7 == 0:
            body += " zebra"
            zebras += 1
        data = {"thread_id": i % 300, "address": f"+44 7700 {i % 300:06d}", "date": iso, "date_raw": t * 1000,
                "type": "sent" if i % 2 else "received", "type_raw": 2 if i % 2 else 1, "read": True, "body": body}
        batch.append((ev_id, art, "android.sms", "1", "sms", iso, locator, sha, "sms", i, None, json.dumps(data), seq))
    db.executemany("INSERT INTO records(evidence_id, artefact_id, profile, profile_version, artifact, timestamp, locator,"
                   " source_sha256, row_table, row_id, row_index, data, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    db.commit()
    db.close()
    t0 = time.perf_counter()
    proc = evkit("report", str(case), "--format", "html", timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    return {"root": case, "zebras": zebras, "report_seconds": time.perf_counter() - t0}


def test_200k_row_page_loads_and_filters_without_freezing(big_case: dict[str, Any], profile_dir: Path) -> None:
    page = next((big_case["root"] / "data" / "reports" / "html").glob("a*-android.sms-sms.html"))
    t0 = time.perf_counter()
    # No virtual time: the page's own performance.now() figures must be real time.
    dom = Dom(dump_dom(profile_dir, page.as_uri() + "#q=zebra", budget_ms=None, timeout=180))
    wall = time.perf_counter() - t0
    body = dom.body()
    assert body.get("data-ready") == "1"
    assert int(body["data-rows"] or 0) == BIG
    assert int(body["data-filter-count"] or -1) == big_case["zebras"]
    filter_ms = float(body["data-filter-ms"] or 1e9)
    parse_ms = float(body["data-parse-ms"] or 1e9)
    render_ms = float(body["data-render-ms"] or 1e9)
    rows = sum(1 for t, a in dom.elements if t == "tr" and a.get("data-i") is not None)
    assert rows == 100  # one page of rows in the DOM, not 200,000
    print(f"\n200k rows: report {big_case['report_seconds']:.1f} s; in page: JSON.parse {parse_ms:.0f} ms, "
          f"table + first filter {render_ms:.0f} ms, filter of {BIG:,} rows {filter_ms:.0f} ms; browser wall {wall:.1f} s")
    assert filter_ms < 2000, filter_ms
    assert parse_ms < 10_000, parse_ms
    assert wall < 90, wall


def test_conversations_are_kept_apart_per_evidence_item_and_outgoing_reads_to(tmp_path: Path, profile_dir: Path) -> None:
    """Two phones whose mmssms.db both number their threads 1, 2, 3 (SQLite thread ids restart on
    every device) give six conversations, not three merged ones; an outgoing SMS (type 2, Android's
    MESSAGE_TYPE_SENT) whose address is the correspondent is labelled "to" that number."""
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "CONV-1", "--examiner", "E", check=True)
    for n in ("P1", "P2"):
        ev = tmp_path / n
        db_path = ev / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db"
        make_sms_db(db_path, [f"{n} message {i}" for i in range(4)])
        db = sqlite3.connect(db_path)  # the latest message: sent (type 2) in thread 1
        db.execute("INSERT INTO sms (_id, thread_id, address, date, type, read, body) VALUES"
                   " (100, 1, '+447700900123', 1700000900000, 2, 1, 'see you there')")
        db.commit()
        db.close()
        if n == "P1":  # only P1's address book knows the correspondent (national form of the number)
            make_contacts_db(ev / "data" / "data" / "com.android.providers.contacts" / "databases" / "contacts2.db",
                             "Anna Martin", "07700 900123")
        evkit("case", "add", str(case), str(ev), "--evidence-number", n, check=True)
    assert evkit("run", str(case), "--profile", "android.sms", "--profile", "android.contacts",
                 timeout=300).returncode == 0
    assert evkit("report", str(case), "--format", "html", timeout=300).returncode == 0
    page = next((case / "data" / "reports" / "html").glob("a*-android.sms-sms.chat.html"))
    dom = Dom(dump_dom(profile_dir, page.as_uri()))
    assert dom.body().get("data-threads") == "6"
    listed = [a for t, a in dom.elements if t == "div" and a.get("data-thread") is not None]
    assert sorted((a["data-evidence"], a["data-thread"]) for a in listed) == sorted(
        (e, t) for e in ("P1", "P2") for t in ("1", "2", "3"))
    # Each phone's thread 1 holds only its own messages: make_sms_db's 2 and 4, and the one added.
    assert all(a["data-count"] == "3" for a in listed if a["data-thread"] == "1")
    text = " ".join(dom.text)
    # The conversation shown first is the most recent one (a thread 1); its sent message reads
    # "to <address>", its received ones "from <address>".
    assert re.search(r"to (Anna Martin \()?\+447700900123\)? · sent", text)
    assert re.search(r"from \+3361234\d{4} · received", text)
    assert not re.search(r"(?<!to )(?<!Anna Martin \()\+447700900123\)? · sent", text)
    # The name comes from P1's own contacts only: shown for P1's conversation, never for P2's.
    titles = {a["data-evidence"]: a.get("title", "") for t, a in dom.elements if t == "div" and a.get("data-thread") == "1"}
    assert "Anna Martin (+447700900123)" in titles["P1"]
    assert "Anna Martin" not in titles["P2"] and "+447700900123" in titles["P2"]


def make_contacts_db(path: Path, name: str, number: str) -> None:
    """A contacts2.db with the Android contacts provider's real tables (raw_contacts, accounts,
    data typed by mimetypes): one raw contact with one phone_v2 row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE accounts (_id INTEGER PRIMARY KEY, account_name TEXT, account_type TEXT);"
        "CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY, account_id INTEGER, contact_id INTEGER, display_name TEXT,"
        " deleted INTEGER, starred INTEGER, times_contacted INTEGER, last_time_contacted INTEGER);"
        "CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY, mimetype TEXT);"
        "CREATE TABLE data (_id INTEGER PRIMARY KEY, raw_contact_id INTEGER, mimetype_id INTEGER, data1 TEXT);"
        "INSERT INTO accounts VALUES (1, 'phone', 'com.android.localphone');"
        "INSERT INTO mimetypes VALUES (5, 'vnd.android.cursor.item/phone_v2');")
    db.execute("INSERT INTO raw_contacts VALUES (1, 1, 1, ?, 0, 0, 0, 0)", (name,))
    db.execute("INSERT INTO data VALUES (1, 1, 5, ?)", (number,))
    db.commit()
    db.close()


def test_provenance_columns_come_before_the_values(hostile: dict[str, Any], profile_dir: Path) -> None:
    """Where a record came from is never pushed off-screen by wide values: the source and its
    SHA-256 are the columns right after the id and time, before any value column."""
    page = next(p for p in _pages(hostile["root"]) if re.search(r"a\d+-android\.sms-sms\.html$", p.name))
    dom = Dom(dump_dom(profile_dir, page.as_uri()))
    heads: list[str] = []
    capture = False
    parser = HTMLParser()

    def start(tag: str, attrs: list[tuple[str, str | None]]) -> None:
        nonlocal capture
        capture = tag == "th"
        if capture:
            heads.append("")

    def data(text: str) -> None:
        if capture:
            heads[-1] += text

    parser.handle_starttag = start  # type: ignore[method-assign]
    parser.handle_endtag = lambda tag: None  # type: ignore[method-assign]
    parser.handle_data = data  # type: ignore[method-assign]
    parser.feed(dump_dom(profile_dir, page.as_uri()))
    assert dom.body().get("data-ready") == "1"
    labels = [h.strip() for h in heads if h.strip()]
    table = labels[labels.index("#"):]
    first = [x for x in table[1:4] if not x.startswith("Time")]  # the record time, when it has its own column
    assert first[:2] == ["Source (evidence, locator, row) and profile", "Source SHA-256"], table
