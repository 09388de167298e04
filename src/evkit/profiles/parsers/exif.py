"""Photo metadata (EXIF) from JPEG, TIFF/DNG and HEIC/HEIF, one record per file.

Container first, tags second:

* The container is walked here, with hard limits: JPEG markers up to the first scan (the
  ``APP1 Exif`` segment and the frame size from ``SOFn``); ISO-BMFF boxes (``ftyp``, ``meta`` with
  ``pitm``/``iinf``/``iloc``/``iprp``, the ``Exif`` item and the primary item's ``ispe`` size);
  TIFF and DNG are their own EXIF. exifread 3.5.1 only finds HEIF EXIF when the major brand is
  ``heic``/``avif``/``mif1`` (not ``heix``/``msf1``...), and its box walker loops forever on a box
  whose 64-bit size is 0, so it is not used for the container.
* The TIFF structure (IFD0, the EXIF and GPS IFDs) is decoded by exifread's ``ExifHeader`` over a
  private stream holding only the EXIF block (for JPEG, the APP1 segment: offsets cannot reach the
  rest of the file). That stream counts reads and stops after :data:`MAX_READS`, so a hostile IFD
  (65,535 entries, loops, huge value counts) costs a bounded time; memory is bounded by the block
  itself (a value count of 4 G reads what is there, never allocates 4 GB). Thumbnails (IFD1),
  maker notes and user comments are not read.

What every record says (decided here, documented in ``profiles/exif.yaml``):

* A recognised photo always gives one record, also with no EXIF (``exif_present: false``, the
  fields null: the examiner sees the file was looked at) or damaged EXIF (what could be read,
  plus ``exif_error``).
* ``datetime_original`` is EXIF ``DateTimeOriginal``: camera local time with no zone, kept as
  ``YYYY-MM-DDTHH:MM:SS`` with no ``Z``; ``offset_time_original`` is ``OffsetTimeOriginal``.
* ``datetime_original_utc`` (the timeline time) is only set when the UTC moment is known: from
  ``OffsetTimeOriginal``, or else from the GPS date and time (UTC by definition) when they are
  consistent with ``DateTimeOriginal`` (local minus GPS is a real zone offset, -12:00..+14:00,
  within 10 minutes of a quarter hour) or when there is no ``DateTimeOriginal`` to contradict
  them. ``datetime_original_utc_source`` says which. An inconsistent GPS time (e.g. the Nikon
  P6000's GPS date one day off) is kept in ``gps_timestamp_utc`` with a warning, never used.
* Coordinates in decimal degrees, south/west negative; altitude negative below sea level
  (``GPSAltitudeRef`` 1). A position of exactly 0, 0 is a "no fix" placeholder: null, with a warning.
* ``width``/``height`` are the image's own size (JPEG frame, TIFF IFD0, HEIF primary item), else
  the EXIF ``PixelXDimension``/``PixelYDimension``.
"""

from __future__ import annotations

import io
import logging
import math
import re
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from evkit.profiles.model import Profile
from evkit.profiles.parsers.file import read_head

NEEDS_FILE = False
TABLES = False

MAX_READS = 20_000                  # exifread reads per file (the corpus photos need 26..500)
MAX_EXIF_ITEM = 16 * 1024 * 1024    # bytes of a HEIF Exif item that are read
MAX_BOXES = 4096                    # ISO-BMFF boxes looked at per level
MAX_ITEMS = 65536                   # HEIF items / properties / associations

HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                         b"mif1", b"msf1", b"mif2", b"avif", b"avis"})
SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
ORIENTATION = {1: "Horizontal (normal)", 2: "Mirrored horizontal", 3: "Rotated 180", 4: "Mirrored vertical",
               5: "Mirrored horizontal then rotated 90 CCW", 6: "Rotated 90 CW",
               7: "Mirrored horizontal then rotated 90 CW", 8: "Rotated 90 CCW"}
