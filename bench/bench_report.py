#!/usr/bin/env python3
"""Report benchmark: ``evkit report CASE --format html,csv,xlsx,timeline`` on a case of 200,000 records.

Run from anywhere as ``.venv/bin/python bench/bench_report.py [--records N] [--rounds N]``.
Python standard library only (it drives the evkit CLI and writes case.db with sqlite3).

Method:

* the input case, ``bench/work/report200k/case`` (git-ignored), is built once: a small SMS database
  made here (``mmssms.db``, 50 rows) is added as evidence and ``evkit run`` parses it, then the
  ``records`` table is filled up to N synthetic SMS records (fixed seed; 500 threads, bodies of 20 to
  160 characters, times spread over a year, every tenth message with a hostile value), all pointing
  at the real artefact, as ``evkit run`` would have stored them. It is rebuilt when its record count
  differs from N;
* one untimed warm-up report, whose outputs are checked: every format written, ``evkit verify`` exits
  0, the HTML data file of the artefact page holds N rows;
* then N rounds (default 3), each a whole ``evkit report`` process (start-up included), stdout to
  ``/dev/null``, timed with ``time.perf_counter``; every ``PYTHON*`` variable of the calling shell is
  removed and Python's bytecode cache goes to ``bench/work/pycache``;
* the figure is the median time; the goal is under 60 seconds. The result (times, checks, machine)
  is printed and written to ``bench/work/report-results.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "report200k"
CASE = WORK / "case"
EVKIT = ROOT / ".venv" / "bin" / "evkit"
RESULTS = ROOT / "bench" / "work" / "report-results.json"
FORMATS = "html,csv,xlsx,timeline"
GOAL_SECONDS = 60.0
SEED = 20260512
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
           '" onmouseover="alert(1)', '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)",
           "a\x01b\x1fc", "line\u2028sep", "</script><script>alert(2)</script>"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / "bench" / "work" / "pycache")
    return env


def evkit(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run([str(EVKIT), *args], capture_output=True, env=child_env(), cwd=ROOT)
    if check and proc.returncode != 0:
        raise SystemExit(f"evkit {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    return proc


def make_sms_db(path: Path, rows: int = 50) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER,
                          type INTEGER, read INTEGER, body TEXT, service_center TEXT);
    """)
    base = 1_700_000_000_000
    db.executemany("INSERT INTO sms VALUES (?,?,?,?,?,?,?,?,?)",
                   [(i, 1 + i % 3, f"+4470000000{i % 3}", base + i * 60_000, 0, 1 + i % 2, 1, f"message {i}", None)
                    for i in range(1, rows + 1)])
    db.commit()
    db.close()


def record_count() -> int:
    try:
        db = sqlite3.connect(f"file:{CASE / 'case.db'}?mode=ro", uri=True)
        n = db.execute("SELECT count(*) FROM records").fetchone()[0]
        db.close()
        return int(n)
    except sqlite3.Error:
        return -1


