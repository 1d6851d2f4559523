"""The frame around every page: language switch, sample-data and replay banner, footer, formats,
and the freshness of real-time panels."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

import settings
from ui import data, i18n
from ui.i18n import t

SEOUL_TZ = "Asia/Seoul"


def language_switch() -> None:
    lang = i18n.current()
    choice = st.sidebar.radio(
        t("app.language"),
        list(i18n.LANGUAGES),
        index=list(i18n.LANGUAGES).index(lang),
        format_func=i18n.LANGUAGES.get,
        horizontal=True,
        key="lang_choice",
    )
    if choice != lang:
        st.session_state["lang"] = choice
        st.query_params["lang"] = choice
        st.rerun()
    if st.query_params.get("lang") != lang and lang != i18n.DEFAULT:
        st.query_params["lang"] = lang


def provenance_banner() -> None:
    """Every page says when it shows sample data (and, while the watcher replays the sample's
    recorded day, which moment of it), or that nothing is loaded yet."""
    try:
        row = data.query("data_provenance").iloc[0]
    except data.QueryError:
        return
    if row["datasets"] == 0:
        st.warning(t("banner.no_data"), icon=":material/warning:")
    elif row["replaying"]:
        # The replayed time moves while the page sits: the banner refreshes itself like the panels.
        st.fragment(run_every=max(15.0, settings.get().replay_step_s))(_replay_banner)()
    elif row["any_sample"]:
        st.warning(t("banner.sample"), icon=":material/science:")


def _replay_banner() -> None:
    try:
        row = data.query("data_provenance").iloc[0]
    except data.QueryError:
        return
    st.warning(t("banner.replay", when=when(row["replay_as_of"])), icon=":material/replay:")


def footer() -> None:
    st.divider()
    st.caption(t("app.source_footer"))


def when(value, with_time: bool = True) -> str:
    """A timestamp in Seoul time, or 'never'."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return t("state.never")
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(SEOUL_TZ)
    if not with_time or (ts.hour == 0 and ts.minute == 0 and ts.tzinfo is None):
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def krw(value) -> str:
    if value is None or pd.isna(value):
        return "—"
    return t("prices.won", value=f"{round(float(value)):,}")


def query_or_warn(name: str, **params) -> pd.DataFrame | None:
    """A panel's rows, or None after showing what went wrong (the rest of the page renders)."""
    try:
        return data.query(name, **params)
    except data.QueryError as e:
        st.error(t("state.query_error", error=str(e)), icon=":material/error:")
        return None


@dataclass(frozen=True)
class Freshness:
    feed: str
    cadence_s: float | None
    as_of: pd.Timestamp | None  # newest measurement, Seoul time
    stale: bool
    replaying: bool


def now_seoul() -> pd.Timestamp:
    """Now in Seoul time without a zone, as the feeds write their measurement times."""
    return pd.Timestamp.now(tz=SEOUL_TZ).tz_localize(None)


def freshness(feed: str) -> Freshness | None:
    """How current a real-time feed is. Stale once its newest measurement is older than
    MAYOR_STALE_CADENCES cadences: against the clock for live data, against the replayed moment
    for the sample (a sample standing still is never stale)."""
    try:
        frame = data.query("feed_freshness", feed=feed)
    except data.QueryError:
        return None  # the panel itself says what failed; freshness is then unknown, not an error
    if frame.empty:
        return None
    row = frame.iloc[0]
    cadence = None if pd.isna(row["cadence_s"]) else float(row["cadence_s"])
    as_of = None if pd.isna(row["as_of"]) else pd.Timestamp(row["as_of"])
    replaying = row["source"] == "replay"
    if as_of is None or cadence is None:
        return Freshness(feed, cadence, as_of, False, replaying)
    if pd.notna(row["is_sample"]) and bool(row["is_sample"]):
        reference = as_of if pd.isna(row["replay_as_of"]) else max(as_of, pd.Timestamp(row["replay_as_of"]))
    else:
        reference = now_seoul()
    tolerance = pd.Timedelta(seconds=cadence * settings.get().stale_cadences)
    return Freshness(feed, cadence, as_of, reference - as_of > tolerance, replaying)


def poll_interval_s(cadence_s: float | None) -> float:
    """How often a live panel looks for new data: a tenth of the feed's cadence, so a refresh
    shows within minutes, between 15 s (a rerun costs the server) and 5 minutes."""
    if cadence_s is None:
        return 300.0
    return float(min(300.0, max(15.0, cadence_s / 10)))


def live_caption(state: Freshness | None, source: str) -> None:
    """The as-of time (measurement, not fetch) and source of a live panel, and a warning when the
    feed is stale."""
    if state is None or state.as_of is None:
        st.caption(t("state.source", source=source))
        return
    st.caption(f"{t('state.as_of', when=when(state.as_of))} · {t('state.source', source=source)}")
    if state.stale:
        st.warning(t("state.stale", when=when(state.as_of)), icon=":material/schedule:")
