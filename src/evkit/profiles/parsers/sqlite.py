"""SQLite databases, read from a scratch copy made together with their ``-wal``/``-journal``.

The scratch copy is opened normally so SQLite applies the WAL to it: rows that live only in
the WAL are included, and the evidence itself is never opened by SQLite at all. Text that is
not UTF-8 is kept (surrogate escapes, shown ``\\xNN``) instead of stopping the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evkit.profiles.model import Artifact, Profile, Query
from evkit.profiles.rowcode import TableRows

NEEDS_FILE = True
TABLES = True  # parse() yields batches of row tuples, converted by code compiled for their columns
HEADER = b"SQLite format 3\x00"


class ParseError(Exception):
    """A database that cannot be read: its message is shown per file and the run goes on."""


def _tolerant(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _connect(path: Path) -> sqlite3.Connection:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != HEADER:
        raise ParseError("not a SQLite 3 database (encrypted, e.g. SQLCipher or a WhatsApp .crypt file, or corrupt)")
    con = sqlite3.connect(path, isolation_level=None)
    con.text_factory = _tolerant
    return con


_NOT_UTF8 = "Could not decode to UTF-8"
BATCH = 2000


def batches(con: sqlite3.Connection, sql: str) -> Iterator[tuple[list[str], list[tuple[Any, ...]], bool]]:
    """(column names, rows, strict) in batches for all rows of ``sql``, text decoded by SQLite's own fast path.

    Only when a text value is not UTF-8 does that path fail; the query is then run again with
    the tolerant decoder (surrogate escapes; ``strict`` is False from there on) and the rows
    already given are skipped: the same query on the same unchanged copy returns the same rows
    in the same order."""
    done = 0
    con.text_factory = str
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        while batch := cursor.fetchmany(BATCH):
            yield names, batch, True
            done += len(batch)
        return
    except sqlite3.OperationalError as exc:
        if not str(exc).startswith(_NOT_UTF8):
            raise
    finally:
        con.text_factory = _tolerant
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or ()]
    skip = done
    while batch := cursor.fetchmany(BATCH):
        if skip >= len(batch):
            skip -= len(batch)
            continue
        yield names, batch[skip:], False
        skip = 0


def schema(con: sqlite3.Connection) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"):
        cols = {r[1] for r in con.execute(f'PRAGMA table_info("{name.replace(chr(34), chr(34) * 2)}")')}
        tables[name] = cols
    return tables


def _has(tables: dict[str, set[str]], required: dict[str, list[str]]) -> bool:
    return all(t in tables and set(cols) <= tables[t] for t, cols in required.items())


def identify(profile: Profile, path: Path) -> bool:
    """Whether the schema is the profile's; a file that is no readable SQLite raises ParseError,
    so the examiner learns it is encrypted or corrupt rather than merely "not recognised"."""
    con = _connect(path)
    try:
        tables = schema(con)
    except sqlite3.DatabaseError as exc:
        raise ParseError(f"database is corrupt or encrypted: {exc}") from exc
    finally:
        con.close()
    ident = profile.identify
    if ident.get("tables") and not _has(tables, ident["tables"]):
        return False
    if ident.get("any_tables") and not any(t in tables for t in ident["any_tables"]):
        return False
    return True


def choose(art: Artifact, tables: dict[str, set[str]]) -> Query | None:
    """The first query whose tables and columns exist: app schemas change across versions."""
    return next((q for q in art.queries if _has(tables, q.requires)), None)


def parse(profile: Profile, path: Path) -> Iterator[TableRows]:
    """Each artifact's rows, in the batches SQLite gives them (see :data:`TABLES`)."""
    try:
        con = _connect(path)
        tables = schema(con)
    except sqlite3.DatabaseError as exc:
        raise ParseError(f"database is corrupt or encrypted: {exc}") from exc
    try:
        for art in profile.artifacts.values():
            query = choose(art, tables)
            if query is None:
                continue
            table = art.table or next(iter(query.requires), None)
            done = 0
            try:
                for names, batch, strict in batches(con, query.sql):
                    yield TableRows(art, table, tuple(names), batch, done, strict)
                    done += len(batch)
            except sqlite3.Error as exc:
                if not done:
                    raise ParseError(f"artifact {art.name}: query failed: {exc}") from exc
                raise ParseError(f"artifact {art.name}: database damaged while reading rows: {exc}") from exc
    finally:
        con.close()
