"""서울 한눈에 / Seoul at a glance: the city's state in tiles, the alerts in force, and the map layer
that matters now. The live part refreshes as a fragment, without rerunning the page."""

import pandas as pd
import streamlit as st

import settings
from ui import alerts, data, frame, maps, navigation, status
from ui.i18n import crowd_label, current, grade_label, t

cfg = settings.get()

ALERTS_IN_FULL = 3  # the rest fold away: the tiles must stay near the top on a phone
GRADE_COLOURS = {1: "blue", 2: "green", 3: "orange", 4: "red"}


def speed_badge(speed: float) -> tuple[str, str]:
    # Seoul's road-index cut-offs for city streets: 25 km/h and over flows, under 15 is jammed.
    if speed >= 25:
        return t("overview.speed_free"), "green"
    if speed >= 15:
        return t("overview.speed_slow"), "orange"
    return t("overview.speed_jammed"), "red"


def state_caption(state: status.FeedState | None, failed_since: pd.Timestamp | None, feed: str) -> None:
    """The line under each tile: what the number is worth right now."""
    if failed_since is not None:
        st.caption(f":orange[:material/sync_problem:] {t('overview.screen_kept', since=status.hhmm(failed_since))}")
    if state is None or state.state == "no_data":
        command = "import complaints FILE" if feed == "complaints" else f"refresh {feed}"  # a file feed
        st.caption(f":gray[:material/radio_button_unchecked:] {t('overview.no_data', command=command)}")
    elif state.state == "error":
        st.caption(f":red[:material/error:] {t('overview.error_since', since=status.hhmm(state.since))}")
    elif state.state == "stale":
        st.caption(f":orange[:material/schedule:] {t('overview.stale_since', since=status.hhmm(state.since))}")
    else:
        st.caption(f":green[:material/check_circle:] {t('state.as_of', when=frame.when(state.as_of))}")


def link(url_path: str) -> None:
    navigation.page_link(url_path, t("overview.open"), ":material/arrow_forward:")


def tile_road_speed(state) -> None:
    rows, failed = status.rows_or_last_good("overview_road_speed")
    row = None if rows is None or rows.empty else rows.iloc[0]
    with st.container(border=True):
        if row is None or pd.isna(row["avg_speed_kmh"]):
            st.metric(t("overview.road_speed"), "—")
        else:
            usual = row["usual_speed_kmh"]
            delta = None if pd.isna(usual) else t("overview.vs_usual", delta=f"{row['avg_speed_kmh'] - usual:+.1f}")
            st.metric(t("overview.road_speed"), f"{row['avg_speed_kmh']:.1f} km/h", delta)
            label, colour = speed_badge(row["avg_speed_kmh"])
            st.badge(label, color=colour)
            detail = t("overview.road_detail", jammed=int(row["jammed"]), slow=int(row["slow"]), n=int(row["hotspots"]))
            if pd.notna(row["speed_index"]):
                detail = t("overview.road_index", index=int(row["speed_index"])) + " · " + detail
            st.caption(detail)
        state_caption(state, failed, "citydata")
        link("traffic-now")


def tile_crowds(state) -> None:
    rows, failed = status.rows_or_last_good("overview_crowds", hours=cfg.crowd_alert_hours)
    row = None if rows is None or rows.empty else rows.iloc[0]
    with st.container(border=True):
        if row is None or not row["hotspots"]:
            st.metric(t("overview.crowds"), "—")
        else:
            st.metric(t("overview.crowds"), t("overview.busy_now", n=int(row["busy_now"])))
            forecast = int(row["forecast_busy"] or 0)
            colour = "red" if forecast or row["busy_now"] else ("orange" if row["somewhat_busy_now"] else "green")
            st.badge(t("overview.forecast_busy", n=forecast, hours=cfg.crowd_alert_hours), color=colour)
            if row["most_crowded"]:
                st.caption(t("overview.most_crowded", names=frame.md_text(row["most_crowded"])))
        state_caption(state, failed, "citydata")
        link("crowds-now")


def tile_air(state) -> None:
    rows, failed = status.rows_or_last_good("overview_air")
    row = None if rows is None or rows.empty else rows.iloc[0]
    with st.container(border=True):
        if row is None or pd.isna(row["worst_rank"]):
            st.metric(t("overview.air"), "—")
        else:
            st.metric(t("overview.air"), grade_label(row["worst_grade"]))
            st.badge(
                t("overview.air_where", districts=frame.md_text(row["worst_districts"] or "")),
                color=GRADE_COLOURS.get(int(row["worst_rank"]), "gray"),
            )
            st.caption(t("overview.air_detail", pm10=f"{row['pm10_mean']:.0f}", pm25=f"{row['pm25_mean']:.0f}"))
        state_caption(state, failed, "air")
        link("air-and-bikes")


