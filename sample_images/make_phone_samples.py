#!/usr/bin/env python3
"""Write the small phone samples in sample_images/phone/ (see its README.md), deterministically.

    .venv/bin/python sample_images/make_phone_samples.py [OUTPUT_FOLDER]

Needs the Python standard library and ``cryptography`` only. Every database is made here with
SQLite from the real apps' schemas (reduced to the tables the samples need) and invented
content; keys, salts and IVs come from fixed seeds, so two runs with the same SQLite and zlib
give identical files. The encrypted iTunes backup is built with the same keybag, key wrapping and
AES-CBC layout that iOS writes (iphone_backup_decrypt only decrypts, so the encryption side is
written here); the encrypted adb backup follows AOSP's PerformAdbBackupTask.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import plistlib
import shutil
import sqlite3
import struct
import sys
import tarfile
import tempfile
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

PASSWORD = "evkit-test"
BASE = 1767323045                       # 2026-01-02 03:04:05 UTC
APPLE_EPOCH = 978307200                 # 2001-01-01 00:00:00 UTC
CHROME_EPOCH_US = 11644473600 * 10**6   # 1601-01-01 -> 1970-01-01 in microseconds
ITUNES_DPIC = 10_000_000                # what iOS 10.2+ uses (PBKDF2-SHA256 rounds)
ITUNES_ITER = 10_000
AB_ROUNDS = 10_000                      # AOSP PBKDF2_HASH_ROUNDS


def rand(label: str, n: int) -> bytes:
    """Deterministic bytes: SHA-256 in counter mode over a label."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"evkit-phone-samples/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def sqlite_bytes(script: str, rows: list[tuple[str, list[tuple]]], user_version: int = 0) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "db")
        con = sqlite3.connect(path)
        con.execute("PRAGMA page_size = 4096")
        con.executescript(script)
        for sql, values in rows:
            con.executemany(sql, values)
        con.execute(f"PRAGMA user_version = {user_version}")
        con.commit()
        con.close()
        return path.read_bytes()


# -- Android databases -------------------------------------------------------------------------

ANDROID_SMS = [
    # _id, thread_id, address, date (ms), date_sent, type (1 received, 2 sent), read, body
    (1, 1, "+15551230001", (BASE + 60) * 1000, (BASE + 58) * 1000, 1, 1, "Are we still on for lunch tomorrow?"),
    (2, 1, "+15551230001", (BASE + 120) * 1000, (BASE + 120) * 1000, 2, 1, "Yes, 12:30 at the usual place."),
    (3, 2, "+15551230002", (BASE + 180) * 1000, (BASE + 179) * 1000, 1, 0, "Café at 8? ☕ bring the USB stick"),
]


def mmssms_db() -> bytes:
    script = """
    CREATE TABLE android_metadata (locale TEXT);
    CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,
      date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,type INTEGER,
      reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,locked INTEGER DEFAULT 0,
      sub_id INTEGER DEFAULT -1,error_code INTEGER DEFAULT -1,creator TEXT,seen INTEGER DEFAULT 0);
    CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,message_count INTEGER DEFAULT 0,
      recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,read INTEGER DEFAULT 1,archived INTEGER DEFAULT 0,
      type INTEGER DEFAULT 0,error INTEGER DEFAULT 0,has_attachment INTEGER DEFAULT 0);
    CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT);
    CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT,thread_id INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,
      msg_box INTEGER,read INTEGER DEFAULT 0,m_id TEXT,sub TEXT,sub_cs INTEGER,ct_t TEXT,ct_l TEXT,exp INTEGER,
      m_cls TEXT,m_type INTEGER,v INTEGER,m_size INTEGER,pri INTEGER,rr INTEGER,rpt_a INTEGER,resp_st INTEGER,
      st INTEGER,tr_id TEXT,retr_st INTEGER,retr_txt TEXT,retr_txt_cs INTEGER,read_status INTEGER,ct_cls INTEGER,
      resp_txt TEXT,d_tm INTEGER,d_rpt INTEGER,locked INTEGER DEFAULT 0,sub_id INTEGER DEFAULT -1,
      seen INTEGER DEFAULT 0,creator TEXT,text_only INTEGER DEFAULT 0);
    CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT,mid INTEGER,seq INTEGER DEFAULT 0,ct TEXT,name TEXT,
      chset INTEGER,cd TEXT,fn TEXT,cid TEXT,cl TEXT,ctt_s INTEGER,ctt_t TEXT,_data TEXT,text TEXT);
    """
    return sqlite_bytes(script, [
        ("INSERT INTO android_metadata VALUES (?)", [("en_US",)]),
        ("INSERT INTO canonical_addresses VALUES (?, ?)", [(1, "+15551230001"), (2, "+15551230002")]),
        ("INSERT INTO threads (_id, date, message_count, recipient_ids, snippet, read) VALUES (?, ?, ?, ?, ?, ?)",
         [(1, ANDROID_SMS[1][3], 2, "1", ANDROID_SMS[1][7], 1), (2, ANDROID_SMS[2][3], 1, "2", ANDROID_SMS[2][7], 0)]),
        ("INSERT INTO sms (_id, thread_id, address, date, date_sent, protocol, read, status, type, reply_path_present,"
         " body, service_center, sub_id, creator, seen) VALUES (?, ?, ?, ?, ?, 0, ?, -1, ?, 0, ?, ?, 1, ?, 1)",
         [(i, t, a, d, ds, r, ty, b, "+15550000000" if ty == 1 else None, "com.google.android.apps.messaging")
          for i, t, a, d, ds, ty, r, b in ANDROID_SMS]),
    ], user_version=67)


ANDROID_CALLS = [
    # _id, number, date (ms), duration (s), type (1 incoming, 2 outgoing)
    (1, "+15551230001", (BASE + 300) * 1000, 65, 1),
    (2, "+15551230003", (BASE + 600) * 1000, 12, 2),
]


ANDROID_CONTACTS = [(1, "Alice Example", "+15551230001"), (2, "Carol Sample", "+15551230003")]