def build(records: int) -> None:
    if CASE.exists() and record_count() == records:
        return
    shutil.rmtree(WORK, ignore_errors=True)
    src = WORK / "evidence" / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db"
    make_sms_db(src)
    evkit("case", "init", str(CASE), "--case-number", "BENCH/200K", "--examiner", "Bench Examiner", "--agency", "evkit bench")
    evkit("case", "add", str(CASE), str(WORK / "evidence"), "--evidence-number", "P1")
    proc = evkit("run", str(CASE), "--profile", "android.sms", check=False)
    if proc.returncode not in (0, 4):
        raise SystemExit(f"evkit run exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    db = sqlite3.connect(CASE / "case.db")
    first = db.execute("SELECT evidence_id, artefact_id, profile, profile_version, artifact, locator, source_sha256, row_table, seq"
                       " FROM records WHERE profile='android.sms' AND artifact='sms' ORDER BY id LIMIT 1").fetchone()
    if first is None:
        raise SystemExit("evkit run stored no android.sms record")
    have = db.execute("SELECT count(*) FROM records").fetchone()[0]
    rnd = random.Random(SEED)
    words = ("hello are we still on for tonight call me back the meeting moved to thursday ok see you at "
             "station bring the documents https://example.org/x?id=1 thanks").split()
    start = 1_672_531_200  # 2023-01-01T00:00:00Z
    batch = []
    for i in range(have + 1, records + 1):
        t = start + rnd.randrange(365 * 86400)
        ms = rnd.randrange(1000)
        iso = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"
        body = " ".join(rnd.choice(words) for _ in range(rnd.randrange(4, 28)))
        if i % 10 == 0:
            body = rnd.choice(HOSTILE) + " " + body
        kind = rnd.choice((1, 2))
        data = {"thread_id": 1 + i % 500, "address": f"+44 7700 {900000 + i % 500:06d}", "date": iso,
                "date_raw": t * 1000 + ms, "date_sent": None, "date_sent_raw": 0,
                "type": "received" if kind == 1 else "sent", "type_raw": kind, "read": bool(i % 3),
                "body": body, "service_center": None}
        batch.append((first[0], first[1], first[2], first[3], first[4], iso, first[5], first[6], first[7], 100000 + i, None,
                      json.dumps(data, ensure_ascii=False), first[8]))
        if len(batch) == 20000:
            db.executemany("INSERT INTO records(evidence_id, artefact_id, profile, profile_version, artifact, timestamp, locator,"
                           " source_sha256, row_table, row_id, row_index, data, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        db.executemany("INSERT INTO records(evidence_id, artefact_id, profile, profile_version, artifact, timestamp, locator,"
                       " source_sha256, row_table, row_id, row_index, data, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    db.commit()
    db.close()


def timed_report() -> float:
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        proc = subprocess.run([str(EVKIT), "report", str(CASE), "--format", FORMATS], stdout=null,
                              stderr=subprocess.PIPE, env=child_env(), cwd=ROOT)
        t1 = time.perf_counter()
    if proc.returncode != 0:
        raise SystemExit(f"evkit report exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    return t1 - t0


def check(records: int) -> dict[str, object]:
    reports = CASE / "data" / "reports"
    pages = sorted((reports / "html").glob("a*-android.sms-sms.data.js"))
    text = pages[0].read_text(encoding="utf-8") if pages else ""
    m = re.search(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)', text)
    inner = json.loads(json.loads(m.group(1))) if m else {"rows": []}
    verify = evkit("verify", str(CASE), check=False)
    out = {"html_rows": len(inner["rows"]), "csv_files": len(list((reports / "csv").glob("*.csv"))),
           "xlsx_bytes": (reports / "report.xlsx").stat().st_size, "timeline_bytes": (reports / "timeline.csv").stat().st_size,
           "html_data_bytes": pages[0].stat().st_size if pages else 0, "verify_exit": verify.returncode}
    if out["html_rows"] < records or verify.returncode != 0:
        raise SystemExit(f"check failed: {out}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    build(args.records)
    built = time.perf_counter() - t0
    print(f"case with {record_count():,} records ready ({built:.1f} s)", file=sys.stderr)
    warm = timed_report()
    checks = check(args.records)
    times = [timed_report() for _ in range(args.rounds)]
    median = statistics.median(times)
    ok = median < GOAL_SECONDS
    entry = {"command": f".venv/bin/evkit report bench/work/report200k/case --format {FORMATS}",
             "records": record_count(), "warmup_seconds": round(warm, 2), "times": [round(t, 2) for t in times],
             "median_seconds": round(median, 2), "goal": f"median < {GOAL_SECONDS:.0f} s", "pass": ok, "checks": checks,
             "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                         "loadavg": os.getloadavg()}, "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
    print(f"report {FORMATS} on {entry['records']:,} records: median {median:.1f} s over {len(times)} rounds "
          f"({', '.join(f'{t:.1f}' for t in times)}); goal < {GOAL_SECONDS:.0f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
