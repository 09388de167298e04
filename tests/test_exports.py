"""``evkit export``: DFXML and CASE/UCO files written into the case, recorded, and verifiable.

One case is built through the CLI, as an examiner would: E1 is the sample E01 (FAT32 + NTFS, deleted
files, an alternate data stream), E2 an ext4 image made here whose file names are hostile to XML and
JSON (a control character, markup characters, a Unicode noncharacter). Tests that change the case
work on a copy of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from evkit.case import bag
from evkit.exporters.dfxml import xml_text
from tests.conftest import assert_one_line_error, evkit

NS = {"d": "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML", "evkit": "urn:evkit:dfxml-extension:1"}
CASE_NUMBER = "2026/EXP-7"
HOSTILE = ["bad\x01name.txt", "<script>&\"'.txt", "nonchar\uffff.txt"]


def _rows(case: Path, sql: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{case / 'case.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def case(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("mke2fs") is None:
        pytest.skip("mke2fs (e2fsprogs) is needed to build the hostile-name ext4 image")
    work = tmp_path_factory.mktemp("exports")
    tree = work / "tree"
    tree.mkdir()
    for name in HOSTILE:
        (tree / name).write_bytes(f"content of {name}\n".encode())
    image = work / "hostile.ext4"
    with open(image, "wb") as fh:
        fh.truncate(4 * 1024 * 1024)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(tree), str(image)], check=True, capture_output=True)
    root = work / "case"
    evkit("case", "init", str(root), "--case-number", CASE_NUMBER, "--examiner", "Examiner <Ex> & Co", check=True)
    evkit("case", "add", str(root), str(samples / "mbr_fat32_ntfs.E01"), "--evidence-number", "E1", check=True)
    evkit("case", "add", str(root), str(image), "--evidence-number", "E2", check=True)
    evkit("extract", str(root), "--deleted", check=True)
    evkit("export", str(root), "--format", "dfxml", check=True)
    evkit("export", str(root), "--format", "case-uco", check=True)
    return root


def _dfxml(case: Path) -> Path:
    return case / "data" / "exports" / "2026=2FEXP-7.dfxml"


def _caseuco(case: Path) -> Path:
    return case / "data" / "exports" / "2026=2FEXP-7.case.jsonld"


def test_dfxml_has_one_fileobject_per_artefact_with_matching_hashes(case: Path) -> None:
    root = ET.parse(_dfxml(case)).getroot()
    assert root.tag == f"{{{NS['d']}}}dfxml" and root.get("version") == "1.2.0"
    assert root.find("d:creator/d:program", NS).text == "evkit"
    assert "export" in root.find("d:creator/d:execution_environment/d:command_line", NS).text
    artefacts = {r["id"]: r for r in _rows(case, "SELECT * FROM artefacts")}
    objects = root.findall("d:fileobject", NS)
    assert len(objects) == len(artefacts) > 40
    for fo in objects:
        row = artefacts[int(fo.find("d:id", NS).text)]
        digests = {h.get("type"): h.text for h in fo.findall("d:hashdigest", NS)}
        payload = case / row["stored_path"]
        assert fo.find("evkit:stored_path", NS).text == xml_text(row["stored_path"])
        assert digests == {"md5": hashlib.md5(payload.read_bytes()).hexdigest(), "sha256": _sha256(payload)}
        assert fo.find("d:filename", NS).text == xml_text(row["path"])
        assert int(fo.find("d:filesize", NS).text) == row["size"] == payload.stat().st_size
        assert fo.find("d:unalloc", NS).text == str(row["deleted"])
        assert fo.find("d:byte_runs", NS) is None  # evkit records no byte runs; none are invented
    sources = {s.find("evkit:evidence_number", NS).text: s for s in root.findall("d:source", NS)}
    assert sorted(sources) == ["E1", "E2"]
    e1 = {h.get("type"): h.text for h in sources["E1"].findall("d:hashdigest", NS)}
    assert e1["md5"] == "0c375b9b6a4d17783dd9e24d15c4049f"  # the E01's stored (verified) media MD5


def test_dfxml_partitions_and_deleted_files(case: Path) -> None:
    root = ET.parse(_dfxml(case)).getroot()
    by_name = {fo.find("d:filename", NS).text: fo for fo in root.findall("d:fileobject", NS)}
    ads = by_name["/vol3/Users/alice/Downloads/setup.exe:Zone.Identifier"]
    assert ads.find("d:partition", NS).text == "2"
    deleted = by_name["/vol3/Users/alice/Documents/secret.txt"]
    assert (deleted.find("d:unalloc", NS).text, deleted.find("d:alloc", NS).text) == ("1", "0")
    assert by_name["/vol2/Documents/readme.txt"].find("d:partition", NS).text == "1"


def test_hostile_file_names_survive_dfxml(case: Path) -> None:
    root = ET.parse(_dfxml(case)).getroot()
    names = {fo.find("d:filename", NS).text for fo in root.findall("d:fileobject", NS)
             if fo.find("evkit:evidence_number", NS).text == "E2"}
    assert names == {"/bad\\x01name.txt", "/<script>&\"'.txt", "/nonchar\\xef\\xbf\\xbf.txt"}


def test_xml_text_escapes_what_xml_cannot_carry() -> None:
    assert xml_text("a\x00b\rc\td\ne\ufffe") == "a\\x00b\\x0dc\td\ne\\xef\\xbf\\xbe"
    assert xml_text("plain <&> ü 日本") == "plain <&> ü 日本"


def test_exports_are_recorded_in_outputs_custody_and_manifests(case: Path) -> None:
    outputs = {r["stored_path"]: r for r in _rows(case, "SELECT * FROM outputs")}
    manifest = bag.read_manifest(case / "manifest-sha256.txt")
    events = [json.loads(line) for line in (case / "custody.jsonl").read_text(encoding="utf-8").splitlines()]
    for path, kind in ((_dfxml(case), "export-dfxml"), (_caseuco(case), "export-case-uco")):
        rel = path.relative_to(case).as_posix()
        row = outputs[rel]
        assert row["kind"] == kind and row["sha256"] == _sha256(path) == manifest[rel]
        event = next(e for e in events if e["seq"] == row["seq"])
        assert event["action"] == "export"
        assert event["outputs"][0]["path"] == rel and event["outputs"][0]["sha256"] == row["sha256"]
    proc = evkit("verify", str(case))
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


def _graph(case: Path) -> list[dict[str, Any]]:
    return json.loads(_caseuco(case).read_text(encoding="utf-8"))["@graph"]


def test_case_uco_describes_investigation_actions_and_artefacts(case: Path) -> None:
    nodes = {n["@id"]: n for n in _graph(case)}
    (investigation,) = [n for n in nodes.values() if n["@type"] == "case-investigation:Investigation"]
    assert investigation["uco-core:name"] == CASE_NUMBER
    assert all(ref["@id"] in nodes for ref in investigation["uco-core:object"])
    actions = {n["uco-core:name"]: n for n in nodes.values() if n["@type"] == "case-investigation:InvestigativeAction"}
    assert {"case-init", "evidence-add", "extract", "export"} <= set(actions)
    extract = actions["extract"]
    assert nodes[extract["uco-action:performer"]["@id"]]["uco-core:name"] == "Examiner <Ex> & Co"
    assert nodes[extract["uco-action:instrument"]["@id"]]["@type"] == "uco-tool:Tool"
    assert {nodes[o["@id"]]["uco-core:name"] for o in extract["uco-action:object"]} == {"E1", "E2"}
    artefacts = {r["id"]: r for r in _rows(case, "SELECT * FROM artefacts")}
    results = [nodes[r["@id"]] for r in extract["uco-action:result"]]
    assert len(results) == len(artefacts)
    paths = set()
    for node in results:
        facets = {f["@type"]: f for f in node["uco-core:hasFacet"]}
        hashes = {h["uco-types:hashMethod"]: h["uco-types:hashValue"]["@value"]
                  for h in facets["uco-observable:ContentDataFacet"]["uco-observable:hash"]}
        row = next(r for r in artefacts.values() if r["path"] == facets["uco-observable:FileFacet"]["uco-observable:filePath"])
        assert hashes == {"MD5": row["md5"], "SHA256": row["sha256"]}
        paths.add(row["path"])
    assert "/bad\\x01name.txt" in paths and "/<script>&\"'.txt" in paths
    contained = [n for n in nodes.values() if n.get("uco-core:kindOfRelationship") == "Contained_Within"
                 and n["uco-core:source"]["@id"] in {r["@id"] for r in extract["uco-action:result"]}]
    assert len(contained) == len(artefacts)
    assert {nodes[n["uco-core:target"]["@id"]]["uco-core:name"] for n in contained} == {"E1", "E2"}


def test_case_uco_iris_are_stable_across_exports(case: Path, tmp_path: Path) -> None:
    copy = tmp_path / "case"
    shutil.copytree(case, copy)
    before = {n["@id"] for n in _graph(copy)}
    evkit("export", str(copy), "--format", "case-uco", check=True)
    after = {n["@id"] for n in _graph(copy)}
    assert before < after  # the same nodes, plus the previous export's action and file


def test_case_uco_validates_against_the_case_ontology(case: Path) -> None:
    pytest.importorskip("case_utils", reason="case-utils is not installed; CASE/UCO SHACL validation skipped")
    validate = Path(sys.executable).parent / "case_validate"
    proc = subprocess.run([str(validate), str(_caseuco(case))], capture_output=True, timeout=600)
    report = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Conforms: True" in report, report


def test_reexport_replaces_file_and_outputs_row(case: Path, tmp_path: Path) -> None:
    copy = tmp_path / "case"
    shutil.copytree(case, copy)
    proc = evkit("export", str(copy), "--format", "dfxml", "--json", check=True)
    result = json.loads(proc.stdout)
    assert result["path"] == _dfxml(copy).relative_to(copy).as_posix() and result["sha256"] == _sha256(_dfxml(copy))
    rows = _rows(copy, "SELECT * FROM outputs WHERE kind = 'export-dfxml'")
    assert len(rows) == 1 and rows[0]["sha256"] == result["sha256"]
    assert rows[0]["seq"] == max(r["seq"] for r in _rows(copy, "SELECT seq FROM events"))
    assert evkit("verify", str(copy)).returncode == 0


def test_output_name_stays_inside_data_exports(case: Path, tmp_path: Path) -> None:
    copy = tmp_path / "case"
    shutil.copytree(case, copy)
    evkit("export", str(copy), "--format", "dfxml", "--output", "listing.xml", check=True)
    assert ET.parse(copy / "data" / "exports" / "listing.xml").getroot().get("version") == "1.2.0"
    for bad in ("../escape.xml", "/tmp/escape.xml", "..", "sub/dir.xml", ".hidden"):
        assert_one_line_error(evkit("export", str(copy), "--format", "dfxml", "--output", bad), 2)
    assert not (copy / "data" / "escape.xml").exists() and not (copy / "escape.xml").exists()
    assert evkit("verify", str(copy)).returncode == 0


def test_interrupted_export_resumes_cleanly_under_another_name(case: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from evkit.case.case import Case
    from evkit.exporters import export_case

    copy = tmp_path / "case"
    shutil.copytree(case, copy)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the run dies after its file and row, before its custody event

    with Case(copy) as c:
        monkeypatch.setattr(c.custody, "append", killed)
        with pytest.raises(KeyboardInterrupt):
            export_case(c, "dfxml", "first.dfxml")
    assert (copy / "data" / "exports" / "first.dfxml").is_file()
    assert evkit("verify", str(copy)).returncode == 1  # an unfinished run is never "intact"
    evkit("export", str(copy), "--format", "dfxml", "--output", "second.dfxml", check=True)
    assert not (copy / "data" / "exports" / "first.dfxml").exists()
    paths = {r["stored_path"] for r in _rows(copy, "SELECT stored_path FROM outputs")}
    assert "data/exports/second.dfxml" in paths and "data/exports/first.dfxml" not in paths
    assert evkit("verify", str(copy)).returncode == 0
