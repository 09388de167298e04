"""Hands any :class:`~evkit.sources.base.Media` to The Sleuth Kit.

pytsk3 opens only raw files by itself, so every other decoder is wrapped in an ``Img_Info``
subclass of type ``TSK_IMG_TYPE_EXTERNAL`` whose reads TSK calls back into.
"""

from __future__ import annotations

import pytsk3

from evkit.errors import EvkitError
from evkit.sources.base import Media


class MediaImg(pytsk3.Img_Info):  # type: ignore[misc]
    """An exception inside TSK's read callback would surface as a bare RuntimeError with TSK's
    own text; the callback stores it instead, returns nothing, and :func:`reraise` hands the
    examiner the real reason once the TSK call has failed."""

    def __init__(self, media: Media) -> None:
        self._media = media
        self.error: EvkitError | None = None
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        try:
            return self._media.read(offset, size)
        except EvkitError as exc:
            self.error = exc
            return b""

    def get_size(self) -> int:
        return self._media.size

    def close(self) -> None:
        """The media is closed by its owner, not by TSK."""


def reraise(img: pytsk3.Img_Info) -> None:
    """Raise the evidence error a read callback stored, if any (call after a TSK call failed)."""
    error = getattr(img, "error", None)
    if error is not None:
        img.error = None
        raise error


def tsk_image(media: Media) -> pytsk3.Img_Info:
    """A TSK image for ``media``; plain raw files are opened natively, which is much faster."""
    if media.format == "raw":
        return pytsk3.Img_Info(str(media.path))
    return MediaImg(media)