def contacts2_db() -> bytes:
    script = """
    CREATE TABLE android_metadata (locale TEXT);
    CREATE TABLE accounts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_name TEXT, account_type TEXT, data_set TEXT);
    CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT,mimetype TEXT NOT NULL);
    CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,name_raw_contact_id INTEGER REFERENCES raw_contacts(_id),
      photo_id INTEGER REFERENCES data(_id),photo_file_id INTEGER REFERENCES photo_files(_id),custom_ringtone TEXT,
      send_to_voicemail INTEGER NOT NULL DEFAULT 0,x_times_contacted INTEGER NOT NULL DEFAULT 0,
      x_last_time_contacted INTEGER,times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,
      starred INTEGER NOT NULL DEFAULT 0,pinned INTEGER NOT NULL DEFAULT 0,has_phone_number INTEGER NOT NULL DEFAULT 0,
      lookup TEXT,status_update_id INTEGER REFERENCES data(_id),contact_last_updated_timestamp INTEGER);
    CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_id INTEGER REFERENCES accounts(_id),
      sourceid TEXT,backup_id TEXT,raw_contact_is_read_only INTEGER NOT NULL DEFAULT 0,version INTEGER NOT NULL DEFAULT 1,
      dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,metadata_dirty INTEGER NOT NULL DEFAULT 0,
      contact_id INTEGER REFERENCES contacts(_id),aggregation_mode INTEGER NOT NULL DEFAULT 0,
      aggregation_needed INTEGER NOT NULL DEFAULT 1,custom_ringtone TEXT,send_to_voicemail INTEGER NOT NULL DEFAULT 0,
      x_times_contacted INTEGER NOT NULL DEFAULT 0,x_last_time_contacted INTEGER,times_contacted INTEGER NOT NULL DEFAULT 0,
      last_time_contacted INTEGER,starred INTEGER NOT NULL DEFAULT 0,pinned INTEGER NOT NULL DEFAULT 0,display_name TEXT,
      display_name_alt TEXT,display_name_source INTEGER NOT NULL DEFAULT 0,phonetic_name TEXT,phonetic_name_style TEXT,
      sort_key TEXT,phonebook_label TEXT,phonebook_bucket INTEGER,sort_key_alt TEXT,phonebook_label_alt TEXT,
      phonebook_bucket_alt INTEGER,name_verified INTEGER NOT NULL DEFAULT 0,sync1 TEXT, sync2 TEXT, sync3 TEXT,
      sync4 TEXT);
    CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT,package_id INTEGER REFERENCES package(_id),
      mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,raw_contact_id INTEGER REFERENCES raw_contacts(_id) NOT NULL,
      hash_id TEXT,is_read_only INTEGER NOT NULL DEFAULT 0,is_primary INTEGER NOT NULL DEFAULT 0,
      is_super_primary INTEGER NOT NULL DEFAULT 0,data_version INTEGER NOT NULL DEFAULT 0,data1 TEXT,data2 TEXT,
      data3 TEXT,data4 TEXT,data5 TEXT,data6 TEXT,data7 TEXT,data8 TEXT,data9 TEXT,data10 TEXT,data11 TEXT,data12 TEXT,
      data13 TEXT,data14 TEXT,data15 TEXT,data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT,
      carrier_presence INTEGER NOT NULL DEFAULT 0, preferred_phone_account_component_name TEXT,
      preferred_phone_account_id TEXT);
    CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,
      post_dial_digits TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,data_usage INTEGER,type INTEGER,
      features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,subscription_id TEXT,
      phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,sub_id INTEGER DEFAULT -1,
      new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,voicemail_uri TEXT,is_read INTEGER,
      geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,normalized_number TEXT,
      photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,_data TEXT,has_content INTEGER,
      mime_type TEXT,source_data TEXT,source_package TEXT,transcription TEXT,state INTEGER,
      dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,add_for_all_users INTEGER NOT NULL DEFAULT 1,
      last_modified INTEGER DEFAULT 0);
    """
    data_rows = []
    for rc, name, number in ANDROID_CONTACTS:
        first, last = name.split()
        data_rows += [(rc, 1, name, first, last, None), (rc, 2, number, "2", None, number)]
    return sqlite_bytes(script, [
        ("INSERT INTO android_metadata VALUES (?)", [("en_US",)]),
        ("INSERT INTO accounts VALUES (1, 'owner@example.com', 'com.google', NULL)", [()]),
        ("INSERT INTO mimetypes VALUES (?, ?)", [(1, "vnd.android.cursor.item/name"),
                                                 (2, "vnd.android.cursor.item/phone_v2"),
                                                 (3, "vnd.android.cursor.item/email_v2")]),
        ("INSERT INTO contacts (_id, name_raw_contact_id, has_phone_number, lookup, contact_last_updated_timestamp)"
         " VALUES (?, ?, 1, ?, ?)", [(rc, rc, f"0r{rc}-EVKIT", (BASE - 86400) * 1000) for rc, _n, _p in ANDROID_CONTACTS]),
        ("INSERT INTO raw_contacts (_id, account_id, sourceid, contact_id, display_name, display_name_alt,"
         " display_name_source, sort_key, sort_key_alt) VALUES (?, 1, ?, ?, ?, ?, 40, ?, ?)",
         [(rc, f"src{rc}", rc, n, ", ".join(reversed(n.split())), n, ", ".join(reversed(n.split())))
          for rc, n, _p in ANDROID_CONTACTS]),
        ("INSERT INTO data (raw_contact_id, mimetype_id, data1, data2, data3, data4) VALUES (?, ?, ?, ?, ?, ?)",
         data_rows),
        ("INSERT INTO calls (_id, number, date, duration, type, subscription_component_name, subscription_id, new,"
         " countryiso, is_read, normalized_number, formatted_number, last_modified) VALUES"
         " (?, ?, ?, ?, ?, 'com.android.phone/com.android.services.telephony.TelephonyConnectionService', '1', 0,"
         " 'US', 1, ?, ?, ?)",
         [(i, n, d, du, t, n, f"+1 555-123-{n[-4:]}", d + 1000) for i, n, d, du, t in ANDROID_CALLS]),
    ], user_version=1300)


