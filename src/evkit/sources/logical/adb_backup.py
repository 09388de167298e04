"""Android ``adb backup`` files (``.ab``), shown as the app folders they hold at their device paths.

The format (AOSP ``BackupManagerService`` / ``PerformAdbBackupTask``) is a text header::

    ANDROID BACKUP
    <format version>
    <compressed: 0 or 1>
    <encryption: none or AES-256>

and, for ``AES-256``, five more lines: the user-key salt, the master-key checksum salt, the
PBKDF2 round count, the user-key IV (hex) and the master-key blob (hex). The blob, decrypted with
AES-256-CBC under PBKDF2-HMAC-SHA1(password, user salt, rounds), holds the master key's IV, the
master key and its checksum (PBKDF2 of the key itself, its bytes read as Java chars). The rest of
the file is a tar (zlib-deflated when compressed, AES-256-CBC-encrypted under the master key when
encrypted) whose members are ``apps/<package>/<token>/<path>``: ``db`` is the app's
``databases`` folder, ``sp`` its ``shared_prefs``, ``f`` its ``files``, ``a`` its APK, ``ef`` its
external files, and so on (``FullBackup`` tokens).

Compressed or encrypted payloads are decrypted and decompressed as a stream into an anonymous
private temporary file (never next to the evidence; gone when evkit exits), then indexed as a tar,
so memory stays flat whatever the size. Decompression stops with a clear error past
:data:`MAX_EXPANSION` times the file size (at least :data:`MIN_LIMIT`) or :data:`MAX_TOTAL` bytes
(zip bombs), and indexing past ``MAX_MEMBERS`` members.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from evkit.errors import EvidenceError
from evkit.sources.base import Container
from evkit.sources.logical.phone_layout import (
    METADATA_DIR,
    MappedTree,
    backup_password,
    password_hint,
)
from evkit.scratch import root as scratch_root

MAGIC = b"ANDROID BACKUP\n"
MAX_EXPANSION = 100
MIN_LIMIT = 256 * 1024 * 1024
MAX_TOTAL = 64 * 1024**3
MAX_ROUNDS = 1_000_000        # AOSP uses 10,000; a hostile header must not make evkit spin for hours
_CHUNK = 1024 * 1024
_LINE = 4096

# FullBackup tree tokens -> device folder ({p} is the package). Credential-encrypted app data is in
# /data/data/<package> (= /data/user/0/<package>); device-encrypted (d_*) in /data/user_de/0.
TOKENS = {
    "a": "/data/app/{p}",
    "obb": "/storage/emulated/0/Android/obb/{p}",
    "r": "/data/data/{p}",
    "f": "/data/data/{p}/files",
    "nb": "/data/data/{p}/no_backup",
    "db": "/data/data/{p}/databases",
    "sp": "/data/data/{p}/shared_prefs",
    "c": "/data/data/{p}/cache",
    "d_r": "/data/user_de/0/{p}",
    "d_f": "/data/user_de/0/{p}/files",
    "d_nb": "/data/user_de/0/{p}/no_backup",
    "d_db": "/data/user_de/0/{p}/databases",
    "d_sp": "/data/user_de/0/{p}/shared_prefs",
    "d_c": "/data/user_de/0/{p}/cache",
    "ef": "/storage/emulated/0/Android/data/{p}",
}


def device_path(member: str) -> str | None:
    """The device path of a backup member, or None for members with none (``_manifest``, key/value data)."""
    parts = member.split("/")
    if len(parts) >= 3 and parts[0] == "apps" and parts[2] in TOKENS:
        base = TOKENS[parts[2]].format(p=parts[1] or "<empty package>")
        rest = "/".join(parts[3:])
        return f"{base}/{rest}" if rest else base
    if len(parts) >= 2 and parts[0] == "shared" and parts[1]:
        rest = "/".join(parts[2:])
        return f"/storage/emulated/{parts[1]}/{rest}" if rest else f"/storage/emulated/{parts[1]}"
    return None


# -- header and keys ---------------------------------------------------------------------------

class _Header:
    def __init__(self, path: Path, fh: BinaryIO) -> None:
        self.path = path
        self._fh = fh
        if self._line("magic") + "\n" != MAGIC.decode():
            raise self._bad("it does not start with ANDROID BACKUP")
        self.version = self._number("format version", 1, 1000)
        compressed = self._line("compression flag")
        if compressed not in ("0", "1"):
            raise self._bad(f"compression flag is {compressed[:20]!r}, not 0 or 1")
        self.compressed = compressed == "1"
        self.encryption = self._line("encryption")
        if self.encryption not in ("none", "AES-256"):
            raise EvidenceError(path, f"adb backup encrypted with {self.encryption[:40]!r}, which evkit does not know "
                                      "(only none and AES-256 exist in AOSP)")
        if self.encrypted:
            self.user_salt = self._hex("user key salt")
            self.ck_salt = self._hex("master key checksum salt")
            self.rounds = self._number("PBKDF2 round count", 1, MAX_ROUNDS)
            self.user_iv = self._hex("user key IV")
            self.mk_blob = self._hex("master key blob")
            if len(self.user_iv) != 16 or not self.mk_blob or len(self.mk_blob) % 16:
                raise self._bad("the user key IV or master key blob has the wrong length")
        self.offset = fh.tell()

    @property
    def encrypted(self) -> bool:
        return self.encryption == "AES-256"

    def _bad(self, why: str) -> EvidenceError:
        return EvidenceError(self.path, f"corrupt adb backup header: {why}")

    def _line(self, what: str) -> str:
        raw = self._fh.readline(_LINE)
        if not raw.endswith(b"\n"):
            raise self._bad(f"the {what} line is missing or too long (truncated file?)")
        try:
            return raw[:-1].decode("ascii")
        except UnicodeDecodeError:
            raise self._bad(f"the {what} line is not text") from None

    def _number(self, what: str, low: int, high: int) -> int:
        text = self._line(what)
        if not text.isdigit() or not low <= int(text) <= high:
            raise self._bad(f"the {what} is {text[:20]!r}, not a number from {low} to {high}")
        return int(text)

    def _hex(self, what: str) -> bytes:
        text = self._line(what)
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise self._bad(f"the {what} is not hexadecimal") from None


def _aes_cbc(key: bytes, iv: bytes, decrypt: bool = True) -> Any:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    return cipher.decryptor() if decrypt else cipher.encryptor()


def _unpad(data: bytes) -> bytes | None:
    n = data[-1] if data else 0
    if n < 1 or n > 16 or len(data) < n or data[-n:] != bytes([n]) * n:
        return None
    return data[:-n]


def java_chars_utf8(raw: bytes) -> bytes:
    """``raw`` as Java turns ``(char) b`` of each signed byte into UTF-8 for PBKDF2WithHmacSHA1:
    bytes >= 0x80 become U+FF80..U+FFFF, three UTF-8 bytes each."""
    return "".join(chr(b) if b < 0x80 else chr(0xFF00 | b) for b in raw).encode("utf-8")


def master_key(header: _Header, password: str) -> tuple[bytes, bytes] | None:
    """(master key, IV) from the header's blob, or None when the password does not open it.

    AOSP tries PBKDF2WithHmacSHA1 (UTF-8 password bytes) and, for format version 1 only, the
    older 8-bit variant (the low byte of each char)."""
    variants: list[tuple[bytes, Any]] = [(password.encode("utf-8"), java_chars_utf8)]
    if header.version == 1:
        variants.append((bytes(ord(c) & 0xFF for c in password), bytes))
    for pw_bytes, mk_text in variants:
        user_key = hashlib.pbkdf2_hmac("sha1", pw_bytes, header.user_salt, header.rounds, 32)
        dec = _aes_cbc(user_key, header.user_iv)
        blob = _unpad(dec.update(header.mk_blob) + dec.finalize())
        if blob is None:
            continue
        try:
            pos = 0
            fields = []
            for _ in range(3):
                n = blob[pos]
                fields.append(blob[pos + 1 : pos + 1 + n])
                if len(fields[-1]) != n:
                    raise IndexError
                pos += 1 + n
        except IndexError:
            continue
        iv, mk, checksum = fields
        if len(iv) != 16 or len(mk) not in (16, 24, 32):
            continue
        if hashlib.pbkdf2_hmac("sha1", mk_text(mk), header.ck_salt, header.rounds, len(checksum) or 32) == checksum:
            return mk, iv
    return None


# -- payload -----------------------------------------------------------------------------------

def _raw_chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def _decrypted_chunks(path: Path, chunks: Iterator[bytes], key: bytes, iv: bytes) -> Iterator[bytes]:
    dec = _aes_cbc(key, iv)
    held = b""
    for chunk in chunks:
        out = held + dec.update(chunk)
        held = out[-16:]
        yield out[:-16]
    try:
        out = held + dec.finalize()
    except ValueError:
        raise EvidenceError(path, "truncated encrypted adb backup: the data does not end on an AES block") from None
    plain = _unpad(out)
    if plain is None:
        raise EvidenceError(path, "truncated or corrupt encrypted adb backup: bad padding at the end of the data")
    yield plain


class _Limit:
    def __init__(self, path: Path, file_size: int) -> None:
        self.path = path
        self.limit = min(MAX_TOTAL, max(MAX_EXPANSION * file_size, MIN_LIMIT))
        self.total = 0

    def add(self, n: int) -> None:
        self.total += n
        if self.total > self.limit:
            raise EvidenceError(self.path, f"adb backup expands to more than {self.limit} bytes "
                                           f"({MAX_EXPANSION}x its size, at most {MAX_TOTAL}): refusing it as a "
                                           "decompression bomb")


def _inflate(path: Path, chunks: Iterator[bytes], out: BinaryIO, limit: _Limit) -> int:
    """Inflate the zlib stream into ``out`` with bounded memory; returns the bytes after its end."""
    d = zlib.decompressobj()
    trailing = 0
    try:
        for chunk in chunks:
            if d.eof:
                trailing += len(chunk)
                continue
            data = chunk
            while data and not d.eof:
                piece = d.decompress(data, _CHUNK)
                limit.add(len(piece))
                out.write(piece)
                data = d.unconsumed_tail
            if d.eof:
                trailing += len(d.unused_data)
        if not d.eof:
            piece = d.flush()
            limit.add(len(piece))
            out.write(piece)
    except zlib.error as exc:
        raise EvidenceError(path, f"corrupt adb backup: the compressed data cannot be inflated ({exc})") from exc
    if not d.eof:
        raise EvidenceError(path, f"truncated adb backup: the compressed data ends early (after {limit.total} "
                                  "bytes of tar)")
    return trailing


class AdbTree(MappedTree):
    entry_kind = "member"

    def __init__(self, path: Path, password: str | None = None) -> None:
        super().__init__("adb", path.name, self._open_member)
        self.path = path
        self._fh: BinaryIO = open(path, "rb")
        self._tmp: BinaryIO | None = None
        self._tar: tarfile.TarFile | None = None
        self.trailing = 0
        self.packages: set[str] = set()
        try:
            self.header = _Header(path, self._fh)
            self._index(self._payload(backup_password(password)))
        except BaseException:
            self.close()
            raise

    def _payload(self, password: str | None) -> BinaryIO:
        h = self.header
        chunks: Iterator[bytes] = _raw_chunks(self._fh)
        if h.encrypted:
            if password is None:
                raise EvidenceError(self.path, f"encrypted adb backup: {password_hint()}")
            keys = master_key(h, password)
            if keys is None:
                raise EvidenceError(self.path, "wrong password for encrypted backup (it does not decrypt the backup's "
                                               "master key)")
            chunks = _decrypted_chunks(self.path, chunks, *keys)
        elif not h.compressed:
            return self._fh  # a plain tar right after the header: read in place
        size = os.fstat(self._fh.fileno()).st_size
        limit = _Limit(self.path, size)
        try:
            self._tmp = tempfile.TemporaryFile(prefix="evkit-adb-", dir=scratch_root())
            if h.compressed:
                self.trailing = _inflate(self.path, chunks, self._tmp, limit)
            else:
                for chunk in chunks:
                    limit.add(len(chunk))
                    self._tmp.write(chunk)
            self._tmp.flush()
        except OSError as exc:
            raise EvidenceError(self.path, f"cannot unpack the adb backup into a temporary file: "
                                           f"{exc.strerror or exc}") from exc
        self._tmp.seek(0)
        return self._tmp

    def _index(self, payload: BinaryIO) -> None:
        try:
            self._tar = tarfile.open(fileobj=payload, mode="r:")
            for index, m in enumerate(self._tar):
                etype = "dir" if m.isdir() else "link" if m.issym() or m.islnk() else "file" if m.isfile() else "other"
                target = device_path(m.name)
                parts = m.name.split("/")
                if len(parts) >= 2 and parts[0] == "apps" and parts[1]:
                    self.packages.add(parts[1])
                path = target if target is not None else f"{METADATA_DIR}/{m.name}"
                self.add_mapped(path, etype, m.size, m if m.isfile() else None, index, m.name, mtime=int(m.mtime or 0),
                                mode=m.mode, uid=m.uid, gid=m.gid, inode=index, link_target=m.linkname or None)
        except tarfile.ReadError as exc:
            if str(exc) == "empty file":
                return
            raise EvidenceError(self.path, f"corrupt adb backup: its tar cannot be read ({exc})") from exc
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise EvidenceError(self.path, f"corrupt adb backup: its tar cannot be read ({exc})") from exc
        for e in self._entries.values():
            if e.type == "dir" and e.address is None:
                e.locator = self.folder_locator(e.path)

    def _open_member(self, member: tarfile.TarInfo) -> io.RawIOBase:
        assert self._tar is not None
        fh = self._tar.extractfile(member)
        if fh is None:
            raise EvidenceError(self.path, f"member {member.name!r} has no content")
        return fh  # type: ignore[return-value]

    @property
    def notes(self) -> list[str]:
        """What an examiner should know about this backup, one line each (for ``evkit info``)."""
        out = []
        if self.header.encrypted:
            out.append("encrypted backup: opened with the given password; decrypted into an anonymous private "
                       "temporary file, gone when evkit exits")
        if self.trailing:
            out.append(f"{self.trailing} bytes follow the end of the compressed data (not part of the backup's tar)")
        return out

    def phone_layout(self) -> dict[str, Any]:
        return {"platform": "android", "layout": "adb-backup", "prefix": "", "markers": sorted(self.packages)[:20]}

    def info(self) -> dict[str, Any]:
        h = self.header
        out: dict[str, Any] = {"type": "adb", "members": self._count, "format_version": h.version,
                               "compressed": h.compressed, "encryption": h.encryption,
                               "packages": sorted(self.packages), "phone": self.phone_layout()}
        if h.encrypted:
            out["pbkdf2_rounds"] = h.rounds
        if self.trailing:
            out["trailing_bytes"] = self.trailing
        out["notes"] = self.notes
        return out

    def close(self) -> None:
        for fh in (self._tar, self._tmp, self._fh):
            try:
                if fh is not None:
                    fh.close()
            except OSError:
                pass


class AdbBackup(Container):
    name = "adb"
    takes_password = True

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head.startswith(MAGIC)

    @classmethod
    def open(cls, path: Path, password: str | None = None) -> AdbTree:  # type: ignore[override]
        try:
            return AdbTree(path, password)
        except OSError as exc:
            raise EvidenceError(path, f"cannot read the adb backup: {exc.strerror or exc}") from exc
