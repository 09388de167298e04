"""Expert Witness (EnCase ``.E01``, single or split) through pyewf."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evkit.errors import EvidenceError, UnsupportedEvidence
from evkit.sources.base import Container, Media
from evkit.sources.containers.libyal import LibyalMedia, first_line

EWF1_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
EWF2_SIGNATURE = b"EVF2\x0d\x0a\x81\x00"
LOGICAL_SIGNATURES = (b"LVF\x09\x0d\x0a\xff\x00", b"LEF2\x0d\x0a\x81\x00")

HEADER_FIELDS = {
    "case_number": "case_number",
    "evidence_number": "evidence_number",
    "examiner_name": "examiner",
    "description": "description",
    "notes": "notes",
    "acquiry_date": "acquisition_date",
    "system_date": "system_date",
    "acquiry_software": "acquisition_software",
    "acquiry_software_version": "acquisition_software_version",
    "acquiry_operating_system": "acquisition_os",
    "model": "model",
    "serial_number": "serial_number",
    "device_label": "device_label",
}


class EwfMedia(LibyalMedia):
    format = "ewf"

    def metadata(self) -> dict[str, Any]:
        h = self._handle
        headers: dict[str, str] = {}
        for key, value in (h.get_header_values() or {}).items():
            if value not in (None, ""):
                headers[HEADER_FIELDS.get(key, key)] = value
        return {
            "headers": headers,
            "ewf_format": _enum_name(h.get_format()),
            "bytes_per_sector": h.get_bytes_per_sector(),
            "sectors": h.get_number_of_sectors(),
            "chunk_size": h.get_chunk_size(),
            "compression": _enum_name(h.get_compression_method()),
            "media_type": _enum_name(h.get_media_type()),
        }

    def stored_hashes(self) -> dict[str, str]:
        out = {}
        for key, value in (self._handle.get_hash_values() or {}).items():
            if value and set(value) != {"0"}:
                out[key.lower().replace("-", "")] = value.lower()
        return out


def _enum_name(value: Any) -> Any:
    return value if isinstance(value, (int, str)) else str(value)


class Ewf(Container):
    name = "ewf"

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return head.startswith((EWF1_SIGNATURE, EWF2_SIGNATURE, *LOGICAL_SIGNATURES))

    @classmethod
    def open(cls, path: Path) -> Media:
        import pyewf

        with open(path, "rb") as fh:
            head = fh.read(8)
        if head.startswith(LOGICAL_SIGNATURES):
            raise UnsupportedEvidence(path, "is an EWF logical evidence file (L01/Lx01), not a disk image")
        try:
            names = pyewf.glob(str(path))
        except OSError as exc:
            raise EvidenceError(path, f"cannot find EWF segments: {first_line(exc)}") from exc
        segments = [Path(n) for n in names]
        _check_segment_sequence(path, segments)
        handle = pyewf.handle()
        try:
            handle.open(names)
        except OSError as exc:
            raise EvidenceError(path, f"cannot open EWF image: {first_line(exc)}") from exc
        return EwfMedia(path, segments, handle)


def _check_segment_sequence(path: Path, segments: list[Path]) -> None:
    """pyewf globs whatever exists and opens an incomplete set; the gap would only show at a read."""
    from evkit.sources.containers.ewf_chunks import EwfFormatError, check_segments, segment_count

    if not segments:
        raise EvidenceError(path, "no EWF segment files found")
    try:
        expected = segment_count(segments)
    except EwfFormatError as exc:
        last = segments[-1]
        nxt = len(segments) + 1
        # Only a last file that ends in 'next' means files after it are missing; a truncated one is damaged.
        ends_next = "ends with a 'next' section" in str(exc)
        hint = (f" ({last.with_suffix(f'{last.suffix[:2]}{nxt:02d}').name} is missing)"
                if ends_next and nxt < 100 and len(last.suffix) == 4 else "")
        raise EvidenceError(path, f"EWF set is incomplete or damaged{hint}: {exc}") from exc
    if expected is not None and expected != len(segments):
        raise EvidenceError(path, f"EWF set is incomplete: {len(segments)} segment file(s) found, {expected} expected")
    try:
        check_segments(segments)
    except EwfFormatError as exc:
        raise EvidenceError(path, f"EWF set is damaged: {exc}") from exc
