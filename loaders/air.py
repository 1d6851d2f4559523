"""Air quality at the 25 district stations: `RealtimeCityAir` (hourly).

Quirks handled (../shared/seoul-open-api.md): two wire schemas — the old one (MSRDT as
YYYYMMDDHHmm, MSRSTE_NM, PM10, PM25, ..., IDEX_NM as a Korean grade, numbers as numbers) and the
new one (MSRMT_DT, MSRSTN_NM, PM, FPM, ..., CAI_GRD, values as strings); "점검중" (station under
maintenance), "" and "-" are missing, never zero; grades may arrive as numbers 1-4. A value out of
its physical range sends the row to quarantine with the reason.
"""

from __future__ import annotations

import pandas as pd

from loaders import reference, store
from loaders.contract import Column, Contract
from loaders.envelope import Outcome, describe
from loaders.runner import RunContext, Transformed, in_future
from loaders.seoul_api import FetchError, FetchResult, SeoulApi

FEED = "air"
SERVICE = "RealtimeCityAir"
STATIONS = 25  # one station per district; the documented call is .../RealtimeCityAir/1/25/

GRADES = ("좋음", "보통", "나쁨", "매우나쁨")
_GRADE_CODES = {"1": "좋음", "2": "보통", "3": "나쁨", "4": "매우나쁨"}


def _within(low: float, high: float):
    return lambda s: (s >= low) & (s <= high)


# Bounds well beyond anything Seoul has measured (hourly PM10 peaked near 1,000 µg/m³ in yellow-dust
# storms): a value outside them is a sentinel (-999) or a unit slip, not air.
CONTRACT = Contract(
    [
        Column("station_name", ("MSRSTE_NM", "MSRSTN_NM"), "text", "VARCHAR"),
        Column("region", ("MSRRGN_NM", "SAREA_NM"), "text", "VARCHAR", required=False),
        Column("measured_raw", ("MSRDT", "MSRMT_DT"), "text", "VARCHAR"),
        Column("pm10", ("PM10", "PM"), "number", "DOUBLE", False, _within(0, 2000), "PM10/PM outside 0-2,000 µg/m³"),
        Column("pm25", ("PM25", "FPM"), "number", "DOUBLE", False, _within(0, 1000), "PM25/FPM outside 0-1,000 µg/m³"),
        Column("o3", ("O3", "OZON"), "number", "DOUBLE", False, _within(0, 1), "O3/OZON outside 0-1 ppm"),
        Column("no2", ("NO2", "NTDX"), "number", "DOUBLE", False, _within(0, 1), "NO2/NTDX outside 0-1 ppm"),
        Column("co", ("CO", "CBMX"), "number", "DOUBLE", False, _within(0, 50), "CO/CBMX outside 0-50 ppm"),
        Column("so2", ("SO2", "SPDX"), "number", "DOUBLE", False, _within(0, 1), "SO2/SPDX outside 0-1 ppm"),
        Column("grade_raw", ("IDEX_NM", "CAI_GRD"), "text", "VARCHAR", required=False),
        Column("cai", ("IDEX_MVL", "CAI_IDX"), "number", "DOUBLE", False, _within(0, 500), "CAI outside 0-500"),
        Column("main_pollutant", ("ARPLT_MAIN",), "text", "VARCHAR", required=False),
    ],
    key=("station_name",),
)

PUBLISHED = {
    "district_code": "VARCHAR",
    "district_name": "VARCHAR",
    "region": "VARCHAR",
    "station_name": "VARCHAR",
    "measured_at": "TIMESTAMP",
    "pm10": "DOUBLE",
    "pm25": "DOUBLE",
    "o3": "DOUBLE",
    "no2": "DOUBLE",
    "co": "DOUBLE",
    "so2": "DOUBLE",
    "grade": "VARCHAR",
    "cai": "DOUBLE",
    "main_pollutant": "VARCHAR",
    "schema": "VARCHAR",
}


