"""The case store (``case.db``): evidence items, artefacts, custody events and, later, parsed records.

The schema is versioned by ``PRAGMA user_version`` and moved forward by the numbered migrations
below, so a case made by an older evkit opens in a newer one. Writes use WAL-less rollback
journalling (``journal_mode=DELETE``): the bag's tag manifest covers ``case.db`` and a lingering
``-wal`` file would make the folder's content depend on whether SQLite had checkpointed.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE evidence (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL UNIQUE,
        description TEXT,
        source_path TEXT NOT NULL,
        source_name TEXT NOT NULL,
        source_size INTEGER NOT NULL,
        source_mtime TEXT,
        source_ctime TEXT,
        files TEXT NOT NULL,            -- JSON: [{name, size, sha256}] of every evidence file (segments)
        format TEXT NOT NULL,
        kind TEXT NOT NULL,
        media_size INTEGER,
        info TEXT NOT NULL,             -- JSON: evkit info (container metadata, partitions, filesystems)
        stored_hashes TEXT NOT NULL,    -- JSON
        md5 TEXT, sha1 TEXT, sha256 TEXT,
        verified INTEGER,               -- 1 matched, 0 mismatch, NULL nothing stored
        chunk_errors INTEGER,
        added_seq INTEGER NOT NULL
    );
    CREATE TABLE artefacts (
        id INTEGER PRIMARY KEY,
        evidence_id INTEGER NOT NULL REFERENCES evidence(id),
        locator TEXT NOT NULL,
        path TEXT NOT NULL,             -- in-evidence path as shown (escaped)
        path_hex TEXT NOT NULL,         -- exact bytes of the in-evidence path
        stored_path TEXT NOT NULL UNIQUE, -- relative to the case folder, under data/
        renamed INTEGER NOT NULL,       -- 1 when stored under a safe name different from the original
        inode INTEGER, address TEXT,
        size INTEGER NOT NULL,
        mtime TEXT, atime TEXT, ctime TEXT, crtime TEXT,
        deleted INTEGER NOT NULL,
        magic TEXT,
        md5 TEXT NOT NULL, sha256 TEXT NOT NULL,
        parent_id INTEGER REFERENCES artefacts(id),  -- a -wal/-journal/-shm belongs to its database
        seq INTEGER NOT NULL,           -- custody event that produced it
        UNIQUE (evidence_id, locator)
    );
    CREATE TABLE events (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, action TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE TABLE outputs (              -- payload files that are not artefacts (reports, exports)
        stored_path TEXT PRIMARY KEY, size INTEGER NOT NULL, md5 TEXT NOT NULL, sha256 TEXT NOT NULL,
        seq INTEGER NOT NULL, kind TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        evidence_id INTEGER NOT NULL REFERENCES evidence(id),
        artefact_id INTEGER NOT NULL REFERENCES artefacts(id),  -- the hashed source file in the bag
        profile TEXT NOT NULL, profile_version TEXT NOT NULL, artifact TEXT NOT NULL,
        timestamp TEXT,                 -- UTC ISO-8601 with Z, or NULL
        locator TEXT NOT NULL, source_sha256 TEXT NOT NULL,
        row_table TEXT, row_id INTEGER, row_index INTEGER,
        data TEXT NOT NULL,             -- JSON: converted columns with their raw values beside them
        seq INTEGER NOT NULL
    );
    CREATE INDEX records_by_artifact ON records(profile, artifact);
    CREATE INDEX records_by_time ON records(timestamp);
    CREATE TABLE parsed (              -- a (file, profile) pair whose records are complete
        artefact_id INTEGER NOT NULL REFERENCES artefacts(id), profile TEXT NOT NULL,
        records INTEGER NOT NULL, problem TEXT, seq INTEGER NOT NULL,
        PRIMARY KEY (artefact_id, profile)
    );
    """,
    """
    CREATE TABLE tags (                -- examiner tags and notes on records (evkit tag)
        id INTEGER PRIMARY KEY,
        record_id INTEGER NOT NULL REFERENCES records(id),
        tag TEXT, note TEXT,
        examiner TEXT NOT NULL, time TEXT NOT NULL,
        seq INTEGER NOT NULL            -- custody event that added it
    );
    CREATE INDEX tags_by_record ON tags(record_id);
    """,
]


class CaseStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                self.db.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version={number}; COMMIT;")
            except sqlite3.Error:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    def transaction(self) -> "_Tx":
        return _Tx(self.db)

    def close(self) -> None:
        self.db.close()

    # -- meta -----------------------------------------------------------------------------
    def set_meta(self, values: dict[str, Any]) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in values.items()])

    def meta(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.db.execute("SELECT key, value FROM meta")}

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])


class _Tx:
    """``with store.transaction():`` — BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.nested = False

    def __enter__(self) -> sqlite3.Connection:
        self.nested = self.db.in_transaction
        if not self.nested:
            self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self.nested:
            return
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
