#!/usr/bin/env python3
"""evkit benchmarks: evkit against the tool an examiner would otherwise use.

Run from anywhere as ``.venv/bin/python bench/run.py [--only NAME[,NAME]] [--rounds N]``.
Python standard library only.

Method, the same for every comparison:

* missing inputs are built under ``bench/work/`` (git-ignored) from fixed seeds, then reused;
* one untimed run of each tool warms the page cache (its output is also used for the checks:
  same digests, same bytes, similar entry counts);
* then N rounds, each timing both tools in the same process of measurement, alternating the
  order (round 1: evkit then reference, round 2: reference then evkit, ...);
* every run is a whole process (start-up included), stdout to /dev/null for both, stderr to a
  temporary file for both, timed with ``time.perf_counter`` around spawn and wait;
* both run with the same environment: every ``PYTHON*`` variable of the calling shell removed
  and the bytecode cache under ``bench/work/pycache`` (see :func:`child_env`);
* nothing is dropped: the result is the median of the per-round ratios (the machine is shared
  and noisy, so ratios from the same round are quoted, not seconds).

Peak memory (the ``memory`` benchmark) is what ``/usr/bin/time -f %M`` prints for the command.

Results go to ``bench/results.json`` (a run with ``--only`` replaces just those entries).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("bench") / "work"  # every path below is relative to ROOT (commands run with cwd=ROOT)
RESULTS = ROOT / "bench" / "results.json"
EVKIT = ".venv/bin/evkit"
TIME = "/usr/bin/time"  # GNU time (Debian package `time`), for peak RSS
MiB = 1024 * 1024
GiB = 1024 * MiB

# Inputs (all under bench/work/).
RANDOM_1G = WORK / "random_1g.raw"
SPARSE_10G = WORK / "sparse_10g.raw"
RANDOM_NOFS = WORK / "random_nofs_16m.raw"
LS_TREE = WORK / "ls_tree"
LS_IMG = WORK / "ls_50k.ext4"
CAT_TREE = WORK / "cat_tree"
CAT_IMG = WORK / "cat_512m.ext4"

SEED_RANDOM_1G = 20240611
SEED_BIG_BIN = 20240612
LS_TOP, LS_SUB, LS_FILES = 25, 20, 100  # 25 * 20 leaf folders * 100 files = 50,000 files (+525 folders)
FIXED_MTIME = 1_700_000_000  # 2023-11-14T22:13:20Z, so the folder tree (and image) is the same every build
FS_UUID = "5c3b0a3e-0000-4000-8000-0000000e1c17"
FS_HASH_SEED = "5c3b0a3e-0000-4000-8000-0000000e1c18"

ALGOS = "md5,sha1,sha256"


class BenchError(RuntimeError):
    pass


def child_env() -> dict[str, str]:
    """The environment of every measured command (the same for evkit and the reference tool).

    An examiner's shell does not set ``PYTHONUNBUFFERED`` (which turns each output line of
    ``evkit ls`` into its own write system call) nor ``PYTHONDONTWRITEBYTECODE`` (which makes
    every start recompile evkit's modules), but CI and agent shells often do: every ``PYTHON*``
    variable is dropped, and the bytecode cache goes to ``bench/work/pycache`` (filled by the
    warm-up run) so nothing is written into ``src/``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / WORK / "pycache")
    return env


ENV = child_env()
DROPPED_ENV = sorted(k for k in os.environ if k.startswith("PYTHON"))


# --------------------------------------------------------------------------------------------
# Running processes
# --------------------------------------------------------------------------------------------

def shell_line(cmd: list[str]) -> str:
    return " ".join(_quote(c) for c in cmd)


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[A-Za-z0-9_./,:=%+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def run_timed(cmd: list[str]) -> float:
    """Run ``cmd`` (cwd=ROOT, stdout to /dev/null, stderr to a temporary file): wall seconds."""
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdin=subprocess.DEVNULL, stdout=null, stderr=err)
        rc = proc.wait()
        t1 = time.perf_counter()
        if rc != 0:
            err.seek(0)
            raise BenchError(f"{shell_line(cmd)} exited {rc}: {err.read().decode(errors='replace')[-2000:]}")
    return t1 - t0


