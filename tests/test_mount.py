"""``evkit mount``: the read-only FUSE view, its /$DELETED tree, and clean unmounting.

The tree logic is tested directly on a fake source; the mount itself runs the installed console
script against an ext4 image built here (and the corpus images when present). Every wait has a
deadline and a watchdog kills a stuck mount process, so a bug fails a test instead of hanging it.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from evkit.fusemount import DELETED_DIR, EvidenceFS, _Listings, is_mounted
from evkit.sources.base import Entry
from tests.conftest import EVKIT, assert_one_line_error, evkit, need_corpus

FUSERMOUNT = shutil.which("fusermount3") or shutil.which("fusermount")
needs_fuse = pytest.mark.skipif(
    not os.path.exists("/dev/fuse") or FUSERMOUNT is None,
    reason="FUSE unavailable: needs /dev/fuse and fusermount3 or fusermount (Debian package fuse3)",
)
needs_e2fsprogs = pytest.mark.skipif(
    not (shutil.which("mke2fs") and shutil.which("debugfs")),
    reason="mke2fs and debugfs (Debian package e2fsprogs) build the test image",
)

READY_TIMEOUT = 30.0
EXIT_TIMEOUT = 20.0
WATCHDOG = 120.0
NON_UTF8 = b"caf\xe9.txt"
WRITE_ERRORS = (errno.EROFS, errno.EACCES, errno.EPERM)


# -- the tree, without FUSE ------------------------------------------------------------------
def _entry(path: str, type_: str = "file", deleted: bool = False, inode: int | None = None,
           size: int = 0, link_target: str | None = None) -> Entry:
    return Entry(path=path, name=path.rsplit("/", 1)[-1], type=type_, size=size, deleted=deleted,
                 locator=f"dir:fake > file:{path}", inode=inode, mtime_s=1_600_000_000,
                 link_target=link_target, ref=path)


class FakeSource:
    """Just what EvidenceFS uses: walk by path and open by entry; counts walks to check the cache."""

    def __init__(self, tree: dict[str, list[Entry]], content: dict[str, bytes]) -> None:
        self.tree = tree
        self.content = content
        self.walks: list[str] = []

    def walk(self, path: str, recursive: bool = False) -> Iterator[Entry]:
        self.walks.append(path)
        yield from self.tree[path]

    def open(self, entry: Entry) -> io.BytesIO:
        return io.BytesIO(self.content[entry.ref])


@pytest.fixture
def fake_fs() -> tuple[EvidenceFS, FakeSource]:
    tree = {
        "/": [
            _entry("/a.txt", inode=5, size=3),
            _entry("/a.txt", deleted=True, inode=7, size=4),
            _entry("/b.txt", deleted=True, inode=8, size=2),
            _entry("/b.txt", deleted=True, inode=9, size=2),
            _entry("/c.txt", deleted=True, inode=10, size=1),
            _entry("/d", "dir", inode=11),
            _entry("/d", "dir", deleted=True, inode=12),
            _entry("/e", "dir", deleted=True, inode=13),
            _entry("/ln", "link", inode=14, link_target="../outside/\udce9"),
            _entry("/a.txt:zone", "ads", inode=5, size=2),
        ],
        "/d": [_entry("/d/keep.txt", inode=20, size=1), _entry("/d/old.txt", deleted=True, inode=21, size=1)],
        "/e": [_entry("/e/x\udcff.txt", deleted=True, inode=30, size=5)],
    }
    content = {"/a.txt": b"now", "/a.txt#7": b"was!", "/c.txt": b"c", "/e/x\udcff.txt": b"hello", "/a.txt:zone": b"ZI"}
    tree["/"][1].ref = "/a.txt#7"
    src = FakeSource(tree, content)
    return EvidenceFS(src), src  # type: ignore[arg-type]


def _names(listing: list) -> set[str]:
    return {item if isinstance(item, str) else item[0] for item in listing} - {".", ".."}


def test_tree_separates_deleted_entries(fake_fs: tuple[EvidenceFS, FakeSource]) -> None:
    fs, _ = fake_fs
    assert _names(fs.readdir("/", 0)) == {DELETED_DIR, "a.txt", "a.txt:zone", "d", "ln"}
    assert _names(fs.readdir(f"/{DELETED_DIR}", 0)) == {
        "a.txt (deleted inode 7)", "b.txt (deleted inode 8)", "b.txt (deleted inode 9)", "c.txt",
        "d", "d (deleted inode 12)", "e",
    }
    assert _names(fs.readdir("/d", 0)) == {"keep.txt"}
    assert _names(fs.readdir(f"/{DELETED_DIR}/d", 0)) == {"old.txt"}
    assert _names(fs.readdir(f"/{DELETED_DIR}/e", 0)) == {"x\udcff.txt"}


def test_tree_attributes_and_content(fake_fs: tuple[EvidenceFS, FakeSource]) -> None:
    fs, _ = fake_fs
    a = fs.getattr("/a.txt")
    assert a["st_mode"] == stat.S_IFREG | 0o444 and a["st_size"] == 3 and a["st_uid"] == os.getuid()
    assert a["st_mtime"] == 1_600_000_000 * 10**9
    assert fs.getattr("/d")["st_mode"] == stat.S_IFDIR | 0o555
    assert fs.getattr(f"/{DELETED_DIR}")["st_mode"] == stat.S_IFDIR | 0o555
    assert stat.S_ISLNK(fs.getattr("/ln")["st_mode"])
    assert fs.readlink("/ln") == "../outside/\udce9"
    fh = fs.open(f"/{DELETED_DIR}/a.txt (deleted inode 7)", os.O_RDONLY)
    assert fs.read("", 10, 1, fh) == b"as!"
    fs.release("", fh)
    fh = fs.open("/a.txt:zone", os.O_RDONLY)
    assert fs.read("", 10, 0, fh) == b"ZI"
    fs.release("", fh)
    fh = fs.open(f"/{DELETED_DIR}/e/x\udcff.txt", os.O_RDONLY)
    assert fs.read("", 2, 3, fh) == b"lo"
    fs.release("", fh)


def test_tree_errors(fake_fs: tuple[EvidenceFS, FakeSource]) -> None:
    fs, _ = fake_fs
    cases = [
        (lambda: fs.getattr("/c.txt"), errno.ENOENT),  # deleted: only under /$DELETED
        (lambda: fs.getattr("/a.txt/x"), errno.ENOTDIR),
        (lambda: fs.open("/a.txt", os.O_WRONLY), errno.EROFS),
        (lambda: fs.open("/d", os.O_RDONLY), errno.EISDIR),
        # a deleted folder whose path leads to its allocated twin cannot be listed faithfully
        (lambda: fs.readdir(f"/{DELETED_DIR}/d (deleted inode 12)", 0), errno.EIO),
        (lambda: fs.mkdir("/new", 0o755), errno.EROFS),
        (lambda: fs.unlink("/a.txt"), errno.EROFS),
        (lambda: fs.write("/a.txt", b"x", 0, 1), errno.EROFS),
        (lambda: fs.rename("/a.txt", "/z"), errno.EROFS),
    ]
    for call, code in cases:
        with pytest.raises(OSError) as info:
            call()
        assert info.value.errno == code


def test_tree_walks_each_folder_once(fake_fs: tuple[EvidenceFS, FakeSource]) -> None:
    fs, src = fake_fs
    for _ in range(3):
        fs.readdir("/", 0)
        fs.readdir(f"/{DELETED_DIR}", 0)
        fs.getattr("/d/keep.txt")
        fs.getattr(f"/{DELETED_DIR}/d/old.txt")
    assert sorted(src.walks) == ["/", "/d"]


def test_listing_cache_is_bounded() -> None:
    cache = _Listings(budget=10)
    cache.put(("raw", "/a"), "A", 6)
    cache.put(("raw", "/b"), "B", 6)
    assert cache.get(("raw", "/a")) is None and cache.get(("raw", "/b")) == "B"
    cache.put(("raw", "/huge"), "H", 50)  # kept although alone over budget: it is in use
    assert cache.get(("raw", "/huge")) == "H" and cache.get(("raw", "/b")) is None


# -- command-line errors --------------------------------------------------------------------
def test_missing_mountpoint_is_a_usage_error(tmp_path: Path) -> None:
    image = tmp_path / "x.img"
    image.write_bytes(b"\0" * 4096)
    line = assert_one_line_error(evkit("mount", str(image), str(tmp_path / "nowhere")), 2)
    assert "does not exist" in line


def test_non_empty_mountpoint_is_a_usage_error(tmp_path: Path) -> None:
    image = tmp_path / "x.img"
    image.write_bytes(b"\0" * 4096)
    line = assert_one_line_error(evkit("mount", str(image), str(tmp_path)), 2)
    assert "not empty" in line


def test_file_as_mountpoint_is_a_usage_error(tmp_path: Path) -> None:
    image = tmp_path / "x.img"
    image.write_bytes(b"\0" * 4096)
    line = assert_one_line_error(evkit("mount", str(image), str(image)), 2)
    assert "not a folder" in line


# -- real mounts ----------------------------------------------------------------------------
@contextmanager
def mounted(source: Path, mountpoint: Path, relative: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """Run `evkit mount` until its ready line and the mount are there; always unmount afterwards.

    ``relative`` passes both paths relative to the mountpoint's parent, as typed in a shell there.
    """
    mountpoint.mkdir(exist_ok=True)
    cwd = mountpoint.parent if relative else None
    args = [os.path.relpath(source, cwd), mountpoint.name] if cwd else [str(source), str(mountpoint)]
    proc = subprocess.Popen([str(EVKIT), "mount", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # A hung FUSE server would hang this test's file calls; killing it makes them fail instead.
    watchdog = threading.Timer(WATCHDOG, proc.kill)
    watchdog.start()
    try:
        _wait_ready(proc, mountpoint)
        yield proc
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(EXIT_TIMEOUT)
        if is_mounted(str(mountpoint)):
            subprocess.run([str(FUSERMOUNT), "-u", "-z", str(mountpoint)], timeout=EXIT_TIMEOUT, check=False)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def _wait_ready(proc: subprocess.Popen[bytes], mountpoint: Path) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + READY_TIMEOUT
    seen = b""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        line = proc.stderr.readline()
        if not line:
            proc.wait(EXIT_TIMEOUT)
            pytest.fail(f"evkit mount exited {proc.returncode} before mounting: {seen.decode(errors='replace')}")
        seen += line
        if b"mounted read-only at" in line:
            assert is_mounted(str(mountpoint)), "ready line printed but nothing is mounted"
            assert os.fsencode(mountpoint) in line, line  # absolute, to be usable from anywhere
            return
    pytest.fail(f"evkit mount not ready after {READY_TIMEOUT}s: {seen.decode(errors='replace')}")


def _stop(proc: subprocess.Popen[bytes], mountpoint: Path, how: str) -> None:
    """Unmount the way an examiner would and check the process ends cleanly and lets go of the folder."""
    if how == "fusermount":
        subprocess.run([str(FUSERMOUNT), "-u", str(mountpoint)], check=True, timeout=EXIT_TIMEOUT)
    else:
        proc.send_signal(signal.SIGINT if how == "SIGINT" else signal.SIGTERM)
    assert proc.wait(EXIT_TIMEOUT) == 0
    assert proc.stderr is not None
    rest = proc.stderr.read().decode("utf-8", "replace")
    assert "Traceback" not in rest and "error" not in rest.lower(), rest
    assert not is_mounted(str(mountpoint))
    assert os.listdir(mountpoint) == []


def _md5(path: Path | bytes) -> str:
    with open(path, "rb") as fh:
        return hashlib.md5(fh.read()).hexdigest()


def _cat_md5(image: Path, path: str) -> str:
    return hashlib.md5(evkit("cat", str(image), path, check=True).stdout).hexdigest()


@pytest.fixture
def ext4_image(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A small ext4 image: files, folders, a symlink, a non-UTF-8 name, and deleted entries.

    Deleted: /victim.txt, the folder /olddir with its file, and two deleted docs/same.txt next to
    an allocated one (made by deleting samf.txt and samg.txt and renaming their directory entries
    in place, as debugfs cannot create a deleted entry that shares a live name).
    """
    if not (shutil.which("mke2fs") and shutil.which("debugfs")):
        pytest.skip("mke2fs and debugfs (Debian package e2fsprogs) build the test image")
    tree = tmp_path / "tree"
    files = {
        "hello.txt": b"hello\n",
        "docs/deep/data.bin": os.urandom(200_000),
        "docs/same.txt": b"live\n",
        "docs/samf.txt": b"gone\n",
        "docs/samg.txt": b"gone2\n",
        "olddir/inner.txt": b"inner\n",
        "victim.txt": b"victim data\n" * 1000,
    }
    for rel, data in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    fd = os.open(os.fsencode(tree) + b"/" + NON_UTF8, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"latin-1 name\n")
    os.close(fd)
    (tree / "link").symlink_to("hello.txt")
    image = tmp_path / "ext4.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-O", "^metadata_csum", "-d", str(tree), str(image), "4M"],
                   check=True, capture_output=True, timeout=60)
    commands = "rm /victim.txt\nrm /olddir/inner.txt\nrmdir /olddir\nrm /docs/samf.txt\nrm /docs/samg.txt\n"
    subprocess.run(["debugfs", "-w", "-f", "-", str(image)], input=commands.encode(), check=True,
                   capture_output=True, timeout=60)
    raw = bytearray(image.read_bytes())
    for old in (b"samf.txt", b"samg.txt"):
        assert raw.count(old) == 1
        at = raw.index(old)
        raw[at : at + len(old)] = b"same.txt"
    image.write_bytes(bytes(raw))
    return image, files


