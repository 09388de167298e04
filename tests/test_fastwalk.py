"""The C walker of ``evkit ls`` (``_tskwalk.c``) prints exactly what the Python walk prints.

Every listing here is made twice, as an examiner gets it and with ``EVKIT_NO_NATIVE=1`` (the
pytsk3 walk, which is the reference), and the two runs must agree byte for byte on stdout,
stderr and exit code: the sample images, the corpus's disk images, and images built here with
hostile names, deleted entries, deep nesting and damaged metadata. Where the walker is meant to
apply, a test also checks that it did, so a walker that silently never runs cannot pass.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evkit.sources.filesystems import tsk_native
from evkit.sources.source import open_source
from tests.conftest import EVKIT

JSON = ("-r", "--json")
DELETED = ("-r", "--json", "--deleted")
FIXED_TIME = 1_768_478_400  # 2026-01-15T12:00:00Z: image bytes, and so their damaged copies, are the same on every run


def _run(args: tuple[str, ...], native: bool) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != tsk_native.NO_NATIVE_ENV}
    if not native:
        env[tsk_native.NO_NATIVE_ENV] = "1"
    return subprocess.run([str(EVKIT), "ls", *args], check=False, capture_output=True, env=env, timeout=300)


def same_listing(image: Path, *args: str) -> bytes:
    """``evkit ls ARGS IMAGE`` with and without the C walker: identical, and its stdout."""
    fast, slow = _run((*args, str(image)), True), _run((*args, str(image)), False)
    assert fast.stderr == slow.stderr, (fast.stderr, slow.stderr)
    assert fast.returncode == slow.returncode, (fast.returncode, slow.returncode)
    if fast.stdout != slow.stdout:
        a, b = fast.stdout.splitlines(), slow.stdout.splitlines()
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        raise AssertionError(f"line {first + 1} differs ({len(a)} lines native, {len(b)} python):\n"
                             f"native: {a[first:first + 1]!r}\npython: {b[first:first + 1]!r}")
    return fast.stdout


def native_lines(image: Path) -> int:
    """How many lines of ``ls -r --json IMAGE`` the C walker writes itself (0: Python writes all)."""
    if tsk_native.load() is None:
        return 0
    with open_source(image) as src, tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        saved, sys.stdout = sys.stdout, out
        try:
            left = tsk_native.native_walk(src, "/", True, json=True, only=tsk_native.ALL)
            for _ in left or ():
                pass
        finally:
            sys.stdout = saved
        out.seek(0)
        return len(out.read().splitlines())


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(autouse=True)
def _native_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tsk_native.NO_NATIVE_ENV, raising=False)


def test_walker_is_built_where_libtsk_is() -> None:
    """CI installs libtsk-dev: a build that silently fell back to Python must fail here."""
    if not Path("/usr/include/tsk/libtsk.h").exists():
        pytest.skip("libtsk-dev is not installed, so the C walker is not built")
    assert tsk_native.load() is not None, "evkit was installed without its C walker (rebuild: pip install -e .)"


# -- sample images and the corpus ---------------------------------------------------------------

@pytest.mark.parametrize("args", [JSON, DELETED], ids=["json", "deleted"])
@pytest.mark.parametrize("name", ["mbr_fat32_ntfs.raw", "mbr_fat32_ntfs.split.000", "mbr_fat32_ntfs.E01", "gpt_ext4.raw"])
def test_samples(samples: Path, name: str, args: tuple[str, ...]) -> None:
    assert same_listing(samples / name, *args)


def test_walker_applies_to_raw_and_split_not_to_ewf_or_ntfs(samples: Path) -> None:
    # The 18 entries of FAT32 (/vol2) are the C walker's, the 46 of NTFS (/vol3) Python's.
    assert native_lines(samples / "mbr_fat32_ntfs.raw") == native_lines(samples / "mbr_fat32_ntfs.split.000") == 18
    assert native_lines(samples / "gpt_ext4.raw") == 16
    assert native_lines(samples / "mbr_fat32_ntfs.E01") == 0


@pytest.mark.parametrize("args", [
    ("-r",), ("-r", "--allocated"), ("--json",), ("/vol2/Documents",), ("--json", "-r", "/vol2/DCIM"),
    ("--json", "/vol2/Documents/readme.txt"), ("--deleted", "/vol2/Temp/"), ("-r", "/vol3/Users"),
    ("/vol9",), ("-r", "/vol2/nothing/here"),
], ids=lambda a: " ".join(a))
def test_text_filters_and_folders(samples: Path, args: tuple[str, ...]) -> None:
    same_listing(samples / "mbr_fat32_ntfs.raw", *args)


CORPUS_DISKS = ["sleuthkit/image.dd", "dfvfs/ímynd.dd", "dfvfs/ext2.splitraw.000", "dfvfs/hfsplus.raw",
                "dfvfs/iso9660.raw", "pytsk/tsk_volume_system.raw"]


@pytest.mark.parametrize("args", [JSON, DELETED], ids=["json", "deleted"])
@pytest.mark.parametrize("name", CORPUS_DISKS)
def test_corpus_disks(corpus: Path, name: str, args: tuple[str, ...]) -> None:
    same_listing(corpus / "disk" / name, *args)
    assert native_lines(corpus / "disk" / name) > 0


@pytest.mark.parametrize("name", ["dfvfs/bogus.001", "pytsk/bogus.raw", "sleuthkit/bogus.E01"])
def test_corpus_unreadable_disks_fail_alike(corpus: Path, name: str) -> None:
    same_listing(corpus / "disk" / name, *JSON)


# -- hostile names, deep nesting, deleted entries ----------------------------------------------

HOSTILE = [
    b"caf\xe9.txt", b"ctrl\x01\x1f\x7f.txt", b"new\nline", b"tab\there", b"back\\slash", b"quo\"te's", b"pct%41",
    b"hash#1", b"gt>lt", b"at@host", "rtl\u202egpj.exe".encode(), "ls\u2028ps\u2029".encode(),
    "c1\u0085\u009f".encode(), "zw\u200b\u2066\ufeff".encode(), "é日本😀.txt".encode(), b"\xed\xa0\x80surrogate",
    b"\xc0\xafoverlong", b"\xf4\x90\x80\x80big", b"trunc\xe2\x82", b"L" * 255, b" lead space", b"...",
]


def _hostile_tree(root: Path) -> None:
    """HOSTILE names, symlinks with hostile targets, 150 folders deep (4.6 kB paths), and a
    folder ``gone`` whose files the caller deletes."""
    root.mkdir()
    top = os.open(root, os.O_RDONLY)
    try:
        for i, name in enumerate(HOSTILE):
            fd = os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=top)
            os.write(fd, b"x" * i)
            os.close(fd)
        os.symlink(b"target\xff\\\"%#/../x", b"link\xfe", dir_fd=top)
        os.symlink(b"caf\xe9.txt", b"good link", dir_fd=top)
        os.mkdir(b"gone", dir_fd=top)
        for i in range(5):
            fd = os.open(b"gone/del%d.txt" % i, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=top)
            os.write(fd, b"d" * i)
            os.close(fd)
        cur = os.dup(top)
        for depth in range(150):  # one level at a time: the whole path is longer than PATH_MAX
            name = b"d%03d\xe9\\" % depth + b"n" * 24
            os.mkdir(name, dir_fd=cur)
            nxt = os.open(name, os.O_RDONLY, dir_fd=cur)
            os.close(cur)
            cur = nxt
        fd = os.open(b"bottom\x01.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=cur)
        os.close(fd)
        os.close(cur)
    finally:
        os.close(top)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(os.fsencode(root), topdown=False):
        for name in dirnames + filenames:
            os.utime(name, (FIXED_TIME, FIXED_TIME), dir_fd=dirfd, follow_symlinks=False)
    os.utime(root, (FIXED_TIME, FIXED_TIME))


@pytest.fixture(scope="module", params=["ext2", "ext3", "ext4"])
def hostile_ext(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same bytes on every run (fixed times, UUID and hash seed), so damaged copies are too."""
    _need("mke2fs", "debugfs")
    work = tmp_path_factory.mktemp(request.param)
    _hostile_tree(work / "tree")
    image = work / f"hostile.{request.param}"
    env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(FIXED_TIME))
    subprocess.run(["mke2fs", "-q", "-F", "-t", request.param, "-U", "5c3b0a3e-0000-4000-8000-00000000f457",
                    "-E", "hash_seed=5c3b0a3e-0000-4000-8000-00000000f458", "-d", str(work / "tree"), str(image), "8M"],
                   check=True, capture_output=True, env=env)
    for name in ("/gone/del1.txt", "/gone/del3.txt"):
        subprocess.run(["debugfs", "-w", "-R", f"rm {name}", str(image)], check=True, capture_output=True, env=env)
    return image


