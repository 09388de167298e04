"""``evkit cat``: the bytes of one file (or stream, or inode) to stdout."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from evkit.errors import UsageError

CHUNK = 4 * 1024 * 1024


def cat(
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    path: Annotated[Optional[str], typer.Argument(help="File path inside the evidence.")] = None,
    inode: Annotated[Optional[int], typer.Option("--inode", help="Read by metadata address instead of path.")] = None,
    volume: Annotated[Optional[int], typer.Option("--volume", help="With --inode on a partitioned image: TSK volume address.")] = None,
    stream: Annotated[Optional[str], typer.Option("--stream", help="NTFS alternate data stream name.")] = None,
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
            while chunk := fh.read(CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
        finally:
            fh.close()
