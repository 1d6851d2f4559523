"""What a tile says about its data: ok, no data, error (the last good value kept and marked), or
stale since HH:MM.

Staleness is judged against the data's own time: a live feed (cadence of an hour or less) by its
newest measurement, a slow feed by its last successful load. Sample data is never stale: the
banner already says what it is, and the sample's moment is fixed (or replayed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

import settings
from ui import data, i18n
from ui.frame import SEOUL_TZ

LIVE_CADENCE_S = 3600


@dataclass(frozen=True)
class FeedState:
    feed: str
    state: str  # ok | no_data | error | stale
    as_of: pd.Timestamp | None = None
    since: pd.Timestamp | None = None  # error: failing since; stale: stale since
    is_sample: bool = False
    message: str | None = None
    title: str = ""


def now_kst() -> pd.Timestamp:
    return pd.Timestamp.now(tz=SEOUL_TZ).tz_localize(None)


def kst(value) -> pd.Timestamp | None:
    """A naive Seoul-time timestamp: feeds publish naive KST, the run log writes UTC with a zone."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    return ts.tz_convert(SEOUL_TZ).tz_localize(None) if ts.tzinfo is not None else ts


def feed_state(row: pd.Series | dict, now: pd.Timestamp, stale_after: float) -> FeedState:
    row = dict(row)
    feed = row["feed"]
    title = row.get("title_en" if i18n.current() == "en" else "title_ko") or feed
    is_sample = row.get("is_sample") is True
    as_of = kst(row.get("as_of"))
    if row["state"] == "no_data":
        return FeedState(feed, "no_data", title=title)
    if row["state"] in ("error", "degraded"):
        since = kst(row.get("degraded_since")) or kst(row.get("last_run_at"))
        return FeedState(feed, "error", as_of, since, is_sample, row.get("last_message"), title)
    cadence = row.get("cadence_s")
    if not is_sample and cadence is not None and not pd.isna(cadence) and cadence > 0:
        reference = as_of if cadence <= LIVE_CADENCE_S else kst(row.get("last_success"))
        if reference is not None:
            allowed = pd.Timedelta(seconds=float(cadence) * stale_after)
            if now - reference > allowed:
                return FeedState(feed, "stale", as_of, reference + allowed, is_sample, title=title)
    return FeedState(feed, "ok", as_of, None, is_sample, title=title)


def feed_states(now: pd.Timestamp | None = None) -> dict[str, FeedState]:
    """Every catalogued feed's state; empty when the catalogue itself cannot be read. Without `now`,
    worked out once per SHARED_FOR_S for every session (and every tile and alert asking)."""
    if now is not None:
        return _feed_states(now)
    return dict(_shared_feed_states(data.version_key(), i18n.current(), shared_moment()))


# States and alerts change with the published data and the clock, not with the session: a wall of
# screens and the overview's live panels asked for them on every run (a quarter of a run's CPU under
# the load test). A state may be this many seconds late to turn stale.
SHARED_FOR_S = 10


def shared_moment() -> int:
    return int(time.time() // SHARED_FOR_S)


@st.cache_resource(max_entries=8, show_spinner=False)
def _shared_feed_states(version: str, lang: str, moment: int) -> dict[str, FeedState]:
    return _feed_states(now_kst())


def _feed_states(now: pd.Timestamp) -> dict[str, FeedState]:
    try:
        status = data.query("feed_status")
    except data.QueryError:
        return {}
    factor = settings.get().stale_after_cadences
    # records, not iterrows: a Series per row of Arrow-backed text costs more than the rule itself
    return {row["feed"]: feed_state(row, now, factor) for row in status.to_dict("records")}


def rows_or_last_good(name: str, **params) -> tuple[pd.DataFrame | None, pd.Timestamp | None]:
    """A tile's rows, or after a failure the rows this session last showed, with the time the
    failure began: a wall screen keeps its last good picture instead of going blank."""
    key = f"last_good:{name}:{sorted(params.items())}"
    try:
        rows = data.query(name, **params)
    except data.QueryError:
        rows, since = st.session_state.get(key, (None, None))
        since = since or now_kst()
        st.session_state[key] = (rows, since)
        return rows, since
    st.session_state[key] = (rows, None)
    return rows, None


def hhmm(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None else ts.strftime("%m-%d %H:%M")
