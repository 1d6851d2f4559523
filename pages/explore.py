"""Explore any published dataset: facets with counts, a date range, text search, a typed table,
exports, and the dataset's definition. The whole state lives in the URL."""

from datetime import date

import pandas as pd
import streamlit as st

import settings
from ui import data, export, frame
from ui.i18n import column_label, current, t

PAGE_ROWS = 100
qp = st.query_params

st.title(t("explore.title"))
st.caption(t("explore.intro"))

tables = data.explorable()
wanted = qp.get("ds")
table = st.selectbox(
    t("explore.dataset"), tables, index=tables.index(wanted) if wanted in tables else 0, key="explore_ds"
)
if table != wanted:
    # A new dataset starts with no filters; its filters are other columns.
    for key in [k for k in qp if k.startswith("f_") or k in ("from", "to", "q", "page")]:
        del qp[key]
    qp["ds"] = table

spec = data.explore_spec(table)
sel = data.Selection(table)

# Facets, each limited by the other filters, with counts in the labels.
facet_cols = st.columns(max(1, len(spec["facets"])))
for col, name in zip(facet_cols, spec["facets"], strict=True):
    chosen_in_url = qp.get_all(f"f_{name}")
    others = data.Selection(table, {k: v for k, v in sel.facets.items()})
    counts = data.explore_call("facet_counts", others, name)
    options = list(dict.fromkeys(chosen_in_url + counts["value"].dropna().tolist()))
    label_of = dict(zip(counts["value"], counts["n"], strict=True))
    with col:
        chosen = st.multiselect(
            column_label(name),
            options,
            default=[v for v in chosen_in_url if v in options],
            format_func=lambda v, c=label_of: f"{v} ({c.get(v, 0):,})",
            key=f"facet_{table}_{name}",
        )
    if chosen != chosen_in_url:
        qp[f"f_{name}"] = chosen
    sel.facets[name] = chosen

left, right = st.columns(2)
if spec["time_column"]:
    lo, hi = data.explore_time_bounds(table)
    if lo and hi:

        def _from_url(key: str, fallback: date) -> date:
            try:
                return min(max(date.fromisoformat(qp.get(key, "")), lo), hi)
            except ValueError:
                return fallback

        start, end = _from_url("from", lo), _from_url("to", hi)
        with left:
            picked = st.date_input(
                t("explore.date_range"), (start, end), min_value=lo, max_value=hi, key=f"dates_{table}"
            )
        if isinstance(picked, tuple) and len(picked) == 2:
            start, end = picked
        sel.date_from, sel.date_to = (start if start > lo else None), (end if end < hi else None)
        for key, value in (("from", sel.date_from), ("to", sel.date_to)):
            if value is None:
                qp.pop(key, None)
            elif qp.get(key) != value.isoformat():
                qp[key] = value.isoformat()
if spec["searchable"]:
    with right:
        search = st.text_input(t("explore.search"), qp.get("q", ""), help=t("explore.search_help"), key=f"q_{table}")
    sel.search = search
    if search and qp.get("q") != search:
        qp["q"] = search
    elif not search:
        qp.pop("q", None)

try:
    total = data.explore_call("count", sel)
except data.QueryError as e:
    st.error(t("state.query_error", error=str(e)), icon=":material/error:")
    st.stop()

if total == 0:
    st.info(t("explore.no_rows"), icon=":material/filter_alt_off:")
else:
    pages = (total - 1) // PAGE_ROWS + 1
    try:
        page = min(max(int(qp.get("page", "1")), 1), pages)
    except ValueError:
        page = 1
    if pages > 1:
        page = st.number_input(t("explore.page"), 1, pages, page, key=f"page_{table}")
        if page == 1:
            qp.pop("page", None)
        else:
            qp["page"] = str(page)
    start = (page - 1) * PAGE_ROWS
    rows = data.explore_call("rows", sel, PAGE_ROWS, start)
    st.caption(t("explore.showing", start=f"{start + 1:,}", end=f"{start + len(rows):,}", total=f"{total:,}"))
    st.dataframe(rows, hide_index=True, width="stretch", column_config=data.column_config(spec["columns"]))

    st.subheader(t("explore.export"))
    cap = settings.get().export_max_rows
    if total > cap:
        st.warning(t("explore.export_too_big", n=f"{total:,}", cap=f"{cap:,}"), icon=":material/block:")
    else:

        def _all_rows(s=sel, n=total):
            return data.explore_call("rows", s, n, 0)

        c1, c2, c3 = st.columns(3)
        c1.download_button(
            t("explore.export_csv"), lambda: export.to_csv(_all_rows()), f"{table}.csv", "text/csv", on_click="ignore"
        )
        c2.download_button(
            t("explore.export_parquet"),
            lambda: export.to_parquet(_all_rows()),
            f"{table}.parquet",
            "application/vnd.apache.parquet",
            on_click="ignore",
        )
        c3.download_button(
            t("explore.export_json"),
            lambda: export.to_json(_all_rows()),
            f"{table}.json",
            "application/json",
            on_click="ignore",
        )
    st.caption(t("explore.share"))

with st.expander(t("explore.definition"), expanded=False):
    feed = frame.query_or_warn("feed_status")
    if feed is not None:
        owner = feed[feed["tables"].str.split(", ").map(lambda ts: table in ts)]
        if not owner.empty:
            f = owner.iloc[0]
            st.markdown(f"**{f['title_en' if current() == 'en' else 'title_ko']}** — `{f['service']}`")
            st.text(f"{f['source']}\n{f['licence']}")
            st.caption(f"{t('state.as_of', when=frame.when(f['as_of']))}")
    st.caption(t("explore.grain", grain=spec["grain"]))
    st.dataframe(
        pd.DataFrame(
            [(c, ty, m) for c, (ty, m) in spec["columns"].items()],
            columns=[t("data.col_column"), t("data.col_type"), t("data.col_meaning")],
        ),
        hide_index=True,
        width="stretch",
    )
