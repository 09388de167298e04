"""The PDF report on values that break print: a 200,000-character unbroken value (WeasyPrint's line
breaking grew quadratically: 20,000 characters took 60 s, 200,000 over 15 minutes), hashes and
times that must never be cut mid-token, and no "Views" column on paper. Not timed: the output
says what was printed."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import evkit
from tests.test_reports import make_sms_db


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from evkit.reports.pdf import pdf_available

    if pdf_available() is not None:
        pytest.skip(f"WeasyPrint unavailable: {pdf_available()}")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF")
    work = tmp_path_factory.mktemp("pdf")
    ev = work / "phone"
    make_sms_db(ev / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db",
                ["A" * 200_000, "short one"])
    case = work / "case"
    evkit("case", "init", str(case), "--case-number", "PDF-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(ev), "--evidence-number", "P1", check=True)
    evkit("run", str(case), "--profile", "android.sms", check=True)
    evkit("report", str(case), "--format", "pdf", check=True, timeout=600)
    text = subprocess.run(["pdftotext", "-layout", str(case / "data" / "reports" / "report.pdf"), "-"],
                          capture_output=True, check=True).stdout.decode("utf-8", "replace")
    return case, text


def test_a_huge_unbroken_value_is_cut_with_a_marker(printed: tuple[Path, str]) -> None:
    _, text = printed
    flat = re.sub(r"\s+", " ", text)
    assert "cut: 200,000 characters in all; the whole value is in the HTML report, CSV and XLSX" in flat
    assert 3000 <= text.count("A") < 10_000  # the first 3,000 characters of each copy are printed, wrapped


def test_hashes_and_times_are_never_cut_mid_token(printed: tuple[Path, str]) -> None:
    case, text = printed
    con = sqlite3.connect(case / "case.db")
    sha = con.execute("SELECT DISTINCT source_sha256 FROM records").fetchone()[0]
    times = [r[0] for r in con.execute("SELECT timestamp FROM records WHERE timestamp IS NOT NULL")]
    con.close()
    for i in range(0, 64, 16):
        assert sha[i:i + 16] in text  # printed in groups of 16, each whole
    for ts in times:
        date, clock = ts.split("T")
        assert date in text and "T" + clock in text, ts  # may wrap between date and clock, never inside


def test_no_views_column_on_paper(printed: tuple[Path, str]) -> None:
    _, text = printed
    front = text.split("\f")[0] + text.split("\f")[1]
    assert "Views" not in front and re.search(r"Without a\s+time", front)
