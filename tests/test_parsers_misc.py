"""The plist, json, text and file parsers: small files made here, the corpus NSKeyedArchiver and
iOS plists, hostile input, and the parser contract the engine relies on."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import plistlib
import random
import time
from pathlib import Path

import pytest

from evkit.profiles import parsers
from evkit.profiles.engine import run_profiles
from evkit.profiles.loader import ProfileError, load_file
from evkit.profiles.parsers import file as fileparser
from evkit.profiles.parsers import jsonfile, plist, text
from evkit.profiles.record import FileProblem, Record
from evkit.sources.logical.directory import DirectoryTree

from .conftest import evkit


def make_profile(tmp_path: Path, body: str, name: str = "p.yaml"):
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body, encoding="utf-8")
    return load_file(folder / name)


def run(folder: Path, *profiles) -> tuple[list[Record], list[FileProblem]]:
    recs, probs = [], []
    for item in run_profiles(DirectoryTree(folder), list(profiles)):
        (probs if isinstance(item, FileProblem) else recs).append(item)
    for r in recs:
        json.dumps(r.as_dict(), allow_nan=False).encode("utf-8")     # every record is printable JSON
    return recs, probs


def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "ev"
    folder.mkdir(exist_ok=True)
    return folder


def test_every_registered_parser_keeps_the_contract():
    for name, module in parsers.PARSERS.items():
        mod = importlib.import_module(module)
        assert isinstance(mod.NEEDS_FILE, bool), name
        assert callable(mod.identify) and callable(mod.parse), name


# ---------------------------------------------------------------------------------------------
# plist

PLIST_PROFILE = """
id: test.accounts
name: Accounts
version: 1
parser: plist
sources: [{names: ["*.plist"]}]
artifacts:
  accounts:
    table: Accounts
    columns:
      Created: {type: timestamp, format: iso8601}
      Token: {type: blob, blob: base64}
    timeline: {time: Created}
  networks:
    table: com.example.networks
    columns:
      Seen: {type: timestamp, format: mac_absolute}
    timeline: {time: Seen}
  everything: {}
"""

ACCOUNTS = {
    "Version": 3,
    "Accounts": [
        {"Name": "alice", "Created": dt.datetime(2023, 4, 15, 13, 58, 42, 481634), "Token": b"\x00\x01",
         "Prefs": {"Theme": "dark", "Sizes": [1, 2]}},
        {"Name": "bob", "Created": dt.datetime(2020, 1, 1), "Token": b"", "Score": 1.5},
    ],
    "com.example.networks": {"home": {"Seen": 700000000.5, "Secure": True}, "cafe": {"Seen": 0}},
    "Blob": b"\xde\xad",
}


@pytest.mark.parametrize("fmt", [plistlib.FMT_BINARY, plistlib.FMT_XML])
def test_plist_tables_and_flattened_top(tmp_path, fmt):
    prof = make_profile(tmp_path, PLIST_PROFILE)
    ev = evidence(tmp_path)
    (ev / "acc.plist").write_bytes(plistlib.dumps(ACCOUNTS, fmt=fmt))
    recs, probs = run(ev, prof)
    assert not probs
    by = {}
    for r in recs:
        by.setdefault(r.artifact, []).append(r)
    alice, bob = by["accounts"]
    assert alice.row == {"table": "Accounts", "index": 0} and bob.row["index"] == 1
    created = "2023-04-15T13:58:42.481634Z" if fmt == plistlib.FMT_BINARY else "2023-04-15T13:58:42Z"  # XML: whole seconds
    assert alice.data["Name"] == "alice" and alice.data["Created"] == created
    assert alice.timestamp == created
    assert alice.data["Token"] == "AAE="                      # the column's blob conversion
    assert alice.data["Prefs.Theme"] == "dark" and alice.data["Prefs.Sizes"] == [1, 2]
    assert bob.data["Score"] == 1.5
    nets = {r.data["_key"]: r for r in by["networks"]}
    assert set(nets) == {"home", "cafe"}                      # a dotted key matched whole
    assert nets["home"].row == {"table": "com.example.networks", "key": "home"}
    assert nets["home"].timestamp == "2023-03-08T20:26:40.5Z"     # 2001-01-01 + 700000000.5 s
    assert nets["cafe"].timestamp is None
    [top] = by["everything"]
    assert top.row == {"index": 0} and top.data["Version"] == 3 and top.data["Blob"] == "dead"
    assert top.data["com.example.networks.home.Secure"] is True
    assert top.data["Accounts"][0]["Token"] == "0001"          # nested bytes as hex


def test_plist_identify(tmp_path):
    prof = make_profile(tmp_path, PLIST_PROFILE)
    assert plist.identify(prof, io.BytesIO(plistlib.dumps({"a": 1}, fmt=plistlib.FMT_BINARY)))
    assert plist.identify(prof, io.BytesIO(plistlib.dumps({"a": 1})))
    assert plist.identify(prof, io.BytesIO(b"\xef\xbb\xbf<?xml version='1.0'?>\n<plist><dict/></plist>"))
    assert not plist.identify(prof, io.BytesIO(b'{"json": true}'))
    assert not plist.identify(prof, io.BytesIO(b"<?xml version='1.0'?><html/>"))
    assert not plist.identify(prof, io.BytesIO(b""))


def test_plist_wildcards_and_missing_paths(tmp_path):
    prof = make_profile(tmp_path, """
