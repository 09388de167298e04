"""Volume systems (DOS/MBR with extended partitions, GPT, APM, BSD, Sun) through pytsk3, and the
filesystems found in each partition, or on the whole media when there is no volume system."""

from __future__ import annotations

from typing import Any

import pytsk3

from evkit.errors import EncryptedVolume
from evkit.locator import Layer, Locator
from evkit.sources import encryption
from evkit.sources.base import FileSystem, Media
from evkit.sources.filesystems.apfs import APFS_MAGIC, APFS_MAGIC_OFFSET
from evkit.sources.tsk_image import reraise, tsk_image

VS_TYPES = {
    "TSK_VS_TYPE_DOS": "dos",
    "TSK_VS_TYPE_GPT": "gpt",
    "TSK_VS_TYPE_MAC": "apm",
    "TSK_VS_TYPE_BSD": "bsd",
    "TSK_VS_TYPE_SUN": "sun",
}
_VS_ENUM_NAMES = {int(getattr(pytsk3, n)): n for n in dir(pytsk3) if n.startswith("TSK_VS_TYPE_") and not n.endswith(("_DETECT", "_ENUM", "_UNSUPP"))}
_ALLOC = int(pytsk3.TSK_VS_PART_FLAG_ALLOC)
_META = int(pytsk3.TSK_VS_PART_FLAG_META)


def _tsk_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("with error: ", "error: "):
        if marker in text:
            return text.split(marker, 1)[1].strip()
    return text.strip() or exc.__class__.__name__


def _flag_name(flags: int) -> str:
    if flags & _ALLOC:
        return "allocated"
    if flags & _META:
        return "meta"
    return "unallocated"


def find_filesystems(media: Media) -> tuple[list[Any], dict[str, Any] | None, list[str]]:
    """Mounts for every readable filesystem, the volume system (or None) and notes on what failed."""
    from evkit.sources.source import Mount

    img = tsk_image(media)
    base = Locator((media.layer(),))
    notes: list[str] = []
    encrypted: list[EncryptedVolume] = []
    mounts: list[Mount] = []
    volume_system = None
    try:
        vs = pytsk3.Volume_Info(img)
    except (OSError, RuntimeError):
        reraise(img)
        vs = None
    if vs is not None:
        vs_enum = _VS_ENUM_NAMES.get(int(vs.info.vstype), str(vs.info.vstype))
        vstype = VS_TYPES.get(vs_enum, vs_enum.replace("TSK_VS_TYPE_", "").lower())
        block = int(vs.info.block_size)
        parts = []
        for part in vs:
            addr, start, length, flags = int(part.addr), int(part.start), int(part.len), int(part.flags)
            desc = part.desc.decode("utf-8", "replace") if isinstance(part.desc, bytes) else str(part.desc)
            parts.append({"addr": addr, "start": start, "length": length, "offset": start * block,
                          "size": length * block, "description": desc, "flags": _flag_name(flags)})
            if not flags & _ALLOC:
                continue
            loc = base.child(Layer(vstype, f"vol{addr}", offset=start * block))
            found = _filesystems_at(img, media, start * block, length * block, loc, notes, encrypted, f"volume {addr}")
            for i, fs in enumerate(found):
                name = f"vol{addr}/apfs{i + 1}" if fs.fs_type == "apfs" else f"vol{addr}"
                mounts.append(Mount(name, fs, parts[-1]))
        volume_system = {"type": vstype, "block_size": block, "partitions": parts}
    if not mounts and (vs is None or vstype == "dos"):
        mounts, gpt_system = _gpt_fallback(img, media, base, notes, encrypted)
        volume_system = gpt_system or volume_system
    if not mounts:
        found = _filesystems_at(img, media, 0, media.size, base, notes, encrypted, "the media")
        mounts = [Mount(f"apfs{i + 1}" if fs.fs_type == "apfs" and len(found) > 1 else "", fs) for i, fs in enumerate(found)]
        if mounts and volume_system is not None:
            notes.append("volume system found but no filesystem in its partitions; using the whole media")
    if not mounts and encrypted:
        raise encrypted[0]
    return mounts, volume_system, notes


def _gpt_fallback(img: Any, media: Media, base: Locator, notes: list[str],
                  encrypted: list[EncryptedVolume]) -> tuple[list[Any], dict[str, Any] | None]:
    """A GPT that TSK refused (it saw only the protective MBR, or nothing) read by evkit
    (:mod:`evkit.sources.volumes.gpt`): its partitions mounted as ``/gpt<N>``, N the entry number."""
    from evkit.sources.source import Mount
    from evkit.sources.volumes.gpt import read_gpt

    found = read_gpt(media.read, media.size)
    if found is None:
        return [], None
    entries, gpt_notes = found
    notes.extend(gpt_notes)
    mounts: list[Any] = []
    parts = []
    for e in entries:
        parts.append({"addr": e.index, "start": e.first_lba, "length": e.last_lba - e.first_lba + 1, "offset": e.offset,
                      "size": e.size, "description": e.name or e.type_guid, "flags": "allocated"})
        loc = base.child(Layer("gpt", f"gpt{e.index}", offset=e.offset))
        for fs in _filesystems_at(img, media, e.offset, e.size, loc, notes, encrypted, f"GPT entry {e.index}"):
            mounts.append(Mount(f"gpt{e.index}", fs, parts[-1]))
    if mounts:
        notes.append("GPT read by evkit: The Sleuth Kit refused the table")
    return mounts, {"type": "gpt", "block_size": 512, "partitions": parts, "read_by": "evkit"}


def _filesystems_at(img: Any, media: Media, offset: int, size: int, loc: Locator, notes: list[str],
                    encrypted: list[EncryptedVolume], what: str) -> list[FileSystem]:
    from evkit.sources.filesystems.tsk import TskFileSystem

    try:
        return [TskFileSystem(img, offset, loc, media.read)]
    except (OSError, RuntimeError) as exc:
        reraise(img)
        reason = _tsk_reason(exc)
    if media.read(offset + APFS_MAGIC_OFFSET, 4) == APFS_MAGIC:
        from evkit.sources.filesystems.apfs import open_container

        try:
            return list(open_container(media.read, offset, size, loc))
        except EncryptedVolume as exc:
            encrypted.append(exc)
            notes.append(str(exc))
            return []
    scheme = encryption.sniff(media.read, offset)
    if scheme:
        exc = EncryptedVolume(media.path, scheme, what)
        encrypted.append(exc)
        notes.append(exc.reason)
        return []
    notes.append(f"{what}: no filesystem recognised ({reason})")
    return []
