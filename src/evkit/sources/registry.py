"""The one place where formats are registered.

Adding a container or logical source means writing its module and naming its class here; the
rest of evkit finds it through these lists. Order matters: formats are tried top to bottom and
the first whose ``detect`` accepts the file wins, so catch-alls (raw) come last. Entries are
"module:Class" strings so that ``evkit`` starts without importing every binding.
"""

from __future__ import annotations

import importlib
from typing import Any

CONTAINERS = [
    "evkit.sources.containers.ewf:Ewf",
    "evkit.sources.containers.vmdk:Vmdk",
    "evkit.sources.containers.vhd:Vhd",
    "evkit.sources.containers.qcow:Qcow",
    "evkit.sources.containers.split:Split",
    "evkit.sources.containers.raw:Raw",
]

LOGICAL = [
    "evkit.sources.logical.itunes:ITunesBackup",
    "evkit.sources.logical.adb_backup:AdbBackup",
    "evkit.sources.logical.directory:Directory",
    "evkit.sources.logical.zip:Zip",
    "evkit.sources.logical.tar:Tar",
]


def load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)