id: test.wild
name: w
version: 1
parser: plist
sources: [{names: ["*.plist"]}]
artifacts:
  members: {table: "*.members"}
  missing: {table: "no.such.path"}
  scalar: {table: "groups"}
""")
    ev = evidence(tmp_path)
    doc = {"team.a": {"members": ["x", "y"]}, "team.b": {"members": ["z"]}, "groups": 7}
    (ev / "w.plist").write_bytes(plistlib.dumps(doc, fmt=plistlib.FMT_BINARY))
    recs, probs = run(ev, prof)
    assert not probs
    members = [(r.data["_path"], r.data["value"]) for r in recs if r.artifact == "members"]
    assert members == [("team.a.members", "x"), ("team.a.members", "y"), ("team.b.members", "z")]
    assert not [r for r in recs if r.artifact == "missing"]
    [scalar] = [r for r in recs if r.artifact == "scalar"]
    assert scalar.data == {"value": 7}


def test_corpus_nskeyedarchiver(corpus, tmp_path):
    prof = make_profile(tmp_path, """
id: test.archive
name: a
version: 1
parser: plist
sources: [{names: ["*.plist"]}]
artifacts:
  root: {}
""")
    [rec], probs = run(corpus / "other" / "plaso", prof)
    assert not probs
    assert rec.data == {"MyArray": [], "MyBool": True, "MyData": "444154410a", "MyDate": "2024-02-12T17:40:49Z",
                        "MyDictionary": {}, "MyFloat": 2.7, "MyInteger": 98, "MyString": "Some string"}


def _archive(objects, top):
    return plistlib.dumps({"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": top, "$objects": objects},
                          fmt=plistlib.FMT_BINARY)


def test_nskeyedarchiver_classes_cycles_and_bad_references():
    UID = plistlib.UID
    objects = [
        "$null",
        {"$class": UID(2), "NS.keys": [UID(3), UID(4), UID(5), UID(6)], "NS.objects": [UID(7), UID(1), UID(99), UID(8)]},
        {"$classname": "NSMutableDictionary", "$classes": ["NSMutableDictionary", "NSDictionary", "NSObject"]},
        "url", "self", "broken", "person",
        {"$class": UID(9), "NS.base": UID(0), "NS.relative": "https://example.org/"},
        {"$class": UID(10), "name": "Ann", "born": UID(11), "id": UID(12), "nothing": UID(0)},
        {"$classname": "NSURL"}, {"$classname": "Person"},
        {"$class": UID(13), "NS.time": 0.0},
        {"$class": UID(14), "NS.uuidbytes": bytes(range(16))},
        {"$classname": "NSDate"}, {"$classname": "NSUUID"},
    ]
    root = plist.load(_archive(objects, {"root": UID(1)}))
    assert plist.is_keyed_archive(root)
    value = plist.unarchive(root, jsonfile.Budget())
    assert value["url"] == "https://example.org/"
    assert value["self"] == "<cycle>"
    assert value["broken"] == "<bad reference 99>"
    person = value["person"]
    assert person["$class"] == "Person" and person["name"] == "Ann" and person["nothing"] is None
    assert person["born"] == dt.datetime(2001, 1, 1)
    assert person["id"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    two = plist.unarchive(plist.load(_archive(objects, {"a": UID(3), "b": UID(4)})), jsonfile.Budget())
    assert two == {"a": "url", "b": "self"}


def test_nskeyedarchiver_depth_and_expansion_are_bounded():
    UID = plistlib.UID
    # 40 levels, each an array holding the next level twice: 2**40 values if expanded naively
    objects = ["$null"] + [{"NS.objects": [UID(i + 2), UID(i + 2)]} for i in range(40)] + ["leaf"]
    root = plist.load(_archive(objects, {"root": UID(1)}))
    start = time.perf_counter()
    with pytest.raises(jsonfile.ParseError):
        plist.unarchive(root, jsonfile.Budget())
    assert time.perf_counter() - start < 20
    deep = ["$null"] + [{"NS.objects": [UID(i + 2)]} for i in range(200)] + ["leaf"]
    value = plist.unarchive(plist.load(_archive(deep, {"root": UID(1)})), jsonfile.Budget())
    assert "<too deep>" in json.dumps(value)


def test_cyclic_and_shared_binary_plists(tmp_path):
    prof = make_profile(tmp_path, "id: test.c\nname: c\nversion: 1\nparser: plist\nsources: [{names: ['*.plist']}]\nartifacts: {all: {}}\n")
    cyclic = bytearray(plistlib.dumps(["x"], fmt=plistlib.FMT_BINARY))
    cyclic[9] = 0                                   # the array's only element is the array itself
    shared = [[]]
    for _ in range(40):
        shared = [shared, shared]                   # 2**40 leaves once expanded
    ev = evidence(tmp_path)
    (ev / "cyclic.plist").write_bytes(bytes(cyclic))
    (ev / "shared.plist").write_bytes(plistlib.dumps({"k": shared}, fmt=plistlib.FMT_BINARY))
    start = time.perf_counter()
    recs, probs = run(ev, prof)
    assert time.perf_counter() - start < 30
    assert [r.data for r in recs] == [{"value": ["<cycle>"]}]
    assert len(probs) == 1 and "shared" in probs[0].path and "stopped" in probs[0].message


def test_corpus_ios_plists(corpus, tmp_path):
    prof = make_profile(tmp_path, """
