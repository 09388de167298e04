"""Schema transitions lose nothing (issue 10, item 4).

During WhatsApp for Android's 2021-2022 migration msgstore.db holds the whole history in the legacy
``messages`` table and part of it in the new ``message`` table (with ``chat`` and ``jid``): table
and column names as ALEAPP's and plaso's WhatsApp parsers read them. evkit read only the first
alternative whose tables exist, the partly migrated one (1 message where there are 75). Now both
are read and merged on the message key (key id, chat, direction): a migrated message appears once,
from the new table, and each record names the table it came from.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import evkit

CHAT = "447700900123@s.whatsapp.net"


def _msgstore(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE messages (_id INTEGER PRIMARY KEY, key_remote_jid TEXT, key_from_me INTEGER, key_id TEXT,"
        " status INTEGER, data TEXT, timestamp INTEGER, received_timestamp INTEGER, media_wa_type TEXT,"
        " media_mime_type TEXT, media_size INTEGER, media_name TEXT, media_caption TEXT, media_duration INTEGER,"
        " remote_resource TEXT, latitude REAL, longitude REAL);"
        "CREATE TABLE jid (_id INTEGER PRIMARY KEY, raw_string TEXT);"
        "CREATE TABLE chat (_id INTEGER PRIMARY KEY, jid_row_id INTEGER, subject TEXT);"
        "CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER, from_me INTEGER, key_id TEXT,"
        " sender_jid_row_id INTEGER, status INTEGER, timestamp INTEGER, received_timestamp INTEGER,"
        " message_type INTEGER, text_data TEXT, starred INTEGER);")
    legacy = [(1, CHAT, 0, "A1", "first, migrated", 1_600_000_000_000), (2, CHAT, 1, "B2", "second", 1_600_000_060_000),
              (3, CHAT, 0, "C3", "third", 1_600_000_120_000), (4, "-1", 0, None, "", 1_590_000_000_000)]
    db.executemany("INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, data, timestamp, media_wa_type)"
                   " VALUES (?, ?, ?, ?, ?, ?, '0')", legacy)
    db.execute("INSERT INTO jid VALUES (1, ?)", (CHAT,))
    db.execute("INSERT INTO chat VALUES (1, 1, NULL)")
    db.executemany("INSERT INTO message (_id, chat_row_id, from_me, key_id, timestamp, message_type, text_data)"
                   " VALUES (?, 1, ?, ?, ?, 0, ?)",
                   [(1, 0, "A1", 1_600_000_000_000, "first, migrated"), (2, 1, "D4", 1_600_000_180_000, "fourth, after")])
    db.commit()
    db.close()


def test_both_tables_are_read_and_a_migrated_message_appears_once(tmp_path: Path) -> None:
    path = tmp_path / "msgstore.db"
    _msgstore(path)
    proc = evkit("parse", str(path), "--profile", "whatsapp.android", "--json", check=True)
    rows = [r for r in map(json.loads, proc.stdout.splitlines()) if r.get("artifact") == "messages"]
    by_key = {(r["data"]["key_id"], r["data"]["text"]): r for r in rows}
    assert sorted(str(k) for k, _ in by_key) == ["A1", "B2", "C3", "D4", "None"]  # the keyless system row kept
    assert len(rows) == 5
    assert by_key[("A1", "first, migrated")]["row"]["table"] == "message"  # the new table's row wins
    assert by_key[("B2", "second")]["row"]["table"] == "messages"
    assert by_key[("D4", "fourth, after")]["row"]["table"] == "message"
