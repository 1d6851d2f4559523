"""The complaints page's state and pictures: filters kept in the URL, labels, the heat grid and
the district colours. No data access here (pages call named queries through ui/data.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st
from plotly.colors import get_colorscale

from ui import maps
from ui.charts import FigureSpec
from ui.i18n import current, strings, t

CHANNELS = ("call", "web", "app", "visit", "other")
STATUSES = ("received", "in_progress", "resolved", "withdrawn")
DEFAULT_DAYS = 91  # a quarter: enough to see weekly swings, short enough to read the latest weeks
LATEST_ROWS = 50
LATEST_LOOKBACK_DAYS = 3
SOURCE = "120 다산콜재단 · 응답소"
# Sequential blues for counts: pale for few, deep for many (the map and the heat grid).
_BLUES = np.array([[239, 243, 255], [158, 202, 225], [66, 146, 198]], dtype=float)
# plotly's "Blues" written out: plotly.js has its own scale under that name.
BLUES_SCALE = get_colorscale("Blues")


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    districts: tuple[str, ...]
    categories: tuple[str, ...]
    channels: tuple[str, ...]

    def params(self) -> dict:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "districts": list(self.districts),
            "categories": list(self.categories),
            "channels": list(self.channels),
        }

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def _date(text: str | None, fallback: date, first: date, last: date) -> date:
    try:
        value = date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback
    return min(max(value, first), last)


def filters_from_url(first_day: date, last_day: date, districts: list[str], categories: list[str]) -> Filters:
    """The filters a link carries (`from`, `to`, repeated `gu`, `cat`, `ch`), with anything unknown
    or out of range dropped, so a mistyped link still shows a page. Default: the last quarter."""
    q = st.query_params
    default_from = max(first_day, last_day - timedelta(days=DEFAULT_DAYS - 1))
    date_from = _date(q.get("from"), default_from, first_day, last_day)
    date_to = _date(q.get("to"), last_day, first_day, last_day)
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    return Filters(
        date_from,
        date_to,
        tuple(d for d in q.get_all("gu") if d in districts),
        tuple(c for c in q.get_all("cat") if c in categories),
        tuple(c for c in q.get_all("ch") if c in CHANNELS),
    )


def write_url(f: Filters) -> None:
    """Keep the URL equal to the view, so a link reproduces it."""
    wanted = {
        "from": f.date_from.isoformat(),
        "to": f.date_to.isoformat(),
        "gu": list(f.districts),
        "cat": list(f.categories),
        "ch": list(f.channels),
    }
    for key, value in wanted.items():
        current_value = st.query_params.get_all(key) if isinstance(value, list) else st.query_params.get(key)
        if current_value != value:
            if value == []:
                st.query_params.pop(key, None)
            else:
                st.query_params[key] = value


def period(f: Filters) -> str:
    """The time step of the trend: days for up to two months, weeks up to about a year, else months."""
    if f.days <= 62:
        return "day"
    return "week" if f.days <= 400 else "month"


def channel_label(code: str) -> str:
    return strings(current()).get("channels", {}).get(code, code)


def status_label(code: str) -> str:
    return strings(current()).get("complaint_statuses", {}).get(code, code)


def category_label(name: str) -> str:
    """A topic as exports write it (교통), in English where known."""
    if current() == "ko":
        return name
    english = strings("en").get("complaint_categories", {}).get(name)
    return f"{english} ({name})" if english else name


def labelled(values: pd.Series, label) -> pd.Series:
    """`label` applied once per distinct value (the language is looked up once, not per row); in
    plain Python, as these are tens of rows and pandas' own steps cost more than the work."""
    raw = values.tolist()
    names = {v: label(v) for v in set(raw) if isinstance(v, str)}
    return pd.Series([names.get(v) for v in raw], index=values.index, dtype=object)


def table(columns: dict) -> pa.Table:
    """A panel's table for st.dataframe, as Arrow: Streamlit sends Arrow in any case, and making a
    pandas frame first and converting it took 1.2 ms of the latest records' 1.3 (0.3 this way)."""
    return pa.table(
        {k: pa.Array.from_pandas(v) if isinstance(v, pd.Series) else pa.array(v) for k, v in columns.items()}
    )


def district_name(frame: pd.DataFrame) -> pd.Series:
    return frame["name_en" if current() == "en" else "name_ko"]


def _blues(values: np.ndarray) -> np.ndarray:
    """r, g, b rows for counts: the largest deep blue, small ones pale; NaN stays NaN (no data)."""
    top = np.nanmax(values) if np.isfinite(values).any() else np.nan
    x = np.clip(values / top if top > 0 else values * 0, 0, 1)[:, None]
    rgb = np.where(
        x < 0.5, _BLUES[0] + (_BLUES[1] - _BLUES[0]) * x * 2, _BLUES[1] + (_BLUES[2] - _BLUES[1]) * (x - 0.5) * 2
    )
    return np.round(rgb)


def district_view(rows: pd.DataFrame) -> pd.DataFrame:
    """The map's rows (complaints_by_district): each district's name in the UI language, its count
    as text, and r, g, b shading the chosen districts with complaints (NaN: not chosen, or none).
    Built from arrays: pandas' assign, where and join took 1.5 ms for these 25 rows."""
    counts = rows["complaints"].to_numpy(dtype=float)
    shaded = np.where(rows["selected"].to_numpy(dtype=bool) & (counts > 0), counts, np.nan)
    rgb = _blues(shaded)
    columns = {c: rows[c].to_numpy() for c in rows.columns}
    columns["name"] = maps.short_names(rows).to_numpy()
    columns["value_label"] = [f"{int(v):,}" for v in rows["complaints"].tolist()]
    columns |= {"r": rgb[:, 0], "g": rgb[:, 1], "b": rgb[:, 2]}
    return pd.DataFrame(columns, index=rows.index)