id: test.ios
name: ios
version: 1
parser: plist
sources:
  - names: ["com.apple.wifi.known-networks.plist", "com.apple.identityservices.idstatuscache.plist",
            "com.apple.MobileBackup.plist", "com.apple.commcenter.data.plist"]
artifacts:
  bss:
    table: "*.BSSList"
    columns:
      LastAssociatedAt: {type: timestamp, format: iso8601}
    timeline: {time: LastAssociatedAt}
  madrid:
    table: com.apple.madrid
    columns:
      LookupDate: {type: timestamp, format: mac_absolute}
    timeline: {time: LookupDate}
  backups:
    table: BackupStateInfo.errors
  sims:
    table: PersonalWallet
""")
    recs, probs = run(corpus / "mobile" / "ios_plaso", prof)
    assert not probs
    by: dict[str, list[Record]] = {}
    for r in recs:
        by.setdefault(r.artifact, []).append(r)
    assert len(by["bss"]) == 9
    assert {r.data["BSSID"] for r in by["bss"]} >= {"76:a7:41:e7:7c:9d", "6a:22:32:1d:3e:a3"}
    assert all(r.timestamp and r.timestamp.startswith("2023-05-") for r in by["bss"])
    madrid = {r.data["_key"]: r for r in by["madrid"]}
    assert set(madrid) == {"tel:+14693560062", "tel:+19192895850", "tel:+19195794674", "tel:+19198887386"}
    assert madrid["tel:+19195794674"].data["LookupDate_raw"] == 635455010.414698
    assert madrid["tel:+19195794674"].timestamp.startswith("2021-02-19T19:16:50.414698")   # + 2001-01-01
    assert len(by["backups"]) == 10
    assert by["backups"][0].data["date"] == "2023-05-03T01:11:53.195466Z"
    [sim] = by["sims"]
    assert sim.data["_key"] == "8901260971148676693" and sim.data["info.mdn"] == "+19195794674"


def test_damaged_plists_are_file_problems_not_crashes(tmp_path):
    prof = make_profile(tmp_path, "id: test.d\nname: d\nversion: 1\nparser: plist\nsources: [{names: ['*.plist']}]\nartifacts: {all: {}}\n")
    ev = evidence(tmp_path)
    good = plistlib.dumps({"a": [1, 2, {"b": b"x" * 40}], "d": dt.datetime(2020, 1, 1)}, fmt=plistlib.FMT_BINARY)
    rnd = random.Random(7)
    for i in range(120):
        data = bytearray(good)
        for _ in range(rnd.choice((1, 2, 8))):
            data[rnd.randrange(8, len(data))] = rnd.randrange(256)
        (ev / f"m{i}.plist").write_bytes(bytes(data[: rnd.randrange(8, len(data) + 1)]))
    (ev / "garbage.plist").write_bytes(b"bplist00" + bytes(range(256)) * 4)
    (ev / "entities.plist").write_bytes(b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa">]><plist><string>&a;</string></plist>')
    recs, probs = run(ev, prof)
    assert len(recs) + len(probs) >= 122
    assert any("garbage" in p.path for p in probs) and any("entities" in p.path for p in probs)


# ---------------------------------------------------------------------------------------------
# JSON

JSON_PROFILE = """
id: test.json
name: j
version: 1
parser: json
sources: [{names: ["*.json", "*.jsonl"]}]
artifacts:
  items:
    table: data.items
    columns:
      ts: {type: timestamp, format: unix_s}
    timeline: {time: ts}
  first:
    table: data.items.0.tags
