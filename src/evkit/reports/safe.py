"""Escaping for every context a report writes suspect-controlled text into.

Everything a report shows came from a suspect's device, so nothing is trusted: HTML text and
attributes, JSON carried into a page, CSS strings, XML, spreadsheet cells and file names each have
their own rule here, and the writers use nothing else.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

# C0 controls but tab and newline, DEL and C1 controls: invisible or destructive in a page, shown \xNN.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional overrides, embeddings, isolates and marks: they reorder what is shown ("gpj.exe"),
# so a report shows them as \uXXXX instead of obeying them; so are lone surrogates, which no encoding carries.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")  # (+ lone surrogates)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

JS_SAFE_INT = 2**53 - 1
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def visible(text: str) -> str:
    """``text`` with control and bidi-control characters written out (``\\x01``, ``\\u202e``)."""
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    if _BIDI.search(text):
        text = _BIDI.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text


def h(value: Any) -> str:
    """Text for an HTML text node or a quoted attribute value: escaped, controls made visible."""
    if value is None:
        return ""
    return html.escape(visible(value if isinstance(value, str) else cell_text(value)), quote=True)


def cell_text(value: Any) -> str:
    """One value as text, the same way in every format: None is empty, a list of plain values is
    joined with "; " (a reader should not have to read JSON brackets and quotes), anything nested
    stays JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list) and all(v is None or isinstance(v, (str, int, float)) for v in value):
        return "; ".join(cell_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def js_value(value: Any) -> Any:
    """A JSON value that JavaScript reads back unchanged: big integers and NaN/Infinity become text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -JS_SAFE_INT <= value <= JS_SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    return cell_text(value)


def json_for_script(obj: Any) -> str:
    """JSON text safe inside a ``<script>`` element or a ``.js`` file: ``< > &`` U+2028/9 escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def js_data_file(variable: str, obj: Any) -> str:
    """A ``.js`` file that hands ``obj`` to the page as ``window[variable]``, parsed by ``JSON.parse``.

    The data is a JSON document inside a JavaScript string literal, so even a mistake in the inner
    escaping could only produce a wrong string, never code; the literal itself is ASCII only.
    """
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", variable):
        raise ValueError(variable)
    inner = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    literal = json.dumps(inner, ensure_ascii=True)
    literal = literal.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (f'"use strict";\nwindow.{variable}_T0 = performance.now();\nwindow.{variable} = JSON.parse({literal});\n'
            f"window.{variable}_MS = performance.now() - window.{variable}_T0;\n")


def css_string(text: str) -> str:
    """A double-quoted CSS string; everything but letters, digits and space is a hex escape."""
    out = []
    for ch in visible(text):
        if ch.isascii() and (ch.isalnum() or ch == " "):
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


def xml_safe(text: str) -> str:
    """Text XML 1.0 can carry: characters it cannot are written ``\\xNN`` / ``\\uXXXX``."""
    if _NOT_XML.search(text):
        text = _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256 else f"\\u{ord(m.group(0)):04x}", text)
    return text


def neutralise(text: str) -> str:
    """A spreadsheet cell that a spreadsheet would read as a formula gets a leading single quote."""
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def spreadsheet_value(value: Any) -> Any:
    """A CSV/XLSX value: numbers stay numbers, everything else is neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value if -JS_SAFE_INT <= value <= JS_SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    return neutralise(cell_text(value))


_SLUG = re.compile(r"[^a-z0-9_.-]+")


def slug(text: str, limit: int = 60) -> str:
    """A file-name fragment of ``[a-z0-9_.-]`` only (the caller makes it unique with a number)."""
    s = _SLUG.sub("_", text.lower()).strip("._-")
    return (s[:limit].rstrip("._-") or "x")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_names(titles: list[str], taken: set[str] | None = None) -> list[str]:
    """Excel sheet names for ``titles``: at most 31 characters, none of ``[]:*?/\\``, unique ignoring case."""
    used = {t.lower() for t in (taken or set())} | {"history"}
    out = []
    for title in titles:
        base = _SHEET_BAD.sub("_", title).strip("'").strip() or "Sheet"
        name = base if len(base) <= 31 else base[:14] + "~" + base[-16:]
        n = 1
        while name.lower() in used:
            n += 1
            suffix = f" ({n})"
            name = (base if len(base) + len(suffix) <= 31 else base[:31 - len(suffix)].rstrip()) + suffix
        name = name.strip("'")
        used.add(name.lower())
        out.append(name)
    return out
