"""QEMU QCOW (v1-v3) through pyqcow, with a backing file found beside the image."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evkit.errors import EncryptedVolume, EvidenceError
from evkit.sources.base import Container, Media
from evkit.sources.containers.libyal import LibyalMedia, first_line

MAX_CHAIN = 32


class QcowMedia(LibyalMedia):
    format = "qcow"

    def metadata(self) -> dict[str, Any]:
        return {"backing_files": [p.name for p in self.segments[1:]]}


class Qcow(Container):
    name = "qcow"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head.startswith(b"QFI\xfb")

    @classmethod
    def open(cls, path: Path) -> Media:
        import pyqcow

        chain: list[Any] = []
        segments: list[Path] = []
        current: Path | None = path
        while current is not None:
            handle = pyqcow.file()
            try:
                handle.open(str(current))
            except OSError as exc:
                for h in chain:
                    h.close()
                raise EvidenceError(current, f"cannot open QCOW: {first_line(exc)}") from exc
            if handle.is_locked():
                for h in [*chain, handle]:
                    h.close()
                raise EncryptedVolume(current, "QCOW encryption", "the QCOW image")
            chain.append(handle)
            segments.append(current)
            backing = handle.get_backing_filename()
            if not backing:
                break
            current = current.parent / os.path.basename(backing)
            if not current.is_file() or current in segments or len(chain) > MAX_CHAIN:
                for h in chain:
                    h.close()
                raise EvidenceError(path, f"QCOW image needs its backing file {backing!r}, which is not next to it")
        for child, parent in zip(chain, chain[1:]):
            child.set_parent(parent)
        return QcowMedia(path, segments, chain[0], keep=chain[1:])