@pytest.mark.parametrize("args", [JSON, DELETED, ("-r",), ("--allocated",)], ids=["json", "deleted", "text", "top"])
def test_hostile_ext(hostile_ext: Path, args: tuple[str, ...]) -> None:
    out = same_listing(hostile_ext, *args)
    if args == JSON:
        assert b'"path_hex": "2f636166e92e747874"' in out  # /caf\xe9.txt
        assert b'"link_target": "target\\\\xff\\\\\\\\\\"%#/../x"' in out
        assert out.count(b"/d149\\\\xe9\\\\\\\\" + b"n" * 24 + b"/bottom\\\\x01.txt") == 1
        assert native_lines(hostile_ext) == len(out.splitlines())
    if args == DELETED:
        assert out.count(b"\n") == 2


def _mtools(image: Path, *args: str) -> None:
    env = dict(os.environ, LC_ALL="C.UTF-8", MTOOLS_SKIP_CHECK="1")
    subprocess.run([args[0], "-i", str(image), *args[1:]], check=True, capture_output=True, env=env)


@pytest.mark.parametrize("bits,size_kib", [(12, 1440), (16, 16384), (32, 40960)])
def test_hostile_fat(tmp_path: Path, bits: int, size_kib: int) -> None:
    _need("mkfs.vfat", "mcopy", "mmd", "mdel")
    image = tmp_path / f"fat{bits}.img"
    subprocess.run(["mkfs.vfat", "-C", "-F", str(bits), str(image), str(size_kib)], check=True, capture_output=True)
    data = tmp_path / "data.txt"
    data.write_bytes(b"content\n")
    for name in ["é日本.txt", "quo'te %41 #h @a", "rtl\u202egpj.exe", "L" * 250, "sp ace. dots..txt", "UPPER.TXT", "lower.txt"]:
        _mtools(image, "mcopy", str(data), "::" + name)
    folder = ""
    for depth in range(20):
        folder += f"/dir {depth} é"
        _mtools(image, "mmd", "::" + folder)
    _mtools(image, "mcopy", str(data), f"::{folder}/bottom.txt")
    _mtools(image, "mcopy", str(data), "::/dir 0 é/gone.txt")
    _mtools(image, "mdel", "::/dir 0 é/gone.txt")
    for args in (JSON, DELETED, ("-r",)):
        same_listing(image, *args)
    assert native_lines(image) > 25