def run_peak_rss(cmd: list[str]) -> tuple[int, float]:
    """Peak RSS (KiB) of ``cmd`` as ``/usr/bin/time -f %M`` reports it, and wall seconds.

    Not ``os.wait4`` from here: Linux carries the pre-exec high-water mark of the forked child (a
    copy of this Python process, which has held 64 MiB blocks while building inputs) into
    ``ru_maxrss``; GNU time forks from a tiny process, so its figure is the command's own.
    """
    with tempfile.NamedTemporaryFile("r") as out:
        t = run_timed([TIME, "-f", "%M", "-o", out.name, *cmd])
        return int(out.read().strip().splitlines()[-1]), t


def run_captured(cmd: list[str], keep: int = 1 * MiB) -> dict[str, Any]:
    """Run ``cmd`` streaming stdout: its MD5, byte and line counts, and the first ``keep`` bytes."""
    md5 = hashlib.md5()
    nbytes = nlines = 0
    head = bytearray()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        while block := proc.stdout.read(4 * MiB):
            md5.update(block)
            nbytes += len(block)
            nlines += block.count(b"\n")
            if len(head) < keep:
                head += block[: keep - len(head)]
        proc.stdout.close()
        rc = proc.wait()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if rc != 0:
        raise BenchError(f"{shell_line(cmd)} exited {rc}: {stderr[-2000:]}")
    return {"md5": md5.hexdigest(), "bytes": nbytes, "lines": nlines, "head": bytes(head), "stderr": stderr}


def tool_output(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (out.stdout + out.stderr).strip()


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def _abs(p: Path) -> Path:
    return ROOT / p


def _write_random(path: Path, size: int, seed: int, block: int = 64 * MiB, rename: bool = True) -> None:
    """``size`` bytes from a seeded PRNG (distinct 64 MiB blocks), written to a temp name then renamed."""
    rng = random.Random(seed)
    tmp = path.with_name(path.name + ".part") if rename else path
    with open(tmp, "wb") as fh:
        left = size
        while left:
            n = min(block, left)
            fh.write(rng.randbytes(n))
            left -= n
    if rename:
        os.replace(tmp, path)


def _mke2fs(tree: Path, image: Path, size: str, extra: list[str]) -> None:
    tmp = image.with_name(image.name + ".part")
    if tmp.exists():
        tmp.unlink()
    cmd = ["mke2fs", "-q", "-F", "-t", "ext4", *extra, "-U", FS_UUID, "-E", f"hash_seed={FS_HASH_SEED}",
           "-d", str(tree), str(tmp), size]
    print(f"  building {image}: {shell_line(cmd)}", flush=True)
    env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(FIXED_MTIME))
    subprocess.run(cmd, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    os.replace(tmp, image)


def _stamp_ext4(part: Path) -> None:
    """Write an ext4 superblock, group tables and journal over ``part`` in place, keeping other bytes.

    ``evkit hash`` opens its argument as evidence and refuses media with no recognised volume
    system or filesystem (see ``raw_without_filesystem`` in the results), so the hash inputs carry
    an ext4 header; ``-E nodiscard`` keeps mke2fs from punching out the unused blocks, which keep
    their content (random bytes, or holes for the sparse file).
    """
    cmd = ["mke2fs", "-q", "-F", "-t", "ext4", "-U", FS_UUID, "-E", f"nodiscard,hash_seed={FS_HASH_SEED}", str(part)]
    env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(FIXED_MTIME))
    subprocess.run(cmd, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)


def _has_ext4(p: Path) -> bool:
    with open(p, "rb") as fh:
        fh.seek(1024 + 56)
        return fh.read(2) == b"\x53\xef"


def ensure_random_1g() -> Path:
    p = _abs(RANDOM_1G)
    if not (p.exists() and p.stat().st_size == GiB and _has_ext4(p)):
        print(f"  building {RANDOM_1G} (1 GiB, seed {SEED_RANDOM_1G}, ext4 header over random bytes)", flush=True)
        p.parent.mkdir(parents=True, exist_ok=True)
        part = p.with_name(p.name + ".part")
        _write_random(part, GiB, SEED_RANDOM_1G, rename=False)
        _stamp_ext4(part.relative_to(ROOT))
        os.replace(part, p)
    return RANDOM_1G


def ensure_random_nofs() -> Path:
    p = _abs(RANDOM_NOFS)
    if not (p.exists() and p.stat().st_size == 16 * MiB):
        p.parent.mkdir(parents=True, exist_ok=True)
        _write_random(p, 16 * MiB, SEED_RANDOM_1G)
    return RANDOM_NOFS