WHATSAPP = [
    # _id, from_me, key_id, timestamp (ms), text
    (1, 0, "3EB0C0FFEE0001", (BASE + 900) * 1000, "Hi! Did you get the photos?"),
    (2, 1, "3EB0C0FFEE0002", (BASE + 960) * 1000, "Got them, thanks 👍"),
]


def msgstore_db() -> bytes:
    script = """
    CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL, agent INTEGER,
      device INTEGER, type INTEGER, raw_string TEXT);
    CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER, subject TEXT,
      created_timestamp INTEGER, display_message_row_id INTEGER, last_message_row_id INTEGER,
      last_read_message_row_id INTEGER, last_read_receipt_sent_message_row_id INTEGER,
      last_important_message_row_id INTEGER, archived INTEGER, sort_timestamp INTEGER, mod_tag INTEGER, gen REAL,
      spam_detection INTEGER, unseen_earliest_message_received_time INTEGER, unseen_message_count INTEGER,
      unseen_missed_calls_count INTEGER, unseen_row_count INTEGER, plaintext_disabled INTEGER,
      vcard_ui_dismissed INTEGER, change_number_notified_message_row_id INTEGER, show_group_description INTEGER,
      ephemeral_expiration INTEGER, last_read_ephemeral_message_row_id INTEGER, ephemeral_setting_timestamp INTEGER,
      unseen_important_message_count INTEGER NOT NULL DEFAULT 0, ephemeral_disappearing_messages_initiator INTEGER,
      group_type INTEGER NOT NULL DEFAULT 0, last_message_reaction_row_id INTEGER,
      last_seen_message_reaction_row_id INTEGER, unseen_message_reaction_count INTEGER, growth_lock_level INTEGER,
      growth_lock_expiration_ts INTEGER, last_read_message_sort_id INTEGER, display_message_sort_id INTEGER,
      last_message_sort_id INTEGER, last_read_receipt_sent_message_sort_id INTEGER,
      has_new_community_admin_dialog_been_acknowledged INTEGER NOT NULL DEFAULT 0, history_sync_progress INTEGER,
      ephemeral_displayed_exemptions INTEGER, chat_lock INTEGER);
    CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL,
      key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER, broadcast INTEGER, recipient_count INTEGER,
      participant_hash TEXT, origination_flags INTEGER, origin INTEGER, timestamp INTEGER, received_timestamp INTEGER,
      receipt_server_timestamp INTEGER, message_type INTEGER, text_data TEXT, starred INTEGER, lookup_tables INTEGER,
      sort_id INTEGER NOT NULL DEFAULT 0, message_add_on_flags INTEGER, view_mode INTEGER);
    CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
    """
    return sqlite_bytes(script, [
        ("INSERT INTO jid VALUES (?, ?, ?, 0, 0, 0, ?)",
         [(1, "15551230009", "s.whatsapp.net", "15551230009@s.whatsapp.net"),
          (2, "15551230003", "s.whatsapp.net", "15551230003@s.whatsapp.net")]),
        ("INSERT INTO props (key, value) VALUES (?, ?)", [("user_push_name", "Sample Owner")]),
        ("INSERT INTO chat (_id, jid_row_id, hidden, created_timestamp, display_message_row_id, last_message_row_id,"
         " last_read_message_row_id, archived, sort_timestamp, unseen_message_count, last_message_sort_id)"
         " VALUES (1, 2, 0, ?, 2, 2, 2, 0, ?, 0, 2)", [(WHATSAPP[0][3] - 5000, WHATSAPP[1][3])]),
        ("INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, broadcast,"
         " recipient_count, origination_flags, origin, timestamp, received_timestamp, receipt_server_timestamp,"
         " message_type, text_data, starred, lookup_tables, sort_id, message_add_on_flags)"
         " VALUES (?, 1, ?, ?, 0, ?, 0, 0, 0, 0, ?, ?, -1, 0, ?, 0, 0, ?, 0)",
         [(i, fm, k, 13 if fm else 0, ts, ts + 700, text, i) for i, fm, k, ts, text in WHATSAPP]),
    ], user_version=1)


CHROME_URLS = [
    # id, url, title, visit time (s)
    (1, "https://www.example.org/", "Example Domain", BASE + 1200),
    (2, "https://en.wikipedia.org/wiki/Digital_forensics", "Digital forensics - Wikipedia", BASE + 1260),
]


def chrome_history_db() -> bytes:
    script = """
    CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
    CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,
      visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,last_visit_time INTEGER NOT NULL,
      hidden INTEGER DEFAULT 0 NOT NULL);
    CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT,url INTEGER NOT NULL,visit_time INTEGER NOT NULL,
      from_visit INTEGER,external_referrer_url TEXT,transition INTEGER DEFAULT 0 NOT NULL,segment_id INTEGER,
      visit_duration INTEGER DEFAULT 0 NOT NULL,incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL,
      opener_visit INTEGER,originator_cache_guid TEXT,originator_visit_id INTEGER,originator_from_visit INTEGER,
      originator_opener_visit INTEGER,is_known_to_sync BOOLEAN DEFAULT FALSE NOT NULL,
      consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL,visited_link_id INTEGER DEFAULT 0 NOT NULL,
      app_id TEXT);
    CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL,url_id INTEGER NOT NULL,term LONGVARCHAR NOT NULL,
      normalized_term LONGVARCHAR NOT NULL);
    CREATE INDEX visits_url_index ON visits (url);
    CREATE INDEX urls_url_index ON urls (url);
    """
    chrome = [(i, u, t, s * 10**6 + CHROME_EPOCH_US) for i, u, t, s in CHROME_URLS]
    return sqlite_bytes(script, [
        ("INSERT INTO meta VALUES (?, ?)", [("mmap_status", "-1"), ("version", "69"), ("last_compatible_version", "16")]),
        ("INSERT INTO urls VALUES (?, ?, ?, 1, ?, ?, 0)", [(i, u, t, 1 if i == 1 else 0, ts) for i, u, t, ts in chrome]),
        ("INSERT INTO visits (id, url, visit_time, from_visit, transition, segment_id, visit_duration)"
         " VALUES (?, ?, ?, 0, ?, 0, 4000000)", [(i, i, ts, 0x30000001 if i == 1 else 0x30000000)
                                                  for i, _u, _t, ts in chrome]),
    ])


