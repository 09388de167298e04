"""``evkit ls``: list files, deleted ones included, as text, JSON lines or a TSK bodyfile."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_PARTIAL, UsageError


def ls(
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    path: Annotated[str, typer.Argument(help="Folder to list (partitioned images: /vol<N>/...).")] = "/",
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into folders.")] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Only deleted entries.")] = False,
    allocated: Annotated[bool, typer.Option("--allocated", help="Only allocated entries.")] = False,
    hash_algos: Annotated[Optional[str], typer.Option("--hash", help="Hash file contents: md5,sha1,sha256.")] = None,
    bodyfile: Annotated[bool, typer.Option("--bodyfile", help="TSK 3.x bodyfile lines (for mactime).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per entry.")] = False,
    no_header: Annotated[bool, typer.Option("--no-header", help="No heading line above the text listing.")] = False,
) -> None:
    """List entries with their locator, times (UTC) and, on request, content hashes.

    Text columns, named by the heading line (--no-header leaves it out):
    TYPE file, dir, link or other;
    D * for a deleted entry;
    ADDRESS metadata address (inode, MFT entry) or -;
    SIZE bytes (blank for folders);
    MODIFIED (UTC) ISO 8601 with Z, or -;
    PATH escaped (\\xNN, \\uNNNN), then -> TARGET for links and any --hash digests.
    --json gives every field (all times, the locator) as one JSON object per line.
    """
    from evkit import names
    from evkit.hashing import parse_algorithms
    from evkit.listing import bodyfile_line, entry_hashes, entry_json, entry_record, json_line
    from evkit.sources.source import open_source

    if deleted and allocated:
        raise UsageError("--deleted and --allocated exclude each other")
    if bodyfile and json_out:
        raise UsageError("--bodyfile and --json exclude each other")
    algos = parse_algorithms(hash_algos) if hash_algos else []
    if bodyfile and "md5" not in algos and hash_algos:
        algos.append("md5")
    failures = 0
    write = sys.stdout.write
    with open_source(source) as src:
        if not json_out and not bodyfile and not no_header:
            write(HEADER + (" " + " ".join(a.upper() for a in algos) if algos else "") + "\n")
        entries = None
        if not algos and not bodyfile:
            from evkit.sources.filesystems import tsk_native

            only = tsk_native.DELETED if deleted else tsk_native.ALLOCATED if allocated else tsk_native.ALL
            entries = tsk_native.native_walk(src, names.unescape(path), recursive, json=json_out, only=only)
        for e in entries if entries is not None else src.walk(names.unescape(path), recursive):
            if deleted and not e.deleted or allocated and e.deleted:
                continue
            hashes: dict[str, Any] = {}
            if algos:
                hashes, error = entry_hashes(src, e, algos)
                if error:
                    failures += 1
                    common.warn(error)
            if bodyfile:
                fn = src.filename_entry(e)
                if fn is not None:
                    write(bodyfile_line(fn) + "\n")
                write(bodyfile_line(e, hashes.get("md5")) + "\n")
            elif json_out and not hashes:
                write(entry_json(e) + "\n")
            elif json_out:
                write(json_line(entry_record(e, hashes)) + "\n")
            else:
                write(_text_line(e, hashes) + "\n")
    if failures:
        raise typer.Exit(EXIT_PARTIAL)


HEADER = f"{'TYPE':<4} D {'ADDRESS':>12} {'SIZE':>12}  {'MODIFIED (UTC)':<30} PATH"


def _text_line(e: Any, hashes: dict[str, Any]) -> str:
    from evkit import names

    mark = "*" if e.deleted else " "
    size = "" if e.type == "dir" else str(e.size)
    digest = " ".join(str(v) for v in hashes.values() if v)
    text = f"{e.type:<4} {mark} {e.address or '-':>12} {size:>12}  {e.mtime or '-':<30} {names.escape(e.path)}"
    if e.link_target:
        text += f" -> {names.escape(e.link_target)}"
    return f"{text}  {digest}" if digest else text
