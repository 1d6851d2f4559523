"""District boundaries: a GeoJSON of the 25 districts fetched from MAYOR_BOUNDARIES_URL.

Accepts the properties of the common Seoul files (SIG_CD / SIG_KOR_NM, or code / name with KOSTAT
codes): every feature is matched to a district by its Korean name first, because KOSTAT codes
collide with SIG_CD values.
"""

from __future__ import annotations

import json
import time
import unicodedata

import pandas as pd

from loaders import reference, store
from loaders.envelope import Outcome
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchError, FetchResult, get_bytes, new_session, retrying_until

FEED = "boundaries"
COLUMNS = {"sig_cd": "VARCHAR", "name_ko": "VARCHAR", "geometry_json": "VARCHAR"}
SEOUL_BBOX = (126.70, 37.40, 127.25, 37.75)  # lon/lat bounds with a margin


def fetch(cfg) -> FetchResult:
    deadline = time.monotonic() + cfg.fetch_deadline_s
    session = new_session()
    for attempt in retrying_until(deadline, cfg):
        with attempt:
            body = get_bytes(session, cfg.boundaries_url, "district boundaries", cfg, deadline)
    try:
        doc = json.loads(body.decode("utf-8-sig"))
        features = doc["features"]
    except (ValueError, KeyError, TypeError):
        raise FetchError(Outcome.UNKNOWN, "district boundaries: not a GeoJSON FeatureCollection") from None
    rows = [{"properties": f.get("properties") or {}, "geometry": f.get("geometry")} for f in features]
    return FetchResult(FEED, "INFO-000", "", len(rows), rows)


def _inside_seoul(geometry: dict) -> bool:
    def points(coords):
        if coords and isinstance(coords[0], (int, float)):
            yield coords
        else:
            for c in coords:
                yield from points(c)

    x0, y0, x1, y1 = SEOUL_BBOX
    pts = list(points(geometry.get("coordinates") or []))
    return bool(pts) and all(x0 <= p[0] <= x1 and y0 <= p[1] <= y1 for p in pts)


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    ref = reference.districts()
    by_name = dict(zip(ref["name_ko"], ref["sig_cd"], strict=True))
    sig_codes = set(ref["sig_cd"])
    good, bad = [], []
    for n, rec in enumerate(records, start=1):
        props, geom = rec["properties"], rec["geometry"] or {}
        name = props.get("SIG_KOR_NM") or props.get("name") or props.get("NAME")
        name = unicodedata.normalize("NFC", name) if isinstance(name, str) else name  # NFD names match too
        code = by_name.get(name) or (props.get("SIG_CD") if props.get("SIG_CD") in sig_codes else None)
        if code is None:
            bad.append((n, f"no district matches {name!r}"))
        elif geom.get("type") not in ("Polygon", "MultiPolygon"):
            bad.append((n, f"geometry type {geom.get('type')!r} is not a polygon"))
        elif not _inside_seoul(geom):
            bad.append((n, "coordinates outside Seoul"))
        else:
            good.append(
                {
                    "sig_cd": code,
                    "name_ko": ref.set_index("sig_cd").loc[code, "name_ko"],
                    "geometry_json": json.dumps(geom),
                }
            )
    frame = pd.DataFrame(good, columns=list(COLUMNS))
    missing = sig_codes - set(frame["sig_cd"])
    reject_reason = None
    if missing or frame["sig_cd"].duplicated().any():
        reject_reason = f"boundaries must cover the 25 districts once each; missing {len(missing)}"
    rejected = pd.DataFrame(
        {
            "row_number": [n for n, _ in bad],
            "reason": [r for _, r in bad],
            "record": [json.dumps(records[n - 1]["properties"], ensure_ascii=False) for n, _ in bad],
        }
    )
    return Transformed(
        [store.Table("district_boundaries", COLUMNS, frame)], rejected, len(records), reject_reason=reject_reason
    )
