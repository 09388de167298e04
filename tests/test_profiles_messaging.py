"""Built-in messaging, call and contact profiles, on real corpus files and on databases built here.

Apps with no file in the third-party corpus (WhatsApp, Telegram, iOS call history and address
book) get small databases created at test time with the apps' real table and column names and a
few rows of known values: a non-UTF-8 text (stored through a blob cast), a NULL text, and, for
WhatsApp, rows that live only in an uncheckpointed ``-wal``. Everything runs through the
installed ``evkit`` console script, as an examiner would.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from evkit.profiles import tl
from evkit.profiles.typedstream import attributed_text
from tests.conftest import ROOT, evkit

PROFILES = ROOT / "profiles"
MINE = ["ios.sms", "whatsapp.android", "whatsapp.ios", "telegram.android", "android.calllog",
        "android.contacts", "ios.callhistory", "ios.addressbook"]
MAC_EPOCH = 978307200


# --- helpers ---------------------------------------------------------------------------------

def iso(unix: float) -> str:
    """Independent UTC rendering (datetime, not evkit) with evkit's trimmed fraction."""
    secs = int(unix // 1)
    frac = round((unix - secs) * 1_000_000_000)
    text = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{frac:09d}".rstrip("0") if frac else "") + "Z"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse(source: Path, *profiles: str, extra: tuple[str, ...] = ()) -> tuple[int, list[dict[str, Any]], str]:
    args = ["parse", str(source), "--json", *extra]
    for p in profiles:
        args += ["--profile", p]
    proc = evkit(*args)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    records = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines() if line.strip()]
    return proc.returncode, records, err


def profile_test(profile: str, file: Path) -> tuple[int, list[dict[str, Any]], str]:
    proc = evkit("profiles", "test", profile, str(file), "--json")
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    return proc.returncode, [json.loads(x) for x in proc.stdout.decode().splitlines() if x.strip()], err


def by_artifact(records: list[dict[str, Any]], artifact: str) -> list[dict[str, Any]]:
    return [r for r in records if r["artifact"] == artifact]


def check_provenance(rec: dict[str, Any], file: Path, table: str) -> None:
    """Every record says where it came from: locator, hash of the source file, table and row id."""
    assert rec["locator"] and file.name in rec["locator"], rec["locator"]
    assert rec["source_sha256"] == sha256(file)
    assert rec["path"].endswith("/" + file.name)
    assert rec["row"]["table"] == table
    assert isinstance(rec["row"].get("rowid"), int), rec["row"]


def make_db(path: Path, script: str, rows: list[tuple[str, tuple[Any, ...]]] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(script)
        for sql, params in rows:
            con.execute(sql, params)
        con.commit()
    finally:
        con.close()
    return path


def typedstream(text: str) -> bytes:
    """An NSAttributedString typedstream as iMessage writes it in ``attributedBody``."""
    raw = text.encode("utf-8")

    def number(n: int) -> bytes:  # typedstream integers: one signed byte, or 0x81 and 16 bits
        return bytes([n]) if n < 0x80 else b"\x81" + struct.pack("<H", n)

    length = number(len(raw))
    return (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject"
            b"\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+" + length + raw +
            b"\x86\x84\x02iI\x01" + number(len(text)) + b"\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x00\x86\x86")


# --- every profile validates ---------------------------------------------------------------

def test_all_profiles_validate() -> None:
    proc = evkit("profiles", "validate")
    assert proc.returncode == 0, proc.stderr.decode()
    files = [str(PROFILES / f"{pid}.yaml") for pid in MINE]
    proc = evkit("profiles", "validate", *files)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().count(": ok") == len(MINE)
    listed = evkit("profiles", "list", "--json", check=True).stdout.decode()
    ids = {json.loads(line)["id"]: json.loads(line) for line in listed.splitlines()}
    for pid in MINE:
        assert pid in ids, pid
    assert ids["whatsapp.android"]["artifacts"] == ["messages", "calls", "contacts"]
    assert ids["whatsapp.ios"]["artifacts"] == ["messages", "contacts", "calls"]
    assert ids["telegram.android"]["artifacts"] == ["messages", "users"]
    assert ids["ios.sms"]["artifacts"] == ["messages"]


# --- Android SMS (corpus) and hunting ------------------------------------------------------

def test_android_sms_corpus(corpus: Path) -> None:
    db = corpus / "chat" / "android_sms_plaso" / "mmssms.db"
    code, records, err = profile_test("android.sms", db)
    assert code == 0, err
    sms = by_artifact(records, "sms")
    assert len(sms) == 9
    first = sms[0]
    assert first["data"]["body"] == "Yo Fred this is my new number."
    assert first["timestamp"] == first["data"]["date"] == "2013-10-29T16:56:28.038Z"
    assert first["data"]["date_raw"] == 1383065788038
    assert first["data"]["type"] == "sent" and first["data"]["type_raw"] == 2
    check_provenance(first, db, "sms")


SMS_SCHEMA = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER,
  date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1,
  type INTEGER, reply_path_present INTEGER, subject TEXT, body TEXT, service_center TEXT, locked INTEGER DEFAULT 0,
  error_code INTEGER DEFAULT 0, seen INTEGER DEFAULT 0);
CREATE TABLE padding (x BLOB);
"""


def test_hunt_finds_renamed_sms_database(tmp_path: Path) -> None:
    make_db(tmp_path / "case" / "x.bin", SMS_SCHEMA, [
        ("INSERT INTO sms (_id, thread_id, address, date, type, read, body) VALUES (?,?,?,?,?,?,?)",
         (1, 1, "+15550001", 1400000000000, 1, 1, "hidden by a rename")),
        ("INSERT INTO padding VALUES (?)", (b"\x00" * 2048,)),
    ])
    code, records, err = parse(tmp_path / "case", "android.sms")
    assert code == 0 and records == [], err
    code, records, err = parse(tmp_path / "case", "android.sms", extra=("--hunt",))
    assert code == 0, err
    assert [r["data"]["body"] for r in records] == ["hidden by a rename"]
    assert records[0]["path"] == "/x.bin"
    assert records[0]["timestamp"] == "2014-05-13T16:53:20Z"
    check_provenance(records[0], tmp_path / "case" / "x.bin", "sms")


def test_non_utf8_text_deep_in_a_large_table_keeps_every_row_once(tmp_path: Path) -> None:
    """Text that is not UTF-8 after the first few thousand rows: every row comes out once, in order."""
    rows = [("INSERT INTO sms (_id, thread_id, address, date, type, read, body) VALUES (?,?,?,?,?,?,?)",
             (i, 1, "+15550001", 1400000000000 + i * 1000, 1 + i % 2, 1, f"message {i}")) for i in range(1, 5001)]
    rows.append(("UPDATE sms SET body = CAST(x'6261649f' AS TEXT) WHERE _id = 4500", ()))
    make_db(tmp_path / "ev" / "mmssms.db", SMS_SCHEMA, rows)
    code, records, err = parse(tmp_path / "ev", "android.sms")
    assert code == 0, err
    assert [r["row"]["rowid"] for r in records] == list(range(1, 5001))
    assert records[4499]["data"]["body"] == "bad\\x9f"
    assert records[4500]["data"]["body"] == "message 4501"


# --- iOS Messages ----------------------------------------------------------------------------

def test_ios_sms_corpus(corpus: Path) -> None:
    db = corpus / "chat" / "imessage_plaso" / "imessage_chat.db"
    code, records, err = profile_test("ios.sms", db)
    assert code == 0, err
    assert len(records) == 10 and {r["artifact"] for r in records} == {"messages"}
    msg = next(r for r in records if r["data"]["text"] == "Did you try to send me a message?")
    assert msg["timestamp"] == msg["data"]["date"] == "2015-11-30T10:48:40Z"
    assert msg["data"]["date_raw"] == 470573320
    assert msg["data"]["is_from_me"] == "received" and msg["data"]["is_from_me_raw"] == 0
    assert msg["data"]["service"] == "iMessage"
    assert msg["data"]["handle"] == "xxxxxx2015@icloud.com"
    assert msg["data"]["chat_identifier"] == "jondoh2015@icloud.com"
    assert msg["data"]["text_source"] == "text"
    check_provenance(msg, db, "message")
    reply = next(r for r in records if r["row"]["rowid"] == 9)
    assert reply["data"]["text"] == "Yes, did you get it?" and reply["data"]["is_from_me"] == "sent"
    assert [r["row"]["rowid"] for r in records] == list(range(1, 11))


def test_ios_sms_attributed_body_of_corpus_copy(corpus: Path, tmp_path: Path) -> None:
    """The corpus rows with text cleared (in a copy): the text comes back from attributedBody."""
    copy = tmp_path / "sms.db"
    shutil.copyfile(corpus / "chat" / "imessage_plaso" / "imessage_chat.db", copy)
    copy.chmod(0o644)
    con = sqlite3.connect(copy)
    con.execute("UPDATE message SET text = NULL")
    con.commit()
    con.close()
    code, records, err = profile_test("ios.sms", copy)
    assert code == 0, err
    assert len(records) == 10
    assert all(r["data"]["text_source"] == "attributedBody" for r in records)
    texts = {r["row"]["rowid"]: r["data"]["text"] for r in records}
    assert texts[8] == "Did you try to send me a message?"
    assert texts[9] == "Yes, did you get it?"


IOS16_SMS = """
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
  replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
  attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
  account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
  is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0,
  is_read INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, associated_message_guid TEXT,
  associated_message_type INTEGER DEFAULT 0, thread_originator_guid TEXT, destination_caller_id TEXT);
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
  service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT, UNIQUE (id, service));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER,
  state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT,
  account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT,
  group_id TEXT, is_filtered INTEGER DEFAULT 0, successful_query INTEGER);
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
  message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0,
  PRIMARY KEY (chat_id, message_id));
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT,
  transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT,
  total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
  attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
