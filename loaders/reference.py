"""Reference tables shipped in data/: the 25 districts and the surveyed markets."""

from __future__ import annotations

import csv
from functools import cache

import pandas as pd

import settings
from loaders import store
from loaders.contract import Column, Contract
from loaders.runner import Rejected, RunContext, Transformed
from loaders.seoul_api import FetchResult

DATA = settings.PROJECT_DIR / "data"

DISTRICT_COLUMNS = {
    "sig_cd": "VARCHAR",
    "adm_cd10": "VARCHAR",
    "kostat_cd": "VARCHAR",
    "prices_gu_cd": "VARCHAR",
    "name_ko": "VARCHAR",
    "name_en": "VARCHAR",
    "region_ko": "VARCHAR",
    "region_en": "VARCHAR",
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "tile_row": "INTEGER",
    "tile_col": "INTEGER",
}

MARKETS = Contract(
    [
        Column("market_id", ("market_id",), "int", "INTEGER"),
        Column("market_name", ("market_name",), "text", "VARCHAR"),
        Column("sig_cd", ("sig_cd",), "text", "VARCHAR"),
        Column("district_name", ("district_name",), "text", "VARCHAR"),
        Column("market_type_code", ("market_type_code",), "text", "VARCHAR"),
        Column("market_type", ("market_type",), "text", "VARCHAR"),
        Column(
            "lat",
            ("lat",),
            "number",
            "DOUBLE",
            check=lambda s: s.between(37.41, 37.72),
            check_reason="latitude outside Seoul",
        ),
        Column(
            "lon",
            ("lon",),
            "number",
            "DOUBLE",
            check=lambda s: s.between(126.76, 127.19),
            check_reason="longitude outside Seoul",
        ),
        Column("location_precision", ("location_precision",), "text", "VARCHAR"),
    ],
    key=("market_name",),
)


def _read_csv(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def districts() -> pd.DataFrame:
    frame = pd.DataFrame(_read_csv("districts.csv"))
    for c in ("lat", "lon"):
        frame[c] = frame[c].astype(float)
    for c in ("tile_row", "tile_col"):
        frame[c] = frame[c].astype(int)
    return frame


def check_districts(frame: pd.DataFrame) -> list[str]:
    """Problems with the district table; empty when it is sound."""
    problems = []
    if len(frame) != 25:
        problems.append(f"{len(frame)} districts, expected 25")
    for col in ("sig_cd", "adm_cd10", "kostat_cd", "prices_gu_cd", "name_ko", "name_en"):
        if frame[col].duplicated().any():
            problems.append(f"duplicate values in {col}")
    if not (frame["adm_cd10"] == frame["sig_cd"] + "00000").all():
        problems.append("adm_cd10 is not SIG_CD + 00000")
    if frame[["tile_row", "tile_col"]].duplicated().any():
        problems.append("two districts share a tile")
    return problems


def fetch() -> FetchResult:
    rows = _read_csv("markets.csv")
    return FetchResult("reference", "INFO-000", "bundled reference files", len(rows), rows)


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    frame = districts()
    problems = check_districts(frame)
    if problems:
        raise Rejected("data/districts.csv: " + "; ".join(problems))
    markets = MARKETS.apply(records)
    return Transformed(
        tables=[
            store.Table("districts", DISTRICT_COLUMNS, frame),
            store.Table("markets", MARKETS.sql_types, markets.clean),
        ],
        rejected=markets.rejected,
        received=markets.received,
    )
