"""Benchmark of the TOPIS monthly speed import, with baselines measured in the same run.

    python -m bench.traffic_history [LINKS] [DAYS]      (make bench; default 5000 links × 30 days)

Generates a month as TOPIS publishes it (CSV in CP949: 150,000 wide rows = 3.6 M hourly readings
for 5,000 links), then prints: the import (stage → validate → unpivot → merge → weekday curve →
publish) in wide and long rows per second; a second month on top (the merge); the same month
again (idempotent, nothing republished); an xlsx workbook through calamine; and two baselines:
pandas melt + row-by-row `executemany` on a slice (extrapolated), and pandas melt → DuckDB in
bulk. Figures, not assertions.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

HOURS = [f"{h:02d}시" for h in range(1, 25)]


def month_frame(links: int, days: int, start: date, seed: int = 3) -> pd.DataFrame:
    """A TOPIS-shaped month: one row per link × day, speeds with rush hours and noise."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"{1000000000 + 1000 * i}" for i in range(links)])
    roads = np.array(["강남대로", "테헤란로", "세종대로", "올림픽대로", "을지로", "퇴계로", "도산대로", "한강대로"])
    road = roads[np.arange(links) % len(roads)]
    day_list = [start + timedelta(days=d) for d in range(days)]
    n = links * days
    frame = pd.DataFrame(
        {
            "일자": np.repeat([f"{d:%Y%m%d}" for d in day_list], links),
            "요일": np.repeat(["월화수목금토일"[d.weekday()] for d in day_list], links),
            "도로명": np.tile(road, days),
            "링크아이디": np.tile(ids, days),
            "시점명": np.tile(np.char.add(road, "입구"), days),
            "종점명": np.tile(np.char.add(road, "사거리"), days),
            "방향": np.tile(np.where(np.arange(links) % 2, "상행", "하행"), days),
            "거리": np.tile(rng.integers(150, 900, links), days),
            "차선수": np.tile(rng.integers(2, 6, links), days),
            "기능유형구분": np.tile(np.where(road == "올림픽대로", "도시고속도로", "주간선도로"), days),
            "도심/외곽구분": np.tile(np.where(np.arange(links) % 3, "외곽", "도심"), days),
            "권역구분": np.tile(
                np.array(["도심권", "동북권", "서북권", "서남권", "동남권"])[np.arange(links) % 5], days
            ),
        }
    )
    hour = np.arange(24)
    load = 0.1 + 0.5 * np.exp(-0.5 * ((hour - 8) / 1.0) ** 2) + 0.6 * np.exp(-0.5 * ((hour - 18) / 1.3) ** 2)
    free = rng.uniform(35, 60, n)[:, None]
    speeds = free * (1 - 0.8 * load[None, :]) * rng.uniform(0.9, 1.1, (n, 24))
    for h, name in enumerate(HOURS):
        frame[name] = np.round(speeds[:, h], 1)
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, encoding="cp949")
    return path


