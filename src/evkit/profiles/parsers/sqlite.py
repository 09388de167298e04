"""SQLite databases, read from a scratch copy made together with their ``-wal``/``-journal``.

SQLite applies the WAL to the scratch copy: rows that live only in the WAL are included, and
the evidence itself is never opened by SQLite at all. The copy is opened read-only, and profile
SQL runs under :mod:`evkit.profiles.sqlguard` (reads only, time, row and value-size limits). Text that is
not UTF-8 is kept (surrogate escapes, shown ``\\xNN``) instead of stopping the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evkit.profiles import sqlguard
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
    if path.with_name(path.name + "-journal").exists():
        sqlguard.recover(path)
    con = sqlguard.open_readonly(path, sqlguard.limits())
    con.text_factory = _tolerant
    return con


_NOT_UTF8 = "Could not decode to UTF-8"
BATCH = 2000


def batches(con: sqlite3.Connection, sql: str, what: str = "query") -> Iterator[tuple[list[str], list[tuple[Any, ...]], bool]]:
    """(column names, rows, strict) in batches for all rows of ``sql``, text decoded by SQLite's own fast path.

    Only when a text value is not UTF-8 does that path fail; the query is then run again with
    the tolerant decoder (surrogate escapes; ``strict`` is False from there on) and the rows
    already given are skipped: the same query on the same unchanged copy returns the same rows
    in the same order. Each call into SQLite is watched (:func:`sqlguard.watched`), and the rows
    stop at :attr:`sqlguard.Limits.rows` with a :class:`sqlguard.QueryLimit`."""
    done = 0
    con.text_factory = str
    sqlguard.start(con)
    most = sqlguard.limits().rows
    try:
        with sqlguard.watched(con, what):
            cursor = con.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        while True:
            try:
                with sqlguard.watched(con, what):
                    batch = cursor.fetchmany(BATCH)
            except sqlguard.ValueTooBig:
                if rest := _before_failure(con, sql, what, done):
                    yield names, rest, True
                raise
            if not batch:
                return
            if done + len(batch) > most:
                yield names, batch[:most - done], True
                raise sqlguard.QueryLimit(f"{what}: stopped after {most} rows (EVKIT_QUERY_ROWS raises the limit)")
            yield names, batch, True
            done += len(batch)
    except sqlite3.OperationalError as exc:
        if not str(exc).startswith(_NOT_UTF8):
            raise
    finally:
        con.text_factory = _tolerant
    with sqlguard.watched(con, what):
        cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or ()]
    skip = done
    while True:
        with sqlguard.watched(con, what):
            batch = cursor.fetchmany(BATCH)
        if not batch:
            return
        if skip >= len(batch):
            skip -= len(batch)
            continue
        if done + len(batch) - skip > most:
            yield names, batch[skip:skip + most - done], False
            raise sqlguard.QueryLimit(f"{what}: stopped after {most} rows (EVKIT_QUERY_ROWS raises the limit)")
        yield names, batch[skip:], False
        done += len(batch) - skip
        skip = 0


def _before_failure(con: sqlite3.Connection, sql: str, what: str, done: int) -> list[tuple[Any, ...]]:
    """The rows after the first ``done`` that come before the one SQLite refused. A batch that fails
    gives none of its rows, and Python's cursor loses even the row before a failing step, so the
    rows are counted one at a time first, then read with a ``LIMIT`` that ends before the failure."""
    good = -1  # until the query's first row is there
    try:
        with sqlguard.watched(con, what):
            cursor = con.execute(sql)
            good = 0
            while True:
                row = cursor.fetchone()
                if row is None:
                    break
                good += 1
    except (sqlguard.QueryLimit, sqlite3.Error):
        good += 1  # the failing fetch was handing over a whole row when its step to the next one failed
    if good <= done:
        return []
    try:
        with sqlguard.watched(con, what):
            return con.execute(f"SELECT * FROM ({sql}) LIMIT {good - done} OFFSET {done}").fetchall()
    except (sqlguard.QueryLimit, sqlite3.Error):
        return []


def schema(con: sqlite3.Connection) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for (name,) in sqlguard.engine_sql(con, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall():
        cols = {r[1] for r in sqlguard.engine_sql(con, f'PRAGMA table_info("{name.replace(chr(34), chr(34) * 2)}")').fetchall()}
        tables[name] = cols
    return tables


def _has(tables: dict[str, set[str]], required: dict[str, list[str]]) -> bool:
    return all(t in tables and set(cols) <= tables[t] for t, cols in required.items())


def _missing(tables: dict[str, set[str]], required: dict[str, list[str]]) -> str | None:
    """What of ``required`` the schema lacks, in words (the first table that falls short)."""
    for t, cols in required.items():
        if t not in tables:
            return f"no table {t}"
        lacking = [c for c in cols if c not in tables[t]]
        if lacking:
            return f"table {t} lacks {', '.join(lacking)}"
    return None


def explain(profile: Profile, path: Path) -> str:
    """Why ``profile`` finds nothing in ``path``: what identification needs and the schema lacks,
    or, identified, which artifacts no query fits and which ran but returned no rows."""
    con = _connect(path)
    try:
        tables = schema(con)
    except sqlite3.DatabaseError as exc:
        return f"database is corrupt or encrypted: {exc}"
    finally:
        con.close()
    ident = profile.identify
    missing = _missing(tables, ident.get("tables") or {})
    if missing:
        return f"not identified: {missing}"
    any_tables = ident.get("any_tables")
    if any_tables:
        wanted = any_tables if isinstance(any_tables, dict) else {t: [] for t in any_tables}
        if not any(_has(tables, {t: cols}) for t, cols in wanted.items()):
            return "not identified: " + "; ".join(_missing(tables, {t: c}) or t for t, c in wanted.items())
    parts = []
    for art in profile.artifacts.values():
        query = choose(art, tables)
        if query is None:
            first = art.queries[0].requires if art.queries else {}
            parts.append(f"{art.name}: no query fits this schema ({_missing(tables, first)})")
        else:
            parts.append(f"{art.name}: no rows")
    return "identified, but no records: " + "; ".join(parts)


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
    any_tables = ident.get("any_tables")
    if any_tables:
        # A list names tables; a mapping also names columns each must have, which tells look-alike
        # schemas apart (Viber's calls table is not the Android call log's).
        wanted = any_tables if isinstance(any_tables, dict) else {t: [] for t in any_tables}
        if not any(_has(tables, {t: cols}) for t, cols in wanted.items()):
            return False
    return True


def choose(art: Artifact, tables: dict[str, set[str]]) -> Query | None:
    """The first query whose tables and columns exist: app schemas change across versions."""
    return next((q for q in art.queries if _has(tables, q.requires)), None)


@dataclass(frozen=True)
class MissingColumns:
    """Optional columns (``table.column``) this database lacks, read as null for one artifact."""

    artifact: str
    columns: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"artifact {self.artifact}: this version of the database lacks {', '.join(self.columns)}; read as empty"


def _stand_ins(con: sqlite3.Connection, tables: dict[str, set[str]], optional: dict[str, list[str]]) -> list[str]:
    """TEMP VIEWs named as the tables, which SQLite resolves before ``main`` for unqualified names:
    a table lacking optional columns gets them as NULL beside its own, a missing optional table is
    an empty one. The query's text stays the app's own. Returns the ``table.column`` stood in for."""
    missing: list[str] = []
    for table, cols in optional.items():
        if table in tables:
            lacking = [c for c in dict.fromkeys(cols) if c not in tables[table]]
            if not lacking:
                continue
            extra = ", ".join(f"NULL AS {_q(c)}" for c in lacking)
            sqlguard.engine_sql(con, f"CREATE TEMP VIEW {_q(table)} AS SELECT *, {extra} FROM main.{_q(table)}")
        else:
            lacking = list(dict.fromkeys(cols))
            nulls = ", ".join(f"NULL AS {_q(c)}" for c in lacking) or "NULL AS _"
            sqlguard.engine_sql(con, f"CREATE TEMP VIEW {_q(table)} AS SELECT {nulls} WHERE 0")
        missing += [f"{table}.{c}" for c in lacking]
    return missing


def _drop_stand_ins(con: sqlite3.Connection, optional: dict[str, list[str]]) -> None:
    for table in optional:
        sqlguard.engine_sql(con, f"DROP VIEW IF EXISTS temp.{_q(table)}")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse(profile: Profile, path: Path) -> Iterator[TableRows | MissingColumns]:
    """Each artifact's rows, in the batches SQLite gives them (see :data:`TABLES`), and a
    :class:`MissingColumns` note before the rows of a query run without some optional columns."""
    try:
        con = _connect(path)
        tables = schema(con)
    except sqlite3.DatabaseError as exc:
        raise ParseError(f"database is corrupt or encrypted: {exc}") from exc
    try:
        for art in profile.artifacts.values():
            if art.merge_on:
                yield from _merged(con, art, tables)
                continue
            query = choose(art, tables)
            if query is None:
                continue
            yield from _run(con, art, query, tables, None)
    finally:
        con.close()


def _merged(con: sqlite3.Connection, art: Artifact, tables: dict[str, set[str]]) -> Iterator[TableRows | MissingColumns]:
    """Every query whose tables exist, in order, each row once by ``art.merge_on`` (see Artifact)."""
    seen: set[tuple[Any, ...]] = set()
    for query in art.queries:
        if _has(tables, query.requires):
            yield from _run(con, art, query, tables, seen)


def _run(con: sqlite3.Connection, art: Artifact, query: Query, tables: dict[str, set[str]],
         seen: set[tuple[Any, ...]] | None) -> Iterator[TableRows | MissingColumns]:
    """One query's rows in batches; with ``seen``, rows whose merge key was already read are left
    out, each record naming the table its row came from."""
    table = art.table if art.table and seen is None else next(iter(query.requires), None)
    done = 0
    missing = _stand_ins(con, tables, query.optional)
    if missing:
        yield MissingColumns(art.name, tuple(missing))
    try:
        for names, batch, strict in batches(con, query.sql, f"artifact {art.name}"):
            if seen is not None:
                batch = _new_rows(batch, [names.index(k) for k in art.merge_on if k in names], seen)
                if not batch:
                    continue
            yield TableRows(art, table, tuple(names), batch, done, strict)
            done += len(batch)
    except sqlguard.QueryLimit as exc:
        raise ParseError(str(exc)) from exc
    except sqlite3.Error as exc:
        if not done:
            raise ParseError(f"artifact {art.name}: query failed: {exc}") from exc
        raise ParseError(f"artifact {art.name}: database damaged while reading rows: {exc}") from exc
    finally:
        if missing:
            _drop_stand_ins(con, query.optional)


def _new_rows(batch: list[tuple[Any, ...]], key: list[int], seen: set[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out = []
    for row in batch:
        k = tuple(row[i] for i in key)
        if len(k) == len(key) and key and None not in k:
            if k in seen:
                continue
            seen.add(k)
        out.append(row)
    return out
