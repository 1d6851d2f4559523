"""What a tile says about its data: ok, no data, error (the last good value kept and marked), or
stale since HH:MM; and the alerts every page and the wall screen show.

Staleness is judged against the data's own time: a live feed (cadence of an hour or less) by its
newest measurement, a slow feed by its last successful load. Sample data is never stale: the
banner already says what it is, and the sample's moment is fixed (or replayed).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

import settings
from ui import data, i18n
from ui.frame import SEOUL_TZ, md_text
from ui.i18n import t

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


@dataclass(frozen=True)
class Alert:
    kind: str  # crowd | feed | air | proposals
    severity: str  # warning | critical
    text: str
    page: str | None = None  # url_path of the page that explains it


def now_kst() -> pd.Timestamp:
    return pd.Timestamp.now(tz=SEOUL_TZ).tz_localize(None)


def kst(value) -> pd.Timestamp | None:
    """A naive Seoul-time timestamp: feeds publish naive KST, the run log writes UTC with a zone."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    return ts.tz_convert(SEOUL_TZ).tz_localize(None) if ts.tzinfo is not None else ts


def feed_state(row: pd.Series | dict, now: pd.Timestamp, stale_factor: float) -> FeedState:
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
            allowed = pd.Timedelta(seconds=float(cadence) * stale_factor)
            if now - reference > allowed:
                return FeedState(feed, "stale", as_of, reference + allowed, is_sample, title=title)
    return FeedState(feed, "ok", as_of, None, is_sample, title=title)


def feed_states(now: pd.Timestamp | None = None) -> dict[str, FeedState]:
    """Every catalogued feed's state; empty when the catalogue itself cannot be read."""
    try:
        status = data.query("feed_status")
    except data.QueryError:
        return {}
    now = now_kst() if now is None else now
    factor = settings.get().stale_factor
    return {row["feed"]: feed_state(row, now, factor) for _, row in status.iterrows()}


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


def city_alerts(states: dict[str, FeedState] | None = None) -> list[Alert]:
    """Every alert in force now. Each lasts exactly as long as its condition: it is recomputed from
    the published data on every refresh, so it clears by itself."""
    cfg = settings.get()
    states = feed_states() if states is None else states
    alerts: list[Alert] = []
    try:
        spots = data.query("overview_hotspot_map", hours=cfg.crowd_alert_hours)
    except data.QueryError:
        spots = None
    if spots is not None and spots["alert"].any():
        names = spots.loc[spots["alert"], "area_name"].tolist()
        alerts.append(
            Alert(
                "crowd",
                "critical",
                t(
                    "overview_alerts.crowd",
                    n=len(names),
                    hours=cfg.crowd_alert_hours,
                    names=", ".join(md_text(n) for n in names[:4]),
                ),
                "crowds-now",
            )
        )
    try:
        air = data.query("overview_air").iloc[0]
    except (data.QueryError, IndexError):
        air = None
    if air is not None and not pd.isna(air["worst_rank"]) and air["worst_rank"] >= 3:
        alerts.append(
            Alert(
                "air",
                "critical" if air["worst_rank"] >= 4 else "warning",
                t(
                    "overview_alerts.air",
                    grade=i18n.grade_label(air["worst_grade"]),
                    districts=md_text(air["worst_districts"] or ""),
                ),
                "air-and-bikes",
            )
        )
    try:
        proposals = data.query("proposals_summary", deadline_days=cfg.answer_deadline_days).iloc[0]
    except (data.QueryError, IndexError):
        proposals = None
    if proposals is not None and proposals["overdue"] and proposals["overdue"] > 0:
        alerts.append(
            Alert(
                "proposals",
                "warning",
                t("overview_alerts.proposals", n=int(proposals["overdue"]), days=cfg.answer_deadline_days),
                "citizen-proposals",
            )
        )
    for state in states.values():
        if state.state == "error":
            alerts.append(
                Alert("feed", "warning", t("overview_alerts.feed_error", feed=state.title, since=hhmm(state.since)), "datasets")
            )
        elif state.state == "stale":
            alerts.append(
                Alert("feed", "warning", t("overview_alerts.feed_stale", feed=state.title, since=hhmm(state.since)), "datasets")
            )
    return alerts


def render_alerts(alerts: list[Alert]) -> None:
    """One banner per severity; nothing at all when the city is calm."""
    for severity, show, icon in (
        ("critical", st.error, ":material/campaign:"),
        ("warning", st.warning, ":material/warning:"),
    ):
        lines = [a.text for a in alerts if a.severity == severity]
        if lines:
            show("\n".join(f"- {line}" for line in lines), icon=icon)
