"""Citizen proposals: the threshold funnel, votes by field, the accountability clock, trend, and
the proposals closest to a threshold. Proposal titles are citizen text: shown in tables only."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import settings
from ui import frame
from ui.i18n import t

st.title(t("proposals.title"))
st.caption(t("proposals.intro"))
deadline = settings.get().answer_deadline_days

categories = frame.query_or_warn("proposals_by_category")
if categories is None:
    st.stop()
if categories.empty:
    st.info(t("proposals.no_proposals"), icon=":material/info:")
    st.stop()

options = ["", *categories["category"].tolist()]
wanted = st.query_params.get("category", "")
category = st.selectbox(
    t("proposals.category"),
    options,
    index=options.index(wanted) if wanted in options else 0,
    format_func=lambda c: c or t("proposals.all_categories"),
    key="proposal_category",
)
if category:
    st.query_params["category"] = category
else:
    st.query_params.pop("category", None)

summary = frame.query_or_warn("proposals_summary", deadline_days=deadline)
if summary is not None and not summary.empty:
    s = summary.iloc[0]
    st.caption(
        f"{t('state.as_of', when=frame.when(s['as_of']))} · {t('state.source', source='ChunmanFreeSuggestions')}"
    )
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("proposals.total"), f"{int(s['proposals']):,}")
    c2.metric(t("proposals.reached"), f"{int(s['reached_answer']):,}")
    share = s["answered_after_reaching"] / s["reached_answer"] if s["reached_answer"] else None
    c3.metric(t("proposals.answered_share"), "—" if share is None else f"{share:.0%}")
    c4.metric(
        t("proposals.waiting"),
        f"{int(s['waiting']):,}",
        t("proposals.overdue", n=int(s["overdue"])) if s["overdue"] else None,
        delta_color="inverse" if s["overdue"] else "off",
    )

funnel = frame.query_or_warn("proposals_funnel", category=category)
left, right = st.columns([2, 3])
with left:
    st.subheader(t("proposals.funnel_title"))
    if funnel is not None and not funnel.empty:
        totals = funnel[["submitted", "reached_answer", "reached_forum", "reached_mayor"]].sum()
        stages = [t(f"proposals.stage_{k}") for k in ("submitted", "answer", "forum", "mayor")]
        fig = go.Figure(go.Funnel(y=stages, x=totals.tolist(), textinfo="value+percent initial"))
        fig.update_layout(height=320, margin={"l": 0, "r": 0, "t": 10, "b": 0})
        st.plotly_chart(fig, width="stretch")
        st.caption(t("proposals.funnel_caption"))
    elif funnel is not None:
        st.info(t("state.empty_selection"))
with right:
    st.subheader(t("proposals.by_year"))
    if funnel is not None and not funnel.empty:
        st.dataframe(
            pd.DataFrame(
                {
                    t("proposals.col_year"): pd.to_datetime(funnel["period"]).dt.year.astype(str),
                    t("proposals.col_submitted"): funnel["submitted"],
                    t("proposals.col_reached_answer"): funnel["reached_answer"],
                    t("proposals.col_reached_forum"): funnel["reached_forum"],
                    t("proposals.col_reached_mayor"): funnel["reached_mayor"],
                    t("proposals.col_answered"): funnel["answered"],
                }
            ),
            hide_index=True,
            width="stretch",
        )

st.subheader(t("proposals.clock_title"))
waiting = frame.query_or_warn("proposals_waiting", deadline_days=deadline, category=category)
if waiting is not None and waiting.empty:
    st.success(t("proposals.clock_empty"))
elif waiting is not None:
    st.dataframe(
        pd.DataFrame(
            {
                t("proposals.col_title"): waiting["title"],
                t("proposals.col_category"): waiting["category"],
                t("proposals.col_agree"): waiting["agree_count"],
                t("proposals.col_crossed"): pd.to_datetime(waiting["crossed_at"]).dt.strftime("%Y-%m-%d"),
                t("proposals.col_estimated"): waiting["crossed_at_estimated"],
                t("proposals.col_days"): waiting["days_waiting"],
                t("proposals.col_overdue"): waiting["overdue"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(t("proposals.clock_caption", days=deadline))

left, right = st.columns(2)
with left:
    st.subheader(t("proposals.votes_title"))
    fig = go.Figure(
        [
            go.Bar(name=t("proposals.agree"), y=categories["category"], x=categories["agree_votes"], orientation="h"),
            go.Bar(
                name=t("proposals.disagree"), y=categories["category"], x=categories["disagree_votes"], orientation="h"
            ),
        ]
    )
    fig.update_layout(
        barmode="group", height=360, margin={"l": 0, "r": 0, "t": 10, "b": 0}, legend={"orientation": "h", "y": 1.1}
    )
    st.plotly_chart(fig, width="stretch")
with right:
    st.subheader(t("proposals.trend_title"))
    monthly = frame.query_or_warn("proposals_monthly")
    if monthly is not None and not monthly.empty:
        fig = go.Figure(
            [
                go.Scatter(x=monthly["month"], y=monthly["submitted"], name=t("proposals.submitted"), mode="lines"),
                go.Scatter(x=monthly["month"], y=monthly["answered"], name=t("proposals.answered"), mode="lines"),
            ]
        )
        fig.update_layout(
            height=360,
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            legend={"orientation": "h", "y": 1.1},
            xaxis_tickformat="%Y-%m",  # plotly month names are English in either UI language
        )
        st.plotly_chart(fig, width="stretch")

st.subheader(t("proposals.near_title"))
near = frame.query_or_warn("proposals_near_threshold", limit=10)
if near is not None and near.empty:
    st.info(t("proposals.near_empty"))
elif near is not None:
    st.dataframe(
        pd.DataFrame(
            {
                t("proposals.col_title"): near["title"],
                t("proposals.col_category"): near["category"],
                t("proposals.col_registered"): pd.to_datetime(near["registered_at"]).dt.strftime("%Y-%m-%d"),
                t("proposals.col_agree"): near["agree_count"],
                t("proposals.col_next"): near["next_stage"].map(lambda s: t(f"proposals.next_{s}")),
                t("proposals.col_needed"): near["votes_needed"],
            }
        ),
        hide_index=True,
        width="stretch",
    )

with st.expander(t("proposals.rules_title")):
    rules = frame.query_or_warn("threshold_rules")
    if rules is not None:
        st.dataframe(
            rules.rename(
                columns={
                    "since": t("proposals.col_since"),
                    "until": t("proposals.col_until"),
                    "answer_agrees": t("proposals.col_answer_agrees"),
                    "forum_agrees": t("proposals.col_forum_agrees"),
                    "mayor_participants": t("proposals.col_mayor"),
                }
            ),
            hide_index=True,
            width="stretch",
        )
