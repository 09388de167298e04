"""How values and headings read in reports: no JSON brackets for plain lists, no doubled units."""

from __future__ import annotations

from evkit.profiles.model import Artifact, Column
from evkit.reports.collect import Group, _columns
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
