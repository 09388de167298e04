"""What the engine produces: records, and the per-file problems that did not stop the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
        return {"profile": self.profile, "profile_version": self.profile_version, "artifact": self.artifact,
                "timestamp": self.timestamp, "locator": self.locator, "source_sha256": self.source_sha256,
                "path": self.path, "row": self.row, "data": self.data}


@dataclass
class FileProblem:
    """A file a profile matched but could not parse (corrupt, encrypted, unexpected schema)."""

    profile: str
    locator: str
    path: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "locator": self.locator, "path": self.path, "error": self.message}
