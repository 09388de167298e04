"""Row code: an artifact's column conversions compiled for the exact columns of one query.

SQLite hands over a query's rows as tuples of a known width, millions of them in a large
database, and per-row Python is what a parse costs: a dict per row, a converter call per column,
a :class:`~evkit.profiles.record.Record`, ``as_dict`` and the JSON encoder came to some 25 µs a
row. Here each (artifact, column names, table) gets Python source generated once: one local per
column, the common cases of each conversion inlined (integers, text, NULL, the arithmetic of
numeric timestamps with the day and clock texts of :mod:`evkit.profiles.conversions`), every
other case handed to the functions the generic path uses. A batch of rows goes straight to the
text of its records, with no object per row:

* :attr:`RowCode.lines`: the records as ``evkit parse --json`` prints them, one JSON object a line;
* :attr:`RowCode.case_rows`: ``(timestamp, table, rowid, index, data JSON)`` per row, for case.db.

Both are byte for byte what the generic path (:func:`~evkit.profiles.parsers.common.convert_row`,
``Record.as_dict``, :func:`evkit.jsontext.dumps`) gives for the same rows; the tests in
``tests/test_profiles_rowcode.py`` compare the two on hostile values. The code is for strict
batches (:attr:`TableRows.strict`): text that was not UTF-8 goes the generic way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from evkit.profiles import conversions
from evkit.profiles.conversions import blob_value, enum_miss, json_safe, timestamp_function
from evkit.profiles.model import Artifact, Column
from evkit.profiles.record import ENCODE


def _json(value: Any) -> str:
    """JSON of a value as the generic path keeps it (``json_safe``): the general, slower case."""
    return ENCODE(json_safe(value))


CaseRow = tuple[str | None, str | None, Any, int | None, str]
"""(timestamp, row table, row id, row index, data JSON) of one record, as case.db stores it."""


@dataclass(frozen=True)
class TableRows:
    """A batch of rows of one artifact, as a table parser (SQLite) reads them."""

    art: Artifact
    table: str | None
    names: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    first: int  # the index of rows[0] among all rows of the query
    strict: bool  # text decoded as strict UTF-8 (SQLite's fast path): no str holds a surrogate escape


@dataclass(frozen=True)
class RowCode:
    """The compiled conversions of one (artifact, column names, table)."""

    source: str  # kept for tracebacks and for reading
    lines: Callable[[list[tuple[Any, ...]], int, str, str], list[str]]
    """``lines(rows, first, head, middle)``: the JSON line of each row; ``head`` and ``middle`` are the
    constant parts of a record before its timestamp and before its row (:func:`evkit.profiles.record.json_frame`)."""
    case_rows: Callable[[list[tuple[Any, ...]], int], list[CaseRow]]
    """``case_rows(rows, first)``: each row as case.db stores it."""


_CACHE: dict[tuple[int, tuple[str, ...], str | None], tuple[Artifact, RowCode]] = {}


def row_code(art: Artifact, names: tuple[str, ...], table: str | None) -> RowCode:
    """The compiled code for these columns of ``art``, compiled on first use."""
    key = (id(art), names, table)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is art:  # the artifact is kept alive, so its id is not reused
        return cached[1]
    if len(_CACHE) > 1000:
        _CACHE.clear()
    code = _compile(art, names, table)
    _CACHE[key] = (art, code)
    return code


# --- generating the source ----------------------------------------------------------------------
#
# Each output value is a local holding either its JSON text or an int: the f-string that builds
# the record writes an int as its decimal digits, which is its JSON.

def _plain(v: str) -> str:
    """``json_safe(v)`` as JSON; text of a strict batch holds no surrogate escapes, so it needs no cleaning."""
    return f'"null" if {v} is None else _quote({v}) if type({v}) is str else {v} if type({v}) is int else _json({v})'


def _fused(v: str, j: str, per: int, offset: int, slow: str) -> list[str]:
    """Lines setting ``j`` to the JSON of the non-zero integer timestamp ``v``, ``per`` units a second.

    ``conversions._iso`` by the same tables: the day text from :data:`conversions.DAYS` (a day not
    there yet, or outside years 1..9999, goes the slow way, which caches it), the clock by minute."""
    if per == 1:
        clock = "{_CLOCK[t // 60]}{_TWO[t % 60]}"
    else:
        clock = f"{{_CLOCK[t // {60 * per}]}}{{_TWO[t // {per} % 60]}}"
        clock += "{_MILLIS[t % 1000]}" if per == 1000 else f"{{_fraction(t % {per} * {1_000_000_000 // per})}}"
    shifted = f"{v} + {offset * per}" if offset else v
    return [f"d, t = divmod({shifted}, {86400 * per})",
            "day = _DAYS.get(d)",
            f"""{j} = f'"{{day}}{clock}Z"' if day is not None else {slow}({v})"""]


def _numeric(col: Column) -> bool:
    """Whether the timestamp column's format is a number (its text is null or ends in Z)."""
    return (col.format or "unix_s") in conversions.UNITS or col.format == "mac_absolute"


