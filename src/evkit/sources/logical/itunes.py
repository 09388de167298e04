"""iTunes / Finder backups of iPhones and iPads, shown as the device's file tree.

A backup folder holds ``Manifest.db`` (iOS 10 and later; ``Manifest.mbdb`` before), ``Info.plist``,
``Manifest.plist`` and ``Status.plist``, and every backed-up file stored as
``<first two hex digits>/<fileID>``, where the fileID is the SHA-1 of ``<domain>-<relativePath>``.
This source rebuilds the device paths from the manifest: ``HomeDomain`` +
``Library/SMS/sms.db`` is ``/private/var/mobile/Library/SMS/sms.db``, with the locator
``itunes:<folder> > backup:/private/var/mobile/Library/SMS/sms.db#<fileID>``.

Evidence is never modified: ``Manifest.db`` (with its ``-wal``/``-journal``) is copied to a private
temporary folder before SQLite opens it, and the copy is removed once the manifest is read.
Encrypted backups (``IsEncrypted`` in ``Manifest.plist``) are opened with the password in
``$EVKIT_BACKUP_PASSWORD``: the keybag is unlocked with ``iphone_backup_decrypt``; the decrypted
``Manifest.db`` lives only in that private folder, and file contents are decrypted block by block
in memory as they are read (AES-CBC allows random access), never written anywhere.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import plistlib
import re
import shutil
import sqlite3
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evkit import names
from evkit.errors import EvidenceError
from evkit.sources.base import Container, Entry, ReadAtStream
from evkit.sources.logical.phone_layout import (
    METADATA_DIR,
    MappedTree,
    backup_password,
    password_hint,
)
from evkit.scratch import folder as scratch_folder

# Where each domain lives on the device (after UFADE, iLEAPP and mvt). Domains named
# ``<kind>-<identifier>`` (apps, app groups, plug-ins, system containers) get a folder per
# identifier: the device names those folders by a UUID the backup does not record, so the bundle
# or group identifier stands in for it.
DOMAIN_ROOTS = {
    "HomeDomain": "/private/var/mobile",
    "MediaDomain": "/private/var/mobile",
    "CameraRollDomain": "/private/var/mobile",
    "KeyboardDomain": "/private/var/mobile",
    "TonesDomain": "/private/var/mobile",
    "HomeKitDomain": "/private/var/mobile",
    "HealthDomain": "/private/var/mobile/Library",  # its relativePaths start with Health/
    "BooksDomain": "/private/var/mobile/Media/Books",
    "KeychainDomain": "/private/var/Keychains",
    "RootDomain": "/private/var/root",
    "WirelessDomain": "/private/var/wireless",
    "ManagedPreferencesDomain": "/private/var/Managed Preferences",
    "SystemPreferencesDomain": "/private/var/preferences",
    "DatabaseDomain": "/private/var/db",
    "MobileDeviceDomain": "/private/var/MobileDevice",
    "InstallDomain": "/private/var/installd",
    "ProtectedDomain": "/private/var/protected",
    "NetworkDomain": "/private/var/networkd",
}
CONTAINER_ROOTS = {
    "AppDomain": "/private/var/mobile/Containers/Data/Application",
    "AppDomainGroup": "/private/var/mobile/Containers/Shared/AppGroup",
    "AppDomainPlugin": "/private/var/mobile/Containers/Data/PluginKitPlugin",
    "SysContainerDomain": "/private/var/containers/Data/System",
    "SysSharedContainerDomain": "/private/var/containers/Shared/SystemGroup",
}
UNMAPPED_ROOT = "/unmapped-domains"
CONTROL_FILES = ("Info.plist", "Manifest.plist", "Status.plist", "Manifest.db", "Manifest.db-wal",
                 "Manifest.db-journal", "Manifest.db-shm", "Manifest.mbdb", "Manifest.mbdx")

_FILE_ID = re.compile(r"[0-9a-fA-F]{40}")
_HASH_DIR = re.compile(r"[0-9a-fA-F]{2}")
_MAX_PLIST = 64 * 1024 * 1024     # Info.plist may embed app icons; bigger is not a backup plist
_MAX_FILE_BLOB = 1024 * 1024      # one Manifest.db metadata blob (real ones are 1-3 KB)
_CHUNK = 1024 * 1024
_FLAG_TYPES = {1: "file", 2: "dir", 4: "link"}
_MODE_TYPES = {0o100000: "file", 0o040000: "dir", 0o120000: "link"}


def device_path(domain: str, relative: str) -> str:
    """The device path of ``relative`` in ``domain`` (unknown domains under /unmapped-domains)."""
    base, sep, ident = domain.partition("-")
    if sep and base in CONTAINER_ROOTS:
        root = f"{CONTAINER_ROOTS[base]}/{ident}" if ident else CONTAINER_ROOTS[base]
    elif not sep and domain in DOMAIN_ROOTS:
        root = DOMAIN_ROOTS[domain]
    else:
        root = f"{UNMAPPED_ROOT}/{domain or '<empty domain>'}"
    return f"{root}/{relative}" if relative else root


def file_id(domain: str, relative: str) -> str:
    return hashlib.sha1(names.encode(f"{domain}-{relative}")).hexdigest()


@dataclass(slots=True)
class BackupFile:
    """What opening one backed-up file needs: where it is stored and, if encrypted, its key."""

    file_id: str
    stored: str | None       # path of the stored file relative to the backup folder, None if missing
    size: int
    protection_class: int | None = None
    wrapped_key: bytes | None = None
    content_size: int | None = None   # known once opened: the decrypted size can differ from the manifest's


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return names.decode(value)
    return str(value)


def _int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if -(2**62) < number < 2**62 else 0


def _shown(value: Any) -> Any:
    """A plist value for ``evkit info``: dates as UTC ISO-8601, text escaped, numbers and booleans kept."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, bytes):
        return value[:64].hex()
    return names.escape(str(value))


