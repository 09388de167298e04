"""Shared plumbing for containers decoded by libyal bindings (pyewf, pyvmdk, pyvhdi, pyqcow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Media


def first_line(exc: BaseException) -> str:
    """libyal errors chain every frame in one message; people need the last, most specific part."""
    text = str(exc).strip()
    parts = [p.strip() for p in text.replace("\n", " ").split(". ") if p.strip()]
    return parts[-1].rstrip(".") if parts else exc.__class__.__name__


class LibyalMedia(Media):
    """A libyal handle exposing ``read_buffer_at_offset`` and ``get_media_size``."""

    def __init__(self, path: Path, segments: list[Path], handle: Any, keep: list[Any] | None = None) -> None:
        super().__init__(path, segments)
        self._handle = handle
        self._keep = keep or []
        self._size = int(handle.get_media_size())
        if self._size == 0:
            self.close()
            raise EvidenceError(path, f"{self.format} container reports a media size of 0 bytes")

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        try:
            return self._handle.read_buffer_at_offset(size, offset)
        except OSError as exc:
            raise EvidenceError(self.path, f"read error at offset {offset}: {first_line(exc)}") from exc

    def close(self) -> None:
        for h in [self._handle, *self._keep]:
            try:
                h.close()
            except (OSError, AttributeError):
                pass
        self._keep = []
