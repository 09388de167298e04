"""What the engine makes of parsed rows: one form per kind of consumer.

* :data:`RECORDS`: :class:`~evkit.profiles.record.Record` objects with Python values (``evkit parse``
  without ``--json``, ``evkit profiles test``, the API);
* :data:`JSON_LINES`: :class:`Lines`, the text ``evkit parse --json`` prints;
* :data:`CASE_ROWS`: :class:`CaseRows`, what ``evkit run`` stores in case.db's ``records``.

A table parser (SQLite) gives batches of row tuples (:class:`~evkit.profiles.rowcode.TableRows`):
the JSON and case forms turn a batch into text with the code compiled for its query's columns
(:mod:`evkit.profiles.rowcode`); the records form, and the rare batch whose text was not UTF-8,
go row by row through :func:`~evkit.profiles.parsers.common.convert_row`, the generic path.
The other parsers give one row dict at a time, which becomes a Record first, whatever the form.
The engine converts inside its per-file error handling, so a value a conversion rejects is a
problem of that file, as it always was, never a crash of the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from evkit.profiles.conversions import json_safe
from evkit.profiles.parsers.common import convert_row
from evkit.profiles.record import ENCODE, Origin, Record, json_frame
from evkit.profiles.rowcode import CaseRow, TableRows, row_code

T = TypeVar("T")


@dataclass
class Lines:
    """Records as ``evkit parse --json`` prints them: one JSON object a line, each ending in a newline."""

    lines: list[str]


@dataclass
class CaseRows:
    """Records of one artifact of one file as case.db stores them."""

    origin: Origin
    rows: list[CaseRow]


class Form(Generic[T]):
    """How a batch of table rows, or one record of another parser, becomes output."""

    def table(self, origin: Origin, rows: TableRows) -> list[T]:
        """The batch record by record, the generic way (forms with compiled code use it for text
        that was not UTF-8, which is rare and which that code does not expect)."""
        out = []
        for index, values in enumerate(rows.rows, rows.first):
            raw = dict(zip(rows.names, values))
            rowid = json_safe(raw.pop("_rowid", None))
            row = {"table": rows.table, "rowid": rowid} if rowid is not None else {"table": rows.table, "index": index}
            data, timestamp = convert_row(rows.art, raw)
            out.append(self.record(origin.record(timestamp, row, data)))
        return out

    def record(self, record: Record) -> T:
        raise NotImplementedError


class _Records(Form[Record]):
    def record(self, record: Record) -> Record:
        return record


class _JsonLines(Form[Lines]):
    def table(self, origin: Origin, rows: TableRows) -> list[Lines]:
        if not rows.strict:
            return super().table(origin, rows)
        head, middle = json_frame(origin)
        code = row_code(rows.art, rows.names, rows.table)
        return [Lines(code.lines(rows.rows, rows.first, head, middle))]

    def record(self, record: Record) -> Lines:
        return Lines([ENCODE(record.as_dict()) + "\n"])


class _CaseRows(Form[CaseRows]):
    def table(self, origin: Origin, rows: TableRows) -> list[CaseRows]:
        if not rows.strict:
            return super().table(origin, rows)
        return [CaseRows(origin, row_code(rows.art, rows.names, rows.table).case_rows(rows.rows, rows.first))]

    def record(self, record: Record) -> CaseRows:
        origin = Origin(record.profile, record.profile_version, record.artifact, record.locator, record.source_sha256, record.path)
        row = record.row
        return CaseRows(origin, [(record.timestamp, row.get("table"), row.get("rowid"), row.get("index"), ENCODE(record.data))])


RECORDS: Form[Record] = _Records()
JSON_LINES: Form[Lines] = _JsonLines()
CASE_ROWS: Form[CaseRows] = _CaseRows()
