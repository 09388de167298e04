"""``evkit hash``: hash the whole media in one pass, and verify it against what the E01 stores."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_MISMATCH


def hash_media(
    source: Annotated[str, typer.Argument(help="Evidence image (first segment) or archive file.")],
    algo: Annotated[Optional[str], typer.Option("--algo", help="Comma-separated: md5,sha1,sha256.")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Compare with stored hashes and check every EWF chunk.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Hash the acquired media (MD5, SHA-1, SHA-256 computed in parallel)."""
    from evkit.hashing import parse_algorithms
    from evkit.media_hash import hash_media as run_hash
    from evkit.sources.source import open_source

    algos = parse_algorithms(algo)
    with open_source(source, filesystems=False) as src:
        total = src.media.size if src.media is not None else (src.path.stat().st_size if src.path.is_file() else 0)
        if common.show_progress():
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
            from rich.console import Console

            with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                          TimeRemainingColumn(), console=Console(stderr=True, no_color=not common.color_enabled()),
                          transient=True) as bar:
                task = bar.add_task("hashing", total=total)
                result = run_hash(src, algos, verify, lambda n: bar.advance(task, n))
        else:
            result = run_hash(src, algos, verify)
    data = result.as_dict()
    if json_out:
        common.emit_json(data)
    else:
        lines = [f"{a.upper():<7}{data[a]}" for a in result.hashes]
        lines.append(f"Size   {result.size} bytes")
        for a, v in result.stored.items():
            state = "matched" if result.matches.get(a) else "MISMATCH"
            lines.append(f"Stored {a.upper()}: {v} ({state})")
        if result.chunks_checked is not None:
            lines.append(f"EWF chunks: {result.chunks_checked} checked, {len(result.chunk_errors)} failed")
            for err in result.chunk_errors[:20]:
                lines.append(f"  chunk {err['chunk']} in {err['segment']} at offset {err['offset']}: {err['reason']}")
        if verify:
            lines.append({True: "Verified: yes", False: "Verified: NO", None: "Verified: nothing stored to compare with"}[result.verified])
        print("\n".join(lines))
    if verify and result.verified is False:
        print(f"evkit: verification failed for {source}", file=sys.stderr)
        raise typer.Exit(EXIT_MISMATCH)