"""
LONG_TEXT = "A long message kept only in attributedBody. " * 7  # > 255 bytes: two-byte typedstream length


def test_ios_sms_ios16_nanoseconds_attributed_body_and_hostile_text(tmp_path: Path) -> None:
    ns_date = (1700000000 - MAC_EPOCH) * 1_000_000_000 + 123456789
    db = make_db(tmp_path / "phone" / "private" / "var" / "mobile" / "Library" / "SMS" / "sms.db", IOS16_SMS, [
        ("INSERT INTO handle (ROWID, id, service) VALUES (1, '+15551234567', 'SMS')", ()),
        ("INSERT INTO handle (ROWID, id, service) VALUES (2, 'friend@example.com', 'iMessage')", ()),
        ("INSERT INTO chat (ROWID, guid, chat_identifier, service_name, display_name) VALUES "
         "(1, 'SMS;-;+15551234567', '+15551234567', 'SMS', ''), (2, 'iMessage;+;chat1', 'chat1', 'iMessage', 'Book club')", ()),
        ("INSERT INTO message (ROWID, guid, text, handle_id, service, date, date_read, is_from_me, cache_has_attachments) "
         "VALUES (1, 'G1', 'Hello from SMS', 1, 'SMS', ?, 0, 0, 1)", (ns_date,)),
        ("INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date, is_from_me) "
         "VALUES (2, 'G2', NULL, ?, 2, 'iMessage', ?, 1)", (typedstream("Only in attributedBody ✓"), 721692860)),
        ("INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date, is_from_me) "
         "VALUES (3, 'G3', NULL, NULL, 2, 'iMessage', ?, 0)", (721692870,)),
        ("INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me) "
         "VALUES (4, 'G4', CAST(x'4869ff' AS TEXT), 2, 'iMessage', ?, 0)", (721692880,)),
        ("INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date, is_from_me) "
         "VALUES (5, 'G5', NULL, ?, 2, 'iMessage', ?, 0)", (typedstream(LONG_TEXT), 721692890)),
        ("INSERT INTO chat_message_join (chat_id, message_id) VALUES (1, 1), (2, 2), (2, 3), (2, 4), (2, 5)", ()),
        ("INSERT INTO attachment (ROWID, guid, filename, mime_type) VALUES "
         "(1, 'A1', '~/Library/SMS/Attachments/ab/01/IMG_0001.jpeg', 'image/jpeg')", ()),
        ("INSERT INTO message_attachment_join VALUES (1, 1)", ()),
    ])
    code, records, err = parse(tmp_path / "phone", "ios.sms")
    assert code == 0, err
    assert [r["row"]["rowid"] for r in records] == [1, 2, 3, 4, 5]
    one, two, three, four, five = (r["data"] for r in records)
    assert records[0]["timestamp"] == one["date"] == "2023-11-14T22:13:20.123456789Z"
    assert one["date_raw"] == ns_date
    assert one["date_read"] is None and one["date_read_raw"] == 0
    assert one["text"] == "Hello from SMS" and one["text_source"] == "text"
    assert one["service"] == "SMS" and one["handle"] == "+15551234567" and one["chat_identifier"] == "+15551234567"
    assert one["has_attachments"] is True and one["attachments"] == "~/Library/SMS/Attachments/ab/01/IMG_0001.jpeg"
    assert two["text"] == "Only in attributedBody ✓" and two["text_source"] == "attributedBody"
    assert two["date"] == iso(721692860 + MAC_EPOCH) == "2023-11-14T22:14:20Z"
    assert two["is_from_me"] == "sent" and two["chat_identifier"] == "chat1" and two["chat_name"] == "Book club"
    assert three["text"] is None and three["text_source"] is None
    assert four["text"] == "Hi\\xff"
    assert five["text"] == LONG_TEXT == attributed_text(typedstream(LONG_TEXT))
    for rec in records:
        check_provenance(rec, db, "message")


def test_ios_sms_ios5_schema(tmp_path: Path) -> None:
    db = make_db(tmp_path / "Library" / "SMS" / "sms.db", """
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, text TEXT,
          flags INTEGER, replace INTEGER, svc_center TEXT, group_id INTEGER, association_id INTEGER, height INTEGER,
          UIFlags INTEGER, version INTEGER, subject TEXT, country TEXT, headers BLOB, recipients BLOB, read INTEGER);
        CREATE TABLE msg_group (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER, newest_message INTEGER,
          unread_count INTEGER, hash INTEGER);
        INSERT INTO message (ROWID, address, date, text, flags, group_id) VALUES (1, '+15550001111', 1300000000, 'Old SMS', 3, 7);
        INSERT INTO message (ROWID, address, date, text, flags, group_id) VALUES (2, '+15550001111', 1300000060, 'Old reply', 2, 7);
    """)
    code, records, err = parse(tmp_path, "ios.sms")
    assert code == 0, err
    assert [(r["data"]["text"], r["data"]["is_from_me"]) for r in records] == [("Old SMS", "sent"), ("Old reply", "received")]
    assert records[0]["timestamp"] == records[0]["data"]["date_unix"] == "2011-03-13T07:06:40Z"
    assert records[0]["data"]["date_unix_raw"] == 1300000000
    check_provenance(records[0], db, "message")


def test_sms_db_without_the_tables_is_not_recognised(tmp_path: Path) -> None:
    make_db(tmp_path / "ev" / "sms.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'x');")
    code, records, err = parse(tmp_path / "ev", "ios.sms")
    assert code == 4 and records == []
    assert "sms.db" in err and "not recognised" in err, err


# --- Android call log and contacts -----------------------------------------------------------

def test_android_calllog_corpus(corpus: Path) -> None:
    db = corpus / "mobile" / "android_plaso" / "contacts2.db"
    code, records, err = profile_test("android.calllog", db)
    assert code == 0, err
    assert [r["row"]["rowid"] for r in records] == [714, 715, 717]
    first, second, third = (r["data"] for r in records)
    assert records[0]["timestamp"] == first["date"] == "2013-11-06T21:17:16.69Z"
    assert first["date_raw"] == 1383772636690
    assert (first["type"], first["type_raw"], first["duration"]) == ("missed", 3, 0)
    assert (second["type"], second["duration"], second["date"]) == ("outgoing", 126, "2013-11-06T21:18:53.283Z")
    assert (third["type"], third["duration"]) == ("incoming", 639)
    assert first["number"] == "5404561685" and first["name"] == "Barney" and first["geocoded_location"] == "Bedrock"
    check_provenance(records[0], db, "calls")


def test_android_corpus_folder_has_no_false_problems(corpus: Path) -> None:
    """contacts2.db matches both android.calllog and android.contacts by name; neither complains."""
    code, records, err = parse(corpus / "mobile" / "android_plaso", "android.calllog", "android.contacts")
    assert code == 0, err
    assert len(records) == 3 and {r["profile"] for r in records} == {"android.calllog"}


CALLLOG_DB = """
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, presentation INTEGER NOT NULL DEFAULT 1,
  post_dial_digits TEXT NOT NULL DEFAULT '', via_number TEXT NOT NULL DEFAULT '', date INTEGER, duration INTEGER,
  data_usage INTEGER, type INTEGER, features INTEGER NOT NULL DEFAULT 0, subscription_component_name TEXT,
  subscription_id TEXT, phone_account_address TEXT, phone_account_hidden INTEGER NOT NULL DEFAULT 0,
  sub_id INTEGER DEFAULT -1, new INTEGER, name TEXT, numbertype INTEGER, numberlabel TEXT, countryiso TEXT,
  voicemail_uri TEXT, is_read INTEGER, geocoded_location TEXT, lookup_uri TEXT, matched_number TEXT,
  normalized_number TEXT, photo_id INTEGER NOT NULL DEFAULT 0, photo_uri TEXT, formatted_number TEXT,
  add_for_all_users INTEGER NOT NULL DEFAULT 1, last_modified INTEGER DEFAULT 0, _data TEXT, has_content INTEGER,
  mime_type TEXT, source_data TEXT, source_package TEXT, transcription TEXT, transcription_state INTEGER NOT NULL DEFAULT 0,
  state INTEGER);
