"""The child process that runs one user SQL query for queries.gate.run_user_sql.

Reads a JSON request on stdin, limits its own address space (RLIMIT_AS) before touching any data,
builds a fresh locked read-only instance, runs the query and writes a pickled answer on stdout:
("ok", columns, rows) | ("refused", reason) | ("stopped", reason) | ("error", reason). Never prints a traceback.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
from pathlib import Path


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


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
        rows = cur.fetchmany(int(request["max_rows"]) + 1)
        return ("ok", [d[0] for d in cur.description], rows)
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
