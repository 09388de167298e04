#!/usr/bin/env python3
"""Profile-engine throughput: ``evkit parse --profile android.sms --json`` on a 1,000,000-row SMS database.

Run from the repository as ``.venv/bin/python bench/bench_parse.py [--rows N] [--rounds N]``.
Python standard library only.

* The input is built once under ``bench/work/parse_sms/`` (git-ignored) from a fixed seed: an
  ``mmssms.db`` with the Android telephony provider's real ``sms`` table (and its indexes, the
  empty ``pdu``/``part`` MMS tables, ``threads`` and ``canonical_addresses``), N messages over a
  few hundred threads, bodies of realistic lengths with some non-ASCII text, dates in Unix
  milliseconds, inside ``data/data/com.android.providers.telephony/databases/`` so the profile
  matches it by path as in a real extraction. Delete the folder to rebuild it.
* One untimed run first (warms the page cache and the bytecode cache; its output is checked:
  exactly N records, the first and last bodies as built). Then ``--rounds`` timed runs, each a
  whole process (start-up, hashing the file, the scratch copy, SQLite, conversion, JSON
  output), stdout to /dev/null, timed with ``time.perf_counter``.
* The figure quoted is rows per second of the median run. Goal: >= 100,000 rows/s.

The result is printed and written to ``bench/work/parse_sms/result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "parse_sms"
CASE = WORK / "case"
DB = CASE / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db"
EVKIT = ROOT / ".venv" / "bin" / "evkit"
GOAL = 100_000

SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER,
  date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER,
  reply_path_present INTEGER, subject TEXT, body TEXT, service_center TEXT, locked INTEGER DEFAULT 0,
  sub_id INTEGER DEFAULT -1, error_code INTEGER DEFAULT 0, creator TEXT, seen INTEGER DEFAULT 0);
CREATE INDEX typeThreadIdIndex ON sms (type, thread_id);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, message_count INTEGER DEFAULT 0,
  recipient_ids TEXT, snippet TEXT, snippet_cs INTEGER DEFAULT 0, read INTEGER DEFAULT 1, archived INTEGER DEFAULT 0,
  type INTEGER DEFAULT 0, error INTEGER DEFAULT 0, has_attachment INTEGER DEFAULT 0);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0,
  msg_box INTEGER, read INTEGER DEFAULT 0, m_id TEXT, sub TEXT, sub_cs INTEGER, ct_t TEXT, ct_l TEXT, exp INTEGER,
  m_cls TEXT, m_type INTEGER, v INTEGER, m_size INTEGER, pri INTEGER, rr INTEGER, rpt_a INTEGER, resp_st INTEGER,
  st INTEGER, tr_id TEXT, retr_st INTEGER, retr_txt TEXT, retr_txt_cs INTEGER, read_status INTEGER, ct_cls INTEGER,
  resp_txt TEXT, d_tm INTEGER, d_rpt INTEGER, locked INTEGER DEFAULT 0, sub_id INTEGER DEFAULT -1, seen INTEGER DEFAULT 0,
  creator TEXT, text_only INTEGER DEFAULT 0);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT,
  chset INTEGER, cd TEXT, fn TEXT, cid TEXT, cl TEXT, ctt_s INTEGER, ctt_t TEXT, _data TEXT, text TEXT);
"""

WORDS = ("ok see you at the station later tonight can you call me when you get this running late "
         "thanks love it meeting moved to tomorrow where are you happy birthday the code is "
         "don't forget milk bread eggs on my way five minutes sure why not").split()
EXTRA = ["café", "naïve", "Grüße", "😀", "👍", "спасибо", "ありがとう"]


def body(rng: random.Random) -> str:
    n = max(1, int(rng.expovariate(1 / 12)))
    words = [rng.choice(WORDS) for _ in range(min(n, 60))]
    if rng.random() < 0.1:
        words.append(rng.choice(EXTRA))
    return " ".join(words).capitalize() + rng.choice([".", "!", "?", ""])