# -- reading the evidence folder without following links ----------------------------------------

def _open_in(root: Path, rel: str) -> int:
    """A read-only descriptor of the regular file ``rel`` under ``root``; no symbolic link is
    followed on the way, so a link planted in the evidence never leads outside it."""
    parts = [p for p in rel.split("/") if p]
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return file_fd


def _is_regular(root: Path, name: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(root / name).st_mode)
    except OSError:
        return False


def _read_small(root: Path, name: str, limit: int = _MAX_PLIST) -> bytes | None:
    try:
        fd = _open_in(root, name)
    except OSError:
        return None
    with io.FileIO(fd, "rb") as fh:
        data = fh.read(limit + 1)
    return data if len(data) <= limit else None


def _plist(root: Path, name: str) -> dict[str, Any] | None:
    data = _read_small(root, name)
    if data is None:
        return None
    try:
        value = plistlib.loads(data)
    except Exception:  # hostile plists raise many kinds of errors; a bad one is reported as unreadable
        return None
    return value if isinstance(value, dict) else None


def _copy_out(root: Path, name: str, target: Path) -> bool:
    try:
        fd = _open_in(root, name)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise EvidenceError(root, f"cannot read {name}: {exc.strerror or exc}") from exc
    with io.FileIO(fd, "rb") as src:
        try:
            with open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        except OSError as exc:
            raise EvidenceError(root, f"cannot copy {name} to a private temporary folder: {exc.strerror or exc}") from exc
    return True


# -- encryption ---------------------------------------------------------------------------------

