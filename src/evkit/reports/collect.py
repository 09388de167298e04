"""What a report shows, read once from ``case.db``: case facts, evidence, records grouped by artefact
type, the timeline, located records and examiner tags.

Records are kept compactly (one tuple per record, the data values in a list whose positions the
group's columns name), so 200,000 records fit comfortably in memory and every format is written
from the same reading. Times stay as stored, UTC with ``Z``; with a display zone, each UTC time
column gets a companion column in that zone, marked with its offset and the zone's abbreviation.
"""

from __future__ import annotations

import json
import platform
import re
import sqlite3
import string
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from evkit import __version__
from evkit.case.case import Case
from evkit.case.custody import now_utc, read_events
from evkit.profiles.model import Artifact, Profile
from evkit.reports.contacts import ContactNames
from evkit.reports.safe import cell_text, slug

# A record's fixed fields (the data values follow in R_VALS).
R_ID, R_EV, R_TS, R_SRC, R_REF, R_PV, R_VALS = range(7)

UTC_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$")


def sort_key(ts: str | None) -> str:
    """A key that orders UTC ISO-8601 times correctly whatever their fraction (``...28Z`` < ``...28.5Z``)."""
    if not ts:
        return "\uffff"
    m = UTC_RE.match(ts)
    if m is None:
        return ts
    return m.group(1) + (m.group(2) or ".").ljust(10, "0")


def in_zone(ts: Any, zone: ZoneInfo) -> str | None:
    """A UTC ``...Z`` time in ``zone``: ``2013-10-29T17:56:28.038+01:00 (CET)``; None when not such a time."""
    if not isinstance(ts, str):
        return None
    m = UTC_RE.match(ts)
    if m is None:
        return None
    try:
        local = datetime.fromisoformat(m.group(1)).replace(tzinfo=timezone.utc).astimezone(zone)
    except (ValueError, OverflowError):
        return None
    off = local.strftime("%z")
    return f"{local.strftime('%Y-%m-%dT%H:%M:%S')}{m.group(2) or ''}{off[:3]}:{off[3:]} ({local.tzname()})"


def compile_template(template: str | None) -> list[tuple[str, str | None]]:
    """A ``timeline.description`` template as (literal text, field name or None) pairs."""
    if not template:
        return []
    try:
        return [(literal, name) for literal, name, _spec, _conv in string.Formatter().parse(template)]
    except ValueError:
        return [(template, None)]


def fill_template(parts: list[tuple[str, str | None]], data: dict[str, Any]) -> str:
    out: list[str] = []
    for literal, name in parts:
        out.append(literal)
        if name is not None:
            v = data.get(name)
            if v is not None:
                out.append(v if type(v) is str else cell_text(v))
    return "".join(out).strip()


def render_template(template: str | None, data: dict[str, Any]) -> str:
    """A profile's ``timeline.description`` filled from the record: a missing or null key is empty.

    Only plain ``{name}`` fields are looked up (no attribute or index access; format specs and
    conversions are ignored), so a template can never reach into Python objects.
    """
    return fill_template(compile_template(template), data)


@dataclass
class Col:
    """One data column of a group: where its values are in a record, its label and kind.

    ``kind``: ``utc`` (UTC time with Z), ``zoned`` (the same time in the display zone), ``local``
    (a clock time whose zone is unknown, e.g. EXIF camera time), ``raw`` (the stored value beside a
    converted one) or ``text`` (anything else).
    """

    key: str
    label: str
    kind: str
    index: int


@dataclass
class Source:
    locator: str
    sha256: str
    evidence: str
    stored_path: str
    artefact_id: int


