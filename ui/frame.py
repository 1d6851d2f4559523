"""The frame around every page: language switch, sample-data and replay banner, footer, formats,
and the freshness of real-time panels."""

from __future__ import annotations

import re
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


def when(value, with_time: bool | None = None) -> str:
    """A timestamp in Seoul time, or 'never'. with_time None: a naive midnight reads as a date (a
    survey day); True: always the time (a live measurement at 00:00 is not a date); False: the date."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return t("state.never")
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(SEOUL_TZ)
    if with_time is False or (with_time is None and ts.hour == 0 and ts.minute == 0 and ts.tzinfo is None):
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def md_text(value) -> str:
    """Feed text placed inside markdown: shown as the characters, never as links, emphasis,
    colour directives or emoji shortcodes."""
    return re.sub(r"([\\`*_\[\]{}()#+\-.!|<>~$:])", r"\\\1", str(value))


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


# --- live data: measurement time and staleness ---------------------------------------------------

# The cadence assumed for a feed the data dictionary does not (yet) give one: citydata's 5 minutes.
DEFAULT_CADENCE_S = 300


@dataclass(frozen=True)
class Freshness:
    """How current a real-time feed's newest measurement is.

    state: "live" (within its cadence allowance), "stale" (older), "sample" (the bundled recording,
    whose clock is not today's, so it is never judged stale), "unknown" (measured, but the feed is
    not published under that name, so neither its cadence nor its origin is known), "no_data"."""

    feed: str
    state: str
    measured_at: pd.Timestamp | None
    age_s: float | None
    stale_after_s: float


def seoul_now() -> pd.Timestamp:
    """Now on the feeds' clock: Korea Standard Time without a zone, as they publish times."""
    return pd.Timestamp.now(tz=SEOUL_TZ).tz_localize(None)


def freshness(feed: str, measured_at, now: pd.Timestamp | None = None) -> Freshness:
    """Judge `measured_at` (the source's measurement time, never the fetch time) against the feed's
    cadence times MAYOR_STALE_AFTER_CADENCES. Raises data.QueryError when the catalogue is unreadable."""
    feeds = data.query("feed_freshness")
    row = feeds[feeds["feed"] == feed]
    cadence = DEFAULT_CADENCE_S
    if not row.empty and pd.notna(row["cadence_s"].iloc[0]):
        cadence = int(row["cadence_s"].iloc[0])
    stale_after = cadence * settings.get().stale_after_cadences
    if measured_at is None or pd.isna(measured_at):
        return Freshness(feed, "no_data", None, None, stale_after)
    measured = pd.Timestamp(measured_at)
    if measured.tzinfo is not None:
        measured = measured.tz_convert(SEOUL_TZ).tz_localize(None)
    age = ((now if now is not None else seoul_now()) - measured).total_seconds()
    if row.empty:
        return Freshness(feed, "unknown", measured, age, stale_after)
    if bool(row["is_sample"].iloc[0]):
        return Freshness(feed, "sample", measured, age, stale_after)
    return Freshness(feed, "stale" if age > stale_after else "live", measured, age, stale_after)


def refresh_failing(feed: str) -> None:
    """A warning on a live panel whose feed's latest refresh failed: the panel is showing the last
    good data, since the first failure after the last success."""
    try:
        status = data.query("feed_status")
    except data.QueryError:
        return  # the catalogue is unreadable: the panel's own rows say what they can
    row = status[status["feed"] == feed]
    if row.empty or row["state"].iloc[0] != "degraded":
        return
    since = row["degraded_since"].iloc[0]
    if pd.isna(since):
        since = row["last_run_at"].iloc[0]
    since = pd.Timestamp(since)
    if since.tzinfo is not None:
        since = since.tz_convert(SEOUL_TZ).tz_localize(None)
    st.warning(t("state.failing", since=when(since)), icon=":material/sync_problem:")


def live_as_of(feed: str, measured_at, source: str) -> Freshness | None:
    """The as-of line of a live panel (measurement time and source), a warning once stale, and one
    while its refresh is failing."""
    refresh_failing(feed)
    try:
        fresh = freshness(feed, measured_at)
    except data.QueryError:
        st.caption(f"{t('live.measured', when=when(measured_at))} · {t('state.source', source=source)}")
        return None
    if fresh.state == "no_data":
        return fresh
    line = f"{t('live.measured', when=when(fresh.measured_at, with_time=True))} · {t('state.source', source=source)}"
    if fresh.state == "sample":
        line += f" · {t('live.sample_clock')}"
    st.caption(line)
    if fresh.state == "stale":
        st.warning(
            t("live.stale", when=when(fresh.measured_at, with_time=True), minutes=round(fresh.age_s / 60)),
            icon=":material/schedule:",
        )
    return fresh


# --- live panels of the air and bikes page: replay-aware state --------------------------------


@dataclass(frozen=True)
class LiveState:
    feed: str
    cadence_s: float | None
    as_of: pd.Timestamp | None  # newest measurement, Seoul time
    stale: bool
    replaying: bool


def live_state(feed: str) -> LiveState | None:
    """How current a real-time feed is. Stale once its newest measurement is older than
    MAYOR_STALE_AFTER_CADENCES cadences: against the clock for live data, against the replayed moment
    for the sample (a sample standing still is never stale)."""
    try:
        frame = data.query("live_feed_state", feed=feed)
    except data.QueryError:
        return None  # the panel itself says what failed; freshness is then unknown, not an error
    if frame.empty:
        return None
    row = frame.iloc[0]
    cadence = None if pd.isna(row["cadence_s"]) else float(row["cadence_s"])
    as_of = None if pd.isna(row["as_of"]) else pd.Timestamp(row["as_of"])
    replaying = row["source"] == "replay"
    if as_of is None or cadence is None:
        return LiveState(feed, cadence, as_of, False, replaying)
    if pd.notna(row["is_sample"]) and bool(row["is_sample"]):
        reference = as_of if pd.isna(row["replay_as_of"]) else max(as_of, pd.Timestamp(row["replay_as_of"]))
    else:
        reference = seoul_now()
    tolerance = pd.Timedelta(seconds=cadence * settings.get().stale_after_cadences)
    return LiveState(feed, cadence, as_of, reference - as_of > tolerance, replaying)


def poll_interval_s(cadence_s: float | None) -> float:
    """How often a live panel looks for new data: a tenth of the feed's cadence, so a refresh
    shows within minutes, between 15 s (a rerun costs the server) and 5 minutes."""
    if cadence_s is None:
        return 300.0
    return float(min(300.0, max(15.0, cadence_s / 10)))


def live_caption(state: LiveState | None, source: str, feed: str) -> None:
    """The as-of time (measurement, not fetch) and source of a live panel, a warning when the feed
    is stale, and one while its refresh is failing."""
    refresh_failing(feed)
    if state is None or state.as_of is None:
        st.caption(t("state.source", source=source))
        return
    st.caption(f"{t('state.as_of', when=when(state.as_of, with_time=True))} · {t('state.source', source=source)}")
    if state.stale:
        st.warning(t("state.stale", when=when(state.as_of, with_time=True)), icon=":material/schedule:")
