"""Located records: an offline SVG map for the HTML and PDF reports, and KML and GeoJSON files.

The map is equirectangular (x scaled by the cosine of the middle latitude so shapes keep their
proportions) over a base layer that ships with evkit: Natural Earth's 1:50m land, country
boundaries and capitals (public domain; ``basemap.json.gz``, built by ``tools/build_basemap.py``).
Nothing is fetched. Each dot is labelled with its record id (up to ``LABELLED`` dots) so a printed
map can be read against the list of located records beside it; tick labels get the room they need
(a clipped "43.470°N" once printed as "3.470°N").
"""

from __future__ import annotations

import gzip
import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any, BinaryIO
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from evkit.reports.collect import R_EV, R_ID, R_PV, R_REF, R_SRC, R_TS, ReportData, fallback_description, render_template, value
from evkit.reports.safe import cell_text, h, xml_safe


def _step(span: float) -> float:
    raw = span / 6 if span > 0 else 1
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _deg(v: float, pos: str, neg: str, step: float) -> str:
    decimals = f"{step:.10f}".rstrip("0").split(".")[1]
    return f"{abs(v):.{len(decimals)}f}°{pos if v >= 0 else neg}"


LABELLED = 300       # more dots than this are not labelled (the list beside the map still names them)
NAMED_PLACES = 25    # more capitals than this in view are drawn without their names
CHAR_PX = 7.2        # width of one character of the axis font, for the room tick labels need


@lru_cache(maxsize=1)
def basemap() -> dict[str, Any]:
    """Natural Earth land rings, boundaries and capitals (see tools/build_basemap.py)."""
    raw = resources.files("evkit.reports").joinpath("basemap.json.gz").read_bytes()
    data: dict[str, Any] = json.loads(gzip.decompress(raw))
    return data


def _decode(line: list[int], q: float) -> list[tuple[float, float]]:
    pts = []
    x = y = 0
    for i in range(0, len(line) - 1, 2):
        x += line[i]
        y += line[i + 1]
        pts.append((x * q, y * q))
    return pts


def _base_layer(lon0: float, lon1: float, lat0: float, lat1: float, x: Any, y: Any) -> list[str]:
    """SVG paths of the land, boundaries and capitals inside the view, thinned to whole pixels."""
    data = basemap()
    q = data["quantum"]

    def path(pts: list[tuple[float, float]], close: bool) -> str | None:
        if not pts:
            return None
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        if max(xs) < lon0 or min(xs) > lon1 or max(ys) < lat0 or min(ys) > lat1:
            return None
        out: list[str] = []
        last, prev_lon, shift = None, None, 0.0
        for lon, lat in pts:
            # A line that crosses the antimeridian jumps from +180 to -180. A land ring goes on past
            # the edge (unwrapped, the clip hides the rest) so its fill stays closed; a boundary
            # line lifts the pen.
            jump = prev_lon is not None and abs(lon - prev_lon) > 180
            if jump and close:
                shift += 360.0 if lon < (prev_lon or 0.0) else -360.0
                jump = False
            prev_lon = lon
            px, py = round(x(lon + shift), 1), round(y(lat), 1)
            if not jump and last is not None and abs(px - last[0]) < 0.7 and abs(py - last[1]) < 0.7:
                continue
            out.append(("M" if jump or last is None else "L") + f"{px} {py}")
            last = (px, py)
        if len(out) < 2:
            return None
        return " ".join(out) + (" Z" if close else "")

    land = [d for d in (path(_decode(r, q), True) for r in data["land"]) if d]
    borders = [d for d in (path(_decode(b, q), False) for b in data["borders"]) if d]
    out = []
    if land:
        out.append(f'<path class="land" fill="#eceee4" stroke="#8a9a8a" stroke-width="0.8" fill-rule="evenodd" d="{" ".join(land)}"/>')
    if borders:
        out.append(f'<path class="border" fill="none" stroke="#a89a9a" stroke-width="0.7" stroke-dasharray="3 2" d="{" ".join(borders)}"/>')
    places = [(n, lon, lat) for n, lon, lat in data["places"] if lon0 <= lon <= lon1 and lat0 <= lat <= lat1]
    named = len(places) <= NAMED_PLACES  # a world view would be a blur of names over the records' ids
    for name, lon, lat in places:
        out.append(f'<rect class="place" x="{x(lon) - 2:.1f}" y="{y(lat) - 2:.1f}" width="4" height="4" fill="#7d7d7d"/>'
                   + (f'<text class="place" x="{x(lon) + 5:.1f}" y="{y(lat) + 12:.1f}" fill="#7d7d7d" font-size="10">{h(name)}</text>'
                      if named else ""))
    return out