"""
CONTACTS2_DB = """
CREATE TABLE accounts (_id INTEGER PRIMARY KEY AUTOINCREMENT, account_name TEXT, account_type TEXT, data_set TEXT);
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER REFERENCES accounts(_id),
  sourceid TEXT, backup_id TEXT, raw_contact_is_read_only INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 1,
  dirty INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, metadata_dirty INTEGER NOT NULL DEFAULT 0,
  contact_id INTEGER REFERENCES contacts(_id), aggregation_mode INTEGER NOT NULL DEFAULT 0,
  aggregation_needed INTEGER NOT NULL DEFAULT 1, custom_ringtone TEXT, send_to_voicemail INTEGER NOT NULL DEFAULT 0,
  times_contacted INTEGER NOT NULL DEFAULT 0, last_time_contacted INTEGER, starred INTEGER NOT NULL DEFAULT 0,
  pinned INTEGER NOT NULL DEFAULT 0, display_name TEXT, display_name_alt TEXT, display_name_source INTEGER NOT NULL DEFAULT 0,
  phonetic_name TEXT, phonetic_name_style TEXT, sort_key TEXT, phonebook_label TEXT, phonebook_bucket INTEGER,
  sort_key_alt TEXT, name_verified INTEGER NOT NULL DEFAULT 0, sync1 TEXT, sync2 TEXT, sync3 TEXT, sync4 TEXT);
CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT, mimetype TEXT NOT NULL);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT, package_id INTEGER, mimetype_id INTEGER NOT NULL,
  raw_contact_id INTEGER NOT NULL, hash_id TEXT, is_read_only INTEGER NOT NULL DEFAULT 0, is_primary INTEGER NOT NULL DEFAULT 0,
  is_super_primary INTEGER NOT NULL DEFAULT 0, data_version INTEGER NOT NULL DEFAULT 0, data1 TEXT, data2 TEXT,
  data3 TEXT, data4 TEXT, data5 TEXT, data6 TEXT, data7 TEXT, data8 TEXT, data9 TEXT, data10 TEXT, data11 TEXT,
  data12 TEXT, data13 TEXT, data14 TEXT, data15 TEXT, data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT,
  carrier_presence INTEGER NOT NULL DEFAULT 0, preferred_phone_account_component_name TEXT, preferred_phone_account_id TEXT);
CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, name_raw_contact_id INTEGER, photo_id INTEGER,
  custom_ringtone TEXT, send_to_voicemail INTEGER NOT NULL DEFAULT 0, starred INTEGER NOT NULL DEFAULT 0,
  has_phone_number INTEGER NOT NULL DEFAULT 0, lookup TEXT);
INSERT INTO mimetypes VALUES (1, 'vnd.android.cursor.item/name'), (5, 'vnd.android.cursor.item/phone_v2'),
  (6, 'vnd.android.cursor.item/email_v2'), (7, 'vnd.android.cursor.item/organization'), (9, 'vnd.android.cursor.item/note');
INSERT INTO accounts VALUES (1, 'fred@example.com', 'com.google', NULL);
INSERT INTO raw_contacts (_id, account_id, contact_id, display_name, deleted, starred, times_contacted, last_time_contacted)
  VALUES (1, 1, 1, 'Fred Flintstone', 0, 1, 4, 1383772636690), (2, 1, 2, 'Barney Rubble', 1, 0, 0, NULL);
INSERT INTO data (mimetype_id, raw_contact_id, data1) VALUES (1, 1, 'Fred Flintstone'), (5, 1, '+1 555 0100'),
  (5, 1, '+1 555 0101'), (6, 1, 'fred@bedrock.example'), (7, 1, 'Slate Rock and Gravel'), (9, 1, 'Yabba dabba doo'),
  (1, 2, 'Barney Rubble'), (5, 2, '555-0200');
