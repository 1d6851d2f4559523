"""Crowds now: every hotspot by congestion level on a map and in a sortable list, the forecast
alerts with calmer places nearby, and for one hotspot the next hours' forecast and who is there."""

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import settings
from ui import alerts, city, city_maps, data, frame
from ui.i18n import current, t

st.title(t("crowds.title"))
st.caption(t("crowds.intro"))

categories = frame.query_or_warn("hotspot_categories")
options = [""] + (categories["category"].tolist() if categories is not None else [])
wanted = st.query_params.get("category", "")
# The category lives in the URL so a link reproduces the view.
category = st.selectbox(
    t("crowds.category"),
    options,
    index=options.index(wanted) if wanted in options else 0,
    format_func=lambda c: t("crowds.all_categories") if c == "" else city.category_label(c),
    key="category",
)
if category != wanted and (category or "category" in st.query_params):
    if category:
        st.query_params["category"] = category
    else:
        del st.query_params["category"]


def alerts_panel(spot_codes: set[str] | None) -> None:
    hours = settings.get().crowd_alert_hours
    st.subheader(t("crowds.alerts_title", hours=hours))
    try:
        raised = alerts.crowd_alerts()
    except data.QueryError as e:
        st.error(t("state.query_error", error=str(e)), icon=":material/error:")
        return
    if spot_codes is not None:
        raised = [a for a in raised if a.subject in spot_codes]
    if not raised:
        st.success(t("crowds.no_alerts", hours=hours), icon=":material/check_circle:")
        return
    shown, rest = raised[:4], raised[4:]
    for alert in shown:
        lines = [f"**{alert.title}**", alert.detail]
        if alert.suggestions:
            lines.append(t("alerts.try_instead") + " " + " · ".join(alert.suggestions))
        else:
            lines.append(t("alerts.no_suggestion"))
        st.warning("  \n".join(lines), icon=alerts.icon(alert))
    if rest:
        with st.expander(t("crowds.more_alerts", n=len(rest))):
            for alert in rest:
                tail = f" — {t('alerts.try_instead')} {' · '.join(alert.suggestions)}" if alert.suggestions else ""
                st.markdown(f"- **{alert.title}** {alert.detail}{tail}")
    st.caption(t("crowds.alerts_caption", hours=hours, km=f"{alerts.SUGGEST_RADIUS_KM:g}"))


def crowd_records(spots: pd.DataFrame) -> list[dict]:
    out = []
    for row in spots.dropna(subset=["lat", "lon"]).to_dict("records"):
        rank = row["congestion_rank"]
        rgb = city.CONGESTION_RGB.get(int(rank), city.UNKNOWN_RGB) if pd.notna(rank) else city.UNKNOWN_RGB
        people = row["population_max"] if pd.notna(row["population_max"]) else 0
        out.append(
            {
                "position": [round(row["lon"], 5), round(row["lat"], 5)],
                "color": [*rgb, 200],
                # Area grows with people: 38,000 people → about 390 m, 4,000 → about 130 m.
                "radius": round(60 + 1.7 * math.sqrt(people)),
                "tip": f"{city.hotspot_name(row)}\n{city.rank_label(rank)} · "
                f"{city.people(row['population_min'], row['population_max'])}",
            }
        )
    return out