def ensure_sparse_10g() -> Path:
    p = _abs(SPARSE_10G)
    if not (p.exists() and p.stat().st_size == 10 * GiB and _has_ext4(p)):
        print(f"  building {SPARSE_10G} (10 GiB sparse, ext4 header, the rest holes)", flush=True)
        p.parent.mkdir(parents=True, exist_ok=True)
        part = p.with_name(p.name + ".part")
        with open(part, "wb") as fh:
            fh.truncate(10 * GiB)
        _stamp_ext4(part.relative_to(ROOT))
        os.replace(part, p)
    return SPARSE_10G


def ls_files() -> int:
    return LS_TOP * LS_SUB * LS_FILES


def ensure_ls_image() -> Path:
    img = _abs(LS_IMG)
    if img.exists():
        return LS_IMG
    tree = _abs(LS_TREE)
    stamp = tree / ".complete"
    if not stamp.exists():
        print(f"  building {LS_TREE} ({ls_files()} files in {LS_TOP * LS_SUB} folders)", flush=True)
        if tree.exists():
            shutil.rmtree(tree)
        n = 0
        for d in range(LS_TOP):
            for s in range(LS_SUB):
                folder = tree / f"d{d:02d}" / f"s{s:02d}"
                folder.mkdir(parents=True)
                for _ in range(LS_FILES):
                    f = folder / f"f{n:05d}.txt"
                    f.write_bytes(f"file {n:05d}\n".encode() * (1 + n % 40))  # 11..440 bytes
                    os.utime(f, (FIXED_MTIME, FIXED_MTIME))
                    n += 1
                os.utime(folder, (FIXED_MTIME, FIXED_MTIME))
            os.utime(tree / f"d{d:02d}", (FIXED_MTIME, FIXED_MTIME))
        stamp.touch()
    # The stamp file must not end up in the image.
    stage = tree.with_name(tree.name + ".stage")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    for d in sorted(tree.iterdir()):
        if d.is_dir():
            os.rename(d, stage / d.name)
    os.utime(stage, (FIXED_MTIME, FIXED_MTIME))
    try:
        _mke2fs(stage.relative_to(ROOT), LS_IMG, "400M", ["-N", "60000"])
    finally:
        for d in sorted(stage.iterdir()):
            os.rename(d, tree / d.name)
        stage.rmdir()
    return LS_IMG


def ensure_cat_image() -> Path:
    img = _abs(CAT_IMG)
    big = _abs(CAT_TREE / "big.bin")
    if not (big.exists() and big.stat().st_size == 512 * MiB):
        print(f"  building {CAT_TREE / 'big.bin'} (512 MiB, seed {SEED_BIG_BIN})", flush=True)
        big.parent.mkdir(parents=True, exist_ok=True)
        if img.exists():
            img.unlink()
        _write_random(big, 512 * MiB, SEED_BIG_BIN)
        os.utime(big, (FIXED_MTIME, FIXED_MTIME))
        os.utime(big.parent, (FIXED_MTIME, FIXED_MTIME))
    if not img.exists():
        _mke2fs(CAT_TREE, CAT_IMG, "600M", [])
    return CAT_IMG


def file_md5(path: Path) -> str:
    h = hashlib.md5()
    with open(_abs(path), "rb") as fh:
        while block := fh.read(8 * MiB):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Timing two commands
# --------------------------------------------------------------------------------------------

def compare(name: str, evkit_cmd: list[str], ref_name: str, ref_cmd: list[str], rounds: int,
            ratio: Callable[[float, float], float], ratio_text: str, goal_text: str,
            passed: Callable[[float], bool]) -> dict[str, Any]:
    """Time ``evkit_cmd`` against ``ref_cmd`` for ``rounds`` alternating rounds (after warm-up)."""
    times: dict[str, list[float]] = {"evkit": [], ref_name: []}
    order: list[list[str]] = []
    ratios: list[float] = []
    cmds = {"evkit": evkit_cmd, ref_name: ref_cmd}
    for r in range(rounds):
        seq = ["evkit", ref_name] if r % 2 == 0 else [ref_name, "evkit"]
        order.append(seq)
        got = {}
        for who in seq:
            got[who] = t = run_timed(cmds[who])
            times[who].append(t)
        ratios.append(ratio(got["evkit"], got[ref_name]))
        print(f"  {name} round {r + 1}/{rounds} ({seq[0]} first): evkit {got['evkit']:.3f}s, "
              f"{ref_name} {got[ref_name]:.3f}s, ratio {ratios[-1]:.3f}", flush=True)
    med = statistics.median(ratios)
    return {
        "commands": {"evkit": shell_line(evkit_cmd), ref_name: shell_line(ref_cmd)},
        "reference_tool": ref_name,
        "rounds": rounds,
        "order": order,
        "times_s": times,
        "median_times_s": {k: statistics.median(v) for k, v in times.items()},
        "ratio_definition": ratio_text,
        "ratios": ratios,
        "median_ratio": med,
        "goal": goal_text,
        "passed": passed(med),
    }