"""


def test_android_calllog_and_contacts_android7(tmp_path: Path) -> None:
    base = tmp_path / "data" / "data" / "com.android.providers.contacts" / "databases"
    calllog = make_db(base / "calllog.db", CALLLOG_DB, [
        ("INSERT INTO calls (_id, number, date, duration, type, features, subscription_id, name, countryiso, "
         "is_read, geocoded_location, new) VALUES (1, '+447700900123', 1600000000000, 65, 2, 1, '8944', 'Alice', 'GB', 1, 'London', 0)", ()),
        ("INSERT INTO calls (_id, number, date, duration, type, features, name, countryiso, is_read, geocoded_location, new) "
         "VALUES (2, '+447700900999', 1600000100500, 0, 6, 0, NULL, 'GB', 0, NULL, 1)", ()),
        ("INSERT INTO calls (_id, number, date, duration, type, countryiso, geocoded_location) "
         "VALUES (3, CAST(x'2b3434ff' AS TEXT), 1600000200000, 3, 9, 'GB', '')", ()),
    ])
    contacts = make_db(base / "contacts2.db", CONTACTS2_DB)  # Android 7+: no calls table here
    code, records, err = parse(tmp_path, "android.calllog", "android.contacts")
    assert code == 0, err
    calls = [r for r in records if r["profile"] == "android.calllog"]
    assert [r["row"]["rowid"] for r in calls] == [1, 2, 3]
    assert calls[0]["timestamp"] == "2020-09-13T12:26:40Z" and calls[0]["data"]["date_raw"] == 1600000000000
    assert (calls[0]["data"]["type"], calls[0]["data"]["video"], calls[0]["data"]["account_id"]) == ("outgoing", True, "8944")
    assert calls[0]["data"]["name"] == "Alice" and calls[0]["data"]["duration"] == 65
    assert calls[1]["data"]["date"] == "2020-09-13T12:28:20.5Z" and calls[1]["data"]["type"] == "blocked"
    assert calls[1]["data"]["new"] is True
    assert calls[2]["data"]["type"] == "unknown (9)" and calls[2]["data"]["type_raw"] == 9
    assert calls[2]["data"]["number"] == "+44\\xff"
    for rec in calls:
        check_provenance(rec, calllog, "calls")

    people = [r for r in records if r["profile"] == "android.contacts"]
    assert [r["row"]["rowid"] for r in people] == [1, 2]
    fred, barney = (r["data"] for r in people)
    assert fred["display_name"] == "Fred Flintstone" and fred["contact_id"] == 1
    assert set(fred["phone_numbers"].split(", ")) == {"+1 555 0100", "+1 555 0101"}
    assert fred["emails"] == "fred@bedrock.example" and fred["organization"] == "Slate Rock and Gravel"
    assert fred["note"] == "Yabba dabba doo"
    assert fred["account_name"] == "fred@example.com" and fred["account_type"] == "com.google"
    assert fred["starred"] is True and fred["deleted"] is False and fred["times_contacted"] == 4
    assert people[0]["timestamp"] == fred["last_time_contacted"] == "2013-11-06T21:17:16.69Z"
    assert barney["phone_numbers"] == "555-0200" and barney["emails"] is None and barney["deleted"] is True
    assert people[1]["timestamp"] is None
    for rec in people:
        check_provenance(rec, contacts, "raw_contacts")


# --- iOS call history and address book -------------------------------------------------------

ZCALLRECORD = """
CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER,
  ZCALL_CATEGORY INTEGER, ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA BLOB, ZHANDLE_TYPE INTEGER,
  ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR,
  ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR,
  ZUNIQUE_ID VARCHAR);
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
"""


def test_ios_callhistory_both_schemas(tmp_path: Path) -> None:
    store = make_db(tmp_path / "private" / "var" / "mobile" / "Library" / "CallHistoryDB" / "CallHistory.storedata", ZCALLRECORD, [
        ("INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, ZADDRESS, "
         "ZISO_COUNTRY_CODE, ZLOCATION, ZNAME, ZSERVICE_PROVIDER, ZUNIQUE_ID) VALUES "
         "(1, 2, 1, 1, 1, 1, 600000000.25, 42.5, '+15551230000', 'us', 'California', '', 'com.apple.Telephony', 'U1')", ()),
        ("INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, ZADDRESS, "
         "ZSERVICE_PROVIDER, ZUNIQUE_ID) VALUES (2, 2, 1, 0, 8, 0, 600000100, 0.0, ?, 'com.apple.FaceTime', 'U2')",
         (b"user@icloud.com",)),
    ])
    old = make_db(tmp_path / "old" / "Library" / "CallHistory" / "call_history.db", """
        CREATE TABLE call (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, duration INTEGER,
          flags INTEGER, id INTEGER, name TEXT, country_code TEXT, network_code TEXT, read INTEGER, assisted INTEGER,
          face_time_data BLOB, originalAddress TEXT);
        INSERT INTO call (ROWID, address, date, duration, flags, id) VALUES (1, '5551234', 1262304000, 30, 5, -1);
        INSERT INTO call (ROWID, address, date, duration, flags, id) VALUES (2, '5559876', 1262304100, 0, 4, -1);
    """)
    code, records, err = parse(tmp_path, "ios.callhistory")
    assert code == 0, err
    new = [r for r in records if r["row"]["table"] == "ZCALLRECORD"]
    assert [r["row"]["rowid"] for r in new] == [1, 2]
    a, b = (r["data"] for r in new)
    assert new[0]["timestamp"] == a["date"] == iso(600000000.25 + MAC_EPOCH) == "2020-01-06T10:40:00.25Z"
    assert a["date_raw"] == 600000000.25
    assert (a["address"], a["direction"], a["answered"], a["call_type"], a["duration"]) == \
        ("+15551230000", "outgoing", True, "phone", 42.5)
    assert (b["address"], b["direction"], b["answered"], b["call_type"]) == ("user@icloud.com", "incoming", False, "FaceTime video")
    assert b["date"] == "2020-01-06T10:41:40Z"
    for rec in new:
        check_provenance(rec, store, "ZCALLRECORD")
    legacy = [r for r in records if r["row"]["table"] == "call"]
    assert [(r["data"]["address"], r["data"]["direction"]) for r in legacy] == [("5551234", "outgoing"), ("5559876", "incoming")]
    assert legacy[0]["timestamp"] == legacy[0]["data"]["date_unix"] == "2010-01-01T00:00:00Z"
    assert legacy[0]["data"]["date_unix_raw"] == 1262304000
    check_provenance(legacy[0], old, "call")


def test_ios_addressbook(tmp_path: Path) -> None:
    db = make_db(tmp_path / "private" / "var" / "mobile" / "Library" / "AddressBook" / "AddressBook.sqlitedb", """
        CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Middle TEXT,
          FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT, Department TEXT, Note TEXT,
          Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT, Prefix TEXT, Suffix TEXT, FirstSort TEXT,
          LastSort TEXT, CreationDate INTEGER, ModificationDate INTEGER, CompositeNameFallback TEXT);
        CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, identifier INTEGER,
          label INTEGER, value TEXT, guid TEXT);
        CREATE TABLE ABMultiValueLabel (value TEXT, UNIQUE(value));
        INSERT INTO ABMultiValueLabel (rowid, value) VALUES (1, '_$!<Mobile>!$_'), (2, '_$!<Home>!$_'), (3, 'Burner');
        INSERT INTO ABPerson (ROWID, First, Last, Organization, Note, CreationDate, ModificationDate)
          VALUES (1, 'John', 'Appleseed', 'Apple', 'met at WWDC', 500000000, 500086400);
        INSERT INTO ABPerson (ROWID, First, Last, Organization) VALUES (2, NULL, NULL, 'ACME Corp');
        INSERT INTO ABMultiValue (UID, record_id, property, identifier, label, value) VALUES
          (1, 1, 3, 0, 1, '+1 408 555 0100'), (2, 1, 4, 0, 2, 'john@example.com'), (3, 1, 3, 1, 3, '555-9999'),
          (4, 1, 22, 0, NULL, 'https://example.com'), (5, 2, 3, 0, NULL, '800-555-0000');
    """)
    code, records, err = parse(tmp_path, "ios.addressbook")
    assert code == 0, err
    assert [r["row"]["rowid"] for r in records] == [1, 2]
    john, acme = (r["data"] for r in records)
    assert john["display_name"] == "John Appleseed" and john["organization"] == "Apple" and john["note"] == "met at WWDC"
    assert set(john["phone_numbers"].split(", ")) == {"Mobile: +1 408 555 0100", "Burner: 555-9999"}
    assert john["emails"] == "Home: john@example.com" and john["urls"] == "https://example.com"
    assert john["created"] == iso(500000000 + MAC_EPOCH) and john["created_raw"] == 500000000
    assert records[0]["timestamp"] == john["modified"] == iso(500086400 + MAC_EPOCH)
    assert acme["display_name"] == "" and acme["organization"] == "ACME Corp" and acme["phone_numbers"] == "800-555-0000"
    for rec in records:
        check_provenance(rec, db, "ABPerson")


# --- WhatsApp for Android --------------------------------------------------------------------

WA_CURRENT = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL, agent INTEGER,
  device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER, subject TEXT,
  created_timestamp INTEGER, display_message_row_id INTEGER, last_message_row_id INTEGER, archived INTEGER,
  sort_timestamp INTEGER, group_type INTEGER NOT NULL DEFAULT 0);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL,
  key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER, broadcast INTEGER, recipient_count INTEGER,
  participant_hash TEXT, origination_flags INTEGER, origin INTEGER, timestamp INTEGER, received_timestamp INTEGER,
  receipt_server_timestamp INTEGER, message_type INTEGER, text_data TEXT, starred INTEGER, lookup_tables INTEGER,
  sort_id INTEGER NOT NULL DEFAULT 0, message_add_on_flags INTEGER, view_mode INTEGER);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, autotransfer_retry_enabled INTEGER,
  multicast_id TEXT, media_job_uuid TEXT, transferred INTEGER, transcoded INTEGER, file_path TEXT, file_size INTEGER,
  suspicious_content INTEGER, trim_from INTEGER, trim_to INTEGER, face_x INTEGER, face_y INTEGER, media_key BLOB,
  media_key_timestamp INTEGER, width INTEGER, height INTEGER, has_streaming_sidecar INTEGER, gif_attribution INTEGER,
  thumbnail_height_width_ratio REAL, direct_path TEXT, first_scan_sidecar BLOB, first_scan_length INTEGER,
  message_url TEXT, mime_type TEXT, file_length INTEGER, media_name TEXT, file_hash TEXT, media_duration INTEGER,
  page_count INTEGER, enc_file_hash TEXT, partial_media_hash TEXT, partial_media_enc_hash TEXT,
  is_animated_sticker INTEGER, original_file_hash TEXT, mute_video INTEGER DEFAULT 0, media_caption TEXT);
CREATE TABLE message_location (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, latitude REAL, longitude REAL,
  place_name TEXT, place_address TEXT, url TEXT, live_location_share_duration INTEGER,
  live_location_sequence_number INTEGER, live_location_final_latitude REAL, live_location_final_longitude REAL,
  live_location_final_timestamp INTEGER, map_download_status INTEGER);
CREATE TABLE call_log (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER, from_me INTEGER, call_id TEXT,
  transaction_id INTEGER, timestamp INTEGER, video_call INTEGER, duration INTEGER, call_result INTEGER,
  bytes_transferred INTEGER, group_jid_row_id INTEGER NOT NULL DEFAULT 0, is_joinable_group_call INTEGER,
  call_creator_device_jid_row_id INTEGER NOT NULL DEFAULT 0, call_random_id TEXT, call_link_row_id INTEGER NOT NULL DEFAULT 0,
  is_dnd_mode_on INTEGER, call_type INTEGER, offer_silence_reason INTEGER, scheduled_id TEXT);
CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
INSERT INTO jid VALUES (1, '447700900001', 's.whatsapp.net', 0, 0, 0, '447700900001@s.whatsapp.net'),
  (2, '120363000000000001', 'g.us', 0, 0, 1, '120363000000000001@g.us'),
  (3, '447700900002', 's.whatsapp.net', 0, 0, 0, '447700900002@s.whatsapp.net');
INSERT INTO chat (_id, jid_row_id, subject, created_timestamp) VALUES (10, 1, NULL, 1689000000000), (11, 2, 'Family', 1689000000000);
"""
WA_MESSAGE = ("INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp, "
              "received_timestamp, message_type, text_data, starred, sort_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")