def _exfat_entry_set(name: list[str | int], attr: int, cluster: int, size: int, deleted: bool = False) -> bytes:
    """An exFAT file entry set (file, stream extension, names) for ``name``: text, or ints for
    raw UTF-16 code units (so unpaired surrogates and control characters can be written)."""
    units: list[int] = []
    for part in name:
        units += [part] if isinstance(part, int) else list(struct.unpack(f"<{len(part.encode('utf-16-le')) // 2}H",
                                                                            part.encode("utf-16-le")))
    n_names = (len(units) + 14) // 15
    in_use = 0 if deleted else 0x80
    stamp = (46 << 25) | (1 << 21) | (15 << 16) | (12 << 11)  # 2026-01-15 12:00:00
    out = struct.pack("<BBHH2xIII12x", 0x05 | in_use, 1 + n_names, 0, attr, stamp, stamp, stamp)
    out += struct.pack("<BBxBH2xQ4xIQ", 0x40 | in_use, 0x03, len(units), 0, size, cluster, size)  # no FAT chain
    for i in range(n_names):
        chunk = units[i * 15:(i + 1) * 15]
        out += struct.pack("<BB", 0x41 | in_use, 0) + struct.pack(f"<{len(chunk)}H", *chunk).ljust(30, b"\0")
    return out


def _hostile_exfat(image: Path) -> None:
    """exfatprogs cannot add files, so the entries are written here; UTF-16 names can hold what
    UTF-8 cannot (unpaired surrogates), which TSK turns into its own replacement text."""
    _need("mkfs.exfat")
    with open(image, "wb") as fh:
        fh.truncate(8 * 1024 * 1024)
    subprocess.run(["mkfs.exfat", "-L", "EVK", str(image)], check=True, capture_output=True)
    with open(image, "r+b") as fh:
        boot = fh.read(512)
        heap, root = struct.unpack_from("<I", boot, 88)[0], struct.unpack_from("<I", boot, 96)[0]
        sector, cluster_size = 1 << boot[108], 1 << (boot[108] + boot[109])

        def write_cluster(n: int, data: bytes, at: int = 0) -> None:
            fh.seek(heap * sector + (n - 2) * cluster_size + at)
            fh.write(data)

        fh.seek(heap * sector + (root - 2) * cluster_size)
        used = next(i for i in range(0, cluster_size, 32) if fh.read(32)[0] == 0)
        write_cluster(root, b"".join([
            _exfat_entry_set(["Docs"], 0x10, 100, cluster_size),
            _exfat_entry_set(["quo\"te \\ back %41 #h @a >g"], 0x20, 0, 0),
            _exfat_entry_set(["rtl\u202egpj.exe"], 0x20, 0, 0),
            _exfat_entry_set(["lone", 0xD800, "surrogate", 0xDC00], 0x20, 0, 0),
            _exfat_entry_set(["ctrl", 0x0001, 0x001F, 0x007F, "x"], 0x20, 0, 0),
            _exfat_entry_set(["é日本😀 " + "L" * 200], 0x20, 0, 0),
            _exfat_entry_set(["gone.txt"], 0x20, 0, 0, deleted=True),
        ]), used)
        write_cluster(100, _exfat_entry_set(["inner.txt"], 0x20, 0, 0) + _exfat_entry_set(["Deeper"], 0x10, 101, cluster_size)
                      + _exfat_entry_set(["deleted dir"], 0x10, 102, cluster_size, deleted=True))
        write_cluster(101, _exfat_entry_set(["deep.txt"], 0x20, 0, 0))
        write_cluster(102, _exfat_entry_set(["in deleted dir.txt"], 0x20, 0, 0))


