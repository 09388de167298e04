"""VMware VMDK (monolithic or split sparse, flat, ESX) through pyvmdk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Container, Media
from evkit.sources.containers.libyal import LibyalMedia, first_line


class VmdkMedia(LibyalMedia):
    format = "vmdk"

    def metadata(self) -> dict[str, Any]:
        h = self._handle
        return {"disk_type": h.get_disk_type(), "extents": h.get_number_of_extents(), "parent": h.get_parent_filename()}


class Vmdk(Container):
    name = "vmdk"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head[:4] in (b"KDMV", b"COWD") or head.lstrip().startswith(b"# Disk DescriptorFile")

    @classmethod
    def open(cls, path: Path) -> Media:
        import pyvmdk

        handle = pyvmdk.handle()
        try:
            handle.open(str(path))
            handle.open_extent_data_files()
        except OSError as exc:
            raise EvidenceError(path, f"cannot open VMDK: {first_line(exc)}") from exc
        segments = [path]
        for i in range(handle.get_number_of_extents()):
            name = handle.get_extent_descriptor(i).get_filename()
            if name and (path.parent / name) != path:
                segments.append(path.parent / name)
        return VmdkMedia(path, segments, handle)
