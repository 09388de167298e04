"""One evidence item, whatever its layers, as a single read-only tree.

A partitioned disk shows each filesystem as ``/vol<N>`` (N is TSK's volume address, as mmls and
Autopsy number them; an APFS container adds ``/apfs<M>`` per volume); an unpartitioned disk or a
logical source is its filesystem root.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evkit import names
from evkit.errors import EvidenceError, NotFound, UsageError
from evkit.sources.base import Entry, FileSystem, Media
from evkit.sources.registry import CATCH_ALL, CONTAINERS, LOOSE, load, logical_candidates

HEAD_SIZE = 4096
PASSWORD_ENV = "EVKIT_BACKUP_PASSWORD"


class MissingEvidence(EvidenceError):
    exit_code = UsageError.exit_code


@dataclass
class Mount:
    """A filesystem and where it appears in the source tree ("" for the root)."""

    name: str
    fs: FileSystem
    volume: dict[str, Any] | None = None


class Source:
    """An opened evidence item. Use as a context manager; nothing is ever written."""

    def __init__(self, path: Path, kind: str, media: Media | None, mounts: list[Mount],
                 volume_system: dict[str, Any] | None = None, notes: list[str] | None = None) -> None:
        self.path = path
        self.kind = kind
        self.media = media
        self.mounts = mounts
        self.volume_system = volume_system
        self.notes = notes or []

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for m in self.mounts:
            m.fs.close()
        if self.media is not None:
            self.media.close()

    @property
    def partitioned(self) -> bool:
        return not (len(self.mounts) == 1 and self.mounts[0].name == "")

    # -- tree -----------------------------------------------------------------------------
    def _split(self, path: str) -> tuple[Mount | None, str]:
        clean = "/" + "/".join(p for p in path.split("/") if p)
        if not self.partitioned:
            return self.mounts[0], clean
        if clean == "/":
            return None, "/"
        for m in sorted(self.mounts, key=lambda m: -len(m.name)):
            prefix = "/" + m.name
            if clean == prefix or clean.startswith(prefix + "/"):
                return m, clean[len(prefix):] or "/"
        raise NotFound(f"{names.escape(clean)}: no such volume in {self.path.name} (volumes: {', '.join('/' + m.name for m in self.mounts)})")

    def _mount_entry(self, m: Mount) -> Entry:
        return Entry(path="/" + m.name, name=m.name, type="dir", size=0, deleted=False, locator=str(m.fs.locator))

    def walk(self, path: str = "/", recursive: bool = False,
             walk_mount: Callable[[Mount, str, bool], Iterator[Entry]] | None = None) -> Iterator[Entry]:
        """Entries under ``path``; ``walk_mount`` lists one filesystem in place of
        :meth:`walk_mount` (``evkit ls`` passes its C walker, which falls back to this one)."""
        each = walk_mount or self.walk_mount
        mount, sub = self._split(path)
        if mount is None:
            for m in self.mounts:
                yield self._mount_entry(m)
                if recursive:
                    yield from each(m, "/", True)
            return
        yield from each(mount, sub, recursive)

    def walk_mount(self, m: Mount, sub: str, recursive: bool) -> Iterator[Entry]:
        """Entries of one mounted filesystem under ``sub``, their paths under the mount's name."""
        prefix = "/" + m.name if m.name else ""
        for e in m.fs.walk(sub, recursive):
            if prefix:
                e.path = prefix + e.path
            yield e

    def lookup(self, path: str) -> Entry:
        mount, sub = self._split(path)
        if mount is None:
            raise NotFound(f"/ of {self.path.name} is the list of volumes, not a file")
        e = mount.fs.lookup(sub)
        if mount.name:
            e.path = "/" + mount.name + (e.path if e.path != "/" else "")
        return e

    def by_inode(self, inode: int, volume: int | None = None, stream: str | None = None) -> Entry:
        mount = self._volume_mount(volume)
        e = mount.fs.by_inode(inode, stream)
        if mount.name:
            e.path = f"/{mount.name}/{e.path}"
        return e

    def filename_entry(self, entry: Entry) -> Entry | None:
        """NTFS $FILE_NAME times of ``entry`` as a bodyfile-ready entry (None elsewhere)."""
        mount, _ = self._split(entry.path)
        finder = getattr(mount.fs, "filename_entry", None) if mount else None
        fn = finder(entry) if finder else None
        if fn is not None and mount is not None and mount.name and not fn.path.startswith("/" + mount.name + "/"):
            fn.path = "/" + mount.name + fn.path
        return fn

    def _volume_mount(self, volume: int | None) -> Mount:
        if not self.partitioned:
            return self.mounts[0]
        if volume is None:
            raise UsageError(f"{self.path.name} has several filesystems; say which with --volume ({', '.join(m.name for m in self.mounts)})")
        for m in self.mounts:
            if m.volume and m.volume.get("addr") == volume:
                return m
        raise UsageError(f"{self.path.name} has no filesystem on volume {volume}")

    def open(self, entry: Entry) -> io.RawIOBase:
        mount, _ = self._split(entry.path)
        if mount is None:
            raise NotFound("the volume list has no content")
        return mount.fs.open(entry)

    # -- facts ----------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": str(self.path), "kind": self.kind}
        if self.media is not None:
            out["container"] = {
                "format": self.media.format,
                "segments": [str(s) for s in self.media.segments],
                "media_size": self.media.size,
                "metadata": self.media.metadata(),
                "stored_hashes": self.media.stored_hashes(),
            }
        out["volume_system"] = self.volume_system
        from evkit.sources.logical.phone_layout import phone_layout

        out["filesystems"] = [{"mount": "/" + m.name, "volume": m.volume, "locator": str(m.fs.locator), **m.fs.info(),
                               "phone": phone_layout(m.fs)} for m in self.mounts]
        out["notes"] = self.notes
        return out


