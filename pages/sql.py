"""SQL console: one read-only query on the published data, through the same gate as the CLI."""

import streamlit as st

from ui import console, data, export, frame
from ui.i18n import t

st.title(t("sql.title"))
st.caption(t("sql.intro"))
st.caption(t("sql.limits", **console.limits()))

main, side = st.columns([3, 1])

with side:
    st.subheader(t("sql.examples"))
    for name, grain, sql in data.example_queries():
        with st.expander(name):
            st.caption(grain)
            st.code(sql, language="sql")
            if st.button(t("sql.use_example"), key=f"example_{name}"):
                st.session_state["sql_text"] = sql
                st.query_params["sql"] = sql
    st.subheader(t("sql.schema"))
    columns = frame.query_or_warn("table_columns")
    if columns is not None:
        for table, cols in columns.groupby("table_name", sort=False):
            with st.expander(table):
                st.caption(cols["grain"].iloc[0])
                st.dataframe(
                    cols[["column_name", "column_type"]],
                    hide_index=True,
                    width="stretch",
                    height=min(35 * (len(cols) + 1) + 3, 320),
                )

with main:
    if "sql_text" not in st.session_state:
        st.session_state["sql_text"] = st.query_params.get("sql") or console.DEFAULT_SQL
    sql = st.text_area(t("sql.query"), key="sql_text", height=180)
    if st.button(t("sql.run"), type="primary"):
        st.query_params["sql"] = sql  # the link reproduces the query
        try:
            st.session_state["sql_result"] = ("ok", console.run(sql))
        except console.Refused as e:
            st.session_state["sql_result"] = ("refused", str(e))
        except console.Stopped as e:
            st.session_state["sql_result"] = ("stopped", str(e))
        except console.Busy:
            st.session_state["sql_result"] = ("busy", "")
        except data.QueryError as e:
            st.session_state["sql_result"] = ("error", str(e))

    outcome = st.session_state.get("sql_result")
    if outcome:
        kind, value = outcome
        if kind == "ok":
            st.caption(t("sql.rows", n=len(value.frame), seconds=f"{value.elapsed_s:.2f}"))
            if value.cut_by_bytes:
                mb = f"{value.max_bytes / 1_000_000:g}"
                st.warning(t("sql.truncated_bytes", n=len(value.frame), mb=mb), icon=":material/content_cut:")
            elif value.truncated:
                st.warning(t("sql.truncated", n=len(value.frame)), icon=":material/content_cut:")
            st.dataframe(value.frame, hide_index=True, width="stretch")
            st.download_button(
                t("sql.download"),
                data=lambda frame=value.frame: export.to_csv(frame),
                file_name="query.csv",
                mime="text/csv",
                on_click="ignore",
            )
        elif kind == "busy":
            st.warning(t("sql.busy"), icon=":material/hourglass_top:")
        else:
            st.error(t(f"sql.{kind}", reason=value), icon=":material/block:")
