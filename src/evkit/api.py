"""The Python API labs script against; the ``evkit`` command is built on exactly these calls.

    from evkit.api import open_source, hash_media

    with open_source("case.E01") as src:
        for entry in src.walk("/", recursive=True):
            if entry.type == "file" and not entry.deleted:
                with src.open(entry) as fh:
                    head = fh.read(16)
        print(hash_media(src, ["md5", "sha256"], verify=True).as_dict())
"""

from evkit.errors import (
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREADABLE,
    EXIT_USAGE,
    EncryptedVolume,
    EvidenceError,
    EvkitError,
    NotFound,
    UnsupportedEvidence,
    UsageError,
)
from evkit.listing import bodyfile_line, entry_hashes, entry_record
from evkit.locator import Layer, Locator
from evkit.media_hash import MediaHashResult, hash_media
from evkit.sources.base import Entry
from evkit.sources.source import Source, open_source

__all__ = [
    "EXIT_MISMATCH", "EXIT_OK", "EXIT_PARTIAL", "EXIT_UNREADABLE", "EXIT_USAGE",
    "EncryptedVolume", "Entry", "EvidenceError", "EvkitError", "Layer", "Locator", "MediaHashResult",
    "NotFound", "Source", "UnsupportedEvidence", "UsageError", "bodyfile_line", "entry_hashes",
    "entry_record", "hash_media", "open_source",
]