def open_source(path: str | os.PathLike[str], filesystems: bool = True) -> Source:
    """Open any evidence item read-only, detecting its format by content.

    With ``filesystems=False`` only the container is decoded: hashing must work on media whose
    filesystems are unreadable (damaged, encrypted, unknown), which is when a hash matters most.
    """
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise MissingEvidence(p, "no such file or directory")
    if p.is_dir():
        return _open_logical(p, b"")
    try:
        with open(p, "rb") as fh:
            head = fh.read(HEAD_SIZE)
    except OSError as exc:
        raise EvidenceError(p, f"cannot read: {exc.strerror or exc}") from exc
    if not head:
        raise EvidenceError(p, "file is empty (0 bytes)")
    for cls in logical_candidates(False, head):
        if cls.detect(p, head):
            return _logical(p, cls)
    for spec in CONTAINERS:
        cls = load(spec)
        if cls.detect(p, head):
            media = cls.open(p)
            try:
                _check_media_size(p, media)
            except BaseException:
                media.close()
                raise
            if not filesystems:
                return Source(p, "disk", media, [])
            try:
                return _open_disk(p, media)
            except NoFilesystem as exc:
                media.close()
                if spec != CATCH_ALL:
                    raise
                return _loose(p, head, exc)
            except BaseException:
                media.close()
                raise
    raise EvidenceError(p, "format not recognised")


MAX_MEDIA_ENV = "EVKIT_MAX_MEDIA_BYTES"
MAX_MEDIA_BYTES = 64 * 2**40  # 64 TiB: beyond the largest evidence a lab images today


def _check_media_size(p: Path, media: Media) -> None:
    """Refuse a media whose claimed size no lab could hold: a 23 MB QCOW2 claiming 1 EiB, an E01
    whose volume section claims 2^40 sectors. Hashing it would run for years; any work bounded by
    the claim would too. ``EVKIT_MAX_MEDIA_BYTES`` raises the bound for a genuinely larger image."""
    text = os.environ.get(MAX_MEDIA_ENV)
    try:
        limit = int(text) if text else MAX_MEDIA_BYTES
    except ValueError:
        raise UsageError(f"{MAX_MEDIA_ENV}={text!r}: not a number of bytes") from None
    if media.size > limit:
        raise EvidenceError(p, f"{media.format} claims a media of {media.size:,} bytes (2^{media.size.bit_length() - 1} or more), "
                               f"more than evkit reads ({limit:,} bytes; {MAX_MEDIA_ENV} raises it): refused as implausible")


class NoFilesystem(EvidenceError):
    """A container was opened but no volume system or filesystem was found in it."""


def _loose(p: Path, head: bytes, failed: NoFilesystem) -> Source:
    """A file no format claims: a loose file, unless it looks like a disk image (then the failure
    to read that image is the answer, said with what made it look like one)."""
    from evkit.sources.logical.loose import looks_like_disk

    why = looks_like_disk(p, head)
    if why is not None:
        raise EvidenceError(p, f"{failed.reason}; it looks like a disk image ({why}), so it is not opened as a single file")
    return _logical(p, load(LOOSE))


def _open_logical(p: Path, head: bytes) -> Source:
    for cls in logical_candidates(True, head):
        if cls.detect(p, head):
            return _logical(p, cls)
    raise EvidenceError(p, "not a supported logical source")


def _logical(p: Path, cls: Any) -> Source:
    """A logical source; encrypted backups take the password from ``EVKIT_BACKUP_PASSWORD``
    (set by the CLI's ``--password-file``/``--ask-password``), never from the command line."""
    fs = cls.open(p, password=os.environ.get(PASSWORD_ENV)) if getattr(cls, "takes_password", False) else cls.open(p)
    return Source(p, "logical", None, [Mount("", fs)], notes=list(getattr(fs, "notes", []) or []))


def _open_disk(p: Path, media: Media) -> Source:
    from evkit.sources.volumes import find_filesystems

    mounts, volume_system, notes = find_filesystems(media)
    if not mounts:
        detail = "; ".join(notes) if notes else "no volume system or filesystem recognised"
        raise NoFilesystem(p, detail)
    return Source(p, "disk", media, mounts, volume_system, notes)
