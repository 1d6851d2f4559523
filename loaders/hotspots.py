"""The hotspots of Seoul's real-time city data (data/hotspots.csv), published as `hotspots`.

The list follows Seoul's published list of 121 places (codes POI001..POI131, with gaps where
places were retired); names are spelled exactly as the API expects them. Listed coordinates are
approximate landmark positions (`coord_source = approximate`). A hotspot listed without
coordinates takes the mean of its own road-link points from the serving citydata version
(`links`), else its district's centre (`district_centroid`). See README, "Real-time city".
"""

from __future__ import annotations

import json
from functools import cache

import duckdb
import pandas as pd

import datadir
from loaders import reference, store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchResult

FEED = "hotspots"
PATH = reference.DATA / "hotspots.csv"
CATEGORIES = ("관광특구", "고궁·문화유산", "인구밀집지역", "발달상권", "공원")
# Seoul's extent, a little padded: the same box the market reference checks against.
LAT_RANGE = (37.41, 37.72)
LON_RANGE = (126.76, 127.19)


def in_seoul(lat: pd.Series, lon: pd.Series) -> pd.Series:
    return lat.between(*LAT_RANGE) & lon.between(*LON_RANGE)


CONTRACT = Contract(
    [
        Column(
            "area_code",
            ("area_code",),
            "text",
            "VARCHAR",
            check=lambda s: s.str.fullmatch(r"POI\d{3}").fillna(False),
            check_reason="area_code is not POI followed by three digits",
        ),
        Column("area_name", ("area_name",), "text", "VARCHAR"),
        Column("area_name_en", ("area_name_en",), "text", "VARCHAR"),
        Column(
            "category",
            ("category",),
            "text",
            "VARCHAR",
            check=lambda s: s.isin(CATEGORIES),
            check_reason=f"category is not one of {', '.join(CATEGORIES)}",
        ),
        Column(
            "district_code",
            ("district_code",),
            "text",
            "VARCHAR",
            check=lambda s: s.str.fullmatch(r"\d{5}").fillna(False),
            check_reason="district_code is not a five-digit SIG_CD",
        ),
        Column(
            "lat",
            ("lat",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s.between(*LAT_RANGE),
            check_reason="latitude outside Seoul",
        ),
        Column(
            "lon",
            ("lon",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s.between(*LON_RANGE),
            check_reason="longitude outside Seoul",
        ),
        Column("coord_source", ("coord_source",), "text", "VARCHAR", required=False),
    ],
    key=("area_code",),
)
PUBLISHED = {c.name: c.sql_type for c in CONTRACT.columns}


def _read() -> list[dict]:
    return reference._read_csv(PATH.name)


@cache
def listed() -> pd.DataFrame:
    """The valid hotspots of data/hotspots.csv, in code order (what citydata asks for)."""
    result = CONTRACT.apply(_read())
    return result.clean.drop(columns="_row").sort_values("area_code", ignore_index=True)


def fetch() -> FetchResult:
    rows = _read()
    return FetchResult(FEED, "INFO-000", "bundled reference file", len(rows), rows)


def link_centres(data_dir) -> pd.DataFrame:
    """area_code, lat, lon: the mean of each hotspot's road-link points in the serving citydata
    version (empty when citydata has not loaded)."""
    pointer = datadir.read_pointer(data_dir, "citydata")
    empty = pd.DataFrame({"area_code": pd.Series(dtype="string"), "lat": [], "lon": []})
    if not pointer or "road_links" not in pointer["rows"]:
        return empty
    con = duckdb.connect(str(datadir.feed_dir(data_dir, "citydata") / pointer["file"]), read_only=True)
    try:
        links = con.execute("SELECT area_code, path FROM road_links WHERE path IS NOT NULL").df()
    finally:
        con.close()
    points = [(area, lon, lat) for area, path in links.itertuples(index=False) for lon, lat in json.loads(path)]
    if not points:
        return empty
    frame = pd.DataFrame(points, columns=["area_code", "lon", "lat"])
    return frame.groupby("area_code", as_index=False)[["lat", "lon"]].mean()


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    result = CONTRACT.apply(records)
    result.reject(result.clean["area_name"].duplicated(keep="first"), "duplicate area_name (the API is asked by name)")
    clean = result.clean.drop(columns="_row")
    listed_here = clean["lat"].notna() & clean["lon"].notna()
    clean["coord_source"] = clean["coord_source"].fillna("approximate").where(listed_here, pd.NA)
    centres = link_centres(ctx.data_dir).set_index("area_code")
    missing = ~listed_here & clean["area_code"].isin(centres.index)
    clean.loc[missing, "lat"] = clean.loc[missing, "area_code"].map(centres["lat"])
    clean.loc[missing, "lon"] = clean.loc[missing, "area_code"].map(centres["lon"])
    clean.loc[missing, "coord_source"] = "links"
    districts = reference.districts().set_index("sig_cd")
    still = clean["lat"].isna() & clean["district_code"].isin(districts.index)
    clean.loc[still, "lat"] = clean.loc[still, "district_code"].map(districts["lat"])
    clean.loc[still, "lon"] = clean.loc[still, "district_code"].map(districts["lon"])
    clean.loc[still, "coord_source"] = "district_centroid"
    return Transformed(
        tables=[store.Table("hotspots", PUBLISHED, clean.sort_values("area_code", ignore_index=True))],
        rejected=result.rejected,
        received=result.received,
        extra={"coordinates": clean["coord_source"].fillna("none").value_counts().to_dict()},
    )