"""


def test_json_tables_lines_and_oddities(tmp_path):
    prof = make_profile(tmp_path, JSON_PROFILE)
    ev = evidence(tmp_path)
    (ev / "a.json").write_text(json.dumps({"data": {"items": [
        {"ts": 1700000000, "who": {"name": "x", "ids": [1, 2]}, "tags": ["t1", "t2"]},
        {"ts": 0, "bad": float("nan"), "text": "caf\u00e9 \ud800", "raw": "@@"},
    ]}}).replace("@@", "\udcff"), encoding="utf-8", errors="surrogateescape")    # a lone surrogate escape, a raw 0xff byte
    (ev / "b.jsonl").write_text('{"data": {"items": [{"ts": 5}]}}\n\n{"other": 1}\n', encoding="utf-8")
    (ev / "c.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"data": {"items": {"k1": {"ts": 60}}}}).encode())
    (ev / "not.json").write_text("this is not json", encoding="utf-8")
    (ev / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    recs, probs = run(ev, prof)
    assert not probs                                   # no identify block: unrecognised files are skipped
    a = [r for r in recs if r.path == "/a.json"]
    items = [r for r in a if r.artifact == "items"]
    assert items[0].timestamp == "2023-11-14T22:13:20Z" and items[0].data["who.name"] == "x"
    assert items[0].data["who.ids"] == [1, 2] and items[0].row == {"table": "data.items", "index": 0}
    assert items[1].timestamp is None and items[1].data["bad"] == "NaN"
    assert items[1].data["text"] == "caf\u00e9 \\ud800" and items[1].data["raw"] == "\\xff"
    assert [r.data["value"] for r in a if r.artifact == "first"] == ["t1", "t2"]
    # JSON Lines: a list of the lines' values, so data.items is not at the top
    assert not [r for r in recs if r.path == "/b.jsonl"]
    [c] = [r for r in recs if r.path == "/c.json"]
    assert c.data["_key"] == "k1" and c.timestamp == "1970-01-01T00:01:00Z"


def test_json_identify_bounds(tmp_path, monkeypatch):
    prof = make_profile(tmp_path, JSON_PROFILE)
    assert jsonfile.identify(prof, io.BytesIO(b'{"a": 1}'))
    assert jsonfile.identify(prof, io.BytesIO(b'{"a": 1}\n{"a": 2}\n'))
    assert not jsonfile.identify(prof, io.BytesIO(b"   "))
    assert not jsonfile.identify(prof, io.BytesIO(b"[" * 50_000))
    assert not jsonfile.identify(prof, io.BytesIO(b'{"a": 1} trailing'))
    monkeypatch.setattr(jsonfile, "MAX_BYTES", 10)
    assert not jsonfile.identify(prof, io.BytesIO(b'{"a": "more than ten bytes"}'))


def test_json_lines_as_records(tmp_path):
    prof = make_profile(tmp_path, "id: test.jl\nname: jl\nversion: 1\nparser: json\nsources: [{names: ['*.jsonl']}]\n"
                                  "artifacts:\n  events:\n    table: '*'\n")
    ev = evidence(tmp_path)
    (ev / "e.jsonl").write_text('{"event": "a", "n": 1}\n{"event": "b", "n": 2}\n', encoding="utf-8")
    recs, _ = run(ev, prof)
    assert [(r.data["_path"], r.data["_key"], r.data["value"]) for r in recs] == [
        ("0", "event", "a"), ("0", "n", 1), ("1", "event", "b"), ("1", "n", 2)]


# ---------------------------------------------------------------------------------------------
# text

TEXT_PROFILE = r"""
id: test.log
name: log
version: 1
parser: text
sources: [{names: ["*.log"]}]
artifacts:
  logins:
    pattern: '^(?P<time>\S+) login user=(?P<user>\w+)(?: from (?P<ip>[\d.]+))?'
    columns:
      time: {type: timestamp, format: iso8601}
    timeline: {time: time}
  words:
    pattern: 'id=(?P<id>\d+)'
  empty:
    pattern: '(?P<nothing>x*)'
