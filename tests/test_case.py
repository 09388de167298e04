"""Cases: the bag, the custody chain, extraction with hostile names, tampering, signing, crash and resume."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import EVKIT, assert_one_line_error, evkit

bagit = pytest.importorskip("bagit", reason="bagit-python (test dependency) is not installed")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_case(root: Path, source: Path, number: str = "E1", extract: list[str] | None = None) -> Path:
    """A case with one evidence item, extracted with ``extract`` options unless that is None."""
    evkit("case", "init", str(root), "--case-number", "EVK-1", "--examiner", "Jo Examiner", "--agency", "Lab", check=True)
    evkit("case", "add", str(root), str(source), "--evidence-number", number, check=True)
    if extract is not None:
        proc = evkit("extract", str(root), *extract)
        assert proc.returncode in (0, 4), proc.stderr
    return root


def _verify(root: Path) -> tuple[int, dict]:
    proc = evkit("verify", "--json", str(root))
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def base_case(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Path:
    root = tmp_path_factory.mktemp("cases") / "base"
    before = _sha(samples / "mbr_fat32_ntfs.E01")
    _new_case(root, samples / "mbr_fat32_ntfs.E01", "E1", ["--deleted"])
    assert _sha(samples / "mbr_fat32_ntfs.E01") == before, "evidence changed"
    return root


def _copy(base: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "case"
    shutil.copytree(base, dst)
    return dst


def test_clean_case_is_valid_bag(base_case: Path) -> None:
    code, report = _verify(base_case)
    assert code == 0 and report["ok"], report["problems"]
    bag = bagit.Bag(str(base_case))
    bag.validate()
    info = bag.info
    assert info["Case-Number"] == "EVK-1" and info["Examiner"] == "Jo Examiner" and info["Agency"] == "Lab"
    assert info["Payload-Oxum"].split(".")[1] == str(len(bag.payload_entries()))
    assert "case.db" in bag.tagfile_entries() and "custody.jsonl" in bag.tagfile_entries()


def test_artefacts_match_payload_and_truth(base_case: Path, samples: Path) -> None:
    con = sqlite3.connect(base_case / "case.db")
    rows = con.execute("SELECT path, stored_path, size, md5, sha256, locator, deleted, magic, seq FROM artefacts").fetchall()
    assert rows
    by_path = {r[0]: r for r in rows}
    for path, stored, size, md5, sha, locator, deleted, magic, seq in rows:
        data = (base_case / stored).read_bytes()
        assert len(data) == size and hashlib.md5(data).hexdigest() == md5 and hashlib.sha256(data).hexdigest() == sha
        assert locator.startswith("ewf:mbr_fat32_ntfs.E01 > dos:vol")
        assert seq == 3
    truth = (samples / "truth/mbr_fat32_ntfs.files.tsv").read_text().splitlines()
    header = truth[0].split("\t")
    for line in truth[1:]:
        row = dict(zip(header, line.split("\t")))
        if row["type"] in ("file", "ads") and row["recoverable"] == "1":
            got = by_path[f"/vol{row['volume']}{row['path']}"]
            assert got[3] == row["md5"] and got[6] == int(row["deleted"] == "1")
    ads = by_path["/vol3/Users/alice/Downloads/setup.exe:Zone.Identifier"]
    assert ads[1].endswith("setup.exe=3AZone.Identifier")


def test_custody_log_fields_and_chain(base_case: Path) -> None:
    lines = (base_case / "custody.jsonl").read_text().splitlines()
    events = [json.loads(l) for l in lines]
    assert [e["action"] for e in events] == ["case-init", "evidence-add", "extract"]
    prev = "0" * 64
    for i, e in enumerate(events, 1):
        for key in ("seq", "time", "examiner", "host", "user", "evkit_version", "command", "action", "inputs", "outputs", "prev_hash", "hash"):
            assert key in e, key
        assert e["seq"] == i and e["prev_hash"] == prev and e["time"].endswith("Z")
        body = {k: v for k, v in e.items() if k != "hash"}
        canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert hashlib.sha256(canon).hexdigest() == e["hash"]
        prev = e["hash"]
    add = events[1]
    assert add["outputs"][0]["verified"] is True and add["outputs"][0]["md5"]
    assert add["inputs"][0]["files"][0]["sha256"]
    assert events[2]["details"]["evidence_recheck"] == {"E1": "unchanged"}


@pytest.mark.parametrize("tamper,expect", [
    ("flip_payload", "modified"), ("delete_payload", "missing"), ("add_payload", "new"),
    ("delete_line", "custody.jsonl"), ("edit_line", "custody.jsonl"), ("reorder_lines", "custody.jsonl"),
    ("edit_db", "case.db"),
])
def test_tampering_is_caught(base_case: Path, tmp_path: Path, tamper: str, expect: str) -> None:
    case = _copy(base_case, tmp_path)
    payload = sorted((case / "data").rglob("*.txt"))[0]
    custody = case / "custody.jsonl"
    lines = custody.read_text().splitlines(keepends=True)
    if tamper == "flip_payload":
        data = bytearray(payload.read_bytes())
        data[0] ^= 1
        payload.chmod(0o644)
        payload.write_bytes(bytes(data))
    elif tamper == "delete_payload":
        payload.unlink()
    elif tamper == "add_payload":
        (case / "data" / "planted.txt").write_text("planted")
    elif tamper == "delete_line":
        custody.write_text("".join(lines[:1] + lines[2:]))
    elif tamper == "edit_line":
        custody.write_text("".join([lines[0], lines[1].replace("Jo Examiner", "Someone Else"), *lines[2:]]))
    elif tamper == "reorder_lines":
        custody.write_text("".join([lines[1], lines[0], *lines[2:]]))
    elif tamper == "edit_db":
        con = sqlite3.connect(case / "case.db")
        con.execute("UPDATE artefacts SET md5 = '0' WHERE id = 1")
        con.commit()
        con.close()
    code, report = _verify(case)
    assert code == 1 and not report["ok"]
    assert any(expect in p for p in report["problems"]), report["problems"]
    text = evkit("verify", str(case))
    assert text.returncode == 1 and b"CASE NOT INTACT" in text.stdout


def test_hostile_names_stay_inside_the_case(tmp_path: Path) -> None:
    hostile = ["../../evil.txt", "/abs/etc/passwd", "dir/CON", "dir/aux.txt", "ctl\x01\x1bname.txt", "Same.txt",
               "same.txt", "x" * 250 + ".txt", "sub/../up.txt", "trail. ", "q?*<>|.txt", "eq=%.txt", "dir/Com1.log"]
    archive = tmp_path / "hostile.tar"
    with tarfile.open(archive, "w") as tf:
        for i, name in enumerate(hostile):
            data = f"content {i}\n".encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    case = tmp_path / "case"
    _new_case(case, archive, "E1", [])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(outside_before + ["case"])
    con = sqlite3.connect(case / "case.db")
    rows = con.execute("SELECT path, path_hex, stored_path, renamed, sha256 FROM artefacts").fetchall()
    assert len(rows) == len(hostile)
    stored = [r[2] for r in rows]
    assert len({s.lower() for s in stored}) == len(stored), "case-insensitive collision"
    root = case.resolve()
    for path, path_hex, st, renamed, sha in rows:
        target = (case / st).resolve()
        assert str(target).startswith(str(root / "data" / "E1") + os.sep)
        assert st.startswith("data/E1/")
        assert all(len(c.encode()) <= 255 for c in st.split("/"))
        assert not any(ch in st for ch in '\x00\x01\x1b:*?<>|\\')
        assert hashlib.sha256((case / st).read_bytes()).hexdigest() == sha
        assert bytes.fromhex(path_hex).decode("utf-8", "surrogateescape").lstrip("/") in [h.lstrip("/") for h in hostile] or path
    assert not any(Path(s).name.upper().startswith(("CON", "AUX", "COM1")) and "=" not in Path(s).name for s in stored)
    code, report = _verify(case)
    assert code == 0, report["problems"]
    bagit.Bag(str(case)).validate()


def test_readd_and_conflicts(base_case: Path, tmp_path: Path, samples: Path) -> None:
    case = _copy(base_case, tmp_path)
    again = json.loads(evkit("case", "add", "--json", str(case), str(samples / "mbr_fat32_ntfs.E01"), "--evidence-number", "E1", check=True).stdout)
    assert again["already_registered"] is True
    line = assert_one_line_error(evkit("case", "add", str(case), str(samples / "gpt_ext4.raw"), "--evidence-number", "E1"), 2)
    assert "already used" in line
    assert_one_line_error(evkit("case", "init", str(case), "--case-number", "X", "--examiner", "Y"), 2)
    assert_one_line_error(evkit("extract", str(tmp_path / "nocase")), 2)
    assert_one_line_error(evkit("extract", str(case), "--evidence", "E9"), 2)
    second = json.loads(evkit("extract", "--json", str(case), "--deleted", check=True).stdout)
    assert second["extracted"] == 0 and second["already_extracted"] > 0
    assert _verify(case)[0] == 0


def test_glob_and_sqlite_sidecars(tmp_path: Path) -> None:
    src = tmp_path / "phone"
    (src / "data/db").mkdir(parents=True)
    con = sqlite3.connect(src / "data/db/msgs.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE m(x)")
    con.execute("INSERT INTO m VALUES (1)")
    con.commit()
    (src / "data/db/other.txt").write_text("x")
    assert (src / "data/db/msgs.db-wal").exists()
    case = tmp_path / "case"
    _new_case(case, src, "E1", ["--glob", "*.db"])
    stored = sorted(r[0] for r in sqlite3.connect(case / "case.db").execute("SELECT stored_path FROM artefacts"))
    assert stored == ["data/E1/data/db/msgs.db", "data/E1/data/db/msgs.db-shm", "data/E1/data/db/msgs.db-wal"]
    parents = sqlite3.connect(case / "case.db").execute("SELECT count(*) FROM artefacts WHERE parent_id IS NOT NULL").fetchone()[0]
    assert parents == 2
    con.close()


def test_signing(base_case: Path, tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    case = _copy(base_case, tmp_path)
    key = tmp_path / "examiner.key"
    evkit("case", "keygen", str(key), check=True)
    evkit("case", "sign", str(case), "--key", str(key), check=True)
    code, report = _verify(case)
    assert code == 0 and report["signature"]["valid"] is True
    assert evkit("verify", str(case), "--public-key", str(key) + ".pub").returncode == 0
    other = tmp_path / "other.key"
    evkit("case", "keygen", str(other), check=True)
    assert evkit("verify", str(case), "--public-key", str(other) + ".pub").returncode == 1
    (case / "tagmanifest-sha256.txt").write_text((case / "tagmanifest-sha256.txt").read_text() + "\n")
    code, report = _verify(case)
    assert code == 1 and report["signature"]["valid"] is False



def test_signature_covers_the_case_as_signed_and_later_events_are_a_continuation(base_case: Path, tmp_path: Path) -> None:
    """A report after signing must not make verify call the case tampered: the signature is checked
    over the tag manifest as signed, later events are listed; editing what was signed still fails."""
    pytest.importorskip("cryptography")
    case = _copy(base_case, tmp_path)
    key = tmp_path / "examiner.key"
    evkit("case", "keygen", str(key), check=True)
    evkit("case", "sign", str(case), "--key", str(key), check=True)
    signed_events = len((case / "custody.jsonl").read_text().splitlines())
    evkit("report", str(case), "--format", "csv", check=True)
    code, report = _verify(case)
    assert code == 0, report["problems"]
    assert report["signature"]["valid"] is True and report["signature"]["signed_at_event"] == signed_events
    assert [e["action"] for e in report["signature"]["later_events"]] == ["report"]
    text = evkit("verify", str(case)).stdout.decode()
    assert f"signed at custody event {signed_events}" in text and "1 later event(s)" in text and "case intact" in text
    # Once signed, a case stays signed: deleting the signature files is not "unsigned".
    saved = {n: (case / n).read_bytes() for n in ("signature.ed25519", "signature.pub")}
    for n in saved:
        (case / n).unlink()
    code, report = _verify(case)
    assert code == 1 and any("was signed (custody event" in p for p in report["problems"])
    for n, data in saved.items():
        (case / n).write_bytes(data)
    # The signed copy of the tag manifest is what the signature covers: editing it is tampering.
    copy = case / "signature-tagmanifest-sha256.txt"
    copy.write_text(copy.read_text().replace("custody.jsonl", "custody.jsonl "))
    code, report = _verify(case)
    assert code == 1 and report["signature"]["valid"] is False


def test_verify_evidence_rehashes_the_original_evidence(samples: Path, tmp_path: Path) -> None:
    """Plain verify checks the case folder and says the evidence was not re-hashed; --evidence
    re-hashes the registered image against its registration and catches a changed byte."""
    image = tmp_path / "disk.raw"
    shutil.copyfile(samples / "gpt_ext4.raw", image)
    case = _new_case(tmp_path / "case", image)
    plain = evkit("verify", str(case))
    assert plain.returncode == 0 and "evidence: not re-hashed" in plain.stdout.decode()
    assert evkit("--quiet", "verify", str(case)).stdout == b""  # intact and quiet: nothing on stdout
    code, report = _verify(case)
    assert report["evidence"] is None
    proc = evkit("verify", "--json", "--evidence", str(case))
    assert proc.returncode == 0 and json.loads(proc.stdout)["evidence"] == {"E1": "unchanged"}
    with open(image, "r+b") as fh:  # one byte of the evidence changes after registration
        fh.seek(4096)
        b = fh.read(1)
        fh.seek(4096)
        fh.write(bytes([b[0] ^ 0xFF]))
    assert evkit("verify", str(case)).returncode == 0  # the case folder itself is still intact
    proc = evkit("verify", "--evidence", str(case))
    out = proc.stdout.decode()
    assert proc.returncode == 1 and "evidence E1: disk.raw CHANGED since it was added" in out and "CASE NOT INTACT" in out

def _many_files_image(tmp_path: Path, count: int) -> Path:
    tree = tmp_path / "tree"
    for i in range(count):
        d = tree / f"d{i // 100:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.txt").write_bytes(os.urandom(64) * (1 + i % 50))
    image = tmp_path / "many.raw"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-N", str(count + 200), "-d", str(tree), str(image), "64M"], check=True)
    return image


def _state(case: Path) -> tuple:
    con = sqlite3.connect(case / "case.db")
    arts = sorted(con.execute("SELECT locator, stored_path, sha256, seq FROM artefacts").fetchall())
    events = [r[0] for r in con.execute("SELECT action FROM events ORDER BY seq")]
    con.close()
    actions = [json.loads(l)["action"] for l in (case / "custody.jsonl").read_text().splitlines()]
    return arts, events, actions


@pytest.mark.skipif(shutil.which("mke2fs") is None, reason="mke2fs (e2fsprogs) is not installed")
def test_kill_and_resume(tmp_path: Path) -> None:
    image = _many_files_image(tmp_path, 3000)
    clean = _new_case(tmp_path / "clean", image, "E1")
    started = time.monotonic()
    evkit("extract", str(clean), check=True)
    took = time.monotonic() - started
    expected = _state(clean)
    assert len(expected[0]) >= 3000
    interrupted = 0
    for delay in (took * 0.4, took * 0.65, took * 0.9):  # past start-up, inside the run, on any machine
        case = tmp_path / f"killed-{delay}"
        _new_case(case, image, "E1")
        proc = subprocess.Popen([str(EVKIT), "extract", str(case)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        code, report = _verify(case)
        if code != 0:
            interrupted += 1
            assert report["interrupted"] is not None, report["problems"]
            assert all(f["status"] in ("matched", "new") for f in report["files"] if f["kind"] == "payload")
            assert all(f.get("interrupted_run") for f in report["files"] if f["status"] == "new")
        elif _state(case) == expected:
            continue  # the run finished before the kill: nothing to resume
        evkit("extract", str(case), check=True)
        assert _state(case) == expected, f"resume after {delay}s differs from a clean run"
        assert _verify(case)[0] == 0
        bagit.Bag(str(case)).validate()
    assert interrupted >= 1, "no kill landed during the run: the test proved nothing"


@pytest.mark.parametrize("stopped_in", ["_finish", "write_bag"], ids=["before-db-row", "after-db-row"])
def test_a_run_killed_after_its_custody_event_is_not_run_again(tmp_path: Path, samples: Path,
                                                                monkeypatch: pytest.MonkeyPatch, stopped_in: str) -> None:
    """Killed between writing its custody event and finishing the bag (before or after the event's
    row reached case.db), a run is complete: the same command given again finishes the bookkeeping
    and adds no second event (the rare kills that made test_kill_and_resume see two ``extract``
    events)."""
    from evkit.case.case import Case
    from evkit.case.extract import extract

    expected = _state(_new_case(tmp_path / "clean", samples / "gpt_ext4.raw", "E1", []))
    root = _new_case(tmp_path / "case", samples / "gpt_ext4.raw", "E1")

    def killed(*args: object) -> None:
        raise _Stop

    with monkeypatch.context() as m, Case(root) as case, pytest.raises(_Stop):
        m.setattr(Case, stopped_in, killed)
        extract(case)
    assert (root / "run-in-progress.json").exists()
    assert _verify(root)[0] != 0
    proc = evkit("extract", "--json", str(root))
    assert proc.returncode == 0, proc.stderr
    assert b"had finished before it was stopped" in proc.stderr
    assert json.loads(proc.stdout)["already_finished"]["action"] == "extract"
    assert _state(root) == expected
    assert _verify(root)[0] == 0
    assert evkit("extract", str(root)).returncode == 0  # a later run is a new run, as always
    assert _state(root)[2].count("extract") == 2


class _Stop(Exception):
    pass


@pytest.mark.skipif(shutil.which("mke2fs") is None, reason="mke2fs (e2fsprogs) is not installed")
def test_resume_redoes_files_lost_before_the_flush(tmp_path: Path) -> None:
    """Rows commit before the data is flushed to disk; a power loss can leave them describing a
    short file. The resumed run re-hashes the interrupted run's files and extracts those again."""
    from evkit.case.case import Case
    from evkit.case.extract import extract

    image = _many_files_image(tmp_path, 1200)
    expected = _state(_new_case(tmp_path / "clean", image, "E1", []))
    root = _new_case(tmp_path / "case", image, "E1")
    seen = []

    def stop_late(path: str) -> None:
        seen.append(path)
        if len(seen) == 1100:
            raise _Stop

    with Case(root) as case, pytest.raises(_Stop):
        extract(case, progress=stop_late)
    con = sqlite3.connect(root / "case.db")
    stored = [r[0] for r in con.execute("SELECT stored_path FROM artefacts ORDER BY id LIMIT 3")]
    con.close()
    assert len(stored) == 3, "no batch was committed before the interruption: the test proves nothing"
    for rel in stored:  # as after a power loss: the rows are there, the data is not
        (root / rel).chmod(0o644)
        (root / rel).write_bytes(b"")
    assert evkit("extract", str(root)).returncode == 0
    assert _state(root) == expected
    assert _verify(root)[0] == 0
    event = json.loads((root / "custody.jsonl").read_text().splitlines()[-1])
    assert event["details"]["redone_after_interruption"] == 3


def test_changed_evidence_fails_loudly(tmp_path: Path) -> None:
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "notes.txt").write_text("original")
    case = tmp_path / "case"
    _new_case(case, folder, "E1")
    (folder / "notes.txt").write_text("altered")
    for command in (["extract"], ["run", "--profile", "android.sms"]):
        proc = evkit(*command, str(case))
        assert proc.returncode == 1, proc.stderr
        assert b"EVIDENCE E1 CHANGED" in proc.stderr and b"Traceback" not in proc.stderr
