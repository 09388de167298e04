"""Exceptions that carry the exit code the CLI reports, so every layer speaks the same contract.

Exit codes (documented in README.md and docs/exit-codes.md):
0 success; 1 a verification found a mismatch; 2 usage error; 3 evidence unreadable or
unsupported; 4 finished, but some items failed.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3
EXIT_PARTIAL = 4


class EvkitError(Exception):
    """Base of every error meant for a person: the message is the one line the CLI prints."""

    exit_code = EXIT_UNREADABLE


class UsageError(EvkitError):
    exit_code = EXIT_USAGE


class EvidenceError(EvkitError):
    """The evidence cannot be read: missing, empty, truncated, corrupt or of an unknown format."""

    exit_code = EXIT_UNREADABLE

    def __init__(self, source: object, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")


class UnsupportedEvidence(EvidenceError):
    """Recognised but not openable here, e.g. an encrypted volume."""


class EncryptedVolume(UnsupportedEvidence):
    def __init__(self, source: object, scheme: str, where: str) -> None:
        self.scheme = scheme
        super().__init__(source, f"{where} is encrypted with {scheme}; opening encrypted volumes is not supported")


class NotFound(EvkitError):
    """A path or inode asked for does not exist in the evidence."""

    exit_code = EXIT_USAGE


class RunAlreadyFinished(EvkitError):
    """The command given (same work, same options) is the one whose run was interrupted, and that
    run had in fact finished: its custody event was written before it was stopped. Its bookkeeping
    is now complete; running it again would only add a second event for the same work, so nothing
    is run. Not a failure."""

    exit_code = EXIT_OK

    def __init__(self, message: str, event: dict[str, Any]) -> None:
        super().__init__(message)
        self.event = event
