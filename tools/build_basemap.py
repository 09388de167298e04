"""Build evkit's offline base map (src/evkit/reports/basemap.json.gz) from Natural Earth data.

Natural Earth (naturalearthdata.com) is in the public domain. The 1:50m land and country outlines
are read from the npm package ``world-atlas`` 2.0.2 (Natural Earth as TopoJSON; `npm pack
world-atlas@2.0.2`), the populated places (capitals) from the ``naturalearth_cities`` shapefile in
the PyPI wheel ``geopandas==0.14.4`` (`pip download --no-deps geopandas==0.14.4`):

    python tools/build_basemap.py WORLD_ATLAS_DIR/countries-50m.json GEOPANDAS_DIR/naturalearth_cities

The output keeps coordinates to 0.01 degree (about 1 km, finer than 1:50m data carries), each line
delta-encoded, so the package carries it in about 300 KB. Run once; the result is committed.
"""

from __future__ import annotations

import gzip
import json
import struct
import sys
from pathlib import Path
from typing import Any

Q = 100  # 0.01 degree


def arcs_in_degrees(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for i in indexes:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a if not pts else a[1:])
    return pts


def encode(pts: list[tuple[float, float]]) -> list[int]:
    """Quantised and delta-encoded [x0, y0, dx1, dy1, ...], consecutive duplicates dropped."""
    out: list[int] = []
    px = py = 0
    last = None
    for lon, lat in pts:
        q = (round(lon * Q), round(lat * Q))
        if q == last:
            continue
        out += [q[0] - px, q[1] - py]
        px, py = q
        last = q
    return out


def polygons(geom: dict[str, Any]) -> list[list[list[int]]]:
    if geom["type"] == "Polygon":
        return [geom["arcs"]]
    if geom["type"] == "MultiPolygon":
        return list(geom["arcs"])
    return []


def read_places(folder: Path) -> list[list[Any]]:
    shp = (folder / "naturalearth_cities.shp").read_bytes()
    points = []
    pos = 100
    while pos < len(shp):
        _, length = struct.unpack(">ii", shp[pos:pos + 8])
        shape, x, y = struct.unpack("<idd", shp[pos + 8:pos + 28])
        if shape == 1:
            points.append((x, y))
        pos += 8 + length * 2
    dbf = (folder / "naturalearth_cities.dbf").read_bytes()
    count, header, rec = struct.unpack("<IHH", dbf[4:12])
    fields = []
    off = 32
    while dbf[off] != 0x0D:
        name = dbf[off:off + 11].split(b"\0")[0].decode()
        fields.append((name, dbf[off + 16]))
        off += 32
    cpg = folder / "naturalearth_cities.cpg"
    encoding = cpg.read_text().strip() if cpg.exists() else "utf-8"
    names = []
    for n in range(count):
        r = dbf[header + n * rec: header + (n + 1) * rec]
        at = 1
        values = {}
        for name, size in fields:
            values[name] = r[at:at + size].decode(encoding, "replace").strip()
            at += size
        names.append(values.get("name", ""))
    return [[name, round(x, 3), round(y, 3)] for name, (x, y) in zip(names, points)]


def main(countries: Path, cities: Path, out: Path) -> None:
    topo = json.loads(countries.read_text())
    arcs = arcs_in_degrees(topo)
    land = [encode(ring(arcs, r)) for g in topo["objects"]["land"]["geometries"] for poly in polygons(g) for r in poly]
    users: dict[int, set[int]] = {}
    for gi, g in enumerate(topo["objects"]["countries"]["geometries"]):
        for poly in polygons(g):
            for r in poly:
                for i in r:
                    users.setdefault(i if i >= 0 else ~i, set()).add(gi)
    borders = [encode(arcs[i]) for i, who in sorted(users.items()) if len(who) > 1]
    data = {"source": "Natural Earth 1:50m land and boundaries (world-atlas 2.0.2), populated places "
                      "(naturalearth_cities, geopandas 0.14.4); public domain",
            "quantum": 1 / Q, "land": [r for r in land if len(r) >= 6], "borders": borders, "places": read_places(cities)}
    out.write_bytes(gzip.compress(json.dumps(data, separators=(",", ":")).encode(), 9, mtime=0))
    print(f"{out}: {out.stat().st_size:,} bytes; {len(data['land'])} land rings, {len(borders)} borders, "
          f"{len(data['places'])} places")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]),
         Path(sys.argv[3]) if len(sys.argv) > 3 else Path(__file__).parent.parent / "src/evkit/reports/basemap.json.gz")
