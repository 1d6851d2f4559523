"""Public bikes (따릉이): `bikeList`, every station's racks and bikes available now.

Quirks handled (../shared/seoul-open-api.md): the answer sits under `rentBikeStatus`, every value
is a string, and `list_total_count` counts only the page it comes in, so the feed is paged in
windows of 1,000 until a page comes back short. The feed has no time field: `measured_at` is the
five-minute cycle of the fetch (for the sample, the replayed moment of its recorded day).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

import datadir
from loaders import geo, replay, store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchResult, SeoulApi

FEED = "bikes"
SERVICE = "bikeList"
SEOUL = ZoneInfo("Asia/Seoul")
MAX_BIKES = 500  # the largest stations hold a few dozen racks; more is a bad count, not a crowd


def _non_negative(s: pd.Series) -> pd.Series:
    return s >= 0


CONTRACT = Contract(
    [
        Column("station_id", ("stationId",), "text", "VARCHAR"),
        Column("station_name", ("stationName",), "text", "VARCHAR"),
        Column("lat", ("stationLatitude",), "number", "DOUBLE"),
        Column("lon", ("stationLongitude",), "number", "DOUBLE"),
        Column("racks", ("rackTotCnt",), "int", "INTEGER", check=_non_negative, check_reason="rackTotCnt is negative"),
        Column(
            "bikes_parked",
            ("parkingBikeTotCnt",),
            "int",
            "INTEGER",
            check=lambda s: (s >= 0) & (s <= MAX_BIKES),
            check_reason=f"parkingBikeTotCnt outside 0-{MAX_BIKES}",
        ),
        Column(
            "shared_pct",
            ("shared",),
            "number",
            "DOUBLE",
            required=False,
            check=_non_negative,
            check_reason="shared is negative",
        ),
    ],
    key=("station_id",),
)

PUBLISHED = {
    "station_id": "VARCHAR",
    "station_name": "VARCHAR",
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "racks": "INTEGER",
    "bikes_parked": "INTEGER",
    "shared_pct": "DOUBLE",
    "district_code": "VARCHAR",
    "measured_at": "TIMESTAMP",
}


def fetch(api: SeoulApi) -> FetchResult:
    return api.fetch_until_short_page(SERVICE)


def measured_at(ctx: RunContext) -> pd.Timestamp:
    """The five-minute cycle this snapshot belongs to, in Seoul time without a zone."""
    if ctx.is_sample:
        day = date.fromisoformat(ctx.cfg.sample_end_date)
        return pd.Timestamp(replay.step_time(day, replay.current_step(datadir.sample_dir(ctx.data_dir))))
    now = datetime.now(SEOUL).replace(tzinfo=None)
    return pd.Timestamp(now).floor("5min")


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    result = CONTRACT.apply(records)
    clean = result.clean
    outside = ~geo.inside_seoul_box(clean["lat"], clean["lon"])
    result.reject(
        outside,
        "coordinates outside Seoul: " + clean["lat"].astype("string") + ", " + clean["lon"].astype("string"),
    )
    clean = result.clean
    codes, method = geo.assign_districts(clean["lat"], clean["lon"], ctx.data_dir)
    clean["district_code"] = codes
    result.reject(codes.isna(), "outside every district boundary of Seoul")
    clean, rejected = result.clean, result.rejected
    clean["measured_at"] = measured_at(ctx)
    clean = clean.sort_values("station_id", ignore_index=True)
    return Transformed(
        tables=[store.Table("bike_stations", PUBLISHED, clean)],
        rejected=rejected,
        received=result.received,
        as_of=clean["measured_at"].max().isoformat() if len(clean) else None,
        extra={"district_method": method},
    )
