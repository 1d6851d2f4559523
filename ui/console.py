"""Running user SQL from a page: the one gate (queries.gate.run_user_sql), with a limit on how
many console queries run at once in this process and one at a time per session."""

from __future__ import annotations

import threading

import streamlit as st

import settings
from queries import QueryError, gate

Refused, Stopped, UserResult = gate.Refused, gate.Stopped, gate.UserResult
DEFAULT_SQL = "SELECT item_name, count(*) AS n\nFROM prices\nGROUP BY item_name\nORDER BY n DESC"


class Busy(QueryError):
    """The session already has a query running, or the process is at its limit."""


@st.cache_resource
def _process_slots(limit: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(max(1, limit))


def run(sql: str) -> gate.UserResult:
    cfg = settings.get()
    slots = _process_slots(cfg.console_max_concurrent)
    session_lock = st.session_state.setdefault("_console_lock", threading.Lock())
    if not session_lock.acquire(blocking=False):
        raise Busy("this session is already running a query")
    try:
        if not slots.acquire(blocking=False):
            raise Busy("the console is at its limit of concurrent queries")
        try:
            return gate.run_user_sql(sql)
        finally:
            slots.release()
    finally:
        session_lock.release()


def limits() -> dict:
    cfg = settings.get()
    return {
        "rows": cfg.console_max_rows,
        "mb": f"{cfg.console_max_bytes / 1_000_000:g}",
        "timeout": f"{cfg.console_timeout_s:g}",
        "memory": cfg.console_memory_mb,
    }
