"""Regular expressions from profiles, run with a time limit.

A profile's pattern may come from another lab, and the text it is matched against comes from a
suspect: ``^(a|aa)+$`` on a line of 40 ``a`` and a ``!`` backtracks for longer than anyone waits,
and Python's ``re`` cannot be stopped. The ``regex`` package (same syntax as ``re``) takes a
timeout: each use here gets :data:`MATCH_SECONDS`, and a pattern that needs longer ends the
file's records for that artifact with a per-file problem naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import regex

MATCH_SECONDS = 1.0
_COMPILED: dict[str, Any] = {}


class ParseError(Exception):
    """A pattern that ran out of time: shown per file, and the run goes on."""


def compile_pattern(text: str) -> Any:
    """The compiled pattern (cached); ``regex.error`` for a pattern that is not valid."""
    rx = _COMPILED.get(text)
    if rx is None:
        if len(_COMPILED) > 1000:
            _COMPILED.clear()
        rx = _COMPILED[text] = regex.compile(text)
    return rx


def _timed_out(rx: Any, where: str) -> ParseError:
    return ParseError(f"pattern {rx.pattern!r} took more than {MATCH_SECONDS:g} s {where} (catastrophic "
                      "backtracking?); the rest is not matched")


def finditer(rx: Any, text: str, where: str) -> Iterator[Any]:
    """``rx.finditer(text)``, all matches within :data:`MATCH_SECONDS`; ``where`` names the text."""
    try:
        yield from rx.finditer(text, timeout=MATCH_SECONDS)
    except TimeoutError:
        raise _timed_out(rx, where) from None


def search(rx: Any, text: str, where: str) -> Any:
    """``rx.search(text)`` within :data:`MATCH_SECONDS`."""
    try:
        return rx.search(text, timeout=MATCH_SECONDS)
    except TimeoutError:
        raise _timed_out(rx, where) from None
