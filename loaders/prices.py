"""Prices of daily necessities at Seoul's markets: `ListNecessariesPricesService`.

Quirks handled (../shared/seoul-open-api.md): ids arrive as floats ("1660111.0"), prices as
strings, the district as a Seoul-internal six-digit code (320000 = 도봉구), rows newest first,
and the item fields may have been renamed A_NAME/A_UNIT -> PRDLST_NM/UNIT.
"""

from __future__ import annotations

import pandas as pd

from loaders import reference, store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchResult, SeoulApi

FEED = "prices"
SERVICE = "ListNecessariesPricesService"
MAX_PRICE_KRW = 5_000_000  # above any necessity's price; catches unit slips (won vs 10-won)
MARKET_TYPES = {"001": "전통시장", "002": "대형마트"}

CONTRACT = Contract(
    [
        Column("price_id", ("P_SEQ",), "int", "BIGINT"),
        Column("market_id", ("M_SEQ",), "int", "BIGINT"),
        Column("market_name", ("M_NAME",), "text", "VARCHAR"),
        Column("item_id", ("A_SEQ",), "int", "BIGINT"),
        Column("item_name", ("A_NAME", "PRDLST_NM"), "text", "VARCHAR"),
        Column("unit", ("A_UNIT", "UNIT"), "text", "VARCHAR", required=False),
        Column(
            "price_krw",
            ("A_PRICE",),
            "number",
            "BIGINT",
            check=lambda s: (s > 0) & (s < MAX_PRICE_KRW),
            check_reason=f"A_PRICE must be above 0 and below {MAX_PRICE_KRW:,} won",
        ),
        Column("year_month", ("P_YEAR_MONTH",), "month", "VARCHAR", required=False),
        Column("remark", ("ADD_COL",), "text", "VARCHAR", required=False),
        Column(
            "surveyed_on",
            ("P_DATE",),
            "date",
            "DATE",
            check=lambda s: (s >= pd.Timestamp("2000-01-01")) & (s <= pd.Timestamp.now() + pd.Timedelta(days=2)),
            check_reason="P_DATE is before 2000 or in the future",
        ),
        Column("market_type_code", ("M_TYPE_CODE",), "text", "VARCHAR", required=False),
        Column("market_type", ("M_TYPE_NAME",), "text", "VARCHAR", required=False),
        Column("gu_code", ("M_GU_CODE",), "text", "VARCHAR", required=False),
        Column("gu_name", ("M_GU_NAME",), "text", "VARCHAR", required=False),
    ],
    key=("price_id",),
)

PUBLISHED = {
    "price_id": "BIGINT",
    "surveyed_on": "DATE",
    "year_month": "VARCHAR",
    "market_id": "BIGINT",
    "market_name": "VARCHAR",
    "market_type": "VARCHAR",
    "district_code": "VARCHAR",
    "district_name": "VARCHAR",
    "item_id": "BIGINT",
    "item_name": "VARCHAR",
    "unit": "VARCHAR",
    "price_krw": "BIGINT",
    "remark": "VARCHAR",
}


def fetch(api: SeoulApi) -> FetchResult:
    return api.fetch_all(SERVICE)


def resolve_districts(gu_name: pd.Series, gu_code: pd.Series) -> pd.Series:
    """SIG_CD for each row: by district name first (the codes are Seoul-internal and the
    documented advice is to join on the name when in doubt), then by the six-digit code."""
    ref = reference.districts()
    by_name = dict(zip(ref["name_ko"], ref["sig_cd"], strict=True))
    by_code = dict(zip(ref["prices_gu_cd"], ref["sig_cd"], strict=True))
    by_code.update({c: c for c in ref["sig_cd"]})  # tolerate a standard SIG_CD in the code field
    from_name = gu_name.map(by_name)
    from_code = gu_code.str.replace(r"\.0$", "", regex=True).map(by_code)
    return from_name.fillna(from_code).astype("string")


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    result = CONTRACT.apply(records)
    result.clean["district_code"] = resolve_districts(result.clean["gu_name"], result.clean["gu_code"])
    result.reject(
        result.clean["district_code"].isna(),
        "unknown district: " + result.clean["gu_name"].fillna("?") + " / " + result.clean["gu_code"].fillna("?"),
    )
    clean, rejected = result.clean, result.rejected
    ref = reference.districts().set_index("sig_cd")
    clean["district_name"] = clean["district_code"].map(ref["name_ko"])
    clean["market_type"] = clean["market_type"].fillna(clean["market_type_code"].map(MARKET_TYPES))
    clean["price_krw"] = clean["price_krw"].round().astype("Int64")
    clean = clean.sort_values(["surveyed_on", "price_id"], ascending=[False, False], ignore_index=True)
    as_of = clean["surveyed_on"].max()
    return Transformed(
        tables=[store.Table("prices", PUBLISHED, clean)],
        rejected=rejected,
        received=result.received,
        as_of=None if pd.isna(as_of) else as_of.date().isoformat(),
    )