# most telling first: `evkit parse` without --json shows the first few
FIELDS = ("make", "model", "datetime_original", "datetime_original_utc", "latitude", "longitude", "altitude",
          "offset_time_original", "datetime_original_utc_source", "gps_timestamp_utc", "datetime_digitized",
          "datetime_modified", "software", "lens", "serial_number", "image_unique_id", "orientation",
          "orientation_label", "width", "height", "format", "exif_present", "warnings", "exif_error")

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_EXIF_TIME = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")

# exifread logs every oddity of hostile files as a warning; the record's exif_error says it instead.
logging.getLogger("exifread").disabled = True


class Malformed(Exception):
    """A container that cannot be walked further; what was found before it is kept."""


class _Budget(Exception):
    pass


class _CountingStream(io.BytesIO):
    """The EXIF block, refusing to be read more than MAX_READS times (bounds exifread's time)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.left = MAX_READS

    def read(self, size: int | None = -1) -> bytes:
        self.left -= 1
        if self.left < 0:
            raise _Budget()
        return super().read(size)


# ---------------------------------------------------------------------------------------------
# recognising the container


def sniff(head: bytes) -> str | None:
    """``jpeg``, ``tiff``, ``heif`` or None, from the first bytes (renamed files are not misparsed)."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]}
        end = min(size if size >= 16 else 16, len(head))
        brands.update(head[i:i + 4] for i in range(16, end - 3, 4))
        if brands & HEIF_BRANDS:
            return "heif"
    return None


def _all(target: Any) -> bytes:
    if isinstance(target, (str, Path)):
        return Path(target).read_bytes()
    if isinstance(target, io.BytesIO):
        return target.getvalue()
    target.seek(0)
    return target.read()


def identify(profile: Profile, target: Any) -> bool:
    try:
        return sniff(read_head(target, 256)) is not None
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# containers


def _jpeg(data: bytes, errors: list[str]) -> tuple[bytes | None, tuple[int, int] | None]:
    """The TIFF block of the first ``APP1 Exif`` segment and the frame size, walking markers to SOS."""
    n = len(data)
    pos = 2
    exif: bytes | None = None
    size: tuple[int, int] | None = None
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            errors.append(f"JPEG: no marker at offset {pos} (damaged or truncated segment list)")
            break
        marker = data[pos + 1]
        if marker == 0xFF:              # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):      # end of image, start of scan: no more metadata segments
            break
        length = (data[pos + 2] << 8) | data[pos + 3]
        if length < 2:
            errors.append(f"JPEG: segment at offset {pos} has length {length}")
            break
        start, end = pos + 4, pos + 2 + length
        if end > n:
            errors.append(f"JPEG: segment 0x{marker:02X} at offset {pos} is truncated ({n - start} of {length - 2} bytes)")
            end = n
        if marker == 0xE1 and exif is None and data[start:start + 5] == b"Exif\x00":
            exif = data[start + 6:end]
        elif marker in SOF_MARKERS and size is None and end - start >= 5:
            height, width = struct.unpack_from(">HH", data, start + 1)
            size = (width, height)
        pos = end
    return exif, size


class _Box:
    __slots__ = ("type", "start", "end")

    def __init__(self, type_: bytes, start: int, end: int) -> None:
        self.type, self.start, self.end = type_, start, end


def _boxes(data: bytes, start: int, end: int) -> Iterator[_Box]:
    """The boxes between ``start`` and ``end`` (payload offsets); stops at the first damaged header."""
    pos = start
    for _ in range(MAX_BOXES):
        if pos + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise Malformed(f"HEIF: truncated box header at offset {pos}")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise Malformed(f"HEIF: box {kind!r} at offset {pos} has size {size}")
        box_end = pos + size
        if box_end > end:
            raise Malformed(f"HEIF: box {kind.decode('latin-1')!r} at offset {pos} runs past its parent ({size} bytes)")
        yield _Box(kind, pos + header, box_end)
        pos = box_end


