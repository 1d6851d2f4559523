"""The frame around every page: language switch, sample-data banner, footer, formats."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from ui import data, i18n
from ui.i18n import t

SEOUL_TZ = "Asia/Seoul"


def language_switch() -> None:
    lang = i18n.current()
    choice = st.sidebar.radio(
        t("app.language"),
        list(i18n.LANGUAGES),
        index=list(i18n.LANGUAGES).index(lang),
        format_func=i18n.LANGUAGES.get,
        horizontal=True,
        key="lang_choice",
    )
    if choice != lang:
        st.session_state["lang"] = choice
        st.query_params["lang"] = choice
        st.rerun()
    if st.query_params.get("lang") != lang and lang != i18n.DEFAULT:
        st.query_params["lang"] = lang


def provenance_banner() -> None:
    """Every page says when it shows sample data, or that nothing is loaded yet."""
    try:
        row = data.query("data_provenance").iloc[0]
    except data.QueryError:
        return
    if row["datasets"] == 0:
        st.warning(t("banner.no_data"), icon=":material/warning:")
    elif row["any_sample"]:
        st.warning(t("banner.sample"), icon=":material/science:")


def footer() -> None:
    st.divider()
    st.caption(t("app.source_footer"))


def when(value, with_time: bool = True) -> str:
    """A timestamp in Seoul time, or 'never'."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return t("state.never")
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(SEOUL_TZ)
    if not with_time or (ts.hour == 0 and ts.minute == 0 and ts.tzinfo is None):
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def md_text(value) -> str:
    """Feed text placed inside markdown: shown as the characters, never as links, emphasis,
    colour directives or emoji shortcodes."""
    return re.sub(r"([\\`*_\[\]{}()#+\-.!|<>~$:])", r"\\\1", str(value))


def krw(value) -> str:
    if value is None or pd.isna(value):
        return "—"
    return t("prices.won", value=f"{round(float(value)):,}")


def query_or_warn(name: str, **params) -> pd.DataFrame | None:
    """A panel's rows, or None after showing what went wrong (the rest of the page renders)."""
    try:
        return data.query(name, **params)
    except data.QueryError as e:
        st.error(t("state.query_error", error=str(e)), icon=":material/error:")
        return None
