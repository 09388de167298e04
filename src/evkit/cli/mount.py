"""``evkit mount``: browse an evidence item with ordinary tools through a read-only FUSE mount."""

from __future__ import annotations

import os
import shlex
import sys
from typing import Annotated

import typer


def mount(
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    mountpoint: Annotated[str, typer.Argument(help="Empty folder to mount on.")],
) -> None:
    """Mount every filesystem of the evidence read-only at MOUNTPOINT; runs until unmounted.

    The allocated tree is as `evkit ls` shows it (partitioned images: /vol<N>/...); NTFS alternate data streams are files named file:stream.

    Deleted entries are only under /$DELETED, which mirrors the tree (/$DELETED/vol2/Users/alice/old.txt); one whose name is also used by a sibling is named "name (deleted inode N)".

    Files are 0444 and folders 0555, owned by you; symlinks show their stored target and evkit never follows them. Nothing is written to the evidence.

    Unmount with Ctrl-C, SIGTERM or `fusermount3 -u MOUNTPOINT`.
    """
    from evkit import fusemount, names
    from evkit.cli import common

    where = os.path.abspath(mountpoint)  # now: once mounted, libfuse has changed into /

    def ready() -> None:
        if not common.SETTINGS.quiet:
            print(f"evkit: {names.escape(source)} mounted read-only at {names.escape(where)}; "
                  f"unmount with Ctrl-C or: {fusemount.fusermount()} -u {shlex.quote(where)}",
                  file=sys.stderr, flush=True)

    fusemount.mount(source, mountpoint, on_ready=ready)
