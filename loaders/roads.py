"""Road facts shared by the city-data and traffic loaders: link geometry (XYLIST) and the speed
levels 원활 / 서행 / 정체.

Levels follow Seoul's traffic-information display standard (TOPIS), raised by 5 km/h in 2014 to
match the Ministry of Land, Infrastructure and Transport's guideline for showing road conditions:
on arterial and other urban roads 정체 (jammed) at 15 km/h or less, 서행 (slow) from 15 to 25 km/h,
원활 (free) at 25 km/h or more; on the urban expressways (도시고속도로) 정체 at 30 km/h or less,
서행 from 30 to 50, 원활 at 50 or more.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from loaders.contract import MISSING_MARKERS
from loaders.hotspots import LAT_RANGE, LON_RANGE

LEVELS = ("원활", "서행", "정체")
ARTERIAL_CUTS_KMH = (15.0, 25.0)  # 정체 at or below the first, 원활 at or above the second
EXPRESSWAY_CUTS_KMH = (30.0, 50.0)
EXPRESSWAYS = (
    "올림픽대로",
    "강변북로",
    "동부간선",
    "서부간선",
    "북부간선",
    "내부순환",
    "강남순환",
    "경부고속",
    "분당수서",
)

_PAIR_SEP = re.compile(r"[|;]")
_NUM_SEP = re.compile(r"[_,\s]+")


def is_expressway(road_name) -> bool:
    if not isinstance(road_name, str):
        return False
    compact = road_name.replace(" ", "")
    return any(name in compact for name in EXPRESSWAYS)


def level_for(speed_kmh: float | None, road_name: str | None = None) -> str | None:
    if speed_kmh is None or not np.isfinite(speed_kmh):
        return None
    jam, free = EXPRESSWAY_CUTS_KMH if is_expressway(road_name) else ARTERIAL_CUTS_KMH
    if speed_kmh <= jam:
        return "정체"
    return "원활" if speed_kmh >= free else "서행"


def levels_for(speed_kmh: pd.Series, road_name: pd.Series) -> pd.Series:
    express = road_name.map(is_expressway).astype(bool)
    jam = np.where(express, EXPRESSWAY_CUTS_KMH[0], ARTERIAL_CUTS_KMH[0])
    free = np.where(express, EXPRESSWAY_CUTS_KMH[1], ARTERIAL_CUTS_KMH[1])
    s = speed_kmh.astype("Float64")
    out = pd.Series(np.where(s <= jam, "정체", np.where(s >= free, "원활", "서행")), index=s.index, dtype="string")
    return out.mask(s.isna())


def _in_seoul(lon: float, lat: float) -> bool:
    return LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]


def parse_xylist(text) -> tuple[list[list[float]] | None, str | None]:
    """`lon_lat|lon_lat|...` as [[lon, lat], ...], or (None, the problem); (None, None) when empty.

    Tolerated: `,` or spaces between the two numbers, `;` between points, a bare list of numbers
    with one separator throughout, and a pair written lat first (Seoul's longitude is above 90 and
    its latitude below, so the order is never ambiguous). Every point must lie in Seoul."""
    if not isinstance(text, str):
        return None, None
    text = text.strip()
    if text in MISSING_MARKERS:
        return None, None
    parts = [p.strip() for p in _PAIR_SEP.split(text) if p.strip()]
    pairs: list[list[str]] = []
    if len(parts) == 1:
        numbers = [n for n in _NUM_SEP.split(parts[0]) if n]
        if len(numbers) % 2:
            return None, f"an odd count of numbers ({len(numbers)})"
        pairs = [numbers[i : i + 2] for i in range(0, len(numbers), 2)]
    else:
        for part in parts:
            numbers = [n for n in _NUM_SEP.split(part) if n]
            if len(numbers) != 2:
                return None, f"point {part[:40]!r} is not x_y"
            pairs.append(numbers)
    points = []
    for a, b in pairs:
        try:
            x, y = float(a), float(b)
        except ValueError:
            return None, f"point {a}_{b} is not numeric"
        if x < 90 < y:
            x, y = y, x
        if not _in_seoul(x, y):
            return None, f"point {x}, {y} lies outside Seoul"
        points.append([round(x, 6), round(y, 6)])
    if len(points) < 2:
        return None, "fewer than two points"
    return points, None


def path_json(points: list[list[float]] | None) -> str | None:
    return None if points is None else json.dumps(points, separators=(",", ":"))
