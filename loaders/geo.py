"""Which district a point lies in: inside the published district boundaries when there are some,
else the nearest district centre from data/districts.csv.

The boundaries are simplified polygons, so a point a few metres outside every polygon (a station
on the Han river bank, a border street) goes to the nearest polygon within EDGE_TOLERANCE_M; past
that it is outside Seoul.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd

import datadir
from loaders import reference

# Seoul's extent with a small margin (its westmost and eastmost points are near 126.76 and 127.18).
SEOUL_LAT = (37.41, 37.72)
SEOUL_LON = (126.76, 127.19)
EDGE_TOLERANCE_M = 300
M_PER_DEG_LAT = 111_000
M_PER_DEG_LON = 88_200  # at 37.55° N


def inside_seoul_box(lat: pd.Series, lon: pd.Series) -> pd.Series:
    return lat.between(*SEOUL_LAT) & lon.between(*SEOUL_LON)


def serving_boundaries(data_dir) -> pd.DataFrame | None:
    """The district polygons of the serving boundaries version (None when none is published)."""
    pointer = datadir.read_pointer(data_dir, "boundaries")
    if not pointer:
        return None
    path = datadir.feed_dir(data_dir, "boundaries") / pointer["file"]
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        frame = con.execute("SELECT sig_cd, geometry_json FROM district_boundaries ORDER BY sig_cd").df()
    finally:
        con.close()
    return frame if len(frame) else None


def _rings(geometry: dict) -> list[np.ndarray]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [np.asarray(ring, dtype=float)[:, :2] for polygon in polygons for ring in polygon]


def _contains(rings: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd rule over every ring (holes included), vectorised over the points."""
    inside = np.zeros(len(x), dtype=bool)
    for ring in rings:
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        straddles = (y1[None, :] > y[:, None]) != (y2[None, :] > y[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = x1[None, :] + (y[:, None] - y1[None, :]) * (x2 - x1)[None, :] / (y2 - y1)[None, :]
        hits = straddles & (x[:, None] < cross_x)
        inside ^= (hits.sum(axis=1) % 2).astype(bool)
    return inside


def _edge_distance_m(rings: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    best = np.full(len(x), np.inf)
    px, py = x[:, None] * M_PER_DEG_LON, y[:, None] * M_PER_DEG_LAT
    for ring in rings:
        ax, ay = ring[:, 0] * M_PER_DEG_LON, ring[:, 1] * M_PER_DEG_LAT
        bx, by = np.roll(ax, -1), np.roll(ay, -1)
        dx, dy = bx - ax, by - ay
        length2 = np.where(dx * dx + dy * dy == 0, 1, dx * dx + dy * dy)
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0, 1)
        dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        best = np.minimum(best, dist.min(axis=1))
    return best


def district_by_boundary(lat: pd.Series, lon: pd.Series, boundaries: pd.DataFrame) -> pd.Series:
    """SIG_CD of the polygon holding each point; NA when none holds it or lies within the tolerance."""
    x, y = lon.to_numpy(dtype=float), lat.to_numpy(dtype=float)
    codes = np.full(len(x), None, dtype=object)
    shapes = [
        (code, _rings(json.loads(g))) for code, g in zip(boundaries["sig_cd"], boundaries["geometry_json"], strict=True)
    ]
    for code, rings in shapes:
        allx = np.concatenate([r[:, 0] for r in rings])
        ally = np.concatenate([r[:, 1] for r in rings])
        todo = np.flatnonzero(
            (codes == None)  # noqa: E711 (elementwise on an object array)
            & (x >= allx.min())
            & (x <= allx.max())
            & (y >= ally.min())
            & (y <= ally.max())
        )
        if len(todo):
            codes[todo[_contains(rings, x[todo], y[todo])]] = code
    left = np.flatnonzero(codes == None)  # noqa: E711
    if len(left):
        distances = np.stack([_edge_distance_m(rings, x[left], y[left]) for _code, rings in shapes], axis=1)
        nearest = distances.argmin(axis=1)
        close = distances[np.arange(len(left)), nearest] <= EDGE_TOLERANCE_M
        codes[left[close]] = [shapes[i][0] for i in nearest[close]]
    return pd.Series(codes, index=lat.index, dtype="string")


def district_by_centroid(lat: pd.Series, lon: pd.Series) -> pd.Series:
    ref = reference.districts()
    cy = ref["lat"].to_numpy() * M_PER_DEG_LAT
    cx = ref["lon"].to_numpy() * M_PER_DEG_LON
    py = lat.to_numpy(dtype=float)[:, None] * M_PER_DEG_LAT
    px = lon.to_numpy(dtype=float)[:, None] * M_PER_DEG_LON
    nearest = np.hypot(px - cx[None, :], py - cy[None, :]).argmin(axis=1)
    return pd.Series(ref["sig_cd"].to_numpy()[nearest], index=lat.index, dtype="string")


def assign_districts(lat: pd.Series, lon: pd.Series, data_dir) -> tuple[pd.Series, str]:
    """(SIG_CD per point, method): `boundary` when boundaries are published, else `centroid`."""
    boundaries = serving_boundaries(data_dir)
    if boundaries is not None:
        return district_by_boundary(lat, lon, boundaries), "boundary"
    return district_by_centroid(lat, lon), "centroid"