def crowd_list(spots: pd.DataFrame) -> None:
    table = pd.DataFrame(
        {
            t("crowds.col_place"): [city.hotspot_name(r) for r in spots.to_dict("records")],
            t("crowds.col_level"): spots["congestion_rank"].map(city.level_cell),
            t("crowds.col_people"): spots["population_max"],
            t("crowds.col_category"): spots["category"].map(city.category_label),
            t("crowds.col_road"): spots["avg_speed_kmh"],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=420,
        column_config={
            t("crowds.col_people"): st.column_config.NumberColumn(help=t("crowds.col_people_help"), format="localized"),
            t("crowds.col_road"): st.column_config.NumberColumn(format="%.1f km/h"),
            t("crowds.col_level"): st.column_config.TextColumn(help=t("crowds.col_level_help")),
        },
    )


def choose_hotspot(spots: pd.DataFrame) -> str:
    codes = spots["area_code"].tolist()
    names = {
        r["area_code"]: f"{city.hotspot_name(r)} · {city.rank_label(r['congestion_rank'])}"
        for r in spots.to_dict("records")
    }
    wanted = st.query_params.get("hotspot")
    # The hotspot lives in the URL so a link opens its forecast.
    index = codes.index(wanted) if wanted in codes else 0
    code = st.selectbox(t("crowds.hotspot"), codes, index=index, format_func=names.get, key="hotspot")
    if code != wanted:
        st.query_params["hotspot"] = code
    return code


def forecast_panel(code: str, spot: dict) -> None:
    st.markdown(f"**{t('crowds.forecast_title')}**")
    fc = frame.query_or_warn("hotspot_forecast_hours", area_code=code)
    if fc is None:
        return
    if fc.empty:
        st.info(t("crowds.no_forecast"))
        return
    x = [t("crowds.now"), *fc["forecast_at"].map(city.hhmm).tolist()]
    ranks = [spot["congestion_rank"], *fc["congestion_rank"].tolist()]
    lows = [spot["population_min"], *fc["population_min"].tolist()]
    highs = [spot["population_max"], *fc["population_max"].tolist()]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=[h if pd.notna(h) else 0 for h in highs],
            marker_color=[city.congestion_hex(r) for r in ranks],
            text=[city.rank_label(r) for r in ranks],
            textposition="outside",
            customdata=[city.people(lo, hi) for lo, hi in zip(lows, highs, strict=True)],
            hovertemplate="%{x}: %{text}, %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        height=300,
        margin={"l": 0, "r": 0, "t": 20, "b": 0},
        yaxis_title=t("crowds.people_axis"),
        xaxis={"type": "category"},
        showlegend=False,
    )
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
    st.caption(t("crowds.forecast_caption", when=frame.when(fc["measured_at"].iloc[0])))


def visitor_panel(code: str) -> None:
    st.markdown(f"**{t('crowds.mix_title')}**")
    mix = frame.query_or_warn("hotspot_visitor_mix", area_code=code)
    if mix is None:
        return
    if mix.empty or mix["pct"].isna().all():
        st.info(t("crowds.no_mix"))
        return
    ages = mix[mix["grp"] == "age"]
    fig = go.Figure(
        go.Bar(
            x=[t(f"crowds.age_{b}") for b in ages["band"]],
            y=ages["pct"],
            marker_color="#4c78a8",
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(height=240, margin={"l": 0, "r": 0, "t": 10, "b": 0}, yaxis_title="%")
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
    shares = mix.set_index("band")["pct"]
    c1, c2 = st.columns(2)
    c1.metric(t("crowds.visitors"), f"{shares.get('visitor', float('nan')):.0f}%")
    c1.caption(t("crowds.residents", pct=f"{shares.get('resident', float('nan')):.0f}"))
    c2.metric(t("crowds.women"), f"{shares.get('female', float('nan')):.0f}%")
    c2.caption(t("crowds.men", pct=f"{shares.get('male', float('nan')):.0f}"))


@st.fragment(run_every=settings.get().live_refresh_s)
def live() -> None:
    spots = frame.query_or_warn("hotspots_now", category=category)
    if spots is not None and spots["congestion_rank"].isna().all():
        st.info(t("crowds.no_data"), icon=":material/info:")
        return
    if spots is not None:
        frame.live_as_of("citydata", spots["crowd_measured_at"].max(), city.SOURCE)
        c1, c2, c3 = st.columns(3)
        c1.metric(t("crowds.busy_now"), int((spots["congestion_rank"] == 4).sum()))
        c2.metric(t("crowds.slightly_busy_now"), int((spots["congestion_rank"] == 3).sum()))
        c3.metric(t("crowds.hotspots"), len(spots))
    alerts_panel(set(spots["area_code"]) if spots is not None and category else None)
    if spots is None:
        return

    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("crowds.map_title"))
        boundaries = frame.query_or_warn("district_boundaries")
        districts = frame.query_or_warn("districts")
        deck = city_maps.crowd_map(crowd_records(spots), city_maps.base_layers(boundaries, districts, current()))
        st.pydeck_chart(deck, height=420, key="crowd_map")
        st.caption(t("crowds.map_legend"))
    with right:
        st.subheader(t("crowds.list_title"))
        crowd_list(spots)

    st.subheader(t("crowds.detail_title"))
    code = choose_hotspot(spots)
    spot = spots[spots["area_code"] == code].iloc[0].to_dict()
    if isinstance(spot.get("congestion_message"), str) and spot["congestion_message"]:
        st.caption(spot["congestion_message"])
    left, right = st.columns(2)
    with left:
        forecast_panel(code, spot)
    with right:
        visitor_panel(code)


live()
