"""Listening forums (청책토론회): the timeline, participants per forum and per field, and the
cumulative reach. Topics and outcomes come from a file: shown in tables only, never as markdown."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import frame
from ui.i18n import t
from ui.participation import field_label, plain

st.title(t("forums.title"))
st.caption(t("forums.intro"))

summary = frame.query_or_warn("forums_summary")
if summary is None:
    st.stop()
s = summary.iloc[0]
if not s["forums"]:
    st.info(t("forums.no_forums"), icon=":material/info:")
    st.stop()

st.caption(
    f"{t('state.as_of', when=frame.when(s['as_of'], with_time=False))} · {t('state.source', source=s['source'] or '—')}"
)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("forums.forums"), f"{int(s['forums']):,}")
c2.metric(t("forums.participants"), f"{int(s['participants']):,}")
c3.metric(
    t("forums.period"),
    # Years: a date range does not fit a metric tile (the exact dates are in the intro and the list).
    f"{frame.when(s['first_on'], with_time=False)[:4]}–{frame.when(s['last_on'], with_time=False)[:4]}",
)
c4.metric(t("forums.median"), f"{round(float(s['median_participants'])):,}")

forums = frame.query_or_warn("forums_list")

st.subheader(t("forums.timeline_title"))
if forums is not None and not forums.empty:
    fig = go.Figure()
    for field, rows in forums.groupby("field", sort=True):
        fig.add_trace(
            go.Scatter(
                x=rows["held_on"],
                y=rows["participants"],
                mode="markers",
                name=plain(field_label(field)),
                customdata=rows["forum_number"],
                hovertemplate=t("forums.hover") + "<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        height=340,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        yaxis_title=t("forums.col_participants"),
        legend={"orientation": "h", "y": 1.15},
        xaxis_tickformat="%Y-%m",
    )
    st.plotly_chart(fig, width="stretch")
    st.caption(t("forums.timeline_caption"))

left, right = st.columns(2)
with left:
    st.subheader(t("forums.by_field_title"))
    fields = frame.query_or_warn("forums_by_field")
    if fields is not None and not fields.empty:
        ordered = fields.sort_values("participants")
        fig = go.Figure(
            go.Bar(
                x=ordered["participants"],
                y=[plain(field_label(f)) for f in ordered["field"]],
                orientation="h",
                customdata=ordered["forums"],
                hovertemplate=t("forums.hover_field") + "<extra></extra>",
            )
        )
        fig.update_layout(
            height=max(260, 30 * len(ordered)),
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            xaxis_title=t("forums.col_participants"),
        )
        st.plotly_chart(fig, width="stretch")
        st.dataframe(
            pd.DataFrame(
                {
                    t("forums.col_field"): fields["field"].map(field_label),
                    t("forums.col_forums"): fields["forums"],
                    t("forums.col_participants"): fields["participants"],
                    t("forums.col_share"): fields["participant_share"] * 100,
                    t("forums.col_avg"): fields["avg_participants"].round(),
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                t("forums.col_share"): st.column_config.NumberColumn(format="%.1f%%"),
                t("forums.col_avg"): st.column_config.NumberColumn(format="%d"),
            },
        )
    elif fields is not None:
        st.info(t("state.empty_selection"))

with right:
    st.subheader(t("forums.reach_title"))
    if forums is not None and not forums.empty:
        fig = go.Figure(
            go.Scatter(
                x=forums["held_on"],
                y=forums["cumulative_participants"],
                mode="lines",
                line_shape="hv",
                hovertemplate=t("forums.hover_reach") + "<extra></extra>",
            )
        )
        fig.update_layout(
            height=300,
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            yaxis_title=t("forums.col_cumulative"),
            xaxis_tickformat="%Y-%m",
        )
        st.plotly_chart(fig, width="stretch")
        st.caption(t("forums.reach_caption"))
    years = frame.query_or_warn("forums_by_year")
    if years is not None and not years.empty:
        st.dataframe(
            pd.DataFrame(
                {
                    t("forums.col_year"): years["year"].astype(str),
                    t("forums.col_forums"): years["forums"],
                    t("forums.col_participants"): years["participants"],
                    t("forums.col_cumulative"): years["cumulative_participants"],
                }
            ),
            hide_index=True,
            width="stretch",
        )

st.subheader(t("forums.list_title"))
if forums is not None and not forums.empty:
    st.dataframe(
        pd.DataFrame(
            {
                t("forums.col_number"): forums["forum_number"],
                t("forums.col_date"): pd.to_datetime(forums["held_on"]).dt.strftime("%Y-%m-%d"),
                t("forums.col_topic"): forums["topic"],
                t("forums.col_field"): forums["field"].map(field_label),
                t("forums.col_participants"): forums["participants"],
                t("forums.col_outcome"): forums["outcome"].fillna(""),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(t("forums.list_caption"))