@dataclass
class Group:
    """The records of one artefact type (profile id + artifact name)."""

    number: int
    profile: str
    artifact: str
    profile_def: Profile | None
    artifact_def: Artifact | None
    columns: list[Col] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    chat: dict[str, int] | None = None       # chat role -> value index
    location: tuple[int, int] | None = None  # (latitude, longitude) value indexes
    contact: tuple[int, list[int]] | None = None  # (name, identifier...) value indexes
    parties: list[tuple[str | None, str | None]] | None = None  # chat rows: (sender, thread) contact names
    without_time: int = 0
    located: int = 0

    @property
    def title(self) -> str:
        return f"{self.profile} / {self.artifact}"

    @property
    def name(self) -> str:
        """Display name: the profile's name when it is known."""
        if self.profile_def is not None:
            return f"{self.profile_def.name}: {self.artifact}"
        return self.title

    @property
    def page(self) -> str:
        return f"a{self.number:03d}-{slug(self.profile, 40)}-{slug(self.artifact, 30)}"

    @property
    def description(self) -> str:
        return self.artifact_def.description if self.artifact_def is not None else ""


@dataclass
class TimelineEntry:
    key: str
    group: int
    row: int
    description: str
    local: str | None = None  # a clock time of unknown zone, when the record has no UTC time


@dataclass
class Located:
    group: int
    row: int
    latitude: float
    longitude: float


@dataclass
class Tag:
    record_id: int
    tag: str | None
    note: str | None
    examiner: str
    time: str


@dataclass
class ReportData:
    meta: dict[str, Any]
    evidence: list[dict[str, Any]]
    groups: list[Group]
    sources: list[Source]
    timeline: list[TimelineEntry]
    located: list[Located]
    tags: dict[int, list[Tag]]
    tag_rows: list[Tag]
    profiles: dict[str, Profile]
    profile_versions: list[dict[str, Any]]
    versions: list[tuple[str, str]]
    generated: str
    zone: ZoneInfo | None
    zone_name: str | None
    custody_events: int
    custody_head: str | None
    seq: int
    records: int
    problems: list[str] = field(default_factory=list)

    @property
    def tagged_records(self) -> int:
        """How many records carry a tag or note (a record with three tags counts once)."""
        return len({t.record_id for t in self.tag_rows})

    @cached_property
    def records_by_evidence(self) -> dict[str, dict[str, int]]:
        """Evidence number -> profile -> records; an item that gave nothing is absent."""
        out: dict[str, dict[str, int]] = {}
        for g in self.groups:
            for r in g.rows:
                per = out.setdefault(str(r[R_EV]), {})
                per[g.profile] = per.get(g.profile, 0) + 1
        return out

    def zoned(self, ts: Any) -> str | None:
        return in_zone(ts, self.zone) if self.zone is not None else None

    def tag_text(self, record_id: int) -> str:
        """The examiner's tags and notes on one record, as one line."""
        items = self.tags.get(record_id)
        if not items:
            return ""
        return "; ".join(tag_line(t) for t in items)


def tag_line(t: Tag) -> str:
    parts = []
    if t.tag:
        parts.append(f"[{t.tag}]")
    if t.note:
        parts.append(t.note)
    parts.append(f"({t.examiner}, {t.time})")
    return " ".join(parts)


def row_ref(table: str | None, rowid: int | None, index: int | None) -> str:
    if rowid is not None:
        return f"{table or 'row'} rowid={rowid}"
    if index is not None:
        return f"{table + ' ' if table else ''}index={index}"
    return table or ""


def library_versions() -> list[tuple[str, str]]:
    from importlib import metadata

    from evkit.sources.filesystems.tsk_native import walker_tsk_version

    out = [("evkit", __version__), ("Python", platform.python_version()), ("SQLite", sqlite3.sqlite_version)]
    try:
        import pytsk3

        out.append(("TSK in pytsk3 (every read but `evkit ls` listings)", str(pytsk3.TSK_VERSION_STR)))
    except ImportError:
        pass
    walker = walker_tsk_version()
    out.append(("TSK of the C walker (`evkit ls` listings)", f"system libtsk {walker}" if walker else "not built"))
    for dist in ("pytsk3", "libewf-python", "libvmdk-python", "libvhdi-python", "libqcow-python",
                 "libfsapfs-python", "python-magic", "ExifRead", "PyYAML", "jsonschema",
                 "Pillow", "weasyprint"):
        try:
            out.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            out.append((dist, "not installed"))
    return out


