"""CSV per artefact type, one XLSX workbook with a sheet per artefact type, and the timeline CSV.

Every row carries the record id, evidence number, profile and version, the locator and row of its
source, the source file's SHA-256 and the examiner's tags. Text that a spreadsheet would take for a
formula (it starts with ``= + - @``, tab or CR) gets a leading single quote; in XLSX every text is
also written as a string cell (an inline string; the workbook writer cannot write formulas).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from evkit.reports.collect import R_EV, R_ID, R_PV, R_REF, R_SRC, R_TS, R_VALS, Group, ReportData
from evkit.reports.safe import FORMULA_START, sheet_names, spreadsheet_value

def header(data: ReportData, g: Group) -> list[str]:
    cols = ["record_id", "evidence", "profile", "profile_version", "artifact", "time_utc"]
    if data.zone_name:
        cols.append(f"time ({data.zone_name})")
    for c in g.columns:
        cols.append(f"{c.key.split('@')[0]} ({data.zone_name})" if c.kind == "zoned" else c.key)
    return cols + ["locator", "row", "source_sha256", "source_stored_path", "tags_and_notes"]


def rows(data: ReportData, g: Group) -> Iterator[list[Any]]:
    zoned = data.zone_name is not None
    idx = [c.index - R_VALS for c in g.columns]
    sources = data.sources
    tags = data.tags
    for r in g.rows:
        s = sources[r[R_SRC]]
        vals = r[R_VALS]
        out = [r[R_ID], r[R_EV], g.profile, r[R_PV], g.artifact, r[R_TS]]
        if zoned:
            out.append(data.zoned(r[R_TS]))
        out += [vals[i] for i in idx]
        out += [s.locator, r[R_REF], s.sha256, s.stored_path, data.tag_text(r[R_ID]) if tags else ""]
        yield out


def csv_name(g: Group) -> str:
    return f"{g.page}.csv"


class _CsvOut:
    """A csv.writer whose text is encoded (UTF-8, with a byte-order mark first) in large blocks."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\r\n")
        self.rows = 0
        fh.write(b"\xef\xbb\xbf")

    def writerow(self, row: list[Any]) -> None:
        self.writer.writerow(row)
        self.rows += 1
        if self.rows % 4000 == 0:
            self.flush()

    def flush(self) -> None:
        self.fh.write(self.buf.getvalue().encode("utf-8", "backslashreplace"))
        self.buf.seek(0)
        self.buf.truncate()


_FORMULA = frozenset(FORMULA_START)


def cells(row: list[Any]) -> list[Any]:
    """One row's values for a spreadsheet: numbers as numbers, all else neutralised text (the fast path of
    :func:`evkit.reports.safe.spreadsheet_value`)."""
    f, sv = _FORMULA, spreadsheet_value
    return [(("'" + v) if v and v[0] in f else v) if type(v) is str else ("" if v is None else sv(v)) for v in row]


def write_csv(data: ReportData, g: Group, fh: BinaryIO) -> int:
    """One artefact type as CSV: UTF-8 with a byte-order mark (so spreadsheets read it as UTF-8)."""
    w = _CsvOut(fh)
    w.writerow(cells(header(data, g)))
    n = 0
    for row in rows(data, g):
        w.writerow(cells(row))
        n += 1
    w.flush()
    return n


def timeline_header(data: ReportData) -> list[str]:
    return ["time_utc"] + ([f"time ({data.zone_name})"] if data.zone_name else []) + [
        "record_id", "evidence", "profile", "profile_version", "artifact", "description", "locator", "row",
        "source_sha256", "source_stored_path", "tags_and_notes"]


def timeline_rows(data: ReportData) -> Iterator[list[Any]]:
    zoned = data.zone_name is not None
    for e in data.timeline:
        g = data.groups[e.group]
        r = g.rows[e.row]
        s = data.sources[r[R_SRC]]
        yield [r[R_TS]] + ([data.zoned(r[R_TS])] if zoned else []) + [
            r[R_ID], r[R_EV], g.profile, r[R_PV], g.artifact, e.description, s.locator, r[R_REF], s.sha256,
            s.stored_path, data.tag_text(r[R_ID])]


def write_timeline_csv(data: ReportData, fh: BinaryIO) -> int:
    w = _CsvOut(fh)
    w.writerow(cells(timeline_header(data)))
    for row in timeline_rows(data):
        w.writerow(cells(row))
    w.flush()
    return len(data.timeline)


