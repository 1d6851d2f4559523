"""The census reference of the citizen panel: adults by district × gender × age band, from
data/census_seoul.csv.

The bundled file is an approximate sample, not official statistics (see README, "Citizen panel"):
no real figures could be fetched offline. Its rows say so (`precision = approximate`), and the
panel page shows it. Replace the file with KOSIS resident-registration figures in the same columns.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

import pandas as pd

import settings
from loaders import reference, store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchResult

FEED = "census"
PATH = settings.PROJECT_DIR / "data" / "census_seoul.csv"
GENDERS = ("M", "F")
BAND = re.compile(r"(\d+)-(\d+)|(\d+)\+")

CONTRACT = Contract(
    [
        Column("sig_cd", ("sig_cd",), "text", "VARCHAR"),
        Column(
            "gender",
            ("gender",),
            "text",
            "VARCHAR",
            check=lambda s: s.isin(GENDERS),
            check_reason="gender is not M or F",
        ),
        Column(
            "age_band",
            ("age_band",),
            "text",
            "VARCHAR",
            check=lambda s: s.str.fullmatch(BAND.pattern).fillna(False),
            check_reason="age_band is not like 30-39 or 70+",
        ),
        Column(
            "population",
            ("population",),
            "int",
            "BIGINT",
            check=lambda s: s >= 0,
            check_reason="population is negative",
        ),
        Column("reference_year", ("year",), "int", "INTEGER"),
        Column("precision", ("precision",), "text", "VARCHAR", required=False),
    ],
    key=("sig_cd", "gender", "age_band"),
)
PUBLISHED = {
    "sig_cd": "VARCHAR",
    "district_name": "VARCHAR",
    "gender": "VARCHAR",
    "age_band": "VARCHAR",
    "population": "BIGINT",
    "reference_year": "INTEGER",
    "precision": "VARCHAR",
}


def read_rows(path: Path = PATH) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def fetch() -> FetchResult:
    rows = read_rows()
    return FetchResult(FEED, "INFO-000", "bundled census file", len(rows), rows)


def band_bounds(band: str) -> tuple[int, float]:
    """'30-39' -> (30, 39); '70+' -> (70, inf)."""
    m = BAND.fullmatch(band)
    if not m:
        raise ValueError(f"not an age band: {band!r}")
    if m.group(3):
        return int(m.group(3)), float("inf")
    return int(m.group(1)), int(m.group(2))


def clean(records: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The census rows, rejected rows, and problems with the table as a whole."""
    result = CONTRACT.apply(records)
    districts = reference.districts().set_index("sig_cd")
    result.reject(~result.clean["sig_cd"].isin(districts.index), "sig_cd is not one of the 25 districts")
    frame = result.clean
    frame["district_name"] = frame["sig_cd"].map(districts["name_ko"])
    frame["precision"] = frame["precision"].fillna("official")
    frame = frame.sort_values(["sig_cd", "gender", "age_band"], ignore_index=True)
    problems = []
    if frame["sig_cd"].nunique() != 25:
        problems.append(f"{frame['sig_cd'].nunique()} districts, expected 25")
    cells = len(frame["sig_cd"].unique()) * len(frame["gender"].unique()) * len(frame["age_band"].unique())
    if len(frame) != cells:
        problems.append("not every district × gender × age band cell is present")
    if frame["reference_year"].nunique() > 1:
        problems.append("more than one reference year")
    return frame, result.rejected, problems


@cache
def _load(path: Path) -> pd.DataFrame:
    frame, rejected, problems = clean(read_rows(path))
    if problems or not rejected.empty:
        reasons = problems + rejected["reason"].head(3).tolist()
        raise ValueError(f"{path.name}: " + "; ".join(reasons))
    return frame


def table(path: Path = PATH) -> pd.DataFrame:
    """The bundled census as published (raises ValueError when the file is unsound)."""
    return _load(path).copy()


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    frame, rejected, problems = clean(records)
    reason = f"{PATH.name}: " + "; ".join(problems) if problems else None
    if reason is None and not rejected.empty:
        reason = f"{PATH.name}: {len(rejected)} rows failed validation; a census must be whole"
    year = frame["reference_year"].max() if len(frame) else None
    return Transformed(
        tables=[store.Table("census", PUBLISHED, frame)],
        rejected=rejected,
        received=len(records),
        as_of=None if year is None or pd.isna(year) else f"{int(year)}-12-31",
        reject_reason=reason,
    )
