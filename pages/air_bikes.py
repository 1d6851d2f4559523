"""Air and bikes: fine dust by district and public-bike availability by station and district.

Both panels are fragments that rerun on their own (`run_every`, from the feed's cadence): a new
refresh shows without a full rerun, with its measurement time and a warning once it is stale.
"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import airbikes, frame, maps
from ui.i18n import t

ALL = "all"

st.title(t("airbikes.title"))
st.caption(t("airbikes.intro"))


def ugm3(value) -> str:
    return "—" if pd.isna(value) else t("airbikes.ugm3", value=f"{value:.0f}")


def cadence(feed: str):
    state = frame.live_state(feed)
    return None if state is None else state.cadence_s


def air_map(rows: pd.DataFrame) -> None:
    view = pd.concat([rows, airbikes.grade_rgb(rows["grade"])], axis=1).assign(
        name=maps.short_names(rows),
        value_label=[
            "" if pd.isna(pm25) else f"{airbikes.grade_label(g)} {pm25:.0f}"
            for g, pm25 in zip(rows["grade"], rows["pm25"], strict=True)
        ],
    )
    boundaries = frame.query_or_warn("district_boundaries")
    if view["tile_row"].isna().any():  # the district reference is missing: the ranking still reads
        return
    if boundaries is not None and len(boundaries) == len(view):
        deck = maps.district_choropleth(view, boundaries, "{name}\n{value_label}")
        st.pydeck_chart(deck, height=360)
        st.caption(t("airbikes.map_caption"))
    else:
        st.plotly_chart(maps.district_tile_grid(view, t("airbikes.no_reading")), config={"displayModeBar": False})
        st.caption(t("airbikes.grid_caption"))


def air_ranking(rows: pd.DataFrame) -> None:
    st.markdown(f"**{t('airbikes.ranking_title')}**")
    measured = rows.dropna(subset=["pm25"]).sort_values("pm25")
    if measured.empty:
        st.info(t("state.empty_selection"))
        return
    fig = go.Figure(
        go.Bar(
            x=measured["pm25"],
            y=maps.short_names(measured),
            orientation="h",
            marker_color=[airbikes.grade_hex(g) for g in measured["grade"]],
            customdata=list(zip(measured["pm10"], measured["grade"].map(airbikes.grade_label), strict=True)),
            hovertemplate=f"%{{y}}: %{{x:.0f}} µg/m³ · {t('airbikes.ranking_hover')} %{{customdata[0]:.0f}}"
            " · %{customdata[1]}<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(300, 20 * len(measured)),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis_title=t("airbikes.ranking_axis"),
    )
    st.plotly_chart(fig, config={"displayModeBar": False})


def grade_legend() -> None:
    with st.expander(t("airbikes.legend_title"), expanded=True):
        for grade, (name, advice) in airbikes.GRADE_TEXT.items():
            st.markdown(f":{airbikes.GRADE_BADGE[grade]}-badge[{t(name)}] {t(advice)}")
        st.caption(t("airbikes.legend_note"))


@st.fragment(run_every=frame.poll_interval_s(cadence("air")))
def air_panel() -> None:
    st.subheader(t("airbikes.air_title"))
    rows = frame.query_or_warn("air_by_district")
    if rows is None:
        return
    if rows["measured_at"].isna().all():
        st.info(t("airbikes.no_air"), icon=":material/info:")
        return
    frame.live_caption(frame.live_state("air"), "RealtimeCityAir", "air")
    c1, c2, c3 = st.columns(3)
    c1.metric(t("airbikes.pm25_avg"), ugm3(rows["pm25"].mean()))
    c2.metric(t("airbikes.pm10_avg"), ugm3(rows["pm10"].mean()))
    c3.metric(t("airbikes.bad_districts"), t("airbikes.n_districts", n=int((rows["grade_rank"] >= 3).sum())))
    left, right = st.columns([3, 2])
    with left:
        air_map(rows)
    with right:
        air_ranking(rows)
    missing = rows[rows["pm25"].isna()]
    if not missing.empty:
        st.caption(t("airbikes.no_reading_list", names=", ".join(maps.short_names(missing))))
    grade_legend()


def district_choice(by_district: pd.DataFrame) -> str:
    with_stations = by_district[by_district["stations"] > 0]
    names = dict(zip(with_stations["sig_cd"], maps.short_names(with_stations), strict=True))
    options = [ALL, *names]
    wanted = st.query_params.get("gu")
    # The district lives in the URL so a link reproduces the view.
    choice = st.selectbox(
        t("airbikes.district"),
        options,
        index=options.index(wanted) if wanted in options else 0,
        format_func=lambda c: t("airbikes.all_districts") if c == ALL else names[c],
        key="bike_district",
    )
    if choice == ALL:
        st.query_params.pop("gu", None)
    elif choice != wanted:
        st.query_params["gu"] = choice
    return choice


def bike_table(by_district: pd.DataFrame) -> None:
    st.markdown(f"**{t('airbikes.district_table')}**")
    shown = by_district[by_district["stations"] > 0]
    st.dataframe(
        pd.DataFrame(
            {
                t("airbikes.col_district"): maps.short_names(shown),
                t("airbikes.col_stations"): shown["stations"],
                t("airbikes.col_racks"): shown["racks"],
                t("airbikes.col_bikes"): shown["bikes"],
                t("airbikes.col_empty"): shown["empty_share"] * 100,
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            t("airbikes.col_empty"): st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100),
        },
    )


@st.fragment(run_every=frame.poll_interval_s(cadence("bikes")))
def bike_panel() -> None:
    st.subheader(t("airbikes.bike_title"))
    summary = frame.query_or_warn("bike_summary")
    if summary is None:
        return
    s = summary.iloc[0]
    if s["stations"] == 0:
        st.info(t("airbikes.no_bikes"), icon=":material/info:")
        return
    frame.live_caption(frame.live_state("bikes"), "bikeList", "bikes")
    c1, c2, c3 = st.columns(3)
    c1.metric(t("airbikes.stations"), t("airbikes.n_stations", n=f"{int(s['stations']):,}"))
    c2.metric(t("airbikes.bikes_now"), t("airbikes.n_bikes", n=f"{int(s['bikes']):,}"))
    c3.metric(t("airbikes.empty_share"), f"{s['empty_stations'] / s['stations']:.0%}")
    by_district = frame.query_or_warn("bike_by_district")
    left, right = st.columns([3, 2])
    with left:
        choice = district_choice(by_district) if by_district is not None else ALL
        if choice == ALL:
            points = frame.query_or_warn("bike_grid")
        else:
            points = frame.query_or_warn("bike_stations_in_district", district_code=choice)
        if points is not None and points.empty:
            st.info(t("state.empty_selection"))
        elif points is not None:
            st.pydeck_chart(airbikes.bike_deck(points, per_station=choice != ALL), height=420)
            st.caption(t("airbikes.grid_map_caption" if choice == ALL else "airbikes.station_map_caption"))
    with right:
        if by_district is not None:
            bike_table(by_district)


air_panel()
bike_panel()
