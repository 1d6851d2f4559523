"""The citizen panel (서울시민회의) against the census: gap bars by gender, age band and district,
the district × gender × age band cells, one representativeness index, and the draw's seed and
quotas so anyone can re-run it. Every count under k arrives suppressed from SQL."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import settings
from ui import frame, participation
from ui.i18n import t
from ui.participation import age_label, district_label, gender_label


def yes(value) -> bool:
    return value is not None and not pd.isna(value) and bool(value)


def gap_table(view: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            t("panel.col_group"): labels,
            t("panel.col_census_share"): view["census_share"] * 100,
            t("panel.col_members"): view["members"],
            t("panel.col_panel_share"): view["panel_share"] * 100,
            t("panel.col_gap"): view["gap_pp"],
        }
    )


SHARE_FORMAT = {
    t("panel.col_census_share"): st.column_config.NumberColumn(format="%.2f%%"),
    t("panel.col_panel_share"): st.column_config.NumberColumn(format="%.2f%%"),
    t("panel.col_gap"): st.column_config.NumberColumn(format="%+.2f"),
}


def gap_section(dimension: str, labeller) -> None:
    view = frame.query_or_warn("panel_by_group", dimension=dimension, k=k)
    if view is None:
        return
    labels = labeller(view)
    shown = view[~view["suppressed"]]
    if not shown.empty:
        fig = go.Figure(
            go.Bar(
                x=shown["gap_pp"],
                y=labels[shown.index],
                orientation="h",
                marker_color=["#d73027" if v < 0 else "#4575b4" for v in shown["gap_pp"]],
                hovertemplate="%{y}: %{x:+.2f}%p<extra></extra>",
            )
        )
        fig.update_layout(
            height=max(220, 24 * len(shown)),
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            xaxis_title=t("panel.col_gap"),
            yaxis={"autorange": "reversed"},
        )
        st.plotly_chart(fig, width="stretch")
    st.caption(t("panel.gap_caption"))
    hidden = int(view["suppressed"].sum())
    if hidden:
        st.caption(t("panel.suppressed_note", n=hidden, k=k))
    st.dataframe(gap_table(view, labels), hide_index=True, width="stretch", column_config=SHARE_FORMAT)


st.title(t("panel.title"))
st.caption(t("panel.intro"))
k = max(1, settings.get().panel_min_cell)

summary = frame.query_or_warn("panel_summary", k=k)
if summary is None:
    st.stop()
s = summary.iloc[0]
if yes(s["census_approximate"]):
    st.info(t("panel.census_approximate", year=int(s["census_year"])), icon=":material/science:")
elif pd.notna(s["census_year"]):
    st.caption(t("panel.census_caption", year=int(s["census_year"])))

if not s["members"]:
    st.info(t("panel.no_panel"), icon=":material/info:")
else:
    st.caption(
        f"{t('state.as_of', when=frame.when(s['published_at']))} · {t('state.source', source=s['source'] or '—')}"
    )
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("panel.members"), f"{int(s['members']):,}")
    index = s["representativeness"]
    c2.metric(t("panel.index"), "—" if pd.isna(index) else f"{index:.3f}", help=t("panel.index_help"))
    c3.metric(t("panel.min_cell"), f"{k:,}")
    attended = s["attended_share"]
    c4.metric(t("panel.attended"), "—" if pd.isna(attended) else f"{attended:.0%}")
    if not pd.isna(index):
        st.caption(
            t(
                "panel.index_caption",
                gender=f"{s['representativeness_gender']:.3f}",
                age=f"{s['representativeness_age_band']:.3f}",
                district=f"{s['representativeness_district']:.3f}",
            )
        )

    st.subheader(t("panel.gaps_title"))
    tab_gender, tab_age, tab_district, tab_cells = st.tabs(
        [t("panel.tab_gender"), t("panel.tab_age"), t("panel.tab_district"), t("panel.tab_cells")]
    )
    with tab_gender:
        gap_section("gender", lambda v: v["gender"].map(gender_label))
    with tab_age:
        gap_section("age_band", lambda v: v["age_band"].map(age_label))
    with tab_district:
        gap_section("district", district_label)
    with tab_cells:
        cells = frame.query_or_warn("panel_by_cell", k=k)
        if cells is not None and not cells.empty:
            cells = cells.assign(
                district=district_label(cells),
                column=cells["gender"].map(gender_label) + " " + cells["age_band"].map(age_label),
            )
            grid = cells.pivot(index="district", columns="column", values="gap_pp").reindex(
                index=cells["district"].unique(), columns=cells["column"].unique()
            )
            fig = go.Figure(
                go.Heatmap(
                    z=grid.to_numpy(),
                    x=list(grid.columns),
                    y=list(grid.index),
                    colorscale="RdBu",
                    zmid=0,
                    hoverongaps=False,
                    hovertemplate="%{y} · %{x}: %{z:+.2f}%p<extra></extra>",
                    colorbar={"title": {"text": "%p"}},
                )
            )
            fig.update_layout(height=620, margin={"l": 0, "r": 0, "t": 10, "b": 0}, yaxis={"autorange": "reversed"})
            st.plotly_chart(fig, width="stretch")
            st.caption(t("panel.cells_caption", k=k, n=int(cells["suppressed"].sum()), total=len(cells)))
            table = gap_table(cells, cells["district"] + " · " + cells["column"])
            table[t("panel.col_suppressed")] = cells["suppressed"]
            st.dataframe(table, hide_index=True, width="stretch", column_config=SHARE_FORMAT)
            st.download_button(
                t("panel.download_cells"),
                participation.cells_export(cells),
                "panel_by_cell.csv",
                "text/csv",
                on_click="ignore",
            )

st.subheader(t("panel.draw_title"))
st.caption(t("panel.draw_intro"))
draw = frame.query_or_warn("panel_draw")
if draw is not None and draw.empty:
    st.info(t("panel.no_draw"), icon=":material/info:")
elif draw is not None:
    d = draw.iloc[0]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("panel.seed"), str(int(d["seed"])))
    c2.metric(t("panel.size"), f"{int(d['panel_size']):,}")
    c3.metric(t("panel.pool_rows"), f"{int(d['pool_rows']):,}")
    c4.metric(t("panel.drawn"), f"{int(d['drawn']):,}")
    if d["seats_short"]:
        st.warning(t("panel.short", seats=int(d["seats_short"]), strata=int(d["strata_short"])))
    if s["members"] and yes(s["matches_draw"]):
        st.success(t("panel.matches", round=int(d["draw_round"])), icon=":material/verified:")
    elif s["members"]:
        st.warning(t("panel.mismatch", round=int(d["draw_round"])), icon=":material/warning:")
    st.text(f"{t('panel.pool_sha')}: {d['pool_sha256']}\n{t('panel.drawn_sha')}: {d['drawn_sha256']}")
    st.markdown(t("panel.rerun"))
    st.code(
        f"python -m loaders panel-draw --seed {int(d['seed'])} --size {int(d['panel_size'])} "
        f"--round {int(d['draw_round'])} --pool POOL.csv --out panel.csv\n"
        "sha256sum POOL.csv\n"
        "tail -n +2 panel.csv | cut -d, -f1 | LC_ALL=C sort | head -c -1 | sha256sum",
        language="bash",
    )
    st.caption(t("panel.method", method=d["method"], numpy=d["numpy_version"], year=int(d["census_year"])))

    st.subheader(t("panel.quotas_title"))
    quotas = frame.query_or_warn("panel_quotas")
    if quotas is not None and not quotas.empty:
        st.caption(t("panel.quotas_caption"))
        st.dataframe(
            pd.DataFrame(
                {
                    t("panel.col_district"): district_label(quotas),
                    t("panel.col_gender"): quotas["gender"].map(gender_label),
                    t("panel.col_age"): quotas["age_band"].map(age_label),
                    t("panel.col_census"): quotas["census_population"],
                    t("panel.col_exact"): quotas["exact_quota"],
                    t("panel.col_quota"): quotas["quota"],
                    t("panel.col_remainder"): quotas["remainder_seat"],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={t("panel.col_exact"): st.column_config.NumberColumn(format="%.3f")},
        )
        st.download_button(
            t("panel.download_quotas"),
            participation.quotas_export(quotas),
            "panel_quotas.csv",
            "text/csv",
            on_click="ignore",
        )