def _declared_order(art: Artifact | None) -> list[str]:
    return list(art.columns) if art is not None else []


def collect(case: Case, zone_name: str | None, profiles: dict[str, Profile], seq: int) -> ReportData:
    db = case.store.db
    zone = ZoneInfo(zone_name) if zone_name else None
    events, _ = read_events(case.custody.path)
    evidence = case.evidence()
    ev_number = {e["id"]: e["number"] for e in evidence}
    artefacts = {r[0]: r[1] for r in db.execute("SELECT id, stored_path FROM artefacts WHERE id IN (SELECT DISTINCT artefact_id FROM records)")}

    tags: dict[int, list[Tag]] = {}
    tag_rows: list[Tag] = []
    for r in db.execute("SELECT record_id, tag, note, examiner, time FROM tags ORDER BY id"):
        t = Tag(r[0], r[1], r[2], r[3], r[4])
        tags.setdefault(t.record_id, []).append(t)
        tag_rows.append(t)

    data = ReportData(meta=dict(case.meta), evidence=evidence, groups=[], sources=[], timeline=[], located=[],
                      tags=tags, tag_rows=tag_rows, profiles=profiles, profile_versions=[],
                      versions=library_versions(), generated=now_utc(), zone=zone, zone_name=zone_name,
                      custody_events=len(events), custody_head=events[-1]["hash"] if events else None, seq=seq,
                      records=0)
    for r in db.execute("SELECT profile, profile_version, count(*) FROM records GROUP BY profile, profile_version ORDER BY profile, profile_version"):
        p = profiles.get(r[0])
        data.profile_versions.append({"profile": r[0], "version": r[1], "records": r[2],
                                      "loaded": p.version if p else None,
                                      "name": p.name if p else None,
                                      "origin": _origin(p)})

    source_index: dict[tuple[int, str, str], int] = {}
    pairs = [(r[0], r[1]) for r in db.execute("SELECT DISTINCT profile, artifact FROM records ORDER BY profile, artifact")]
    for number, (profile, artifact) in enumerate(pairs, start=1):
        pdef = profiles.get(profile)
        adef = pdef.artifacts.get(artifact) if pdef is not None else None
        group = Group(number, profile, artifact, pdef, adef)
        _load_group(db, group, data, ev_number, artefacts, source_index, len(data.groups))
        data.groups.append(group)
        data.records += len(group.rows)
    data.timeline.sort(key=lambda e: (e.key, data.groups[e.group].rows[e.row][R_ID]))
    _name_parties(data.groups)
    return data


def _name_parties(groups: list[Group]) -> None:
    """Give chat rows the contact names of their sender and thread (see ``reports.contacts``)."""
    names = ContactNames()
    for g in groups:
        if g.contact is not None:
            ni, ids = g.contact
            for r in g.rows:
                for i in ids:
                    names.add(r[R_EV], r[R_VALS][i], r[R_VALS][ni])
    if not names:
        return
    for g in groups:
        if not g.chat or ("sender" not in g.chat and "thread" not in g.chat):
            continue
        si, ti = g.chat.get("sender"), g.chat.get("thread")
        parties = [(names.name(r[R_EV], r[R_VALS][si]) if si is not None else None,
                    names.name(r[R_EV], r[R_VALS][ti]) if ti is not None else None) for r in g.rows]
        if any(a or b for a, b in parties):
            g.parties = parties


def _origin(p: Profile | None) -> str | None:
    if p is None or p.origin is None:
        return None
    from evkit.profiles.loader import builtin_dir

    try:
        p.origin.relative_to(builtin_dir())
        return "built-in"
    except ValueError:
        return str(p.origin)


