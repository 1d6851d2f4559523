"""The one door for reads: `run(name, **params)` executes `queries/<name>.sql` with bound
parameters and returns a DataFrame. Knows nothing of Streamlit (ui/data.py caches on top)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from queries import warehouse

if TYPE_CHECKING:  # pandas loads with the first result (.df()), not with this module
    import pandas as pd

SQL_DIR = Path(__file__).resolve().parent
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class QueryError(Exception):
    """A named query could not run; the message is short and safe to show."""


def names() -> list[str]:
    return sorted(p.stem for p in SQL_DIR.glob("*.sql"))


@cache
def sql_text(name: str) -> str:
    path = SQL_DIR / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        raise QueryError(f"no query named {name!r}")
    return path.read_text("utf-8")


def parameters(name: str) -> set[str]:
    return set(_PARAM.findall(sql_text(name)))


def grain(name: str) -> str:
    """The first-line comment of the query: what one row is."""
    first = sql_text(name).splitlines()[0]
    return first.removeprefix("--").strip()


def run(name: str, **params) -> pd.DataFrame:
    expected = parameters(name)
    if set(params) != expected:
        raise QueryError(f"{name} takes {sorted(expected)}, got {sorted(params)}")
    return execute(_statement(name), params, label=name)


@cache
def _statement(name: str) -> duckdb.Statement:
    """A named query parsed once. DuckDB parses about 0.35 ms per kilobyte of SQL here, a fifth of a
    small query's CPU; it runs a copy of a parsed statement, so one serves every thread."""
    return _parser().cursor().extract_statements(sql_text(name))[0]


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    # Parsing needs no data; each caller parses on a cursor of its own (cursors may be made from
    # many threads at once, a connection is used by one at a time).
    return duckdb.connect(":memory:")


def execute(sql: str | duckdb.Statement, params: dict, label: str = "query") -> pd.DataFrame:
    """Run trusted SQL (a named query or queries/explore.py's builder) with bound parameters."""
    cur = warehouse.shared().cursor()
    try:
        return cur.execute(sql, params or None).df()
    except duckdb.Error as e:
        raise QueryError(f"{label}: {str(e).splitlines()[0][:300]}") from None
    finally:
        cur.close()


def signature() -> tuple:
    """Changes when published data or the run log changes; use it to key caches."""
    return warehouse.shared().current_signature()