def _timestamp(col: Column, v: str, j: str, r: str, slow: str) -> list[str]:
    """Lines setting ``j`` to the JSON of ``timestamp_function(col.format)(v)`` and ``r`` to the raw value's."""
    if not _numeric(col):  # text formats: no arithmetic to inline
        return [f"{j} = {slow}({v})", f"{r} = {v} if type({v}) is int else _json({v})"]
    fmt = col.format or "unix_s"
    if fmt in conversions.UNITS:
        per, offset = conversions.UNITS[fmt]
        fast = _fused(v, j, per, offset, slow)
    else:  # mac_absolute: seconds or nanoseconds by magnitude
        limit = conversions.MAC_SECONDS_LIMIT
        fast = ([f"if -{limit} <= {v} <= {limit}:"]
                + _indent(_fused(v, j, 1, conversions.MAC_EPOCH, slow))
                + ["else:"]
                + _indent(_fused(v, j, 1_000_000_000, conversions.MAC_EPOCH, slow)))
    # every numeric format gives null for 0
    return ([f"if type({v}) is int:", f"    {r} = {v}", f"    if {v}:"] + _indent(_indent(fast))
            + ["    else:", f'        {j} = "null"', "else:", f"    {j} = {slow}({v})", f"    {r} = _json({v})"])


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _slow_timestamp(col: Column) -> Callable[[Any], str]:
    convert = timestamp_function(col.format or "unix_s")

    def slow(value: Any) -> str:
        text = convert(value)
        return "null" if text is None else encode_basestring(text)
    return slow


def _enum_miss(col: Column) -> Callable[[Any], str]:
    """JSON of the enum value when ``value`` itself is no key of the map (as ``parsers.common``)."""
    mapping = col.map or {}

    def miss(value: Any) -> str:
        text = str(value)
        return ENCODE(mapping[text] if text in mapping else enum_miss(value))
    return miss


def _blob(col: Column) -> Callable[[Any], str]:
    how = col.blob

    def blob(value: Any) -> str:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return ENCODE(blob_value(bytes(value), how))
        return _json(value)
    return blob


def _timeline(piece: str | int) -> str:
    """The record timestamp's JSON from the timeline column's: a string ending in Z, else null."""
    return piece if type(piece) is str and piece.endswith('Z"') else "null"


def _stamp(text: str) -> str | None:
    """The record timestamp's value from its JSON."""
    if text == "null":
        return None
    return text[1:-1] if "\\" not in text else json.loads(text)


class _Field(str):
    """A local whose value goes into the record at this place (the other parts are literal text)."""


