"""A case never gets stuck on what the evidence holds (issue 16): one bad item is a note, never a
failed run that every later command then refuses to pass.

Inputs are built as the issue describes: a file and a folder of one name in one directory (both
orders), an archive member path longer than PATH_MAX (30 components of 200 characters).
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, evkit


def _tar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return path


def _case(tmp_path: Path, evidence: Path) -> Path:
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "R-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(evidence), "--evidence-number", "E1", check=True)
    return case


def _fat_with_clashes(tmp_path: Path) -> Path:
    """A FAT image where a file and a folder share one name, both orders: the file's 8.3 entry is
    renamed to its sibling folder's name (REPORTX -> REPORT), as a hand-edited or damaged directory
    shows it (FAT: Microsoft EFI FAT32 specification, directory entry DIR_Name, 11 bytes)."""
    if shutil.which("mkfs.fat") is None or shutil.which("mcopy") is None:
        pytest.skip("dosfstools and mtools build the FAT image (Debian: dosfstools mtools)")
    img = tmp_path / "clash.img"
    subprocess.run(["mkfs.fat", "-C", str(img), "4096"], check=True, capture_output=True)
    data = tmp_path / "payload"
    data.mkdir()

    def put(name: str, text: str, dest: str) -> None:
        (data / name).write_text(text)
        subprocess.run(["mcopy", "-i", str(img), str(data / name), dest], check=True, capture_output=True)

    for cmd in (["mmd", "-i", str(img), "::/A"], ["mmd", "-i", str(img), "::/B"], ["mmd", "-i", str(img), "::/A/REPORT"]):
        subprocess.run(cmd, check=True, capture_output=True)
    put("INSIDE.TXT", "folder first, its file", "::/A/REPORT/INSIDE.TXT")
    put("REPORTX", "then a file of the folder's name", "::/A/REPORTX")
    put("LOGX", "file first", "::/B/LOGX")
    subprocess.run(["mmd", "-i", str(img), "::/B/LOG"], check=True, capture_output=True)
    put("INNER.TXT", "then a folder of the file's name", "::/B/LOG/INNER.TXT")
    raw = img.read_bytes()
    assert raw.count(b"REPORTX    ") == 1 and raw.count(b"LOGX       ") == 1
    img.write_bytes(raw.replace(b"REPORTX    ", b"REPORT     ").replace(b"LOGX       ", b"LOG        "))
    return img


def test_a_file_and_a_folder_of_one_name_are_both_extracted(tmp_path: Path) -> None:
    case = _case(tmp_path, _fat_with_clashes(tmp_path))
    proc = evkit("extract", str(case), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["unreadable"] == []  # (TSK's virtual $MBR, $FAT1, $FAT2 are extracted too)
    assert len(out["stored_under_conflicts"]) == 2  # the second of each pair
    assert proc.stderr.decode().count("stored under =conflicts/") == 2
    con = sqlite3.connect(case / "case.db")
    rows = con.execute("SELECT path, stored_path FROM artefacts ORDER BY path").fetchall()
    con.close()
    texts = {path: (case / stored).read_text() for path, stored in rows if path.startswith(("/A/", "/B/"))}
    assert texts == {"/A/REPORT": "then a file of the folder's name", "/A/REPORT/INSIDE.TXT": "folder first, its file",
                     "/B/LOG": "file first", "/B/LOG/INNER.TXT": "then a folder of the file's name"}
    assert sum("/=conflicts/" in stored for _, stored in rows) == 2
    assert evkit("verify", str(case)).returncode == 0
    assert evkit("extract", str(case), "--json").returncode == 0  # a second run finds everything done
    assert evkit("report", str(case), "--format", "csv").returncode == 0  # and nothing is stuck


def test_a_path_longer_than_path_max_is_extracted(tmp_path: Path) -> None:
    """An archive member 30 components of 200 characters deep (6,000+ bytes; Linux PATH_MAX is
    4,096): each component is capped by the safe names, the whole path is not, so it goes to
    =conflicts/ with its real path in the record."""
    long_path = "/".join(f"{n:02d}" + "d" * 198 for n in range(30)) + "/deep.txt"
    case = _case(tmp_path, _tar(tmp_path / "deep.tar", [(long_path, b"6,000 characters deep"), ("short.txt", b"ok")]))
    proc = evkit("extract", str(case), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["extracted"] == 2
    con = sqlite3.connect(case / "case.db")
    stored = dict(con.execute("SELECT path, stored_path FROM artefacts").fetchall())
    con.close()
    assert (case / stored["/" + long_path]).read_bytes() == b"6,000 characters deep"
    assert "/=conflicts/" in stored["/" + long_path] and stored["/short.txt"] == "data/E1/short.txt"
    assert evkit("verify", str(case)).returncode == 0


def test_a_run_failing_twice_the_same_way_is_not_resumed_for_ever_and_can_be_abandoned(tmp_path: Path) -> None:
    """Evidence that is gone after registration makes `extract` fail identically every
    time. Before: every later command refused to start (the case was stuck). Now the third attempt
    says why it will not resume, other commands name the way out, and `case abandon-run` ends it."""
    evidence = _tar(tmp_path / "phone.tar", [("a.txt", b"a"), ("b.txt", b"b")])
    case = _case(tmp_path, evidence)
    evidence.unlink()  # the registered archive is gone (a disconnected share, a moved file)
    first, second = evkit("extract", str(case)), evkit("extract", str(case))
    assert first.returncode == second.returncode == 2  # missing evidence: exit 2, as documented
    assert first.stderr == second.stderr
    third = assert_one_line_error(evkit("extract", str(case)), 2)
    assert "failed twice the same way" in third and "abandon-run" in third
    other = assert_one_line_error(evkit("report", str(case), "--format", "csv"), 2)
    assert "an interrupted run must be finished first" in other and "abandon-run" in other
    (case / "data" / "E1").mkdir(parents=True, exist_ok=True)
    (case / "data" / "E1" / "half-written.bin").write_bytes(b"partial")  # as a killed copy leaves it
    out = json.loads(evkit("case", "abandon-run", str(case), "--json", check=True).stdout)
    assert out["abandoned"]["action"] == "extract" and len(out["abandoned"]["failures"]) == 2
    assert out["set_aside"] == ["data/E1/half-written.bin"]
    assert (case / "abandoned" / f"run-{out['seq']}" / "data" / "E1" / "half-written.bin").read_bytes() == b"partial"
    last = json.loads((case / "custody.jsonl").read_text().splitlines()[-1])
    assert last["action"] == "run-abandoned" and last["seq"] == out["seq"]
    assert evkit("verify", str(case)).returncode == 0
    assert evkit("report", str(case), "--format", "csv").returncode == 0
    assert_one_line_error(evkit("case", "abandon-run", str(case)), 2)  # nothing left to abandon


def test_an_evidence_number_cannot_lead_outside_the_case(tmp_path: Path) -> None:
    """`--evidence-number ../../X` once put extracted files two folders above data/ and verify still
    passed. The number is kept as given in the records; its folder is one safe name."""
    evidence = _tar(tmp_path / "e.tar", [("a.txt", b"inside")])
    (tmp_path / "deep").mkdir()
    case = tmp_path / "deep" / "case"
    evkit("case", "init", str(case), "--case-number", "R-2", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(evidence), "--evidence-number", "../../X", check=True)
    evkit("extract", str(case), check=True)
    assert not (tmp_path / "X").exists() and not (tmp_path / "deep" / "X").exists()
    assert (case / "data" / "..=2F..=2FX" / "a.txt").read_bytes() == b"inside"
    show = json.loads(evkit("case", "show", str(case), "--json", check=True).stdout)
    assert [e["number"] for e in show["evidence"]] == ["../../X"]
    assert evkit("verify", str(case)).returncode == 0


def test_verify_rejects_a_manifest_line_pointing_outside_the_payload(tmp_path: Path) -> None:
    evidence = _tar(tmp_path / "e.tar", [("a.txt", b"inside")])
    case = _case(tmp_path, evidence)
    evkit("extract", str(case), check=True)
    outside = tmp_path / "planted.txt"
    outside.write_text("not the case's")
    import hashlib

    for name, algo in (("manifest-sha256.txt", "sha256"), ("manifest-md5.txt", "md5")):
        digest = hashlib.new(algo, outside.read_bytes()).hexdigest()
        with open(case / name, "a", encoding="utf-8") as fh:
            fh.write(f"{digest}  data/../../planted.txt\n")
    proc = evkit("verify", "--json", str(case))
    report = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert any("outside data/" in p for p in report["problems"])


def test_a_sidecar_that_fails_its_crc_is_a_note_and_the_database_is_kept(tmp_path: Path) -> None:
    """A -wal whose zip CRC fails used to end extract with exit 3 (the sidecar copy had none of the
    main loop's error handling); now it is one warning, exit 4, and the database itself is kept."""
    import zipfile

    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    shutil.copy(db, tmp_path / "copy.db")
    shutil.copy(str(db) + "-wal", tmp_path / "copy.db-wal")
    con.close()
    archive = tmp_path / "e.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.write(tmp_path / "copy.db", "db/msg.db")
        z.write(tmp_path / "copy.db-wal", "db/msg.db-wal")
    raw = bytearray(archive.read_bytes())
    raw[raw.index(b"db/msg.db-wal") + len(b"db/msg.db-wal") + 100] ^= 0xFF  # a byte of the WAL's data
    archive.write_bytes(bytes(raw))
    case = _case(tmp_path, archive)
    proc = evkit("extract", str(case), "--json")
    assert proc.returncode == 4, proc.stderr
    out = json.loads(proc.stdout)
    assert out["extracted"] == 1 and len(out["unreadable"]) == 1 and "msg.db-wal" in out["unreadable"][0]
    assert proc.stderr.decode().count("\n") == 1 and "Bad CRC-32" in proc.stderr.decode()
    con = sqlite3.connect(case / "case.db")
    assert [r[0] for r in con.execute("SELECT path FROM artefacts")] == ["/db/msg.db"]
    con.close()
    assert evkit("verify", str(case)).returncode == 0