@needs_fuse
def test_mount_ext4_image(tmp_path: Path, ext4_image: tuple[Path, dict[str, bytes]]) -> None:
    image, files = ext4_image
    before = _md5(image)
    mp = tmp_path / "mnt"
    with mounted(image, mp) as proc:
        top = set(os.listdir(mp))
        assert {DELETED_DIR, "hello.txt", "docs", "link", "lost+found"} <= top
        assert "victim.txt" not in top and "olddir" not in top
        assert NON_UTF8 in os.listdir(os.fsencode(mp))
        with open(os.fsencode(mp) + b"/" + NON_UTF8, "rb") as fh:
            assert fh.read() == b"latin-1 name\n"
        for rel in ("hello.txt", "docs/deep/data.bin", "docs/same.txt"):
            assert _md5(mp / rel) == _cat_md5(image, "/" + rel) == hashlib.md5(files[rel]).hexdigest()
        assert os.readlink(mp / "link") == "hello.txt"
        st = os.lstat(mp / "hello.txt")
        assert stat.S_IMODE(st.st_mode) == 0o444 and st.st_uid == os.getuid() and st.st_size == 6
        assert stat.S_IMODE(os.lstat(mp / "docs").st_mode) == 0o555

        gone = mp / DELETED_DIR
        assert _md5(gone / "victim.txt") == _cat_md5(image, "/victim.txt")
        assert (gone / "olddir" / "inner.txt").read_bytes() == b"inner\n"
        twins = sorted(n for n in os.listdir(gone / "docs") if n.startswith("same.txt"))
        assert len(twins) == 2 and all(re.fullmatch(r"same\.txt \(deleted inode \d+\)", n) for n in twins), twins
        assert sorted((gone / "docs" / n).read_bytes() for n in twins) == [b"gone\n", b"gone2\n"]
        assert "hello.txt" not in os.listdir(gone)

        for attempt in (lambda: open(mp / "new.txt", "wb"), lambda: open(mp / "hello.txt", "r+b"),
                        lambda: os.remove(mp / "hello.txt"), lambda: os.mkdir(mp / "newdir"),
                        lambda: os.rename(mp / "hello.txt", mp / "x"), lambda: os.chmod(mp / "hello.txt", 0o777),
                        lambda: os.remove(gone / "victim.txt")):
            with pytest.raises(OSError) as info:
                attempt()
            assert info.value.errno in WRITE_ERRORS, info.value
        _stop(proc, mp, "SIGINT")
    assert _md5(image) == before


