"""Extraction's file typing: the C batch typer says exactly what python-magic says, on real and hostile bytes."""

from __future__ import annotations

import gzip
import io
import random
import sqlite3
import subprocess
from pathlib import Path

import magic
import pytest

from evkit.case import extract
from tests.conftest import EVKIT

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"


def _heads() -> list[bytes]:
    """Buffers of many kinds: the heads of every sample file, and bytes planted to trouble libmagic."""
    rng = random.Random(7)
    heads = [p.read_bytes()[: extract.MAGIC_BYTES] for p in sorted(SAMPLES.rglob("*")) if p.is_file()]
    gz = io.BytesIO()
    with gzip.GzipFile(filename="caf\xe9 \u202e.txt", mode="wb", fileobj=gz, mtime=0) as f:  # libmagic echoes the name
        f.write(b"x")
    heads += [
        gz.getvalue(),
        b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\x03caf\xe9\xff\xfe\x00",  # a gzip name that is not UTF-8
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"\x7fELF\x02\x01\x01" + bytes(60),
        b"SQLite format 3\x00" + bytes(84),
        b'{"a": [1, 2, {"b": "<script>alert(1)</script>"}]}\n',
        b"a,b,c\n1,2,3\n=cmd|' /C calc'!A0,2,3\n",
        "h\u00e9llo \u202egnp.exe\n".encode(),
        b"\x00" * 4096,
        b"\xff" * 17,
        b"#!/bin/sh\nrm -rf /\n",
        b"\xef\xbb\xbf<html><body onload=x()>",
        b"PK\x03\x04" + bytes(26),
    ]
    heads += [rng.randbytes(rng.randint(1, extract.MAGIC_BYTES)) for _ in range(40)]
    return heads


def test_batch_typer_is_built_where_libmagic_headers_are() -> None:
    """CI installs libmagic-dev: a build that silently fell back to python-magic must fail here."""
    if not Path("/usr/include/magic.h").exists():
        pytest.skip("libmagic-dev is not installed, so the batch typer is not built")
    from evkit.case import _magicbatch  # noqa: F401  (the import is the test)


def test_batch_typer_says_what_python_magic_says() -> None:
    batch = pytest.importorskip("evkit.case._magicbatch")
    heads = _heads()
    m = magic.Magic()
    assert batch.Typer().describe(heads) == [m.from_buffer(h) for h in heads]
    assert batch.Typer().describe([]) == []
    with pytest.raises(TypeError):
        batch.Typer().describe(["text, not bytes"])


@pytest.mark.parametrize("c_typer", [True, False], ids=["c", "python-magic"])
def test_file_typer_tickets(monkeypatch: pytest.MonkeyPatch, c_typer: bool) -> None:
    """Small batches and a short in-flight bound: every ticket gets its own head's type."""
    if c_typer:
        pytest.importorskip("evkit.case._magicbatch")
    else:
        monkeypatch.setattr(extract, "_typer", magic.Magic)
    monkeypatch.setattr(extract.FileTyper, "BATCH", 3)
    monkeypatch.setattr(extract.FileTyper, "IN_FLIGHT", 2)
    heads = _heads()
    heads += heads[:5]  # copies share a ticket
    typer = extract.FileTyper()
    try:
        tickets = [typer.add(h) for h in heads]
        assert typer.add(b"") == "empty"
        assert tickets[-5:] == tickets[:5]
        m = magic.Magic()
        assert [typer.result(t) for t in tickets] == [m.from_buffer(h) for h in heads]
        assert all(typer.ready(t) for t in tickets)
    finally:
        typer.close()


def test_extracted_artefacts_carry_libmagic_types_in_walk_order(tmp_path: Path) -> None:
    case = tmp_path / "case"
    subprocess.run([str(EVKIT), "-q", "case", "init", str(case), "--case-number", "T", "--examiner", "t"], check=True)
    subprocess.run([str(EVKIT), "-q", "case", "add", str(case), str(SAMPLES / "gpt_ext4.raw"), "--evidence-number", "E1"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(EVKIT), "-q", "extract", str(case), "--deleted"], check=True, stdout=subprocess.DEVNULL)
    con = sqlite3.connect(case / "case.db")
    rows = con.execute("SELECT id, stored_path, magic, size FROM artefacts ORDER BY id").fetchall()
    con.close()
    assert len(rows) > 5
    m = magic.Magic()
    for _, stored, described, size in rows:
        head = (case / stored).read_bytes()[: extract.MAGIC_BYTES]
        assert described == ("empty" if size == 0 else m.from_buffer(head)), stored
    from evkit.sources.source import open_source

    with open_source(str(SAMPLES / "gpt_ext4.raw")) as src:
        walked = [e.locator for e in src.walk("/", recursive=True) if e.type in ("file", "ads")]
    con = sqlite3.connect(case / "case.db")
    by_id = [r[0] for r in con.execute("SELECT locator FROM artefacts WHERE parent_id IS NULL ORDER BY id")]
    con.close()
    assert len(by_id) > 5 and by_id == [loc for loc in walked if loc in set(by_id)]


def test_file_typer_forgets_old_heads_and_stays_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same-head table is emptied when full (memory stays flat on millions of files): a copy
    seen after that is typed again, with the same answer."""
    monkeypatch.setattr(extract.FileTyper, "BATCH", 4)
    monkeypatch.setattr(extract.FileTyper, "SEEN", 5)
    heads = _heads()
    heads += heads
    typer = extract.FileTyper()
    try:
        tickets = [typer.add(h) for h in heads]
        assert len(typer._seen) <= 5
        m = magic.Magic()
        assert [typer.result(t) for t in tickets] == [m.from_buffer(h) for h in heads]
    finally:
        typer.close()
