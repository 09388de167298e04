"""DFXML (Digital Forensics XML, schema 1.2.0) listing of every artefact in a case.

The document follows what fiwalk writes, so DFXML tools read it as they read fiwalk's output:
``<metadata>`` (Dublin Core), ``<creator>`` (evkit, its version and this export's command line),
then one ``<source>`` per evidence item (its files, the acquired media's size and hashes) and one
``<fileobject>`` per extracted artefact, its children in the schema's order.

What is left out rather than guessed:

* ``<byte_runs>``: evkit does not record where an artefact's bytes lie in the image, so there are
  none; a reader must not take their absence to mean the file is resident or empty.
* ``<name_type>``/``<meta_type>``: the case store does not keep TSK's types (evkit only extracts
  entries it classified as files or alternate data streams).
* ``<parent_object>``, ``<mode>``, ``<uid>``/``<gid>``, NTFS ``<seq>``: not stored either.

A case can hold several evidence items while DFXML describes files without saying which image they
came from, so each ``<source>`` and ``<fileobject>`` also carries elements in evkit's own namespace
(evidence number, locator, path of the copy in the case), which DFXML readers keep as "externals".
``<filename>`` is evkit's in-evidence path (``/vol2/Users/...``, including the mount of its volume),
the same text as the artefact's ``path`` column; ``<partition>`` numbers the evidence item's
filesystems from 1 in the order evkit found them, as fiwalk does.

Every text goes through :func:`xml_text`: XML 1.0 cannot carry most control characters at all (and
turns CR into LF), so those are written ``\\xNN``, the convention evkit already uses for names, and a
hostile file name can neither break the document nor change its meaning.
"""

from __future__ import annotations

import json
import platform
import re
import shlex
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from evkit import __version__, names

if TYPE_CHECKING:
    from evkit.exporters import ExportSource

DFXML_VERSION = "1.2.0"
NS_DFXML = "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_DELTA = "http://www.forensicswiki.org/wiki/Forensic_Disk_Differencing"
NS_EVKIT = "urn:evkit:dfxml-extension:1"

