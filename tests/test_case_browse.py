"""Looking into a case from the command line: `case show`, `records`, `tag --remove`, duplicate warnings.

The case holds an mmssms.db built with Android's real sms table (tests/test_reports.py's
make_sms_db), so the truth is the rows written there: 4 messages, one containing "Zebra".
Looking must not change the case: `verify` still passes and case.db's bytes are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, evkit
from tests.test_reports import make_sms_db


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("browse")
    ev = work / "phone"
    make_sms_db(ev / "data" / "data" / "com.android.providers.telephony" / "databases" / "mmssms.db",
                ["hello", "bye Zebra", "see you"])
    root = work / "case"
    evkit("case", "init", str(root), "--case-number", "BR-1", "--examiner", "Jo", "--agency", "Lab", check=True)
    evkit("case", "add", str(root), str(ev), "--evidence-number", "P1", check=True)
    other = work / "usb"
    other.mkdir()
    (other / "notes.txt").write_text("nothing a profile reads\n")
    evkit("case", "add", str(root), str(other), "--evidence-number", "W1", check=True)  # gives no records
    evkit("run", str(root), check=True)
    return root


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_records_lists_ids_in_time_order_and_searches_values(case: Path) -> None:
    before = _sha(case / "case.db")
    lines = [json.loads(x) for x in evkit("records", str(case), "--json", check=True).stdout.splitlines()]
    assert len(lines) == 4 and [r["profile"] for r in lines] == ["android.sms"] * 4
    assert [r["timestamp"] for r in lines] == sorted(r["timestamp"] for r in lines)
    hits = [json.loads(x) for x in evkit("records", str(case), "--search", "zebra", "--json", check=True).stdout.splitlines()]
    assert [r["data"]["body"] for r in hits] == ["bye Zebra"]
    text = evkit("records", str(case), "--profile", "android.sms", "--limit", "2", check=True)
    assert len(text.stdout.splitlines()) == 2 and b"--limit 2 reached" in text.stderr
    row = text.stdout.decode().splitlines()[0].split()
    assert row[0] == str(lines[0]["id"]) and row[1] == "P1" and row[2] == "android.sms/sms"
    assert evkit("records", str(case), "--evidence", "W1", check=True).stdout == b""
    assert _sha(case / "case.db") == before and evkit("verify", str(case)).returncode == 0


def test_case_show_counts_records_per_evidence_item_including_none(case: Path) -> None:
    s = json.loads(evkit("case", "show", str(case), "--json", check=True).stdout)
    assert s["case_number"] == "BR-1" and s["agency"] == "Lab" and s["records"] == 4
    by = {e["number"]: e for e in s["evidence"]}
    assert by["P1"]["records_by_profile"] == {"android.sms": 4} and by["W1"]["records"] == 0
    assert by["P1"]["folder"] and by["P1"]["files"] == 1
    assert by["P1"]["size"] == (Path(case.parent / "phone" / "data" / "data" / "com.android.providers.telephony"
                                     / "databases" / "mmssms.db")).stat().st_size
    assert s["signature"] is None and s["custody_events"] == 4
    text = evkit("case", "show", str(case), check=True).stdout.decode()
    assert "evidence W1" in text and "records: 0 (none)" in text and "signature: none" in text


def test_tag_twice_warns_and_remove_is_a_custody_event(case: Path, tmp_path: Path) -> None:
    import shutil

    c = tmp_path / "case"
    shutil.copytree(case, c)
    rid = json.loads(evkit("records", str(c), "--json", "--limit", "1", check=True).stdout)["id"]
    evkit("tag", str(c), str(rid), "--tag", "lead", check=True)
    again = evkit("tag", str(c), str(rid), "--tag", "lead", check=True)
    assert b"already tagged [lead]" in again.stderr
    events = (c / "custody.jsonl").read_text().splitlines()
    assert len(events) == 5  # the repeated tag wrote no event
    out = json.loads(evkit("tag", str(c), str(rid), "--remove", "lead", "--json", check=True).stdout)
    assert out["removed"] == ["lead"]
    last = json.loads((c / "custody.jsonl").read_text().splitlines()[-1])
    assert last["action"] == "tag" and last["details"]["removed"] == ["lead"]
    assert json.loads(evkit("case", "show", str(c), "--json", check=True).stdout)["tags"] == 0
    assert_one_line_error(evkit("tag", str(c), str(rid), "--remove", "lead"), 2)
    assert evkit("verify", str(c)).returncode == 0


def test_the_same_evidence_added_twice_is_warned(case: Path, tmp_path: Path) -> None:
    import shutil

    c = tmp_path / "case"
    shutil.copytree(case, c)
    proc = evkit("case", "add", str(c), str(case.parent / "phone"), "--evidence-number", "P2", check=True)
    assert b"P2 has the same SHA-256 as evidence P1" in proc.stderr


def test_report_front_page_counts_records_per_evidence_item_and_tagged_records(case: Path, tmp_path: Path) -> None:
    """The front page gives each item its records per profile (0 said so), a folder's real size and
    file count (the file written above, not a directory's 4096), and counts tagged records, not tags."""
    import re
    import shutil

    c = tmp_path / "case"
    shutil.copytree(case, c)
    rid = json.loads(evkit("records", str(c), "--json", "--limit", "1", check=True).stdout)["id"]
    evkit("tag", str(c), str(rid), "--tag", "a", "--tag", "b", check=True)
    evkit("report", str(c), "--format", "html", check=True)
    page = (c / "data" / "reports" / "html" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    assert "Records4: android.sms 4" in text
    assert "Records0 (no profile found anything in this item)" in text
    usb = (case.parent / "usb" / "notes.txt").stat().st_size
    assert f"Size{usb} bytes in 1 file" in text and "None bytes" not in text
    assert "Tagged items (1)" in text
    assert text.count("All times are UTC") == 1  # the zone notice once, in the page header
