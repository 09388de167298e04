"""Phone evidence: iTunes backups, adb backups and full file system extractions at device paths.

The samples in sample_images/phone are written by sample_images/make_phone_samples.py, whose
truth.json says which device paths, sizes and SHA-256 evkit must show. Encrypted samples open
with EVKIT_BACKUP_PASSWORD=evkit-test; hostile copies (truncated, garbage after the header,
manifest or stored files missing) must give one clear line, never a traceback or a hang, and
nothing is ever written next to the evidence.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import plistlib
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

from tests.conftest import EVKIT, ROOT, assert_one_line_error

PHONE = ROOT / "sample_images" / "phone"
TRUTH_FILE = PHONE / "truth.json"
pytestmark = pytest.mark.skipif(not TRUTH_FILE.is_file(), reason="phone samples missing (run make_phone_samples.py)")
TRUTH = json.loads(TRUTH_FILE.read_text()) if TRUTH_FILE.is_file() else {"samples": {}, "messages": {}}
PASSWORD = "evkit-test"
SMS_DB = "/private/var/mobile/Library/SMS/sms.db"
MMSSMS = "/data/data/com.android.providers.telephony/databases/mmssms.db"


def run(*args: str | Path, password: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("EVKIT_BACKUP_PASSWORD", "NO_COLOR")}
    if password is not None:
        env["EVKIT_BACKUP_PASSWORD"] = password
    return subprocess.run([str(EVKIT), *map(str, args)], capture_output=True, env=env, timeout=timeout)


def ok(*args: str | Path, password: str | None = None) -> bytes:
    proc = run(*args, password=password)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, (args, proc.returncode, err)
    assert "Traceback" not in err
    return proc.stdout


def listing(source: Path, password: str | None = None, *extra: str) -> dict[str, dict]:
    out = ok("ls", "-r", "--json", *extra, source, password=password)
    return {rec["path"]: rec for rec in map(json.loads, out.splitlines())}


def tree_state(folder: Path) -> dict[str, tuple[str, int, str, int]]:
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root, name)
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
            out[str(p.relative_to(folder))] = (oct(st.st_mode), st.st_size, digest, st.st_mtime_ns)
    return out


# -- the samples at their device paths ------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TRUTH["samples"]))
def test_listing_shows_device_paths_with_true_hashes(name: str) -> None:
    sample = TRUTH["samples"][name]
    recs = listing(PHONE / name, sample["password"], "--hash", "sha256")
    for path, want in sample["files"].items():
        assert path in recs, (name, path, sorted(recs))
        assert recs[path]["type"] == "file"
        assert recs[path]["sha256"] == want["sha256"], (name, path)
        assert recs[path]["size"] == want["size"], (name, path)


@pytest.mark.parametrize("name, path", [
    ("android_ffs.tar", MMSSMS),
    ("android_ffs.tar", "/data/data/com.android.chrome/app_chrome/Default/History"),
    ("android_backup.ab", MMSSMS),
    ("android_backup.ab", "/data/app/com.whatsapp/base.apk"),
    ("android_backup_encrypted.ab", "/data/data/com.whatsapp/databases/msgstore.db"),
    ("ios_backup_plain", SMS_DB),
    ("ios_backup_encrypted", SMS_DB),
    ("ios_backup_encrypted", "/private/var/mobile/Containers/Data/Application/com.example.notes/Documents/note.txt"),
])
def test_cat_gives_the_true_bytes(name: str, path: str) -> None:
    sample = TRUTH["samples"][name]
    data = ok("cat", PHONE / name, path, password=sample["password"])
    assert hashlib.sha256(data).hexdigest() == sample["files"][path]["sha256"]
    assert len(data) == sample["files"][path]["size"]


def test_itunes_locator_names_the_file_id_and_folders_are_rebuilt() -> None:
    ids = TRUTH["samples"]["ios_backup_plain"]["ids"]
    recs = listing(PHONE / "ios_backup_plain")
    rec = recs[SMS_DB]
    assert rec["locator"] == f"itunes:ios_backup_plain > backup:{SMS_DB}#{ids[SMS_DB]['fileID']}"
    assert rec["address"] == ids[SMS_DB]["fileID"] == hashlib.sha1(b"HomeDomain-Library/SMS/sms.db").hexdigest()
    assert rec["mtime"] and rec["crtime"]
    for folder in ("/private/var/mobile", "/private/var/mobile/Library/SMS",
                   "/private/var/mobile/Containers/Data/Application/com.example.notes"):
        assert recs[folder]["type"] == "dir"
    for control in ("Info.plist", "Manifest.plist", "Status.plist", "Manifest.db"):
        assert recs[f"/backup-metadata/{control}"]["type"] == "file"


def test_adb_locator_keeps_the_member_name() -> None:
    rec = listing(PHONE / "android_backup.ab")[MMSSMS]
    assert rec["locator"] == f"adb:android_backup.ab > member:{MMSSMS}#apps/com.android.providers.telephony/db/mmssms.db"
    recs = listing(PHONE / "android_backup.ab")
    assert "/storage/emulated/0/DCIM/Camera/IMG_20260102_030405.jpg" in recs
    assert "/storage/emulated/0/Android/data/com.whatsapp/files/Media/IMG-20260102-WA0001.jpg" in recs
    assert "/backup-metadata/apps/com.whatsapp/_manifest" in recs


def test_info_reports_backup_facts_and_phone_layout() -> None:
    info = json.loads(ok("info", "--json", PHONE / "ios_backup_plain"))
    fs = info["filesystems"][0]
    assert fs["type"] == "itunes" and fs["encrypted"] is False and fs["missing_files"] == 0
    assert fs["device"]["Device Name"] == "Evidence iPhone"
    assert fs["domains"]["HomeDomain"] == "/private/var/mobile"
    assert fs["domains"]["AppDomain-com.example.notes"] == "/private/var/mobile/Containers/Data/Application/com.example.notes"
    assert fs["phone"]["layout"] == "itunes-backup"
    info = json.loads(ok("info", "--json", PHONE / "android_backup_encrypted.ab", password=PASSWORD))
    fs = info["filesystems"][0]
    assert fs["type"] == "adb" and fs["encryption"] == "AES-256" and fs["compressed"] is True
    assert fs["packages"] == ["com.android.chrome", "com.android.providers.telephony", "com.whatsapp"]


def test_parse_android_sms_from_the_ffs_tar() -> None:
    out = ok("parse", PHONE / "android_ffs.tar", "--profile", "android.sms", "--json")
    recs = [json.loads(line) for line in out.splitlines()]
    assert [r["data"]["body"] for r in recs] == [m["body"] for m in TRUTH["messages"]["android_sms"]]
    assert all(r["path"] == MMSSMS for r in recs)


def test_parse_android_sms_from_the_encrypted_adb_backup() -> None:
    out = ok("parse", PHONE / "android_backup_encrypted.ab", "-p", "android.sms", "--json", password=PASSWORD)
    assert len(out.splitlines()) == 3


def test_ios_sample_databases_hold_the_messages(tmp_path: Path) -> None:
    """The iOS sms.db read back from the encrypted backup has the three messages, the third with
    its text only in attributedBody (what the iOS message profiles must decode)."""
    from evkit.profiles.typedstream import attributed_text

    db = tmp_path / "sms.db"
    db.write_bytes(ok("cat", PHONE / "ios_backup_encrypted", SMS_DB, password=PASSWORD))
    con = sqlite3.connect(db)
    rows = con.execute("SELECT ROWID, text, attributedBody FROM message ORDER BY ROWID").fetchall()
    con.close()
    want = TRUTH["messages"]["ios_sms"]
    assert [r[0] for r in rows] == [m["ROWID"] for m in want]
    assert [r[1] for r in rows] == [m["text"] for m in want]
    assert [attributed_text(r[2]) for r in rows] == [m["attributedBody_text"] for m in want]


# -- passwords ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ios_backup_encrypted", "android_backup_encrypted.ab"])
def test_encrypted_without_password_says_how_to_give_it(name: str) -> None:
    line = assert_one_line_error(run("ls", PHONE / name), 3)
    assert "EVKIT_BACKUP_PASSWORD" in line and "give the password" in line


@pytest.mark.parametrize("name", ["ios_backup_encrypted", "android_backup_encrypted.ab"])
def test_encrypted_with_wrong_password(name: str) -> None:
    line = assert_one_line_error(run("ls", PHONE / name, password="not-the-password"), 3)
    assert "wrong password for encrypted backup" in line


# -- hostile input ----------------------------------------------------------------------------

def _copy(name: str, tmp_path: Path) -> Path:
    src = PHONE / name
    dst = tmp_path / name
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst


@pytest.mark.parametrize("name, password, cut", [
    ("android_backup.ab", None, 0.5),
    ("android_backup.ab", None, 0.02),
    ("android_backup_encrypted.ab", PASSWORD, 0.5),
    ("android_backup_encrypted.ab", PASSWORD, 0.9),
])
def test_truncated_adb_backup(tmp_path: Path, name: str, password: str | None, cut: float) -> None:
    data = (PHONE / name).read_bytes()
    bad = tmp_path / "cut.ab"
    bad.write_bytes(data[: int(len(data) * cut)])
    line = assert_one_line_error(run("ls", "-r", bad, password=password), 3)
    assert "truncated" in line or "corrupt" in line


@pytest.mark.parametrize("tail", [
    b"",
    b"not hex at all\n",
    b"00\n11\n10000\n00\n00\n",
    bytes(range(256)) * 40,
    b"AA" * 64 + b"\n" + b"BB" * 64 + b"\n" + b"99999999999\n",
])
def test_adb_header_says_aes_but_garbage_follows(tmp_path: Path, tail: bytes) -> None:
    bad = tmp_path / "garbage.ab"
    bad.write_bytes(b"ANDROID BACKUP\n5\n1\nAES-256\n" + tail)
    line = assert_one_line_error(run("ls", bad, password=PASSWORD, timeout=30), 3)
    assert "adb backup" in line


def test_adb_real_aes_header_then_garbage_payload(tmp_path: Path) -> None:
    data = (PHONE / "android_backup_encrypted.ab").read_bytes()
    header_end = 0
    for _ in range(9):
        header_end = data.index(b"\n", header_end) + 1
    bad = tmp_path / "garbage-payload.ab"
    bad.write_bytes(data[:header_end] + hashlib.sha256(b"x").digest() * 64)
    line = assert_one_line_error(run("ls", bad, password=PASSWORD), 3)
    assert "corrupt" in line or "truncated" in line


def test_adb_plain_header_garbage(tmp_path: Path) -> None:
    for i, content in enumerate([b"ANDROID BACKUP\n", b"ANDROID BACKUP\nx\n1\nnone\n", b"ANDROID BACKUP\n5\n1\nnone\n" +
                                 b"\x78\x9c" + b"\xff" * 100, b"ANDROID BACKUP\n5\n1\nROT13\n"]):
        bad = tmp_path / f"bad{i}.ab"
        bad.write_bytes(content)
        assert_one_line_error(run("ls", bad), 3)


def test_itunes_manifest_db_missing(tmp_path: Path) -> None:
    folder = _copy("ios_backup_plain", tmp_path)
    (folder / "Manifest.db").unlink()
    line = assert_one_line_error(run("ls", "-r", folder), 3)
    assert "Manifest.db" in line


def test_itunes_manifest_db_garbage(tmp_path: Path) -> None:
    folder = _copy("ios_backup_plain", tmp_path)
    (folder / "Manifest.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 3000)
    assert_one_line_error(run("ls", "-r", folder), 3)
    (folder / "Manifest.db").write_bytes(b"\x00" * 100)
    assert_one_line_error(run("ls", "-r", folder), 3)


def test_itunes_stored_file_missing_is_listed_and_reading_it_is_a_clear_error(tmp_path: Path) -> None:
    folder = _copy("ios_backup_plain", tmp_path)
    fid = TRUTH["samples"]["ios_backup_plain"]["ids"][SMS_DB]["fileID"]
    (folder / fid[:2] / fid).unlink()
    recs = listing(folder)
    assert recs[SMS_DB]["type"] == "file"
    info = json.loads(ok("info", "--json", folder))["filesystems"][0]
    assert info["missing_files"] == 1 and info["missing_examples"] == [SMS_DB]
    line = assert_one_line_error(run("cat", folder, SMS_DB), 3)
    assert "missing" in line and fid in line
    # the other files are still read
    note = "/private/var/mobile/Containers/Data/Application/com.example.notes/Documents/note.txt"
    assert ok("cat", folder, note).startswith(b"Meeting moved")


def test_itunes_encrypted_stored_file_corrupt(tmp_path: Path) -> None:
    folder = _copy("ios_backup_encrypted", tmp_path)
    fid = TRUTH["samples"]["ios_backup_encrypted"]["ids"][SMS_DB]["fileID"]
    stored = folder / fid[:2] / fid
    stored.write_bytes(stored.read_bytes()[:-5])
    line = assert_one_line_error(run("cat", folder, SMS_DB, password=PASSWORD), 3)
    assert "AES" in line or "decrypt" in line


def test_itunes_hostile_manifest_rows_stay_inside(tmp_path: Path) -> None:
    """Names are evidence: ``..`` is a literal folder, and a fileID that is not 40 hex digits is
    never used as a path."""
    folder = _copy("ios_backup_plain", tmp_path)
    (tmp_path / "secret.txt").write_bytes(b"outside the evidence\n")
    con = sqlite3.connect(folder / "Manifest.db")
    con.executemany("INSERT INTO Files VALUES (?, ?, ?, 1, ?)", [
        ("../secret.txt", "HomeDomain", "Library/evil.txt", b"not a plist"),
        ("0" * 40, "AppDomain-../../..", "../../../etc/passwd", None),
        ("1" * 40, None, None, b""),
    ])
    con.commit()
    con.close()
    recs = listing(folder)
    assert "/private/var/mobile/Library/evil.txt" in recs
    assert "/private/var/mobile/Containers/Data/Application/../../../../../../etc/passwd" in recs
    line = assert_one_line_error(run("cat", folder, "/private/var/mobile/Library/evil.txt"), 3)
    assert "outside" not in line
    for path, rec in recs.items():
        if rec["type"] == "file":
            proc = run("cat", folder, path)
            assert b"outside the evidence" not in proc.stdout


def test_nothing_is_written_next_to_the_evidence(tmp_path: Path) -> None:
    before = tree_state(PHONE)
    for name, sample in TRUTH["samples"].items():
        pw = sample["password"]
        ok("info", PHONE / name, password=pw)
        ok("ls", "-r", "--hash", "sha256", PHONE / name, password=pw)
        first = sorted(sample["files"])[0]
        ok("cat", PHONE / name, first, password=pw)
    ok("parse", PHONE / "android_backup.ab", "-p", "android.sms")
    assert tree_state(PHONE) == before


# -- bounds and memory --------------------------------------------------------------------------

def test_decompression_bomb_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    from evkit.errors import EvidenceError
    from evkit.sources.logical import adb_backup

    monkeypatch.setattr(adb_backup, "MIN_LIMIT", 1000)
    monkeypatch.setattr(adb_backup, "MAX_EXPANSION", 2)
    with pytest.raises(EvidenceError, match="decompression bomb"):
        adb_backup.AdbBackup.open(PHONE / "android_backup.ab")


def test_member_count_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    from evkit.errors import EvidenceError
    from evkit.sources.logical import adb_backup, archive

    monkeypatch.setattr(archive, "MAX_MEMBERS", 5)
    with pytest.raises(EvidenceError, match="more than 5 members"):
        adb_backup.AdbBackup.open(PHONE / "android_backup.ab")


def test_large_adb_backup_streams_with_flat_memory(tmp_path: Path) -> None:
    """A 160 MiB database inside a ~160 KiB backup: listed and read without holding it in memory."""
    big = 160 * 1024 * 1024
    ab = tmp_path / "big.ab"
    comp = zlib.compressobj(9)
    with open(ab, "wb") as out:
        out.write(b"ANDROID BACKUP\n5\n1\nnone\n")
        info = tarfile.TarInfo("apps/com.example/db/big.db")
        info.size = big
        out.write(comp.compress(info.tobuf(format=tarfile.USTAR_FORMAT)))
        block = b"\0" * (1024 * 1024)
        for _ in range(big // len(block)):
            out.write(comp.compress(block))
        out.write(comp.compress(b"\0" * 1024))
        out.write(comp.flush())
    # Peak memory from GNU time: os.wait4 on a child forked from pytest reports pytest's own
    # high-water mark, which the child inherits.
    gnu_time = shutil.which("time") and Path("/usr/bin/time")
    if not gnu_time or not gnu_time.exists():
        pytest.skip("GNU time (Debian package `time`) is needed to measure peak memory")
    rss_file = tmp_path / "rss"
    proc = subprocess.Popen([str(gnu_time), "-f", "%M", "-o", str(rss_file), str(EVKIT), "cat", str(ab),
                             "/data/data/com.example/databases/big.db"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    total = 0
    digest = hashlib.sha256()
    while chunk := proc.stdout.read(1024 * 1024):
        total += len(chunk)
        digest.update(chunk)
    assert proc.wait() == 0
    assert total == big and digest.hexdigest() == hashlib.sha256(b"\0" * big).hexdigest()
    peak_kib = int(rss_file.read_text().strip().splitlines()[-1])
    assert peak_kib < 120 * 1024, f"peak memory {peak_kib // 1024} MiB"


# -- layouts --------------------------------------------------------------------------------

def _layout_of(source: Path) -> dict | None:
    from evkit.sources.logical.phone_layout import phone_layout
    from evkit.sources.source import open_source

    with open_source(source) as src:
        return phone_layout(src.mounts[0].fs)


def _tar(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w") as tf:
        for name in names:
            data = b"x"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_phone_layout_of_samples() -> None:
    assert _layout_of(PHONE / "android_ffs.tar") == {"platform": "android", "layout": "full-file-system",
                                                     "prefix": "", "markers": ["/data/data", "/data/system"]}
    assert _layout_of(PHONE / "ios_backup_plain")["layout"] == "itunes-backup"  # type: ignore[index]
    assert _layout_of(PHONE / "android_backup.ab")["layout"] == "adb-backup"  # type: ignore[index]


@pytest.mark.parametrize("names, platform, layout, prefix", [
    (["Dump/data/data/com.whatsapp/databases/msgstore.db", "Dump/data/system/packages.xml"], "android",
     "full-file-system", "/Dump"),
    (["extraction/fs/data/user/0/com.whatsapp/databases/msgstore.db"], "android", "full-file-system", "/extraction/fs"),
    (["filesystem1/private/var/mobile/Library/SMS/sms.db"], "ios", "full-file-system", "/filesystem1"),
    (["private/var/mobile/Library/SMS/sms.db", "private/var/root/x"], "ios", "full-file-system", ""),
    (["data/com.whatsapp/databases/msgstore.db", "system/packages.xml", "user_de/0/x", "app/x/base.apk"],
     "android", "data-partition", ""),
    (["mobile/Library/SMS/sms.db", "root/Library/x", "Keychains/keychain-2.db"], "ios", "data-partition", ""),
])
def test_phone_layout_with_tool_prefixes(tmp_path: Path, names: list[str], platform: str, layout: str,
                                         prefix: str) -> None:
    found = _layout_of(_tar(tmp_path / "x.tar", names))
    assert found is not None
    assert (found["platform"], found["layout"], found["prefix"]) == (platform, layout, prefix)
    folder = tmp_path / "folder"
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    found = _layout_of(folder)
    assert found is not None and (found["platform"], found["layout"], found["prefix"]) == (platform, layout, prefix)


def test_phone_layout_none_for_other_trees(tmp_path: Path) -> None:
    assert _layout_of(_tar(tmp_path / "x.tar", ["Users/alice/Documents/a.txt", "data/readme.txt"])) is None


# -- the iOS 5-9 manifest ---------------------------------------------------------------------

def _mbdb_string(value: bytes | None) -> bytes:
    return b"\xff\xff" if value is None else struct.pack(">H", len(value)) + value


def test_itunes_manifest_mbdb(tmp_path: Path) -> None:
    folder = tmp_path / "old-backup"
    folder.mkdir()
    content = b"old sms database\n"
    records = b""
    for domain, rel, mode, data in [(b"HomeDomain", b"Library/SMS", 0o40755, None),
                                    (b"HomeDomain", b"Library/SMS/sms.db", 0o100644, content),
                                    (b"HomeDomain", b"Library/link", 0o120755, None)]:
        records += b"".join(_mbdb_string(v) for v in (domain, rel, b"Library/SMS" if mode == 0o120755 else None, None,
                                                      None))
        records += struct.pack(">HQIIIIIQBB", mode, 7, 501, 501, 1300000000, 1300000001, 1300000002,
                               len(data or b""), 3, 1)
        records += _mbdb_string(b"com.apple.backup.prop") + _mbdb_string(b"v")
        if data is not None:
            (folder / hashlib.sha1(domain + b"-" + rel).hexdigest()).write_bytes(data)
    (folder / "Manifest.mbdb").write_bytes(b"mbdb\x05\x00" + records)
    (folder / "Manifest.plist").write_bytes(plistlib.dumps({"IsEncrypted": False, "Version": "9.1"}))
    (folder / "Info.plist").write_bytes(plistlib.dumps({"Device Name": "Old iPhone"}))
    recs = listing(folder)
    assert recs[SMS_DB]["size"] == len(content) and recs[SMS_DB]["mtime"] == "2011-03-13T07:06:40Z"
    assert recs["/private/var/mobile/Library/link"]["type"] == "link"
    assert ok("cat", folder, SMS_DB) == content
    (folder / "Manifest.mbdb").write_bytes(b"mbdb\x05\x00" + records[:-10])
    assert "truncated" in assert_one_line_error(run("ls", folder), 3)
