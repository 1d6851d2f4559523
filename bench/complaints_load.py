"""Benchmark of the complaints import, with a row-by-row baseline measured in the same run.

    python -m bench.complaints_load [--rows N] [--csv] [--slice ROWS]    (make bench; default 16,000,000)

Generates the sample export (Parquet; with --csv also a CP949 CSV, the way city systems export),
then runs the real import, `python -m loaders import complaints FILE`, in a child process over a
fresh data directory, and prints: wall and CPU seconds of each step (from the run log's
`extra.steps`) and of the whole load, rows per second, the child's peak RSS, file sizes; the same
file again (idempotent: nothing republished); and the baseline: row-by-row `executemany` inserts of
the same rows into DuckDB, measured on a slice and extrapolated to N. CPU seconds count every
thread; on a machine shared with other work they are the steadier figure, so the load average
before and after is printed too. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import datadir  # noqa: E402
from loaders import complaints, complaints_sample  # noqa: E402

END = date(2026, 11, 30)
TARGET_S = 15  # the issue: "16 M-row load ≤ 15 s including validation and rollups"


def _children_usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:,.0f} MB"


def _import(path: Path, data_dir: Path) -> tuple[float, float, float, dict]:
    """One import in a child process: (wall s, CPU s, peak RSS MB of the child, run record)."""
    env = os.environ | {"MAYOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT)}
    cpu0, _ = _children_usage()
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "loaders", "import", "complaints", str(path)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    cpu1, rss = _children_usage()
    if done.returncode != 0:
        raise SystemExit(f"the import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    runs = datadir.runs_log_path(data_dir).read_text("utf-8").splitlines()
    return wall, cpu1 - cpu0, rss, json.loads(runs[-1])


def _report(label: str, path: Path, rows: int, data_dir: Path) -> float:
    wall, cpu, rss, record = _import(path, data_dir)
    steps = record.get("extra", {}).get("steps", {})
    extra = record.get("extra", {})
    print(
        f"\n{label}: {path.name} ({_mb(path)}), outcome {record['outcome']}, {extra.get('file_rows', 0):,} rows read, "
        f"{record['rows_quarantined']:,} quarantined"
    )
    print(f"  {'step':<22}{'wall s':>9}{'CPU s':>9}{'CPU/wall':>10}")
    for step, (w, c) in steps.items():
        print(f"  {step:<22}{w:>9.2f}{c:>9.2f}{c / w if w else 0:>10.2f}")
    counted = sum(w for w, _ in steps.values()), sum(c for _, c in steps.values())
    print(f"  {'(start-up, publish)':<22}{wall - counted[0]:>9.2f}{cpu - counted[1]:>9.2f}")
    print(f"  {'whole import':<22}{wall:>9.2f}{cpu:>9.2f}{cpu / wall:>10.2f}")
    print(f"  {rows / wall:,.0f} rows/s (wall), {rows / cpu:,.0f} rows per CPU-second; peak RSS {rss:,.0f} MB")
    pointer = datadir.read_pointer(data_dir, "complaints")
    if pointer:
        print(f"  published file {_mb(datadir.feed_dir(data_dir, 'complaints') / pointer['file'])}")
    return wall


def _baseline(path: Path, slice_rows: int, rows: int) -> float:
    """Row-by-row inserts of the file's first rows (the same columns, parsed in Python)."""
    table = pq.ParquetFile(path).read_row_group(0).slice(0, slice_rows)
    records = [tuple(r.values()) for r in table.to_pylist()]
    con = duckdb.connect(":memory:")
    columns = ", ".join(f'"{c}" {t}' for c, t in zip(table.column_names, complaints.COMPLAINTS.values(), strict=True))
    con.execute(f"CREATE TABLE complaints ({columns})")
    marks = ", ".join("?" for _ in table.column_names)
    t0 = time.perf_counter()
    con.executemany(f"INSERT INTO complaints VALUES ({marks})", records)
    wall = time.perf_counter() - t0
    con.close()
    per_s = len(records) / wall
    print(f"\nbaseline: executemany of {len(records):,} rows took {wall:.2f} s = {per_s:,.0f} rows/s")
    print(
        f"  extrapolated to {rows:,} rows: {rows / per_s:,.0f} s ({rows / per_s / 3600:.1f} h), without any validation"
    )
    return rows / per_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=complaints_sample.MAX_ROWS)
    parser.add_argument("--csv", action="store_true", help="also import the sample as a CP949 CSV")
    parser.add_argument("--slice", type=int, default=20_000, help="rows of the row-by-row baseline")
    args = parser.parse_args(argv)
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (other work on the machine counts)")
    print(f"duckdb {duckdb.__version__}, {args.rows:,} rows")
    with tempfile.TemporaryDirectory(prefix="bench-complaints-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        parquet = complaints_sample.write(tmp / "complaints.parquet", args.rows, END)
        print(f"generated {parquet.name} ({_mb(parquet)}) in {time.perf_counter() - t0:.1f} s")
        wall = _report("import, fresh", parquet, args.rows, tmp / "data")
        _report("same file again (nothing to republish)", parquet, args.rows, tmp / "data")
        if args.csv:
            t0 = time.perf_counter()
            csv = complaints_sample.write(tmp / "complaints.csv", args.rows, END, "cp949")
            print(f"\ngenerated {csv.name} ({_mb(csv)}) in {time.perf_counter() - t0:.1f} s")
            _report("import, CP949 CSV, fresh", csv, args.rows, tmp / "data-csv")
        baseline = _baseline(parquet, min(args.slice, args.rows), args.rows)
        print(f"\nbulk import {wall:.1f} s against row by row {baseline:,.0f} s: {baseline / wall:,.0f}× faster")
        if args.rows == complaints_sample.MAX_ROWS:
            print(f"target ≤ {TARGET_S} s for 16 M rows: {'met' if wall <= TARGET_S else 'not met'} in this run")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
