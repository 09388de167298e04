"""The evidence layer against the committed sample images and the truth their generator wrote."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from pathlib import Path

import pytest

from evkit import names
from evkit.sources.source import open_source
from tests.conftest import assert_one_line_error, evkit

MBR_FORMS = ["mbr_fat32_ntfs.raw", "mbr_fat32_ntfs.E01", "mbr_fat32_ntfs.split.000"]


def _truth(samples: Path, base: str) -> list[dict[str, str]]:
    lines = (samples / "truth" / f"{base}.files.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]


def _truth_path(row: dict[str, str]) -> str:
    """Truth files write undecodable bytes as %XX; evkit keeps them as surrogate escapes."""
    raw = urllib.parse.unquote_to_bytes(row["path"])
    return f"/vol{row['volume']}" + names.decode(raw)


def _listing(image: Path) -> dict[str, object]:
    with open_source(image) as src:
        out = {}
        for e in src.walk("/", recursive=True):
            md5 = None
            if e.type in ("file", "ads") and e.ref is not None:
                with src.open(e) as fh:
                    md5 = hashlib.md5(fh.read()).hexdigest()
            out.setdefault(e.path, []).append((e, md5))
        return out


@pytest.mark.parametrize("image,base", [(f, "mbr_fat32_ntfs") for f in MBR_FORMS] + [("gpt_ext4.raw", "gpt_ext4")])
def test_listing_matches_generator_truth(samples: Path, image: str, base: str) -> None:
    listing = _listing(samples / image)
    rows = _truth(samples, base)
    assert rows
    for row in rows:
        path = _truth_path(row)
        assert path in listing, f"{image}: {path} not listed"
        candidates = [(e, md5) for e, md5 in listing[path] if e.deleted == (row["deleted"] == "1")]
        assert candidates, (path, [(e.deleted, e.type) for e, _ in listing[path]])
        e, md5 = candidates[0]
        assert e.type == row["type"], (path, e.type)
        if row["size"] and row["recoverable"] == "1":
            assert e.size == int(row["size"]), (path, e.size)
        if row["md5"] and row["recoverable"] == "1" and row["type"] in ("file", "ads"):
            assert md5 == row["md5"], path


def test_images_json_partitions_and_hashes(samples: Path) -> None:
    facts = json.loads((samples / "truth" / "images.json").read_text())
    raw_md5 = hashlib.md5((samples / "mbr_fat32_ntfs.raw").read_bytes()).hexdigest()
    for form in MBR_FORMS:
        data = json.loads(evkit("hash", "--json", "--algo", "md5,sha1,sha256", str(samples / form), check=True).stdout)
        assert data["md5"] == raw_md5, form
    info = json.loads(evkit("info", "--json", str(samples / "mbr_fat32_ntfs.E01"), check=True).stdout)
    assert [fs["mount"] for fs in info["filesystems"]] == ["/vol2", "/vol3"]
    assert [fs["type"] for fs in info["filesystems"]] == ["fat32", "ntfs"]
    headers = info["container"]["metadata"]["headers"]
    assert headers["case_number"] == "EVK-2026-0001"
    assert headers["evidence_number"] == "E1"
    assert headers["examiner"] == "Sample Examiner"
    assert set(info["container"]["stored_hashes"]) == {"md5", "sha1"}
    gpt = json.loads(evkit("info", "--json", str(samples / "gpt_ext4.raw"), check=True).stdout)
    assert gpt["volume_system"]["type"] == "gpt"
    assert [(fs["mount"], fs["type"]) for fs in gpt["filesystems"]] == [("/vol4", "ext4")]
    assert facts  # the generator's facts file is present and parsable


def test_e01_verify_and_corrupted_chunk(samples: Path, tmp_path: Path) -> None:
    ok = json.loads(evkit("hash", "--verify", "--json", str(samples / "mbr_fat32_ntfs.E01"), check=True).stdout)
    assert ok["verified"] is True and ok["matches"] == {"md5": True, "sha1": True}
    data = bytearray((samples / "mbr_fat32_ntfs.E01").read_bytes())
    # Corrupt one byte in the middle of the chunk area (the E01 is mostly compressed chunks).
    pos = len(data) // 2
    data[pos] ^= 0xFF
    bad = tmp_path / "bad.E01"
    bad.write_bytes(bytes(data))
    proc = evkit("hash", "--verify", "--json", str(bad))
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["verified"] is False
    assert result["chunks"]["errors"], "a corrupted chunk must be named even if the media hash happened to match"


def test_ntfs_ads_and_deleted(samples: Path) -> None:
    image = str(samples / "mbr_fat32_ntfs.raw")
    rows = {json.loads(l)["path"]: json.loads(l) for l in evkit("ls", "-r", "--json", image, "/vol3/Users").stdout.splitlines()}
    ads = rows["/vol3/Users/alice/Downloads/setup.exe:Zone.Identifier"]
    assert ads["type"] == "ads" and ads["locator"].endswith("#" + ads["address"]) and ads["address"].count("-") == 2
    stream = evkit("cat", image, "/vol3/Users/alice/Downloads/setup.exe", "--stream", "Zone.Identifier", check=True).stdout
    assert b"ZoneId=3" in stream
    assert rows["/vol3/Users/alice/Documents/secret.txt"]["deleted"] is True
    inode = rows["/vol3/Users/alice/Documents/secret.txt"]["inode"]
    by_inode = evkit("cat", image, "--inode", str(inode), "--volume", "3", check=True).stdout
    assert by_inode == evkit("cat", image, "/vol3/Users/alice/Documents/secret.txt", check=True).stdout
    assert_one_line_error(evkit("cat", image, "--inode", str(inode)), 2)


def test_non_utf8_name_round_trip(samples: Path) -> None:
    image = str(samples / "gpt_ext4.raw")
    rows = [json.loads(l) for l in evkit("ls", "-r", "--json", image).stdout.splitlines()]
    row = next(r for r in rows if r["path"].endswith("caf\\xe9.txt"))
    assert bytes.fromhex(row["path_hex"]).endswith(b"caf\xe9.txt")
    content = evkit("cat", image, row["path"], check=True).stdout
    assert hashlib.md5(content).hexdigest() == "78b1c36742db818678762cd60115d934"


def test_deleted_filter_and_bodyfile(samples: Path) -> None:
    image = str(samples / "mbr_fat32_ntfs.split.000")
    deleted = [json.loads(l) for l in evkit("ls", "-r", "--json", "--deleted", image).stdout.splitlines()]
    assert deleted and all(r["deleted"] for r in deleted)
    allocated = [json.loads(l) for l in evkit("ls", "-r", "--json", "--allocated", image).stdout.splitlines()]
    assert allocated and not any(r["deleted"] for r in allocated)
    lines = evkit("ls", "-r", "--bodyfile", image, check=True).stdout.decode().splitlines()
    body = [line for line in lines if "($FILE_NAME)" not in line]
    assert len(body) == len(deleted) + len(allocated)
    fn = [line for line in lines if "($FILE_NAME)" in line]
    assert fn and all(line.split("|")[2].split("-")[1] == "48" for line in fn)
    assert any(line.startswith("0|/vol3/Users/alice/Documents/notes.txt ($FILE_NAME)|70-48-") for line in fn)
    assert all(len(line.split("|")) == 11 for line in body)
    assert any(line.endswith("|0|0|0|0") is False and "(deleted)" in line for line in body)


def test_ntfs_bodyfile_matches_fls(samples: Path) -> None:
    """Every line `fls -r -m /` prints for the NTFS volume, $FILE_NAME lines included, is in ours.

    Known differences: evkit also lists the base entry of system files that only have named
    streams ($Secure, $Extend/$Quota...), and Debian's older TSK prints garbage times for $MFT.
    """
    import shutil
    import subprocess

    if shutil.which("fls") is None:
        pytest.skip("sleuthkit's fls is not installed")
    image = samples / "mbr_fat32_ntfs.raw"
    theirs = set(subprocess.run(["fls", "-o", "69632", "-r", "-m", "/", str(image)], capture_output=True, check=True).stdout.decode().splitlines())
    ours = {line.replace("|/vol3/", "|/", 1) for line in evkit("ls", "-r", "--bodyfile", str(image), "/vol3", check=True).stdout.decode().splitlines()}
    missing = {line for line in theirs - ours if not line.startswith("0|/$MFT|")}
    assert not missing
    extra = ours - theirs
    assert {line.split("|")[1] for line in extra} <= {"/$MFT", "/$Secure", "/$Extend/$ObjId", "/$Extend/$Quota", "/$Extend/$Reparse"}