def _load_group(db: sqlite3.Connection, group: Group, data: ReportData, ev_number: dict[int, str],
                artefacts: dict[int, str], source_index: dict[tuple[int, str, str], int], gi: int) -> None:
    keys: list[str] = []
    index: dict[str, int] = {}
    layouts: dict[tuple[str, ...], list[int] | None] = {}
    art = group.artifact_def
    template = compile_template(art.timeline_description if art is not None else None)
    loc_keys: tuple[str, str] | None = None
    if art is not None and art.location:
        loc_keys = (art.location.get("latitude", "latitude"), art.location.get("longitude", "longitude"))
    # Columns holding a clock time whose zone is unknown (EXIF): a record with no UTC time is put
    # in the timeline by that clock, marked, rather than left out of it.
    local_keys = [k for k, c in (art.columns.items() if art is not None else ()) if c.type == "timestamp" and c.format == "exif"]
    rows = group.rows
    sql = ("SELECT id, evidence_id, artefact_id, timestamp, locator, source_sha256, row_table, row_id, row_index,"
           " profile_version, data FROM records WHERE profile=? AND artifact=? ORDER BY timestamp IS NULL, timestamp, id")
    for (rid, ev_id, art_id, ts, locator, sha, table, rowid, rowindex, pv, text) in db.execute(sql, (group.profile, group.artifact)):
        try:
            d = json.loads(text)
            if not isinstance(d, dict):
                d = {"value": d}
        except ValueError:
            d = {"data (not JSON)": text}
        k = tuple(d)
        layout = layouts.get(k, False)
        if layout is False:
            for name in k:
                if name not in index:
                    index[name] = len(keys)
                    keys.append(name)
            positions = [index[name] for name in k]
            layout = None if positions == list(range(len(k))) else positions
            layouts[k] = layout
        if layout is None:
            vals = list(d.values())
        else:
            vals = [None] * (max(layout) + 1 if layout else 0)
            for i, v in zip(layout, d.values()):
                vals[i] = v
        sk = (art_id, locator, sha)
        si = source_index.get(sk)
        if si is None:
            si = source_index[sk] = len(data.sources)
            data.sources.append(Source(locator, sha, ev_number.get(ev_id, str(ev_id)), artefacts.get(art_id, ""), art_id))
        pos = len(rows)
        rows.append((rid, ev_number.get(ev_id, str(ev_id)), ts, si, row_ref(table, rowid, rowindex), pv, vals))
        group.versions[pv] += 1
        local = None if ts else next((v for v in (d.get(k) for k in local_keys) if isinstance(v, str) and v), None)
        if ts or local:
            desc = fill_template(template, d) if template else fallback_description(d)
            if local:
                desc = f"[local clock, zone unknown: {local}] {desc}"
            data.timeline.append(TimelineEntry(sort_key(ts or f"{local}Z"), gi, pos, desc, local))
        if not ts:
            group.without_time += 1
        lk = loc_keys or ("latitude", "longitude")
        if lk[0] in d and lk[1] in d:
            lat, lon = _coordinate(d.get(lk[0]), 90), _coordinate(d.get(lk[1]), 180)
            if lat is not None and lon is not None:
                if group.location is None:
                    group.location = (index[lk[0]], index[lk[1]])
                data.located.append(Located(gi, pos, lat, lon))
                group.located += 1
    width = len(keys)
    for r in rows:  # every record's values as long as the group's column list
        vals = r[R_VALS]
        if len(vals) < width:
            vals.extend([None] * (width - len(vals)))
    group.columns = _columns(group, keys, data.zone is not None)
    if art is not None and art.chat:
        group.chat = {role: index[col] for role, col in art.chat.items() if col in index}
        if not group.chat:
            group.chat = None
    if art is not None and art.contact and art.contact.get("name") in index:
        ids = [index[c] for c in art.contact.get("identifiers", []) if c in index]
        if ids:
            group.contact = (index[art.contact["name"]], ids)
    if data.zone is not None:
        _add_zoned(group, data)


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if f != f or not -limit <= f <= limit:
        return None
    return f