class _Reader:
    """Big-endian fields inside one box, never past its end."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def uint(self, nbytes: int) -> int:
        if nbytes == 0:
            return 0
        if nbytes > 8 or self.pos + nbytes > self.end:
            raise Malformed(f"HEIF: field of {nbytes} bytes past the end of its box at offset {self.pos}")
        value = int.from_bytes(self.data[self.pos:self.pos + nbytes], "big")
        self.pos += nbytes
        return value

    def bytes(self, n: int) -> bytes:
        if self.pos + n > self.end:
            raise Malformed(f"HEIF: field past the end of its box at offset {self.pos}")
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value


def _heif(data: bytes, errors: list[str]) -> tuple[bytes | None, tuple[int, int] | None]:
    """The TIFF block of the ``Exif`` item and the primary item's ``ispe`` size."""
    meta = next((b for b in _boxes(data, 0, len(data)) if b.type == b"meta"), None)
    if meta is None:
        errors.append("HEIF: no meta box")
        return None, None
    primary: int | None = None
    exif_ids: list[int] = []
    locations: dict[int, tuple[int, list[tuple[int, int]]]] = {}
    properties: list[tuple[int, int] | None] = []
    associations: dict[int, list[int]] = {}
    idat: _Box | None = None
    for box in _boxes(data, meta.start + 4, meta.end):   # meta is a full box: 4 bytes version/flags
        r = _Reader(data, box.start, box.end)
        if box.type == b"pitm":
            version = r.uint(1)
            r.uint(3)
            primary = r.uint(2 if version == 0 else 4)
        elif box.type == b"iinf":
            version = r.uint(1)
            r.uint(3)
            r.uint(2 if version == 0 else 4)
            for infe in _boxes(data, r.pos, box.end):
                if infe.type != b"infe":
                    continue
                ir = _Reader(data, infe.start, infe.end)
                iv = ir.uint(1)
                ir.uint(3)
                if iv < 2:
                    continue
                item_id = ir.uint(2 if iv == 2 else 4)
                ir.uint(2)
                if ir.bytes(4) == b"Exif":
                    exif_ids.append(item_id)
        elif box.type == b"iloc":
            _iloc(r, locations)
        elif box.type == b"idat":
            idat = box
        elif box.type == b"iprp":
            for sub in _boxes(data, box.start, box.end):
                if sub.type == b"ipco":
                    for prop in _boxes(data, sub.start, sub.end):
                        if len(properties) >= MAX_ITEMS:
                            break
                        if prop.type == b"ispe" and prop.end - prop.start >= 12:
                            w, h = struct.unpack_from(">II", data, prop.start + 4)
                            properties.append((w, h))
                        else:
                            properties.append(None)
                elif sub.type == b"ipma":
                    _ipma(_Reader(data, sub.start, sub.end), associations)
    size = None
    if primary is not None:
        for index in associations.get(primary, []):
            if 1 <= index <= len(properties) and properties[index - 1] is not None:
                size = properties[index - 1]
                break
    if size is None:
        sizes = [p for p in properties if p is not None]
        size = max(sizes, key=lambda wh: wh[0] * wh[1]) if sizes else None
    if not exif_ids:
        return None, size
    item = exif_ids[0]
    if item not in locations:
        errors.append(f"HEIF: Exif item {item} has no location")
        return None, size
    method, extents = locations[item]
    base = idat.start if method == 1 and idat is not None else 0
    if method not in (0, 1) or (method == 1 and idat is None):
        errors.append(f"HEIF: Exif item {item} uses construction method {method}, not supported")
        return None, size
    parts = []
    total = 0
    for offset, length in extents:
        start = base + offset
        if start >= len(data):
            errors.append(f"HEIF: Exif item extent at offset {start} is past the end of the file")
            break
        stop = len(data) if length == 0 else min(start + length, len(data), start + MAX_EXIF_ITEM - total)
        if length and start + length > len(data):
            errors.append("HEIF: Exif item is truncated")
        parts.append(data[start:stop])
        total += stop - start
        if total >= MAX_EXIF_ITEM:
            break
    payload = b"".join(parts)
    if len(payload) < 4:
        errors.append("HEIF: Exif item is empty")
        return None, size
    skip = int.from_bytes(payload[:4], "big")
    tiff = payload[4 + skip:]
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        at = max(payload.find(b"II*\x00", 4, 4 + 64), payload.find(b"MM\x00*", 4, 4 + 64))
        if at < 0:
            errors.append("HEIF: Exif item holds no TIFF header")
            return None, size
        tiff = payload[at:]
    return tiff, size


