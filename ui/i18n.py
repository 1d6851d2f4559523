"""UI strings: Korean first, English on request. Every string lives in ui/locales/<lang>.toml."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

LANGUAGES = {"ko": "한국어", "en": "English"}
DEFAULT = "ko"
LOCALES = Path(__file__).resolve().parent / "locales"


@cache
def strings(lang: str) -> dict:
    with open(LOCALES / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


def current() -> str:
    """The language of this session: the `lang` URL parameter, remembered across pages.

    Asked once per script run and remembered on the run's context: a page asks for it once per
    string, a thousand times on a map's tooltips, and every query-parameter and session-state
    access goes through Streamlit's proxies (a third of a traffic page run before). Changing the
    language always reruns the script (frame.language_switch), which starts a new memo."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        # No session to ask (AppTest formats widget options outside the script run): Streamlit
        # would answer with nothing and log three warnings per string asked.
        return DEFAULT
    run = id(ctx.cursors)  # a new dict at the start of every run
    memo = getattr(ctx, "_mayor_lang", None)
    if memo is not None and memo[0] == run:
        return memo[1]
    lang = st.query_params.get("lang") or st.session_state.get("lang") or DEFAULT
    if lang not in LANGUAGES:
        lang = DEFAULT
    st.session_state["lang"] = lang
    ctx._mayor_lang = (run, lang)
    return lang


def t(key: str, **values) -> str:
    section, name = key.split(".", 1)
    text = strings(current())[section][name]
    return text.format(**values) if values else text


def item_label(item_name: str) -> str:
    """An item as the feed writes it ('사과(부사, 300g)'), translated in English where known."""
    if current() == "ko":
        return item_name
    base = re.split(r"[(\s]", item_name, maxsplit=1)[0]
    english = strings("en").get("items", {}).get(base)
    return f"{english} — {item_name}" if english else item_name


def market_type_label(value: str) -> str:
    return {"전통시장": t("prices.traditional"), "대형마트": t("prices.mart")}.get(value, value)


def grade_label(grade) -> str:
    """An air grade (좋음 / 보통 / 나쁨 / 매우나쁨) in the current language."""
    if grade is None or not isinstance(grade, str):
        return "—"
    return strings(current()).get("grades", {}).get(grade.replace(" ", ""), grade)


def crowd_label(level) -> str:
    """A congestion level (여유 / 보통 / 약간 붐빔 / 붐빔) in the current language."""
    if level is None or not isinstance(level, str):
        return "—"
    return strings(current()).get("crowd_levels", {}).get(level.replace(" ", ""), level)


def column_label(column: str) -> str:
    """A column's name for people, where the locale has one; the column name otherwise."""
    return strings(current()).get("columns", {}).get(column, column)