# -- iOS databases -----------------------------------------------------------------------------

def typedstream(text: str) -> bytes:
    """An NSAttributedString archived the way Messages stores ``attributedBody``."""
    raw = text.encode("utf-8")
    length = bytes([len(raw)]) if len(raw) < 0x80 else b"\x81" + len(raw).to_bytes(2, "little")
    utf16 = len(text.encode("utf-16-le")) // 2
    return (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00"
            b"\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+" + length + raw +
            b"\x86\x84\x02iI\x01" + bytes([min(utf16, 0x7F)]) +
            b"\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x01\x92\x84\x96\x96\x1d__kIMMessagePartAttributeName"
            b"\x86\x92\x84\x84\x84\x08NSNumber\x00\x84\x84\x07NSValue\x00\x94\x84\x01*\x84\x99\x99\x00\x86\x86\x86")


IOS_SMS = [
    # ROWID, guid, text, attributedBody text, is_from_me, date (unix s), service
    (1, "C0FFEE01-0000-4000-8000-000000000001", "See you at 6pm at the station", True, 0, BASE + 1500, "iMessage"),
    (2, "C0FFEE01-0000-4000-8000-000000000002", "On my way, 10 minutes", True, 1, BASE + 1560, "iMessage"),
    (3, "C0FFEE01-0000-4000-8000-000000000003", None, True, 0, BASE + 1620, "iMessage"),
]
IOS_SMS_TEXT3 = "This text is only in attributedBody 🔒"


def sms_db() -> bytes:
    script = """
    CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
    CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
      service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT, UNIQUE (id, service));
    CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER,
      state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT,
      account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT,
      group_id TEXT, is_filtered INTEGER DEFAULT 0, successful_query INTEGER, engram_id TEXT,
      server_change_token TEXT, ck_sync_state INTEGER DEFAULT 0, original_group_id TEXT,
      last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT, last_addressed_sim_id TEXT,
      is_blackholed INTEGER DEFAULT 0, syndication_date INTEGER DEFAULT 0, syndication_type INTEGER DEFAULT 0,
      is_recovered INTEGER DEFAULT 0, is_deleting_incoming_messages INTEGER DEFAULT 0);
    CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
      replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
      attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
      account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
      is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
      is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
      is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
      is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0,
      is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
      is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT,
      was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0,
      is_played INTEGER DEFAULT 0, date_played INTEGER, item_type INTEGER DEFAULT 0, other_handle INTEGER DEFAULT 0,
      group_title TEXT, group_action_type INTEGER DEFAULT 0, share_status INTEGER DEFAULT 0,
      share_direction INTEGER DEFAULT 0, is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0,
      message_action_type INTEGER DEFAULT 0, message_source INTEGER DEFAULT 0, associated_message_guid TEXT,
      associated_message_type INTEGER DEFAULT 0, balloon_bundle_id TEXT, payload_data BLOB,
      expressive_send_style_id TEXT, associated_message_range_location INTEGER DEFAULT 0,
      associated_message_range_length INTEGER DEFAULT 0, time_expressive_send_played INTEGER,
      message_summary_info BLOB, ck_sync_state INTEGER DEFAULT 0, ck_record_id TEXT, ck_record_change_tag TEXT,
      destination_caller_id TEXT, is_corrupt INTEGER DEFAULT 0, reply_to_guid TEXT, sort_id INTEGER,
      is_spam INTEGER DEFAULT 0, has_unseen_mention INTEGER DEFAULT 0, thread_originator_guid TEXT,
      thread_originator_part TEXT, syndication_ranges TEXT, synced_syndication_ranges TEXT,
      was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0,
      date_retracted INTEGER DEFAULT 0, date_edited INTEGER DEFAULT 0, was_detonated INTEGER DEFAULT 0,
      part_count INTEGER, is_stewie INTEGER DEFAULT 0, is_kt_verified INTEGER DEFAULT 0, is_sos INTEGER DEFAULT 0,
      is_critical INTEGER DEFAULT 0, bia_reference_id TEXT DEFAULT NULL, fallback_hash TEXT DEFAULT NULL);
    CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
      message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0,
      PRIMARY KEY (chat_id, message_id));
    CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
      handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
    CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER
      DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER
      DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0);
    CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
      attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
    """

    def apple_ns(unix: int) -> int:
        return (unix - APPLE_EPOCH) * 10**9

    messages = []
    for rowid, guid, text, has_body, from_me, when, service in IOS_SMS:
        body = typedstream(text if text is not None else IOS_SMS_TEXT3) if has_body else None
        messages.append((rowid, guid, text, 1, body, 10, service, "E:owner@example.com", apple_ns(when),
                         apple_ns(when + 30) if not from_me else 0, apple_ns(when + 2), 1, 1, from_me,
                         0 if from_me else 1, from_me, rowid, 1))
    return sqlite_bytes(script, [
        ("INSERT INTO _SqliteDatabaseProperties VALUES (?, ?)",
         [("counter_in_all", "2"), ("counter_out_all", "1"), ("_ClientVersion", "17100")]),
        ("INSERT INTO handle VALUES (?, ?, 'us', 'iMessage', ?, ?)",
         [(1, "+15551230001", "+15551230001", "F00DFACE-0000-4000-8000-000000000001")]),
        ("INSERT INTO chat (ROWID, guid, style, state, account_id, chat_identifier, service_name, account_login,"
         " last_addressed_handle) VALUES (1, 'iMessage;-;+15551230001', 45, 3, 'A1B2C3D4-0000-4000-8000-000000000001',"
         " '+15551230001', 'iMessage', 'E:owner@example.com', 'owner@example.com')", [()]),
        ("INSERT INTO chat_handle_join VALUES (1, 1)", [()]),
        ("INSERT INTO message (ROWID, guid, text, handle_id, attributedBody, version, service, account, date,"
         " date_read, date_delivered, is_delivered, is_finished, is_from_me, is_read, is_sent, sort_id, part_count)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", messages),
        ("INSERT INTO chat_message_join VALUES (1, ?, ?)", [(m[0], m[8]) for m in messages]),
    ], user_version=17100)