# XML 1.0 "Char" is TAB, LF, CR and U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF; CR is listed
# too because a parser reads it back as LF.
_NOT_XML = re.compile("[^\t\n\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry (or would alter) written as ``\\xNN`` per byte."""
    return _NOT_XML.sub(lambda m: "".join(f"\\x{b:02x}" for b in names.encode(m.group(0))), text)


def _attributes(attrs: dict[str, str] | None) -> AttributesImpl:
    return AttributesImpl({k: xml_text(v) for k, v in (attrs or {}).items()})


class _Doc:
    """A streaming, indented XML writer: a case can have millions of artefacts, so no tree is built."""

    def __init__(self, fh: BinaryIO) -> None:
        self._g = XMLGenerator(fh, encoding="utf-8", short_empty_elements=True)
        self._depth = 0
        self._root_open = False

    def _newline(self) -> None:
        """Indent every line but the root's, which follows the XML declaration's own newline."""
        if self._root_open:
            self._g.ignorableWhitespace("\n" + "  " * self._depth)
        self._root_open = True

    @contextmanager
    def element(self, tag: str, attrs: dict[str, str] | None = None) -> Iterator[None]:
        self._newline()
        self._g.startElement(tag, _attributes(attrs))
        self._depth += 1
        yield
        self._depth -= 1
        self._newline()
        self._g.endElement(tag)

    def leaf(self, tag: str, value: object, attrs: dict[str, str] | None = None) -> None:
        """``<tag>value</tag>``; nothing at all when the value is unknown (None or empty)."""
        if value is None or value == "":
            return
        self._newline()
        self._g.startElement(tag, _attributes(attrs))
        self._g.characters(xml_text(str(value)))
        self._g.endElement(tag)

    def start(self) -> None:
        self._g.startDocument()

    def end(self) -> None:
        self._g.ignorableWhitespace("\n")
        self._g.endDocument()


def _partitions(info: dict[str, Any]) -> list[str]:
    """Locator prefixes of a disk image's filesystems; position + 1 is the DFXML partition number.

    A logical source (folder, archive) has no partitions, so its artefacts get no ``<partition>``.
    """
    if info.get("kind") != "disk":
        return []
    return [f"{fs['locator']} > " for fs in info.get("filesystems") or [] if fs.get("locator")]


def _partition(locator: str, prefixes: list[str]) -> int | None:
    for number, prefix in enumerate(prefixes, start=1):
        if locator.startswith(prefix):
            return number
    return None


def write(src: "ExportSource", fh: BinaryIO) -> int:
    """Write the DFXML document for the case to ``fh``; returns the number of ``<fileobject>`` elements."""
    case = src.case
    meta = case.meta
    doc = _Doc(fh)
    doc.start()
    with doc.element("dfxml", {"xmlns": NS_DFXML, "xmlns:dc": NS_DC, "xmlns:delta": NS_DELTA,
                               "xmlns:evkit": NS_EVKIT, "version": DFXML_VERSION}):
        with doc.element("metadata"):
            doc.leaf("dc:type", "Extracted files listing")
            doc.leaf("dc:identifier", meta.get("case_number"))
            doc.leaf("dc:creator", meta.get("examiner"))
            doc.leaf("dc:publisher", meta.get("agency"))
            doc.leaf("dc:description", meta.get("notes"))
        with doc.element("creator"):
            doc.leaf("program", "evkit")
            doc.leaf("version", __version__)
            with doc.element("execution_environment"):
                uname = platform.uname()
                doc.leaf("os_sysname", uname.system)
                doc.leaf("os_release", uname.release)
                doc.leaf("os_version", uname.version)
                doc.leaf("host", socket.gethostname())
                doc.leaf("arch", uname.machine)
                doc.leaf("command_line", shlex.join(src.command) if src.command else None)
                doc.leaf("start_time", src.started)
        evidence = {}
        for ev in case.evidence():
            evidence[ev["id"]] = (ev["number"], _partitions(json.loads(ev["info"])))
            _source(doc, ev)
        count = 0
        for row in case.store.db.execute("SELECT * FROM artefacts ORDER BY id"):
            number, prefixes = evidence[row["evidence_id"]]
            _fileobject(doc, row, number, _partition(row["locator"], prefixes))
            count += 1
    doc.end()
    return count


def _source(doc: _Doc, ev: Any) -> None:
    files = json.loads(ev["files"])
    with doc.element("source"):
        for f in files or [{"path": ev["source_path"]}]:
            doc.leaf("image_filename", f["path"])
        doc.leaf("image_size", ev["media_size"])
        for algo in ("md5", "sha1", "sha256"):
            doc.leaf("hashdigest", ev[algo], {"type": algo})
        doc.leaf("evkit:evidence_number", ev["number"])
        doc.leaf("evkit:description", ev["description"])
        doc.leaf("evkit:format", ev["format"])
        doc.leaf("evkit:verified", ev["verified"])
        for f in files:
            doc.leaf("evkit:evidence_file", f["path"], {"size": str(f["size"]), "sha256": f["sha256"]})


def _fileobject(doc: _Doc, row: Any, evidence_number: str, partition: int | None) -> None:
    with doc.element("fileobject"):
        doc.leaf("filename", row["path"])
        doc.leaf("partition", partition)
        doc.leaf("id", row["id"])
        doc.leaf("filesize", row["size"])
        doc.leaf("unalloc", row["deleted"])
        doc.leaf("alloc", 1 - row["deleted"])
        doc.leaf("inode", row["inode"])
        for stamp in ("mtime", "ctime", "atime", "crtime"):
            doc.leaf(stamp, row[stamp])
        doc.leaf("libmagic", row["magic"])
        doc.leaf("hashdigest", row["md5"], {"type": "md5"})
        doc.leaf("hashdigest", row["sha256"], {"type": "sha256"})
        doc.leaf("evkit:evidence_number", evidence_number)
        doc.leaf("evkit:locator", row["locator"])
        doc.leaf("evkit:stored_path", row["stored_path"])
