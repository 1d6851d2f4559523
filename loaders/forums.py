"""Listening forums (청책토론회, November 2011 – June 2019): one row per forum, from a CSV file.

No open dataset exists (../shared/seoul-open-api.md), so forums arrive as files with the schema
in the README ("Listening forums"): date, topic, field, participants, outcome, optionally
forum_id. Korean headers (일자, 주제, 분야, 참여인원, 결과) are accepted too. Topics and outcomes
are free text from the file: pages show them as text only.
"""

from __future__ import annotations

import pandas as pd

from loaders import store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed

FEED = "forums"
FIRST_DATE = pd.Timestamp("2000-01-01")  # well before the first forum (2011-11); catches year typos
MAX_PARTICIPANTS = 100_000  # far above any hall; catches a misplaced digit or a total row

CONTRACT = Contract(
    [
        Column("forum_id", ("forum_id", "번호"), "int", "INTEGER", required=False),
        Column(
            "held_on",
            ("date", "held_on", "일자", "개최일"),
            "date",
            "DATE",
            check=lambda s: (s >= FIRST_DATE) & (s <= pd.Timestamp.now() + pd.Timedelta(days=1)),
            check_reason="date is before 2000 or in the future",
        ),
        Column("topic", ("topic", "주제", "토론회명"), "text", "VARCHAR"),
        Column("field", ("field", "분야"), "text", "VARCHAR", required=False),
        Column(
            "participants",
            ("participants", "참여인원", "참석자수"),
            "int",
            "INTEGER",
            check=lambda s: (s >= 1) & (s <= MAX_PARTICIPANTS),
            check_reason=f"participants must be between 1 and {MAX_PARTICIPANTS:,}",
        ),
        Column("outcome", ("outcome", "결과", "성과"), "text", "VARCHAR", required=False),
    ],
    key=("held_on", "topic"),
)
PUBLISHED = {
    "forum_id": "INTEGER",
    "held_on": "DATE",
    "topic": "VARCHAR",
    "field": "VARCHAR",
    "participants": "INTEGER",
    "outcome": "VARCHAR",
}


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    result = CONTRACT.apply(records)
    dup = result.clean["forum_id"].notna() & result.clean["forum_id"].duplicated(keep="first")
    result.reject(dup, "duplicate forum_id")
    clean = result.clean.sort_values(["held_on", "_row"], ignore_index=True)
    clean["field"] = clean["field"].fillna("기타")
    if clean["forum_id"].isna().any():
        # Without ids in the file, forums are numbered in date order (file order within a day).
        clean["forum_id"] = range(1, len(clean) + 1)
    as_of = clean["held_on"].max()
    return Transformed(
        tables=[store.Table("forums", PUBLISHED, clean)],
        rejected=result.rejected,
        received=result.received,
        as_of=None if pd.isna(as_of) else as_of.date().isoformat(),
    )