@needs_fuse
@pytest.mark.parametrize("how", ["fusermount", "SIGTERM"])
def test_unmount_ends_the_process(tmp_path: Path, ext4_image: tuple[Path, dict[str, bytes]], how: str) -> None:
    # A folder as evidence, by relative path: it is read lazily, after libfuse has changed into /.
    image, _ = ext4_image
    mp = tmp_path / "mnt"
    with mounted(image.parent / "tree", mp, relative=True) as proc:
        assert (mp / "hello.txt").read_bytes() == b"hello\n"
        _stop(proc, mp, how)


def _corpus_image(rel: str) -> Path:
    return need_corpus(rel) / rel


@needs_fuse
def test_mount_corpus_ext_image(tmp_path: Path) -> None:
    image = _corpus_image("disk/sleuthkit/image.dd")
    mp = tmp_path / "mnt"
    with mounted(image, mp) as proc:
        assert {"a_directory", "passwords.txt", "a_link", "lost+found", DELETED_DIR} <= set(os.listdir(mp))
        for rel in ("passwords.txt", "a_directory/a_file", "a_directory/another_file"):
            assert _md5(mp / rel) == _cat_md5(image, "/" + rel)
        assert os.readlink(mp / "a_link") == "a_directory/another_file"
        deleted = set(os.listdir(mp / DELETED_DIR / "a_directory"))
        assert {".another_file.swp", "another_file~"} <= deleted
        assert "a_file" not in deleted
        _stop(proc, mp, "SIGINT")


@needs_fuse
def test_mount_corpus_partitioned_image(tmp_path: Path) -> None:
    image = _corpus_image("disk/pytsk/tsk_volume_system.raw")
    mp = tmp_path / "mnt"
    with mounted(image, mp) as proc:
        assert set(os.listdir(mp)) == {"vol6", DELETED_DIR}
        assert "lost+found" in os.listdir(mp / "vol6")
        assert "vol6" in os.listdir(mp / DELETED_DIR)
        _stop(proc, mp, "SIGINT")
