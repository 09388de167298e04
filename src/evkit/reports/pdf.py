"""The report as one PDF for court bundles, rendered with WeasyPrint (no browser, no JavaScript).

The PDF holds the same pages as the HTML report, laid out for A4: the front page (case, evidence
and hashes, versions, summary), the tagged items, the map, the timeline and one section per
artefact type, each record as a compact row (its values as "label: value" lines, its source and
SHA-256, its tags). A table longer than :data:`PDF_ROWS` records is cut there, and the PDF says so
where it is cut (every record stays in the HTML, CSV and XLSX). Headers carry the case number,
footers the page number and count (CSS ``@page`` rules). WeasyPrint may only read files inside
the folder the document is built in: any other URL is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO

from evkit.reports import assets
from evkit.reports.collect import R_EV, R_ID, R_PV, R_REF, R_SRC, R_TS, Group, ReportData, value
from evkit.reports.geo import svg_map
from evkit.reports.html import THUMB_DIR, Pages
from evkit.reports.safe import cell_text, css_string, h

PDF_ROWS = 2000
DEBIAN_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"

PRINT_CSS = """
@page { size: A4; margin: 18mm 12mm 16mm 12mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #555; } }
html { font-size: 8.5pt; }
header.bar, .controls, .noprint, noscript { display: none; }
section { break-before: page; }
section.first { break-before: auto; }
table.grid { font-size: 7.5pt; width: 100%; }
table.grid.rec { table-layout: fixed; }
table.grid td { max-width: none; min-width: 0; white-space: pre-wrap; }
table.grid td.time { white-space: normal; overflow-wrap: normal; }
table.grid td .nobreak { white-space: nowrap; }
table.grid .hash { white-space: nowrap; }
.views { display: none; }
table.facts, table.grid:not(.rec) { break-inside: avoid; }
table.grid td.wide { min-width: 0; }
table.grid col.id { width: 5%; } table.grid col.time { width: 14%; } table.grid col.vals { width: 41%; }
table.grid col.src { width: 22%; } table.grid col.tags { width: 18%; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
h2 { break-after: avoid; }
svg.map { width: 100%; height: auto; }
img.thumb { max-width: 90px; max-height: 90px; }
a { color: inherit; text-decoration: none; }
"""


PDF_VALUE_CHARS = 3000   # of one value: WeasyPrint's line breaking grew quadratically (20,000 characters: 60 s)
LONG_TOKEN = 130         # runs of non-space longer than this (never a hash or a time) get break points
BREAK_EVERY = 30
_LONG = re.compile(r"\S{%d,}" % LONG_TOKEN)
_HEX = re.compile(r"^[0-9a-fA-F]{32,128}$")


def printable(value: Any) -> str:
    """A value for print, escaped: cut at PDF_VALUE_CHARS with a marker saying where the whole
    value is, and long unbroken runs (a base64 blob, a URL) given break points every 30
    characters so they wrap instead of overflowing; hashes and times are shorter and never broken."""
    text = value if isinstance(value, str) else cell_text(value)
    tail = ""
    if len(text) > PDF_VALUE_CHARS:
        tail = f" …[cut: {len(text):,} characters in all; the whole value is in the HTML report, CSV and XLSX]"
        text = text[:PDF_VALUE_CHARS]
    out, pos = [], 0
    for m in _LONG.finditer(text):
        out.append(h(text[pos:m.start()]))
        run = m.group(0)
        out.append("<wbr>".join(h(run[i:i + BREAK_EVERY]) for i in range(0, len(run), BREAK_EVERY)))
        pos = m.end()
    out.append(h(text[pos:]))
    return "".join(out) + h(tail)


def _time(ts: Any) -> str:
    """A time that may wrap between its date and its clock time, never inside either."""
    text = h(ts)
    date, sep, clock = text.partition("T")
    return f'<span class="nobreak">{date}</span><wbr><span class="nobreak">{sep}{clock}</span>' if sep else text


def _hash(digest: Any) -> str:
    """A hash printed whole or in groups of 16 (the column is narrower than 64 characters), never
    cut inside a group."""
    text = str(digest or "")
    if not _HEX.match(text):
        return printable(text)
    return " ".join(f'<span class="hash mono">{text[i:i + 16]}</span>' for i in range(0, len(text), 16))


def pdf_available() -> str | None:
    """None when PDF can be written, else the reason (one line)."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return "WeasyPrint is not installed: pip install 'evkit[pdf]' (or pip install weasyprint)"
    except OSError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (f"WeasyPrint cannot load its system libraries ({first}); on Debian install: {DEBIAN_PACKAGES}")
    return None


def _fetcher(root: Path) -> Any:
    import weasyprint

    base = root.resolve()

    def allowed(url: str) -> Path:
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        if parsed.scheme != "file":
            raise ValueError(f"evkit report: refusing to fetch {url!r}: only the report's own files are read")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(base):
            raise ValueError(f"evkit report: refusing to read {path}: outside the report folder")
        return path

    if hasattr(weasyprint, "URLFetcher"):
        class LocalOnly(weasyprint.URLFetcher):  # type: ignore[misc, name-defined]
            def fetch(self, url: str, headers: Any = None) -> Any:
                allowed(url)
                return super().fetch(url, headers)

        return LocalOnly(allowed_protocols=["file"])

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # WeasyPrint before 66
        allowed(url)
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


class PrintDocument:
    def __init__(self, data: ReportData, thumbs: dict[int, str]) -> None:
        self.d = data
        self.thumbs = thumbs
        self.pages = Pages(data, Path("."), thumbs, fallback_images=False)

    def html(self) -> str:
        d = self.d
        number = str(d.meta.get("case_number") or "")
        parts = [f'<section class="first">{self.pages.front()}</section>',
                 f"<section>{self.pages.tagged()}</section>"]
        if d.located:
            points = []
            listed = []
            for p in d.located[:20_000]:
                g = d.groups[p.group]
                r = g.rows[p.row]
                points.append((p.latitude, p.longitude, f"#r{int(r[R_ID])}", f"record {r[R_ID]}", str(r[R_ID])))
                listed.append(f"<tr><td class=num>{int(r[R_ID])}</td><td class=num>{p.latitude:.6f}</td><td class=num>{p.longitude:.6f}</td>"
                              f"<td class=mono>{h(r[R_TS] or '')}</td><td>{h(g.title)}</td><td>{h(r[R_EV])}</td></tr>")
            more = f" The plot shows the first {len(points):,}." if len(d.located) > len(points) else ""
            parts.append(f"<section><h1>Map of located records</h1><p class=lead>{len(d.located):,} located records on an "
                         f"offline Natural Earth base map; each dot carries its record id, listed below.{more}</p>{svg_map(points)}"
                         '<table class="grid"><thead><tr><th>Record</th><th>Latitude</th><th>Longitude</th><th>Time (UTC)</th>'
                         f"<th>Artefact type</th><th>Evidence</th></tr></thead><tbody>{''.join(listed)}</tbody></table></section>")
        parts.append(self.timeline())
        for g in d.groups:
            parts.append(self.group(g))
        # The case number in every page header; css_string keeps the text inert.
        head_rule = "@page { @top-left { content: " + css_string(f"Case {number}") + "; font-size: 8pt; color: #555; } }"
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Case {h(number)} report</title>
<style>{assets.CSS}</style><style>{PRINT_CSS}{head_rule}</style></head>
<body><main>
<div class="times">{self.pages.times_note()}</div>
{''.join(parts)}
</main></body></html>
"""

    def _cut(self, shown: int, total: int) -> str:
        if total <= shown:
            return ""
        return (f'<p class="note">This PDF shows the first {shown:,} of {total:,} records here; every record is in the '
                "HTML report, the CSV files and the XLSX workbook.</p>")

    def _time_cell(self, ts: Any) -> str:
        z = self.d.zoned(ts)
        return _time(ts) + (f'<span class="zone">{_time(z)} {h(self.d.zone_name)}</span>' if z else "")

    def _source_cell(self, g: Group, r: tuple[Any, ...]) -> str:
        s = self.d.sources[r[R_SRC]]
        return (f"{h(r[R_EV])} · {printable(s.locator)}<br>{h(r[R_REF])}<br>profile {h(g.profile)} v{h(r[R_PV])}"
                f"<br>sha256 {_hash(s.sha256)}")

    def _table_head(self, first: str) -> str:
        return ('<table class="grid rec"><colgroup><col class="id"><col class="time"><col class="vals"><col class="src"><col class="tags">'
                f"</colgroup><thead><tr><th>#</th><th>Time (UTC){' / ' + h(self.d.zone_name) if self.d.zone_name else ''}</th>"
                f"<th>{first}</th><th>Source, profile, SHA-256</th><th>Tags and notes</th></tr></thead><tbody>")

    def timeline(self) -> str:
        d = self.d
        out = [f"<section><h1>Timeline</h1><p class=lead>{len(d.timeline):,} records with a time, in time order.</p>",
               self._cut(PDF_ROWS, len(d.timeline)), self._table_head("Artefact type and description")]
        for e in d.timeline[:PDF_ROWS]:
            g = d.groups[e.group]
            r = g.rows[e.row]
            out.append(f'<tr{" class=tagged" if d.tags.get(r[R_ID]) else ""}><td class=num>{int(r[R_ID])}</td>'
                       f"<td class=time>{self._time_cell(r[R_TS])}</td><td><b>{h(g.title)}</b><br>{printable(e.description)}</td>"
                       f"<td class=src>{self._source_cell(g, r)}</td><td class=tagtext>{h(d.tag_text(r[R_ID]))}</td></tr>")
        out.append("</tbody></table></section>")
        return "\n".join(out)

    def group(self, g: Group) -> str:
        d = self.d
        out = [f"<section><h1>{h(g.name)}</h1><p class=lead>{h(g.description)} Profile <span class=mono>{h(g.profile)}</span>; "
               f"{len(g.rows):,} records.</p>", self._cut(PDF_ROWS, len(g.rows)), self._table_head("Values")]
        cols = [c for c in g.columns if c.kind not in ("raw", "zoned")]
        for r in g.rows[:PDF_ROWS]:
            vals = "<br>".join(f"<b>{h(c.label)}</b>: {printable(value(r, c))}" for c in cols if value(r, c) not in (None, ""))
            s = d.sources[r[R_SRC]]
            thumb = self.thumbs.get(s.artefact_id)
            if thumb:
                vals = f'<img class="thumb" src="{THUMB_DIR}/{h(thumb)}" alt="">' + vals
            out.append(f'<tr{" class=tagged" if d.tags.get(r[R_ID]) else ""}><td class=num>{int(r[R_ID])}</td>'
                       f"<td class=time>{self._time_cell(r[R_TS])}</td><td>{vals}</td>"
                       f"<td class=src>{self._source_cell(g, r)}</td><td class=tagtext>{h(d.tag_text(r[R_ID]))}</td></tr>")
        out.append("</tbody></table></section>")
        return "\n".join(out)


def write_pdf(data: ReportData, fh: BinaryIO, work: Path, thumbs: dict[int, str]) -> int:
    """Render the print document into ``fh``; ``work`` holds the thumbnails. Returns the page count."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # Links between HTML pages mean nothing in one PDF (and would carry the build folder's path): dropped.
    html = re.sub(r'<a href="[^"]*">', "<a>", PrintDocument(data, thumbs).html())
    doc = weasyprint.HTML(string=html, base_url=str(work.resolve()) + "/", url_fetcher=_fetcher(work)).render()
    doc.write_pdf(fh)
    return len(doc.pages)
