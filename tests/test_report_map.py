"""The map in the HTML and PDF reports: readable coordinates, labelled dots, an offline base map.

Three photos are written with GPS EXIF at known places near 43.47°N 1.45°E (south of Toulouse), so
the truth is the coordinates put into the files. The PDF once printed the tick label "43.470°N" as
"3.470°N" (clipped) with unlabelled dots and no land.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import evkit
from tests.test_reports import make_gps_jpeg

PLACES = [(43.4702, 1.4501), (43.4731, 1.4555), (43.4689, 1.4612)]


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("map")
    ev = work / "card"
    for n, (lat, lon) in enumerate(PLACES):
        if not make_gps_jpeg(ev / "DCIM" / "100CAMERA" / f"IMG_{n:04d}.JPG", lat, lon, "Cam"):
            pytest.skip("Pillow is needed to write the GPS photos")
    case = work / "case"
    evkit("case", "init", str(case), "--case-number", "MAP-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(ev), "--evidence-number", "C1", check=True)
    evkit("extract", str(case), check=True)
    evkit("run", str(case), check=True)
    return case


def _located_ids(case: Path) -> list[int]:
    import json

    rows = [json.loads(x) for x in evkit("records", str(case), "--json", "--limit", "0", check=True).stdout.splitlines()]
    return [r["id"] for r in rows if r["data"].get("latitude") is not None]


def test_html_map_has_a_base_layer_and_record_ids_on_the_dots(mapped: Path) -> None:
    evkit("report", str(mapped), "--format", "html", check=True)
    page = (mapped / "data" / "reports" / "html" / "map.html").read_text(encoding="utf-8")
    assert 'class="land"' in page and "Natural Earth" in page
    ids = _located_ids(mapped)
    assert len(ids) == 3
    labels = re.findall(r'<text class="pt-label"[^>]*>(\d+)</text>', page)
    assert sorted(int(x) for x in labels) == sorted(ids)
    assert "http://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org/2000/svg", "")


def test_pdf_map_prints_whole_tick_labels_and_lists_every_dot(mapped: Path) -> None:
    from evkit.reports.pdf import pdf_available

    if pdf_available() is not None:
        pytest.skip(f"WeasyPrint unavailable: {pdf_available()}")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF")
    evkit("report", str(mapped), "--format", "pdf", check=True, timeout=300)
    text = subprocess.run(["pdftotext", "-layout", str(mapped / "data" / "reports" / "report.pdf"), "-"],
                          capture_output=True, check=True).stdout.decode("utf-8", "replace")
    section = text[text.index("Map of located records"):]
    ticks = re.findall(r"(?<![\d.])(\d+\.\d+)°N", section)
    assert ticks and all(t.startswith("43.4") for t in ticks), ticks  # never "3.470°N"
    for lat, lon in PLACES:
        assert f"{lat:.6f}" in section and f"{lon:.6f}" in section
    for rid in _located_ids(mapped):
        assert re.search(rf"(?m)^\s*{rid}\s+43\.4", section), rid  # the list row of each dot