def main(links: int = 5000, days: int = 30) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-traffic-"))
    os.environ["MAYOR_DATA_DIR"] = str(work / "data")
    import settings
    from loaders import feeds
    from loaders import traffic_history as th

    cfg = settings.get()
    feed = feeds.FEEDS["traffic_history"]
    t = time.perf_counter()
    october = month_frame(links, days, date(2026, 10, 1))
    november = month_frame(links, days, date(2026, 11, 1), seed=4)
    first = write_csv(october, work / "2026년 10월 서울시 차량통행속도.csv")
    second = write_csv(november, work / "2026년 11월 서울시 차량통행속도.csv")
    size_mb = first.stat().st_size / 1e6
    print(
        f"generated 2 months of {len(october):,} wide rows ({size_mb:.1f} MB CP949 each) in {time.perf_counter() - t:.1f} s"
    )

    wide = len(october)
    long_rows = wide * 24
    t = time.perf_counter()
    r1 = feeds.import_file(feed, cfg, first)
    s1 = time.perf_counter() - t
    print(
        f"import month 1: {s1:.2f} s = {wide / s1:,.0f} wide rows/s = {long_rows / s1:,.0f} readings/s "
        f"({r1.outcome}, {r1.rows_loaded:,} rows published)"
    )
    t = time.perf_counter()
    r2 = feeds.import_file(feed, cfg, second)
    s2 = time.perf_counter() - t
    print(
        f"import month 2 on top: {s2:.2f} s = {long_rows / s2:,.0f} readings/s "
        f"({r2.outcome}, {r2.rows_loaded:,} rows published: both months)"
    )
    t = time.perf_counter()
    r3 = feeds.import_file(feed, cfg, second)
    print(f"month 2 again: {time.perf_counter() - t:.2f} s ({r3.outcome}: {r3.message})")

    # Baseline 1: the naive path, pandas melt then one INSERT per reading, on a slice.
    slice_wide = 1000
    t = time.perf_counter()
    head = pd.read_csv(first, encoding="cp949", nrows=slice_wide, dtype=str)
    melted = head.melt(id_vars=list(head.columns[:12]), value_vars=HOURS, var_name="시", value_name="speed")
    melted = melted.dropna(subset=["speed"])
    con = duckdb.connect()
    con.execute("CREATE TABLE t (day VARCHAR, link_id VARCHAR, hour VARCHAR, speed DOUBLE)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        melted[["일자", "링크아이디", "시", "speed"]].astype({"speed": float}).values.tolist(),
    )
    naive_rate = len(melted) / (time.perf_counter() - t)
    print(
        f"baseline pandas melt + executemany ({len(melted):,} readings): {naive_rate:,.0f} readings/s "
        f"→ a month would take {long_rows / naive_rate / 60:,.0f} min; the import is {long_rows / s1 / naive_rate:,.0f}× faster"
    )

    # Baseline 2: pandas read + melt, then DuckDB in bulk (no validation, no merge).
    t = time.perf_counter()
    whole = pd.read_csv(first, encoding="cp949", dtype=str)
    melted = whole.melt(id_vars=list(whole.columns[:12]), value_vars=HOURS, var_name="시", value_name="speed")
    melted["speed"] = pd.to_numeric(melted["speed"], errors="coerce")
    con.register("m", melted)
    con.execute("CREATE TABLE bulk AS SELECT * FROM m WHERE speed IS NOT NULL")
    pandas_s = time.perf_counter() - t
    print(
        f"baseline pandas read_csv + melt → DuckDB: {pandas_s:.2f} s = {long_rows / pandas_s:,.0f} readings/s "
        f"(the import, with validation, merge and curve, is {pandas_s / s1:.1f}× that speed)"
    )

    # xlsx: calamine into Arrow, against pandas' openpyxl reader.
    xlsx_rows = min(wide, 20_000)
    book = work / "month.xlsx"
    t = time.perf_counter()
    october.head(xlsx_rows).to_excel(book, index=False, engine="openpyxl")
    print(f"wrote a {xlsx_rows:,}-row workbook in {time.perf_counter() - t:.1f} s ({book.stat().st_size / 1e6:.1f} MB)")
    db = work / "stage.duckdb"
    t = time.perf_counter()
    th.stage(book, db).con.close()
    calamine_s = time.perf_counter() - t
    t = time.perf_counter()
    pd.read_excel(book, engine="openpyxl", dtype=str)
    openpyxl_s = time.perf_counter() - t
    print(
        f"xlsx staging via calamine: {xlsx_rows / calamine_s:,.0f} wide rows/s ({calamine_s:.2f} s); "
        f"pandas openpyxl read alone: {xlsx_rows / openpyxl_s:,.0f} rows/s → calamine {openpyxl_s / calamine_s:.1f}× faster"
    )
    t = time.perf_counter()
    os.environ["MAYOR_DATA_DIR"] = str(work / "xlsx-data")  # on its own, not merged with the months above
    r4 = feeds.import_file(feed, settings.get(), book)
    xlsx_s = time.perf_counter() - t
    print(f"xlsx import end to end: {xlsx_s:.2f} s = {xlsx_rows / xlsx_s:,.0f} wide rows/s ({r4.outcome})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
