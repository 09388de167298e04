#!/usr/bin/env python3
"""EXIF benchmark: ``evkit parse --profile exif --json`` against ``exiftool -r -json`` on
1,000 camera JPEGs.

Run from anywhere as ``.venv/bin/python bench/bench_exif.py [--rounds N] [--count N]``.
Python standard library only; needs ``exiftool`` on ``PATH`` and the real-data corpus
(``EVKIT_CORPUS`` or ``../shared/corpus``).

Method (the same as ``bench/run.py``):

* the input, ``bench/work/exif1000/`` (git-ignored; never inside the repository proper, the corpus
  files are not ours to relicense), holds copies of the corpus camera JPEGs (the Canon, Nikon,
  Samsung and Sony samples and the three GPS Nikons: 8 files, ~580 KiB) named
  ``NNNN_<original name>``, cycled to 1,000 files; it is rebuilt when incomplete;
* one untimed run of each tool warms the page cache and checks the outputs: 1,000 records from
  evkit, 1,000 objects from exiftool, and the same make/model/DateTimeOriginal for every file;
* then N rounds (default 5) timing both whole processes (start-up included), stdout to
  ``/dev/null``, alternating which goes first; every ``PYTHON*`` variable of the calling shell is
  removed and Python's bytecode cache goes to ``bench/work/pycache``;
* the figure is the median of the per-round ratios ``evkit_time / exiftool_time`` (goal: < 1,
  evkit faster); nothing is dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
INPUT = WORK / "exif1000"
EVKIT = ROOT / ".venv" / "bin" / "evkit"
CAMERA_JPEGS = ("jpg/Canon_40D.jpg", "jpg/Canon_PowerShot_S40.jpg", "jpg/Nikon_D70.jpg",
                "jpg/Samsung_Digimax_i50_MP3.jpg", "jpg/Sony_HDR-HC3.jpg", "jpg/gps/DSCN0010.jpg",
                "jpg/gps/DSCN0012.jpg", "jpg/gps/DSCN0021.jpg")


def corpus() -> Path:
    return Path(os.environ.get("EVKIT_CORPUS") or ROOT.parent / "shared" / "corpus")


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def build(count: int) -> list[Path]:
    source = corpus() / "exif" / "exif-samples"
    missing = [p for p in CAMERA_JPEGS if not (source / p).is_file()]
    if missing:
        raise SystemExit(f"corpus photos not found under {source}: {', '.join(missing)} (set EVKIT_CORPUS)")
    wanted = {f"{i:04d}_{Path(CAMERA_JPEGS[i % len(CAMERA_JPEGS)]).name}": CAMERA_JPEGS[i % len(CAMERA_JPEGS)]
              for i in range(count)}
    have = {p.name for p in INPUT.iterdir()} if INPUT.is_dir() else set()
    if have != set(wanted):
        shutil.rmtree(INPUT, ignore_errors=True)
        INPUT.mkdir(parents=True)
        for name, rel in wanted.items():
            shutil.copyfile(source / rel, INPUT / name)
    return [INPUT / name for name in sorted(wanted)]


def commands() -> tuple[list[str], list[str]]:
    rel = os.path.relpath(INPUT, ROOT)
    return ([str(EVKIT), "parse", "--profile", "exif", "--json", rel],
            ["exiftool", "-r", "-json", rel])


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    return took


def check(count: int) -> None:
    """Untimed runs: warm the cache, and both tools must agree on every file."""
    ev_cmd, et_cmd = commands()
    ev = subprocess.run(ev_cmd, cwd=ROOT, env=child_env(), capture_output=True, check=True)
    et = subprocess.run(et_cmd, cwd=ROOT, env=child_env(), capture_output=True, check=True)
    ours = {Path(r["path"]).name: r["data"] for r in map(json.loads, ev.stdout.decode().splitlines())}
    theirs = {Path(r["SourceFile"]).name: r for r in json.loads(et.stdout)}
    if len(ours) != count or len(theirs) != count:
        raise SystemExit(f"expected {count} records from each tool, got evkit {len(ours)}, exiftool {len(theirs)}")
    for name, r in theirs.items():
        mine = ours[name]
        want = (str(r.get("Make")), str(r.get("Model")), str(r.get("DateTimeOriginal")).replace(":", "-", 2).replace(" ", "T"))
        got = (mine["make"], mine["model"], mine["datetime_original"])
        if want != got:
            raise SystemExit(f"{name}: evkit {got} != exiftool {want}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args(argv)
    if shutil.which("exiftool") is None:
        raise SystemExit("exiftool not found on PATH")
    build(args.count)
    check(args.count)
    ev_cmd, et_cmd = commands()
    ratios = []
    for i in range(args.rounds):
        if i % 2 == 0:
            ev_t, et_t = timed(ev_cmd), timed(et_cmd)
        else:
            et_t, ev_t = timed(et_cmd), timed(ev_cmd)
        ratios.append(ev_t / et_t)
        print(f"round {i + 1}: evkit {ev_t:.3f} s, exiftool {et_t:.3f} s, evkit/exiftool {ev_t / et_t:.3f}", flush=True)
    median = statistics.median(ratios)
    print(json.dumps({"name": "exif", "files": args.count, "rounds": args.rounds,
                      "evkit_cmd": " ".join(ev_cmd), "exiftool_cmd": " ".join(et_cmd),
                      "ratios_evkit_over_exiftool": [round(r, 4) for r in ratios],
                      "median_ratio": round(median, 4), "goal": "median_ratio < 1", "met": median < 1}, indent=2))
    return 0 if median < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
