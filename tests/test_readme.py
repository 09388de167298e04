"""The README's commands run as written, in order, from a copy of the repository's samples.

Every ```sh block is run as one bash script (``set -euo pipefail``) with ``.venv/bin`` first on the
PATH, in a temporary folder holding README.md and sample_images/ as a fresh clone has them; every
```python block is run with the same interpreter. A block followed by a
``<!-- readme-test: skip (reason) -->`` line is not run (it builds the venv, or stays in the
foreground). So a README command that stops working fails here, not in an examiner's hands.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BLOCK = re.compile(r"```(sh|python)\n(.*?)```\n(<!-- readme-test: skip[^>]*-->)?", re.S)


def blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(lang, body) for lang, body, skip in BLOCK.findall(text) if not skip]


def test_readme_has_commands_to_run() -> None:
    found = blocks()
    assert sum(1 for lang, _ in found if lang == "sh") >= 5 and any(lang == "python" for lang, _ in found)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (Debian: apt-get install jq)")
def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    work = tmp_path / "clone"
    work.mkdir()
    shutil.copy2(ROOT / "README.md", work / "README.md")
    shutil.copytree(ROOT / "sample_images", work / "sample_images")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NO_COLOR", None)
    for n, (lang, body) in enumerate(blocks(), start=1):
        if lang == "sh":
            cmd = ["bash", "-c", "set -euo pipefail\n" + body]
        else:
            cmd = [sys.executable, "-c", body]
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, timeout=900, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, (f"README block {n} ({lang}) exited {proc.returncode}:\n{body}\n"
                                      f"stderr: {proc.stderr.decode(errors='replace')[-3000:]}")
    # What the blocks claim, checked on what they left behind.
    assert (work / "History").stat().st_size > 0
    assert (work / "cases" / "EVK-1" / "signature.ed25519").is_file()
    assert (work / "summary.json").stat().st_size > 0
