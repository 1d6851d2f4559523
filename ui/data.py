"""Cached reads for pages. The cache key includes the warehouse signature, so a newly published
version or a new run record is seen at once, not after the TTL."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import streamlit as st

import queries
import settings

CACHED_RESULTS = 512  # query results kept by each cache (the least recently read leave first)


# One frame per query result for every session, handed out as a shallow copy: pandas' copy-on-write
# (always on since pandas 3) copies a column the moment a caller writes to it, so no caller can
# change what another session reads. st.cache_data would pickle and unpickle the frame on every
# read instead, a cost paid by each of a page's queries on each run of each session.
# Streamlit hashes only `key`, the arguments' repr (parameters are dates, numbers, text and lists of
# text: their repr is their value); hashing the arguments themselves walked every tuple, list and
# date of them, 0.2 ms a query and 2 ms a rerun of the complaints page.
@st.cache_resource(ttl=settings.get().cache_ttl_s, show_spinner=False, max_entries=CACHED_RESULTS)
def _cached(key: str, _name: str, _params: tuple) -> pd.DataFrame:
    return queries.run(_name, **dict(_params))


def query(name: str, **params) -> pd.DataFrame:
    """Rows of `queries/<name>.sql`; raises queries.QueryError with a short message."""
    return _cached(*_args(name, params)).copy(deep=False)


def _args(name: str, params: dict) -> tuple[str, str, tuple]:
    """(cache key, name, parameters) of a query under the published version now served."""
    frozen = tuple(sorted(params.items()))
    return repr((name, frozen, queries.signature())), name, frozen


QueryError = queries.QueryError

# DuckDB runs a query without holding the GIL, so a page's queries can run side by side with each
# other and with the page's own drawing. Four threads, shared by every session: a query not yet started
# when the page asks for it is run by the page itself, so a busy pool only ever costs the overlap.
_ahead = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-ahead")


def _fill(key: str, name: str, params: tuple) -> None:
    # A failure is not cached: the page's own call runs the query again and shows the error.
    with contextlib.suppress(QueryError):
        _cached(key, name, params)


# What was started ahead lately, by cache key: a page rerun with the same filters (the common case:
# many screens on one view) sends nothing to the pool. A key that has since left the cache costs
# nothing worse than the page reading it itself.
_started: OrderedDict[str, None] = OrderedDict()
_started_lock = threading.Lock()


def prefetch(*calls: tuple[str, dict]) -> None:
    """Start the page's queries `(name, params)` now, in the background, so that each later
    `query(name, **params)` finds its rows cached or being read."""
    for name, params in calls:
        args = _args(name, params)
        with _started_lock:
            fresh = args[0] not in _started
            _started[args[0]] = None
            _started.move_to_end(args[0])
            while len(_started) > CACHED_RESULTS:
                _started.popitem(last=False)
        if fresh:
            _ahead.submit(_fill, *args)


def version_key() -> str:
    """Changes whenever anything published or logged changes: a key for caching what a page builds
    from query results (a map shared by every session)."""
    return repr((str(settings.get().data_dir), queries.signature()))


# Explore: the same cache, keyed on the selection and the published versions.
def _selection_key(sel) -> tuple:
    return (
        sel.table,
        tuple(sorted((k, tuple(v)) for k, v in sel.facets.items() if v)),
        sel.date_from,
        sel.date_to,
        sel.search,
    )


@st.cache_data(ttl=settings.get().cache_ttl_s, show_spinner=False, max_entries=CACHED_RESULTS)
def _explore_cached(fn: str, key: tuple, args: tuple, signature_key: str):
    from queries import explore

    table, facets, date_from, date_to, search = key
    sel = explore.Selection(table, {k: list(v) for k, v in facets}, date_from, date_to, search)
    return getattr(explore, fn)(sel, *args)


def explore_call(fn: str, sel, *args):
    """explore.count / rows / facet_counts for a Selection, cached like named queries."""
    return _explore_cached(fn, _selection_key(sel), args, repr(queries.signature()))


def example_queries() -> list[tuple[str, str, str]]:
    """Named queries that take no parameters, ready to paste into the console: (name, grain, sql)."""
    return [(n, queries.grain(n), queries.sql_text(n).strip()) for n in queries.names() if not queries.parameters(n)]


def explorable() -> list[str]:
    from queries import explore

    return explore.explorable()


def explore_spec(table: str) -> dict:
    from queries import explore, warehouse

    return {
        "facets": explore.facets(table),
        "time_column": explore.time_column(table),
        "searchable": explore.searchable(table),
        "columns": explore.columns(table),
        "grain": warehouse.dictionary()["tables"][table]["grain"],
    }


def explore_time_bounds(table: str):
    from queries import explore

    return explore.time_bounds(table)


def column_config(columns: dict) -> dict:
    """Typed display for each column of a dataset, from its declared DuckDB type."""
    config = {}
    for name, (sql_type, meaning) in columns.items():
        if sql_type == "DATE":
            config[name] = st.column_config.DateColumn(name, help=meaning, format="YYYY-MM-DD")
        elif sql_type.startswith("TIMESTAMP"):
            config[name] = st.column_config.DatetimeColumn(name, help=meaning, format="YYYY-MM-DD HH:mm")
        elif sql_type in ("BIGINT", "INTEGER", "DOUBLE"):
            fmt = "%d" if name.endswith(("_id", "_number")) else "localized"
            config[name] = st.column_config.NumberColumn(name, help=meaning, format=fmt)
        else:
            config[name] = st.column_config.TextColumn(name, help=meaning)
    return config


def Selection(table: str, facets: dict | None = None):
    from queries import explore

    return explore.Selection(table, dict(facets or {}))