def _time_columns(data: ReportData, g: Group) -> list[int]:
    """Positions (in :func:`header`) of UTC time columns, written as date cells in XLSX."""
    first = 6 + (1 if data.zone_name else 0)
    return [5] + [first + n for n, c in enumerate(g.columns) if c.kind == "utc"]


def _widths(head: list[str], sample: list[list[Any]]) -> dict[int, float]:
    """Column widths (characters) from the heading and the first rows, between 8 and 60."""
    out = {}
    for i, h in enumerate(head):
        longest = max([len(str(h))] + [len(str(r[i])) for r in sample if i < len(r) and r[i] is not None])
        out[i] = float(min(60, max(8, longest + 2)))
    return out


def _evidence_rows(data: ReportData) -> list[list[Any]]:
    import json

    out: list[list[Any]] = [[], ["Evidence", "Description", "Source", "Format", "Size (bytes)", "MD5", "SHA-1", "SHA-256",
                                 "Acquisition hash check", "Records"]]
    by: dict[str, dict[str, int]] = data.records_by_evidence
    for e in data.evidence:
        try:
            files = json.loads(e.get("files") or "[]")
        except ValueError:
            files = []
        folder = next((f for f in files if isinstance(f, dict) and f.get("kind") == "folder"), None)
        size = folder.get("size") if folder else (e.get("media_size") if e.get("media_size") is not None else e.get("source_size"))
        verdict = {1: "matched", 0: "MISMATCH"}.get(e.get("verified") if e.get("verified") is not None else -1, "no stored hash")
        out.append([e.get("number"), e.get("description"), e.get("source_name"), e.get("format"), size, e.get("md5"),
                    e.get("sha1"), e.get("sha256"), verdict, sum(by.get(str(e.get("number")), {}).values())])
    return out


def write_xlsx(data: ReportData, fh: BinaryIO) -> int:
    """A workbook: a Summary sheet (case, evidence and hashes, sheets), then one sheet per artefact
    type (continued when over Excel's row limit). UTC times are date cells; the text and raw columns
    beside them keep the exact stored value."""
    from evkit.reports.xlsx import MAX_ROWS, Workbook, utc_time

    wb = Workbook(fh)
    per_sheet = MAX_ROWS - 1
    plan: list[tuple[Group, int]] = []  # (group, part)
    for g in data.groups:
        parts = max(1, -(-len(g.rows) // per_sheet))
        plan += [(g, part) for part in range(parts)]
    titles = [f"{g.profile} {g.artifact}" + (f" part {part + 1}" if part else "") for g, part in plan]
    names = sheet_names(titles, {"Summary"})
    m = data.meta
    summary: list[list[Any]] = [
        ["Case number", m.get("case_number")], ["Agency", m.get("agency")], ["Examiner", m.get("examiner")],
        ["Notes", m.get("notes")], ["Report generated (UTC)", data.generated],
        ["Times", "All times are UTC (Z) unless marked" + (f"; columns marked ({data.zone_name}) show the display zone" if data.zone_name else "")],
        ["Records", data.records], *_evidence_rows(data), [], ["Sheet", "Profile", "Artefact type", "Records"]]
    for (g, part), name in zip(plan, names):
        summary.append([name, g.profile, g.artifact, min(per_sheet, len(g.rows) - part * per_sheet)])
    wb.add_sheet("Summary", ["Report", "evkit"], (cells(r) for r in summary), {0: 28, 1: 40, 2: 24, 7: 66}, table=False)
    total = 0
    for (g, part), name in zip(plan, names):
        start = part * per_sheet
        times = _time_columns(data, g)

        def part_rows(g: Group = g, start: int = start, times: list[int] = times) -> Iterator[list[Any]]:
            for i, row in enumerate(rows(data, g)):
                if i < start:
                    continue
                if i >= start + per_sheet:
                    break
                out = cells(row)
                for t in times:
                    out[t] = utc_time(out[t]) or out[t]
                yield out

        head = cells(header(data, g))
        sample = [row for _, row in zip(range(200), rows(data, g))]
        widths = _widths(head, sample)
        for t in times:
            widths[t] = max(widths[t], 24.0)
        total += wb.add_sheet(name, head, part_rows(), widths)
    wb.close()
    return total
