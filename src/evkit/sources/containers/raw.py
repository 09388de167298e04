"""Raw (dd) images: any file no other container claims."""

from __future__ import annotations

import os
from pathlib import Path

from evkit.errors import EvidenceError
from evkit.sources.base import Container, Media


class RawMedia(Media):
    format = "raw"

    def __init__(self, path: Path) -> None:
        super().__init__(path, [path])
        self._fd = os.open(path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size
        if self._size == 0:
            os.close(self._fd)
            raise EvidenceError(path, "file is empty (0 bytes)")

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class Raw(Container):
    name = "raw"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return True

    @classmethod
    def open(cls, path: Path) -> Media:
        return RawMedia(path)
