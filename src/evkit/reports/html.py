"""The HTML report: a folder of static pages that opens from a disk in any browser, offline.

Layout (all relative links, nothing from the network)::

    index.html                  front page: case, evidence and hashes, versions, summary
    timeline.html (+ .data.js)  every timed record in time order
    map.html (+ .data.js)       located records: an SVG plot (no map tiles) and their table
    tagged.html                 the examiner's tags and notes
    aNNN-<profile>-<artifact>.html (+ .data.js, + .chat.html for conversations)
    assets/report.css, assets/report.js
    thumbs/aNNN.jpg             small copies of located photos (Pillow), when it is installed

Static text is escaped with :func:`evkit.reports.safe.h`; table rows travel as a JSON document
inside a JavaScript string literal in a ``.data.js`` file, parsed with ``JSON.parse`` and put on
the page with ``textContent``. A Content-Security-Policy forbids inline script, any network
access and any load from outside the report's own files, so even a mistake could not run or fetch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from evkit.reports import assets
from evkit.reports.collect import R_EV, R_ID, R_PV, R_REF, R_SRC, R_TS, R_VALS, Group, ReportData, value
from evkit.reports.geo import svg_map
from evkit.reports.safe import css_string, h, js_data_file, js_value

CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
       "font-src 'none'; connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
       "base-uri 'none'; form-action 'none'")
MAP_POINTS = 20_000
THUMB_DIR = "thumbs"


def _bytes(n: Any) -> str:
    return f"{n:,} bytes" if isinstance(n, int) else '<span class="muted">size unknown</span>'


def _count(n: Any, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}" if isinstance(n, int) else f"? {what}s"


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as fh:
        fh.write(text)


class Pages:
    """Writes the folder; ``thumbs`` maps artefact ids to thumbnail file names made beforehand."""

    def __init__(self, data: ReportData, out: Path, thumbs: dict[int, str], fallback_images: bool) -> None:
        self.d = data
        self.out = out
        self.thumbs = thumbs
        self.fallback_images = fallback_images
        self.case_number = str(data.meta.get("case_number") or "")

    # -- shared pieces --------------------------------------------------------------------
    def times_note(self) -> str:
        d = self.d
        text = "All times are UTC (marked Z) unless marked otherwise."
        if d.zone_name:
            text += (f" Display zone: {h(d.zone_name)}. Times in it are shown beside the UTC time, marked with "
                     f"the zone name and their offset (e.g. +01:00); the UTC time stays the reference.")
        text += " Times marked “local clock, zone unknown” are as the device recorded them, without a zone."
        return text

    def page(self, title: str, body: str, current: str, scripts: tuple[str, ...] = (), view: str = "") -> str:
        d = self.d
        nav = [("index.html", "Front page"), ("timeline.html", "Timeline")]
        if d.located:
            nav.append(("map.html", "Map"))
        nav.append(("tagged.html", f"Tagged items ({d.tagged_records})"))
        links = " ".join(f'<a href="{href}"{" class=here" if href == current else ""}>{label}</a>' for href, label in nav)
        page_head = css_string(f"Case {self.case_number} · {title}")
        script_tags = "".join(f'<script src="{s}"></script>\n' for s in scripts)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="evkit">
<title>{h(title)} · case {h(self.case_number)}</title>
<link rel="stylesheet" href="assets/report.css">
<style>@page {{ @top-left {{ content: {page_head}; font-size: 8pt; color: #555; }} }}</style>
</head>
<body data-view="{h(view)}">
<header class="bar"><span class="case">Case {h(self.case_number)}</span> {links}</header>
<div class="times">{self.times_note()}</div>
<main>
{body}
</main>
{script_tags}</body>
</html>
"""

    def generated(self) -> str:
        d = self.d
        text = f"{h(d.generated)}"
        z = d.zoned(d.generated)
        if z:
            text += f" <span class=muted>= {h(z)} {h(d.zone_name)}</span>"
        return text

    # -- the folder -------------------------------------------------------------------------
    def write(self) -> None:
        out = self.out
        write_file(out / "assets" / "report.css", assets.CSS)
        write_file(out / "assets" / "report.js", assets.JS)
        write_file(out / "index.html", self.page("Front page", self.front(), "index.html"))
        for gi, g in enumerate(self.d.groups):
            self.artifact_pages(gi, g)
        self.timeline()
        if self.d.located:
            self.map_page()
        write_file(out / "tagged.html", self.page("Tagged items", self.tagged(), "tagged.html"))

    # -- front page ---------------------------------------------------------------------------
    def front(self) -> str:
        d, m = self.d, self.d.meta
        rows = [("Case number", h(m.get("case_number"))), ("Agency", h(m.get("agency"))),
                ("Examiner", h(m.get("examiner"))), ("Notes", h(m.get("notes"))),
                ("Case created", f"{h(m.get('created'))} by {h(m.get('created_by'))}"),
                ("Report generated", self.generated()),
                ("Time zone", "UTC" + (f"; display zone {h(d.zone_name)} shown beside it" if d.zone_name else "; no display zone")),
                ("Records", f"{d.records:,} from {len(d.groups)} artefact types"),
                ("Custody log", f"{d.custody_events} events before this report; last event hash <span class=mono>{h(d.custody_head)}</span>; "
                                f"this report is custody event {d.seq}")]
        parts = ["<h1>Case report</h1>", '<table class="facts">']
        parts += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
        parts.append("</table>")
        parts.append('<p class="note">Addresses (URLs) found in evidence are shown as text only; '
                     "nothing in this report is loaded from the network.</p>")
        parts.append(self.evidence_section())
        parts.append(self.summary_section())
        parts.append(self.versions_section())
        return "\n".join(parts)

    def evidence_section(self) -> str:
        out = ["<h2>Evidence</h2>"]
        if not self.d.evidence:
            out.append("<p>No evidence in this case.</p>")
        for e in self.d.evidence:
            try:
                stored = json.loads(e.get("stored_hashes") or "{}")
            except ValueError:
                stored = {}
            try:
                files = json.loads(e.get("files") or "[]")
            except ValueError:
                files = []
            verified = e.get("verified")
            if verified == 1:
                verdict = '<span class="ok">matched: the hashes evkit computed equal the acquisition hashes</span>'
            elif verified == 0:
                verdict = '<span class="bad">MISMATCH: the hashes evkit computed differ from the acquisition hashes</span>'
            else:
                verdict = '<span class="muted">no acquisition hash stored in the evidence to compare with</span>'
            stored_html = "<br>".join(f"{h(k)}: <span class=mono>{h(v)}</span>" for k, v in sorted(stored.items()) if not isinstance(v, (dict, list))) or "none"
            computed = "<br>".join(f"{k}: <span class=mono>{h(e.get(k))}</span>" for k in ("md5", "sha1", "sha256") if e.get(k)) or "none"
            files = [f for f in files if isinstance(f, dict)]
            folder = next((f for f in files if f.get("kind") == "folder"), None)
            file_rows = "<br>".join(f"{h(f.get('name'))} ({_bytes(f.get('size'))}) sha256 <span class=mono>{h(f.get('sha256'))}</span>"
                                    + (f" <span class=muted>over {_count(f.get('files'), 'file')}: SHA-256 of the sorted lines "
                                       "&ldquo;path, size, SHA-256&rdquo; of every file, links recorded by target, not followed</span>"
                                       if f.get("kind") == "folder" else "")
                                    for f in files)
            size = (f"{_bytes(folder.get('size'))} in {_count(folder.get('files'), 'file')}" if folder is not None
                    else _bytes(e.get("media_size") if e.get("media_size") is not None else e.get("source_size")))
            by_profile = self.d.records_by_evidence.get(str(e.get("number")), {})
            records = (f"{sum(by_profile.values()):,}: " + ", ".join(f"<span class=mono>{h(p)}</span> {n:,}" for p, n in sorted(by_profile.items()))
                       if by_profile else '0 <span class="muted">(no profile found anything in this item)</span>')
            rows = [("Description", h(e.get("description")) or '<span class="muted">none given</span>'),
                    ("Source", f"{h(e.get('source_name'))} <span class=muted>({h(e.get('source_path'))})</span>"),
                    ("Format", f"{h(e.get('format'))} ({h(e.get('kind'))})"),
                    ("Size", size),
                    ("Records", records),
                    ("Evidence files", file_rows or "none"),
                    ("Acquisition hashes (stored)", stored_html),
                    ("Hashes evkit computed", computed),
                    ("Verification", verdict)]
            if e.get("chunk_errors"):
                rows.append(("EWF chunk errors", f'<span class="bad">{h(e.get("chunk_errors"))}</span>'))
            out.append(f"<h3>{h(e.get('number'))}</h3><table class=\"facts\">")
            out += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
            out.append("</table>")
        return "\n".join(out)

    def summary_section(self) -> str:
        d = self.d
        tagged: dict[int, int] = {}
        ids = {t.record_id for t in d.tag_rows}
        for gi, g in enumerate(d.groups):
            tagged[gi] = sum(1 for r in g.rows if r[R_ID] in ids) if ids else 0
        out = ["<h2>Artefacts found</h2>",
               f'<p><a href="timeline.html">Timeline</a> ({len(d.timeline):,} records with a time)'
               + (f' · <a href="map.html">Map</a> ({len(d.located):,} located records)' if d.located else " · no located records")
               + f' · <a href="tagged.html">Tagged items</a> ({d.tagged_records} records)</p>',
               '<table class="grid"><thead><tr><th>Profile</th><th>Artefact type</th><th>Description</th><th>Records</th>'
               '<th>Without a time</th><th>Located</th><th>Tagged</th><th class="views">Views</th></tr></thead><tbody>']
        if not d.groups:
            out.append('<tr><td colspan="8">No records: run <code>evkit run</code> on the case first.</td></tr>')
        for gi, g in enumerate(d.groups):
            views = f'<a href="{g.page}.html">table</a>'
            if g.chat:
                views += f' · <a href="{g.page}.chat.html">conversations</a>'
            pname = h(g.profile_def.name) + "<br>" if g.profile_def is not None else ""
            out.append(f"<tr><td>{pname}<span class=mono>{h(g.profile)}</span></td><td>{h(g.artifact)}</td><td>{h(g.description)}</td>"
                       f'<td class="num">{len(g.rows):,}</td><td class="num">{g.without_time:,}</td>'
                       f'<td class="num">{g.located:,}</td><td class="num">{tagged[gi]:,}</td><td class="views">{views}</td></tr>')
        out.append("</tbody></table>")
        return "\n".join(out)

    def versions_section(self) -> str:
        d = self.d
        out = ["<h2>Software and profiles</h2>", '<table class="grid" style="width:auto"><thead><tr><th>Component</th><th>Version</th></tr></thead><tbody>']
        out += [f"<tr><td>{h(n)}</td><td>{h(v)}</td></tr>" for n, v in d.versions]
        out.append("</tbody></table>")
        out.append('<h3>Profiles that produced the records</h3><table class="grid" style="width:auto"><thead><tr><th>Profile</th>'
                   "<th>Name</th><th>Version in the records</th><th>Records</th><th>Version loaded now</th><th>From</th></tr></thead><tbody>")
        for p in d.profile_versions:
            loaded = h(p["loaded"]) if p["loaded"] is not None else '<span class="muted">not loaded</span>'
            if p["loaded"] is not None and str(p["loaded"]) != str(p["version"]):
                loaded = f'<span class="bad">{loaded} (differs)</span>'
            out.append(f"<tr><td class=mono>{h(p['profile'])}</td><td>{h(p['name'])}</td><td>{h(p['version'])}</td>"
                       f"<td class=num>{p['records']:,}</td><td>{loaded}</td><td>{h(p['origin'])}</td></tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    # -- tables -------------------------------------------------------------------------------
    def thumb(self, g: Group, row: tuple[Any, ...]) -> str | None:
        src = self.d.sources[row[R_SRC]]
        name = self.thumbs.get(src.artefact_id)
        if name is not None:
            return f"{THUMB_DIR}/{name}"
        if self.fallback_images and g.location is not None and src.stored_path.lower().endswith((".jpg", ".jpeg", ".png", ".gif", ".webp")):
            return "../../../" + quote(src.stored_path, safe="/")
        return None

    def _profiles(self) -> list[dict[str, str]]:
        return [{"label": g.title, "page": f"{g.page}.html", "profile": g.profile, "artifact": g.artifact} for g in self.d.groups]

    def _row(self, sources: dict[int, int], row: tuple[Any, ...], prof: int, thumb: str | None, extra: list[Any]) -> list[Any]:
        si = sources.setdefault(row[R_SRC], len(sources))
        return [row[R_ID], row[R_TS], self.d.zoned(row[R_TS]) if self.d.zone else None, si, row[R_REF], row[R_PV], prof,
                self.d.tag_text(row[R_ID]) or None if self.d.tags else None, thumb] + [
                v if type(v) is str or v is None else js_value(v) for v in extra]

    def _sources(self, sources: dict[int, int]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in sources]
        for gidx, local in sources.items():
            s = self.d.sources[gidx]
            out[local] = [s.locator, s.sha256, s.evidence, s.stored_path]
        return out

    @staticmethod
    def _columns(g: Group) -> list[dict[str, Any]]:
        """Page columns; a UTC column names its display-zone companion (``z``) so the page shows both in one cell."""
        out: list[dict[str, Any]] = []
        for n, c in enumerate(g.columns):
            col: dict[str, Any] = {"label": c.label, "kind": c.kind, "i": 9 + c.index - R_VALS}
            if c.kind == "utc" and n + 1 < len(g.columns) and g.columns[n + 1].kind == "zoned":
                col["z"] = 9 + g.columns[n + 1].index - R_VALS
            out.append(col)
        return out

    @staticmethod
    def _needs_time(g: Group) -> bool:
        """The record's time gets its own column unless it is one of the data columns already."""
        t = g.artifact_def.timeline_time if g.artifact_def is not None else None
        return not (t and any(c.key == t and c.kind == "utc" for c in g.columns))

    def artifact_pages(self, gi: int, g: Group) -> None:
        d = self.d
        sources: dict[int, int] = {}
        rows = [self._row(sources, r, gi, self.thumb(g, r), r[R_VALS]) for r in g.rows]
        payload = {"rows": rows, "sources": self._sources(sources), "profiles": self._profiles(),
                   "columns": self._columns(g), "time": self._needs_time(g),
                   "tz": d.zone_name, "profileColumn": False, "tablePage": f"{g.page}.html",
                   "chat": {k: 9 + v for k, v in g.chat.items()} if g.chat else None,
                   "parties": g.parties}
        write_file(self.out / f"{g.page}.data.js", js_data_file("EVKIT_DATA", payload))
        versions = ", ".join(f"{h(v)} ({n:,} records)" for v, n in sorted(g.versions.items()))
        views = f'<a href="{g.page}.chat.html">conversation view</a>' if g.chat else ""
        head = (f"<h1>{h(g.name)}</h1><p class=lead>{h(g.description)}</p>"
                f'<table class="facts"><tr><th>Profile</th><td><span class=mono>{h(g.profile)}</span> version {versions}</td></tr>'
                f"<tr><th>Artefact type</th><td>{h(g.artifact)}</td></tr>"
                f"<tr><th>Records</th><td>{len(g.rows):,} ({g.without_time:,} without a time; {g.located:,} located)</td></tr>"
                + (f"<tr><th>Views</th><td>table · {views}</td></tr>" if views else "") + "</table>"
                '<p class="noprint muted">Click a row for every value, its raw stored form and its full source. '
                "Filter matches any column; sort by clicking a column heading.</p>"
                "<noscript><p class=note>This table needs JavaScript (it runs inside this folder only); "
                "the same rows are in the CSV and XLSX files.</p></noscript>")
        write_file(self.out / f"{g.page}.html",
                   self.page(g.title, head + '<div id="records"></div>', f"{g.page}.html",
                             (f"{g.page}.data.js", "assets/report.js"), "table"))
        if g.chat:
            roles = ", ".join(f"{h(k)}: {h(v)}" for k, v in sorted((g.artifact_def.chat or {}).items())) if g.artifact_def else ""
            chat_head = (f"<h1>{h(g.name)}: conversations</h1>"
                         f'<p class=lead>Messages grouped by conversation ({roles}), in time order (UTC). '
                         f'<a href="{g.page}.html">Table view</a> has every column.</p>'
                         "<noscript><p class=note>This view needs JavaScript; the same messages are in the table, CSV and XLSX.</p></noscript>")
            write_file(self.out / f"{g.page}.chat.html",
                       self.page(f"{g.title} conversations", chat_head + '<div id="chat"></div>', f"{g.page}.chat.html",
                                 (f"{g.page}.data.js", "assets/report.js"), "chat"))

    def timeline(self) -> None:
        d = self.d
        sources: dict[int, int] = {}
        rows = []
        for e in d.timeline:
            g = d.groups[e.group]
            rows.append(self._row(sources, g.rows[e.row], e.group, None, [e.description]))
        payload = {"rows": rows, "sources": self._sources(sources), "profiles": self._profiles(),
                   "columns": [{"label": "Description", "kind": "text", "i": 9}], "tz": d.zone_name,
                   "profileColumn": True}
        write_file(self.out / "timeline.data.js", js_data_file("EVKIT_DATA", payload))
        local = sum(1 for e in d.timeline if e.local)
        untimed = sum(g.without_time for g in d.groups) - local
        head = (f"<h1>Timeline</h1><p class=lead>{len(d.timeline):,} records in time order across every artefact type. "
                + (f"{local:,} of them have only a camera's local clock time (zone unknown): they are placed by that "
                   "clock as if it were UTC, so they may be hours off, and marked <em>[local clock, zone unknown]</em>. "
                   if local else "")
                + f"{untimed:,} records have no time and are only on their artefact pages. Descriptions come from each "
                "profile's timeline template.</p>"
                "<noscript><p class=note>This table needs JavaScript; the same rows are in timeline.csv.</p></noscript>")
        write_file(self.out / "timeline.html", self.page("Timeline", head + '<div id="records"></div>', "timeline.html",
                                                         ("timeline.data.js", "assets/report.js"), "table"))

    def map_page(self) -> None:
        d = self.d
        sources: dict[int, int] = {}
        rows = []
        points: list[tuple[float, float, str, str, str]] = []
        by_time = sorted(d.located, key=lambda p: (p.group, p.row))
        for p in by_time:
            g = d.groups[p.group]
            r = g.rows[p.row]
            rows.append(self._row(sources, r, p.group, self.thumb(g, r), [p.latitude, p.longitude]))
            if len(points) < MAP_POINTS:
                points.append((p.latitude, p.longitude, f"{g.page}.html#r{int(r[R_ID])}",
                               f"record {r[R_ID]} · {g.title} · {r[R_TS] or 'no time'} · {p.latitude:.6f}, {p.longitude:.6f}",
                               str(r[R_ID])))
        payload = {"rows": rows, "sources": self._sources(sources), "profiles": self._profiles(),
                   "columns": [{"label": "Latitude", "kind": "text", "i": 9}, {"label": "Longitude", "kind": "text", "i": 10}],
                   "tz": d.zone_name, "profileColumn": True}
        write_file(self.out / "map.data.js", js_data_file("EVKIT_DATA", payload))
        note = ""
        if len(d.located) > MAP_POINTS:
            note = (f'<p class="note">The plot shows the first {MAP_POINTS:,} of {len(d.located):,} located records; '
                    "all of them are in the table below, located.kml and located.geojson.</p>")
        head = (f"<h1>Map of located records</h1><p class=lead>{len(d.located):,} records with a latitude and longitude "
                "(decimal degrees, WGS 84 as recorded), on an offline Natural Earth base map (nothing is loaded from the network); "
                "each dot carries its record id. Click a point for its record.</p>"
                + note + svg_map(points))
        write_file(self.out / "map.html", self.page("Map", head + "<h2>Located records</h2><div id=\"records\"></div>", "map.html",
                                                    ("map.data.js", "assets/report.js"), "table"))

    def tagged(self) -> str:
        d = self.d
        where = self.record_index({t.record_id for t in d.tag_rows})
        out = ["<h1>Tagged items</h1>",
               "<p class=lead>Tags and notes added by the examiner with <code>evkit tag</code>, each recorded in the custody log; "
               "one row per tagged record, its tags in the order they were added.</p>"]
        if not d.tag_rows:
            out.append("<p>No tagged items.</p>")
            return "\n".join(out)
        zone = f" and {h(d.zone_name)}" if d.zone_name else ""
        out.append('<table class="grid"><thead><tr><th>Record</th><th>Tags and notes</th><th>Artefact type</th>'
                   f"<th>Time (UTC){zone}</th><th>Values</th><th>Source and profile</th><th>Source SHA-256</th></tr></thead><tbody>")
        order: list[int] = []
        for t in d.tag_rows:
            if t.record_id not in order:
                order.append(t.record_id)
        for rid in order:
            notes = "".join(f"<div>{'<b>[' + h(t.tag) + ']</b> ' if t.tag else ''}{h(t.note)} "
                            f"<span class=muted>({h(t.examiner)}, {h(t.time)})</span></div>" for t in d.tags[rid])
            loc = where.get(rid)
            if loc is None:
                out.append(f'<tr class="tagged"><td class=num>{int(rid)}</td><td class=wide>{notes}</td>'
                           "<td colspan=5 class=muted>record not found in the case</td></tr>")
                continue
            g = d.groups[loc[0]]
            r = g.rows[loc[1]]
            s = d.sources[r[R_SRC]]
            summary = "<br>".join(f"<b>{h(c.label)}</b>: {h(value(r, c))}" for c in g.columns
                                  if c.kind not in ("raw", "zoned") and value(r, c) not in (None, ""))
            z = d.zoned(r[R_TS])
            when = h(r[R_TS]) + (f'<span class="zone">{h(z)} {h(d.zone_name)}</span>' if z else "")
            out.append(f'<tr class="tagged"><td class=num><a href="{g.page}.html#r{int(r[R_ID])}">{int(r[R_ID])}</a></td>'
                       f"<td class=wide>{notes}</td><td>{h(g.title)}</td><td class=time>{when}</td><td class=wide>{summary}</td>"
                       f"<td class=src>{h(r[R_EV])} · {h(s.locator)}<br>{h(r[R_REF])}<br><span class=muted>profile {h(g.profile)} v{h(r[R_PV])}</span></td>"
                       f"<td class=sha>{h(s.sha256)}</td></tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def record_index(self, ids: set[int]) -> dict[int, tuple[int, int]]:
        where: dict[int, tuple[int, int]] = {}
        if not ids:
            return where
        for gi, g in enumerate(self.d.groups):
            for ri, r in enumerate(g.rows):
                if r[R_ID] in ids:
                    where[r[R_ID]] = (gi, ri)
        return where

