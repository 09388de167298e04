"""The case folder as a BagIt bag (RFC 8493), so any standard validator can check it.

Payload manifests are written from the hashes recorded while files were copied (the store), not
by re-reading the payload, so closing a run costs little however large the case is; ``evkit
verify`` is what re-reads everything.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

from evkit import __version__

TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-md5.txt", "case.db", "custody.jsonl")
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def encode_path(path: str) -> str:
    """RFC 8493 §2.1.3: percent-encode %, CR and LF in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    return path.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r").replace("%25", "%")


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (the directory entry, not only the file)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_hashes(path: Path, algos: Iterable[str] = ("sha256",),
                progress: Callable[[int], None] | None = None) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in algos}
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            for h in hashers.values():
                h.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return {a: h.hexdigest() for a, h in hashers.items()}


def write_bag(root: Path, payload: list[tuple[str, int, str, str]], info: dict[str, str]) -> None:
    """Write bagit.txt, bag-info.txt, payload manifests and the tag manifest.

    ``payload`` rows are (path relative to the bag, size, md5, sha256), every path under ``data/``.
    """
    atomic_write(root / "bagit.txt", BAGIT_TXT)
    rows = sorted(payload)
    oxum = f"{sum(r[1] for r in rows)}.{len(rows)}"
    lines = [f"{k}: {v}" for k, v in info.items() if v]
    lines += [f"Bagging-Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d')}",
              f"Bag-Software-Agent: evkit {__version__}", f"Payload-Oxum: {oxum}"]
    atomic_write(root / "bag-info.txt", "\n".join(lines) + "\n")
    atomic_write(root / "manifest-sha256.txt", "".join(f"{r[3]}  {encode_path(r[0])}\n" for r in rows))
    atomic_write(root / "manifest-md5.txt", "".join(f"{r[2]}  {encode_path(r[0])}\n" for r in rows))
    write_tag_manifest(root)


def write_tag_manifest(root: Path) -> None:
    lines = []
    for name in TAG_FILES:
        p = root / name
        if p.exists():
            lines.append(f"{file_hashes(p)['sha256']}  {name}\n")
    atomic_write(root / "tagmanifest-sha256.txt", "".join(lines))


def read_manifest(path: Path) -> dict[str, str]:
    """path -> hash, as written in a manifest; a missing manifest reads as empty."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        out[decode_path(name.lstrip(" *"))] = digest.lower()
    return out
