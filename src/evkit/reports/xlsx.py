"""A small streaming XLSX (Office Open XML spreadsheet) writer: text, number and date cells, nothing else.

A report workbook needs only sheets of values with a bold header row, frozen and filterable, so
evkit writes the package itself (ECMA-376 SpreadsheetML, a zip of XML parts) instead of depending
on a spreadsheet library: rows stream straight into the zip, which keeps 200,000-record workbooks
to seconds, and the writer has no way to produce a formula at all. Every text cell is an inline
string (``t="inlineStr"``); characters XML cannot carry are written with the format's own
``_xHHHH_`` escape, and a literal ``_xHHHH_`` in the data is protected with ``_x005F_`` so Excel
shows the text exactly as stored.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from typing import Any, BinaryIO

MAX_ROWS = 1_048_576
MAX_TEXT = 32_767

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

_LITERAL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_SPECIAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>]|_x")


def _esc(text: str) -> str:
    if _SPECIAL.search(text) is None:
        return text
    if "_x" in text:
        text = _LITERAL_ESCAPE.sub(r"_x005F_\1", text)
    if _NOT_XML.search(text):
        text = _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")


def column_letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class UtcTime(float):
    """A date cell: an Excel serial day number (days since 1899-12-30, the 1900 date system),
    shown as ``yyyy-mm-dd hh:mm:ss.000``. Excel keeps milliseconds; the exact stored value stays in
    the text and raw columns beside it."""


EXCEL_EPOCH_MS = -2_209_161_600_000  # 1899-12-30T00:00:00Z in Unix milliseconds
_ISO_Z = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$")


def utc_time(text: Any) -> UtcTime | None:
    """An ISO-8601 UTC time (``...Z``) as a date cell; None for anything else or outside 1900-9999."""
    if type(text) is not str:
        return None
    m = _ISO_Z.match(text)
    if m is None:
        return None
    from datetime import datetime, timezone

    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        t = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    if t.year < 1900:
        return None
    ms = int(t.timestamp()) * 1000 + int(((m.group(7) or ".0")[1:] + "000")[:3])
    return UtcTime((ms - EXCEL_EPOCH_MS) / 86_400_000)


def cut(text: str) -> str:
    """Text longer than a cell holds, cut with a marker that says so."""
    if len(text) <= MAX_TEXT:
        return text
    marker = f" …[cut: {len(text):,} characters; the full value is in the CSV]"
    return text[:MAX_TEXT - len(marker)] + marker


STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{NS_MAIN}">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd hh:mm:ss.000"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""


class Workbook:
    """``add_sheet(name, header, rows)`` per sheet, then ``close()``. Values: str, int, float or None."""

    def __init__(self, fh: BinaryIO) -> None:
        self.zip = zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3)
        self.sheets: list[tuple[str, str | None]] = []  # (name, autofilter range)

    def add_sheet(self, name: str, header: list[str], rows: Iterable[list[Any]], widths: dict[int, float] | None = None,
                  table: bool = True) -> int:
        """One sheet: a bold header row, then ``rows``; ``table`` freezes the header and adds a filter."""
        number = len(self.sheets) + 1
        ncols = len(header)
        letters = [column_letters(i) for i in range(max(ncols, 1))]
        count = 0
        with self.zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as out:
            parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'
                     '<sheetViews><sheetView workbookViewId="0"' + (' tabSelected="1"' if number == 1 else "") + ">"
                     + ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>' if table else "")
                     + '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>']
            if widths:
                parts.append("<cols>" + "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
                                                for i, w in sorted(widths.items())) + "</cols>")
            parts.append("<sheetData>")
            parts.append('<row r="1">' + "".join(f'<c r="{letters[i]}1" s="1" t="inlineStr"><is><t xml:space="preserve">{_esc(cut(h))}</t></is></c>'
                                                 for i, h in enumerate(header)) + "</row>")
            out.write("".join(parts).encode("utf-8"))
            buf: list[str] = []
            special = _SPECIAL.search
            r = 1
            for row in rows:
                r += 1
                if r > MAX_ROWS:
                    raise ValueError("too many rows for one sheet")
                cells = []
                if len(row) > len(letters):
                    letters += [column_letters(i) for i in range(len(letters), len(row))]
                for i, v in enumerate(row):
                    if type(v) is str:
                        if not v:
                            continue
                        if len(v) > MAX_TEXT:
                            v = cut(v)
                        if special(v) is not None:
                            v = _esc(v)
                        cells.append(f'<c r="{letters[i]}{r}" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>')
                    elif type(v) is UtcTime:
                        cells.append(f'<c r="{letters[i]}{r}" s="2"><v>{float(v)!r}</v></c>')
                    elif v is not None:
                        cells.append(f'<c r="{letters[i]}{r}"><v>{v!r}</v></c>')
                buf.append(f'<row r="{r}">{"".join(cells)}</row>')
                if len(buf) >= 2000:
                    out.write("".join(buf).encode("utf-8"))
                    buf.clear()
            count = r - 1
            ref = f"A1:{letters[ncols - 1]}{max(r, 2)}" if ncols and table else None
            tail = "".join(buf) + "</sheetData>" + (f'<autoFilter ref="{ref}"/>' if ref else "")
            tail += '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
            out.write(tail.encode("utf-8"))
        self.sheets.append((name, ref))
        return count

    def close(self) -> None:
        z = self.zip
        n = len(self.sheets)
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                   + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT_SHEET}"/>' for i in range(1, n + 1))
                   + '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
                   "</Types>")
        z.writestr("_rels/.rels",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_REL}">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
                   "</Relationships>")
        z.writestr("docProps/app.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>evkit</Application></Properties>')
        sheets = "".join(f'<sheet name="{_attr(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(self.sheets, start=1))
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"'{_esc(name.replace(chr(39), chr(39) * 2))}'!{_abs(ref)}</definedName>"
            for i, (name, ref) in enumerate(self.sheets) if ref)
        z.writestr("xl/workbook.xml",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'
                   f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                   + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>")
        z.writestr("xl/_rels/workbook.xml.rels",
                   f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_REL}">'
                   + "".join(f'<Relationship Id="rId{i}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
                   + f'<Relationship Id="rId{n + 1}" Type="{NS_REL}/styles" Target="styles.xml"/></Relationships>')
        z.writestr("xl/styles.xml", STYLES)
        z.close()


def _abs(ref: str | None) -> str:
    """``A1:K20`` -> ``$A$1:$K$20``."""
    out = []
    for part in (ref or "").split(":"):
        m = re.fullmatch(r"([A-Z]+)(\d+)", part)
        out.append(f"${m.group(1)}${m.group(2)}" if m else part)
    return ":".join(out)
