"""The child process that runs one user SQL query for queries.gate.run_user_sql.

Reads a JSON request on stdin, limits its own address space (RLIMIT_AS) before touching any data,
builds a fresh locked read-only instance, runs the query and writes a pickled answer on stdout:
("ok", columns, rows, cut_by_bytes) | ("refused", reason) | ("stopped", reason) | ("error", reason). Never prints a traceback.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
from pathlib import Path


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


FETCH_CHUNK = 64


def value_bytes(value) -> int:
    """What a value weighs on its way to the browser, near enough: text in UTF-8, bytes as they
    are, numbers as 8, anything else (dates, decimals, lists, structs) as its text."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, (bool, int, float)):
        return 8
    return len(str(value).encode("utf-8", "surrogatepass"))


def fetch_capped(cur, max_rows: int, max_bytes: int) -> tuple[list, bool]:
    """Up to max_rows + 1 rows (one more says the answer was cut by rows), stopping before the row
    that would take the answer past max_bytes (then the flag is True)."""
    rows: list = []
    size = 0
    while len(rows) <= max_rows:
        chunk = cur.fetchmany(min(FETCH_CHUNK, max_rows + 1 - len(rows)))
        if not chunk:
            break
        for row in chunk:
            size += sum(value_bytes(v) for v in row)
            if size > max_bytes:
                return rows, True
            rows.append(row)
    return rows, False


def answer(request: dict) -> tuple:
    memory = int(request["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        import duckdb

        from queries import gate, warehouse
    except MemoryError:
        return ("stopped", "the console's memory limit is too small to start a query")
    budget_mb = max(64, memory // (1024 * 1024) // 3)
    try:
        gate.check(request["sql"])
    except gate.Refused as e:
        return ("refused", str(e))
    except MemoryError:
        return ("stopped", "the query is too large to parse within the console's memory")
    try:
        con = warehouse.build(Path(request["data_dir"]), memory_limit=f"{budget_mb}MB", threads=1)
        warehouse.hide_restricted(con)  # personal data only through named queries that suppress it
        cur = con.execute(request["sql"])
        rows, cut = fetch_capped(cur, int(request["max_rows"]), int(request["max_bytes"]))
        return ("ok", [d[0] for d in cur.description], rows, cut)
    except (MemoryError, duckdb.OutOfMemoryException):
        return ("stopped", "the query needed more memory than the console allows")
    except duckdb.Error as e:
        return ("error", _first_line(e))
    except Exception as e:
        return ("error", f"{type(e).__name__}: {_first_line(e)}")


def main() -> int:
    result = answer(json.loads(sys.stdin.read()))
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
