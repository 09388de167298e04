"""The one place where formats are registered.

Adding a container or logical source means writing its module and naming its class here; the
rest of evkit finds it through these lists. Order matters: formats are tried top to bottom and
the first whose ``detect`` accepts the file wins, so catch-alls (raw) come last. Entries are
"module:Class" strings so that ``evkit`` starts without importing every binding; a logical
source also says what it can be (a folder, or a file starting with given bytes), so modules that
cannot match are not even imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

CONTAINERS = [
    "evkit.sources.containers.ewf:Ewf",
    "evkit.sources.containers.vmdk:Vmdk",
    "evkit.sources.containers.vhd:Vhd",
    "evkit.sources.containers.qcow:Qcow",
    "evkit.sources.containers.split:Split",
    "evkit.sources.containers.raw:Raw",
]

FOLDER = "folder"
ANY = "any"

# The catch-all container: it accepts any file, so a file it cannot find a filesystem in may be a
# single loose file rather than a disk image (sources/logical/loose.py decides which).
CATCH_ALL = "evkit.sources.containers.raw:Raw"

# The last resort for a regular file no format claims and that does not look like a disk image.
LOOSE = "evkit.sources.logical.loose:LooseFile"

LOGICAL: list[tuple[str, str | tuple[bytes, ...]]] = [
    ("evkit.sources.logical.itunes:ITunesBackup", FOLDER),
    ("evkit.sources.logical.adb_backup:AdbBackup", (b"ANDROID BACKUP",)),
    ("evkit.sources.logical.directory:Directory", FOLDER),
    ("evkit.sources.logical.zip:Zip", (b"PK",)),
    ("evkit.sources.logical.tar:Tar", ANY),
]


def logical_candidates(is_folder: bool, head: bytes) -> Iterator[Any]:
    """The logical source classes that could claim this item, imported only when they could."""
    for spec, can_be in LOGICAL:
        if can_be == FOLDER:
            if not is_folder:
                continue
        elif can_be != ANY and (is_folder or not head.startswith(can_be)):
            continue
        yield load(spec)


def load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)
