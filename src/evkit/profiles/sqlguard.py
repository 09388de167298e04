"""Profile SQL is hostile too: it reads, within limits, and can neither write nor create anything.

Profiles may come from other labs, and a database from a suspect may hold views written to hurt
(a view over an endless recursive CTE, one returning ``zeroblob(300000000)``). So:

* scratch copies are opened read-only (``mode=ro``) with an authorizer that allows reading only:
  no ``ATTACH`` (which ``VACUUM INTO`` starts with), no ``PRAGMA``, no write, no ``CREATE``,
  not even in ``temp``. ``profiles validate`` compiles each query under the same authorizer;
* the engine's own SQL (the schema, helper ``TEMP VIEW``s) goes through :func:`engine_sql`, the
  one place the authorizer is lifted;
* each query runs under a progress handler that stops it after :attr:`Limits.seconds`, and that
  makes Ctrl-C stop it too (the rows are counted by the caller against :attr:`Limits.rows`);
* no value may be longer than :attr:`Limits.value_bytes` (``SQLITE_LIMIT_LENGTH``), and SQLite's
  heap in the process is capped at :attr:`Limits.memory_bytes`.

The limits come from the environment (``EVKIT_QUERY_SECONDS``, ``EVKIT_QUERY_ROWS``,
``EVKIT_VALUE_BYTES``, ``EVKIT_QUERY_MEMORY_BYTES``), so a lab can raise them for a huge case.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evkit.errors import UsageError

_READS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_ACTION_NAMES = {getattr(sqlite3, n): n.removeprefix("SQLITE_") for n in dir(sqlite3)
                 if n.startswith("SQLITE_") and n not in ("SQLITE_OK", "SQLITE_DENY", "SQLITE_IGNORE")
                 and not n.startswith("SQLITE_LIMIT_") and isinstance(getattr(sqlite3, n), int)
                 and getattr(sqlite3, n) <= 33}
# Program steps that write a database (not the temporary tables a query sorts in): VACUUM, whose
# ``VACUUM INTO`` meets the authorizer only when it runs, and the rest; any write also opens a write transaction.
_WRITES = {"Vacuum", "OpenWrite", "VUpdate", "CreateBtree", "Destroy", "Clear", "ParseSchema",
           "SetCookie", "JournalMode", "IncrVacuum"}
PROGRESS_STEPS = 20_000  # SQLite VM instructions between two looks at the clock (a few µs of Python)


@dataclass(frozen=True)
class Limits:
    seconds: float = 600.0
    rows: int = 50_000_000
    value_bytes: int = 16 * 1024 * 1024
    memory_bytes: int = 2 * 1024 * 1024 * 1024


_ENV = {"seconds": "EVKIT_QUERY_SECONDS", "rows": "EVKIT_QUERY_ROWS", "value_bytes": "EVKIT_VALUE_BYTES",
        "memory_bytes": "EVKIT_QUERY_MEMORY_BYTES"}


def limits() -> Limits:
    """The limits in force: the defaults, each replaced by its environment variable when set."""
    values: dict[str, Any] = {}
    for field, var in _ENV.items():
        text = os.environ.get(var)
        if not text:
            continue
        try:
            value = float(text) if field == "seconds" else int(text)
        except ValueError:
            raise UsageError(f"{var}={text!r}: not a number") from None
        if value <= 0:
            raise UsageError(f"{var}={text!r}: must be more than 0")
        values[field] = value
    return Limits(**values)


class QueryLimit(Exception):
    """A query stopped by a limit: the message says which, and the variable that raises it."""


def _authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    return sqlite3.SQLITE_OK if action in _READS else sqlite3.SQLITE_DENY


def denied_action(con: sqlite3.Connection, sql: str) -> str | None:
    """What in ``sql`` the read-only authorizer refuses (``ATTACH``, ``PRAGMA writable_schema``...),
    found by compiling it (``EXPLAIN`` lists the program, nothing runs) on ``con``: the authorizer's
    refusals, and the program's writing steps. None when it only reads."""
    refused: list[str] = []

    def note(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
        if action in _READS:
            return sqlite3.SQLITE_OK
        what = _ACTION_NAMES.get(action, str(action))
        refused.append(" ".join(str(a) for a in (what, arg1) if a))
        return sqlite3.SQLITE_DENY

    con.set_authorizer(note)
    try:
        for _addr, opcode, _p1, p2, *_rest in con.execute("EXPLAIN " + sql).fetchall():
            if opcode in _WRITES or (opcode == "Transaction" and p2):
                refused.append(opcode.upper())
    except sqlite3.DatabaseError:
        if not refused:
            raise
    finally:
        con.set_authorizer(_authorize)
    return refused[0] if refused else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_query(sql: str, requires: dict[str, list[str]]) -> str | None:
    """Why a profile query is refused (it would write, attach, create, set a pragma, or is more
    than one statement), or None. It is compiled, never run, on an empty in-memory database with
    the tables and columns it requires; a table or column it names beyond those is added and the
    query compiled again, so that only what the authorizer sees decides."""
    con = sqlite3.connect(":memory:", isolation_level=None)
    try:
        tables = {name: list(dict.fromkeys(cols)) or ["_"] for name, cols in requires.items()}
        for _ in range(200):
            con.set_authorizer(None)
            for name in [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]:
                con.execute(f"DROP TABLE {_quote(name)}")
            for name, cols in tables.items():
                con.execute(f"CREATE TABLE {_quote(name)} ({', '.join(map(_quote, cols))})")
            con.set_authorizer(_authorize)
            try:
                refused = denied_action(con, sql)
            except sqlite3.ProgrammingError as exc:
                return f"not a single query: {exc}"
            except sqlite3.DatabaseError as exc:
                text = str(exc)
                if text.startswith("no such table: "):
                    tables[text.removeprefix("no such table: ").split(".")[-1]] = ["_"]
                    continue
                if text.startswith("no such column: "):
                    column = text.removeprefix("no such column: ").split(".")[-1]
                    if any(column in cols for cols in tables.values()):
                        return None
                    for cols in tables.values():
                        cols.append(column)
                    continue
                return None  # other compile errors are the database's business: reported per file at run time
            return f"profile SQL may only read, and this query asks for {refused}" if refused else None
        return None
    finally:
        con.close()


class ValueTooBig(QueryLimit):
    """A value over :attr:`Limits.value_bytes`: SQLite refuses to make it, and the query stops there."""


class _Watch:
    """The progress handler of one connection: stops the running statement on time-out or Ctrl-C."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = float("inf")
        self.expired = self.interrupted = False

    def __call__(self) -> int:
        if self.interrupted:
            return 1
        if time.monotonic() > self.deadline:
            self.expired = True
            return 1
        return 0


class GuardedConnection(sqlite3.Connection):
    """A connection that carries the progress handler watching its queries."""

    watch: _Watch


_HEAP_SET = False


def open_readonly(path: Path, lim: Limits) -> GuardedConnection:
    """A read-only connection to a scratch copy, under the authorizer and the limits."""
    global _HEAP_SET
    uri = "file:" + urllib.parse.quote(str(path)) + "?mode=ro"
    con = sqlite3.connect(uri, uri=True, isolation_level=None, factory=GuardedConnection)
    con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, lim.value_bytes)
    con.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    if not _HEAP_SET:  # process-wide, and a heap limit can only be lowered: set once
        con.execute(f"PRAGMA soft_heap_limit = {int(lim.memory_bytes)}").close()
        con.execute(f"PRAGMA hard_heap_limit = {int(lim.memory_bytes)}").close()
        _HEAP_SET = True
    con.set_authorizer(_authorize)
    con.watch = _Watch(lim.seconds)
    con.set_progress_handler(con.watch, PROGRESS_STEPS)
    return con


def recover(path: Path) -> None:
    """Roll back a hot ``-journal`` left beside the scratch copy, as SQLite does on first read.

    A read-only connection cannot (``attempt to write a readonly database``), so the engine opens
    the copy once writable, reads its schema (no profile SQL, no view is run) and closes it."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchall()
    finally:
        con.close()


def engine_sql(con: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
    """Run evkit's own SQL (never a profile's) with the read-only authorizer lifted: the schema's
    ``PRAGMA table_info``, ``TEMP VIEW``s that supply columns a database version lacks. The
    cursor's rows are fetched under the same lifted authorizer only if fetched before the next call."""
    con.set_authorizer(None)
    try:
        return con.execute(sql, params)
    finally:
        con.set_authorizer(_authorize)


@contextmanager
def watched(con: sqlite3.Connection, what: str) -> Iterator[None]:
    """Around each call into SQLite that runs profile SQL (execute, fetch): the clock started at the
    first such call of a query (:func:`start`), Ctrl-C turned into a stop of the statement and then a
    KeyboardInterrupt (Python runs its own handler only between SQLite's steps)."""
    watch: _Watch | None = getattr(con, "watch", None)
    main = threading.current_thread() is threading.main_thread()
    previous: Any = None
    if watch is not None and main:
        def on_sigint(signum: int, frame: Any) -> None:
            watch.interrupted = True
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    except sqlite3.Error as exc:
        if watch is not None and watch.interrupted:
            raise KeyboardInterrupt from None
        if watch is not None and watch.expired:
            raise QueryLimit(f"{what}: stopped after {watch.seconds:g} s (EVKIT_QUERY_SECONDS raises the limit)") from None
        if "string or blob too big" in str(exc):
            lim = con.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
            raise ValueTooBig(f"{what}: a value is larger than {lim} bytes and was not read; the rows from it on are "
                              "left out (EVKIT_VALUE_BYTES raises the limit)") from None
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if watch is not None and watch.interrupted:
        raise KeyboardInterrupt


def start(con: sqlite3.Connection) -> None:
    """Start the clock of a new profile query on ``con``."""
    watch: _Watch | None = getattr(con, "watch", None)
    if watch is not None:
        watch.deadline = time.monotonic() + watch.seconds
        watch.expired = watch.interrupted = False