def svg_map(points: list[tuple[float, float, str, str, str]], width: int = 960, height: int = 560) -> str:
    """``points``: (latitude, longitude, href made by evkit, title text, label: the record id);
    returns inline SVG markup."""
    if not points:
        return "<p>No located records.</p>"
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    min_span = 0.01
    if lat1 - lat0 < min_span:
        c = (lat0 + lat1) / 2
        lat0, lat1 = max(-90.0, c - min_span / 2), min(90.0, c + min_span / 2)
    if lon1 - lon0 < min_span:
        c = (lon0 + lon1) / 2
        lon0, lon1 = max(-180.0, c - min_span / 2), min(180.0, c + min_span / 2)
    pad_lat, pad_lon = (lat1 - lat0) * 0.06, (lon1 - lon0) * 0.06
    lat0, lat1 = max(-90.0, lat0 - pad_lat), min(90.0, lat1 + pad_lat)
    lon0, lon1 = max(-180.0, lon0 - pad_lon), min(180.0, lon1 + pad_lon)
    kx = max(0.05, math.cos(math.radians((lat0 + lat1) / 2)))
    step0 = _step((lat1 - lat0) / 4)  # finest latitude step the widened view can have: the longest tick label
    widest = max(len(_deg(v, "N", "S", step0)) for v in (lat0, lat1))
    left, right, top, bottom = int(widest * CHAR_PX) + 34, 24, 20, 50
    pw, ph = width - left - right, height - top - bottom
    # Widen the narrower range so the plot fills its area (same scale on both axes).
    want = pw / ph
    have = (lon1 - lon0) * kx / (lat1 - lat0)
    if have < want:
        extra = ((lat1 - lat0) * want / kx - (lon1 - lon0)) / 2
        lon0, lon1 = max(-180.0, lon0 - extra), min(180.0, lon1 + extra)
    else:
        extra = ((lon1 - lon0) * kx / want - (lat1 - lat0)) / 2
        lat0, lat1 = max(-90.0, lat0 - extra), min(90.0, lat1 + extra)
    scale = min(pw / ((lon1 - lon0) * kx), ph / (lat1 - lat0))
    ox = left + (pw - (lon1 - lon0) * kx * scale) / 2
    oy = top + (ph - (lat1 - lat0) * scale) / 2

    def x(lon: float) -> float:
        return ox + (lon - lon0) * kx * scale

    def y(lat: float) -> float:
        return oy + (lat1 - lat) * scale

    pw_, ph_ = (lon1 - lon0) * kx * scale, (lat1 - lat0) * scale
    out = [f'<svg class="map" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'role="img" aria-label="Map of located records" font-family="sans-serif" font-size="12">']
    out.append(f'<defs><clipPath id="mapclip"><rect x="{ox:.1f}" y="{oy:.1f}" width="{pw_:.1f}" height="{ph_:.1f}"/></clipPath></defs>')
    out.append(f'<rect x="{ox:.1f}" y="{oy:.1f}" width="{pw_:.1f}" height="{ph_:.1f}" fill="#f4f8fb" class="sea"/>')
    out.append('<g clip-path="url(#mapclip)">')
    out += _base_layer(lon0, lon1, lat0, lat1, x, y)
    out.append("</g>")
    out.append(f'<rect x="{ox:.1f}" y="{oy:.1f}" width="{pw_:.1f}" height="{ph_:.1f}" fill="none" stroke="#8896a6" class="axis"/>')
    step = _step(lon1 - lon0)
    v = math.ceil(lon0 / step) * step
    while v <= lon1 + 1e-12:
        out.append(f'<line class="grid" stroke="#dfe6ee" x1="{x(v):.1f}" y1="{oy:.1f}" x2="{x(v):.1f}" y2="{y(lat0):.1f}"/>')
        out.append(f'<text x="{x(v):.1f}" y="{y(lat0) + 16:.1f}" text-anchor="middle">{h(_deg(v, "E", "W", step))}</text>')
        v += step
    step = _step(lat1 - lat0)
    v = math.ceil(lat0 / step) * step
    while v <= lat1 + 1e-12:
        out.append(f'<line class="grid" stroke="#dfe6ee" x1="{ox:.1f}" y1="{y(v):.1f}" x2="{x(lon1):.1f}" y2="{y(v):.1f}"/>')
        out.append(f'<text x="{ox - 6:.1f}" y="{y(v) + 4:.1f}" text-anchor="end">{h(_deg(v, "N", "S", step))}</text>')
        v += step
    out.append(f'<text x="{ox + (lon1 - lon0) * kx * scale / 2:.1f}" y="{height - 8}" text-anchor="middle">Longitude</text>')
    out.append(f'<text x="14" y="{oy + (lat1 - lat0) * scale / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 {oy + (lat1 - lat0) * scale / 2:.1f})">Latitude</text>')
    labelled = len(points) <= LABELLED
    for lat, lon, href, title, label in points:
        out.append(f'<a href="{h(href)}"><circle class="pt" fill="#c0392b" fill-opacity="0.75" stroke="#fff" cx="{x(lon):.1f}" cy="{y(lat):.1f}" r="5"><title>{h(title)}</title></circle>'
                   + (f'<text class="pt-label" x="{x(lon) + 7:.1f}" y="{y(lat) + 4:.1f}" fill="#7b1d12" font-size="12" font-weight="bold" '
                      f'stroke="#fff" stroke-width="3" paint-order="stroke">{h(label)}</text>' if labelled else "")
                   + "</a>")
    out.append(f'<text x="{width - right}" y="{height - 8}" text-anchor="end" fill="#6b6b6b" font-size="10">'
               "Base map: Natural Earth 1:50m (public domain), coarse at street scale</text>")
    out.append("</svg>")
    return "\n".join(out)


def _properties(data: ReportData, gi: int, ri: int) -> dict[str, Any]:
    g = data.groups[gi]
    r = g.rows[ri]
    s = data.sources[r[R_SRC]]
    d = {c.key: value(r, c) for c in g.columns if c.kind != "zoned"}
    if g.artifact_def is not None and g.artifact_def.timeline_description:
        desc = render_template(g.artifact_def.timeline_description, d)
    else:
        desc = fallback_description(d)
    props: dict[str, Any] = {"record_id": r[R_ID], "evidence": r[R_EV], "profile": g.profile, "profile_version": r[R_PV],
                             "artifact": g.artifact, "time_utc": r[R_TS]}
    if data.zone_name:
        props[f"time_{data.zone_name}"] = data.zoned(r[R_TS])
    props.update({"description": desc, "locator": s.locator, "row": r[R_REF], "source_sha256": s.sha256,
                  "source_stored_path": s.stored_path, "tags": data.tag_text(r[R_ID])})
    return props


def write_geojson(data: ReportData, fh: BinaryIO) -> int:
    """A GeoJSON FeatureCollection (RFC 7946): one Point per located record, [longitude, latitude]."""
    fh.write(b'{"type":"FeatureCollection","features":[\n')
    for n, p in enumerate(data.located):
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.longitude, p.latitude]},
                   "properties": _properties(data, p.group, p.row)}
        fh.write((("," if n else "") + json.dumps(feature, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8", "backslashreplace"))
    fh.write(b"]}\n")
    return len(data.located)


def _x(text: Any) -> str:
    return xml_escape(xml_safe(cell_text(text)))


def write_kml(data: ReportData, fh: BinaryIO) -> int:
    """KML 2.2: a Placemark per located record; values as ExtendedData text.

    KML viewers render ``description`` and data values as HTML, so values are HTML-escaped before
    being XML-escaped: a viewer shows them as text and never runs or loads anything from them.
    """
    def hx(v: Any) -> str:
        return _x(h(cell_text(v)))

    number = str(data.meta.get("case_number") or "")
    fh.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>\n')
    fh.write(f"<name>{_x('Case ' + number + ': located records')}</name>\n".encode("utf-8"))
    fh.write(f"<description>{hx('Generated by evkit ' + data.generated + '. Times are UTC unless marked.')}</description>\n".encode("utf-8"))
    for p in data.located:
        props = _properties(data, p.group, p.row)
        name = "#{} {}/{}".format(props["record_id"], props["profile"], props["artifact"])
        lines = [f"<Placemark><name>{_x(name)}</name>"]
        if props["time_utc"]:
            lines.append(f"<TimeStamp><when>{_x(props['time_utc'])}</when></TimeStamp>")
        lines.append(f"<description>{hx(props['description'])}</description><ExtendedData>")
        for k, v in props.items():
            lines.append(f"<Data name={quoteattr(xml_safe(k))}><value>{hx(v)}</value></Data>")
        lines.append(f"</ExtendedData><Point><coordinates>{p.longitude!r},{p.latitude!r}</coordinates></Point></Placemark>\n")
        fh.write("".join(lines).encode("utf-8"))
    fh.write(b"</Document>\n</kml>\n")
    return len(data.located)