def tile_prices(state) -> None:
    rows, failed = status.rows_or_last_good("overview_price_basket")
    row = None if rows is None or rows.empty else rows.iloc[0]
    with st.container(border=True):
        if row is None or pd.isna(row["basket_index"]):
            st.metric(t("overview.basket"), "—")
        else:
            index = row["basket_index"]
            st.metric(
                t("overview.basket"),
                f"{index:.1f}",
                t("overview.vs_month", delta=f"{index - 100:+.1f}"),
                delta_color="inverse",  # dearer is worse for households
            )
            colour = "red" if index >= 105 else "orange" if index >= 102 else "blue" if index <= 98 else "green"
            st.badge(t("overview.basket_items", n=int(row["items"])), color=colour)
            if row["item_up_most"] and row["item_up_most_pct"] > 0:
                st.caption(
                    t("overview.up_most", item=frame.md_text(row["item_up_most"]), pct=f"{row['item_up_most_pct']:.0f}")
                )
        state_caption(state, failed, "prices")
        link("market-prices")


def tile_proposals(state) -> None:
    rows, failed = status.rows_or_last_good("proposals_summary", deadline_days=cfg.answer_deadline_days)
    row = None if rows is None or rows.empty else rows.iloc[0]
    with st.container(border=True):
        if row is None or not row["proposals"]:
            st.metric(t("overview.proposals"), "—")
        else:
            waiting, overdue = int(row["waiting"]), int(row["overdue"])
            st.metric(t("overview.proposals"), t("overview.waiting", n=waiting))
            colour = "red" if overdue else "orange" if waiting else "green"
            st.badge(t("overview.overdue", n=overdue, days=cfg.answer_deadline_days), color=colour)
        state_caption(state, failed, "proposals")
        link("citizen-proposals")


def tile_complaints(state) -> None:
    rows, failed = status.rows_or_last_good("complaints_today_vs_usual")
    row = None if rows is None or rows.empty else rows.iloc[0]
    with st.container(border=True):
        if row is None or pd.isna(row["complaints"]):
            st.metric(t("overview.complaints"), "—")
        else:
            usual = row["usual"]
            change = None if pd.isna(usual) or not usual else row["complaints"] / usual - 1
            delta = None if change is None else t("overview.vs_usual_weekday", pct=f"{change * 100:+.0f}")
            st.metric(t("overview.complaints"), f"{int(row['complaints']):,}", delta, delta_color="inverse")
            # A day a third above its usual weekday is worth a look; a tenth is a busy day.
            colour = "gray" if change is None else "red" if change >= 0.3 else "orange" if change >= 0.1 else "green"
            st.badge(t("overview.complaints_day", day=frame.when(row["day"], with_time=False)), color=colour)
            if change is not None:
                st.caption(t("overview.complaints_usual", usual=f"{usual:,.0f}"))
        state_caption(state, failed, "complaints")
        link("complaints-120")


@st.cache_resource(max_entries=4, show_spinner=False)
def crowd_map(lang: str, version: str, hours: int, _spots: pd.DataFrame, _boundaries: pd.DataFrame | None):
    """The map, built once per language and published version and shared by every session and
    every refresh (its JSON is made once too: maps.CompactDeck)."""
    name = _spots["area_name_en"].fillna(_spots["area_name"]) if lang == "en" else _spots["area_name"]
    shown = _spots.assign(
        name=name,
        level_label=_spots["congestion_level"].map(crowd_label),
        alert_label=_spots["alert"].map(lambda a: t("overview.map_alert", hours=hours) if a else ""),
    )
    return maps.hotspot_map(shown, "{name}\n{level_label}\n{alert_label}", _boundaries)


def city_map() -> None:
    """The layer that matters now: crowds, with the hotspots under a forecast alert ringed."""
    spots, _failed = status.rows_or_last_good("overview_hotspot_map", hours=cfg.crowd_alert_hours)
    if spots is None or spots.empty:
        st.info(t("overview.map_empty"))
        return
    boundaries = frame.query_or_warn("district_boundaries")
    deck = crowd_map(current(), data.version_key(), cfg.crowd_alert_hours, spots, boundaries)
    st.pydeck_chart(deck, height=440)
    st.caption(t("overview.map_caption", when=frame.when(spots["measured_at"].max())))


st.title(t("overview.title"))
st.caption(t("overview.intro"))


@st.fragment(run_every=cfg.live_refresh_s)
def live() -> None:
    states = status.feed_states()
    raised, errors = alerts.active_alerts()
    alerts.render_alert_banner(raised)
    top = st.columns(3)
    bottom = st.columns(3)
    with top[0]:
        tile_road_speed(states.get("citydata"))
    with top[1]:
        tile_crowds(states.get("citydata"))
    with top[2]:
        tile_air(states.get("air"))
    with bottom[0]:
        tile_prices(states.get("prices"))
    with bottom[1]:
        tile_proposals(states.get("proposals"))
    with bottom[2]:
        tile_complaints(states.get("complaints"))
    st.subheader(t("overview.map_title"))
    city_map()
    st.subheader(t("overview.alerts_title"))
    if not raised and not errors:
        st.success(t("overview.no_alerts"), icon=":material/check_circle:")
    alerts.render_alert_list(raised[:ALERTS_IN_FULL], errors)
    if len(raised) > ALERTS_IN_FULL:
        with st.expander(t("overview.more_alerts", n=len(raised) - ALERTS_IN_FULL)):
            alerts.render_alert_list(raised[ALERTS_IN_FULL:])


live()