IOS_CALLS = [
    # Z_PK, address, date (unix s), duration, originated, answered
    (1, "+15551230001", BASE + 2000, 42.0, 0, 1),
    (2, "+15551230004", BASE + 2400, 0.0, 1, 0),
]


def call_history_db() -> bytes:
    script = """
    CREATE TABLE ZCALLRECORD ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER,
      ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA INTEGER, ZHANDLE_TYPE INTEGER,
      ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER, ZVERIFICATION_STATUS INTEGER,
      ZJUNKCONFIDENCE INTEGER, ZJUNKIDENTIFICATIONCATEGORY VARCHAR, ZDATE TIMESTAMP, ZDURATION FLOAT,
      ZADDRESS VARCHAR, ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR,
      ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR, ZLOCALPARTICIPANTUUID BLOB, ZOUTGOINGLOCALPARTICIPANTUUID BLOB,
      ZPARTICIPANTGROUPUUID BLOB );
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
    CREATE TABLE Z_MODELCACHE (Z_CONTENT BLOB);
    CREATE INDEX ZCALLRECORD_ZDATE_INDEX ON ZCALLRECORD (ZDATE);
    """
    meta = plistlib.dumps({"NSPersistenceFrameworkVersion": 1344, "NSStoreType": "SQLite",
                           "NSStoreModelVersionIdentifiers": ["CallHistory-21"]}, fmt=plistlib.FMT_BINARY)
    return sqlite_bytes(script, [
        ("INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZDISCONNECTED_CAUSE, ZFACE_TIME_DATA,"
         " ZHANDLE_TYPE, ZNUMBER_AVAILABILITY, ZORIGINATED, ZREAD, ZVERIFICATION_STATUS, ZJUNKCONFIDENCE, ZDATE,"
         " ZDURATION, ZADDRESS, ZISO_COUNTRY_CODE, ZLOCATION, ZSERVICE_PROVIDER, ZUNIQUE_ID)"
         " VALUES (?, 2, 1, ?, 1, 0, 0, 2, 0, ?, 1, 0, 0, ?, ?, ?, 'us', 'United States', 'com.apple.Telephony', ?)",
         [(pk, ans, orig, float(when - APPLE_EPOCH), dur, addr, f"0DDBA11{pk}-0000-4000-8000-00000000000{pk}")
          for pk, addr, when, dur, orig, ans in IOS_CALLS]),
        ("INSERT INTO Z_PRIMARYKEY VALUES (?, ?, 0, ?)", [(1, "CallDBProperties", 0), (2, "CallRecord", 2),
                                                          (3, "Handle", 0)]),
        ("INSERT INTO Z_METADATA VALUES (1, 'A0A0A0A0-0000-4000-8000-000000000001', ?)", [(meta,)]),
    ])


IOS_CONTACTS = [(1, "Alice", "Example", "+15551230001"), (2, "Bob", "Sample", "+15551230004")]


def address_book_db() -> bytes:
    script = """
    CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Middle TEXT,
      FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT, Department TEXT, Note TEXT,
      Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT, Prefix TEXT, Suffix TEXT, FirstSort TEXT,
      LastSort TEXT, CreationDate INTEGER, ModificationDate INTEGER, CompositeNameFallback TEXT,
      ExternalIdentifier TEXT, ExternalModificationTag TEXT, ExternalUUID TEXT, StoreID INTEGER, DisplayName TEXT,
      ExternalRepresentation BLOB, FirstSortSection TEXT, LastSortSection TEXT,
      FirstSortLanguageIndex INTEGER DEFAULT 2147483647, LastSortLanguageIndex INTEGER DEFAULT 2147483647,
      PersonLink INTEGER DEFAULT -1, ImageURI TEXT, IsPreferredName INTEGER DEFAULT 1, guid TEXT,
      PhonemeData TEXT, AlternateBirthday TEXT, MapsData TEXT, FirstPronunciation TEXT,
      MiddlePronunciation TEXT, LastPronunciation TEXT, OrganizationPhonetic TEXT,
      OrganizationPronunciation TEXT, PreviousFamilyName TEXT, PreferredLikenessSource TEXT,
      PreferredPersonaIdentifier TEXT);
    CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, identifier INTEGER,
      label INTEGER, value TEXT, guid TEXT);
    CREATE TABLE ABMultiValueLabel (value TEXT, UNIQUE(value));
    CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
    """
    created = BASE - 86400 - APPLE_EPOCH
    return sqlite_bytes(script, [
        ("INSERT INTO _SqliteDatabaseProperties VALUES (?, ?)", [("__ABPersonNextRowID", "3")]),
        ("INSERT INTO ABMultiValueLabel VALUES (?)", [("_$!<Mobile>!$_",)]),
        ("INSERT INTO ABPerson (ROWID, First, Last, Kind, FirstSort, LastSort, CreationDate, ModificationDate,"
         " StoreID, guid) VALUES (?, ?, ?, 0, ?, ?, ?, ?, 0, ?)",
         [(r, f, la, f"{f} {la}", f"{la} {f}", created, created + 60, f"B16B00B5-0000-4000-8000-00000000000{r}:ABPerson")
          for r, f, la, _n in IOS_CONTACTS]),
        ("INSERT INTO ABMultiValue VALUES (?, ?, 3, 0, 1, ?, ?)",
         [(r, r, n, f"D00DFEED-0000-4000-8000-00000000000{r}") for r, _f, _l, n in IOS_CONTACTS]),
    ], user_version=0)


