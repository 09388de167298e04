"""VMware VMDK (monolithic or split sparse, flat, ESX) through pyvmdk; a differencing (snapshot)
disk's parents are found beside it, by the name its descriptor records."""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath
from typing import Any

from evkit.errors import EvidenceError
from evkit.sources.base import Container, Media
from evkit.sources.containers.chain import parent_problem
from evkit.sources.containers.libyal import LibyalMedia, first_line

MAX_CHAIN = 32

# libvmdk's LIBVMDK_DISK_TYPE_* values, as the createType names of a VMDK descriptor.
DISK_TYPES = {
    1: "twoGbMaxExtentFlat", 2: "twoGbMaxExtentSparse", 3: "custom", 4: "fullDevice",
    5: "partitionedDevice", 6: "monolithicFlat", 7: "monolithicSparse", 8: "streamOptimized",
    9: "vmfs", 10: "vmfsPreallocated", 11: "vmfsEagerZeroedThick", 12: "vmfsRaw", 13: "vmfsRDM",
    14: "vmfsRDMP", 15: "vmfsSparse", 16: "vmfsThin",
}


class VmdkMedia(LibyalMedia):
    format = "vmdk"

    def __init__(self, path: Path, segments: list[Path], handle: Any, keep: list[Any], parents: list[Path]) -> None:
        super().__init__(path, segments, handle, keep=keep)
        self.parents = parents

    def metadata(self) -> dict[str, Any]:
        h = self._handle
        disk_type = h.get_disk_type()
        return {"disk_type": DISK_TYPES.get(disk_type, disk_type), "extents": h.get_number_of_extents(),
                "parent": h.get_parent_filename(), "parents": [p.name for p in self.parents]}


class Vmdk(Container):
    name = "vmdk"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head[:4] in (b"KDMV", b"COWD") or head.lstrip().startswith(b"# Disk DescriptorFile")

    @classmethod
    def open(cls, path: Path) -> Media:
        chain: list[Any] = []
        files: list[Any] = []
        segments: list[Path] = []
        parents: list[Path] = []
        current = path
        try:
            while True:
                handle, segs, fhs = _open_one(current)
                chain.append(handle)
                files.extend(fhs)
                if current != path:
                    parents.append(current)
                segments.extend(s for s in segs if s not in segments)
                recorded = handle.get_parent_filename()
                if not recorded:
                    break
                parent = _find_parent(current, recorded)
                if parent is None or parent == current or parent in parents or len(chain) > MAX_CHAIN:
                    raise EvidenceError(path, parent_problem("VMDK", recorded, current, parent, parents, len(chain) > MAX_CHAIN))
                current = parent
        except BaseException:
            for h in [*chain, *files]:
                h.close()
            raise
        for child, parent_handle in zip(chain, chain[1:]):
            child.set_parent(parent_handle)
        return VmdkMedia(path, segments, chain[0], keep=[*chain[1:], *files], parents=parents)


def _open_one(path: Path) -> tuple[Any, list[Path], list[Any]]:
    import pyvmdk

    handle = pyvmdk.handle()
    try:
        handle.open(str(path))
    except OSError as exc:
        if _is_bare_extent(path):
            owner = _descriptor_naming(path)
            hint = f"open {owner.name}, which names it" if owner else "open the descriptor .vmdk that names it"
            raise EvidenceError(path, f"is an extent of a multi-file VMDK, not its descriptor; {hint}") from exc
        raise EvidenceError(path, f"cannot open VMDK: {first_line(exc)}") from exc
    if _is_self_contained(path, handle):
        # The embedded descriptor names the extent as the file was called when it was made; after a
        # rename that name may be another file (the original, a copy), so the extent is this file.
        fh = open(path, "rb")
        try:
            handle.open_extent_data_files_as_file_objects([fh])
        except OSError as exc:
            fh.close()
            handle.close()
            raise EvidenceError(path, f"cannot open VMDK: {first_line(exc)}") from exc
        return handle, [path], [fh]
    # The extents are opened by evkit, each by its base name in the descriptor's folder: a name
    # with a folder part (``/etc/passwd``) never leads elsewhere, and libvmdk, left to itself, opened
    # a file of a cut name ("pass") while the case recorded and re-checked another ("passwd").
    extents = _segments(path, handle)[1:]
    missing = [p.name for p in extents if not p.is_file()]
    if missing:
        handle.close()
        raise EvidenceError(path, f"VMDK extent file(s) missing: {', '.join(missing)}")
    files = []
    try:
        files = [open(p, "rb") for p in extents]
        handle.open_extent_data_files_as_file_objects(files)
    except OSError as exc:
        for fh in files:
            fh.close()
        handle.close()
        raise EvidenceError(path, f"cannot open VMDK extents: {first_line(exc)}") from exc
    return handle, [path, *extents], files


def _is_self_contained(path: Path, handle: Any) -> bool:
    """A monolithic sparse or stream-optimized VMDK: one sparse extent, descriptor embedded in it."""
    if handle.get_number_of_extents() != 1 or handle.get_disk_type() not in (7, 8):
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == b"KDMV"


def _is_bare_extent(path: Path) -> bool:
    """A sparse extent (``KDMV``) without an embedded descriptor (none, or an empty area for one)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(44)
            if head[:4] != b"KDMV" or len(head) < 44:
                return False
            fh.seek(int.from_bytes(head[28:36], "little") * 512)
            return int.from_bytes(head[28:36], "little") == 0 or b"# Disk DescriptorFile" not in fh.read(1024)
    except (OSError, ValueError, OverflowError):
        return False


def _descriptor_naming(extent: Path) -> Path | None:
    """A descriptor beside ``extent`` that lists it (small text files, or sparse files with an embedded descriptor)."""
    needle = f'"{extent.name}"'.encode()
    try:
        siblings = sorted(extent.parent.iterdir())
    except OSError:
        return None
    for p in siblings:
        try:
            if p == extent or p.suffix.lower() != ".vmdk" or not p.is_file():
                continue
            with open(p, "rb") as fh:
                if needle in fh.read(64 * 1024):
                    return p
        except OSError:
            continue
    return None


def _segments(path: Path, handle: Any) -> list[Path]:
    segments = [path]
    for i in range(handle.get_number_of_extents()):
        name = handle.get_extent_descriptor(i).get_filename()
        if name:
            p = path.parent / _basename(name)
            if p != path and p not in segments:
                segments.append(p)
    return segments


def _basename(recorded: str) -> str:
    return PureWindowsPath(recorded).name if "\\" in recorded else os.path.basename(recorded)


def _find_parent(child: Path, recorded: str) -> Path | None:
    candidate = child.parent / _basename(recorded)
    return candidate if candidate.is_file() else None
