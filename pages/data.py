"""Dataset catalogue: source, cadence, licence, freshness and recent failures of every feed."""

import pandas as pd
import streamlit as st

from ui import frame
from ui.i18n import current, t

STATE_ICONS = {
    "ok": ":green[:material/check_circle:]",
    "degraded": ":orange[:material/warning:]",
    "error": ":red[:material/error:]",
    "no_data": ":gray[:material/radio_button_unchecked:]",
}


def cadence_label(seconds) -> str:
    if seconds is None or pd.isna(seconds):
        return t("data.on_demand")
    seconds = int(seconds)
    if seconds % 86400 == 0:
        return t("data.every_days", n=seconds // 86400) if seconds > 86400 else t("data.every_hours", n=24)
    if seconds % 3600 == 0:
        return t("data.every_hours", n=seconds // 3600)
    return t("data.every_minutes", n=max(1, seconds // 60))


st.title(t("data.title"))
st.caption(t("data.intro"))

status = frame.query_or_warn("feed_status")
if status is not None:
    title_col = "title_en" if current() == "en" else "title_ko"
    overview = pd.DataFrame(
        {
            t("data.feed"): status[title_col],
            t("data.state"): [t("state." + s) for s in status["state"]],
            t("data.as_of"): status["as_of"].map(lambda v: frame.when(v)),
            t("data.last_success"): status["last_success"].map(frame.when),
            t("data.rows"): status["row_count"],
            t("data.cadence"): status["cadence_s"].map(cadence_label),
            t("data.sample"): status["is_sample"].map(
                lambda v: t("data.yes") if v is True else (t("data.no") if v is False else "—")
            ),
            t("data.failures_7d"): status["failures_7d"],
        }
    )
    st.dataframe(overview, hide_index=True, width="stretch")

    columns = frame.query_or_warn("table_columns")
    for _, feed in status.iterrows():
        with st.expander(f"{STATE_ICONS.get(feed['state'], '')} {feed[title_col]} — `{feed['feed']}`"):
            st.markdown(f"**{t('data.service')}:** `{feed['service']}`")
            st.text(feed["source"])
            st.markdown(f"**{t('data.licence')}:** {feed['licence']}")
            st.markdown(f"**{t('data.cadence')}:** {cadence_label(feed['cadence_s'])}")
            st.markdown(
                f"**{t('data.last_success')}:** {frame.when(feed['last_success'])} · "
                f"**{t('data.as_of')}:** {frame.when(feed['as_of'])}"
            )
            if pd.notna(feed["last_outcome"]):
                st.markdown(f"**{t('data.last_run')}:** {frame.when(feed['last_run_at'])} — `{feed['last_outcome']}`")
                if isinstance(feed["last_message"], str) and feed["last_message"]:
                    st.text(feed["last_message"])
            if columns is not None:
                for table in str(feed["tables"]).split(", "):
                    cols = columns[columns["table_name"] == table]
                    if cols.empty:
                        continue
                    st.markdown(f"**{t('data.columns')}: `{table}`** — {cols['grain'].iloc[0]}")
                    st.dataframe(
                        cols.rename(
                            columns={
                                "column_name": t("data.col_column"),
                                "column_type": t("data.col_type"),
                                "meaning": t("data.col_meaning"),
                            }
                        )[[t("data.col_column"), t("data.col_type"), t("data.col_meaning")]],
                        hide_index=True,
                        width="stretch",
                    )

st.subheader(t("data.recent_failures"))
failures = frame.query_or_warn("recent_failures", limit=20)
if failures is not None and failures.empty:
    st.success(t("data.no_failures"))
elif failures is not None:
    st.dataframe(
        pd.DataFrame(
            {
                t("data.feed"): failures["feed"],
                t("data.col_started"): failures["started_at"].map(frame.when),
                t("data.col_outcome"): failures["outcome"],
                t("data.col_code"): failures["api_code"],
                t("data.col_message"): failures["message"],
            }
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader(t("data.quarantine"))
reasons = frame.query_or_warn("quarantine_reasons")
if reasons is not None and reasons.empty:
    st.success(t("data.no_quarantine"))
elif reasons is not None:
    st.dataframe(
        reasons.rename(
            columns={
                "feed": t("data.feed"),
                "reason": t("data.col_reason"),
                "records": t("data.col_records"),
                "example": t("data.col_example"),
            }
        ),
        hide_index=True,
        width="stretch",
    )