# --------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------

def _parse_hashdeep(text: str) -> dict[str, str]:
    rows = [ln for ln in text.splitlines() if ln and not ln.startswith(("%", "#"))]
    if len(rows) != 1:
        raise BenchError(f"unexpected hashdeep output: {text!r}")
    size, md5, sha1, sha256, _ = rows[0].split(",", 4)
    return {"size": int(size), "md5": md5, "sha1": sha1, "sha256": sha256}


def bench_hash(rounds: int) -> dict[str, Any]:
    img = ensure_random_1g()
    evkit_cmd = [EVKIT, "hash", "--algo", ALGOS, "--json", str(img)]
    ref_cmd = ["hashdeep", "-c", ALGOS, str(img)]
    # Warm-up (untimed), also the correctness check.
    ev = json.loads(run_captured(evkit_cmd)["head"])
    hd = _parse_hashdeep(run_captured(ref_cmd)["head"].decode())
    same = all(ev[a] == hd[a] for a in ("md5", "sha1", "sha256")) and ev["size"] == hd["size"]
    res = compare("hash", evkit_cmd, "hashdeep", ref_cmd, rounds,
                  ratio=lambda e, r: r / e, ratio_text="hashdeep_time / evkit_time (speed-up of evkit)",
                  goal_text="evkit at least 4x the speed of hashdeep (ratio >= 4)", passed=lambda m: m >= 4)
    res["input"] = {"path": str(img), "size": GiB,
                    "content": f"seeded PRNG bytes (random.Random({SEED_RANDOM_1G})) with an ext4 header written over "
                               "them by mke2fs -E nodiscard (about 97% of the 4 KiB blocks stay random)"}
    # evkit refuses a raw file with no recognised filesystem: record it (does not affect pass/fail).
    nofs = ensure_random_nofs()
    probe = subprocess.run([EVKIT, "hash", "--algo", ALGOS, "--json", str(nofs)], cwd=ROOT, env=ENV,
                           capture_output=True, text=True)
    res["checks"] = {"same_digests": same, "evkit": {a: ev[a] for a in ("md5", "sha1", "sha256")},
                     "hashdeep": {a: hd[a] for a in ("md5", "sha1", "sha256")},
                     "raw_without_filesystem": {"command": shell_line([EVKIT, "hash", "--algo", ALGOS, "--json", str(nofs)]),
                                                "exit_code": probe.returncode, "stderr": probe.stderr.strip()}}
    if not same:
        res["passed"] = False
    return res


def bench_ls(rounds: int) -> dict[str, Any]:
    img = ensure_ls_image()
    evkit_cmd = [EVKIT, "ls", "-r", "--json", str(img)]
    ref_cmd = ["fls", "-r", "-p", str(img)]
    ev = run_captured(evkit_cmd)
    fl = run_captured(ref_cmd)
    res = compare("ls", evkit_cmd, "fls", ref_cmd, rounds,
                  ratio=lambda e, r: e / r, ratio_text="evkit_time / fls_time (how many times slower evkit is)",
                  goal_text="evkit time at most 4x fls time (ratio <= 4)", passed=lambda m: m <= 4)
    res["input"] = {"path": str(img), "files": ls_files(), "folders": LS_TOP * LS_SUB + LS_TOP,
                    "built_with": f"mke2fs -t ext4 -N 60000 -d {LS_TREE} (400M)"}
    res["checks"] = {"evkit_lines": ev["lines"], "fls_lines": fl["lines"], "evkit_bytes": ev["bytes"],
                     "fls_bytes": fl["bytes"], "line_count_difference": ev["lines"] - fl["lines"]}
    return res


