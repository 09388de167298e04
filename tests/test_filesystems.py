"""Filesystems and volume systems made at test time with Debian's tools: FAT12/16, exFAT, APM."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import evkit

CONTENT = {"/README.TXT": b"fat test\n", "/DOCS/NOTE.TXT": b"x" * 5000, "/DOCS/Long file name here.txt": b"lfn\n"}


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def _fat(path: Path, fat_bits: int, size_kib: int, offset: int = 0) -> None:
    """A FAT filesystem holding CONTENT, at byte ``offset`` of ``path``."""
    fs = path.with_suffix(".fs")
    subprocess.run(["mkfs.vfat", "-C", "-F", str(fat_bits), "-n", f"EVK{fat_bits}", str(fs), str(size_kib)],
                   check=True, capture_output=True)
    subprocess.run(["mmd", "-i", str(fs), "::/DOCS"], check=True)
    for name, data in CONTENT.items():
        src = path.parent / "src.bin"
        src.write_bytes(data)
        subprocess.run(["mcopy", "-i", str(fs), str(src), "::" + name], check=True)
    with open(path, "r+b" if path.exists() else "wb") as out:
        out.seek(offset)
        out.write(fs.read_bytes())
    fs.unlink()


def _files(image: Path, prefix: str = "") -> dict[str, dict]:
    rows = [json.loads(line) for line in evkit("ls", "-r", "--json", "--hash", "md5", str(image), check=True).stdout.splitlines()]
    return {r["path"][len(prefix):]: r for r in rows if r["path"].startswith(prefix)}


@pytest.mark.parametrize("bits,size_kib,fs_type", [(12, 1440, "fat12"), (16, 16384, "fat16")])
def test_fat12_fat16(tmp_path: Path, bits: int, size_kib: int, fs_type: str) -> None:
    _need("mkfs.vfat", "mcopy")
    image = tmp_path / "fat.img"
    _fat(image, bits, size_kib)
    info = json.loads(evkit("info", "--json", str(image), check=True).stdout)
    assert [fs["type"] for fs in info["filesystems"]] == [fs_type]
    assert info["filesystems"][0]["label"] == f"EVK{bits}"
    files = _files(image)
    for name, data in CONTENT.items():
        assert files[name]["md5"] == hashlib.md5(data).hexdigest(), name
        assert files[name]["size"] == len(data)
    assert evkit("cat", str(image), "/DOCS/Long file name here.txt", check=True).stdout == b"lfn\n"


def test_exfat(tmp_path: Path) -> None:
    _need("mkfs.exfat")
    image = tmp_path / "exfat.img"
    with open(image, "wb") as fh:
        fh.truncate(8 * 1024 * 1024)
    subprocess.run(["mkfs.exfat", "-L", "EVKEX", str(image)], check=True, capture_output=True)
    info = json.loads(evkit("info", "--json", str(image), check=True).stdout)
    assert [fs["type"] for fs in info["filesystems"]] == ["exfat"]
    rows = [json.loads(line) for line in evkit("ls", "-r", "--json", str(image), check=True).stdout.splitlines()]
    assert "/$UPCASE_TABLE" in {r["path"] for r in rows}


def test_apple_partition_map(tmp_path: Path) -> None:
    _need("parted", "mkfs.vfat", "mcopy", "mmls")
    image = tmp_path / "apm.img"
    with open(image, "wb") as fh:
        fh.truncate(24 * 1024 * 1024)
    subprocess.run(["parted", "-s", str(image), "mklabel", "mac", "mkpart", "p1", "fat16", "1MiB", "23MiB"],
                   check=True, capture_output=True)
    mmls = subprocess.run(["mmls", str(image)], capture_output=True, check=True, text=True).stdout
    row = next(line for line in mmls.splitlines() if line[:3].isdigit() and int(line.split()[2]) == 2048)
    addr = int(row.split(":")[0])
    start = 2048
    _fat(image, 16, 20 * 1024, offset=start * 512)
    info = json.loads(evkit("info", "--json", str(image), check=True).stdout)
    assert info["volume_system"]["type"] == "apm"
    assert [fs["mount"] for fs in info["filesystems"]] == [f"/vol{addr}"]
    files = _files(image, f"/vol{addr}")
    assert files["/README.TXT"]["md5"] == hashlib.md5(CONTENT["/README.TXT"]).hexdigest()
    assert files["/README.TXT"]["locator"].startswith(f"raw:apm.img > apm:vol{addr}@{start * 512} > fat16:/README.TXT#")
