"""Prices of daily necessities: by market, by district, over time, traditional vs large marts."""

import pandas as pd
import streamlit as st

from ui import data, frame, maps, prices
from ui.i18n import current, item_label, market_type_label, t


@st.cache_resource(max_entries=16, show_spinner=False)
def market_map(lang: str, version: str, item: str, _markets: pd.DataFrame, _boundaries: pd.DataFrame | None):
    """An item's market map, built once per language, published version and item and shared by
    every session (its JSON is made once too: maps.CompactDeck)."""
    shown = _markets.assign(
        price_label=_markets["price_krw"].map(frame.krw),
        type_label=_markets["market_type"].map(market_type_label),
        district_label=_markets["district_name_en" if lang == "en" else "district_name"],
    )
    return maps.market_map(shown, "{market_name}\n{price_label}\n{type_label} · {district_label}", _boundaries)


st.title(t("prices.title"))
st.caption(t("prices.intro"))

items = frame.query_or_warn("price_items")
if items is None:
    st.stop()
if items.empty:
    st.info(t("prices.no_prices"), icon=":material/info:")
    st.stop()

names = items["item_name"].tolist()
wanted = st.query_params.get("item")
# The item lives in the URL so a link reproduces the view.
default = names.index(wanted) if wanted in names else 0
item = st.selectbox(t("prices.item"), names, index=default, format_func=item_label, key="item")
if item != wanted:
    st.query_params["item"] = item

summary = frame.query_or_warn("price_item_summary", item_name=item)
if summary is not None and not summary.empty:
    s = summary.iloc[0]
    st.caption(
        f"{t('state.as_of', when=frame.when(s['as_of'], with_time=False))} · "
        f"{t('state.source', source='ListNecessariesPricesService')}"
    )
    c1, c2, c3, c4 = st.columns(4)
    delta = None
    if pd.notna(s["median_month_ago"]) and s["median_month_ago"]:
        delta = f"{(s['median_now'] / s['median_month_ago'] - 1) * 100:+.1f}% {t('prices.vs_month')}"
    c1.metric(t("prices.median_now"), frame.krw(s["median_now"]), delta, delta_color="inverse")
    c2.metric(t("prices.lowest"), frame.krw(s["min_now"]))
    c3.metric(t("prices.highest"), frame.krw(s["max_now"]))
    c4.metric(t("prices.vs_year"), frame.krw(s["median_year_ago"]))

markets = frame.query_or_warn("price_latest_by_market", item_name=item)
boundaries = frame.query_or_warn("district_boundaries")
left, right = st.columns([3, 2])
with left:
    st.subheader(t("prices.map_title"))
    if markets is not None and markets.empty:
        st.info(t("state.empty_selection"))
    elif markets is not None:
        deck = market_map(current(), data.version_key(), item, markets, boundaries)
        st.pydeck_chart(deck, height=420)
        st.caption(t("prices.map_caption"))

with right:
    st.subheader(t("prices.district_title"))
    districts = frame.query_or_warn("price_by_district", item_name=item)
    if districts is not None:
        city_median = districts["median_krw"].median()
        view = districts.assign(
            name=maps.short_names(districts),
            ratio=districts["median_krw"] / city_median,
            value_label=districts["median_krw"].map(lambda v: "" if pd.isna(v) else frame.krw(v)),
        )
        if boundaries is not None and len(boundaries) == len(districts):
            deck = maps.district_choropleth(view, boundaries, "{name}\n{value_label}")
            st.pydeck_chart(deck, height=360)
            st.caption(t("prices.district_map_caption"))
        else:
            fig = maps.district_tile_grid(view, t("state.no_data"))
            st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
            st.caption(t("prices.district_grid_caption"))

st.subheader(t("prices.trend_title"))
trend = frame.query_or_warn("price_trend_weekly", item_name=item)
if trend is not None and trend.empty:
    st.info(t("state.empty_selection"))
elif trend is not None:
    fig = prices.trend_figure(trend)
    st.plotly_chart(fig, width="stretch")
    st.caption(t("prices.trend_caption"))

left, right = st.columns(2)
with left:
    st.subheader(t("prices.cheapest_title"))
    if markets is not None and not markets.empty:
        cheapest = markets.nsmallest(10, "price_krw")
        st.dataframe(
            pd.DataFrame(
                {
                    t("prices.col_market"): cheapest["market_name"],
                    t("prices.col_type"): cheapest["market_type"].map(market_type_label),
                    t("prices.col_district"): cheapest["district_name_en" if current() == "en" else "district_name"],
                    t("prices.col_price"): cheapest["price_krw"],
                    t("prices.col_date"): pd.to_datetime(cheapest["surveyed_on"]).dt.strftime("%Y-%m-%d"),
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={t("prices.col_price"): st.column_config.NumberColumn(format="localized")},
        )
with right:
    st.subheader(t("prices.gap_title"))
    gap = frame.query_or_warn("price_type_gap")
    if gap is not None and not gap.dropna(subset=["mart_premium_pct"]).empty:
        gap = gap.dropna(subset=["mart_premium_pct"]).sort_values("mart_premium_pct")
        fig = prices.gap_figure(gap)
        st.plotly_chart(fig, width="stretch")
        st.caption(t("prices.gap_caption"))
    elif gap is not None:
        st.info(t("state.empty_selection"))