def _layout(height: int, **more) -> dict:
    return {"height": height, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, **more}


# Figures are plain specs (ui/charts.py): plotly's schema checks them in tests, not per rerun.
def heat_figure(cells: pd.DataFrame) -> FigureSpec:
    """Weekday × hour grid of counts (every cell drawn; hours without complaints are 0)."""
    grid = np.zeros((7, 24), dtype=np.int64)
    grid[cells["weekday"].astype(int).to_numpy() - 1, cells["hour"].astype(int).to_numpy()] = cells["complaints"]
    heat = {
        "type": "heatmap",
        "z": grid,
        "x": [f"{h:02d}" for h in range(24)],
        "y": strings(current())["complaints"]["weekdays"],
        "colorscale": BLUES_SCALE,
        "hovertemplate": f"%{{y}} %{{x}}:00 · %{{z:,}} {t('complaints.unit')}<extra></extra>",
        "colorbar": {"thickness": 10},
    }
    axes = {
        "yaxis": {"autorange": "reversed", "fixedrange": True},
        # Categories: read as numbers, "00"…"23" would be ticked 0, 5, 10…
        "xaxis": {"title": {"text": t("complaints.hour")}, "type": "category", "fixedrange": True},
    }
    return FigureSpec([heat], _layout(300, **axes))


def days_covered(periods: pd.Series, f: Filters) -> pd.Series:
    """Days of each period (day, week or month starting at `periods`) inside the date range: the
    first and last periods are usually partial, and plotted as totals they would look like drops."""
    return pd.Series(_days_covered(pd.to_datetime(periods).to_numpy(dtype="datetime64[D]"), f), index=periods.index)


def _days_covered(start: np.ndarray, f: Filters) -> np.ndarray:
    step = period(f)
    if step == "month":
        end = (start.astype("datetime64[M]") + 1).astype("datetime64[D]")
    else:
        end = start + (1 if step == "day" else 7)
    lo = np.maximum(start, np.datetime64(f.date_from, "D"))
    hi = np.minimum(end, np.datetime64(f.date_to, "D") + 1)
    return np.maximum((hi - lo).astype(int), 1)


def trend_figure(trend: pd.DataFrame, f: Filters, top: int = 6) -> FigureSpec:
    """Complaints per day, one line per topic: the `top` largest in the selection, the rest summed
    as 'other topics'. In numpy: a few hundred rows, where each pandas step costs more than its work."""
    periods = trend["period"].to_numpy(dtype="datetime64[D]")
    counts = trend["complaints"].to_numpy(dtype=float)
    names, topic = np.unique(trend["category"].to_numpy(dtype=object), return_inverse=True)
    totals = np.bincount(topic, weights=counts, minlength=len(names))
    kept = [int(i) for i in np.lexsort((names, -totals))[:top]]  # largest first, ties by name
    days, step = np.unique(periods, return_inverse=True)
    per_day = _days_covered(days, f)
    x = np.datetime_as_string(days, unit="D")
    lines = []
    rest = np.zeros(len(days))
    rest_seen = np.zeros(len(days), dtype=bool)
    other = ~np.isin(topic, kept)
    np.add.at(rest, step[other], counts[other])
    rest_seen[step[other]] = True
    for i in kept:
        rows = topic == i
        y = np.round(counts[rows] / per_day[step[rows]], 1)
        lines.append({"type": "scatter", "mode": "lines", "x": x[step[rows]], "y": y, "name": category_label(names[i])})
    if rest_seen.any():
        y = np.round(rest[rest_seen] / per_day[rest_seen], 1)
        lines.append(
            {"type": "scatter", "mode": "lines", "x": x[rest_seen], "y": y, "name": t("complaints.other_topics")}
        )
    layout = _layout(
        340,
        xaxis={"tickformat": "%Y-%m-%d"},  # plotly month names are English in either UI language
        yaxis={"title": {"text": t("complaints.per_day")}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    return FigureSpec(lines, layout)


def resolution_figure(rows: pd.DataFrame) -> FigureSpec:
    """Median and 90th percentile per topic, in hours, on a log axis (minutes to weeks)."""
    rows = rows.dropna(subset=["median_hours"]).sort_values("median_hours", ascending=False)
    labels = labelled(rows["category"], category_label).to_numpy()
    hover = "%{y}: %{x:,.1f} h<extra></extra>"
    bars = {
        "type": "bar",
        "orientation": "h",
        "x": rows["median_hours"].to_numpy(),
        "y": labels,
        "name": t("complaints.median"),
        "marker": {"color": "#4292c6"},
        "hovertemplate": hover,
    }
    ticks = {
        "type": "scatter",
        "mode": "markers",
        "x": rows["p90_hours"].to_numpy(),
        "y": labels,
        "name": t("complaints.p90"),
        "marker": {"symbol": "line-ns-open", "size": 16, "color": "#08306b", "line": {"width": 3}},
        "hovertemplate": hover,
    }
    layout = _layout(
        max(300, 26 * len(rows)),
        xaxis={"type": "log", "title": {"text": t("complaints.hours")}},
        legend={"orientation": "h", "y": 1.08},
    )
    return FigureSpec([bars, ticks], layout)


def hours_text(hours) -> str:
    """A duration in plain words: minutes, hours or days."""
    if hours is None or pd.isna(hours):
        return "—"
    if hours < 1:
        return t("complaints.minutes", n=round(hours * 60))
    if hours < 48:
        return t("complaints.hours_n", n=f"{hours:.1f}")
    return t("complaints.days_n", n=f"{hours / 24:.1f}")
