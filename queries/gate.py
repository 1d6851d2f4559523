"""The gate for user-written SQL: exactly one SELECT, on a fresh read-only instance whose file
access is off and whose configuration is locked, with Python replacement scans disabled.

Every path that runs user SQL (`python -m queries sql`, the SQL console page) goes through
`run_user_sql`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

import settings
from queries import QueryError, warehouse


class Refused(QueryError):
    """The statement is not allowed; nothing was run."""


@dataclass
class UserResult:
    frame: pd.DataFrame
    truncated: bool
    elapsed_s: float


def check(sql: str) -> None:
    if not sql or not sql.strip():
        raise Refused("empty query")
    try:
        statements = duckdb.connect(":memory:").extract_statements(sql)
    except duckdb.Error as e:
        raise Refused(f"does not parse: {str(e).splitlines()[0][:200]}") from None
    if len(statements) != 1:
        raise Refused(f"exactly one statement is allowed, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise Refused(f"only SELECT is allowed, not {kind.name}")


def run_user_sql(sql: str, max_rows: int = 1000, data_dir: Path | None = None) -> UserResult:
    check(sql)
    con = warehouse.build(data_dir or settings.get().data_dir, memory_limit="512MB")
    started = time.perf_counter()
    try:
        cur = con.execute(sql)
        rows = cur.fetchmany(max_rows + 1)
        columns = [d[0] for d in cur.description]
    except duckdb.Error as e:
        raise QueryError(str(e).splitlines()[0][:300]) from None
    finally:
        con.close()
    truncated = len(rows) > max_rows
    frame = pd.DataFrame.from_records(rows[:max_rows], columns=columns)
    return UserResult(frame, truncated, time.perf_counter() - started)