"""


def test_text_matches_lines_and_encodings(tmp_path):
    prof = make_profile(tmp_path, TEXT_PROFILE)
    ev = evidence(tmp_path)
    (ev / "a.log").write_bytes(
        b"2024-01-01T10:00:00Z login user=alice from 10.0.0.1\n"
        b"noise id=1 id=2 id=3\r\n"
        b"2024-01-01T11:00:00+02:00 login user=bob\r\n"
        b"bad \xff\xfe id=4\n"
        b"no newline at the end id=5")
    (ev / "u16.log").write_bytes("2024-02-02T00:00:00Z login user=\u00e9ve\r\nid=6\n".encode("utf-16"))
    recs, probs = run(ev, prof)
    assert not probs
    logins = [r for r in recs if r.artifact == "logins"]
    assert [(r.path, r.row, r.data["user"], r.data["ip"], r.timestamp) for r in logins] == [
        ("/a.log", {"line": 1}, "alice", "10.0.0.1", "2024-01-01T10:00:00Z"),
        ("/a.log", {"line": 3}, "bob", None, "2024-01-01T09:00:00Z"),
        ("/u16.log", {"line": 1}, "\u00e9ve", None, "2024-02-02T00:00:00Z"),
    ]
    ids = [(r.path, r.row, r.data["id"]) for r in recs if r.artifact == "words"]
    assert ids == [("/a.log", {"line": 2}, "1"), ("/a.log", {"line": 2, "match": 1}, "2"), ("/a.log", {"line": 2, "match": 2}, "3"),
                   ("/a.log", {"line": 4}, "4"), ("/a.log", {"line": 5}, "5"), ("/u16.log", {"line": 2}, "6")]
    empties = [r for r in recs if r.artifact == "empty"]
    assert all(r.data["nothing"] for r in empties)            # zero-length matches are skipped


def test_text_long_lines_are_bounded(tmp_path):
    prof = make_profile(tmp_path, TEXT_PROFILE)
    ev = evidence(tmp_path)
    long_line = b"id=7 " + b"a" * (3 * text.MAX_LINE) + b" id=8\n"
    (ev / "long.log").write_bytes(long_line + b"id=9\n" + b"z" * (2 * text.MAX_LINE))
    recs, _ = run(ev, prof)
    words = [(r.row, r.data["id"]) for r in recs if r.artifact == "words"]
    assert words == [({"line": 1, "truncated": True}, "7"), ({"line": 2}, "9")]


def test_text_parser_reads_a_stream_too(tmp_path):
    prof = make_profile(tmp_path, TEXT_PROFILE)
    got = list(text.parse(prof, io.BytesIO(b"\xef\xbb\xbfid=1\nid=2")))
    assert [(a, row, raw["id"]) for a, row, raw in got if a == "words"] == [("words", {"line": 1}, "1"), ("words", {"line": 2}, "2")]


def test_text_profile_needs_a_pattern(tmp_path):
    with pytest.raises(ProfileError, match="pattern"):
        make_profile(tmp_path, "id: test.t\nname: t\nversion: 1\nparser: text\nsources: [{names: ['*']}]\nartifacts: {a: {}}\n")


# ---------------------------------------------------------------------------------------------
# file


def test_file_records_size_and_type(tmp_path):
    prof = make_profile(tmp_path, """
id: test.files
name: f
version: 1
parser: file
sources: [{names: ["*.bin", "*.jpg"]}]
artifacts:
  files: {}
