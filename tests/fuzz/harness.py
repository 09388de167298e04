"""The harness itself (see the package docstring)."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_images"
EVKIT = Path(sys.executable).parent / "evkit"
EXIT_CODES = {0, 1, 2, 3, 4}
BOUNDARY = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63 - 1, 2**63, 2**64 - 1]


@dataclass(frozen=True)
class Seed:
    name: str
    path: Path
    suffix: str
    commands: tuple[tuple[str, ...], ...]   # FILE stands for the mutated file
    span: int                               # mutations land in the first ``span`` bytes (headers live there)


def seeds() -> dict[str, Seed]:
    image = (("info", "FILE"), ("ls", "-r", "FILE"), ("hash", "--verify", "FILE"))
    archive = (("ls", "-r", "FILE"), ("parse", "--hunt", "FILE"))
    return {
        "ewf": Seed("ewf", SAMPLES / "mbr_fat32_ntfs.E01", ".E01", image, 1 << 16),
        "gpt": Seed("gpt", SAMPLES / "gpt_ext4.raw", ".raw", image, 1 << 20),
        "mbr": Seed("mbr", SAMPLES / "mbr_fat32_ntfs.raw", ".raw", image, 1 << 20),
        "tar": Seed("tar", SAMPLES / "phone" / "android_ffs.tar", ".tar", archive, 1 << 16),
        "ab": Seed("ab", SAMPLES / "phone" / "android_backup.ab", ".ab", archive, 1 << 12),
        "profile": Seed("profile", ROOT / "profiles" / "android.sms.yaml", ".yaml",
                        (("profiles", "validate", "FILE"),), 1 << 12),
    }


def mutate(data: bytes, rng: random.Random, span: int) -> bytes:
    out = bytearray(data)
    span = min(span, len(out))
    for _ in range(rng.randint(1, 8)):
        kind = rng.random()
        at = rng.randrange(span)
        if kind < 0.5:
            out[at] ^= 1 << rng.randrange(8)
        elif kind < 0.9:
            width = rng.choice((1, 2, 4, 8))
            value = rng.choice(BOUNDARY) & ((1 << (8 * width)) - 1)
            out[at:at + width] = value.to_bytes(width, rng.choice(("little", "big")))[: len(out) - at]
        else:
            del out[rng.randrange(span, len(out) + 1) if rng.random() < 0.5 else at:]
            break
    return bytes(out)


@dataclass(frozen=True)
class Finding:
    seed: str
    case: int
    command: tuple[str, ...]
    why: str

    def __str__(self) -> str:
        return f"{self.seed} case {self.case}: evkit {' '.join(self.command)}: {self.why} (--seed {self.seed} --replay {self.case})"


def run_case(seed: Seed, case: int, work: Path, timeout: float = 30.0) -> Iterator[Finding]:
    rng = random.Random(f"{seed.name}:{case}")
    target = work / f"case{case}{seed.suffix}"
    target.write_bytes(mutate(seed.path.read_bytes(), rng, seed.span))
    try:
        for command in seed.commands:
            args = [str(target) if a == "FILE" else a for a in command]
            try:
                proc = subprocess.run([str(EVKIT), *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                                      cwd=work)
            except subprocess.TimeoutExpired:
                yield Finding(seed.name, case, command, f"no answer in {timeout:.0f} s (a hang)")
                continue
            err = proc.stderr.decode("utf-8", "replace")
            if "Traceback" in err or "internal error" in err:
                yield Finding(seed.name, case, command, err.strip().splitlines()[-1][:300])
            elif proc.returncode not in EXIT_CODES:
                yield Finding(seed.name, case, command, f"exit code {proc.returncode}")
    finally:
        target.unlink(missing_ok=True)


RUNS = [0]  # commands run by campaigns in this process (reported by main)


def campaign(names: list[str], cases: range, work: Path, deadline: float | None = None) -> list[Finding]:
    found: list[Finding] = []
    all_seeds = seeds()
    for case in cases:
        for name in names:
            if deadline is not None and time.monotonic() > deadline:
                return found
            found.extend(run_case(all_seeds[name], case, work))
            RUNS[0] += len(all_seeds[name].commands)
    return found


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("--seed", action="append", choices=sorted(seeds()), help="seed kind (repeatable; default: all)")
    ap.add_argument("--replay", type=int, help="run this one case only")
    ap.add_argument("--cases", type=int, default=1000, help="cases per seed (default 1000)")
    ap.add_argument("--minutes", type=float, help="stop after this long")
    args = ap.parse_args(argv)
    names = args.seed or sorted(seeds())
    cases = range(args.replay, args.replay + 1) if args.replay is not None else range(args.cases)
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
    with tempfile.TemporaryDirectory(prefix="evkit-fuzz-") as tmp:
        found = campaign(names, cases, Path(tmp), deadline)
    for f in found:
        print(f)
    print(f"{len(found)} finding(s) in {RUNS[0]:,} runs", file=sys.stderr)
    return 1 if found else 0

