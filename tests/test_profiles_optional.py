"""A missing column costs only that column (issue 10, item 5).

WhatsApp for iOS changed its Core Data stores across versions (table and column names as iLEAPP's
and plaso's WhatsApp parsers read them: ZWACDCALLEVENT with ZCALLIDSTRING in later versions,
ZWAAGGREGATECALLEVENT with ZINCOMING/ZVIDEO/ZMISSED, ZWACDCALLEVENTPARTICIPANT with ZJIDSTRING;
ZWAADDRESSBOOKCONTACT with ZABOUTTEXT and ZIDENTIFIER in later versions). On an older store a
fallback query used to run and direction, video, missed and participants vanished without a word;
now the columns the store lacks are empty, one note names them, and everything else is read.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import evkit

MAC = 978307200


def _calls(path: Path, with_call_id: bool) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ZWAAGGREGATECALLEVENT (Z_PK INTEGER PRIMARY KEY, ZINCOMING INTEGER, ZVIDEO INTEGER, ZMISSED INTEGER)")
    db.execute("CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, Z1CALLEVENTS INTEGER, ZDATE REAL, ZDURATION REAL,"
               " ZOUTCOME INTEGER" + (", ZCALLIDSTRING VARCHAR" if with_call_id else "") + ")")
    db.execute("CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR)")
    db.execute("INSERT INTO ZWAAGGREGATECALLEVENT VALUES (1, 1, 1, 0)")
    cols = "(Z_PK, Z1CALLEVENTS, ZDATE, ZDURATION, ZOUTCOME" + (", ZCALLIDSTRING)" if with_call_id else ")")
    vals = (1, 1, 1_700_000_000 - MAC, 42.0, 0) + (("CALL-1",) if with_call_id else ())
    db.execute(f"INSERT INTO ZWACDCALLEVENT {cols} VALUES ({', '.join('?' * len(vals))})", vals)
    db.execute("INSERT INTO ZWACDCALLEVENTPARTICIPANT VALUES (1, 1, '447700900123@s.whatsapp.net')")
    db.commit()
    db.close()


def _records(proc: object) -> list[dict]:
    return [r for r in map(json.loads, proc.stdout.splitlines()) if r.get("kind", "record") == "record"]  # type: ignore[attr-defined]


def test_an_older_call_history_keeps_direction_video_missed_and_participants(tmp_path: Path) -> None:
    new, old = tmp_path / "new" / "CallHistory.sqlite", tmp_path / "old" / "CallHistory.sqlite"
    new.parent.mkdir()
    old.parent.mkdir()
    _calls(new, with_call_id=True)
    _calls(old, with_call_id=False)
    got_new = _records(evkit("parse", str(new), "--profile", "whatsapp.ios", "--json", check=True))
    proc = evkit("parse", str(old), "--profile", "whatsapp.ios", "--json")
    assert proc.returncode == 0, proc.stderr  # a note is not a failure
    got_old = _records(proc)
    assert len(got_new) == len(got_old) == 1
    d_new, d_old = got_new[0]["data"], got_old[0]["data"]
    assert d_new["call_id"] == "CALL-1" and d_old["call_id"] is None
    for key in ("incoming", "video", "missed", "participants", "duration", "outcome", "date"):
        assert d_old[key] == d_new[key], key
    assert d_old["incoming"] == "incoming" and d_old["video"] is True and d_old["participants"] == "447700900123@s.whatsapp.net"
    notes = [line for line in proc.stderr.decode().splitlines() if line.startswith("evkit: note:")]
    assert len(notes) == 1 and "ZWACDCALLEVENT.ZCALLIDSTRING" in notes[0]
    kinds = [json.loads(line).get("kind") for line in proc.stdout.splitlines()]
    assert kinds.count("note") == 1


def test_older_contacts_keep_name_number_and_jid(tmp_path: Path) -> None:
    path = tmp_path / "ContactsV2.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, ZFULLNAME VARCHAR, ZGIVENNAME VARCHAR,"
               " ZLASTNAME VARCHAR, ZPHONENUMBER VARCHAR, ZPHONENUMBERLABEL VARCHAR, ZWHATSAPPID VARCHAR)")
    db.execute("INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (1, 'Anna Martin', 'Anna', 'Martin', '+447700900123',"
               " '_$!<Mobile>!$_', '447700900123@s.whatsapp.net')")
    db.commit()
    db.close()
    proc = evkit("parse", str(path), "--profile", "whatsapp.ios", "--json")
    assert proc.returncode == 0, proc.stderr
    (rec,) = _records(proc)
    d = rec["data"]
    assert (d["full_name"], d["given_name"], d["phone_label"], d["whatsapp_id"]) == (
        "Anna Martin", "Anna", "Mobile", "447700900123@s.whatsapp.net")
    assert d["about"] is None and d["identifier"] is None
    assert "ZWAADDRESSBOOKCONTACT.ZABOUTTEXT, ZWAADDRESSBOOKCONTACT.ZIDENTIFIER" in proc.stderr.decode()


def test_profiles_validate_rejects_nothing_new_and_a_case_records_the_note(tmp_path: Path) -> None:
    assert evkit("profiles", "validate").returncode == 0
    folder = tmp_path / "phone"
    folder.mkdir()
    _calls(folder / "CallHistory.sqlite", with_call_id=False)
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "N-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(folder), "--evidence-number", "E1", check=True)
    proc = evkit("run", str(case), "--profile", "whatsapp.ios", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["problems"] == [] and len(out["notes"]) == 1 and "ZCALLIDSTRING" in out["notes"][0]["note"]
    last = json.loads((case / "custody.jsonl").read_text().splitlines()[-1])
    assert last["details"]["notes"] == out["notes"]
