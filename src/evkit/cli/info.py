"""``evkit info``: what an evidence item is made of."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from evkit.cli import common


def info(
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Container format, segments, media size, EWF metadata and stored hashes, partitions, filesystems."""
    from evkit.sources.source import open_source

    with open_source(source) as src:
        data = src.info()
    if json_out:
        common.emit_json(data)
        return
    _print(data)


def _print(d: dict[str, Any]) -> None:
    out = [f"Source:       {common.shown(d['source'])}", f"Kind:         {d['kind']}"]
    c = d.get("container")
    if c:
        out.append(f"Container:    {c['format']}")
        out.append(f"Segments:     {len(c['segments'])} ({', '.join(common.shown(s.rsplit('/', 1)[-1]) for s in c['segments'][:6])}{', ...' if len(c['segments']) > 6 else ''})")
        out.append(f"Media size:   {c['media_size']} bytes")
        meta = c.get("metadata") or {}
        for key, value in (meta.get("headers") or {}).items():
            out.append(f"  {key + ':':<30}{common.shown(str(value))}")
        for key, value in meta.items():
            if key != "headers":
                out.append(f"  {key + ':':<30}{value}")
        for algo, value in (c.get("stored_hashes") or {}).items():
            out.append(f"Stored {algo.upper() + ':':<7}{value}")
    vs = d.get("volume_system")
    if vs:
        out.append(f"Volume system: {vs['type']} (block size {vs['block_size']})")
        out.append("  slot  start       length      offset        flags        description")
        for p in vs["partitions"]:
            out.append(f"  {p['addr']:>4}  {p['start']:<10}  {p['length']:<10}  {p['offset']:<12}  {p['flags']:<11}  {p['description']}")
    else:
        out.append("Volume system: none")
    for fs in d["filesystems"]:
        label = f", label {common.shown(fs['label'])!s}" if fs.get("label") else ""
        out.append(f"Filesystem:   {fs['mount']}: {fs['type']} at offset {fs.get('offset', 0)}, block size {fs.get('block_size', '-')}{label}")
    for fs in d["filesystems"]:
        phone = fs.get("phone")
        if phone:
            where = f" under {phone['prefix']}" if phone.get("prefix") else ""
            out.append(f"Phone:        {phone['platform']} {phone['layout']}{where} ({', '.join(phone.get('markers', [])[:4])})")
        device = fs.get("device")
        if isinstance(device, dict) and device:
            out.append("Device:       " + ", ".join(f"{k}: {v}" for k, v in device.items() if v not in (None, "")))
        if "encrypted" in fs:
            out.append(f"Encrypted:    {'yes' if fs['encrypted'] else 'no'}")
    for note in d.get("notes") or []:
        out.append(f"Note:         {note}")
    print("\n".join(out))
