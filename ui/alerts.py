"""Alerts any page or the wall screen can show: a small `Alert` record, the sources that raise them,
and one banner.

Which hotspots qualify is decided in SQL (queries/crowd_alerts.sql, testable through queries.run);
this module only words the rows. Issue 6 adds more sources (feed down, bad air, overdue proposals):
each is a function returning list[Alert], listed in SOURCES.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

import settings
from ui import city, data, status
from ui.frame import md_text
from ui.i18n import current, grade_label, t

CROWDS_PAGE = "pages/crowds.py"
AIR_PAGE = "pages/air_bikes.py"
DATASETS_PAGE = "pages/data.py"
PROPOSALS_PAGE = "pages/proposals.py"
SUGGEST_RADIUS_KM = 2.0  # about 25 minutes on foot
SUGGESTIONS = 3
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Alert:
    kind: str  # crowd | air | feed | proposals
    severity: str  # "critical", "warning" or "info"
    title: str
    detail: str
    since: pd.Timestamp | None  # the measurement the alert rests on (never the fetch time)
    page: str  # the page that explains it (a path in ui.navigation.PAGES)
    subject: str = ""  # what it is about, e.g. a hotspot code: for links and de-duplication
    short: str = ""  # a few words for compact lists (the place's name); the title when empty
    suggestions: tuple[str, ...] = field(default=())


def crowd_alert_rows() -> pd.DataFrame:
    """Rows of crowd_alerts.sql with the configured window; raises data.QueryError."""
    return data.query(
        "crowd_alerts",
        hours=settings.get().crowd_alert_hours,
        radius_km=SUGGEST_RADIUS_KM,
        suggestions=SUGGESTIONS,
    )


def suggestion_text(s: dict) -> str:
    name = s.get("area_name_en") if current() == "en" and s.get("area_name_en") else s.get("area_name")
    return t(
        "alerts.suggestion",
        name=md_text(name),
        km=f"{float(s['distance_km']):.1f}",
        level=city.congestion_label(s.get("congestion_level")),
    )


def crowd_alerts(rows: pd.DataFrame | None = None) -> list[Alert]:
    rows = crowd_alert_rows() if rows is None else rows
    out = []
    for row in rows.to_dict("records"):
        name = md_text(city.hotspot_name(row))  # feed text, shown in markdown
        busy_now = bool(row["busy_now"])
        hours = float(row["hours_until_busy"])
        if busy_now:
            title = t("alerts.crowd_title_now", name=name, until=city.hhmm(row["busy_until"]))
        else:
            title = t("alerts.crowd_title", name=name, time=city.hhmm(row["busy_from"]), hours=f"{hours:g}")
        detail = t(
            "alerts.crowd_detail",
            level=city.congestion_label(row["level_now"]),
            people="—" if pd.isna(row["peak_population_max"]) else f"{int(row['peak_population_max']):,}",
            hours=int(row["busy_hours"]),
        )
        suggestions = tuple(suggestion_text(s) for s in (row["suggestions"] if row["suggestions"] is not None else []))
        out.append(
            Alert(
                kind="crowd",
                severity="critical" if busy_now or hours <= 1 else "warning",
                title=title,
                detail=detail,
                since=pd.Timestamp(row["measured_at"]),
                page=CROWDS_PAGE,
                subject=str(row["area_code"]),
                short=name,
                suggestions=suggestions,
            )
        )
    return out


def feed_alerts() -> list[Alert]:
    """A feed whose refresh is failing, or whose data stopped coming: the page keeps its last good
    data, and the operators should know."""
    out = []
    for state in status.feed_states().values():
        if state.state not in ("error", "stale"):
            continue
        key = "alerts.feed_error" if state.state == "error" else "alerts.feed_stale"
        out.append(
            Alert(
                kind="feed",
                severity="warning",
                title=t(key, feed=state.title, since=status.hhmm(state.since)),
                detail=t("alerts.feed_detail"),
                since=state.since,
                page=DATASETS_PAGE,
                subject=state.feed,
                short=state.title,
            )
        )
    return out


def air_alerts() -> list[Alert]:
    """Air graded 나쁨 (unhealthy) or worse at any district station."""
    row = data.query("overview_air").iloc[0]
    if pd.isna(row["worst_rank"]) or row["worst_rank"] < 3:
        return []
    return [
        Alert(
            kind="air",
            severity="critical" if row["worst_rank"] >= 4 else "warning",
            title=t(
                "alerts.air", grade=grade_label(row["worst_grade"]), districts=md_text(row["worst_districts"] or "")
            ),
            detail=t("alerts.air_detail", pm10=f"{row['pm10_mean']:.0f}", pm25=f"{row['pm25_mean']:.0f}"),
            since=None if pd.isna(row["measured_at"]) else pd.Timestamp(row["measured_at"]),
            page=AIR_PAGE,
            subject="air",
            short=t("alerts.air_short", grade=grade_label(row["worst_grade"])),
        )
    ]


def proposal_alerts() -> list[Alert]:
    """Citizen proposals past their answer deadline: the city owes an answer."""
    days = settings.get().answer_deadline_days
    row = data.query("proposals_summary", deadline_days=days).iloc[0]
    overdue = int(row["overdue"] or 0)
    if not overdue:
        return []
    return [
        Alert(
            kind="proposals",
            severity="warning",
            title=t("alerts.proposals", n=overdue, days=days),
            detail=t("alerts.proposals_detail", waiting=int(row["waiting"] or 0)),
            since=None if pd.isna(row["as_of"]) else pd.Timestamp(row["as_of"]),
            page=PROPOSALS_PAGE,
            subject="proposals",
            short=t("alerts.proposals_short", n=overdue),
        )
    ]


SOURCES = (crowd_alerts, air_alerts, feed_alerts, proposal_alerts)


def active_alerts() -> tuple[list[Alert], list[str]]:
    """Every source's alerts, most severe first, and the errors of sources that failed (one broken
    source never hides the others). Worked out once per status.SHARED_FOR_S for every session."""
    alerts, errors = _shared_alerts(
        data.version_key(), current(), status.shared_moment(), tuple(id(s) for s in SOURCES), SOURCES
    )
    return list(alerts), list(errors)


@st.cache_resource(max_entries=8, show_spinner=False)
def _shared_alerts(version: str, lang: str, moment: int, sources_key: tuple, _sources) -> tuple[tuple, tuple]:
    alerts, errors = [], []
    for source in _sources:
        try:
            alerts += source()
        except data.QueryError as e:
            errors.append(str(e))
        except (KeyError, IndexError, TypeError, ValueError) as e:  # odd rows: the other sources still speak
            errors.append(f"{source.__name__}: {type(e).__name__}")
    alerts.sort(key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.since or pd.Timestamp.min))
    return tuple(alerts), tuple(errors)


def icon(alert: Alert) -> str:
    # Alerts are warnings, never errors: an error box means the page itself failed.
    return ":material/crisis_alert:" if alert.severity == "critical" else ":material/campaign:"


def render_alert_banner(alerts: list[Alert] | None = None, names_shown: int = 3) -> list[Alert]:
    """A compact banner for the top of any page: how many alerts, the first few names, and a link to
    the page that explains them. Nothing when there are none; a caption when the source failed."""
    errors: list[str] = []
    if alerts is None:
        alerts, errors = active_alerts()
    if errors and not alerts:
        st.caption(t("alerts.unavailable"))
    if not alerts:
        return alerts
    titles = ", ".join(a.short or a.title for a in alerts[:names_shown])
    more = len(alerts) - names_shown
    text = t("alerts.banner", n=len(alerts), titles=titles)
    if more > 0:
        text += " " + t("alerts.banner_more", n=more)
    st.warning(text, icon=icon(alerts[0]))
    page = alerts[0].page
    # A page run on its own (tests, a direct script run) has no navigation to link into.
    with contextlib.suppress(StreamlitPageNotFoundError):
        st.page_link(page, label=t("alerts.open_page"), icon=":material/arrow_forward:")
    return alerts


def render_alert_list(alerts: list[Alert], errors: list[str] | None = None) -> None:
    """Every alert in full, most severe first: the overview and the wall screen. Each stays exactly
    as long as its condition, because the list is rebuilt from the published data on every refresh."""
    if errors and not alerts:
        st.caption(t("alerts.unavailable_all"))
    for alert in alerts:
        text = f"**{alert.title}**  \n{alert.detail}"
        if alert.suggestions:
            text += "  \n" + t("alerts.try_instead") + " " + " · ".join(alert.suggestions)
        st.warning(text, icon=icon(alert))
