"""The fuzzing harness (tests/fuzz) in CI: a fixed, small campaign, so the suite stays short.

Each seed kind (EWF, GPT and MBR raw images, a tar extraction, an adb backup, a profile) gets the
same four mutated cases every run; a finding (a traceback, an internal error, an undocumented
exit code, a hang) fails the test and names the case to replay. Longer runs:
``python -m tests.fuzz --minutes 30`` (docs/fuzzing.md).
"""

from __future__ import annotations

from pathlib import Path

from tests.fuzz.harness import campaign, seeds


def test_a_fixed_campaign_finds_no_traceback_hang_or_stray_exit_code(tmp_path: Path) -> None:
    found = campaign(sorted(seeds()), range(4), tmp_path)
    assert not found, "\n".join(map(str, found))