def fetch(api: SeoulApi) -> FetchResult:
    env = api.get(SERVICE, 1, STATIONS)
    if env.outcome is Outcome.NO_DATA:
        return FetchResult(SERVICE, env.code, env.message, 0, [], api.requests_made)
    if env.outcome is not Outcome.OK:
        raise FetchError(env.outcome, f"{SERVICE}: {env.code} {describe(env.code)}", env.code)
    if env.total is not None and env.total > len(env.rows):
        return api.fetch_all(SERVICE)  # more stations than the documented 25: take them all
    return FetchResult(SERVICE, env.code, env.message, len(env.rows), env.rows, api.requests_made)


def parse_measured(raw: pd.Series) -> pd.Series:
    """MSRDT `202611191800` (sometimes sent as a number), MSRMT_DT `2026-11-19 18:00` or similar."""
    s = raw.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    compact = s.str.fullmatch(r"\d{12}(\d{2})?").fillna(False)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if compact.any():
        out[compact] = pd.to_datetime(s[compact].str.slice(0, 12), format="%Y%m%d%H%M", errors="coerce")
    if (~compact).any():
        rest = s[~compact].str.replace(".", "-", regex=False)
        out[~compact] = pd.to_datetime(rest, format="mixed", errors="coerce")
    return out


def grade_of(raw: pd.Series) -> pd.Series:
    """Korean grade names as they are; numeric grades 1-4 (also "2.0") as their names."""
    s = raw.astype("string").str.replace(" ", "", regex=False)
    numeric = s.str.replace(r"\.0$", "", regex=True).map(_GRADE_CODES)
    return s.where(s.isin(GRADES), numeric).astype("string")


def district_of_station(names: pd.Series) -> pd.Series:
    """SIG_CD for a station named after its district: "종로구", "종로", or a name that contains
    exactly one district name ("도시대기 종로구")."""
    ref = reference.districts()
    by_name = dict(zip(ref["name_ko"], ref["sig_cd"], strict=True))
    by_short = {n.removesuffix("구"): c for n, c in by_name.items()}

    def one(name):
        if not isinstance(name, str):
            return None
        if name in by_name:
            return by_name[name]
        if name in by_short:
            return by_short[name]
        found = {c for n, c in by_name.items() if n in name}
        return found.pop() if len(found) == 1 else None

    return names.map(one).astype("string")


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    result = CONTRACT.apply(records)
    clean = result.clean
    clean["measured_at"] = parse_measured(clean["measured_raw"])
    result.reject(clean["measured_at"].isna(), "MSRDT/MSRMT_DT is not a date and time: " + clean["measured_raw"])
    clean = result.clean
    result.reject(in_future(clean["measured_at"], ctx), "MSRDT/MSRMT_DT is in the future: " + clean["measured_raw"])
    clean = result.clean
    clean["grade"] = grade_of(clean["grade_raw"])
    unknown = clean["grade_raw"].notna() & clean["grade"].isna()
    result.reject(unknown, "unknown grade: " + clean["grade_raw"].fillna(""))
    clean = result.clean
    clean["district_code"] = district_of_station(clean["station_name"])
    result.reject(clean["district_code"].isna(), "no district matches the station " + clean["station_name"])
    clean, rejected = result.clean, result.rejected
    ref = reference.districts().set_index("sig_cd")
    clean["district_name"] = clean["district_code"].map(ref["name_ko"])
    clean["region"] = clean["region"].fillna(clean["district_code"].map(ref["region_ko"]))
    wire = [result.records[n - 1] for n in clean["_row"]]
    clean["schema"] = pd.Series(["old" if "MSRDT" in r else "new" for r in wire], index=clean.index, dtype="string")
    clean = clean.sort_values("district_code", ignore_index=True)
    as_of = clean["measured_at"].max()
    return Transformed(
        tables=[store.Table("air_quality", PUBLISHED, clean)],
        rejected=rejected,
        received=result.received,
        as_of=None if pd.isna(as_of) else as_of.isoformat(),
        extra={"stations_missing_pm": int((clean["pm10"].isna() & clean["pm25"].isna()).sum())},
    )
