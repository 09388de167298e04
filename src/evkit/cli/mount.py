"""``evkit mount``: browse an evidence item with ordinary tools through a read-only FUSE mount."""

from __future__ import annotations

import os
import shlex
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from evkit.sources.source import Source


def mount(
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    mountpoint: Annotated[str, typer.Argument(help="Empty folder to mount on.")],
    json_out: Annotated[bool, typer.Option("--json", help="A JSON line on stdout when mounted (wait for it), another when unmounted.")] = False,
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
    whence = os.path.abspath(source)
    event = {"source": names.escape(whence), "mountpoint": names.escape(where), "pid": os.getpid()}

    def ready(src: Source) -> None:
        if json_out:
            filesystems = [{"path": fs.get("mount"), "type": fs.get("type"), "locator": fs.get("locator"),
                            "label": names.escape(fs["label"]) if fs.get("label") else None}
                           for fs in src.info().get("filesystems") or []]
            common.emit_json({"event": "mounted", "time": _now(), **event, "read_only": True,
                              "deleted_dir": f"/{fusemount.DELETED_DIR}", "filesystems": filesystems,
                              "unmount": [fusemount.fusermount(), "-u", names.escape(where)]})
        if not common.SETTINGS.quiet:
            print(f"evkit: {names.escape(source)} mounted read-only at {names.escape(where)}; "
                  f"unmount with Ctrl-C or: {fusemount.fusermount()} -u {shlex.quote(where)}",
                  file=sys.stderr, flush=True)

    fusemount.mount(whence, where, on_ready=ready)
    if json_out:
        common.emit_json({"event": "unmounted", "time": _now(), **event})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
