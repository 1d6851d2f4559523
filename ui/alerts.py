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
from ui import city, data
from ui.i18n import current, t

CROWDS_PAGE = "pages/crowds.py"
SUGGEST_RADIUS_KM = 2.0  # about 25 minutes on foot
SUGGESTIONS = 3
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Alert:
    kind: str  # "crowd"
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
        name=name,
        km=f"{float(s['distance_km']):.1f}",
        level=city.congestion_label(s.get("congestion_level")),
    )


def crowd_alerts(rows: pd.DataFrame | None = None) -> list[Alert]:
    rows = crowd_alert_rows() if rows is None else rows
    out = []
    for row in rows.to_dict("records"):
        name = city.hotspot_name(row)
        busy_now = bool(row["busy_now"])
        hours = float(row["hours_until_busy"])
        if busy_now:
            title = t("alerts.crowd_title_now", name=name, until=city.hhmm(row["busy_until"]))
        else:
            title = t("alerts.crowd_title", name=name, time=city.hhmm(row["busy_from"]), hours=f"{hours:g}")
        detail = t(
            "alerts.crowd_detail",
            level=city.congestion_label(row["level_now"]),
            people=f"{int(row['peak_population_max']):,}",
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


SOURCES = (crowd_alerts,)


def active_alerts() -> tuple[list[Alert], list[str]]:
    """Every source's alerts, most severe first, and the errors of sources that failed (one broken
    source never hides the others)."""
    alerts, errors = [], []
    for source in SOURCES:
        try:
            alerts += source()
        except data.QueryError as e:
            errors.append(str(e))
    alerts.sort(key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.since or pd.Timestamp.min))
    return alerts, errors


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
