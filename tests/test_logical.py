"""Logical sources: a folder, zips and tars with hostile member names, the dfVFS archive corpus.

Nothing is ever extracted or followed: a symbolic link in a folder is listed as a link, an
archive member called ``../../evil.txt`` is a file in a folder literally called ``..``, and every
member, duplicates included, is listed and readable with ``evkit cat``.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, evkit
from tests.test_formats import forked_evkit

SECRET = b"outside the evidence: must never be shown\n"


def each(*calls: tuple[str | Path, ...]) -> list:
    return [forked_evkit(*call) for call in calls]


def succeeded(proc) -> bytes:
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, (proc.args, proc.returncode, err)
    assert "Traceback" not in err
    return proc.stdout


def ok(*args: str | Path) -> bytes:
    return succeeded(forked_evkit(*args))


def listing(source: Path, *extra: str) -> dict[str, dict]:
    return {rec["path"]: rec for rec in map(json.loads, ok("ls", "-r", "--json", source, *extra).splitlines())}


def tree_state(folder: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under ``folder`` (links not followed) with type, size and content hash."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root, name)
            st = p.lstat()
            kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if kind == "file" and p.is_file() else ""
            out[os.fsencode(p.relative_to(folder)).hex()] = (kind, st.st_size if kind == "file" else 0, digest)
    return out


# -- a folder --------------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    root = tmp_path / "evidence"
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/nested.txt").write_bytes(b"nested\n")
    (root / "top.txt").write_bytes(b"top\n")
    os.symlink("../outside/secret.txt", root / "link_out")
    os.symlink(str(outside), root / "dir_link_out")
    os.symlink("a/b/nested.txt", root / "link_in")
    with open(os.fsencode(root) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"non-utf8 name\n")
    (root / "new\nline.txt").write_bytes(b"newline name\n")
    (root / "back\\slash.txt").write_bytes(b"backslash name\n")
    os.mkfifo(root / "a/fifo")
    return root


def test_folder_listing(folder: Path) -> None:
    before = tree_state(folder.parent)
    recs = listing(folder)
    assert set(recs) == {"/a", "/a/b", "/a/b/nested.txt", "/a/fifo", "/top.txt", "/link_out", "/dir_link_out",
                         "/link_in", "/caf\\xe9.txt", "/new\\x0aline.txt", "/back\\\\slash.txt"}
    assert {p: r["type"] for p, r in recs.items() if r["type"] != "file"} == {
        "/a": "dir", "/a/b": "dir", "/a/fifo": "other", "/link_out": "link", "/dir_link_out": "link", "/link_in": "link"}
    assert recs["/link_out"]["link_target"] == "../outside/secret.txt"
    assert recs["/dir_link_out"]["link_target"] == str(folder.parent / "outside")
    assert recs["/caf\\xe9.txt"]["path_hex"] == b"/caf\xe9.txt".hex()
    assert recs["/new\\x0aline.txt"]["path_hex"] == b"/new\nline.txt".hex()
    assert "path_hex" not in recs["/top.txt"]
    assert recs["/a/b/nested.txt"]["size"] == 7
    assert all(r["locator"].startswith("dir:evidence > file:") for r in recs.values())
    assert len({r["locator"] for r in recs.values()}) == len(recs)
    # Hashing every file reads the FIFO's name only, never blocks on it, and follows no link.
    out = ok("ls", "-r", "--hash", "md5", "--json", folder)
    hashed = {rec["path"]: rec["md5"] for rec in map(json.loads, out.splitlines())}
    assert hashed["/a/b/nested.txt"] == hashlib.md5(b"nested\n").hexdigest()
    assert hashed["/link_out"] is None and hashed["/a/fifo"] is None
    assert tree_state(folder.parent) == before


def test_folder_reads_by_escaped_name(folder: Path) -> None:
    cafe, newline, backslash, nested = each(
        ("cat", folder, "/caf\\xe9.txt"), ("cat", folder, "/new\\x0aline.txt"), ("cat", folder, "/back\\\\slash.txt"),
        ("cat", folder, "a/b/nested.txt"))
    assert succeeded(cafe) == b"non-utf8 name\n"
    assert succeeded(newline) == b"newline name\n"
    assert succeeded(backslash) == b"backslash name\n"
    assert succeeded(nested) == b"nested\n"


def test_folder_links_are_never_followed(folder: Path) -> None:
    errors = {
        ("cat", "/link_out"): "link",
        ("cat", "/link_in"): "link",
        ("cat", "/dir_link_out/secret.txt"): "symbolic link",
        ("ls", "/dir_link_out/secret.txt"): "symbolic link",
        ("cat", "/a/../../outside/secret.txt"): "not allowed",
        ("cat", "/a/fifo"): "not a file",
        ("cat", "/a"): "not a file",
    }
    calls = [(cmd, folder, path) for cmd, path in errors] + [("ls", "-r", "--json", folder, "/dir_link_out/")]
    procs = each(*calls)
    for (key, words), proc in zip(errors.items(), procs):
        assert SECRET not in proc.stdout, key
        line = assert_one_line_error(proc, 2)
        assert words in line, (key, line)
    # Listing a link to a folder lists the link itself, not what it points to.
    recs = [json.loads(x) for x in succeeded(procs[-1]).splitlines()]
    assert [(r["path"], r["type"]) for r in recs] == [("/dir_link_out", "link")]


def test_folder_hash_is_refused(folder: Path) -> None:
    line = assert_one_line_error(evkit("hash", str(folder)), 3)
    assert "folder" in line


# -- hostile archives ------------------------------------------------------------------------

HOSTILE = [
    ("../../evil.txt", b"evil\n"),
    ("/etc/passwd", b"not your passwd\n"),
    ("a/../../b.txt", b"b\n"),
    ("new\nline.txt", b"newline\n"),
    ("dup.txt", b"first dup\n"),
    ("dup.txt", b"second dup\n"),
    ("ok/normal.txt", b"normal\n"),
    ("back\\slash.txt", b"backslash\n"),
    ("clash", b"a file named clash\n"),
    ("clash/inner.txt", b"a member under a folder that has the file's name\n"),
]
# Path each member is listed under (escaped as ls shows it) and its content.
EXPECTED = {
    "/../../evil.txt": b"evil\n",
    "/etc/passwd": b"not your passwd\n",
    "/a/../../b.txt": b"b\n",
    "/new\\x0aline.txt": b"newline\n",
    "/dup.txt": b"first dup\n",
    "/dup.txt (duplicate member 5)": b"second dup\n",
    "/ok/normal.txt": b"normal\n",
    "/back\\\\slash.txt": b"backslash\n",
    "/clash": b"a file named clash\n",
    "/clash (folder)/inner.txt": b"a member under a folder that has the file's name\n",
}
NUL_NAME = b"nul\x00name.txt"


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with pytest.warns(UserWarning, match="Duplicate name"):
            for name, data in HOSTILE:
                zf.writestr(name, data)
        zf.writestr("nulXname.txt", b"nul member\n")
    # zipfile cuts names at NUL when writing: put the NUL into both copies of the name (local
    # header and central directory) by hand; the lengths stay the same.
    raw = path.read_bytes()
    assert raw.count(b"nulXname.txt") == 2
    path.write_bytes(raw.replace(b"nulXname.txt", NUL_NAME))


def _tar(path: Path, mode: str) -> None:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as tf:
        for name, data in HOSTILE + [("caf\udce9.txt", b"non-utf8 member name\n")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_341_000_000
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("passwd_link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "archives"
    d.mkdir()
    out = {"zip": d / "hostile.zip"}
    _zip(out["zip"])
    for suffix, mode in (("tar", "w"), ("tar.gz", "w:gz"), ("tar.bz2", "w:bz2"), ("tar.xz", "w:xz")):
        out[suffix] = d / f"hostile.{suffix}"
        _tar(out[suffix], mode)
    return out


def _outside_candidates(tmp_path: Path) -> list[Path]:
    places = {Path.cwd(), Path.cwd().parent, Path.cwd().parent.parent, tmp_path, tmp_path.parent, Path("/")}
    return [p / n for p in places for n in ("evil.txt", "b.txt", "nul", "normal.txt", "dup.txt")]


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"])
def test_hostile_archive_members(tmp_path: Path, hostile: dict[str, Path], kind: str) -> None:
    source = hostile[kind]
    before = tree_state(tmp_path)
    outside_before = {p for p in _outside_candidates(tmp_path) if p.exists()}
    passwd_before = Path("/etc/passwd").read_bytes()

    recs = listing(source)
    expected = dict(EXPECTED)
    if kind == "zip":
        nul_path = "/nul\\x00name.txt"
        expected[nul_path] = b"nul member\n"
    else:
        expected["/caf\\xe9.txt"] = b"non-utf8 member name\n"
    files = {p: r for p, r in recs.items() if r["type"] == "file"}
    assert set(files) == set(expected), sorted(files)
    for p, data in expected.items():
        assert files[p]["size"] == len(data), p
    folders = {p for p, r in recs.items() if r["type"] == "dir"}
    assert {"/..", "/../..", "/a", "/a/..", "/a/../..", "/etc", "/ok", "/clash (folder)"} <= folders
    if kind != "zip":
        assert recs["/passwd_link"]["type"] == "link" and recs["/passwd_link"]["link_target"] == "/etc/passwd"
        assert recs["/caf\\xe9.txt"]["path_hex"] == b"/caf\xe9.txt".hex()
    else:
        assert recs[nul_path]["path_hex"] == (b"/" + NUL_NAME).hex()
    assert len({r["locator"] for r in recs.values()}) == len(recs), "two entries share a locator"

    paths = sorted(expected)
    procs = each(*[("cat", source, p) for p in paths], *([("cat", source, "/passwd_link")] if kind != "zip" else []))
    for p, proc in zip(paths, procs):
        assert succeeded(proc) == expected[p], p
    if kind != "zip":
        assert_one_line_error(procs[-1], 2)
        assert b"root:" not in procs[-1].stdout

    assert tree_state(tmp_path) == before, "evkit wrote next to the evidence"
    assert {p for p in _outside_candidates(tmp_path) if p.exists()} == outside_before
    assert Path("/etc/passwd").read_bytes() == passwd_before


def test_zip_member_times_prefer_utc_extra_field(tmp_path: Path) -> None:
    """DOS times carry no zone; the UT (0x5455) and NTFS (0x000a) extra fields are UTC."""
    path = tmp_path / "times.zip"
    utc = 1_343_166_324  # 2012-07-24T21:45:24Z
    with zipfile.ZipFile(path, "w") as zf:
        ut = zipfile.ZipInfo("ut.txt", date_time=(2012, 7, 24, 14, 45, 24))  # the same instant in UTC-7
        ut.extra = struct.pack("<HHBi", 0x5455, 5, 1, utc)
        zf.writestr(ut, b"ut")
        ntfs = zipfile.ZipInfo("ntfs.txt", date_time=(2012, 7, 24, 14, 45, 24))
        filetime = (utc + 11_644_473_600) * 10_000_000 + 1_234_567
        ntfs.extra = struct.pack("<HHIHHQQQ", 0x000A, 32, 0, 1, 24, filetime, filetime, filetime)
        zf.writestr(ntfs, b"ntfs")
        zf.writestr(zipfile.ZipInfo("dos.txt", date_time=(2012, 7, 24, 14, 45, 24)), b"dos")
    recs = listing(path)
    assert recs["/ut.txt"]["mtime"] == "2012-07-24T21:45:24Z"
    assert recs["/ntfs.txt"]["mtime"] == "2012-07-24T21:45:24Z"
    assert recs["/dos.txt"]["mtime"] == "2012-07-24T14:45:24Z"


# -- damaged archives ------------------------------------------------------------------------

@pytest.fixture
def big_archives(tmp_path: Path) -> dict[str, Path]:
    payload = os.urandom(1 << 20)
    out = {}
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as tf:
        for name, data in (("first.txt", b"first\n"), ("big.bin", payload), ("last.txt", b"last\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("first.txt", b"first\n")
        zf.writestr("big.bin", payload)
        zf.writestr("last.txt", b"last\n")
    for name in ("t.tar.gz", "z.zip"):
        data = (tmp_path / name).read_bytes()
        out[name] = tmp_path / f"half.{name}"
        out[name].write_bytes(data[: len(data) // 2])
    plain = tmp_path / "t.tar"
    with tarfile.open(plain, "w") as tf:
        for name, data in (("first.txt", b"first\n"), ("big.bin", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    out["t.tar"] = tmp_path / "half.t.tar"
    out["t.tar"].write_bytes(plain.read_bytes()[: plain.stat().st_size // 2])
    return out


def test_truncated_archives(big_archives: dict[str, Path]) -> None:
    calls = [(cmd, p) for p in big_archives.values() for cmd in ("ls", "info")] + \
            [("cat", p, "/first.txt") for p in big_archives.values()]
    for args, proc in zip(calls, each(*calls)):
        err = proc.stderr.decode(errors="replace")
        assert "Traceback" not in err, (args, err)
        if proc.returncode == 0:  # where members are still readable, a listing or their bytes
            assert proc.stdout, args
            continue
        line = assert_one_line_error(proc, 3)
        assert Path(args[1]).name in line, (args, line)
        assert "truncated" in line or "corrupt" in line, line


def test_corrupt_member_content(tmp_path: Path) -> None:
    """A member whose stored bytes were damaged: a one-line error for cat, a partial exit for ls --hash."""
    path = tmp_path / "crc.zip"
    data = os.urandom(4096)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("good.txt", b"good\n")
        zf.writestr("bad.bin", data)
    raw = bytearray(path.read_bytes())
    at = raw.index(data)
    raw[at + 100 : at + 110] = bytes(10)
    path.write_bytes(bytes(raw))
    cat_bad, cat_good, hashed = each(("cat", path, "/bad.bin"), ("cat", path, "/good.txt"),
                                              ("ls", "--hash", "md5", "--json", path))
    line = assert_one_line_error(cat_bad, 3)
    assert "bad.bin" in line and "CRC" in line
    assert succeeded(cat_good) == b"good\n"
    assert hashed.returncode == 4 and "Traceback" not in hashed.stderr.decode()
    recs = {r["path"]: r for r in map(json.loads, hashed.stdout.splitlines())}
    assert recs["/bad.bin"]["md5"] is None
    assert recs["/good.txt"]["md5"] == hashlib.md5(b"good\n").hexdigest()


def test_compressed_file_that_is_not_a_tar(tmp_path: Path) -> None:
    for name, pack in (("log.gz", gzip.compress), ("log.bz2", bz2.compress), ("log.xz", lzma.compress)):
        (tmp_path / name).write_bytes(pack(b"just a log line\n" * 100))
    calls = [(cmd, tmp_path / n) for n in ("log.gz", "log.bz2", "log.xz") for cmd in ("ls", "info")]
    for args, proc in zip(calls, each(*calls)):
        line = assert_one_line_error(proc, 3)
        assert "not a tar archive" in line and Path(args[1]).name in line


# -- the dfVFS archive corpus ----------------------------------------------------------------

def test_corpus_archives(corpus: Path) -> None:
    d = corpus / "other/archives_dfvfs"
    if not d.is_dir():
        pytest.skip("corpus has no other/archives_dfvfs")
    provenance = (corpus / "PROVENANCE.tsv").read_text()
    for name in ("syslog.tar", "syslog.tgz", "syslog.zip", "syslog.gz", "syslog.bz2", "syslog.xz"):
        assert f"other/archives_dfvfs/{name}\t" in provenance, name
    reference = gzip.decompress((d / "syslog.gz").read_bytes())
    assert bz2.decompress((d / "syslog.bz2").read_bytes()) == reference
    assert lzma.decompress((d / "syslog.xz").read_bytes()) == reference

    archives = ("syslog.tar", "syslog.tgz", "syslog.zip")
    calls = [("ls", "--json", d / n) for n in archives] + [("cat", d / n, "/syslog") for n in archives] + \
            [("ls", d / n) for n in ("syslog.gz", "syslog.bz2", "syslog.xz")]
    procs = each(*calls)
    for proc in procs[:3]:
        recs = {r["path"]: r for r in map(json.loads, succeeded(proc).splitlines())}
        assert recs["/syslog"]["type"] == "file" and recs["/syslog"]["size"] == len(reference)
        # The zip's UT extra field gives the same UTC time as the tar header.
        assert recs["/syslog"]["mtime"] == "2012-07-24T21:45:24Z"
    for proc in procs[3:6]:
        assert succeeded(proc) == reference
    for args, proc in zip(calls[6:], procs[6:]):
        line = assert_one_line_error(proc, 3)
        assert Path(args[1]).name in line and "not a tar archive" in line