def fallback_description(d: dict[str, Any]) -> str:
    parts = []
    for k, v in d.items():
        if v is None or k.endswith("_raw") or isinstance(v, (dict, list)):
            continue
        parts.append(f"{k}: {cell_text(v)}")
        if len(parts) == 4:
            break
    text = "; ".join(parts)
    return text if len(text) <= 300 else text[:299] + "…"


ACRONYMS = frozenset({"url", "uri", "id", "jid", "uid", "guid", "uuid", "utc", "gps", "ip", "mac", "md5", "sha1", "sha256",
                      "sms", "mms", "imei", "imsi", "iccid", "msisdn", "html", "json", "pdu", "os", "ssid", "bssid"})


def heading(key: str) -> str:
    """A column heading for a value the profile gave no label: ``from_url`` -> ``From URL``.
    Reports show headings; the CSV keeps the key itself, which scripts rely on."""
    words = [w for w in key.replace("-", "_").split("_") if w]
    if not words:
        return key
    out = [w.upper() if w.lower() in ACRONYMS else w.lower() for w in words]
    out[0] = out[0][0].upper() + out[0][1:]
    return " ".join(out)


def _columns(group: Group, keys: list[str], zoned: bool) -> list[Col]:
    art = group.artifact_def
    declared = art.columns if art is not None else {}
    order = [k for k in _declared_order(art) if k in keys] + [k for k in keys if k not in declared]
    base = [k for k in order if not (k.endswith("_raw") and k[:-4] in keys)]
    index = {k: i for i, k in enumerate(keys)}
    cols: list[Col] = []
    for k in base:
        spec = declared.get(k)
        label = (spec.label if spec is not None and spec.label else heading(k))
        if spec is not None and spec.type == "timestamp":
            kind = "local" if spec.format == "exif" else "utc"
        elif _all_utc(group.rows, index[k]):
            kind = "utc"
        else:
            kind = "text"
        if kind == "utc" and "UTC" not in label:
            label += " (UTC)"
        elif kind == "local":
            label += " [local clock, zone unknown]"
        cols.append(Col(k, label, kind, R_VALS + index[k]))
        raw = k + "_raw"
        if raw in index:
            cols.append(Col(raw, f"{label} [raw]", "raw", R_VALS + index[raw]))
    return cols


def _all_utc(rows: list[tuple[Any, ...]], i: int) -> bool:
    seen = False
    for r in rows:
        vals = r[R_VALS]
        v = vals[i] if i < len(vals) else None
        if v is None:
            continue
        if not isinstance(v, str) or UTC_RE.match(v) is None:
            return False
        seen = True
    return seen


def _add_zoned(group: Group, data: ReportData) -> None:
    """After each UTC column, the same time in the display zone (a new value at the end of each row)."""
    out: list[Col] = []
    for col in group.columns:
        out.append(col)
        if col.kind != "utc":
            continue
        vi = col.index - R_VALS
        new = max((len(r[R_VALS]) for r in group.rows), default=0)
        for r in group.rows:
            vals = r[R_VALS]
            if len(vals) < new:
                vals.extend([None] * (new - len(vals)))
            vals.append(data.zoned(vals[vi] if vi < len(vals) else None))
        label = col.label[:-len(" (UTC)")] if col.label.endswith(" (UTC)") else col.label
        out.append(Col(col.key + "@" + (data.zone_name or ""), f"{label} ({data.zone_name})", "zoned", R_VALS + new))
    group.columns = out


def value(row: tuple[Any, ...], col: Col) -> Any:
    vals = row[R_VALS]
    i = col.index - R_VALS
    return vals[i] if i < len(vals) else None
