"""``evkit cat``: the bytes of one file (or stream, or inode) to stdout."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from evkit.errors import UsageError

if TYPE_CHECKING:
    import io

    from evkit.sources.base import Entry

CHUNK = 4 * 1024 * 1024
JSON_CHUNK = 3 * 1024 * 1024  # a multiple of 3, so each chunk is whole base64 groups


def cat(
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    path: Annotated[Optional[str], typer.Argument(help="File path inside the evidence.")] = None,
    inode: Annotated[Optional[int], typer.Option("--inode", help="Read by metadata address instead of path.")] = None,
    volume: Annotated[Optional[int], typer.Option("--volume", help="With --inode on a partitioned image: TSK volume address.")] = None,
    stream: Annotated[Optional[str], typer.Option("--stream", help="NTFS alternate data stream name.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the entry as `ls --json` shows it, its content in base64, its MD5 and SHA-256.")] = False,
) -> None:
    """Write a file's content to stdout, deleted files included where their content survives."""
    from evkit import names
    from evkit.sources.source import open_source

    if (path is None) == (inode is None):
        raise UsageError("give either a PATH or --inode N")
    with open_source(source) as src:
        if inode is not None:
            entry = src.by_inode(inode, volume, stream)
        else:
            target = names.unescape(path or "/")
            if stream:
                target = f"{target}:{stream}"
            entry = src.lookup(target)
        fh = src.open(entry)
        sys.stdout.flush()
        out = sys.stdout.fileno()
        try:
            if json_out:
                _write_json(entry, fh, out)
            else:
                while chunk := fh.read(CHUNK):
                    _write_all(out, chunk)
        finally:
            fh.close()


def _write_all(out: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(out, view):]


def _write_json(entry: Entry, fh: io.RawIOBase, out: int) -> None:
    """``cat --json``: the content is base64-encoded as it is read and the hashes follow it, so a
    file of any size takes one pass and a few chunks of memory (MD5 and SHA-256 hash in their own
    threads while this one encodes). A read error midway leaves the object unfinished, and the
    exit code (3) says so."""
    import base64

    from evkit.hashing import hash_chunks
    from evkit.jsontext import dumps
    from evkit.listing import entry_record

    head = dumps(entry_record(entry))
    _write_all(out, (head[:-1] + ', "content_base64": "').encode("utf-8"))
    size = 0
    carry = b""  # a short read leaves bytes over a multiple of 3: base64 pads only at the very end

    def encoded_as_hashed() -> Iterator[bytes]:
        nonlocal size, carry
        while chunk := fh.read(JSON_CHUNK):
            yield chunk
            size += len(chunk)
            data = carry + chunk if carry else chunk
            whole = len(data) - len(data) % 3
            _write_all(out, base64.b64encode(data[:whole]))
            carry = data[whole:]

    hashes = hash_chunks(encoded_as_hashed(), ["md5", "sha256"])
    tail = dumps({"content_size": size, **hashes}, ensure_ascii=True)
    _write_all(out, base64.b64encode(carry) + b'", ' + tail[1:].encode("ascii") + b"\n")
