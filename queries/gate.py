"""The gate for user-written SQL: exactly one SELECT, run in a child process on a fresh read-only
instance whose file access is off and whose configuration is locked, with Python replacement
scans disabled, under an operating-system memory limit and a hard timeout.

Every path that runs user SQL (`python -m queries sql`, the SQL console page) goes through
`run_user_sql`; the child is `queries/sandbox.py`. Why a child: DuckDB's own `memory_limit` and `interrupt()` do not stop a single
huge allocation (`SELECT len(range(1000000000))` grew to 20 GB under a 256 MB limit); a child
with RLIMIT_AS fails it at once, and a child can always be killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

import settings
from queries import QueryError

if TYPE_CHECKING:  # only the app side builds a DataFrame; the sandbox child never imports pandas
    import pandas as pd


class Refused(QueryError):
    """The statement is not allowed; nothing was run."""


class Stopped(QueryError):
    """The query ran but was stopped: too slow, too much memory, or its process died."""


@dataclass
class UserResult:
    frame: pd.DataFrame
    truncated: bool  # cut: more rows than MAYOR_CONSOLE_MAX_ROWS, or more bytes than MAYOR_CONSOLE_MAX_BYTES
    elapsed_s: float
    cut_by_bytes: bool = False
    max_bytes: int = 0


def check(sql: str) -> None:
    if not sql or not sql.strip():
        raise Refused("empty query")
    try:
        statements = duckdb.connect(":memory:").extract_statements(sql)
    except duckdb.Error as e:
        raise Refused(f"does not parse: {_first_line(e)}") from None
    if len(statements) != 1:
        raise Refused(f"exactly one statement is allowed, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise Refused(f"only SELECT is allowed, not {kind.name}")


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


def run_user_sql(
    sql: str,
    max_rows: int | None = None,
    data_dir: Path | None = None,
    max_bytes: int | None = None,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
) -> UserResult:
    cfg = settings.get()
    max_rows = cfg.console_max_rows if max_rows is None else max_rows
    max_bytes = cfg.console_max_bytes if max_bytes is None else max_bytes
    timeout_s = cfg.console_timeout_s if timeout_s is None else timeout_s
    memory_mb = cfg.console_memory_mb if memory_mb is None else memory_mb
    # Only cheap checks here, in the app process: parsing a huge statement costs memory and time,
    # so the full check runs in the child, under its limits.
    if not sql or not sql.strip():
        raise Refused("empty query")
    if len(sql) > cfg.console_max_sql_chars:
        raise Refused(f"the query is longer than {cfg.console_max_sql_chars:,} characters")
    request = {
        "sql": sql,
        "max_rows": max_rows,
        "max_bytes": max_bytes,
        "memory_bytes": memory_mb * 1024 * 1024,
        "data_dir": str(data_dir or cfg.data_dir),
    }
    started = time.perf_counter()
    # A fresh interpreter, not fork: the app server is multi-threaded, and a fresh child carries
    # none of its memory. Its own session, so a timeout kills it and anything it started.
    child = subprocess.Popen(
        [sys.executable, "-m", "queries.sandbox"],
        cwd=settings.PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(settings.PROJECT_DIR)},
    )
    try:
        out, _ = child.communicate(json.dumps(request).encode("utf-8"), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise Stopped(f"the query took longer than {timeout_s:g} s and was stopped") from None
    finally:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(5)
    elapsed = time.perf_counter() - started
    # The child keeps to the byte cap; this bounds what the app process unpickles should it not.
    if len(out) > 2 * max_bytes + 1_000_000:
        raise Stopped(f"the answer is larger than the console's {max_bytes:,} bytes") from None
    try:
        answer = pickle.loads(out)
    except Exception:
        raise Stopped("the query's process ended without an answer (out of memory?)") from None
    if answer[0] == "refused":
        raise Refused(answer[1])
    if answer[0] == "stopped":
        raise Stopped(answer[1])
    if answer[0] == "error":
        raise QueryError(answer[1])
    import pandas as pd

    _, columns, rows, cut_by_bytes = answer
    truncated = len(rows) > max_rows or cut_by_bytes
    frame = _displayable(pd.DataFrame.from_records(rows[:max_rows], columns=_unique(columns)))
    return UserResult(frame, truncated, elapsed, cut_by_bytes, max_bytes)


def _unique(columns: list[str]) -> list[str]:
    """`SELECT 1 AS a, 2 AS a` is valid SQL, but tables and exports need distinct names."""
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count + 1}")
    return out


def _displayable(frame: pd.DataFrame) -> pd.DataFrame:
    """Values Arrow cannot carry (integers beyond 64 bits from HUGEINT, mixed objects) become
    text, so any accepted query can be shown and exported."""
    for col in frame.columns:
        if frame[col].dtype == object:
            values = frame[col].dropna()
            if values.map(lambda v: isinstance(v, int) and not -(2**63) <= v < 2**63).any():
                frame[col] = frame[col].map(lambda v: None if v is None else str(v))
    return frame
