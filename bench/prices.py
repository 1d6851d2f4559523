"""Benchmark of the prices path, with baselines measured in the same run.

    python -m bench.prices            (make bench)

Prints: the load pipeline (wire pages → contract → published snapshot) against row-by-row
inserts; a reader instance build; each prices query against the same answer computed the naive
way in pandas; the prices page rerun under AppTest, cold and warm. Figures, not assertions.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb


def median_ms(fn, repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-prices-"))
    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    os.environ["MAYOR_SNAPSHOT_CHECK_S"] = "2"
    import queries
    import settings
    from loaders import feeds
    from queries import warehouse

    cfg = settings.get()
    feeds.ensure_sample(cfg)
    feeds.refresh(feeds.FEEDS["reference"], cfg)
    t = time.perf_counter()
    record = feeds.refresh(feeds.FEEDS["prices"], cfg, use_sample=True)
    load_s = time.perf_counter() - t
    rows = record.rows_received
    print(
        f"load pipeline: {rows:,} wire rows in {load_s:.2f} s = {rows / load_s:,.0f} rows/s (outcome {record.outcome})"
    )

    frame = queries.run("price_items")  # warm the reader
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a BIGINT, b VARCHAR, c BIGINT, d DATE)")
    sample = [(i, "사과", 2500 + i % 100, "2026-11-19") for i in range(3000)]
    t = time.perf_counter()
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", sample)
    row_rate = len(sample) / (time.perf_counter() - t)
    print(f"baseline row-by-row insert: {row_rate:,.0f} rows/s → pipeline is {rows / load_s / row_rate:.1f}× faster")

    build_ms = median_ms(lambda: warehouse.build(data_dir).close(), repeat=10)
    print(f"reader instance build (attach + run log + quarantine + lock): {build_ms:.1f} ms median")

    item = frame["item_name"].iloc[0]
    all_prices = warehouse.shared().cursor().execute("SELECT * FROM prices").df()

    def naive_by_district():
        p = all_prices[all_prices["item_name"] == item]
        latest = p["surveyed_on"].max()
        recent = p[p["surveyed_on"] > latest - __import__("pandas").Timedelta(days=7)]
        return recent.groupby("district_code")["price_krw"].median()

    def naive_trend():
        p = all_prices[all_prices["item_name"] == item]
        return p.groupby([p["surveyed_on"].dt.to_period("W"), "market_type"])["price_krw"].median()

    def naive_items():
        return all_prices.groupby("item_name").agg(latest=("surveyed_on", "max"), markets=("market_name", "nunique"))

    pairs = {
        "price_by_district": naive_by_district,
        "price_trend_weekly": naive_trend,
        "price_items": naive_items,
    }
    print(f"\nqueries ({len(all_prices):,} rows in prices), median of 15:")
    print(f"  {'query':28} {'named query':>12} {'pandas naive':>13} {'ratio':>7}")
    for name in queries.names():
        if not name.startswith("price_"):
            continue
        params = {p: item for p in queries.parameters(name)}
        q_ms = median_ms(lambda n=name, p=params: queries.run(n, **p))
        naive = pairs.get(name)
        if naive:
            n_ms = median_ms(naive)
            print(f"  {name:28} {q_ms:10.1f}ms {n_ms:11.1f}ms {n_ms / q_ms:6.1f}×")
        else:
            print(f"  {name:28} {q_ms:10.1f}ms {'—':>13}")

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def page(clear: bool):
        if clear:
            st.cache_data.clear()
        at = AppTest.from_file(
            str(Path(__file__).resolve().parents[1] / "pages" / "prices.py"), default_timeout=60
        ).run()
        assert not at.exception

    cold = median_ms(lambda: page(True), repeat=7, warmup=1)
    warm = median_ms(lambda: page(False), repeat=7, warmup=1)
    print(
        f"\nprices page under AppTest: cold cache {cold:.0f} ms, warm cache {warm:.0f} ms median ({cold / warm:.1f}×)"
    )


if __name__ == "__main__":
    main()
