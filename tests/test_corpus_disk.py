"""The evidence layer against real third-party images and the facts their projects assert."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evkit.media_hash import hash_media
from evkit.sources.source import open_source
from tests.conftest import assert_one_line_error, evkit

TRUTH_TYPES = {"dir": "dir", "virtual_dir": "dir", "file": "file", "symlink": "link"}


def _truth_images(corpus: Path) -> list[tuple[Path, Path]]:
    summary = json.loads((corpus / "truth/disk/_disk_summary.json").read_text())
    return [(corpus / key, corpus / "truth" / val["truth_file"]) for key, val in summary.items() if "truth_file" in val]


def _listing(image: Path) -> dict[tuple[str, bool], dict]:
    out = {}
    with open_source(image) as src:
        offsets = {("/" + m.name if m.name else ""): (m.volume or {}).get("offset", 0) for m in src.mounts}
        for e in src.walk("/", recursive=True):
            if e.type == "ads" or (src.partitioned and e.path.count("/") == 1):
                continue
            mount = next((k for k in offsets if k and e.path.startswith(k + "/")), "")
            md5 = None
            if e.type == "file" and e.ref is not None:
                with src.open(e) as fh:
                    md5 = hashlib.md5(fh.read()).hexdigest()
            out[(offsets[mount], e.path[len(mount):], e.deleted)] = {"type": e.type, "size": e.size, "md5": md5,
                                                                      "mtime": e.mtime}
    return out


def test_corpus_has_truth(corpus: Path) -> None:
    assert len(_truth_images(corpus)) >= 10


@pytest.mark.parametrize("index", range(12))
def test_listing_matches_truth(corpus: Path, index: int) -> None:
    images = _truth_images(corpus)
    if index >= len(images):
        pytest.skip("fewer truth files")
    image, truth_file = images[index]
    ours = _listing(image)
    lines = truth_file.read_bytes().decode("utf-8").split("\n")
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]
    assert rows
    expected_keys = set()
    for row in rows:
        key = (int(row["fs_offset"]), row["path"], row["deleted"] == "1")
        expected_keys.add(key)
        assert key in ours, f"{image.name}: {key} missing; have {sorted(ours)}"
        got = ours[key]
        assert got["type"] == TRUTH_TYPES[row["type"]], (key, got)
        assert got["size"] == int(row["size"]), (key, got)
        if row["md5"]:
            assert got["md5"] == row["md5"], (key, got)
        if row["mtime_utc"]:
            assert got["mtime"] == row["mtime_utc"], (key, got)
    assert set(ours) == expected_keys, f"{image.name}: extra entries {sorted(set(ours) - expected_keys)}"


def test_dfvfs_containers_hold_same_media(corpus: Path) -> None:
    d = corpus / "disk/dfvfs"
    for name in ["ext2.E01", "ext2.split.E01", "ext2.splitraw.000", "ext2.qcow2", "ext2.vmdk", "ext2.vhd"]:
        with open_source(d / name) as src:
            # A VHD rounds its size up to a CHS geometry: the same 4 MiB, then zero padding.
            size = 4 * 1024 * 1024
            assert hashlib.md5(src.media.read(0, size)).hexdigest() == "196066add11fb71c4c49cf1bb50d6d24", name
            assert src.media.read(size, src.media.size - size).count(0) == src.media.size - size
            if name != "ext2.vhd":
                assert hash_media(src, ["md5"]).hashes["md5"] == "196066add11fb71c4c49cf1bb50d6d24", name
            e = src.by_inode(14)
            assert e.size == 116
            with src.open(e) as fh:
                assert hashlib.md5(fh.read()).hexdigest() == "39cb097008d17660abd0539891a672af", name
            assert {src.lookup(p).inode for p in ["/a_directory", "/a_directory/a_file", "/passwords.txt",
                                                   "/a_directory/another_file", "/a_link"]} == {12, 13, 14, 15, 16}


@pytest.mark.parametrize("name", ["dfvfs/ext2.E01", "dfvfs/ext2.split.E01", "sleuthkit/image.E01"])
def test_every_corpus_e01_verifies(corpus: Path, name: str) -> None:
    proc = evkit("hash", str(corpus / "disk" / name), "--verify", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["verified"] is True
    assert data["matches"] == {"md5": True}
    assert data["md5"] == data["stored"]["md5"]
    assert data["chunks"]["errors"] == [] and data["chunks"]["checked"] > 0


def test_ewf_headers(corpus: Path) -> None:
    data = json.loads(evkit("info", "--json", str(corpus / "disk/dfvfs/ext2.E01"), check=True).stdout)
    headers = data["container"]["metadata"]["headers"]
    assert headers["case_number"] == "case"
    assert headers["evidence_number"] == "evidence"
    assert headers["examiner"] == "examiner"
    assert headers["description"] == "description"
    assert headers["notes"] == "notes"
    assert headers["acquisition_software_version"] == "20140812"
    assert "acquisition_date" in headers
    assert data["container"]["stored_hashes"] == {"md5": "196066add11fb71c4c49cf1bb50d6d24"}
    assert data["container"]["segments"][0].endswith("ext2.E01")


def test_volume_system_has_seven_entries(corpus: Path) -> None:
    data = json.loads(evkit("info", "--json", str(corpus / "disk/pytsk/tsk_volume_system.raw"), check=True).stdout)
    parts = data["volume_system"]["partitions"]
    assert data["volume_system"]["type"] == "dos"
    assert len(parts) == 7
    assert [p["start"] for p in parts if p["flags"] == "allocated"] == [1, 352]
    assert [fs["mount"] for fs in data["filesystems"]] == ["/vol6"]
    assert data["filesystems"][0]["offset"] == 352 * 512


def test_partitioned_paths_and_locator(corpus: Path) -> None:
    proc = evkit("ls", "--json", "-r", str(corpus / "disk/pytsk/tsk_volume_system.raw"), check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[0]["path"] == "/vol6"
    lf = next(r for r in rows if r["path"] == "/vol6/lost+found")
    assert lf["locator"] == "raw:tsk_volume_system.raw > dos:vol6@180224 > ext2:/lost+found#11"


def test_deleted_names_listed(corpus: Path) -> None:
    proc = evkit("ls", "--json", "-r", "--deleted", str(corpus / "disk/sleuthkit/image.dd"), check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted(r["path"] for r in rows) == ["/a_directory/.another_file.swp", "/a_directory/another_file~"]
    assert all(r["deleted"] for r in rows)


def test_non_ascii_image_name(corpus: Path) -> None:
    image = corpus / "disk/dfvfs/ímynd.dd"
    proc = evkit("ls", "--json", str(image), check=True)
    assert any(json.loads(line)["locator"].startswith("raw:ímynd.dd > ext2:") for line in proc.stdout.splitlines())


@pytest.mark.parametrize("rel,code,needle", [
    ("disk/sleuthkit/bogus.E01", 3, "empty"),
    ("disk/pytsk/bogus.raw", 3, "no filesystem"),
    ("disk/dfvfs/bogus.001", 3, "no filesystem"),
])
def test_bogus_images_fail_cleanly(corpus: Path, rel: str, code: int, needle: str) -> None:
    for cmd in (["ls"], ["info"], ["cat"]):
        args = [*cmd, str(corpus / rel)] + (["/x"] if cmd == ["cat"] else [])
        line = assert_one_line_error(evkit(*args), code)
        assert needle in line and Path(rel).name in line


def test_evidence_unchanged(corpus: Path, tmp_path: Path) -> None:
    image = corpus / "disk/dfvfs/ext2.E01"
    before = (hashlib.sha256(image.read_bytes()).hexdigest(), image.stat().st_mtime_ns)
    evkit("ls", "-r", "--hash", "md5", str(image), check=True)
    evkit("hash", "--verify", str(image), check=True)
    after = (hashlib.sha256(image.read_bytes()).hexdigest(), image.stat().st_mtime_ns)
    assert before == after
    assert sorted(p.name for p in image.parent.iterdir()) == sorted(p.name for p in image.parent.iterdir())


@pytest.mark.parametrize("rel", ["sleuthkit/image.dd", "dfvfs/hfsplus.raw", "dfvfs/iso9660.raw", "dfvfs/ext2.E01"])
def test_bodyfile_matches_fls(corpus: Path, rel: str) -> None:
    """`ls --bodyfile` gives what `fls -r -m /` gives, except that evkit escapes control characters
    losslessly (\\x0d) where fls writes a lossy ^."""
    import shutil
    import subprocess

    if shutil.which("fls") is None:
        pytest.skip("sleuthkit's fls is not installed")
    image = corpus / "disk" / rel
    theirs = subprocess.run(["fls", "-r", "-m", "/", str(image)], capture_output=True, check=True).stdout.decode().splitlines()
    ours = evkit("ls", "-r", "--bodyfile", str(image), check=True).stdout.decode().splitlines()
    assert len(ours) == len(theirs)
    for a, b in zip(theirs, ours):
        if "^" in a:
            assert a.split("|")[2:] == b.split("|")[2:]
        else:
            assert a == b
