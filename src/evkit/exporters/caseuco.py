"""CASE/UCO (CASE ontology 1.x) JSON-LD description of a case: its investigation, custody and artefacts.

The graph, one node per line so large cases stream and diff well:

* the case as a ``case-investigation:Investigation`` named by its case number;
* each custody event as a ``case-investigation:InvestigativeAction``: name = the action, ``endTime`` =
  the event's time, performer = the examiner (``uco-identity:Person``), instrument = evkit at the
  version that ran it (``uco-tool:Tool``), objects = the evidence it read, results = what it made
  (the registered evidence item and its ``ProvenanceRecord`` with the evidence number as exhibit
  number; the extracted artefacts; the export or report files it wrote). The custody log records when
  an event was written, not when its run started, so actions carry no ``startTime``;
* each evidence item: a disk image is a ``uco-observable:Image`` whose ``ContentDataFacet`` holds the
  size and hashes of the acquired media (what an E01's stored hashes verify), ``Contained_Within``
  each evidence file (``uco-observable:File`` with its own name, size and SHA-256). The two are kept
  apart because an E01's bytes are not the media's bytes. A logical source (folder, archive) is the
  ``File``/``Directory`` itself;
* each artefact as a ``uco-observable:File`` (``FileFacet``: name, in-evidence path, size, times;
  ``ContentDataFacet``: MD5 and SHA-256), ``Contained_Within`` its evidence item through a
  ``uco-observable:ObservableRelationship`` whose ``PathRelationFacet`` gives the in-evidence path.

Node IRIs are stable (``kb:evkit-<case number>-artefact-<id>-<uuid>``): the UUID is a version-5 UUID
of the same key, so exporting again gives the same IRIs, and UCO's advice that identifiers end in a
UUID holds. Hash methods are plain strings from UCO's HashNameVocab ("MD5", "SHA256"), as UCO 1.4+
asks (a vocabulary-typed literal draws a warning there). The export run's own custody event is
written after the file, so it appears in the next export, not in this one.
"""

from __future__ import annotations

import itertools
import json
import shlex
import urllib.parse
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, BinaryIO

from evkit import __version__
from evkit.jsontext import dumps

if TYPE_CHECKING:
    from evkit.exporters import ExportSource

