"""Complaints (120 Dasan call centre, 응답소): where, what, when, how fast — under filters kept in the URL."""

from datetime import timedelta

import streamlit as st

from ui import complaints as cv
from ui import data, frame, maps
from ui.i18n import t

st.title(t("complaints.title"))
st.caption(t("complaints.intro"))

options = frame.query_or_warn("complaints_categories")
districts = frame.query_or_warn("districts")
if options is None or districts is None:
    st.stop()
if options.empty:
    st.info(t("complaints.no_data"), icon=":material/info:")
    st.stop()

first_day, last_day = options["first_day"].iloc[0].date(), options["last_day"].iloc[0].date()
codes = districts["sig_cd"].tolist()
names = dict(zip(codes, cv.district_name(districts), strict=True))
categories = options["category"].tolist()
wanted = cv.filters_from_url(first_day, last_day, codes, categories)

with st.container(border=True):
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    picked = c1.date_input(
        t("complaints.dates"),
        value=(wanted.date_from, wanted.date_to),
        min_value=first_day,
        max_value=last_day,
        format="YYYY-MM-DD",
        key="c_dates",
    )
    chosen_districts = c2.multiselect(
        t("complaints.districts"),
        codes,
        default=list(wanted.districts),
        format_func=names.get,
        key="c_gu",
        placeholder=t("complaints.all_districts"),
    )
    chosen_categories = c3.multiselect(
        t("complaints.categories"),
        categories,
        default=list(wanted.categories),
        format_func=cv.category_label,
        key="c_cat",
        placeholder=t("complaints.all_categories"),
    )
    chosen_channels = c4.multiselect(
        t("complaints.channels"),
        list(cv.CHANNELS),
        default=list(wanted.channels),
        format_func=cv.channel_label,
        key="c_ch",
        placeholder=t("complaints.all_channels"),
    )
# While a range is being picked the widget holds one date: keep the link's range until both are set.
date_from, date_to = picked if isinstance(picked, tuple) and len(picked) == 2 else (wanted.date_from, wanted.date_to)
filters = cv.Filters(date_from, date_to, tuple(chosen_districts), tuple(chosen_categories), tuple(chosen_channels))
cv.write_url(filters)
params = filters.params()
without_districts = {k: v for k, v in params.items() if k != "districts"}
trend_params = {"period": cv.period(filters), **params}
# The newest complaints are almost always in the range's last days: look there first (a scan of a
# few days instead of the whole range), and over the whole range only when those days hold too few.
recent_from = max(filters.date_from, filters.date_to - timedelta(days=cv.LATEST_LOOKBACK_DAYS - 1))
latest_params = {"limit": cv.LATEST_ROWS, **params, "date_from": recent_from}
# Every query of the filters starts now, side by side, the map's first (it is drawn first); the panels
# below pick up their rows. The top categories wait for the district of the link, if any: otherwise
# it is known after the map's query.
top_in_url = st.query_params.get("top")
data.prefetch(
    ("complaints_by_district", params),
    ("complaints_resolution", params),
    ("complaints_heatmap", params),
    ("complaints_latest", latest_params),
    ("complaints_category_trend", trend_params),
    *([("complaints_top_categories", {"district": top_in_url, **without_districts})] if top_in_url in codes else []),
)

summary = frame.query_or_warn("complaints_summary", **params)
as_of = None
if summary is not None:
    s = summary.iloc[0]
    as_of = s["as_of"]
    provenance = f"{t('state.as_of', when=frame.when(as_of))} · {t('state.source', source=cv.SOURCE)}"
    st.caption(provenance)
    k1, k2, k3, k4 = st.columns(4)
    k1.metric(t("complaints.total"), f"{int(s['complaints']):,}")
    k2.metric(t("complaints.per_day"), f"{s['complaints'] / max(1, s['days']):,.0f}")
    resolved_share = s["resolved"] / s["complaints"] if s["complaints"] else None
    k3.metric(t("complaints.resolved_share"), "—" if resolved_share is None else f"{resolved_share:.1%}")
    k4.metric(t("complaints.open"), f"{int(s['open']):,}")
    if s["complaints"] == 0:
        st.info(t("complaints.empty_selection"), icon=":material/filter_alt_off:")
source_line = f"{t('state.as_of', when=frame.when(as_of))} · {t('state.source', source=cv.SOURCE)}"

if not codes:  # the district reference is not loaded: the district views wait for it, the rest renders
    st.info(t("complaints.no_districts"), icon=":material/info:")