def wa_current_rows() -> list[tuple[str, tuple[Any, ...]]]:
    return [
        (WA_MESSAGE, (100, 10, 0, "K100", 0, 0, 1690000000000, 1690000000500, 0, "Hi there", 0, 100)),
        (WA_MESSAGE, (101, 10, 1, "K101", 0, 13, 1690000060123, 0, 0, "Reply ✓", 1, 101)),
        (WA_MESSAGE, (102, 11, 0, "K102", 3, 0, 1690000120000, 0, 1, None, 0, 102)),
        ("INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, text_data) "
         "VALUES (103, 11, 0, 'K103', 3, 1690000180000, 0, CAST(x'48e9' AS TEXT))", ()),
        (WA_MESSAGE, (104, 10, 0, "K104", 0, 0, 1690000240000, 0, 5, None, 0, 104)),
        ("INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type, media_caption) "
         "VALUES (102, 11, 'Media/WhatsApp Images/IMG-20230722-WA0001.jpg', 12345, 'image/jpeg', NULL)", ()),
        ("INSERT INTO message_location (message_row_id, chat_row_id, latitude, longitude, place_name) "
         "VALUES (104, 10, 51.5007, -0.1246, 'Big Ben')", ()),
        ("INSERT INTO call_log (_id, jid_row_id, from_me, call_id, timestamp, video_call, duration, call_result, "
         "bytes_transferred) VALUES (1, 1, 1, 'CALL1', 1690000300000, 0, 33, 5, 1000)", ()),
        ("INSERT INTO call_log (_id, jid_row_id, from_me, call_id, timestamp, video_call, duration, call_result, "
         "bytes_transferred) VALUES (2, 3, 0, 'CALL2', 1690000400000, 1, 0, 2, 0)", ()),
    ]


def test_whatsapp_android_current_schema(tmp_path: Path) -> None:
    db = make_db(tmp_path / "data" / "data" / "com.whatsapp" / "databases" / "msgstore.db", WA_CURRENT, wa_current_rows())
    code, records, err = parse(tmp_path, "whatsapp.android")
    assert code == 0, err
    msgs = by_artifact(records, "messages")
    assert [r["row"]["rowid"] for r in msgs] == [100, 101, 102, 103, 104]
    m = {r["row"]["rowid"]: r["data"] for r in msgs}
    assert msgs[0]["timestamp"] == m[100]["timestamp"] == iso(1690000000) == "2023-07-22T04:26:40Z"
    assert m[100]["timestamp_raw"] == 1690000000000
    assert m[100]["received_timestamp"] == "2023-07-22T04:26:40.5Z"
    assert (m[100]["text"], m[100]["from_me"], m[100]["from_me_raw"]) == ("Hi there", "received", 0)
    assert m[100]["chat_jid"] == m[100]["sender_jid"] == "447700900001@s.whatsapp.net"
    assert (m[101]["text"], m[101]["from_me"], m[101]["sender_jid"], m[101]["starred"]) == ("Reply ✓", "sent", None, True)
    assert m[101]["timestamp"] == "2023-07-22T04:27:40.123Z"
    assert m[102]["text"] is None and m[102]["message_type"] == "image"
    assert m[102]["chat_jid"] == "120363000000000001@g.us" and m[102]["chat_subject"] == "Family"
    assert m[102]["sender_jid"] == "447700900002@s.whatsapp.net"
    assert (m[102]["media_path"], m[102]["media_mime_type"], m[102]["media_size"]) == \
        ("Media/WhatsApp Images/IMG-20230722-WA0001.jpg", "image/jpeg", 12345)
    assert m[103]["text"] == "H\\xe9"
    assert (m[104]["message_type"], m[104]["latitude"], m[104]["longitude"]) == ("location", 51.5007, -0.1246)
    for rec in msgs:
        check_provenance(rec, db, "message")

    calls = by_artifact(records, "calls")
    assert [r["row"]["rowid"] for r in calls] == [1, 2]
    c1, c2 = (r["data"] for r in calls)
    assert (c1["jid"], c1["from_me"], c1["duration"], c1["video_call"], c1["call_result"]) == \
        ("447700900001@s.whatsapp.net", "outgoing", 33, False, "answered")
    assert calls[0]["timestamp"] == iso(1690000300) and c1["timestamp_raw"] == 1690000300000
    assert (c2["from_me"], c2["video_call"], c2["call_result"], c2["call_result_raw"]) == ("incoming", True, "missed or not answered", 2)
    check_provenance(calls[0], db, "call_log")


WA_LEGACY = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL, key_from_me INTEGER,
  key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT, timestamp INTEGER, media_url TEXT,
  media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER, media_name TEXT, media_caption TEXT, media_hash TEXT,
  media_duration INTEGER, origin INTEGER, latitude REAL, longitude REAL, thumb_image TEXT, remote_resource TEXT,
  received_timestamp INTEGER, send_timestamp INTEGER, receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER,
  read_device_timestamp INTEGER, played_device_timestamp INTEGER, raw_data BLOB, recipient_count INTEGER,
  participant_hash TEXT, starred INTEGER, quoted_row_id INTEGER, mentioned_jids TEXT, multicast_id TEXT,
  edit_version INTEGER, media_enc_hash TEXT, payment_transaction_id TEXT, forwarded INTEGER, preview_type INTEGER,
  send_count INTEGER);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE, message_table_id INTEGER,
  subject TEXT, creation INTEGER, sort_timestamp INTEGER);
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type, latitude, longitude)
  VALUES (1, '-1', 0, '-1', -1, NULL, 0, '0', 0, 0);
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, received_timestamp, media_wa_type,
  remote_resource, latitude, longitude)
  VALUES (2, '447700900001@s.whatsapp.net', 0, 'L2', 0, 'Legacy hello', 1500000000000, 1500000001000, '0', '', 0, 0);
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type, media_mime_type,
  media_name, media_size, latitude, longitude)
  VALUES (3, '447700900001@s.whatsapp.net', 1, 'L3', 13, NULL, 1500000050000, '1', 'image/jpeg', 'IMG-2.jpg', 2048, 0, 0);
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, timestamp, media_wa_type, media_caption, media_duration)
  VALUES (4, '447700900001@s.whatsapp.net', 1, 'call:C4', 6, 1500000100000, '8', 'video', 61);
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, timestamp, media_wa_type, media_caption, media_duration)
  VALUES (5, '447700900003@s.whatsapp.net', 0, 'call:C5', 6, 1500000200000, '10', 'audio', 0);
