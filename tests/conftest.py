"""Shared fixtures: where the third-party corpus and the sample images are, and how to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"
EVKIT = Path(sys.executable).parent / "evkit"


def corpus_dir() -> Path:
    return Path(os.environ.get("EVKIT_CORPUS") or ROOT.parent / "shared" / "corpus")


def need_corpus(rel: str = "README.md") -> Path:
    """The corpus folder, once ``rel`` inside it is there. Absent, the test skips with the reason,
    except under CI, where the corpus is always laid out and its absence is a failure."""
    path = corpus_dir()
    if not (path / rel).exists():
        reason = f"third-party corpus not found at {path} (set EVKIT_CORPUS): {rel} missing"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def corpus() -> Path:
    return need_corpus()


@pytest.fixture(scope="session")
def samples() -> Path:
    if not (SAMPLES / "truth" / "images.json").is_file():
        pytest.skip("sample images not generated (run `make samples`)")
    return SAMPLES


def evkit(*args: str, input: bytes | None = None, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """Run the installed console script as an examiner would."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    proc = subprocess.run([str(EVKIT), *args], capture_output=True, input=input, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"evkit {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess[bytes], code: int) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]