def build(rows: int) -> None:
    marker = WORK / f"built-{rows}"
    if DB.is_file() and marker.is_file():
        return
    DB.parent.mkdir(parents=True, exist_ok=True)
    for p in (DB, DB.with_name(DB.name + "-journal")):
        p.unlink(missing_ok=True)
    for old in WORK.glob("built-*"):
        old.unlink()
    rng = random.Random(20240501)
    con = sqlite3.connect(DB)
    con.executescript(SCHEMA)
    con.execute("INSERT INTO android_metadata VALUES ('en_US')")
    threads = 400
    numbers = [f"+1555{rng.randrange(10**6, 10**7)}" for _ in range(threads)]
    con.executemany("INSERT INTO canonical_addresses (_id, address) VALUES (?, ?)", enumerate(numbers, 1))
    con.executemany("INSERT INTO threads (_id, recipient_ids) VALUES (?, ?)", [(i, str(i)) for i in range(1, threads + 1)])
    start = 1_388_534_400_000  # 2014-01-01 in ms
    date = start
    batch = []
    for i in range(1, rows + 1):
        date += rng.randrange(1_000, 300_000)
        thread = rng.randrange(1, threads + 1)
        kind = 1 if rng.random() < 0.55 else 2
        sent = date - rng.randrange(500, 20_000) if kind == 1 else 0
        batch.append((i, thread, numbers[thread - 1], date, sent, 0, 1, -1, kind, 0, None, body(rng),
                      "+15550000000" if kind == 1 else None, 0, 1, 0, "com.android.messaging", 1))
        if len(batch) == 50_000:
            con.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, protocol, read, status, type, "
                            "reply_path_present, subject, body, service_center, locked, sub_id, error_code, creator, seen) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        con.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, protocol, read, status, type, "
                        "reply_path_present, subject, body, service_center, locked, sub_id, error_code, creator, seen) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    con.commit()
    con.close()
    marker.write_text(str(rows))


def child_env() -> dict[str, str]:
    """As bench/run.py: no PYTHON* variables of the calling shell, bytecode cache under bench/work."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / "bench" / "work" / "pycache")
    return env


def command() -> list[str]:
    return [str(EVKIT), "parse", "--profile", "android.sms", "--json", str(CASE)]


def timed_run(env: dict[str, str]) -> float:
    with open(os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.run(command(), stdout=out, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"evkit exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return elapsed


def check(env: dict[str, str], rows: int) -> None:
    proc = subprocess.run(command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"evkit exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    lines = proc.stdout.splitlines()
    if len(lines) != rows:
        raise SystemExit(f"expected {rows} records, got {len(lines)}")
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    first, last = (con.execute(f"SELECT body FROM sms ORDER BY date {o}, _id {o} LIMIT 1").fetchone()[0] for o in ("ASC", "DESC"))
    con.close()
    if json.loads(lines[0])["data"]["body"] != first or json.loads(lines[-1])["data"]["body"] != last:
        raise SystemExit("first or last record does not match the database")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    build(args.rows)
    print(f"input: {DB.relative_to(ROOT)} ({DB.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows; ready in {time.perf_counter() - t0:.1f} s)")
    env = child_env()
    check(env, args.rows)
    times = [timed_run(env) for _ in range(args.rounds)]
    median = statistics.median(times)
    rate = args.rows / median
    result = {
        "benchmark": "parse android.sms", "command": " ".join(command()).replace(str(ROOT) + "/", ""),
        "rows": args.rows, "rounds": args.rounds, "times_s": [round(t, 3) for t in times],
        "median_s": round(median, 3), "rows_per_s": round(rate), "goal_rows_per_s": GOAL, "pass": rate >= GOAL,
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "nproc": os.cpu_count(),
        "loadavg": os.getloadavg(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (WORK / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"times: {', '.join(f'{t:.2f} s' for t in times)}; median {median:.2f} s")
    print(f"{rate:,.0f} rows/s (goal >= {GOAL:,}): {'PASS' if result['pass'] else 'FAIL'}")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
