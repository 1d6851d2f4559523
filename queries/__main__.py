"""python -m queries sql "SELECT ..."   — the analyst's read-only SQL, printed as CSV.
python -m queries run NAME [key=value ...] — a named query, printed as CSV."""

from __future__ import annotations

import argparse
import sys

import queries
from queries import gate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queries", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sql", help="one SELECT on the published warehouse (read-only, no file access)")
    p.add_argument("sql")
    p.add_argument("--max-rows", type=int, default=None, help="default: MAYOR_CONSOLE_MAX_ROWS")
    p = sub.add_parser("run", help="a named query from queries/*.sql")
    p.add_argument("name", choices=queries.names())
    p.add_argument("params", nargs="*", help="key=value")
    sub.add_parser("list", help="the named queries and their grain")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for name in queries.names():
                print(f"{name}: {queries.grain(name)}")
            return 0
        if args.command == "sql":
            result = gate.run_user_sql(args.sql, max_rows=args.max_rows)
            result.frame.to_csv(sys.stdout, index=False)
            if result.cut_by_bytes:
                print(
                    f"truncated: the answer passed {result.max_bytes:,} bytes (MAYOR_CONSOLE_MAX_BYTES); "
                    f"showing the first {len(result.frame)} rows",
                    file=sys.stderr,
                )
            elif result.truncated:
                print(f"truncated: showing the first {len(result.frame)} rows", file=sys.stderr)
            return 0
        params = dict(p.split("=", 1) for p in args.params)
        queries.run(args.name, **params).to_csv(sys.stdout, index=False)
        return 0
    except gate.Refused as e:
        print(f"refused: {e}", file=sys.stderr)
        return 2
    except queries.QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