class _Keys:
    """The unlocked keybag of an encrypted backup."""

    def __init__(self, source: Path, manifest: dict[str, Any], password: str | None) -> None:
        try:
            from iphone_backup_decrypt.exceptions import UnsafeBackupError
            from iphone_backup_decrypt.utils import BackupKeyBag
        except ImportError as exc:  # pragma: no cover - a dependency of evkit
            raise EvidenceError(source, "encrypted iTunes backup: the iphone-backup-decrypt package is not "
                                        "installed") from exc
        if password is None:
            raise EvidenceError(source, f"encrypted iTunes backup: {password_hint()}")
        blob = manifest.get("BackupKeyBag")
        if not isinstance(blob, bytes):
            raise EvidenceError(source, "encrypted iTunes backup whose Manifest.plist has no BackupKeyBag")
        try:
            self.bag = BackupKeyBag(blob)
            if b"DPIC" in self.bag.attrs:
                unlocked = self.bag.unlock_with_passphrase(password.encode("utf-8"))
            else:  # keybags before iOS 10.2 have no PBKDF2-SHA256 stage (DPIC/DPSL), only PBKDF2-SHA1
                iterations = BackupKeyBag._validate_iterations(self.bag.attrs.get(b"ITER"), "ITER", 10_000_000)
                key = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), bytes(self.bag.attrs.get(b"SALT", b"")),
                                          iterations, 32)
                unlocked = self.bag.unlock_with_key(key)
        except UnsafeBackupError as exc:
            raise EvidenceError(source, f"encrypted iTunes backup with an implausible keybag: {exc}") from exc
        except (KeyError, ValueError, TypeError, struct.error) as exc:
            raise EvidenceError(source, f"encrypted iTunes backup with a corrupt keybag: {exc}") from exc
        if not unlocked:
            raise EvidenceError(source, "wrong password for encrypted backup (it does not unlock the backup keybag)")

    def unwrap(self, protection_class: int, wrapped: bytes) -> bytes:
        return self.bag.unwrap_key_for_class(protection_class, wrapped)  # type: ignore[no-any-return]


