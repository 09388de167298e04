"""How values and headings read in reports: no JSON brackets for plain lists, no doubled units."""

from __future__ import annotations

from evkit.profiles.model import Artifact, Column
from evkit.reports.collect import Group, _columns, heading
from evkit.reports.safe import cell_text


def test_plain_lists_read_as_text_and_nested_values_stay_json() -> None:
    assert cell_text(["GPS time missing", "no offset"]) == "GPS time missing; no offset"
    assert cell_text([1, 2.5, None]) == "1; 2.5; "
    assert cell_text([{"a": 1}]) == '[{"a": 1}]'
    assert cell_text({"b": [1]}) == '{"b": [1]}'


def test_a_utc_column_already_labelled_utc_is_not_labelled_twice() -> None:
    art = Artifact(name="photos", columns={"taken": Column(name="taken", type="text", label="Taken (UTC)"),
                                           "seen": Column(name="seen", type="text", label="Seen")})
    g = Group(1, "exif", "photos", None, art)
    g.rows = [(1, "E1", None, 0, "", "1", ["2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"])]
    labels = {c.key: c.label for c in _columns(g, ["taken", "seen"], False)}
    assert labels == {"taken": "Taken (UTC)", "seen": "Seen (UTC)"}


def test_a_photo_with_only_its_camera_clock_is_in_the_timeline_marked_local(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """EXIF DateTimeOriginal without OffsetTimeOriginal or GPS time has no zone (EXIF 2.32, 4.6.5):
    the photo gets no UTC time, and the timeline places it by its clock, marked as such."""
    import csv

    import pytest

    from tests.conftest import evkit

    Image = pytest.importorskip("PIL.Image")
    photo = tmp_path / "card" / "DCIM" / "100CAMERA" / "IMG_0001.JPG"
    photo.parent.mkdir(parents=True)
    exif = Image.Exif()
    exif[0x010F] = "Cam"
    exif.get_ifd(0x8769)[0x9003] = "2019:05:01 10:11:12"  # DateTimeOriginal, camera local time
    Image.new("RGB", (8, 8)).save(photo, exif=exif)
    case = tmp_path / "case"
    evkit("case", "init", str(case), "--case-number", "T-1", "--examiner", "E", check=True)
    evkit("case", "add", str(case), str(tmp_path / "card"), "--evidence-number", "C1", check=True)
    evkit("extract", str(case), check=True)
    evkit("run", str(case), "--profile", "exif", check=True)
    evkit("report", str(case), "--format", "timeline,html", check=True)
    with open(case / "data" / "reports" / "timeline.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["time_utc"] == ""
    assert rows[0]["description"].startswith("[local clock, zone unknown: 2019-05-01T10:11:12]")
    page = (case / "data" / "reports" / "html" / "timeline.html").read_text(encoding="utf-8")
    assert "1 of them have only a camera" in page


def test_unlabelled_values_get_readable_headings() -> None:
    assert heading("from_url") == "From URL"
    assert heading("url_id") == "URL ID"
    assert heading("visit_count") == "Visit count"
    assert heading("chat_jid") == "Chat JID"
    assert heading("_") == "_"