"""


def test_whatsapp_android_legacy_schema_and_contacts(tmp_path: Path) -> None:
    base = tmp_path / "Dump" / "data" / "data" / "com.whatsapp" / "databases"
    db = make_db(base / "msgstore.db", WA_LEGACY)
    wa = make_db(base / "wa.db", """
        CREATE TABLE wa_contacts(_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL, is_whatsapp_user BOOLEAN NOT NULL,
          status TEXT, status_timestamp INTEGER, number TEXT, raw_contact_id INTEGER, display_name TEXT, phone_type INTEGER,
          phone_label TEXT, unseen_msg_count INTEGER, photo_ts INTEGER, thumb_ts INTEGER, photo_id_timestamp INTEGER,
          given_name TEXT, family_name TEXT, wa_name TEXT, sort_name TEXT, nickname TEXT, company TEXT, title TEXT,
          status_autodownload_disabled INTEGER, keep_timestamp INTEGER, is_spam_reported INTEGER);
        INSERT INTO wa_contacts (_id, jid, is_whatsapp_user, status, status_timestamp, number, raw_contact_id, display_name,
          given_name, family_name, wa_name) VALUES
          (1, '447700900001@s.whatsapp.net', 1, 'Hey there! I am using WhatsApp.', 1600000000000, '+44 7700 900001', 5,
           'Alice Smith', 'Alice', 'Smith', 'Alice'),
          (2, '120363000000000001@g.us', 0, NULL, -1, NULL, NULL, 'Family', NULL, NULL, NULL);
    """)
    code, records, err = parse(tmp_path, "whatsapp.android")
    assert code == 0, err
    msgs = by_artifact(records, "messages")
    assert [r["row"]["rowid"] for r in msgs] == [1, 2, 3]  # the call rows 4 and 5 are calls
    m = {r["row"]["rowid"]: r["data"] for r in msgs}
    assert msgs[0]["timestamp"] is None and m[1]["timestamp_raw"] == 0  # the '-1' placeholder row WhatsApp keeps
    assert (m[2]["text"], m[2]["from_me"], m[2]["sender_jid"]) == ("Legacy hello", "received", "447700900001@s.whatsapp.net")
    assert msgs[1]["timestamp"] == "2017-07-14T02:40:00Z" and m[2]["timestamp_raw"] == 1500000000000
    assert m[2]["message_type"] == "text" and m[2]["latitude"] is None
    assert (m[3]["text"], m[3]["from_me"], m[3]["message_type"], m[3]["media_path"]) == (None, "sent", "image", "IMG-2.jpg")
    for rec in msgs:
        check_provenance(rec, db, "messages")
    calls = by_artifact(records, "calls")
    assert [(r["row"]["rowid"], r["data"]["from_me"], r["data"]["video_call"], r["data"]["duration"], r["data"]["message_type"])
            for r in calls] == [(4, "outgoing", True, 61, "call"), (5, "incoming", False, 0, "missed call")]
    assert calls[0]["timestamp"] == "2017-07-14T02:41:40Z"
    check_provenance(calls[0], db, "messages")
    contacts = by_artifact(records, "contacts")
    assert [r["row"]["rowid"] for r in contacts] == [1, 2]
    alice = contacts[0]["data"]
    assert (alice["jid"], alice["display_name"], alice["number"], alice["wa_name"], alice["status"]) == \
        ("447700900001@s.whatsapp.net", "Alice Smith", "+44 7700 900001", "Alice", "Hey there! I am using WhatsApp.")
    assert alice["is_whatsapp_user"] is True and alice["status_timestamp"] == "2020-09-13T12:26:40Z"
    assert contacts[1]["data"]["status_timestamp"] is None and contacts[1]["data"]["is_whatsapp_user"] is False
    check_provenance(contacts[0], wa, "wa_contacts")


def test_whatsapp_android_rows_only_in_wal(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    live = work / "msgstore.db"
    con = sqlite3.connect(live)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.executescript(WA_CURRENT)
    for sql, params in wa_current_rows()[:2]:
        con.execute(sql, params)
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute(WA_MESSAGE, (105, 10, 0, "K105", 0, 0, 1690000500000, 0, 0, "Only in the WAL", 0, 105))
    con.execute(WA_MESSAGE, (106, 10, 1, "K106", 0, 0, 1690000560000, 0, 0, "Also only in the WAL", 0, 106))
    con.commit()
    evidence = tmp_path / "ev" / "com.whatsapp" / "databases"
    evidence.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):  # copied while the writer is still open: nothing checkpointed
        shutil.copyfile(str(live) + suffix, evidence / ("msgstore.db" + suffix))
    con.close()
    assert (evidence / "msgstore.db-wal").stat().st_size > 0
    alone = tmp_path / "alone.db"
    shutil.copyfile(evidence / "msgstore.db", alone)
    check = sqlite3.connect(alone)
    assert check.execute("SELECT count(*) FROM message").fetchone()[0] == 2  # the main file alone lacks them
    check.close()
    before = {p.name: sha256(p) for p in evidence.iterdir()}
    code, records, err = parse(tmp_path / "ev", "whatsapp.android")
    assert code == 0, err
    texts = [r["data"]["text"] for r in by_artifact(records, "messages")]
    assert texts == ["Hi there", "Reply ✓", "Only in the WAL", "Also only in the WAL"]
    assert {p.name: sha256(p) for p in evidence.iterdir()} == before  # the evidence is untouched


def test_encrypted_or_corrupt_msgstore_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    base = tmp_path / "ev" / "com.whatsapp" / "databases"
    base.mkdir(parents=True)
    (base / "msgstore.db").write_bytes(random.Random(4).randbytes(64 * 1024))  # SQLCipher-like: no SQLite header
    make_db(base / "wa.db", "CREATE TABLE wa_contacts(_id INTEGER PRIMARY KEY, jid TEXT, number TEXT, display_name TEXT, status TEXT);"
            "INSERT INTO wa_contacts VALUES (1, 'x@s.whatsapp.net', '+1', 'X', NULL);")
    code, records, err = parse(tmp_path / "ev", "whatsapp.android")
    assert code == 4, err
    assert "msgstore.db" in err and "not a SQLite 3 database" in err, err
    assert [r["data"]["jid"] for r in records] == ["x@s.whatsapp.net"]  # the run went on past the bad file
    # a file with a SQLite header whose pages are garbage
    (base / "msgstore.db").write_bytes(b"SQLite format 3\x00" + random.Random(5).randbytes(8192))
    code, records, err = parse(tmp_path / "ev", "whatsapp.android")
    assert code == 4, err
    assert "msgstore.db" in err, err


# --- WhatsApp for iOS ------------------------------------------------------------------------

def test_whatsapp_ios(tmp_path: Path) -> None:
    group = tmp_path / "filesystem1" / "private" / "var" / "mobile" / "Containers" / "Shared" / "AppGroup" / "5D1C5F6E-0000-4B1A-9C2E-0123456789AB"
    chats = make_db(group / "ChatStorage.sqlite", """
        CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZARCHIVED INTEGER,
          ZSESSIONTYPE INTEGER, ZUNREADCOUNT INTEGER, ZLASTMESSAGE INTEGER, ZLASTMESSAGEDATE TIMESTAMP,
          ZCONTACTJID VARCHAR, ZPARTNERNAME VARCHAR, ZLASTMESSAGETEXT VARCHAR);
        CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISADMIN INTEGER,
          ZCHATSESSION INTEGER, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR);
        CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFILESIZE INTEGER,
          ZMESSAGE INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMOVIEDURATION INTEGER, ZMEDIALOCALPATH VARCHAR,
          ZMEDIAURL VARCHAR, ZTITLE VARCHAR, ZVCARDNAME VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR);
        CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCHILDMESSAGESDELIVEREDCOUNT INTEGER,
          ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER,
          ZSTARRED INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEDATE TIMESTAMP,
          ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, ZMEDIASECTIONID VARCHAR, ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR,
          ZTEXT VARCHAR, ZTOJID VARCHAR);
        INSERT INTO ZWACHATSESSION (Z_PK, ZCONTACTJID, ZPARTNERNAME, ZSESSIONTYPE) VALUES
          (1, '447700900001@s.whatsapp.net', 'Alice', 0), (2, '120363000000000001@g.us', 'Family', 1);
        INSERT INTO ZWAGROUPMEMBER (Z_PK, ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME) VALUES (1, 2, '447700900002@s.whatsapp.net', 'Bob');
        INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZFILESIZE, ZMEDIALOCALPATH, ZTITLE) VALUES (1, 2, 4096, 'Media/447700900001@s.whatsapp.net/a/b/photo.jpg', 'holiday');
        INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZLATITUDE, ZLONGITUDE) VALUES (2, 4, 48.8584, 2.2945);
        INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGESTATUS, ZMESSAGETYPE, ZSTARRED, ZMESSAGEDATE, ZSENTDATE,
          ZFROMJID, ZTOJID, ZSTANZAID, ZTEXT) VALUES
          (1, 1, 0, 6, 0, 0, 700000000.5, 700000000.5, '447700900001@s.whatsapp.net', NULL, 'S1', 'iOS hello');
        INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGESTATUS, ZMESSAGETYPE, ZSTARRED, ZMESSAGEDATE,
          ZFROMJID, ZTOJID, ZSTANZAID, ZTEXT, ZMEDIAITEM) VALUES
          (2, 1, 1, 8, 1, 1, 700000060, NULL, '447700900001@s.whatsapp.net', 'S2', NULL, 1);
        INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZGROUPMEMBER, ZISFROMME, ZMESSAGETYPE, ZMESSAGEDATE, ZFROMJID, ZSTANZAID, ZTEXT)
          VALUES (3, 2, 1, 0, 0, 700000120, '120363000000000001@g.us', 'S3', CAST(x'c328' AS TEXT));
        INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZGROUPMEMBER, ZISFROMME, ZMESSAGETYPE, ZMESSAGEDATE, ZFROMJID, ZSTANZAID, ZMEDIAITEM)
          VALUES (4, 2, 1, 0, 5, 700000180, '120363000000000001@g.us', 'S4', 2);
    """)
    contacts = make_db(group / "ContactsV2.sqlite", """
        CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZABOUTTIMESTAMP TIMESTAMP,
          ZABOUTTEXT VARCHAR, ZBUSINESSNAME VARCHAR, ZFULLNAME VARCHAR, ZGIVENNAME VARCHAR, ZHIGHLIGHTEDNAME VARCHAR,
          ZIDENTIFIER VARCHAR, ZLASTNAME VARCHAR, ZLID VARCHAR, ZPHONENUMBER VARCHAR, ZPHONENUMBERLABEL VARCHAR,
          ZUSERNAME VARCHAR, ZWHATSAPPID VARCHAR);
        INSERT INTO ZWAADDRESSBOOKCONTACT (Z_PK, ZFULLNAME, ZGIVENNAME, ZLASTNAME, ZPHONENUMBER, ZPHONENUMBERLABEL,
          ZWHATSAPPID, ZABOUTTEXT, ZIDENTIFIER) VALUES
          (1, 'Alice Smith', 'Alice', 'Smith', '+44 7700 900001', '_$!<Mobile>!$_', '447700900001@s.whatsapp.net', 'Busy', 'ABC-123');
    """)
    calls = make_db(group / "CallHistory.sqlite", """
        CREATE TABLE ZWAAGGREGATECALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZINCOMING INTEGER,
          ZMISSED INTEGER, ZMISSEDREASON INTEGER, ZVIDEO INTEGER, ZFIRSTDATE TIMESTAMP);
        CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZOUTCOME INTEGER,
          Z1CALLEVENTS INTEGER, ZBYTESRECEIVED INTEGER, ZBYTESSENT INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT,
          ZCALLIDSTRING VARCHAR, ZGROUPCALLCREATORUSERJIDSTRING VARCHAR, ZGROUPJIDSTRING VARCHAR);
        CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZOUTCOME INTEGER,
          Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
        INSERT INTO ZWAAGGREGATECALLEVENT (Z_PK, ZINCOMING, ZMISSED, ZVIDEO, ZFIRSTDATE) VALUES (1, 1, 0, 0, 700001000), (2, 0, 0, 1, 700002000);
        INSERT INTO ZWACDCALLEVENT (Z_PK, ZOUTCOME, Z1CALLEVENTS, ZDATE, ZDURATION, ZCALLIDSTRING) VALUES
          (1, 0, 1, 700001000, 95.5, 'CID1'), (2, 4, 2, 700002000, 0, 'CID2');
        INSERT INTO ZWACDCALLEVENTPARTICIPANT (Z_PK, ZOUTCOME, Z1PARTICIPANTS, ZJIDSTRING) VALUES
          (1, 0, 1, '447700900001@s.whatsapp.net'), (2, 4, 2, '447700900002@s.whatsapp.net'), (3, 4, 2, '447700900003@s.whatsapp.net');
    """)
    code, records, err = parse(tmp_path, "whatsapp.ios")
    assert code == 0, err
    msgs = by_artifact(records, "messages")
    assert [r["row"]["rowid"] for r in msgs] == [1, 2, 3, 4]
    m = {r["row"]["rowid"]: r["data"] for r in msgs}
    assert msgs[0]["timestamp"] == m[1]["date"] == iso(700000000.5 + MAC_EPOCH) == "2023-03-08T20:26:40.5Z"
    assert m[1]["date_raw"] == 700000000.5
    assert (m[1]["text"], m[1]["from_me"], m[1]["chat_jid"], m[1]["chat_name"], m[1]["sender_jid"]) == \
        ("iOS hello", "received", "447700900001@s.whatsapp.net", "Alice", "447700900001@s.whatsapp.net")
    assert (m[2]["text"], m[2]["from_me"], m[2]["sender_jid"], m[2]["message_type"], m[2]["starred"]) == \
        (None, "sent", None, "image", True)
    assert (m[2]["media_path"], m[2]["media_size"], m[2]["media_title"]) == ("Media/447700900001@s.whatsapp.net/a/b/photo.jpg", 4096, "holiday")
    assert m[3]["text"] == "\\xc3(" and m[3]["sender_jid"] == "447700900002@s.whatsapp.net" and m[3]["chat_name"] == "Family"
    assert (m[4]["message_type"], m[4]["latitude"], m[4]["longitude"]) == ("location", 48.8584, 2.2945)
    for rec in msgs:
        check_provenance(rec, chats, "ZWAMESSAGE")
    people = by_artifact(records, "contacts")
    assert len(people) == 1
    p = people[0]["data"]
    assert (p["full_name"], p["phone_number"], p["phone_label"], p["whatsapp_id"], p["about"]) == \
        ("Alice Smith", "+44 7700 900001", "Mobile", "447700900001@s.whatsapp.net", "Busy")
    check_provenance(people[0], contacts, "ZWAADDRESSBOOKCONTACT")
    rings = by_artifact(records, "calls")
    assert [r["row"]["rowid"] for r in rings] == [1, 2]
    c1, c2 = (r["data"] for r in rings)
    assert rings[0]["timestamp"] == c1["date"] == iso(700001000 + MAC_EPOCH)
    assert (c1["incoming"], c1["outcome"], c1["duration"], c1["video"], c1["participants"]) == \
        ("incoming", "ended", 95.5, False, "447700900001@s.whatsapp.net")
    assert (c2["incoming"], c2["outcome"], c2["outcome_raw"], c2["video"]) == ("outgoing", "rejected", 4, True)
    assert set(c2["participants"].split(", ")) == {"447700900002@s.whatsapp.net", "447700900003@s.whatsapp.net"}
    check_provenance(rings[0], calls, "ZWACDCALLEVENT")


# --- Telegram for Android --------------------------------------------------------------------

PEER_USER = 0x59511722
PEER_CHAT = 0x36C6019A
FWD_HEADER = 0x4E4DF4BB


def tl_int(v: int) -> bytes:
    return struct.pack("<I", v & 0xFFFFFFFF)


def tl_long(v: int) -> bytes:
    return struct.pack("<q", v)


def photo_media(date: int) -> bytes:
    """``messageMediaPhoto`` with a ``photo`` (id, access_hash, file_reference, date, sizes...)."""
    return (tl_int(0x695150D7) + tl_int(1) + tl_int(0xFB197A65) + tl_int(0) + tl_long(5_123_456_789_012_345)
            + tl_long(-77) + tl.tl_string("\x01\x02ref") + tl_int(date) + tl_int(0x1CB5C415) + tl_int(1)
            + tl_int(0x75C78E60) + tl.tl_string("x") + tl_int(800) + tl_int(600) + tl_int(54321) + tl_int(2))


def tl_message(text: str, date: int, from_id: int, peer: tuple[int, int], fwd_date: int | None = None,
               media: bytes = b"") -> bytes:
    """A ``message`` object laid out as recent layers do (constructor, flags, flags2, id, from_id,
    peer_id, [fwd_from], date, message, [media], entities vector), as Telegram for Android stores it."""
    flags = 0x100 | (0x4 if fwd_date else 0) | (0x200 if media else 0)
    out = tl_int(-1808510398) + tl_int(flags) + tl_int(0) + tl_int(4242)
    out += tl_int(PEER_USER) + tl_long(from_id)
    out += tl_int(peer[0]) + tl_long(peer[1])
    if fwd_date:
        out += tl_int(FWD_HEADER) + tl_int(1) + tl_int(PEER_USER) + tl_long(1700000123) + tl_int(fwd_date)
    out += tl_int(date) + tl.tl_string(text) + media
    out += tl_int(0x1CB5C415) + tl_int(0)  # entities: empty vector
    return out


def service_message(date: int) -> bytes:
    """``messageService``: date is followed by an action object, not a string."""
    return (tl_int(0x2B085862) + tl_int(0x100) + tl_int(77) + tl_int(PEER_USER) + tl_long(1600000000)
            + tl_int(PEER_CHAT) + tl_long(1234) + tl_int(date)
            + tl_int(0x15CEFD00) + tl_int(0x1CB5C415) + tl_int(1) + tl_long(1600000000))


LONG_TG = "Это длинное сообщение. " * 20  # > 253 bytes: 0xFE length form
TG_ROWS = [
    (1, 1600000000, 1700000000, 0, tl_message("Hello Telegram", 1700000000, 1600000000, (PEER_USER, 1600000000))),
    (2, 1600000000, 1700000060, 1, tl_message("Ответ ✓", 1700000060, 99, (PEER_USER, 1600000000))),
    (3, -1234, 1700000120, 0, tl_message(LONG_TG, 1700000120, 1600000000, (PEER_CHAT, 1234))),
    (4, -1234, 1700000180, 0, tl_message("", 1700000180, 1600000000, (PEER_CHAT, 1234), media=photo_media(1700000170))),
    (5, 1600000000, 1700000240, 0, tl_message("forwarded text", 1700000240, 1600000000, (PEER_USER, 1600000000),
                                             fwd_date=1650000000)),
    (6, -1234, 1700000300, 0, service_message(1700000300)),
]
TG_TEXTS = ["Hello Telegram", "Ответ ✓", LONG_TG, None, "forwarded text", None]


def test_tl_reader() -> None:
    for (_mid, _uid, date, _out, blob), text in zip(TG_ROWS, TG_TEXTS):
        assert tl.message_text(blob) == text
        assert tl.message_text(blob, date=date) == text
    assert tl.message_text(None) is None and tl.message_text(b"") is None
    # sent via a bot: an int64 bot id whose low half looks like a date and high half is zero
    via_bot = (tl_int(-1808510398) + tl_int(0x100 | 0x800) + tl_int(0) + tl_int(9) + tl_int(PEER_USER) + tl_long(7)
               + tl_int(PEER_USER) + tl_long(8) + tl_long(1500000000) + tl_int(1700000000) + tl.tl_string("via bot"))
    assert tl.message_text(via_bot) == "via bot"
    # a 2014 layout: id, from_id:int, to_id:Peer, out:Bool, unread:Bool, date, message, media
    old_layout = (tl_int(0x22EB6ABA) + tl_int(12) + tl_int(1400000000) + tl_int(0x9DB1BC6D) + tl_int(1450000000)
                  + tl_int(0x997275B5) + tl_int(0xBC799737) + tl_int(1400000500) + tl.tl_string("old layer")
                  + tl_int(0x3DED6320))
    assert tl.message_text(old_layout) == "old layer"
    assert tl.message_text(old_layout, date=1400000500) == "old layer"
    for seed in range(20):  # noise: bounded, never raises (a short printable match may happen)
        found = tl.message_text(random.Random(seed).randbytes(4096))
        assert found is None or isinstance(found, str)
    assert tl.message_text(b"\x00" * 100_000) is None
    truncated = TG_ROWS[0][4][:-12]
    assert tl.message_text(truncated) is None
    bad_utf8 = TG_ROWS[0][4].replace(b"Hello Telegram", b"Hello\xffelegram")
    assert tl.message_text(bad_utf8) is None
    assert tl.read_string(b"\xfe\xff\xff\xff", 0) is None  # length beyond the blob
    assert tl.read_string(b"\x02ab\x01", 0) is None  # non-zero padding
    assert tl.read_string(b"\x02ab\x00", 0) == (b"ab", 4)


def test_telegram_android(tmp_path: Path) -> None:
    db = make_db(tmp_path / "data" / "data" / "org.telegram.messenger" / "files" / "cache4.db", """
        CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
        CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
        CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, last_mid INTEGER, inbox_max INTEGER,
          outbox_max INTEGER, last_mid_i INTEGER, unread_count_i INTEGER, pts INTEGER, date_i INTEGER, pinned INTEGER,
          flags INTEGER, folder_id INTEGER, data BLOB, unread_reactions INTEGER, last_mid_group INTEGER, ttl_period INTEGER);
        CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER, data BLOB,
          out INTEGER, ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER, mention INTEGER, forwards INTEGER,
          replies_data BLOB, thread_reply_id INTEGER, is_channel INTEGER, reply_to_message_id INTEGER, custom_params BLOB,
          group_id INTEGER, reply_to_story_id INTEGER, PRIMARY KEY(mid, uid));
    """, [
        ("INSERT INTO users VALUES (?,?,?,?)", (777000, "telegram", 0, b"\x01\x02")),
        ("INSERT INTO users VALUES (?,?,?,?)", (1600000000, "alice smith;;;alice_s", 1700000500, b"\x03\x04")),
        ("INSERT INTO users VALUES (?,?,?,?)", (42, "bob", -100, b"")),
        ("INSERT INTO chats VALUES (?,?,?)", (1234, "family group", b"\x05")),
    ] + [("INSERT INTO messages_v2 (mid, uid, read_state, send_state, date, data, out) VALUES (?,?,3,0,?,?,?)",
          (mid, uid, date, blob, out)) for mid, uid, date, out, blob in TG_ROWS])
    code, records, err = parse(tmp_path, "telegram.android")
    assert code == 0, err
    msgs = by_artifact(records, "messages")
    assert [r["data"]["mid"] for r in msgs] == [1, 2, 3, 4, 5, 6]
    first = msgs[0]["data"]
    assert msgs[0]["timestamp"] == first["date"] == "2023-11-14T22:13:20Z" and first["date_raw"] == 1700000000
    assert (first["dialog_id"], first["dialog_name"], first["out"], first["out_raw"]) == \
        (1600000000, "alice smith;;;alice_s", "received", 0)
    assert msgs[1]["data"]["out"] == "sent"
    assert (msgs[2]["data"]["dialog_id"], msgs[2]["data"]["dialog_name"]) == (-1234, "family group")
    for rec, (_mid, _uid, _date, _out, blob), text in zip(msgs, TG_ROWS, TG_TEXTS):
        assert rec["data"]["data"] == blob.hex() and rec["data"]["data_length"] == len(blob)
        assert tl.message_text(bytes.fromhex(rec["data"]["data"])) == text
        if "text" in rec["data"]:  # once the tl_message_text blob mode is wired in (see profiles/telegram.android.yaml)
            assert rec["data"]["text"] == text
        check_provenance(rec, db, "messages_v2")
    users = by_artifact(records, "users")
    assert [r["data"]["uid"] for r in users] == [42, 777000, 1600000000]
    alice = users[2]["data"]
    assert (alice["name"], alice["display_name"], alice["username"]) == ("alice smith;;;alice_s", "alice smith", "alice_s")
    assert users[2]["timestamp"] is None  # users have no timeline column; last_seen is data
    assert alice["last_seen"] == "2023-11-14T22:21:40Z" and alice["last_seen_raw"] == 1700000500
    bob = users[0]["data"]
    assert (bob["display_name"], bob["username"], bob["status"], bob["last_seen"]) == ("bob", None, -100, None)
    check_provenance(users[0], db, "users")