def _iloc(r: _Reader, locations: dict[int, tuple[int, list[tuple[int, int]]]]) -> None:
    version = r.uint(1)
    r.uint(3)
    if version > 2:
        raise Malformed(f"HEIF: iloc version {version}")
    a, b = r.uint(1), r.uint(1)
    offset_size, length_size, base_size = a >> 4, a & 15, b >> 4
    index_size = b & 15 if version in (1, 2) else 0
    count = r.uint(2 if version < 2 else 4)
    for _ in range(min(count, MAX_ITEMS)):
        item_id = r.uint(2 if version < 2 else 4)
        method = r.uint(2) & 15 if version in (1, 2) else 0
        r.uint(2)                       # data reference index
        base = r.uint(base_size)
        extents = []
        for _ in range(r.uint(2)):
            if index_size:
                r.uint(index_size)
            offset = r.uint(offset_size)
            length = r.uint(length_size)
            extents.append((base + offset, length))
        locations[item_id] = (method, extents)


def _ipma(r: _Reader, associations: dict[int, list[int]]) -> None:
    version = r.uint(1)
    flags = r.uint(3)
    for _ in range(min(r.uint(4), MAX_ITEMS)):
        item_id = r.uint(2 if version < 1 else 4)
        indexes = []
        for _ in range(r.uint(1)):
            indexes.append(r.uint(2) & 0x7FFF if flags & 1 else r.uint(1) & 0x7F)
        associations[item_id] = indexes


# ---------------------------------------------------------------------------------------------
# the TIFF structure, through exifread


def read_tags(tiff: bytes, errors: list[str]) -> dict[str, Any]:
    """exifread's tags of IFD0, the EXIF IFD and the GPS IFD; partial when the block is damaged."""
    from exifread.core.exif_header import ExifHeader

    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        errors.append("EXIF: no TIFF header (II*\\0 or MM\\0*) at the start of the EXIF block")
        return {}
    hdr = ExifHeader(_CountingStream(tiff), chr(tiff[0]), 0, 0, False, False, False, True)
    try:
        first = hdr.s2n(4, 4)
        if not 8 <= first < len(tiff):
            errors.append(f"EXIF: first IFD offset {first} is outside the {len(tiff)}-byte EXIF block")
            return hdr.tags
        hdr.dump_ifd(ifd=first, ifd_name="Image")
        exif_ifd = hdr.tags.get("Image ExifOffset")
        if exif_ifd is not None and exif_ifd.values:
            off = exif_ifd.values[0]
            if isinstance(off, int) and 0 < off < len(tiff):
                hdr.dump_ifd(ifd=off, ifd_name="EXIF")
            else:
                errors.append(f"EXIF: EXIF IFD offset {off} is outside the EXIF block")
    except _Budget:
        errors.append(f"EXIF: structure too large or looping, stopped after {MAX_READS} reads")
    except RecursionError:
        errors.append("EXIF: IFDs nested too deeply")
    except Exception as exc:  # exifread on hostile data: keep what was read
        errors.append(f"EXIF: {type(exc).__name__}: {exc}")
    return hdr.tags


def _text(tag: Any) -> str | None:
    if tag is None:
        return None
    value = tag.values
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
    if not isinstance(value, str):
        return None
    value = value.strip().strip("\x00").strip()
    return value or None