# -- the iTunes backup -------------------------------------------------------------------------

def keyed_archive(rel: str, size: int, mode: int, mtime: int, protection: int, key_blob: bytes | None,
                  inode: int, target: str | None = None) -> bytes:
    """The NSKeyedArchiver MBFile record of one Manifest.db row."""
    uid = plistlib.UID
    objects: list = ["$null"]
    record: dict = {"LastModified": mtime, "Birth": mtime - 3600, "LastStatusChange": mtime, "Size": size,
                    "Mode": mode, "InodeNumber": inode, "UserID": 501, "GroupID": 501, "ProtectionClass": protection,
                    "Flags": 0}
    objects.append(record)
    objects.append(rel)
    record["RelativePath"] = uid(2)
    if key_blob is not None:
        objects.append({"NS.data": key_blob, "$class": uid(len(objects) + 1)})
        record["EncryptionKey"] = uid(len(objects) - 1)
        objects.append({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]})
    if target is not None:
        objects.append(target)
        record["Target"] = uid(len(objects) - 1)
    objects.append({"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]})
    record["$class"] = uid(len(objects) - 1)
    return plistlib.dumps({"$version": 100000, "$archiver": "NSKeyedArchiver", "$top": {"root": uid(1)},
                           "$objects": objects}, fmt=plistlib.FMT_BINARY)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = b"\0" * 16) -> bytes:
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">L", value) if isinstance(value, int) else value
    return tag + struct.pack(">L", len(data)) + data


class Keybag:
    """An iOS backup keybag: class keys wrapped (RFC 3394) under the passphrase key."""

    CLASSES = range(1, 12)

    def __init__(self, password: str) -> None:
        self.dpsl, self.salt = rand("keybag/DPSL", 20), rand("keybag/SALT", 20)
        round1 = hashlib.pbkdf2_hmac("sha256", password.encode(), self.dpsl, ITUNES_DPIC, 32)
        self.passphrase_key = hashlib.pbkdf2_hmac("sha1", round1, self.salt, ITUNES_ITER, 32)
        self.class_keys = {c: rand(f"keybag/class/{c}", 32) for c in self.CLASSES}

    def blob(self) -> bytes:
        out = (tlv(b"VERS", 4) + tlv(b"TYPE", 1) + tlv(b"UUID", rand("keybag/uuid", 16)) +
               tlv(b"HMCK", rand("keybag/HMCK", 40)) + tlv(b"WRAP", 0) + tlv(b"SALT", self.salt) +
               tlv(b"ITER", ITUNES_ITER) + tlv(b"DPWT", 1) + tlv(b"DPIC", ITUNES_DPIC) + tlv(b"DPSL", self.dpsl))
        for c in self.CLASSES:
            out += (tlv(b"UUID", rand(f"keybag/class-uuid/{c}", 16)) + tlv(b"CLAS", c) + tlv(b"WRAP", 2) +
                    tlv(b"KTYP", 0) + tlv(b"WPKY", aes_key_wrap(self.passphrase_key, self.class_keys[c])))
        return out

    def wrap(self, protection: int, key: bytes) -> bytes:
        return struct.pack("<l", protection) + aes_key_wrap(self.class_keys[protection], key)


HOME = "HomeDomain"
IOS_FILES = [
    # domain, relativePath, content builder
    (HOME, "Library/SMS/sms.db", sms_db),
    (HOME, "Library/CallHistoryDB/CallHistory.storedata", call_history_db),
    (HOME, "Library/AddressBook/AddressBook.sqlitedb", address_book_db),
    ("AppDomain-com.example.notes", "Documents/note.txt",
     lambda: "Meeting moved to Friday.\nBring the blue folder.\n".encode()),
]
IOS_DEVICE_ROOTS = {HOME: "/private/var/mobile",
                    "AppDomain-com.example.notes": "/private/var/mobile/Containers/Data/Application/com.example.notes"}