else:
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("complaints.map_title"))
        by_district = frame.query_or_warn("complaints_by_district", **params)
        boundaries = frame.query_or_warn("district_boundaries")
        if by_district is not None:
            view = cv.district_view(by_district)
            if boundaries is not None and len(boundaries) == len(view):
                st.pydeck_chart(maps.district_choropleth(view, boundaries, "{name}\n{value_label}"), height=380)
            else:
                st.plotly_chart(
                    maps.district_tile_grid(view, t("state.no_data")), width="stretch", config={"displayModeBar": False}
                )
            st.caption(f"{t('complaints.map_caption')} {source_line}")

    with right:
        st.subheader(t("complaints.top_title"))
        # Without a choice in the link: the first chosen district, else the one with most complaints.
        busiest = by_district["sig_cd"].iloc[0] if by_district is not None else codes[0]
        default_top = top_in_url if top_in_url in codes else (filters.districts[0] if filters.districts else busiest)
        top_district = st.selectbox(
            t("complaints.top_district"), codes, index=codes.index(default_top), format_func=names.get, key="c_top"
        )
        if top_district != top_in_url:
            st.query_params["top"] = top_district
        top = frame.query_or_warn("complaints_top_categories", district=top_district, **without_districts)
        if top is not None and top.empty:
            st.info(t("complaints.empty_selection"))
        elif top is not None:
            st.dataframe(
                cv.table(
                    {
                        t("complaints.col_category"): cv.labelled(top["category"], cv.category_label),
                        t("complaints.col_complaints"): top["complaints"],
                        t("complaints.col_share"): top["share"] * 100,
                        t("complaints.col_city_share"): top["city_share"] * 100,
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    t("complaints.col_complaints"): st.column_config.NumberColumn(format="localized"),
                    t("complaints.col_share"): st.column_config.NumberColumn(format="%.1f%%"),
                    t("complaints.col_city_share"): st.column_config.NumberColumn(format="%.1f%%"),
                },
            )
            st.caption(f"{t('complaints.top_caption')} {source_line}")

st.subheader(t("complaints.trend_title"))
trend = frame.query_or_warn("complaints_category_trend", **trend_params)
if trend is not None and trend.empty:
    st.info(t("complaints.empty_selection"))
elif trend is not None:
    st.plotly_chart(cv.trend_figure(trend, filters), width="stretch")
    step = {
        "day": t("complaints.trend_caption_day"),
        "week": t("complaints.trend_caption_week"),
        "month": t("complaints.trend_caption_month"),
    }[cv.period(filters)]
    st.caption(f"{step} {source_line}")

left, right = st.columns(2)
with left:
    st.subheader(t("complaints.heat_title"))
    heat = frame.query_or_warn("complaints_heatmap", **params)
    if heat is not None and heat.empty:
        st.info(t("complaints.empty_selection"))
    elif heat is not None:
        st.plotly_chart(cv.heat_figure(heat), width="stretch", config={"displayModeBar": False})
        st.caption(f"{t('complaints.heat_caption')} {source_line}")
with right:
    st.subheader(t("complaints.resolution_title"))
    resolution = frame.query_or_warn("complaints_resolution", **params)
    if resolution is not None and not resolution["median_hours"].notna().any():
        st.info(t("complaints.empty_resolution"))
    elif resolution is not None:
        st.plotly_chart(cv.resolution_figure(resolution), width="stretch", config={"displayModeBar": False})
        st.caption(f"{t('complaints.resolution_caption')} {source_line}")

st.subheader(t("complaints.latest_title"))
latest = frame.query_or_warn("complaints_latest", **latest_params)
if latest is not None and len(latest) < cv.LATEST_ROWS and recent_from > filters.date_from:
    latest = frame.query_or_warn("complaints_latest", limit=cv.LATEST_ROWS, **params)
if latest is not None and latest.empty:
    st.info(t("complaints.empty_selection"))
elif latest is not None:
    st.dataframe(
        cv.table(
            {
                t("complaints.col_id"): latest["complaint_id"],
                t("complaints.col_received"): latest["received_at"],
                t("complaints.col_district"): [names.get(c, c) for c in latest["district_code"].tolist()],
                t("complaints.col_category"): cv.labelled(latest["category"], cv.category_label),
                t("complaints.col_subcategory"): latest["subcategory"],
                t("complaints.col_channel"): cv.labelled(latest["channel"], cv.channel_label),
                t("complaints.col_status"): cv.labelled(latest["status"], cv.status_label),
                t("complaints.col_resolved"): latest["resolved_at"],
            }
        ),
        hide_index=True,
        width="stretch",
        placeholder="—",  # an open complaint has no resolved time: a dash, not the word "None"
        column_config={
            t("complaints.col_received"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            t("complaints.col_resolved"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    st.caption(f"{t('complaints.latest_caption', n=cv.LATEST_ROWS)} {source_line}")