def _int(tag: Any) -> int | None:
    if tag is None or isinstance(tag.values, (str, bytes)) or not tag.values:
        return None
    value = tag.values[0]
    return value if isinstance(value, int) else None


def _num(value: Any) -> float | None:
    """A float from an exifread Ratio (which keeps a zero denominator), int or float; None if undefined."""
    if isinstance(value, tuple):            # exifread wraps FLOAT/DOUBLE in a 1-tuple
        value = value[0] if value else None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    num = getattr(value, "_numerator", None)
    den = getattr(value, "_denominator", None)
    if isinstance(num, int) and isinstance(den, int):
        return num / den if den else None
    return None


def _dms(tag: Any) -> float | None:
    if tag is None or isinstance(tag.values, (str, bytes)) or not tag.values:
        return None
    parts = [_num(v) for v in tag.values[:3]]
    if any(p is None for p in parts):
        return None
    value = 0.0
    for part, scale in zip(parts, (1, 60, 3600)):
        value += part / scale  # type: ignore[operator]
    return value


def _local(text: str | None) -> datetime | None:
    if not text:
        return None
    m = _EXIF_TIME.match(text)
    if not m:
        return None
    try:
        return datetime(*map(int, m.groups()))
    except ValueError:
        return None


def _iso_z(dt: datetime, micro: bool = True) -> str:
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if micro and dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def _gps_time(tags: dict[str, Any], warnings: list[str]) -> datetime | None:
    date = _text(tags.get("GPS GPSDate"))
    stamp = tags.get("GPS GPSTimeStamp")
    if not date or stamp is None or isinstance(stamp.values, (str, bytes)) or len(stamp.values) < 3:
        return None
    m = re.match(r"^(\d{4})[:-](\d{2})[:-](\d{2})", date)
    h, mi, s = (_num(v) for v in stamp.values[:3])
    if not m or h is None or mi is None or s is None:
        warnings.append(f"GPS date/time unreadable: {date!r} {stamp.printable}")
        return None
    try:
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=timezone.utc)
        total = h * 3600 + mi * 60 + s
        if not 0 <= total < 86401:
            raise ValueError
        return day + timedelta(microseconds=round(total * 1_000_000))
    except (ValueError, OverflowError):
        warnings.append(f"GPS date/time invalid: {date} {stamp.printable}")
        return None