def test_hostile_exfat(tmp_path: Path) -> None:
    image = tmp_path / "exfat.img"
    _hostile_exfat(image)
    for args in (JSON, DELETED, ("-r",)):
        same_listing(image, *args)
    assert native_lines(image) == 18


# -- damaged metadata, big listings ------------------------------------------------------------

def _damaged(image: Path, out: Path, seed: int, flips: int) -> Path:
    """``out``: a copy of ``image`` with ``flips`` random bytes overwritten, only in blocks that hold data."""
    data = bytearray(image.read_bytes())
    used = [i for i in range(0, len(data), 1024) if any(data[i:i + 1024])]
    rng = random.Random(seed)
    for _ in range(flips):
        data[rng.choice(used) + rng.randrange(1024)] = rng.randrange(256)
    out.write_bytes(data)
    return out


# Seeds 1 and 9 are left out for time only: that damage keeps TSK busy for seconds to minutes
# on these 8 MB (both walks still agree).
@pytest.mark.parametrize("seed", [0, 2, 3, 4, 5, 6, 7, 8])
def test_damaged_ext(hostile_ext: Path, tmp_path: Path, seed: int) -> None:
    same_listing(_damaged(hostile_ext, tmp_path / hostile_ext.name, seed, 400), *JSON)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_fat(samples: Path, tmp_path: Path, seed: int) -> None:
    image = tmp_path / "fat32.img"  # the sample's FAT32 volume on its own, so every flip lands in it
    with open(samples / "mbr_fat32_ntfs.raw", "rb") as fh:
        fh.seek(2048 * 512)
        image.write_bytes(fh.read(67584 * 512))
    same_listing(_damaged(image, tmp_path / "damaged.img", seed, 2000), *JSON)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_exfat(tmp_path: Path, seed: int) -> None:
    _hostile_exfat(tmp_path / "exfat.img")
    same_listing(_damaged(tmp_path / "exfat.img", tmp_path / "damaged.img", seed, 300), *JSON)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", ["dfvfs/hfsplus.raw", "dfvfs/iso9660.raw"])
def test_damaged_hfs_and_iso(corpus: Path, tmp_path: Path, name: str, seed: int) -> None:
    same_listing(_damaged(corpus / "disk" / name, tmp_path / "damaged.img", seed, 300), *JSON)


def test_large_listing_and_closed_pipe(tmp_path: Path) -> None:
    """2 MB of output (the walker writes in blocks of 1 MiB), then a reader that stops after one
    line: both walks end quietly, as ``evkit ls ... | head`` should."""
    _need("mke2fs")
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(40):
        folder = tree / f"folder {i:02d}"
        folder.mkdir()
        for j in range(150):
            (folder / f"file {j:03d}.txt").touch()
    image = tmp_path / "many.ext4"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-N", "7000", "-d", str(tree), str(image), "16M"],
                   check=True, capture_output=True)
    assert len(same_listing(image, *JSON)) > 1024 * 1024
    for native in (True, False):
        env = {k: v for k, v in os.environ.items() if k != tsk_native.NO_NATIVE_ENV}
        if not native:
            env[tsk_native.NO_NATIVE_ENV] = "1"
        proc = subprocess.Popen([str(EVKIT), "ls", "-r", "--json", str(image)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b'{"path": "/lost+found"')
        proc.stdout.close()
        assert proc.wait(timeout=120) == 0
        assert proc.stderr.read() == b""

