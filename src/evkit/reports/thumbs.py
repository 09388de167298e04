"""Small JPEG copies of located photos for the HTML report, made with Pillow when it is installed.

The photo files are artefacts in the case (hashed copies under ``data/``), so a thumbnail is made
from that copy, once per artefact. A file Pillow cannot decode, or that claims to be enormous (a
decompression bomb), simply gets no thumbnail; nothing from the photo but its pixels is kept.
"""

from __future__ import annotations

from pathlib import Path

from evkit.reports.collect import R_SRC, ReportData

MAX_PIXELS = 80_000_000
MAX_BYTES = 256 * 1024 * 1024
SIZE = (240, 240)


def pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def candidates(data: ReportData) -> dict[int, str]:
    """Artefact id -> stored path, for every artefact behind a record of a located artefact type."""
    out: dict[int, str] = {}
    for g in data.groups:
        if g.location is None and not (g.artifact_def is not None and g.artifact_def.location):
            continue
        for r in g.rows:
            s = data.sources[r[R_SRC]]
            if s.artefact_id not in out and s.stored_path:
                out[s.artefact_id] = s.stored_path
    return out


def make_thumbnails(data: ReportData, case_root: Path, out_dir: Path) -> dict[int, str]:
    """Write ``out_dir/a<artefact id>.jpg`` for each decodable photo; returns artefact id -> file name."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    made: dict[int, str] = {}
    for art_id, rel in sorted(candidates(data).items()):
        src = case_root / rel
        try:
            if not src.is_file() or src.is_symlink() or src.stat().st_size > MAX_BYTES:
                continue
            with Image.open(src) as im:
                if im.width * im.height > MAX_PIXELS:
                    continue
                im.draft("RGB", (SIZE[0] * 2, SIZE[1] * 2))
                try:
                    im = ImageOps.exif_transpose(im)
                except Exception:  # a damaged orientation tag: show the pixels as stored
                    pass
                im = im.convert("RGB")
                im.thumbnail(SIZE)
                out_dir.mkdir(parents=True, exist_ok=True)
                name = f"a{int(art_id)}.jpg"
                im.save(out_dir / name, "JPEG", quality=80)
                made[art_id] = name
        except Exception:  # Pillow reports hostile or unsupported files with many exception types
            continue
    return made