def bench_cat(rounds: int) -> dict[str, Any]:
    img = ensure_cat_image()
    found = subprocess.run(["ifind", "-n", "/big.bin", str(img)], cwd=ROOT, capture_output=True, text=True, check=True)
    inode = found.stdout.strip()
    if not inode.isdigit():
        raise BenchError(f"ifind -n /big.bin {img}: {found.stdout!r}")
    evkit_cmd = [EVKIT, "cat", str(img), "/big.bin"]
    ref_cmd = ["icat", str(img), inode]
    ev = run_captured(evkit_cmd, keep=0)
    ic = run_captured(ref_cmd, keep=0)
    src_md5 = file_md5(CAT_TREE / "big.bin")
    same = ev["md5"] == ic["md5"] == src_md5 and ev["bytes"] == ic["bytes"] == 512 * MiB
    res = compare("cat", evkit_cmd, "icat", ref_cmd, rounds,
                  ratio=lambda e, r: r / e, ratio_text="icat_time / evkit_time (evkit speed as a fraction of icat's)",
                  goal_text="evkit at least 70% of icat's speed (ratio >= 0.7)", passed=lambda m: m >= 0.7)
    res["input"] = {"path": str(img), "file": "/big.bin", "inode": int(inode), "size": 512 * MiB,
                    "content": f"seeded PRNG bytes (random.Random({SEED_BIG_BIN}))",
                    "built_with": f"mke2fs -t ext4 -d {CAT_TREE} (600M)"}
    res["checks"] = {"same_md5": same, "evkit_md5": ev["md5"], "icat_md5": ic["md5"], "source_md5": src_md5,
                     "evkit_bytes": ev["bytes"], "icat_bytes": ic["bytes"]}
    if not same:
        res["passed"] = False
    return res


def bench_memory(rounds: int) -> dict[str, Any]:
    sparse, dense, img = ensure_sparse_10g(), ensure_random_1g(), ensure_ls_image()
    cases = {
        "hash_10g_sparse": [EVKIT, "hash", "--algo", ALGOS, str(sparse)],
        "hash_1g_random": [EVKIT, "hash", "--algo", ALGOS, str(dense)],
        "ls_50k_json": [EVKIT, "ls", "-r", "--json", str(img)],
    }
    out: dict[str, Any] = {}
    run_timed(cases["ls_50k_json"])  # untimed: fills the bytecode cache, so no round pays for compiling
    for key, cmd in cases.items():
        kib, secs = [], []
        for r in range(rounds):
            m, t = run_peak_rss(cmd)
            kib.append(m)
            secs.append(t)
            print(f"  memory {key} round {r + 1}/{rounds}: peak RSS {m / 1024:.1f} MiB ({t:.2f}s)", flush=True)
        out[key] = {"command": shell_line([TIME, "-f", "%M", *cmd]), "peak_rss_kib": kib, "max_peak_rss_mib": max(kib) / 1024,
                    "median_peak_rss_mib": statistics.median(kib) / 1024, "times_s": secs}
    big = out["hash_10g_sparse"]["max_peak_rss_mib"]
    small = out["hash_1g_random"]["max_peak_rss_mib"]
    flat = big / small
    return {
        "commands": {k: v["command"] for k, v in out.items()},
        "rounds": rounds,
        "measurement": "peak RSS from /usr/bin/time -f %M (KiB), max over rounds (one untimed ls run first fills the bytecode cache; the page cache is not in RSS)",
        "cases": out,
        "goal": "peak RSS of hashing 10 GiB below 200 MiB; hash RSS flat between 1 GiB and 10 GiB",
        "median_ratio": flat,
        "ratio_definition": "peak RSS hashing 10 GiB / peak RSS hashing 1 GiB (1.0 = flat)",
        "checks": {"hash_10g_peak_mib": big, "hash_1g_peak_mib": small, "ls_50k_peak_mib": out["ls_50k_json"]["max_peak_rss_mib"],
                   "flat": flat <= 1.25},
        "passed": big < 200 and flat <= 1.25,
    }


BENCHMARKS: dict[str, tuple[Callable[[int], dict[str, Any]], int]] = {
    "hash": (bench_hash, 5),
    "ls": (bench_ls, 7),
    "cat": (bench_cat, 5),
    "memory": (bench_memory, 3),
}


# --------------------------------------------------------------------------------------------
# Machine facts, table, main
# --------------------------------------------------------------------------------------------

