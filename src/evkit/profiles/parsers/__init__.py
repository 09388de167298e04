"""The parsers a profile can name, registered in one place.

Each module has ``NEEDS_FILE`` (True when it must read a scratch copy on disk, as SQLite does;
False when a stream is enough), ``identify(profile, path_or_stream) -> bool`` and ``parse``.
With ``TABLES = False``, ``parse(profile, path_or_stream) -> Iterator[tuple[artifact, row, data]]``
gives one record at a time. With ``TABLES = True`` (SQLite), ``parse(profile, path)`` gives
:class:`~evkit.profiles.rowcode.TableRows`, batches of row tuples of one query, which the engine
converts with code compiled for the query's columns, as a table can have millions of rows.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PARSERS = {
    "sqlite": "evkit.profiles.parsers.sqlite",
    "exif": "evkit.profiles.parsers.exif",
    "plist": "evkit.profiles.parsers.plist",
    "json": "evkit.profiles.parsers.jsonfile",
    "text": "evkit.profiles.parsers.text",
    "file": "evkit.profiles.parsers.file",
}


def get(name: str) -> ModuleType:
    return importlib.import_module(PARSERS[name])
