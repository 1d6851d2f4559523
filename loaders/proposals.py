"""Citizen proposals of Democracy Seoul: `ChunmanFreeSuggestions`.

The feed gives only current counts, so when a proposal crossed a vote level is learnt by loading
it over time: `proposal_crossings` keeps, for each proposal and each level of any threshold rule,
the first load that saw the level reached, carried from the serving version into the next. A
level already reached when the proposal is first seen gets its registration time, flagged
`estimated`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

import datadir
import settings
from loaders import store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchResult, SeoulApi

FEED = "proposals"
SERVICE = "ChunmanFreeSuggestions"
SEOUL = ZoneInfo("Asia/Seoul")
FIRST_DATE = pd.Timestamp("2000-01-01")  # before Seoul's first proposal site (천만상상 오아시스, 2006)


def _non_negative(s: pd.Series) -> pd.Series:
    return s >= 0


CONTRACT = Contract(
    [
        Column("proposal_id", ("SN",), "int", "BIGINT"),
        Column("title", ("TITLE",), "text", "VARCHAR"),
        Column("content", ("CONTENT",), "text", "VARCHAR", required=False),
        Column("category", ("VISIOIN_TXT", "VISION_TXT"), "text", "VARCHAR", required=False),
        Column(
            "registered_at",
            ("REG_DATE",),
            "datetime",
            "TIMESTAMP",
            # A day of slack for the clock: REG_DATE is Seoul time, the loader's clock may be UTC.
            check=lambda s: (s >= FIRST_DATE) & (s <= pd.Timestamp.now() + pd.Timedelta(days=1)),
            check_reason="REG_DATE is before 2000 or in the future",
        ),
        Column("agree_count", ("VOTE_CNT",), "int", "BIGINT", check=_non_negative, check_reason="VOTE_CNT is negative"),
        Column(
            "disagree_count",
            ("VOTE_DIS_CNT",),
            "int",
            "BIGINT",
            required=False,
            check=_non_negative,
            check_reason="VOTE_DIS_CNT is negative",
        ),
        Column(
            "comment_count",
            ("USER_COMMENT_CNT",),
            "int",
            "BIGINT",
            required=False,
            check=_non_negative,
            check_reason="USER_COMMENT_CNT is negative",
        ),
        Column("vote_score", ("VOTE_SCORE",), "number", "DOUBLE", required=False),
        Column("answered", ("REPLY_YN",), "flag", "BOOLEAN", required=False),
    ],
    key=("proposal_id",),
)
PUBLISHED = {c.name: c.sql_type for c in CONTRACT.columns}
CROSSINGS = {"proposal_id": "BIGINT", "level": "INTEGER", "first_seen_at": "TIMESTAMP", "estimated": "BOOLEAN"}


def fetch(api: SeoulApi) -> FetchResult:
    return api.fetch_all(SERVICE)


def levels() -> list[int]:
    rules = settings.threshold_rules(settings.get().threshold_rules)
    return sorted({level for _since, *lv in rules for level in lv})


def previous_crossings(data_dir) -> tuple[pd.DataFrame, set[int]]:
    """Crossings and proposal ids of the serving version (empty on the first load)."""
    pointer = datadir.read_pointer(data_dir, FEED)
    empty = pd.DataFrame(columns=list(CROSSINGS))
    if not pointer:
        return empty, set()
    con = duckdb.connect(str(datadir.feed_dir(data_dir, FEED) / pointer["file"]), read_only=True)
    try:
        crossings = con.execute("SELECT * FROM proposal_crossings").df()
        known = {int(x) for (x,) in con.execute("SELECT proposal_id FROM proposals").fetchall()}
    finally:
        con.close()
    return crossings, known


def crossings_now(clean: pd.DataFrame, as_of: pd.Timestamp, previous: pd.DataFrame, known: set[int]) -> pd.DataFrame:
    level_frame = pd.DataFrame({"level": levels()})
    reached = clean[["proposal_id", "agree_count", "registered_at"]].merge(level_frame, how="cross")
    reached = reached[reached["agree_count"] >= reached["level"]]
    merged = reached.merge(previous, on=["proposal_id", "level"], how="left")
    new = merged["first_seen_at"].isna()
    seen_before = merged["proposal_id"].isin(known)
    merged.loc[new & seen_before, "first_seen_at"] = as_of
    merged.loc[new & seen_before, "estimated"] = False
    merged.loc[new & ~seen_before, "first_seen_at"] = merged.loc[new & ~seen_before, "registered_at"]
    merged.loc[new & ~seen_before, "estimated"] = True
    merged["first_seen_at"] = pd.to_datetime(merged["first_seen_at"])
    merged["estimated"] = merged["estimated"].astype(bool)
    return merged[list(CROSSINGS)].sort_values(["proposal_id", "level"], ignore_index=True)


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    result = CONTRACT.apply(records)
    clean = result.clean
    clean["category"] = clean["category"].fillna("기타")
    # disagree_count and comment_count stay NULL when the feed sends "", "-" or "점검중": unknown, not 0.
    clean["answered"] = clean["answered"].fillna(False).astype(bool)
    if ctx.is_sample:
        # The sample's counts are "as of" the end of its last day, so it stays deterministic.
        as_of = pd.Timestamp(ctx.cfg.sample_end_date) + pd.Timedelta(hours=18)
    else:
        as_of = pd.Timestamp(datetime.now(SEOUL).replace(tzinfo=None, microsecond=0))
    previous, known = previous_crossings(ctx.data_dir)
    crossings = crossings_now(clean, as_of, previous, known)
    return Transformed(
        tables=[
            store.Table("proposals", PUBLISHED, clean.sort_values("proposal_id", ignore_index=True)),
            store.Table("proposal_crossings", CROSSINGS, crossings),
        ],
        rejected=result.rejected,
        received=result.received,
        as_of=as_of.isoformat(),
    )