def _loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


def machine_facts() -> dict[str, Any]:
    cpu, flags, mem_kib = "unknown", "", 0
    try:
        info = Path("/proc/cpuinfo").read_text()
        if m := re.search(r"^model name\s*:\s*(.+)$", info, re.M):
            cpu = m.group(1).strip()
        if m := re.search(r"^flags\s*:\s*(.+)$", info, re.M):
            flags = m.group(1)
        if m := re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M):
            mem_kib = int(m.group(1))
    except OSError:
        pass
    load = _loadavg()
    commit = tool_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = tool_output(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": os.cpu_count(),
        "nproc_cmd": tool_output(["nproc"]),
        "cpu_model": cpu,
        "cpu_sha_ni": " sha_ni " in f" {flags} ",
        "memory_mib": mem_kib // 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "tsk_version": tool_output(["fls", "-V"]),
        "hashdeep_version": tool_output(["hashdeep", "-V"]),
        "evkit_version": tool_output([EVKIT, "--version"]).replace("\n", "; "),
        "git_commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "loadavg_at_start": load,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "child_environment": {"dropped": DROPPED_ENV, "PYTHONPYCACHEPREFIX": ENV["PYTHONPYCACHEPREFIX"]},
    }


def print_table(results: dict[str, Any]) -> None:
    rows = [("benchmark", "rounds", "median ratio", "goal", "result")]
    for name, r in results.items():
        if "error" in r:
            rows.append((name, "-", "-", "-", f"ERROR: {r['error'][:60]}"))
            continue
        if name == "memory":
            c = r["checks"]
            ratio = f"{c['hash_10g_peak_mib']:.1f} MiB (1G: {c['hash_1g_peak_mib']:.1f}; ls: {c['ls_50k_peak_mib']:.1f})"
        else:
            ratio = f"{r['median_ratio']:.3f}"
        rows.append((name, str(r["rounds"]), ratio, r["goal"], "PASS" if r["passed"] else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[],
                    help=f"benchmark(s) to run, comma-separated or repeated: {', '.join(BENCHMARKS)}")
    ap.add_argument("--rounds", type=int, help="rounds for every selected benchmark (default: hash 5, ls 7, cat 5, memory 3)")
    args = ap.parse_args(argv)
    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if args.rounds is not None and args.rounds < 1:
        ap.error("--rounds must be at least 1")
    for tool in ("fls", "icat", "ifind", "hashdeep", "mke2fs"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} not found on PATH", file=sys.stderr)
            return 2
    if "memory" in names and not os.access(TIME, os.X_OK):
        print(f"bench: {TIME} missing (apt-get install time)", file=sys.stderr)
        return 2
    if not (ROOT / EVKIT).exists():
        print(f"bench: {EVKIT} missing (run `make test` or `make bench` to build .venv)", file=sys.stderr)
        return 2
    _abs(WORK).mkdir(parents=True, exist_ok=True)

    facts = machine_facts()
    print(f"machine: {facts['nproc']} CPUs ({facts['cpu_model']}), {facts['memory_mib']} MiB, kernel {facts['kernel']}, "
          f"Python {facts['python']}, {facts['tsk_version']}, hashdeep {facts['hashdeep_version']}", flush=True)
    results: dict[str, Any] = {}
    for name in names:
        fn, default_rounds = BENCHMARKS[name]
        rounds = args.rounds or default_rounds
        print(f"== {name} ({rounds} rounds)", flush=True)
        load_before = _loadavg()
        try:
            res = fn(rounds)
        except (BenchError, subprocess.CalledProcessError, OSError) as exc:
            print(f"bench: {name} failed: {exc}", file=sys.stderr)
            res = {"error": str(exc), "passed": False}
        res["date"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # when it finished
        res["loadavg_at_start"], res["loadavg_at_end"] = load_before, _loadavg()
        results[name] = res

    stored: dict[str, Any] = {}
    if RESULTS.exists() and set(names) != set(BENCHMARKS):
        try:
            stored = json.loads(RESULTS.read_text()).get("benchmarks", {})
        except (OSError, ValueError):
            stored = {}
    stored.update(results)
    ordered = {n: stored[n] for n in BENCHMARKS if n in stored}
    RESULTS.write_text(json.dumps({"machine": facts, "benchmarks": ordered}, indent=2) + "\n")
    print()
    print_table(results)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(r.get("passed") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
