"""Hostile volume systems (issue 16): a planted or damaged number must not hide the valid data.

A GPT (UEFI specification 2.10, 5.3) built with sgdisk, its second entry's first LBA then set to
2^63 + 5 with both checksums recomputed: The Sleuth Kit rejects the whole table and sees only the
protective MBR, so the valid first partition vanished. evkit now reads the table itself, mounts the
entries that fit the media and names the one that does not.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import evkit


def _gpt_with_a_huge_entry(tmp_path: Path) -> Path:
    for tool in ("sgdisk", "mkfs.fat", "mcopy"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is needed to build the image (Debian: gdisk dosfstools mtools)")
    img = tmp_path / "disk.img"
    with open(img, "wb") as fh:
        fh.truncate(20 * 1024 * 1024)
    subprocess.run(["sgdisk", "-n", "1:2048:10239", "-n", "2:10240:30000", str(img)], check=True, capture_output=True)
    subprocess.run(["mkfs.fat", "--offset", "2048", str(img), "4096"], check=True, capture_output=True)
    note = tmp_path / "NOTE.TXT"
    note.write_text("inside the valid partition\n")
    subprocess.run(["mcopy", "-i", f"{img}@@1M", str(note), "::/NOTE.TXT"], check=True, capture_output=True)
    with open(img, "r+b") as f:
        f.seek(512)
        hdr = bytearray(f.read(92))
        entries_lba, count, size = struct.unpack_from("<QII", hdr, 72)
        f.seek(entries_lba * 512)
        ents = bytearray(f.read(count * size))
        struct.pack_into("<QQ", ents, size + 32, 2**63 + 5, 2**63 + 100)  # entry 2: first and last LBA
        f.seek(entries_lba * 512)
        f.write(ents)
        struct.pack_into("<I", hdr, 88, zlib.crc32(ents))
        struct.pack_into("<I", hdr, 16, 0)
        struct.pack_into("<I", hdr, 16, zlib.crc32(bytes(hdr)))
        f.seek(512)
        f.write(hdr)
    return img


def test_a_gpt_entry_beyond_the_media_does_not_hide_the_valid_partition(tmp_path: Path) -> None:
    img = _gpt_with_a_huge_entry(tmp_path)
    mmls = subprocess.run(["mmls", str(img)], capture_output=True, text=True)
    assert "GPT Safety" in mmls.stdout and "Linux" not in mmls.stdout  # TSK sees only the protective MBR
    listed = evkit("ls", "--no-header", "-r", str(img))
    assert listed.returncode == 0, listed.stderr
    assert "/gpt1/NOTE.TXT" in listed.stdout.decode()
    assert evkit("cat", str(img), "/gpt1/NOTE.TXT", check=True).stdout == b"inside the valid partition\n"
    info = json.loads(evkit("info", "--json", str(img), check=True).stdout)
    text = json.dumps(info)
    assert "GPT entry 2: LBA 9223372036854775813" in text and "outside the media" in text


def test_a_virtual_disk_claiming_an_exbibyte_is_refused_at_once(tmp_path: Path) -> None:
    """qemu-img writes a 23 MB QCOW2 whose header claims 1 EiB (cluster size 2 MiB): `hash` ran for
    ever. The claim is refused at open with one line, in every command, unless the lab raises the
    bound; the sample images stay well inside it."""
    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img is needed (Debian: qemu-utils)")
    img = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=2M", str(img), "1E"], check=True,
                   capture_output=True)
    assert img.stat().st_size < 64 * 2**20
    from tests.conftest import assert_one_line_error

    for command in ("hash", "info", "ls"):
        err = assert_one_line_error(evkit(command, str(img), timeout=60), 3)
        assert "1,152,921,504,606,846,976 bytes" in err and "EVKIT_MAX_MEDIA_BYTES" in err


def test_qcow_offsets_beyond_any_file_are_one_line(tmp_path: Path) -> None:
    """QCOW2 header (qemu docs/interop/qcow2.txt): l1_table_offset at byte 40, backing_file_offset
    at 8 (with its size at 16), big-endian. Set to 2^63 + n they ended `hash` in an internal
    OverflowError; now one line saying the header is damaged, exit 3."""
    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img is needed (Debian: qemu-utils)")
    from tests.conftest import assert_one_line_error

    for field, data in ((40, struct.pack(">Q", 2**63 + 4096)), (8, struct.pack(">QI", 2**63 + 7, 20))):
        img = tmp_path / f"field{field}.qcow2"
        subprocess.run(["qemu-img", "create", "-f", "qcow2", str(img), "10M"], check=True, capture_output=True)
        with open(img, "r+b") as f:
            f.seek(field)
            f.write(data)
        err = assert_one_line_error(evkit("hash", str(img)), 3)
        assert "which no file can hold" in err and "internal error" not in err