def _compile(art: Artifact, names: tuple[str, ...], table: str | None) -> RowCode:
    """Python source for the conversions of ``art`` on rows of these columns, compiled.

    The generic path makes a dict of each row (a repeated name keeps its first place and its last
    value), takes ``_rowid`` out of it, and lets each column write its keys into ``data`` in that
    order (``<name>_raw`` beside converted values; a key written twice keeps its first place and
    its last value). All of that is decided here, once, so the code has one expression per key."""
    table_json = ENCODE(table)
    env: dict[str, Any] = {
        "_quote": encode_basestring, "_json": _json, "_encode": ENCODE, "_safe": json_safe, "_timeline": _timeline, "_stamp": _stamp,
        "_table": table, "_rowid_head": f'{{"table": {table_json}, "rowid": ',
        "_index_head": f'{{"table": {table_json}, "index": ',
        "_DAYS": conversions.DAYS, "_CLOCK": conversions.CLOCK, "_TWO": conversions.TWO,
        "_MILLIS": conversions.MILLIS, "_fraction": conversions.fraction,
    }
    last = {name: i for i, name in enumerate(names)}
    rowid = last.pop("_rowid", None)
    body: list[str] = []
    data: dict[str, str] = {}  # output key -> the local holding its JSON
    numeric_times: set[str] = set()  # locals always holding null or a UTC text ending in Z
    for name, i in last.items():
        v, j, r = f"v{i}", f"j{i}", f"r{i}"
        col = art.columns.get(name)
        if col is None or col.type not in ("timestamp", "enum", "blob", "bool"):  # kept as it is
            body.append(f"{j} = {_plain(v)}")
            data[name] = j
        elif col.type == "timestamp":
            env[f"_ts{i}"] = _slow_timestamp(col)
            body += _timestamp(col, v, j, r, f"_ts{i}")
            data[name], data[f"{name}_raw"] = j, r
            if _numeric(col):
                numeric_times.add(j)
        elif col.type == "enum":
            env[f"_map{i}"] = {key: ENCODE(value) for key, value in (col.map or {}).items()}
            env[f"_miss{i}"] = _enum_miss(col)
            body.append(f"{j} = _map{i}.get({v}) or _miss{i}({v})")
            body.append(f"{r} = {_plain(v)}")
            data[name], data[f"{name}_raw"] = j, r
        elif col.type == "blob":
            env[f"_blob{i}"] = _blob(col)
            body.append(f"{j} = _blob{i}({v})")
            data[name] = j
        else:
            body.append(f'{j} = "null" if {v} is None else "true" if {v} else "false"')
            data[name] = j

    time_piece = data.get(art.timeline_time) if art.timeline_time else None
    if time_piece is None:
        stamp: list[str] = ["null"]
    elif time_piece in numeric_times:
        stamp = [_Field(time_piece)]
    else:
        body.append(f"ts = _timeline({time_piece})")
        stamp = [_Field("ts")]
    row_line: list[str] = []  # only the JSON line needs the row as text
    if rowid is None:
        row: list[str] = [f'{{"table": {table_json}, "index": ', _Field("i")]
        row_id, row_index = "None", "i"
    else:
        v = f"v{rowid}"
        row_line = [f"if type({v}) is int:", f"    rh, rid = _rowid_head, {v}",
                    f"elif {v} is None:", "    rh, rid = _index_head, i",
                    "else:", f"    rh, rid = _rowid_head, _encode(_safe({v}))"]
        row = [_Field("rh"), _Field("rid")]
        row_id, row_index = f"({v} if type({v}) is int else _safe({v}))", f"None if {v} is not None else i"
    data_json: list[str] = ["{"]
    for n, (key, local) in enumerate(data.items()):
        data_json += [(", " if n else "") + ENCODE(key) + ": ", _Field(local)]
    data_json.append("}")
    line = [_Field("head"), *stamp, _Field("middle"), *row, '}, "data": ', *data_json, "}\n"]

    unpack = "".join(f"v{i}, " for i in range(len(names)))
    loop = [f"    for i, ({unpack}) in enumerate(rows, first):", *("        " + s for s in body)]
    stamp_value = "None" if time_piece is None else f"_stamp({stamp[0]})"
    source = "\n".join([
        "def lines(rows, first, head, middle):",
        "    out = []",
        "    append = out.append",
        *loop,
        *("        " + s for s in row_line),
        f"        append({_fstring(line)})",
        "    return out",
        "",
        "def case_rows(rows, first):",
        "    out = []",
        "    append = out.append",
        *loop,
        f"        append(({stamp_value}, _table, {row_id}, {row_index}, {_fstring(data_json)}))",
        "    return out",
        "",
    ])
    exec(compile(source, f"<row code {art.name}>", "exec"), env)  # our own generated source
    return RowCode(source, env["lines"], env["case_rows"])


def _fstring(parts: list[str]) -> str:
    """One f-string expression: adjacent literals (``repr`` of the text parts, so any text is safe)."""
    return " ".join(f"f'{{{part}}}'" if isinstance(part, _Field) else repr(part) for part in parts)