def _decryptor(key: bytes, iv: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()


def _unpad(block: bytes) -> int:
    """How many plaintext bytes the last 16-byte block holds (PKCS#7); -1 when the padding is bad."""
    n = block[-1] if block else 0
    if n < 1 or n > 16 or block[-n:] != bytes([n]) * n:
        return -1
    return 16 - n


def _decrypt_file(src: Any, dst: Any, key: bytes) -> None:
    """Whole-file AES-CBC (zero IV, PKCS#7) decryption, chunk by chunk; the last block is held
    back until the end, since it carries the padding."""
    dec = _decryptor(key, b"\0" * 16)
    held = b""
    while chunk := src.read(_CHUNK):
        out = held + dec.update(chunk)
        held = out[-16:]
        dst.write(out[:-16])
    out = held + dec.finalize()
    keep = _unpad(out[-16:]) if len(out) >= 16 else -1
    if keep < 0:
        raise ValueError("bad padding (wrong key, or corrupt data)")
    dst.write(out[: len(out) - 16 + keep])


class CbcFile(ReadAtStream):
    """A stored file decrypted on the fly: AES-CBC with a zero IV, each read decrypting only the
    blocks it needs (a block's plaintext depends on the previous ciphertext block alone)."""

    def __init__(self, fd: int, key: bytes, where: str) -> None:
        self._fh = io.FileIO(fd, "rb", closefd=True)
        self._key = key
        self._where = where
        enc_size = os.fstat(fd).st_size
        if enc_size % 16:
            self._fh.close()
            raise EvidenceError(where, f"encrypted content of {enc_size} bytes is not whole AES blocks (truncated?)")
        size = 0
        if enc_size:
            last = self._blocks(enc_size // 16 - 1, 1)
            keep = _unpad(last)
            if keep < 0:
                self._fh.close()
                raise EvidenceError(where, "cannot be decrypted: bad padding (corrupt file or wrong file key)")
            size = enc_size - 16 + keep
        super().__init__(self._read_at, size)

    def _blocks(self, first: int, count: int) -> bytes:
        start = (first - 1) * 16 if first else 0
        self._fh.seek(start)
        want = count * 16 + (16 if first else 0)
        data = self._fh.read(want)
        iv, data = (data[:16], data[16:]) if first else (b"\0" * 16, data)
        data = data[: len(data) - len(data) % 16]
        return _decryptor(self._key, iv).update(data) if data else b""

    def _read_at(self, offset: int, size: int) -> bytes:
        first = offset // 16
        last = (offset + size - 1) // 16
        plain = self._blocks(first, last - first + 1)
        skip = offset - first * 16
        return plain[skip : skip + size]

    def close(self) -> None:
        self._fh.close()
        super().close()


# -- manifests ---------------------------------------------------------------------------------

def _file_metadata(blob: Any) -> dict[str, Any]:
    """The fields of one NSKeyedArchiver ``MBFile`` record of Manifest.db (empty when unreadable)."""
    if not isinstance(blob, bytes) or not blob or len(blob) > _MAX_FILE_BLOB:
        return {}
    try:
        pl = plistlib.loads(blob)
        objects = pl["$objects"]
        top = pl["$top"]["root"]
        record = objects[top.data if isinstance(top, plistlib.UID) else int(top)]
        if not isinstance(record, dict):
            return {}

        def deref(value: Any) -> Any:
            return objects[value.data] if isinstance(value, plistlib.UID) else value

        out: dict[str, Any] = {}
        for key in ("Size", "LastModified", "Birth", "LastStatusChange", "Mode", "InodeNumber", "UserID",
                    "GroupID", "ProtectionClass", "Flags"):
            if key in record:
                out[key] = _int(deref(record[key]))
        if "EncryptionKey" in record:
            key_obj = deref(record["EncryptionKey"])
            data = key_obj.get("NS.data") if isinstance(key_obj, dict) else key_obj
            if isinstance(data, bytes) and len(data) > 4:
                out["EncryptionKey"] = data
        if "Target" in record:
            out["Target"] = _text(deref(record["Target"]))
        return out
    except Exception:  # a hostile record costs its metadata, never the listing
        return {}


def _manifest_db_rows(root: Path, keys: _Keys | None, manifest: dict[str, Any] | None) -> Iterator[tuple[Any, ...]]:
    """``(fileID, domain, relativePath, flags, file)`` of every Files row, read from a private copy."""
    with scratch_folder("itunes") as tmp:
        copy = Path(tmp, "Manifest.db")
        raw = Path(tmp, "Manifest.db.raw")
        if not _copy_out(root, "Manifest.db", raw):
            raise EvidenceError(root, "iTunes backup without Manifest.db")
        with open(raw, "rb") as fh:
            plain = fh.read(16) == b"SQLite format 3\0"
        if plain:
            raw.rename(copy)
        elif keys is None:
            raise EvidenceError(root, "Manifest.db is not an SQLite database (encrypted, but Manifest.plist does not "
                                      "say so, or corrupt)")
        else:
            mk = (manifest or {}).get("ManifestKey")
            if not isinstance(mk, bytes) or len(mk) != 44:
                raise EvidenceError(root, "encrypted Manifest.db, but Manifest.plist has no usable ManifestKey")
            try:
                key = keys.unwrap(struct.unpack("<l", mk[:4])[0], mk[4:])
                with open(raw, "rb") as src, open(copy, "wb") as dst:
                    _decrypt_file(src, dst, key)
            except ValueError as exc:
                raise EvidenceError(root, f"cannot decrypt Manifest.db: {exc}") from exc
            raw.unlink()
        for suffix in ("-wal", "-journal"):
            _copy_out(root, "Manifest.db" + suffix, Path(tmp, "Manifest.db" + suffix))
        try:
            con = sqlite3.connect(copy)
        except sqlite3.Error as exc:
            raise EvidenceError(root, f"cannot open Manifest.db: {exc}") from exc
        try:
            cur = con.execute("SELECT fileID, domain, relativePath, flags, file FROM Files")
            while rows := cur.fetchmany(2048):
                yield from rows
        except sqlite3.Error as exc:
            what = "wrong password or corrupt" if keys is not None else "corrupt or not a backup manifest"
            raise EvidenceError(root, f"cannot read Manifest.db ({what}): {exc}") from exc
        finally:
            con.close()


def _mbdb_rows(root: Path) -> Iterator[tuple[Any, ...]]:
    """The records of an iOS 5-9 ``Manifest.mbdb`` in the shape of Manifest.db rows."""
    data = _read_small(root, "Manifest.mbdb", 1024 * 1024 * 1024)
    if data is None:
        raise EvidenceError(root, "cannot read Manifest.mbdb")
    if not data.startswith(b"mbdb\x05\x00"):
        raise EvidenceError(root, "Manifest.mbdb does not start with the mbdb 5.0 signature")
    pos = 6

    def string() -> bytes | None:
        nonlocal pos
        if pos + 2 > len(data):
            raise EOFError
        n = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if n == 0xFFFF:
            return None
        if pos + n > len(data):
            raise EOFError
        value = data[pos : pos + n]
        pos += n
        return value

    while pos < len(data):
        start = pos
        try:
            domain, rel, target, _, enc_key = string(), string(), string(), string(), string()
            if pos + 40 > len(data):
                raise EOFError
            mode, inode, uid, gid, mtime, atime, ctime, size, prot, nprops = struct.unpack(
                ">HQIIIIIQBB", data[pos : pos + 40])
            pos += 40
            for _ in range(nprops):
                string()
                string()
        except EOFError as exc:
            raise EvidenceError(root, f"Manifest.mbdb is truncated (record at byte {start})") from exc
        dom, relp = names.decode(domain or b""), names.decode(rel or b"")
        meta = {"Size": size, "LastModified": mtime, "LastStatusChange": ctime, "Mode": mode, "InodeNumber": inode,
                "UserID": uid, "GroupID": gid, "ProtectionClass": prot, "_atime": atime}
        if enc_key and len(enc_key) > 4:
            meta["EncryptionKey"] = enc_key
        if target:
            meta["Target"] = names.decode(target)
        yield file_id(dom, relp), dom, relp, 0, meta


# -- the source --------------------------------------------------------------------------------

class ITunesTree(MappedTree):
    entry_kind = "backup"

    def __init__(self, root: Path, password: str | None = None) -> None:
        super().__init__("itunes", root.name or str(root), self._open_ref)
        self.root = root
        self.manifest = _plist(root, "Manifest.plist")
        self.backup_info = _plist(root, "Info.plist")
        self.status = _plist(root, "Status.plist")
        self.encrypted = bool((self.manifest or {}).get("IsEncrypted"))
        self.index_file = "Manifest.db" if _is_regular(root, "Manifest.db") else "Manifest.mbdb"
        if not _is_regular(root, self.index_file):
            raise EvidenceError(root, "iTunes backup without Manifest.db or Manifest.mbdb: the index of its files is "
                                      "missing, so their paths cannot be rebuilt")
        self._keys = _Keys(root, self.manifest or {}, backup_password(password)) if self.encrypted else None
        self._stored = self._scan_stored()
        self._referenced: set[str] = set()
        self.missing: list[str] = []
        self.domains: dict[str, str] = {}
        self.files = 0
        rows = _manifest_db_rows(root, self._keys, self.manifest) if self.index_file == "Manifest.db" else _mbdb_rows(root)
        try:
            for index, row in enumerate(rows):
                self._add_row(index, row)
        finally:
            rows.close()  # removes the private copy of Manifest.db at once, whatever happened
        self._add_control_files()
        self._fix_folder_locators()

    # -- building ------------------------------------------------------------------------------
    def _scan_stored(self) -> dict[str, tuple[str, int]]:
        """Every stored file: name -> (path relative to the folder, size), from the hash folders
        (and the folder itself, where iOS 9 and older put them)."""
        found: dict[str, tuple[str, int]] = {}
        try:
            with os.scandir(self.root) as it:
                top = sorted(it, key=lambda d: d.name)
        except OSError as exc:
            raise EvidenceError(self.root, f"cannot list the backup folder: {exc.strerror or exc}") from exc
        for d in top:
            if d.is_dir(follow_symlinks=False) and _HASH_DIR.fullmatch(d.name):
                try:
                    with os.scandir(d.path) as sub:
                        for f in sub:
                            if f.is_file(follow_symlinks=False):
                                found.setdefault(f.name.lower(), (f"{d.name}/{f.name}", f.stat(follow_symlinks=False).st_size))
                except OSError:
                    continue
            elif d.is_file(follow_symlinks=False) and _FILE_ID.fullmatch(d.name):
                found.setdefault(d.name.lower(), (d.name, d.stat(follow_symlinks=False).st_size))
        return found

    def _add_row(self, index: int, row: tuple[Any, ...]) -> None:
        fid, domain, rel, flags, blob = row
        fid, domain, rel = _text(fid), _text(domain), _text(rel)
        meta = blob if isinstance(blob, dict) else _file_metadata(blob)
        mode = meta.get("Mode", 0)
        etype = _FLAG_TYPES.get(_int(flags)) or _MODE_TYPES.get(mode & 0o170000, "other" if mode else "file")
        path = device_path(domain, rel)
        self.domains.setdefault(domain, device_path(domain, ""))
        stored = self._stored.get(fid.lower()) if _FILE_ID.fullmatch(fid) else None
        ref = None
        size = meta.get("Size", 0)
        if etype == "file":
            self.files += 1
            if stored is None:
                self.missing.append(path)
            else:
                self._referenced.add(fid.lower())
                if not self.encrypted:
                    size = stored[1]
            key = meta.get("EncryptionKey")
            ref = BackupFile(fid, stored[0] if stored else None, size, meta.get("ProtectionClass"),
                             key[4:] if isinstance(key, bytes) else None)
        self.add_mapped(path, etype, max(size, 0), ref, index, fid, mtime=meta.get("LastModified", 0),
                        atime=meta.get("_atime", 0), ctime=meta.get("LastStatusChange", 0), crtime=meta.get("Birth", 0),
                        mode=mode, uid=meta.get("UserID", 0), gid=meta.get("GroupID", 0),
                        inode=meta.get("InodeNumber") or None, link_target=meta.get("Target") if etype == "link" else None)

    def _add_control_files(self) -> None:
        """The backup's own files, and stored files the manifest does not name, under /backup-metadata."""
        index = 10**12
        for name in CONTROL_FILES:
            try:
                st = os.lstat(self.root / name)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                index += 1
                self.add_mapped(f"{METADATA_DIR}/{name}", "file", st.st_size, BackupFile(name, name, st.st_size),
                                index, name, mtime=int(st.st_mtime))
        for name, (rel, size) in sorted(self._stored.items()):
            if name not in self._referenced:
                index += 1
                self.add_mapped(f"{METADATA_DIR}/unreferenced/{rel}", "file", size, BackupFile(name, rel, size),
                                index, rel)

    def _fix_folder_locators(self) -> None:
        for e in self._entries.values():
            if e.type == "dir" and e.address is None:
                e.locator = self.folder_locator(e.path)

    # -- reading -------------------------------------------------------------------------------
    def _open_ref(self, ref: BackupFile) -> io.RawIOBase:
        where = f"{self.locator}: {ref.file_id}"
        if ref.stored is None:
            raise EvidenceError(self.root, f"the backup has no stored file for fileID {ref.file_id}: it is listed in "
                                           f"{self.index_file} but missing from the folder (or not a regular file)")
        try:
            fd = _open_in(self.root, ref.stored)
        except OSError as exc:
            raise EvidenceError(self.root, f"cannot read stored file {ref.stored}: {exc.strerror or exc}") from exc
        if ref.wrapped_key is None or self._keys is None:
            ref.content_size = os.fstat(fd).st_size
            return io.FileIO(fd, "rb", closefd=True)
        try:
            key = self._keys.unwrap(ref.protection_class or 0, ref.wrapped_key)
        except ValueError as exc:
            os.close(fd)
            raise EvidenceError(where, f"cannot unwrap the file key: {exc}") from exc
        stream = CbcFile(fd, key, where)
        ref.content_size = stream.size
        return stream

    def open(self, entry: Entry) -> io.RawIOBase:
        """The content of ``entry``; its size becomes that of the content (the manifest records the
        size when the backup started, which a live database may have outgrown)."""
        stream = super().open(entry)
        if isinstance(entry.ref, BackupFile) and entry.ref.content_size is not None:
            entry.size = entry.ref.content_size
        return stream

    # -- facts ---------------------------------------------------------------------------------
    @property
    def notes(self) -> list[str]:
        """What an examiner should know about this backup, one line each (for ``evkit info``)."""
        out = []
        if self.encrypted:
            out.append("encrypted backup: opened with the given password; file contents are decrypted in memory "
                       "as they are read")
        if self.missing:
            out.append(f"{len(self.missing)} files named in {self.index_file} are missing from the backup folder "
                       f"(first: {names.escape(self.missing[0])}); they are listed but cannot be read")
        unreferenced = len(self._stored) - len(self._referenced)
        if unreferenced:
            out.append(f"{unreferenced} stored files are not named in {self.index_file}: listed under "
                       f"{METADATA_DIR}/unreferenced")
        unknown = sorted(d for d, root in self.domains.items() if root.startswith(UNMAPPED_ROOT))
        if unknown:
            out.append(f"{len(unknown)} domains of unknown device location are under {UNMAPPED_ROOT}: "
                       f"{', '.join(names.escape(d) for d in unknown[:5])}{', ...' if len(unknown) > 5 else ''}")
        return out

    def phone_layout(self) -> dict[str, Any]:
        return {"platform": "ios", "layout": "itunes-backup", "prefix": "", "markers": [self.index_file]}

    def info(self) -> dict[str, Any]:
        device = {}
        for key in ("Device Name", "Display Name", "Product Name", "Product Type", "Product Version", "Build Version",
                    "Serial Number", "Unique Identifier", "IMEI", "MEID", "Phone Number", "ICCID", "Last Backup Date",
                    "iTunes Version"):
            value = (self.backup_info or {}).get(key)
            if value is not None:
                device[key] = _shown(value)
        manifest = {k: _shown(v) for k, v in (self.manifest or {}).items()
                    if k in ("Version", "Date", "IsEncrypted", "WasPasscodeSet", "SystemDomainsVersion")}
        return {
            "type": "itunes",
            "root": str(self.root),
            "index": self.index_file,
            "encrypted": self.encrypted,
            "device": device,
            "manifest": manifest,
            "files": self.files,
            "missing_files": len(self.missing),
            "missing_examples": self.missing[:20],
            "unreferenced_files": len(self._stored) - len(self._referenced),
            "domains": dict(sorted(self.domains.items())),
            "unreadable_plists": [n for n, v in (("Info.plist", self.backup_info), ("Manifest.plist", self.manifest),
                                                 ("Status.plist", self.status)) if v is None],
            "phone": self.phone_layout(),
            "notes": self.notes,
        }


class ITunesBackup(Container):
    name = "itunes"
    takes_password = True

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        if not path.is_dir():
            return False
        if _is_regular(path, "Manifest.db") or _is_regular(path, "Manifest.mbdb"):
            return _is_regular(path, "Manifest.plist") or _is_regular(path, "Info.plist") or _is_regular(path, "Status.plist")
        # the index is gone but the rest says backup: claimed, so that open() says what is missing
        return _is_regular(path, "Manifest.plist") and (_is_regular(path, "Info.plist") or _is_regular(path, "Status.plist"))

    @classmethod
    def open(cls, path: Path, password: str | None = None) -> ITunesTree:  # type: ignore[override]
        try:
            return ITunesTree(path, password)
        except OSError as exc:
            raise EvidenceError(path, f"cannot read the backup: {exc.strerror or exc}") from exc