def _fields(tags: dict[str, Any], out: dict[str, Any], warnings: list[str]) -> None:
    out["make"] = _text(tags.get("Image Make"))
    out["model"] = _text(tags.get("Image Model"))
    out["software"] = _text(tags.get("Image Software"))
    out["lens"] = _text(tags.get("EXIF LensModel"))
    out["serial_number"] = _text(tags.get("EXIF BodySerialNumber")) or _text(tags.get("Image Tag 0xC62F"))
    out["image_unique_id"] = _text(tags.get("EXIF ImageUniqueID"))
    orientation = _int(tags.get("Image Orientation"))
    out["orientation"] = orientation
    out["orientation_label"] = ORIENTATION.get(orientation) if orientation is not None else None
    # raw EXIF text; the profile's `exif` conversion makes it YYYY-MM-DDTHH:MM:SS (local, no Z)
    original = _text(tags.get("EXIF DateTimeOriginal"))
    out["datetime_original"] = original
    out["datetime_digitized"] = _text(tags.get("EXIF DateTimeDigitized"))
    out["datetime_modified"] = _text(tags.get("Image DateTime"))
    offset_text = _text(tags.get("EXIF OffsetTimeOriginal"))
    out["offset_time_original"] = offset_text

    lat, lon = _dms(tags.get("GPS GPSLatitude")), _dms(tags.get("GPS GPSLongitude"))
    if lat is not None and lon is not None:
        if _text(tags.get("GPS GPSLatitudeRef")) in ("S", "s"):
            lat = -lat
        if _text(tags.get("GPS GPSLongitudeRef")) in ("W", "w"):
            lon = -lon
        if lat == 0 and lon == 0:
            warnings.append("GPS position 0, 0 (a placeholder written without a fix): not reported")
        elif abs(lat) > 90 or abs(lon) > 180:
            warnings.append(f"GPS position out of range: {lat}, {lon}")
        else:
            out["latitude"], out["longitude"] = round(lat, 8), round(lon, 8)
    alt_tag = tags.get("GPS GPSAltitude")
    if alt_tag is not None and not isinstance(alt_tag.values, (str, bytes)) and alt_tag.values:
        alt = _num(alt_tag.values[0])
        if alt is not None:
            if _int(tags.get("GPS GPSAltitudeRef")) == 1:
                alt = -alt
            out["altitude"] = round(alt, 3)

    gps = _gps_time(tags, warnings)
    if gps is not None:
        out["gps_timestamp_utc"] = _iso_z(gps)
    local = _local(original)
    if original and local is None:
        warnings.append(f"DateTimeOriginal is not a valid date: {original!r}")
    m = _OFFSET.match(offset_text or "")
    if offset_text and not m:
        warnings.append(f"OffsetTimeOriginal is not ±HH:MM: {offset_text!r}")
    if local is not None and m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        delta = timedelta(minutes=-minutes if m.group(1) == "-" else minutes)
        try:
            out["datetime_original_utc"] = _iso_z(local - delta)
            out["datetime_original_utc_source"] = "OffsetTimeOriginal"
        except (OverflowError, ValueError):
            pass
    elif gps is not None:
        if local is None:
            out["datetime_original_utc"] = out["gps_timestamp_utc"]
            out["datetime_original_utc_source"] = "GPSDateStamp+GPSTimeStamp"
        else:
            diff = (local.replace(tzinfo=timezone.utc) - gps).total_seconds()
            quarter = round(diff / 900) * 900
            if -12 * 3600 <= quarter <= 14 * 3600 and abs(diff - quarter) <= 600:
                out["datetime_original_utc"] = out["gps_timestamp_utc"]
                out["datetime_original_utc_source"] = "GPSDateStamp+GPSTimeStamp"
            else:
                warnings.append(f"GPS time {out['gps_timestamp_utc']} does not match DateTimeOriginal "
                                f"{local.isoformat()} in any time zone: not used as the UTC time")

    width = _int(tags.get("EXIF ExifImageWidth"))
    height = _int(tags.get("EXIF ExifImageLength"))
    if width and height:
        out["width"], out["height"] = width, height


def extract(data: bytes) -> dict[str, Any]:
    """The record of one photo: every field of :data:`FIELDS`, null when unknown."""
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    errors: list[str] = []
    warnings: list[str] = []
    fmt = sniff(data[:256])
    out["format"] = fmt
    out["exif_present"] = False
    tiff: bytes | None = None
    size: tuple[int, int] | None = None
    try:
        if fmt == "jpeg":
            tiff, size = _jpeg(data, errors)
        elif fmt == "tiff":
            tiff = data
        elif fmt == "heif":
            tiff, size = _heif(data, errors)
    except Malformed as exc:
        errors.append(str(exc))
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        errors.append(f"{fmt}: {type(exc).__name__}: {exc}")
    if tiff is not None:
        out["exif_present"] = True
        tags = read_tags(tiff, errors)
        try:
            _fields(tags, out, warnings)
        except Exception as exc:  # a tag of an unexpected type: keep the other fields
            errors.append(f"EXIF: {type(exc).__name__}: {exc}")
        if fmt == "tiff":
            w, h = _int(tags.get("Image ImageWidth")), _int(tags.get("Image ImageLength"))
            if w and h:
                size = (w, h)
    if size is not None and size[0] and size[1]:
        out["width"], out["height"] = size
    out["warnings"] = warnings or None
    out["exif_error"] = "; ".join(errors) or None
    return out


def parse(profile: Profile, target: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    artifact = "photos" if "photos" in profile.artifacts else next(iter(profile.artifacts))
    yield artifact, {"index": 0}, extract(_all(target))
