"""Microsoft VHD (fixed, dynamic, differencing) and VHDX through pyvhdi; parents are found beside the child."""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Container, Media
from evkit.sources.containers.libyal import LibyalMedia, first_line

DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differential"}
MAX_CHAIN = 32


class VhdMedia(LibyalMedia):
    format = "vhd"

    def metadata(self) -> dict[str, Any]:
        h = self._handle
        return {
            "disk_type": DISK_TYPES.get(h.get_disk_type(), h.get_disk_type()),
            "vhd_format_version": h.get_format_version(),
            "parents": [str(p.name) for p in self.segments[1:]],
        }


class VhdxMedia(VhdMedia):
    """A VHDX (Hyper-V, 2012+) disk: same decoder, reported under its own name."""

    format = "vhdx"


class Vhd(Container):
    name = "vhd"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        if head.startswith((b"vhdxfile", b"conectix")):
            return True
        size = path.stat().st_size
        if size < 512:
            return False
        with open(path, "rb") as fh:
            fh.seek(size - 512)
            return fh.read(8) == b"conectix"

    @classmethod
    def open(cls, path: Path) -> Media:
        import pyvhdi

        chain: list[Any] = []
        segments: list[Path] = []
        current = path
        while True:
            handle = pyvhdi.file()
            try:
                handle.open(str(current))
            except OSError as exc:
                for h in chain:
                    h.close()
                raise EvidenceError(current, f"cannot open VHD: {first_line(exc)}") from exc
            chain.append(handle)
            segments.append(current)
            if handle.get_disk_type() != 4:
                break
            parent = _find_parent(current, handle.get_parent_filename())
            if parent is None or len(chain) > MAX_CHAIN or parent in segments:
                for h in chain:
                    h.close()
                raise EvidenceError(path, f"differencing VHD needs its parent {handle.get_parent_filename()!r}, which is not next to {current.name}")
            current = parent
        for child, parent_handle in zip(chain, chain[1:]):
            child.set_parent(parent_handle)
        with open(path, "rb") as fh:
            cls_media = VhdxMedia if fh.read(8) == b"vhdxfile" else VhdMedia
        return cls_media(path, segments, chain[0], keep=chain[1:])


def _find_parent(child: Path, recorded: str | None) -> Path | None:
    if not recorded:
        return None
    name = PureWindowsPath(recorded).name if "\\" in recorded else os.path.basename(recorded)
    candidate = child.parent / name
    return candidate if candidate.is_file() else None