CONTEXT = {
    "kb": "urn:evkit:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_IRI_NAMESPACE = uuid.UUID("5b0e7f3c-64a4-5a3c-9d52-6f1d3e0c8a17")
_HASH_NAMES = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256"}


class _Iris:
    """Stable node identifiers for one case: ``kb:evkit-<case>-<key>-<uuid5 of case and key>``."""

    def __init__(self, case_number: str) -> None:
        self.case_number = case_number
        self.prefix = f"kb:evkit-{_quote(case_number)}-"

    def __call__(self, *key: object) -> str:
        local = "-".join(_quote(str(k)) for k in key)
        return f"{self.prefix}{local}-{uuid.uuid5(_IRI_NAMESPACE, json.dumps([self.case_number, *map(str, key)]))}"


def _quote(text: str) -> str:
    """Percent-encode everything but unreserved characters, so any case or evidence number makes an IRI."""
    return urllib.parse.quote(text, safe="")


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def _time(value: str | None) -> dict[str, str] | None:
    return {"@type": "xsd:dateTime", "@value": value} if value else None


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    """Drop unknown (None) and empty values, in lists too: absent facts are left out, never written as empty."""
    out = {}
    for key, value in node.items():
        if isinstance(value, list):
            value = [v for v in value if v is not None]
        if value is not None and value != [] and value != "":
            out[key] = value
    return out


def _content_facet(iris: _Iris, owner: tuple[object, ...], size: int | None,
                   hashes: dict[str, str | None]) -> dict[str, Any] | None:
    found = [(algo, value) for algo, value in hashes.items() if value]
    if size is None and not found:
        return None
    return _compact({
        "@id": iris(*owner, "content-data-facet"),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:sizeInBytes": size,
        "uco-observable:hash": [{
            "@id": iris(*owner, "hash", algo),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": _HASH_NAMES[algo],
            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": value},
        } for algo, value in found],
    })


def _relationship(iris: _Iris, owner: tuple[object, ...], source: str, target: str, path: str | None) -> dict[str, Any]:
    """``source`` Contained_Within ``target``, with the path of ``source`` inside ``target`` when known."""
    return _compact({
        "@id": iris(*owner, "contained-within"),
        "@type": "uco-observable:ObservableRelationship",
        "uco-core:source": _ref(source),
        "uco-core:target": _ref(target),
        "uco-core:kindOfRelationship": "Contained_Within",
        "uco-core:isDirectional": True,
        "uco-core:hasFacet": [{
            "@id": iris(*owner, "path-relation-facet"),
            "@type": "uco-observable:PathRelationFacet",
            "uco-observable:path": path,
        }] if path else None,
    })


class _Graph:
    """Streams ``{"@context": ..., "@graph": [...]}``: one node per line, big reference lists streamed too."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._first = True
        self.nodes: list[str] = []   # top-level IRIs the Investigation lists (artefacts excepted)

    def _write(self, text: str) -> None:
        self._fh.write(text.encode("utf-8"))

    def start(self) -> None:
        self._write('{\n"@context": ' + json.dumps(CONTEXT, indent=1) + ',\n"@graph": [')

    def add(self, node: dict[str, Any], listed: bool = True, key: str | None = None,
            refs: Iterable[str] = ()) -> None:
        """One node; ``refs`` (IRIs) become the list under ``key``, written without building it in memory."""
        text = dumps(_compact(node))
        self._write(("\n" if self._first else ",\n") + (text[:-1] if key is not None else text))
        self._first = False
        if key is not None:
            wrote = False
            for iri in refs:
                self._write((", " if wrote else f', "{key}": [') + json.dumps(_ref(iri)))
                wrote = True
            self._write("]}" if wrote else "}")
        if listed:
            self.nodes.append(node["@id"])

    def end(self) -> None:
        self._write("\n]\n}\n")


def write(src: "ExportSource", fh: BinaryIO) -> int:
    """Write the CASE/UCO JSON-LD graph for the case to ``fh``; returns the number of artefacts described."""
    case = src.case
    iris = _Iris(str(case.meta.get("case_number", "")))
    g = _Graph(fh)
    g.start()
    people = {name: iris("examiner", name) for name in sorted({str(e.get("examiner", "")) for e in src.events})}
    tools = {v: iris("tool", "evkit", v) for v in sorted({str(e.get("evkit_version") or __version__) for e in src.events})}
    for name, iri in people.items():
        g.add({"@id": iri, "@type": "uco-identity:Person", "uco-core:name": name})
    for version, iri in tools.items():
        g.add({"@id": iri, "@type": "uco-tool:Tool", "uco-core:name": "evkit", "uco-tool:version": version,
               "uco-tool:toolType": "Forensic evidence processing"})
    items = case.evidence()
    evidence = {ev["number"]: _evidence(g, iris, ev) for ev in items}
    db = case.store.db
    for event in src.events:
        seq = event.get("seq")
        objects = [iri for i in event.get("inputs") or [] for iri in _input_iris(evidence, event, i)]
        results = [iri for o in event.get("outputs") or [] for iri in _output_iris(g, iris, evidence, event, o)]
        node = {
            "@id": iris("action", seq),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": event.get("action"),
            "uco-core:description": _describe(event),
            "uco-action:endTime": _time(event.get("time")),
            "uco-action:performer": _ref(people[str(event.get("examiner", ""))]),
            "uco-action:instrument": _ref(tools[str(event.get("evkit_version") or __version__)]),
            "uco-action:object": [_ref(i) for i in objects],
        }
        made = (iris("artefact", r[0]) for r in db.execute("SELECT id FROM artefacts WHERE seq=? ORDER BY id", (seq,)))
        g.add(node, key="uco-action:result", refs=itertools.chain(results, made))
    count = 0
    evidence_by_id = {ev["id"]: evidence[ev["number"]][0] for ev in items}
    for row in db.execute("SELECT * FROM artefacts ORDER BY id"):
        _artefact(g, iris, row, evidence_by_id[row["evidence_id"]])
        count += 1
    everything = itertools.chain(list(g.nodes), (iris("artefact", r[0]) for r in db.execute("SELECT id FROM artefacts ORDER BY id")))
    g.add({
        "@id": iris("investigation"),
        "@type": "case-investigation:Investigation",
        "uco-core:name": case.meta.get("case_number"),
        "uco-core:description": case.meta.get("notes"),
        "uco-core:objectCreatedTime": _time(case.meta.get("created")),
    }, listed=False, key="uco-core:object", refs=everything)
    g.end()
    return count


def _describe(event: dict[str, Any]) -> str:
    command = event.get("command") or []
    return (f"custody event {event.get('seq')} (sha256 {event.get('hash')}) on {event.get('host')} as {event.get('user')}: "
            f"{shlex.join(command)}")


def _input_iris(evidence: dict[str, tuple[str, list[str]]], event: dict[str, Any], item: dict[str, Any]) -> list[str]:
    """What an event read: evidence-add examines the evidence files, later actions the evidence item."""
    known = evidence.get(str(item.get("evidence_number")))
    if known is None:
        return []
    item_iri, file_iris = known
    return file_iris if event.get("action") == "evidence-add" and file_iris else [item_iri]


def _output_iris(g: _Graph, iris: _Iris, evidence: dict[str, tuple[str, list[str]]], event: dict[str, Any],
                 out: dict[str, Any]) -> list[str]:
    """What an event made: a registered evidence item (and its record), or a file written into the case."""
    seq = event.get("seq")
    if event.get("action") == "evidence-add" and str(out.get("evidence_number")) in evidence:
        number = str(out["evidence_number"])
        record = iris("provenance-record", number)
        g.add({"@id": record, "@type": "case-investigation:ProvenanceRecord",
               "case-investigation:exhibitNumber": number, "uco-core:object": [_ref(evidence[number][0])]})
        return [evidence[number][0], record]
    if out.get("path") and out.get("sha256"):
        path = str(out["path"])
        iri = iris("output", seq, path)
        g.add({"@id": iri, "@type": "uco-observable:File", "uco-core:hasFacet": [
            _compact({"@id": iris("output", seq, path, "file-facet"), "@type": "uco-observable:FileFacet",
                      "uco-observable:fileName": path.rsplit("/", 1)[-1], "uco-observable:filePath": path,
                      "uco-observable:sizeInBytes": out.get("size")}),
            _content_facet(iris, ("output", seq, path), out.get("size"), {"md5": out.get("md5"), "sha256": out.get("sha256")}),
        ]})
        return [iri]
    return []


def _evidence(g: _Graph, iris: _Iris, ev: Any) -> tuple[str, list[str]]:
    """Write an evidence item (and its evidence files); returns its IRI and theirs."""
    number = ev["number"]
    item = iris("evidence", number)
    hashes = {"md5": ev["md5"], "sha1": ev["sha1"], "sha256": ev["sha256"]}
    files = json.loads(ev["files"])
    file_facet = _compact({
        "@id": iris("evidence", number, "file-facet"),
        "@type": "uco-observable:FileFacet",
        "uco-observable:fileName": ev["source_name"],
        "uco-observable:filePath": ev["source_path"],
        "uco-observable:sizeInBytes": ev["source_size"] if files else None,
        "uco-observable:modifiedTime": _time(ev["source_mtime"]),
        "uco-observable:isDirectory": None if files else True,
    })
    if ev["kind"] != "disk":
        g.add({"@id": item, "@type": "uco-observable:File" if files else "uco-observable:Directory",
               "uco-core:name": number, "uco-core:description": ev["description"],
               "uco-core:hasFacet": [file_facet, _content_facet(iris, ("evidence", number), ev["media_size"], hashes)]})
        return item, []
    g.add({"@id": item, "@type": "uco-observable:Image", "uco-core:name": number, "uco-core:description": ev["description"],
           "uco-core:hasFacet": [
               {"@id": iris("evidence", number, "image-facet"), "@type": "uco-observable:ImageFacet",
                "uco-observable:imageType": ev["format"]},
               _content_facet(iris, ("evidence", number), ev["media_size"], hashes),
           ]})
    file_iris = []
    for index, f in enumerate(files, start=1):
        owner = ("evidence", number, "file", index)
        file_iri = iris(*owner)
        g.add({"@id": file_iri, "@type": "uco-observable:File", "uco-core:hasFacet": [
            _compact({"@id": iris(*owner, "file-facet"), "@type": "uco-observable:FileFacet",
                      "uco-observable:fileName": f["name"], "uco-observable:filePath": f["path"],
                      "uco-observable:sizeInBytes": f["size"], "uco-observable:modifiedTime": _time(f.get("mtime"))}),
            _content_facet(iris, owner, f["size"], {"sha256": f["sha256"]}),
        ]})
        g.add(_relationship(iris, owner, item, file_iri, None))
        file_iris.append(file_iri)
    return item, file_iris


def _artefact(g: _Graph, iris: _Iris, row: Any, evidence_iri: str) -> None:
    owner = ("artefact", row["id"])
    iri = iris(*owner)
    path = row["path"]
    g.add({"@id": iri, "@type": "uco-observable:File", "uco-core:hasFacet": [
        _compact({
            "@id": iris(*owner, "file-facet"),
            "@type": "uco-observable:FileFacet",
            "uco-observable:fileName": path.rsplit("/", 1)[-1],
            "uco-observable:filePath": path,
            "uco-observable:sizeInBytes": row["size"],
            "uco-observable:allocationStatus": "Deleted" if row["deleted"] else "Allocated",
            "uco-observable:modifiedTime": _time(row["mtime"]),
            "uco-observable:accessedTime": _time(row["atime"]),
            "uco-observable:metadataChangeTime": _time(row["ctime"]),
            "uco-observable:observableCreatedTime": _time(row["crtime"]),
        }),
        _content_facet(iris, owner, row["size"], {"md5": row["md5"], "sha256": row["sha256"]}),
    ]}, listed=False)
    g.add(_relationship(iris, owner, iri, evidence_iri, path), listed=False)
