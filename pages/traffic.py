"""Traffic now: road links coloured by speed on a map with hotspots, accidents and closures; the
city's average speed today against the usual curve for this weekday; the slowest roads."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import settings
from ui import alerts, city, city_maps, data, frame
from ui.i18n import current, t

st.title(t("traffic.title"))
st.caption(t("traffic.intro"))


def link_tip(row: dict) -> str:
    section = f"{row['start_node']} → {row['end_node']}" if row.get("start_node") else ""
    return f"{row['road_name']} {section}\n{city.road_label(row['level'])} · {city.speed(row['speed_kmh'])}"


def hotspot_records(spots: pd.DataFrame) -> list[dict]:
    out = []
    for row in spots.dropna(subset=["lat", "lon"]).to_dict("records"):
        rgb = city.ROAD_RGB.get(row["traffic_index"], city.UNKNOWN_RGB)
        out.append(
            {
                "position": [round(row["lon"], 5), round(row["lat"], 5)],
                "color": [*rgb, 120],
                "tip": f"{city.hotspot_name(row)}\n{t('traffic.around')}: "
                f"{city.road_label(row['traffic_index'])} · {city.speed(row['avg_speed_kmh'])}",
            }
        )
    return out


def event_records(events: pd.DataFrame) -> list[dict]:
    out = []
    for row in events.dropna(subset=["lat", "lon"]).to_dict("records"):
        accident = isinstance(row["kind"], str) and "사고" in row["kind"]
        out.append(
            {
                "position": [round(row["lon"], 5), round(row["lat"], 5)],
                "color": [120, 40, 160, 235] if accident else [60, 60, 60, 235],
                "tip": f"{row['kind']} · {row['detail']}\n{row['info']}\n"
                f"{t('traffic.expected_clear')}: {city.clearance(row['expected_clear_at'], row['minutes_to_clear'])}",
            }
        )
    return out


def kpis(s: pd.Series) -> None:
    c1, c2, c3, c4 = st.columns(4)
    delta = None
    if pd.notna(s["city_speed_kmh"]) and pd.notna(s["usual_speed_kmh"]):
        delta = t("traffic.vs_usual", delta=f"{s['city_speed_kmh'] - s['usual_speed_kmh']:+.1f}")
    c1.metric(t("traffic.city_speed"), city.speed(s["city_speed_kmh"]), delta, help=t("traffic.city_speed_help"))
    c2.metric(
        t("traffic.speed_index"),
        "—" if pd.isna(s["speed_index"]) else f"{int(s['speed_index'])}",
        help=t("traffic.speed_index_help"),
    )
    c3.metric(
        t("traffic.jammed_share"),
        "—" if pd.isna(s["links_jammed_pct"]) else f"{s['links_jammed_pct']:.1f}%",
        help=t("traffic.jammed_share_help", jammed=int(s["links_jammed"]), links=int(s["links"])),
    )
    c4.metric(
        t("traffic.events"),
        f"{int(s['events'])}",
        help=t("traffic.events_help", accidents=int(s["accidents"])),
    )


@st.cache_resource(max_entries=4, show_spinner=False)
def road_map(lang: str, version: str, _links, _spots, _events, _boundaries, _districts) -> city_maps.RoadMap:
    """The road map, built once per language and published version and shared by every session
    (the frames come from cached queries of that version; the deck is never changed once built)."""
    return city_maps.road_map(
        _links,
        link_tip,
        hotspot_records(_spots) if _spots is not None else [],
        event_records(_events) if _events is not None else [],
        city_maps.base_layers(_boundaries, _districts, lang),
    )


def road_map_panel() -> None:
    st.subheader(t("traffic.map_title"))
    links = frame.query_or_warn(
        "traffic_map_links", max_links=city_maps.MAP_MAX_LINKS, max_points=city_maps.MAP_MAX_POINTS
    )
    if links is None:
        return
    spots = frame.query_or_warn("hotspots_now", category="")
    events = frame.query_or_warn("road_events_now")
    boundaries = frame.query_or_warn("district_boundaries")
    districts = frame.query_or_warn("districts")
    if links.empty and (spots is None or spots.empty):
        st.info(t("traffic.no_links"))
        return
    built = road_map(current(), data.version_key(), links, spots, events, boundaries, districts)
    st.pydeck_chart(built.deck, height=460, key="traffic_map")
    st.caption(t("traffic.map_legend"))
    if built.links_shown < built.links_drawable:
        st.caption(t("traffic.map_trimmed", shown=built.links_shown, total=built.links_drawable))
    else:
        st.caption(t("traffic.map_count", shown=built.links_shown))


def events_panel() -> None:
    st.subheader(t("traffic.events_title"))
    events = frame.query_or_warn("road_events_now")
    if events is None:
        return
    if events.empty:
        st.success(t("traffic.no_events"), icon=":material/check_circle:")
        return
    table = pd.DataFrame(
        {
            t("traffic.col_kind"): events["kind"].fillna("") + " · " + events["detail"].fillna(""),
            t("traffic.col_info"): events["info"],
            t("traffic.col_since"): events["occurred_at"].map(city.hhmm),
            t("traffic.col_clear"): [
                city.clearance(e, m)
                for e, m in zip(events["expected_clear_at"], events["minutes_to_clear"], strict=True)
            ],
            t("traffic.col_near"): [city.hotspot_name(r) for r in events.to_dict("records")],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")


def speed_curve_panel() -> None:
    st.subheader(t("traffic.curve_title"))
    today = frame.query_or_warn("city_speed_today")
    usual = frame.query_or_warn("city_speed_usual")
    if today is None:
        return
    if today.empty:
        st.info(t("traffic.no_speed_log"))
        return
    fig = go.Figure()
    if usual is not None and not usual.empty:
        mid = usual["hour_start"] + pd.Timedelta(minutes=30)  # an hour's figure belongs to its middle
        fig.add_trace(
            go.Scatter(
                x=mid, y=usual["p75_speed_kmh"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
            )
        )
        fig.add_trace(
            go.Scatter(
                x=mid,
                y=usual["p25_speed_kmh"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(120,120,120,0.18)",
                name=t("traffic.usual_band"),
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=mid,
                y=usual["avg_speed_kmh"],
                mode="lines",
                line={"color": "#777", "dash": "dash", "width": 1.5},
                name=t("traffic.usual_line"),
                hovertemplate="%{y:.1f} km/h<extra></extra>",
            )
        )
    before = today[today["series"] == "week_before"]
    if not before.empty:
        fig.add_trace(
            go.Scatter(
                x=before["clock"],
                y=before["avg_speed_kmh"],
                mode="lines",
                line={"color": "#9ecae1", "width": 1},
                name=t("traffic.week_before"),
                hovertemplate="%{y:.1f} km/h<extra></extra>",
            )
        )
    mine = today[today["series"] == "today"]
    fig.add_trace(
        go.Scatter(
            x=mine["clock"],
            y=mine["avg_speed_kmh"],
            mode="lines",
            line={"color": "#1f4e9c", "width": 2.5},
            name=t("traffic.today_line"),
            hovertemplate="%{x|%H:%M} %{y:.1f} km/h<extra></extra>",
        )
    )
    day = pd.Timestamp(mine["clock"].max()).normalize()
    fig.update_layout(
        height=320,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        yaxis_title="km/h",
        xaxis={"tickformat": "%H:%M", "range": [day, day + pd.Timedelta(days=1)]},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
    caption = t("traffic.curve_caption", when=frame.when(mine["measured_at"].max()))
    if usual is None or usual.empty:
        caption += " " + t("traffic.no_usual_curve")
    st.caption(caption)


def slowest_panel() -> None:
    st.subheader(t("traffic.slowest_title"))
    slow = frame.query_or_warn("slowest_roads_now", limit=10)
    if slow is None:
        return
    if slow.empty:
        st.info(t("traffic.no_links"))
        return
    table = pd.DataFrame(
        {
            t("traffic.col_road"): slow["road_name"],
            t("traffic.col_section"): slow["start_node"].fillna("") + " → " + slow["end_node"].fillna(""),
            t("traffic.col_speed"): slow["speed_kmh"],
            t("traffic.col_level"): slow["level"].map(city.road_label),
            t("traffic.col_near"): [city.hotspot_name(r) for r in slow.to_dict("records")],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={t("traffic.col_speed"): st.column_config.NumberColumn(format="%.1f km/h")},
    )


@st.fragment(run_every=settings.get().live_refresh_s)
def live() -> None:
    summary = frame.query_or_warn("traffic_summary")
    if summary is not None:
        s = summary.iloc[0]
        if s["links"] == 0 and s["hotspots"] == 0 and pd.isna(s["city_speed_kmh"]):
            st.info(t("traffic.no_data"), icon=":material/info:")
            return
        alerts.render_alert_banner()
        frame.live_as_of("citydata", s["measured_at"], city.SOURCE)
        kpis(s)
    road_map_panel()
    events_panel()
    speed_curve_panel()
    slowest_panel()


live()