""")
    ev = evidence(tmp_path)
    (ev / "a.bin").write_bytes(b"%PDF-1.4\n" + b"x" * 100)
    (ev / "fake.jpg").write_bytes(b"PK\x03\x04" + bytes(60))
    (ev / "empty.bin").write_bytes(b"")
    recs, probs = run(ev, prof)
    assert not probs
    by = {r.path: r.data for r in recs}
    assert by["/a.bin"]["size"] == 109 and by["/a.bin"]["mime_type"] == "application/pdf"
    assert "PDF document" in by["/a.bin"]["file_type"] and by["/a.bin"]["header_hex"].startswith("255044462d")
    assert by["/fake.jpg"]["mime_type"] != "image/jpeg"
    assert by["/empty.bin"]["size"] == 0 and by["/empty.bin"]["header_hex"] == ""


def test_file_identify_magic_and_header(tmp_path):
    prof = make_profile(tmp_path, r"""
id: test.pdfs
name: f
version: 1
parser: file
sources: [{names: ["*"]}]
identify: {magic: "PDF document", header: "%PDF"}
artifacts:
  pdfs: {}
""")
    assert fileparser.identify(prof, io.BytesIO(b"%PDF-1.7\n"))
    assert not fileparser.identify(prof, io.BytesIO(b"PK\x03\x04"))
    both = make_profile(tmp_path, "id: test.png\nname: p\nversion: 1\nparser: file\nsources: [{names: ['*']}]\n"
                                  "identify: {header: \"\\x89PNG\"}\nartifacts: {a: {}}\n", "png.yaml")
    assert fileparser.identify(both, io.BytesIO(b"\x89PNG\r\n\x1a\n"))
    assert not fileparser.identify(both, io.BytesIO(b"GIF89a"))


def test_stream_parsers_also_take_a_path(tmp_path):
    """A file matched by a NEEDS_FILE parser too is given to every parser as a scratch path."""
    plist_prof = make_profile(tmp_path, "id: test.pp\nname: p\nversion: 1\nparser: plist\nsources: [{names: ['*.plist']}]\nartifacts: {all: {}}\n", "a.yaml")
    json_prof = make_profile(tmp_path, "id: test.jj\nname: j\nversion: 1\nparser: json\nsources: [{names: ['*.plist']}]\nartifacts: {all: {}}\n", "b.yaml")
    file_prof = make_profile(tmp_path, "id: test.ff\nname: f\nversion: 1\nparser: file\nsources: [{names: ['*.plist']}]\nartifacts: {all: {}}\n", "c.yaml")
    ev = evidence(tmp_path)
    (ev / "x.plist").write_bytes(plistlib.dumps({"a": 1}))
    (ev / "y.plist").write_text('{"b": 2}', encoding="utf-8")
    recs, probs = run(ev, plist_prof, json_prof, file_prof)
    assert not probs
    got = sorted((r.profile, r.path) for r in recs)
    assert got == [("test.ff", "/x.plist"), ("test.ff", "/y.plist"), ("test.jj", "/y.plist"), ("test.pp", "/x.plist")]
    assert [r.data for r in recs if r.profile == "test.pp"] == [{"a": 1}]


def test_cli_with_user_profiles(tmp_path):
    make_profile(tmp_path, TEXT_PROFILE)
    ev = evidence(tmp_path)
    (ev / "x.log").write_text("2024-01-01T10:00:00Z login user=carol\n", encoding="utf-8")
    proc = evkit("parse", "--profiles", str(tmp_path / "profiles"), "-p", "test.log", "--json", str(ev), check=True)
    [line] = [json.loads(x) for x in proc.stdout.decode().splitlines() if '"logins"' in x]
    assert line["data"]["user"] == "carol" and line["timestamp"] == "2024-01-01T10:00:00Z"


def test_float_times_keep_the_microseconds_their_encoding_carries() -> None:
    """Apple stores CFAbsoluteTime as a double (seconds since 2001-01-01): 398456668.829571 is
    2013-08-17T18:24:28.829571Z (978307200 + 398456668 = 1376763868; the double's 16 significant
    digits end at the microsecond). Nine digits (.829571009) were floating-point noise; integer
    sources stay exact to the nanosecond."""
    from evkit.profiles.conversions import to_utc

    assert to_utc(398456668.829571, "mac_absolute") == "2013-08-17T18:24:28.829571Z"
    assert to_utc(398456668.9999999, "mac_absolute") == "2013-08-17T18:24:29Z"  # rounding carries into the second
    assert to_utc(1_376_763_868_829_571_009, "unix_ns") == "2013-08-17T18:24:28.829571009Z"
