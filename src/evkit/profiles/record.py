"""What the engine produces: records, and the per-file problems that did not stop the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evkit.jsontext import dumps

ENCODE = dumps
"""The JSON encoder of records: ``evkit parse --json`` lines and case.db ``data`` (:func:`evkit.jsontext.dumps`)."""


@dataclass
class Record:
    profile: str
    profile_version: str
    artifact: str
    timestamp: str | None
    locator: str
    source_sha256: str
    path: str
    row: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The record as ``evkit parse --json`` prints it (:func:`json_frame` writes the same keys in the same order)."""
        return {"profile": self.profile, "profile_version": self.profile_version, "artifact": self.artifact,
                "timestamp": self.timestamp, "locator": self.locator, "source_sha256": self.source_sha256,
                "path": self.path, "row": self.row, "data": self.data}


@dataclass(frozen=True)
class Origin:
    """What every record of one artifact of one file shares."""

    profile: str
    profile_version: str
    artifact: str
    locator: str
    source_sha256: str
    path: str

    def record(self, timestamp: str | None, row: dict[str, Any], data: dict[str, Any]) -> Record:
        return Record(self.profile, self.profile_version, self.artifact, timestamp, self.locator, self.source_sha256,
                      self.path, row, data)


def json_frame(origin: Origin) -> tuple[str, str]:
    """The JSON text of a record of ``origin`` before its timestamp, and between its timestamp and its row.

    Compiled row code writes records as ``head + timestamp + middle + row + ', "data": ' + data + "}"``:
    the keys of :meth:`Record.as_dict`, in its order."""
    head = (f'{{"profile": {ENCODE(origin.profile)}, "profile_version": {ENCODE(origin.profile_version)}, '
            f'"artifact": {ENCODE(origin.artifact)}, "timestamp": ')
    middle = (f', "locator": {ENCODE(origin.locator)}, "source_sha256": {ENCODE(origin.source_sha256)}, '
              f'"path": {ENCODE(origin.path)}, "row": ')
    return head, middle


@dataclass
class FileProblem:
    """A file a profile matched but could not parse (corrupt, encrypted, unexpected schema), or,
    with ``note``, read in full but with something the examiner must know (columns this version
    of the app lacks, read as empty): a note is said, recorded, and is not a failure."""

    profile: str
    locator: str
    path: str
    message: str
    note: bool = False

    def as_dict(self) -> dict[str, Any]:
        key = "note" if self.note else "error"
        return {"profile": self.profile, "locator": self.locator, "path": self.path, key: self.message}
