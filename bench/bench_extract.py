#!/usr/bin/env python3
"""Extraction benchmark: ``evkit extract`` (copy + MD5 + SHA-256 of every file, case records,
custody event, bag manifests, evidence re-check) against ``tsk_recover -a`` (copy only) on an
ext4 image holding 20,000 files of about 600 MB.

Run as ``.venv/bin/python bench/bench_extract.py [--rounds N]``; stdlib only, uses the helpers of
``bench/run.py`` (same environment, timing and alternation). Each run writes into a folder of its
own, never used before: a new case for evkit (made and the evidence added outside the timing:
`case add` hashes the whole media, which `tsk_recover` does not do) and a new folder for
tsk_recover. The disk is synced (untimed) before each timed run, so neither tool pays for the
other's writeback. Outputs are deleted two rounds later, never just before a run of the same tool:
deleting a tool's previous output just before its next run made that run several times slower on
these machines' virtual disks (with alternating order the per-round ratios swung between 1.3 and
12), and keeping every output made later rounds slower on a tmpfs. ``--out DIR`` puts both outputs
elsewhere, e.g. on a tmpfs, which leaves only the CPU work. Goal: evkit_time / tsk_recover_time <=
1.5 (median of per-round ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as harness  # noqa: E402  (the sibling harness: same timing and environment)

ROOT = harness.ROOT
WORK = ROOT / "bench" / "work"
IMAGE = WORK / "extract_20k.ext4"
EVKIT = ROOT / ".venv" / "bin" / "evkit"
FILES = 20_000


def ensure_image() -> Path:
    if IMAGE.exists():
        return IMAGE
    tree = WORK / "extract_tree"
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(20241127)
    blob = rng.randbytes(1 << 20)
    for i in range(FILES):
        d = tree / f"d{i // 200:03d}"
        d.mkdir(parents=True, exist_ok=True)
        n = rng.randint(1000, 59000)
        off = rng.randint(0, len(blob) - n)
        (d / f"f{i:05d}.bin").write_bytes(blob[off:off + n])
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-N", str(FILES + 1000), "-d", str(tree), str(IMAGE), "900M"], check=True)
    shutil.rmtree(tree)
    return IMAGE


def fresh_case(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([str(EVKIT), "-q", "case", "init", str(path), "--case-number", "BENCH", "--examiner", "bench"],
                   check=True, env=harness.ENV)
    subprocess.run([str(EVKIT), "-q", "case", "add", str(path), str(IMAGE), "--evidence-number", "E1"],
                   check=True, env=harness.ENV, stdout=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=WORK,
                    help="where both tools write (default bench/work; a tmpfs such as /dev/shm takes the shared disk's writeback out of the figure)")
    args = ap.parse_args()
    ensure_image()
    runs = args.out / "extract_runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    ratios, times = [], {"evkit": [], "tsk_recover": []}
    times_in_order: list[dict[str, float]] = []
    for r in range(args.rounds + 1):
        seq = ["evkit", "tsk_recover"] if r % 2 == 0 else ["tsk_recover", "evkit"]
        got = {}
        case, out = runs / f"case{r}", runs / f"tsk{r}"
        for old in (runs / f"case{r - 2}", runs / f"tsk{r - 2}"):  # two rounds old: never the runs just before
            shutil.rmtree(old, ignore_errors=True)
        evkit_cmd = [str(EVKIT), "extract", str(case)]
        tsk_cmd = ["tsk_recover", "-a", str(IMAGE), str(out)]
        for who in seq:
            if who == "evkit":
                fresh_case(case)
                os.sync()  # the previous run's dirty pages are flushed before, not during, this one
                got[who] = harness.run_timed(evkit_cmd)
            else:
                out.mkdir()
                os.sync()
                got[who] = harness.run_timed(tsk_cmd)
        if r == 0:
            print(f"warm-up: evkit {got['evkit']:.2f}s, tsk_recover {got['tsk_recover']:.2f}s", flush=True)
            continue
        times_in_order.append({who: round(got[who], 3) for who in seq})
        for k, v in got.items():
            times[k].append(v)
        ratios.append(got["evkit"] / got["tsk_recover"])
        print(f"round {r}/{args.rounds} ({seq[0]} first): ratio {ratios[-1]:.3f}", flush=True)
    extracted = sum(1 for p in (case / "data").rglob("*") if p.is_file())
    recovered = sum(1 for p in out.rglob("*") if p.is_file())
    shutil.rmtree(runs)
    med = statistics.median(ratios)
    result = {"commands": {"evkit": harness.shell_line(evkit_cmd), "tsk_recover": harness.shell_line(tsk_cmd)},
              "times_in_order": times_in_order,
              "output_folder": str(args.out), "rounds": args.rounds, "ratios": ratios, "median_ratio": med, "times_s": times,
              "goal": "evkit_time / tsk_recover_time <= 1.5", "passed": med <= 1.5,
              "files": {"evkit": extracted, "tsk_recover": recovered}, "machine": harness.machine_facts()}
    (WORK / "bench_extract.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("median_ratio", "passed", "files")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
