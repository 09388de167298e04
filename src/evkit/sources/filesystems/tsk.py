"""Filesystems read by The Sleuth Kit: NTFS, FAT12/16/32, exFAT, ext2/3/4, HFS+, ISO9660 and more.

The per-entry work here decides how fast ``evkit ls -r`` is on big images, so attribute
lookups on pytsk3 objects are done once per entry and enum values are compared as ints.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

import pytsk3

from evkit import names
from evkit.errors import EvidenceError, NotFound
from evkit.locator import Locator
from evkit.sources.base import Entry, FileSystem, ReadAtStream
from evkit.sources.tsk_image import reraise
from evkit.timefmt import iso_utc

_META_TYPE = {
    int(pytsk3.TSK_FS_META_TYPE_REG): "file",
    int(pytsk3.TSK_FS_META_TYPE_DIR): "dir",
    int(pytsk3.TSK_FS_META_TYPE_LNK): "link",
    int(pytsk3.TSK_FS_META_TYPE_VIRT): "file",
    int(pytsk3.TSK_FS_META_TYPE_VIRT_DIR): "dir",
}
_NAME_TYPE = {
    int(pytsk3.TSK_FS_NAME_TYPE_REG): "file",
    int(pytsk3.TSK_FS_NAME_TYPE_DIR): "dir",
    int(pytsk3.TSK_FS_NAME_TYPE_LNK): "link",
    int(pytsk3.TSK_FS_NAME_TYPE_VIRT): "file",
    int(pytsk3.TSK_FS_NAME_TYPE_VIRT_DIR): "dir",
}
# TSK's one-letter type codes, indexed by TSK_FS_NAME_TYPE / TSK_FS_META_TYPE, as fls prints them.
_NAME_CHAR = "-pcdbrlshwvV"
_META_CHAR = "-rdpcblshwvV"
_NAME_UNALLOC = int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
_META_UNALLOC = int(pytsk3.TSK_FS_META_FLAG_UNALLOC)
_ATTR_DATA = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
_ATTR_IDXROOT = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_IDXROOT)
_ATTR_DEFAULT = int(pytsk3.TSK_FS_ATTR_TYPE_DEFAULT)
_ATTR_FNAME = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_FNAME)
_FILETIME_UNIX = 116444736000000000


def _filetime(value: int) -> tuple[int, int]:
    """Windows FILETIME (100 ns since 1601) as (unix seconds, nanoseconds)."""
    if value < _FILETIME_UNIX:
        return 0, 0
    secs, rest = divmod(value - _FILETIME_UNIX, 10_000_000)
    return secs, rest * 100

FS_TYPES = {
    "TSK_FS_TYPE_NTFS": "ntfs",
    "TSK_FS_TYPE_FAT12": "fat12",
    "TSK_FS_TYPE_FAT16": "fat16",
    "TSK_FS_TYPE_FAT32": "fat32",
    "TSK_FS_TYPE_EXFAT": "exfat",
    "TSK_FS_TYPE_EXT2": "ext2",
    "TSK_FS_TYPE_EXT3": "ext3",
    "TSK_FS_TYPE_EXT4": "ext4",
    "TSK_FS_TYPE_HFS": "hfs",
    "TSK_FS_TYPE_ISO9660": "iso9660",
}

READ_CHUNK = 4 * 1024 * 1024


_FS_ENUM_NAMES = {int(getattr(pytsk3, n)): n for n in dir(pytsk3) if n.startswith("TSK_FS_TYPE_") and not n.endswith(("_DETECT", "_ENUM", "_UNSUPP"))}


def fs_type_name(ftype: Any) -> str:
    text = _FS_ENUM_NAMES.get(int(ftype), str(ftype))
    return FS_TYPES.get(text, text.replace("TSK_FS_TYPE_", "").lower())


class TskFileSystem(FileSystem):
    def __init__(self, img: pytsk3.Img_Info, offset: int, parent: Locator, read_at: Any) -> None:
        self._fs = pytsk3.FS_Info(img, offset=offset)
        self._img = img
        self.offset = offset
        self.fs_type = fs_type_name(self._fs.info.ftype)
        self._ntfs = self.fs_type == "ntfs"
        self._read_at = read_at
        super().__init__(parent)

    # -- metadata -------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        i = self._fs.info
        return {
            "type": self.fs_type,
            "offset": self.offset,
            "label": self._label(),
            "block_size": int(i.block_size),
            "block_count": int(i.block_count),
            "root_inode": int(i.root_inum),
        }

    def _label(self) -> str | None:
        try:
            if self.fs_type == "ntfs":
                f = self._fs.open_meta(inode=3)
                for attr in f:
                    if int(attr.info.type) == 0x60 and attr.info.size:
                        raw = f.read_random(0, int(attr.info.size), attr.info.type, int(attr.info.id))
                        return raw.decode("utf-16-le", "replace") or None
                return None
            if self.fs_type.startswith("fat"):
                at = 71 if self.fs_type == "fat32" else 43
                raw = self._read_at(self.offset + at, 11).rstrip(b" \0")
                return None if raw in (b"", b"NO NAME") else raw.decode("latin-1")
            if self.fs_type.startswith("ext"):
                raw = self._read_at(self.offset + 1024 + 120, 16).split(b"\0", 1)[0]
                return names.escape(names.decode(raw)) or None
            if self.fs_type == "iso9660":
                raw = self._read_at(self.offset + 0x8028, 32).rstrip(b" \0")
                return raw.decode("latin-1") or None
        except (OSError, UnicodeError, struct.error):
            return None
        return None

    # -- entries --------------------------------------------------------------------------
    def _layer(self, path: str, address: str) -> str:
        return self.entry_locator(self.fs_type, path, address)

    def _entries(self, f: Any, parent: str) -> list[Entry]:
        info = f.info
        nm = info.name
        meta = info.meta
        name = nm.name.decode("utf-8", "surrogateescape")
        path = f"{parent}/{name}" if parent != "/" else f"/{name}"
        deleted = bool(nm.flags & _NAME_UNALLOC)
        if meta is None and deleted and nm.meta_addr:
            f, meta = self._orphaned_meta(f, nm.meta_addr)
        if meta is None:
            inode = nm.meta_addr or None
            address = str(inode or 0)
            ntype = nm.type
            return [Entry(path=path, name=name, type=_NAME_TYPE.get(ntype, "other"), size=0, deleted=deleted,
                          locator=self._layer(path, address), inode=inode, address=address,
                          name_type=_NAME_CHAR[ntype] if ntype < 12 else "-", meta_type="-")]
        if meta.flags & _META_UNALLOC:
            deleted = True
        inode = meta.addr
        mtype = meta.type
        ntype = nm.type
        etype = _META_TYPE.get(mtype, "other")
        address = str(inode)
        streams: list[tuple[str, int, int, int]] = []
        if self._ntfs:
            address, streams = self._ntfs_attributes(f, inode, etype)
        mt, at, ct, cr = meta.mtime, meta.atime, meta.ctime, meta.crtime
        entry = Entry(
            path=path, name=name, type=etype, size=meta.size, deleted=deleted,
            locator=self._layer(path, address), inode=inode, address=address,
            mtime=iso_utc(mt, meta.mtime_nano), atime=iso_utc(at, meta.atime_nano),
            ctime=iso_utc(ct, meta.ctime_nano), crtime=iso_utc(cr, meta.crtime_nano),
            mtime_s=mt, atime_s=at, ctime_s=ct, crtime_s=cr,
            mode=int(meta.mode), uid=meta.uid, gid=meta.gid,
            link_target=names.decode(meta.link) if etype == "link" and meta.link else None,
            name_type=_NAME_CHAR[ntype] if ntype < 12 else "-", meta_type=_META_CHAR[mtype] if mtype < 12 else "-",
            ref=(f, _ATTR_DEFAULT, -1),
        )
        if not streams:
            return [entry]
        out = [entry]
        for sname, atype, aid, asize in streams:
            spath = f"{path}:{sname}"
            saddr = f"{inode}-{atype}-{aid}"
            out.append(Entry(
                path=spath, name=f"{name}:{sname}", type="ads" if atype == _ATTR_DATA else "other", size=asize, deleted=deleted,
                locator=self._layer(spath, saddr), inode=inode, address=saddr,
                mtime=entry.mtime, atime=entry.atime, ctime=entry.ctime, crtime=entry.crtime,
                mtime_s=mt, atime_s=at, ctime_s=ct, crtime_s=cr, mode=entry.mode,
                uid=entry.uid, gid=entry.gid, name_type="r", meta_type="r", ref=(f, atype, aid),
            ))
        return out

    def _orphaned_meta(self, f: Any, addr: int) -> tuple[Any, Any]:
        """A deleted name whose metadata TSK did not attach: use it if it is still unallocated.

        TSK leaves ``meta`` empty on some deleted names (NTFS) although ``fls`` prints their
        metadata; an *allocated* inode means it was reused by another file, so it is not used.
        """
        try:
            g = self._fs.open_meta(inode=addr)
        except OSError:
            return f, None
        meta = g.info.meta
        if meta is None or not meta.flags & _META_UNALLOC:
            return f, None
        return g, meta

    def filename_entry(self, entry: Entry) -> Entry | None:
        """NTFS only: the entry's $FILE_NAME timestamps as their own entry, as ``fls -m`` prints them.

        The $FN times are set by the kernel and rarely touched by tools that alter the
        $STANDARD_INFORMATION times, so timelines show both; TSK does not expose them through
        pytsk3, so the attribute is read and decoded here.
        """
        if not self._ntfs or not isinstance(entry.ref, tuple) or entry.ref[2] >= 0:
            return None
        f = entry.ref[0]
        best = None
        for attr in f:
            ai = attr.info
            if int(ai.type) != _ATTR_FNAME:
                continue
            size = int(ai.size)
            try:
                raw = f.read_random(0, size, ai.type, int(ai.id))
            except OSError:
                continue
            if len(raw) < 66:
                continue
            if best is None or raw[65] != 2:
                best = (int(ai.id), size, raw)
                if raw[65] != 2:
                    break
        if best is None:
            return None
        aid, size, raw = best
        cr, mt, ct, at = (_filetime(v) for v in struct.unpack_from("<4Q", raw, 8))
        addr = f"{entry.inode}-{_ATTR_FNAME}-{aid}"
        return Entry(path=f"{entry.path} ($FILE_NAME)", name=f"{entry.name} ($FILE_NAME)", type=entry.type, size=size,
                     deleted=entry.deleted, locator=self._layer(entry.path, addr), inode=entry.inode, address=addr,
                     mtime=iso_utc(*mt), atime=iso_utc(*at), ctime=iso_utc(*ct), crtime=iso_utc(*cr),
                     mtime_s=mt[0], atime_s=at[0], ctime_s=ct[0], crtime_s=cr[0], mode=entry.mode, uid=entry.uid,
                     gid=entry.gid, name_type=entry.name_type, meta_type=entry.meta_type)

    def _ntfs_attributes(self, f: Any, inode: int, etype: str) -> tuple[str, list[tuple[str, int, int, int]]]:
        """NTFS: the ``inode-type-id`` address of the default stream, and the named streams.

        Named $DATA streams are alternate data streams (type ``ads``); named index roots other
        than a folder's ``$I30`` (``$Secure:$SDH``, ``$Quota:$Q``...) are listed as ``other``,
        as ``fls`` lists them.
        """
        default_id = None
        streams = []
        for attr in f:
            ai = attr.info
            atype = int(ai.type)
            if atype == _ATTR_DATA:
                aname = ai.name
                if aname and aname != b"$Data":
                    streams.append((names.decode(aname), atype, int(ai.id), int(ai.size)))
                elif default_id is None:
                    default_id = (atype, int(ai.id))
            elif atype == _ATTR_IDXROOT:
                aname = ai.name
                if aname and aname != b"$I30":
                    streams.append((names.decode(aname), atype, int(ai.id), int(ai.size)))
                elif default_id is None and etype == "dir":
                    default_id = (atype, int(ai.id))
        address = f"{inode}-{default_id[0]}-{default_id[1]}" if default_id else str(inode)
        return address, streams

    def walk(self, path: str, recursive: bool) -> Iterator[Entry]:
        start = path.rstrip("/") or "/"
        if start != "/":
            top = self.lookup(start)
            if top.type != "dir":
                yield top
                return
            directory = self._open_dir(top.inode, start)
        else:
            directory = self._open_dir(int(self._fs.info.root_inum), "/")
        visited: set[int] = set()
        stack: list[tuple[Iterator[Any], str]] = [(iter(directory), start)]
        while stack:
            it, parent = stack[-1]
            try:
                f = next(it)
            except StopIteration:
                stack.pop()
                continue
            except (OSError, RuntimeError):
                reraise(self._img)
                stack.pop()
                continue
            raw = f.info.name.name
            if raw == b"." or raw == b"..":
                continue
            entries = self._entries(f, parent)
            head = entries[0]
            head_path = head.path
            descend = recursive and head.type == "dir" and head.inode and head.inode not in visited
            yield from entries
            if descend:
                visited.add(head.inode)
                try:
                    sub = head.ref[0].as_directory()
                except (OSError, RuntimeError, TypeError):
                    continue
                stack.append((iter(sub), head_path))

    def _open_dir(self, inode: int | None, shown: str) -> Any:
        try:
            return self._fs.open_dir(inode=inode)
        except (OSError, RuntimeError) as exc:
            reraise(self._img)
            raise EvidenceError(self.locator, f"cannot read directory {names.escape(shown)}: {exc}") from exc

    def lookup(self, path: str) -> Entry:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._root_entry()
        parent = "/"
        directory = self._open_dir(int(self._fs.info.root_inum), "/")
        found: Entry | None = None
        for i, part in enumerate(parts):
            found = self._find(directory, part, parent)
            if found is None:
                raise NotFound(f"{names.escape('/' + '/'.join(parts[: i + 1]))}: no such file in {self.locator}")
            parent = found.path
            if i < len(parts) - 1:
                if found.type != "dir":
                    raise NotFound(f"{names.escape(found.path)}: not a directory in {self.locator}")
                directory = self._open_dir(found.inode, found.path)
        assert found is not None
        return found

    def _find(self, directory: Any, part: str, parent: str) -> Entry | None:
        stream = None
        base = part
        if self._ntfs and ":" in part:
            base, stream = part.split(":", 1)
        want = names.encode(base)
        best: Entry | None = None
        for f in directory:
            if f.info.name.name != want:
                continue
            entries = self._entries(f, parent)
            if stream is not None:
                entries = [e for e in entries[1:] if e.name == part]
                if not entries:
                    continue
            cand = entries[0]
            if best is None or (best.deleted and not cand.deleted):
                best = cand
            if not best.deleted:
                break
        return best

    def _root_entry(self) -> Entry:
        f = self._fs.open_meta(inode=int(self._fs.info.root_inum))
        meta = f.info.meta
        inode = int(meta.addr)
        return Entry(path="/", name="", type="dir", size=int(meta.size), deleted=False,
                     locator=self._layer("/", str(inode)), inode=inode, address=str(inode),
                     ref=(f, _ATTR_DEFAULT, -1))

    def by_inode(self, inode: int, stream: str | None = None) -> Entry:
        try:
            f = self._fs.open_meta(inode=inode)
        except OSError as exc:
            raise NotFound(f"inode {inode}: cannot be opened in {self.locator} ({exc})") from exc
        meta = f.info.meta
        if meta is None:
            raise NotFound(f"inode {inode}: has no metadata in {self.locator}")
        if stream is not None:
            for attr in f:
                ai = attr.info
                if int(ai.type) == _ATTR_DATA and ai.name and names.decode(ai.name) == stream:
                    addr = f"{inode}-{int(ai.type)}-{int(ai.id)}"
                    shown = f"<inode {inode}>:{stream}"
                    return Entry(path=shown, name=shown, type="ads", size=int(ai.size), deleted=False,
                                 locator=self._layer(shown, addr), inode=inode, address=addr,
                                 ref=(f, int(ai.type), int(ai.id)))
            raise NotFound(f"inode {inode} has no stream named {stream!r} in {self.locator}")
        shown = f"<inode {inode}>"
        etype = _META_TYPE.get(int(meta.type), "other")
        return Entry(path=shown, name=shown, type=etype, size=int(meta.size),
                     deleted=bool(int(meta.flags) & _META_UNALLOC), locator=self._layer(shown, str(inode)),
                     inode=inode, address=str(inode), ref=(f, _ATTR_DEFAULT, -1))

    def open(self, entry: Entry) -> io.RawIOBase:
        if entry.type == "dir":
            raise NotFound(f"{names.escape(entry.path)} is a directory")
        ref = entry.ref
        if not isinstance(ref, tuple):
            raise NotFound(f"{names.escape(entry.path)}: no metadata left, content cannot be read")
        f, atype, aid = ref
        size = entry.size

        def read_at(offset: int, n: int) -> bytes:
            try:
                if aid < 0:
                    return f.read_random(offset, n)
                return f.read_random(offset, n, atype, aid)
            except (OSError, RuntimeError) as exc:
                reraise(self._img)
                raise EvidenceError(entry.locator, f"read error at offset {offset}: {exc}") from exc

        return ReadAtStream(read_at, size)
