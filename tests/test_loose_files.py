"""Any file is a source; names decide, paths only help; each database is claimed only by the
profiles meant for it (issue 10, items 1, 2 and 6).

Truth: which app wrote each corpus database (the corpus README and PROVENANCE.tsv: plaso's and
iLEAPP's test data, each named after its app) and the sample phone extraction's own layout
(sample_images/phone/README.md). The loose-file test compares a file parsed alone with the same
file parsed in its original layout: parsing must not depend on where a copy lies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, evkit, need_corpus

SIDECARS = ("-wal", "-journal", "-shm")

# Every database the built-in profiles claim with --hunt, by the app that wrote it; nothing else
# (a Viber call log, viber_data, was once claimed as the Android call log).
CORPUS_CLAIMS = {
    ("android.calllog", "/mobile/android_plaso/contacts2.db"),
    ("android.sms", "/chat/android_sms_plaso/mmssms.db"),
    ("chromium.history", "/browser/chrome_plaso/History"),
    ("chromium.history", "/browser/chrome_plaso/History-57.0.2987.133"),
    ("chromium.history", "/browser/chrome_plaso/History-58.0.3029.96"),
    ("chromium.history", "/browser/chrome_plaso/History-59.0.3071.86"),
    ("firefox.history", "/browser/firefox_plaso/places.sqlite"),
    ("firefox.history", "/browser/firefox_plaso/downloads.sqlite"),
    ("ios.sms", "/chat/imessage_plaso/imessage_chat.db"),
}
SAMPLE_CLAIMS = {
    "phone/android_ffs.tar": {
        ("android.calllog", "/data/data/com.android.providers.contacts/databases/contacts2.db"),
        ("android.contacts", "/data/data/com.android.providers.contacts/databases/contacts2.db"),
        ("android.sms", "/data/data/com.android.providers.telephony/databases/mmssms.db"),
        ("chromium.history", "/data/data/com.android.chrome/app_chrome/Default/History"),
        ("whatsapp.android", "/data/data/com.whatsapp/databases/msgstore.db"),
    },
    "phone/ios_backup_plain": {
        ("ios.addressbook", "/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"),
        ("ios.callhistory", "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"),
        ("ios.sms", "/private/var/mobile/Library/SMS/sms.db"),
    },
}


def _records(proc: object) -> list[dict]:
    out = []
    for line in proc.stdout.splitlines():  # type: ignore[attr-defined]
        r = json.loads(line)
        if "profile" in r and r.get("kind", "record") == "record":
            out.append(r)
    return out


def _claims(source: Path, *extra: str) -> set[tuple[str, str]]:
    proc = evkit("parse", str(source), "--hunt", "--json", *extra, timeout=300)
    assert proc.returncode in (0, 4), proc.stderr
    return {(r["profile"], r["path"]) for r in _records(proc) if r["profile"] != "exif"}


def test_each_corpus_database_is_claimed_only_by_the_profiles_meant_for_it() -> None:
    root = need_corpus(".")
    assert _claims(root) == CORPUS_CLAIMS


@pytest.mark.parametrize("sample", sorted(SAMPLE_CLAIMS))
def test_each_sample_database_is_claimed_only_by_the_profiles_meant_for_it(samples: Path, sample: str) -> None:
    assert _claims(samples / sample) == SAMPLE_CLAIMS[sample]


def _comparable(rows: list[dict]) -> list[tuple]:
    """What a record says, without where the copy lay (locator, path)."""
    return sorted((r["profile"], r["artifact"], r.get("timestamp"), json.dumps(r["data"], sort_keys=True)) for r in rows)


# One file per built-in profile that has real or sample data, under the name the app gives it
# (imessage_chat.db and the renamed History copies are found by --hunt only: names decide).
# telegram.android, whatsapp.ios and safari.history have no file in the corpus or the samples.
LOOSE = [
    ("android.calllog", "corpus", "mobile/android_plaso/contacts2.db"),
    ("android.sms", "corpus", "chat/android_sms_plaso/mmssms.db"),
    ("chromium.history", "corpus", "browser/chrome_plaso/History"),
    ("firefox.history", "corpus", "browser/firefox_plaso/places.sqlite"),
    ("firefox.history", "corpus", "browser/firefox_plaso/downloads.sqlite"),
    ("exif", "corpus", "exif/exif-samples/jpg/gps/DSCN0010.jpg"),
    ("android.contacts", "phone/android_ffs.tar", "/data/data/com.android.providers.contacts/databases/contacts2.db"),
    ("whatsapp.android", "phone/android_ffs.tar", "/data/data/com.whatsapp/databases/msgstore.db"),
    ("ios.sms", "phone/ios_backup_plain", "/private/var/mobile/Library/SMS/sms.db"),
    ("ios.addressbook", "phone/ios_backup_plain", "/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"),
    ("ios.callhistory", "phone/ios_backup_plain", "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"),
]


@pytest.mark.parametrize("profile,where,rel", LOOSE)
def test_a_loose_copy_gives_the_records_of_its_original_layout(tmp_path: Path, samples: Path, profile: str, where: str,
                                                               rel: str) -> None:
    name = rel.rsplit("/", 1)[-1]
    alone = tmp_path / name
    if where == "corpus":
        original = need_corpus(rel) / rel
        layout, inside = original.parent, "/" + name
        shutil.copy2(original, alone)
        for s in SIDECARS:
            if Path(str(original) + s).exists():
                shutil.copy2(str(original) + s, str(alone) + s)
    else:
        layout, inside = samples / where, rel
        alone.write_bytes(evkit("cat", str(layout), rel, check=True).stdout)
    in_layout = [r for r in _records(evkit("parse", str(layout), "--profile", profile, "--json", check=True))
                 if r["path"] == inside]
    rows = _records(evkit("parse", str(alone), "--profile", profile, "--json", check=True))  # no --hunt
    assert rows and _comparable(rows) == _comparable(in_layout)
    assert {r["locator"] for r in rows} == {f"file:{name}"}


def test_a_loose_file_works_with_every_command(tmp_path: Path, samples: Path) -> None:
    history = tmp_path / "History"
    history.write_bytes(evkit("cat", str(samples / "phone" / "android_ffs.tar"),
                              "/data/data/com.android.chrome/app_chrome/Default/History", check=True).stdout)
    (tmp_path / "History-journal").write_bytes(b"")  # a sidecar travels with its database
    listed = evkit("ls", "--no-header", str(history), check=True).stdout.decode().split()
    assert "/History" in listed and "/History-journal" in listed
    assert evkit("cat", str(history), "/History", check=True).stdout == history.read_bytes()
    import hashlib

    assert hashlib.sha256(history.read_bytes()).hexdigest() in evkit("hash", str(history), check=True).stdout.decode()
    tested = evkit("profiles", "test", "chromium.history", str(history), "--json", check=True)
    parsed = evkit("parse", str(history), "--json", check=True)  # every profile, names alone
    assert _comparable(_records(tested)) == _comparable(_records(parsed)) and _records(parsed)
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "L-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(history), "--evidence-number", "E1", check=True)
    evkit("extract", str(case), check=True)
    evkit("run", str(case), check=True)
    show = json.loads(evkit("case", "show", str(case), "--json", check=True).stdout)
    assert show["evidence"][0]["records_by_profile"] == {"chromium.history": len(_records(parsed))}


def test_a_broken_disk_image_is_not_taken_for_a_loose_file(tmp_path: Path) -> None:
    """A raw image with no readable filesystem is reported as such, saying why it looks like one."""
    named = tmp_path / "suspect.dd"
    named.write_bytes(b"\0" * 65536)
    err = assert_one_line_error(evkit("ls", str(named)), 3)
    assert "looks like a disk image" in err and ".dd" in err
    mbr = tmp_path / "blob"
    data = bytearray(65536)
    data[510:512] = b"\x55\xaa"
    mbr.write_bytes(bytes(data))
    err = assert_one_line_error(evkit("ls", str(mbr)), 3)
    assert "boot-sector signature" in err


def test_bad_loose_files_are_one_line_each_and_the_run_goes_on(tmp_path: Path) -> None:
    """Truncated, encrypted-looking (random bytes after a SQLite header, as SQLCipher leaves none
    at all) or not what its name says: one line per file, exit 4, the good file still parsed."""
    folder = tmp_path / "copies"
    folder.mkdir()
    src = need_corpus("browser/chrome_plaso/History") / "browser/chrome_plaso/History"
    (folder / "good").mkdir()
    shutil.copy2(src, folder / "good" / "History")
    (folder / "truncated").mkdir()
    (folder / "truncated" / "History").write_bytes(src.read_bytes()[:3000])
    (folder / "cipher").mkdir()
    import os

    (folder / "cipher" / "History").write_bytes(os.urandom(8192))
    (folder / "text").mkdir()
    (folder / "text" / "History").write_text("this is a note, not a browser history\n")
    proc = evkit("parse", str(folder), "--profile", "chromium.history", "--json")
    assert proc.returncode == 4, proc.stderr
    rows = _records(proc)
    assert {r["path"] for r in rows} == {"/good/History"}
    problems = [line for line in proc.stderr.decode().splitlines() if "History" in line]
    assert 1 <= len(problems) <= 3 and all("/good/" not in p for p in problems)


def test_profiles_test_says_why_it_found_nothing() -> None:
    """Not identified (and what the schema lacks), or identified but empty (and which artifact found
    no query or rows). Truth: the tables the apps write (plaso's test data: a Viber database has a
    calls table without the Android provider's new/numbertype columns)."""
    root = need_corpus("apps/android/viber_plaso/viber_data")
    cases = [
        ("chromium.history", "chat/android_sms_plaso/mmssms.db", "not identified: no table urls"),
        ("android.calllog", "apps/android/viber_plaso/viber_data", "not identified: table calls lacks new, numbertype"),
        ("android.contacts", "mobile/android_plaso/contacts2.db",
         "identified, but no records: contacts: no query fits this schema (no table raw_contacts)"),
    ]
    for profile, rel, said in cases:
        proc = evkit("profiles", "test", profile, str(root / rel))
        assert proc.returncode == 4
        assert said in proc.stderr.decode(), (profile, proc.stderr)


ELECTRUM_PROFILE = """
id: test.electrum
name: Electrum wallet (test)
version: 1
parser: json
sources:
  - names: [default_wallet]
    paths: ["**/.electrum/wallets/default_wallet"]
identify:
  keys: [seed_version, wallet_type]
artifacts:
  addresses:
    table: addr_history
"""


def test_hunt_finds_json_by_its_keys_under_any_name(tmp_path: Path) -> None:
    """--hunt offers renamed files to profiles that recognise content by JSON keys, not only to
    SQLite profiles. Truth: Electrum's wallet file is JSON with seed_version and wallet_type at its
    top level (the corpus's Electrum 2.9.3 and 3.3.8 test wallets, named client_*)."""
    root = need_corpus("apps/wallets/electrum")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "test.electrum.yaml").write_text(ELECTRUM_PROFILE)
    folder = root / "apps" / "wallets"
    plain = evkit("parse", str(folder), "--profiles", str(profiles), "--profile", "test.electrum", "--json", check=True)
    assert _records(plain) == []  # no file is named default_wallet
    hunted = evkit("parse", str(folder), "--profiles", str(profiles), "--profile", "test.electrum", "--hunt", "--json")
    assert hunted.returncode == 0, hunted.stderr
    found = {r["path"] for r in _records(hunted)}
    # Every unencrypted Electrum wallet of the corpus (btcrecover's electrum27 and 4.4.3 test wallets
    # too); the encrypted ones (electrum28, electrum41: base64 of ciphertext) are not JSON.
    assert found == {"/electrum/client_3_3_8_xpub_with_realistic_history", "/electrum/client_2_9_3_old_seeded_with_realistic_history",
                     "/btcrecover/electrum27-wallet", "/btcrecover/electrum4_4_3_unencrypted"}