def itunes_backup(out: Path, contents: dict[tuple[str, str], bytes], keybag: Keybag | None) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    when = datetime.fromtimestamp(BASE + 3600, timezone.utc).replace(tzinfo=None)
    udid = "00008110-000A1B2C3D4E801E"
    rows = []
    folders: set[tuple[str, str]] = set()
    for n, ((domain, rel), data) in enumerate(sorted(contents.items())):
        parts = rel.split("/")
        for i in range(len(parts)):
            folders.add((domain, "/".join(parts[:i])))
        fid = hashlib.sha1(f"{domain}-{rel}".encode()).hexdigest()
        protection = 3
        key_blob = None
        stored = data
        if keybag is not None:
            file_key = rand(f"file-key/{fid}", 32)
            key_blob = keybag.wrap(protection, file_key)
            stored = aes_cbc_encrypt(file_key, data)
        (out / fid[:2]).mkdir(exist_ok=True)
        (out / fid[:2] / fid).write_bytes(stored)
        rows.append((fid, domain, rel, 1, keyed_archive(rel, len(data), 0o100644, BASE + 1700 + n, protection,
                                                        key_blob, 1000 + n)))
    for n, (domain, rel) in enumerate(sorted(folders)):
        fid = hashlib.sha1(f"{domain}-{rel}".encode()).hexdigest()
        rows.append((fid, domain, rel, 2, keyed_archive(rel, 0, 0o40755, BASE + 1650, 0, None, 500 + n)))
    manifest_db = sqlite_bytes("""
        CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
        CREATE INDEX FilesDomainIdx ON Files(domain);
        CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
        CREATE INDEX FilesFlagsIdx ON Files(flags);
        CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
        """, [("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", sorted(rows)),
              ("INSERT INTO Properties VALUES (?, ?)", [("salt", rand("manifest/salt", 16).hex().encode()),
                                                        ("passwordHash", b"")])])
    manifest: dict = {
        "Version": "10.0", "Date": when, "SystemDomainsVersion": "24.0", "WasPasscodeSet": True,
        "IsEncrypted": keybag is not None, "Applications": {},
        "Lockdown": {"ProductVersion": "17.5.1", "ProductType": "iPhone14,5", "BuildVersion": "21F90",
                     "UniqueDeviceID": udid, "SerialNumber": "F2LXK0EVKIT1", "DeviceName": "Evidence iPhone"},
    }
    if keybag is not None:
        manifest_key = rand("manifest-key", 32)
        manifest["ManifestKey"] = keybag.wrap(4, manifest_key)
        manifest["BackupKeyBag"] = keybag.blob()
        manifest_db = aes_cbc_encrypt(manifest_key, manifest_db)
    (out / "Manifest.db").write_bytes(manifest_db)
    (out / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    (out / "Info.plist").write_bytes(plistlib.dumps({
        "Build Version": "21F90", "Device Name": "Evidence iPhone", "Display Name": "Evidence iPhone",
        "GUID": "0A1B2C3D4E5F60718293A4B5C6D7E8F9", "ICCID": "8901260000000000001", "IMEI": "356000000000001",
        "Last Backup Date": when, "Phone Number": "+1 (555) 123-0009", "Product Name": "iPhone 13",
        "Product Type": "iPhone14,5", "Product Version": "17.5.1", "Serial Number": "F2LXK0EVKIT1",
        "Target Identifier": udid, "Target Type": "Device", "Unique Identifier": udid, "iTunes Version": "12.13.2.3",
    }))
    (out / "Status.plist").write_bytes(plistlib.dumps({
        "BackupState": "new", "Date": when, "IsFullBackup": False, "SnapshotState": "finished",
        "UUID": "5EED5EED-0000-4000-8000-000000000001", "Version": "3.3"}, fmt=plistlib.FMT_BINARY))
    for root, dirs, files in os.walk(out):
        for name in dirs + files:
            os.utime(Path(root, name), (BASE + 3600, BASE + 3600))


# -- Android archives --------------------------------------------------------------------------

def tar_bytes(members: list[tuple[str, bytes | None, int, int]]) -> bytes:
    """A ustar archive of (name, content or None for a folder, mode, uid)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data, mode, uid in members:
            info = tarfile.TarInfo(name)
            info.mtime = BASE + 3000
            info.mode = mode
            info.uid = info.gid = uid
            info.uname = info.gname = ""
            if data is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def tiny_apk() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo("AndroidManifest.xml", date_time=(2026, 1, 2, 3, 4, 5))
        zf.writestr(info, b"\x03\x00\x08\x00evkit sample: not a real binary manifest\n")
    return buf.getvalue()


def app_manifest(package: str, version_code: int, with_apk: bool) -> bytes:
    """``apps/<package>/_manifest`` as AOSP writes it (version, package, versionCode, SDK, installer,
    has-apk flag, signatures)."""
    sig = rand(f"signature/{package}", 24).hex()
    return f"1\n{package}\n{version_code}\n34\ncom.android.vending\n{1 if with_apk else 0}\n1\n{sig}\n".encode()


def android_files() -> dict[str, bytes]:
    """Device path -> content, shared by the file system tar and the adb backups."""
    return {
        "/data/data/com.android.providers.telephony/databases/mmssms.db": mmssms_db(),
        "/data/data/com.android.providers.contacts/databases/contacts2.db": contacts2_db(),
        "/data/data/com.whatsapp/databases/msgstore.db": msgstore_db(),
        "/data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml":
            b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
            b"    <string name=\"push_name\">Sample Owner</string>\n</map>\n",
        "/data/data/com.android.chrome/app_chrome/Default/History": chrome_history_db(),
    }


UIDS = {"com.android.providers.telephony": 1001, "com.android.providers.contacts": 10010, "com.whatsapp": 10150,
        "com.android.chrome": 10120}


def android_ffs_tar(files: dict[str, bytes]) -> bytes:
    members: list[tuple[str, bytes | None, int, int]] = []
    seen: set[str] = set()
    extra = {"/data/system/packages.list": _packages_list()}
    for path, data in sorted({**files, **extra}.items()):
        parts = path.strip("/").split("/")
        package = parts[2] if len(parts) > 2 and parts[1] == "data" else ""
        uid = UIDS.get(package, 1000)
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder not in seen:
                seen.add(folder)
                members.append((folder, None, 0o771, uid if i >= 3 else 1000))
        members.append(("/".join(parts), data, 0o660, uid))
    return tar_bytes(members)


def adb_members(files: dict[str, bytes]) -> tuple[bytes, dict[str, bytes]]:
    """The tar inside an adb backup, and device path -> content of what it holds."""
    chrome = files["/data/data/com.android.chrome/app_chrome/Default/History"]
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + rand("photo", 64) + b"\xff\xd9"
    log = b"2026-01-02 03:20:00.000 LL_I D [1:main] app/start\n"
    content = {
        "/data/data/com.android.providers.telephony/databases/mmssms.db":
            files["/data/data/com.android.providers.telephony/databases/mmssms.db"],
        "/data/data/com.whatsapp/databases/msgstore.db": files["/data/data/com.whatsapp/databases/msgstore.db"],
        "/data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml":
            files["/data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml"],
        "/data/data/com.whatsapp/files/Logs/whatsapp.log": log,
        "/data/app/com.whatsapp/base.apk": tiny_apk(),
        "/storage/emulated/0/Android/data/com.whatsapp/files/Media/IMG-20260102-WA0001.jpg": photo,
        "/data/data/com.android.chrome/app_chrome/Default/History": chrome,
        "/storage/emulated/0/DCIM/Camera/IMG_20260102_030405.jpg": photo,
    }
    members: list[tuple[str, bytes | None, int, int]] = [
        ("apps/com.android.providers.telephony/_manifest", app_manifest("com.android.providers.telephony", 34, False),
         0o600, 0),
        ("apps/com.android.providers.telephony/db/mmssms.db", content[
            "/data/data/com.android.providers.telephony/databases/mmssms.db"], 0o660, 0),
        ("apps/com.whatsapp/_manifest", app_manifest("com.whatsapp", 241250005, True), 0o600, 0),
        ("apps/com.whatsapp/a/base.apk", content["/data/app/com.whatsapp/base.apk"], 0o644, 0),
        ("apps/com.whatsapp/f/Logs", None, 0o771, 0),
        ("apps/com.whatsapp/f/Logs/whatsapp.log", log, 0o660, 0),
        ("apps/com.whatsapp/db/msgstore.db", content["/data/data/com.whatsapp/databases/msgstore.db"], 0o660, 0),
        ("apps/com.whatsapp/sp/com.whatsapp_preferences_light.xml",
         content["/data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml"], 0o660, 0),
        ("apps/com.whatsapp/ef/files/Media/IMG-20260102-WA0001.jpg", photo, 0o660, 0),
        ("apps/com.android.chrome/_manifest", app_manifest("com.android.chrome", 672806133, False), 0o600, 0),
        ("apps/com.android.chrome/r/app_chrome/Default/History", chrome, 0o600, 0),
        ("shared/0/DCIM/Camera/IMG_20260102_030405.jpg", photo, 0o660, 0),
    ]
    return tar_bytes(members), content


def java_chars_utf8(raw: bytes) -> bytes:
    return "".join(chr(b) if b < 0x80 else chr(0xFF00 | b) for b in raw).encode("utf-8")


def adb_backup(tar: bytes, password: str | None) -> bytes:
    payload = zlib.compress(tar, 9)
    if password is None:
        return b"ANDROID BACKUP\n5\n1\nnone\n" + payload
    user_salt, ck_salt = rand("ab/user-salt", 64), rand("ab/ck-salt", 64)
    user_iv, mk_iv, mk = rand("ab/user-iv", 16), rand("ab/mk-iv", 16), rand("ab/mk", 32)
    user_key = hashlib.pbkdf2_hmac("sha1", password.encode(), user_salt, AB_ROUNDS, 32)
    checksum = hashlib.pbkdf2_hmac("sha1", java_chars_utf8(mk), ck_salt, AB_ROUNDS, 32)
    blob = bytes([16]) + mk_iv + bytes([32]) + mk + bytes([32]) + checksum
    header = (b"ANDROID BACKUP\n5\n1\nAES-256\n" + user_salt.hex().upper().encode() + b"\n" +
              ck_salt.hex().upper().encode() + b"\n" + str(AB_ROUNDS).encode() + b"\n" + user_iv.hex().upper().encode() +
              b"\n" + aes_cbc_encrypt(user_key, blob, user_iv).hex().upper().encode() + b"\n")
    return header + aes_cbc_encrypt(mk, payload, mk_iv)


# -- main --------------------------------------------------------------------------------------

def describe(files: dict[str, bytes]) -> dict[str, dict[str, object]]:
    return {p: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for p, d in sorted(files.items())}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = android_files()
    (out / "android_ffs.tar").write_bytes(android_ffs_tar(files))
    tar, ab_content = adb_members(files)
    (out / "android_backup.ab").write_bytes(adb_backup(tar, None))
    (out / "android_backup_encrypted.ab").write_bytes(adb_backup(tar, PASSWORD))

    ios_contents = {(d, r): build() for d, r, build in IOS_FILES}
    itunes_backup(out / "ios_backup_plain", ios_contents, None)
    itunes_backup(out / "ios_backup_encrypted", ios_contents, Keybag(PASSWORD))
    ios_files = {f"{IOS_DEVICE_ROOTS[d]}/{r}": data for (d, r), data in ios_contents.items()}
    ios_ids = {f"{IOS_DEVICE_ROOTS[d]}/{r}": {"domain": d, "relativePath": r,
                                                "fileID": hashlib.sha1(f"{d}-{r}".encode()).hexdigest()}
               for d, r, _b in IOS_FILES}

    truth = {
        "password": PASSWORD,
        "samples": {
            "android_ffs.tar": {"password": None, "files": describe({**files, "/data/system/packages.list":
                                                                     _packages_list()})},
            "android_backup.ab": {"password": None, "files": describe(ab_content)},
            "android_backup_encrypted.ab": {"password": PASSWORD, "files": describe(ab_content)},
            "ios_backup_plain": {"password": None, "files": describe(ios_files), "ids": ios_ids},
            "ios_backup_encrypted": {"password": PASSWORD, "files": describe(ios_files), "ids": ios_ids},
        },
        "messages": {
            "android_sms": [{"_id": i, "address": a, "date": d, "type": t, "body": b}
                            for i, _t, a, d, _ds, t, _r, b in ANDROID_SMS],
            "android_contacts": [{"_id": rc, "display_name": n, "phone": p} for rc, n, p in ANDROID_CONTACTS],
            "android_calls": [{"_id": i, "number": n, "date": d, "duration": du, "type": t}
                              for i, n, d, du, t in ANDROID_CALLS],
            "whatsapp": [{"_id": i, "from_me": fm, "timestamp": ts, "text_data": text}
                         for i, fm, _k, ts, text in WHATSAPP],
            "chrome_urls": [{"id": i, "url": u, "title": t} for i, u, t, _s in CHROME_URLS],
            "ios_sms": [{"ROWID": r, "is_from_me": fm, "text": t, "attributedBody_text": t or IOS_SMS_TEXT3}
                        for r, _g, t, _b, fm, _w, _s in IOS_SMS],
            "ios_calls": [{"Z_PK": pk, "address": a, "duration": du, "originated": o} for pk, a, _w, du, o, _a in IOS_CALLS],
            "ios_contacts": [{"ROWID": r, "First": f, "Last": la, "phone": n} for r, f, la, n in IOS_CONTACTS],
        },
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")


def _packages_list() -> bytes:
    return "".join(f"{p} {u} 0 /data/user/0/{p} default:targetSdkVersion=34 3003 0 1 com.android.vending\n"
                   for p, u in sorted(UIDS.items())).encode()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "phone")
