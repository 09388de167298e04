"""How entries are written out: the JSON record, the TSK bodyfile line, and content hashes."""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

from evkit import names
from evkit.jsontext import dumps
from evkit.errors import EvkitError
from evkit.hashing import hash_chunks, read_chunks
from evkit.sources.base import Entry

_TYPE_CHAR = {"file": "r", "dir": "d", "link": "l", "ads": "r", "other": "-"}


def entry_record(e: Entry, hashes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``ls --json`` object: stable field names that scripts and later steps rely on."""
    rec: dict[str, Any] = {
        "path": names.escape(e.path),
        "name": names.escape(e.name),
        "inode": e.inode,
        "type": e.type,
        "size": e.size,
        "deleted": e.deleted,
        "mtime": e.mtime,
        "atime": e.atime,
        "ctime": e.ctime,
        "crtime": e.crtime,
        "locator": e.locator,
        "address": e.address,
    }
    if e.link_target is not None:
        rec["link_target"] = names.escape(e.link_target)
    if not names.is_clean(e.path):
        rec["path_hex"] = names.encode(e.path).hex()
    if hashes:
        rec.update(hashes)
    return rec


def _jt(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def entry_json(e: Entry) -> str:
    """:func:`entry_record` as a JSON line, built directly: this runs once per listed file.

    Times and addresses never need JSON escaping (digits, ``-``, ``:``, ``T``, ``Z``);
    names and locators do. Keys and order are those of :func:`entry_record`.
    """
    path = names.escape(e.path)
    text = (
        f'{{"path": {encode_basestring(path)}, "name": {encode_basestring(names.escape(e.name))}, '
        f'"inode": {"null" if e.inode is None else e.inode}, "type": "{e.type}", "size": {e.size}, '
        f'"deleted": {"true" if e.deleted else "false"}, "mtime": {_jt(e.mtime)}, "atime": {_jt(e.atime)}, '
        f'"ctime": {_jt(e.ctime)}, "crtime": {_jt(e.crtime)}, "locator": {encode_basestring(e.locator)}, '
        f'"address": {_jt(e.address)}'
    )
    if e.link_target is not None:
        text += f', "link_target": {encode_basestring(names.escape(e.link_target))}'
    if path is not e.path and not names.is_clean(e.path):
        text += f', "path_hex": "{names.encode(e.path).hex()}"'
    return text + "}"


def json_line(record: dict[str, Any]) -> str:
    """``json.dumps`` for flat records, several times faster on large listings."""
    parts = []
    for key, value in record.items():
        if value is None:
            text = "null"
        elif value is True:
            text = "true"
        elif value is False:
            text = "false"
        elif isinstance(value, str):
            text = encode_basestring(value)
        elif isinstance(value, int):
            text = str(value)
        else:
            text = dumps(value)
        parts.append(f"{encode_basestring(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


def _perm(mode: int) -> str:
    """``rwxr-xr-x`` with setuid/setgid/sticky as ``s``/``S``/``t``/``T``, as ``ls -l`` and TSK write them."""
    chars = [c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx")]
    for bit, pos, on in ((0o4000, 2, "s"), (0o2000, 5, "s"), (0o1000, 8, "t")):
        if mode & bit:
            chars[pos] = on if chars[pos] != "-" else on.upper()
    return "".join(chars)


def bodyfile_line(e: Entry, md5: str | None = None) -> str:
    """TSK 3.x bodyfile: ``MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime``."""
    name = names.escape(e.path).replace("|", "\\x7c")
    if e.link_target:
        name += " -> " + names.escape(e.link_target).replace("|", "\\x7c")
    if e.deleted:
        name += " (deleted)"
    t = _TYPE_CHAR.get(e.type, "-")
    ntype, mtype = e.name_type or t, e.meta_type or t
    mode = f"{ntype}/{mtype}{_perm(e.mode)}" if mtype != "-" else f"{ntype}/----------"
    return "|".join(
        (md5 or "0", name, e.address or "0", mode, str(e.uid), str(e.gid), str(e.size),
         str(e.atime_s), str(e.mtime_s), str(e.ctime_s), str(e.crtime_s))
    )


def entry_hashes(src: Any, e: Entry, algos: list[str]) -> tuple[dict[str, Any], str | None]:
    """Content hashes of a file entry, or nulls and a message when its content cannot be read."""
    if e.type not in ("file", "ads") or (e.deleted and e.ref is None):
        return {a: None for a in algos}, None
    try:
        stream = src.open(e)
        try:
            digests = hash_chunks(read_chunks(stream.read, e.size), algos)
        finally:
            stream.close()
    except EvkitError as exc:
        return {a: None for a in algos}, f"{names.escape(e.path)}: content not readable ({exc})"
    return digests, None
