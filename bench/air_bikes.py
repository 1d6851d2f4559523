"""Benchmark of the air and bikes feeds and page, with baselines measured in the same run.

    python -m bench.air_bikes [BOUNDARIES.geojson]      (make bench)

Prints: rows and requests per refresh and refresh durations (in-process, and as the watcher runs
them in a forked child); with a GeoJSON of the 25 districts, district assignment by boundary
against the nearest-centre baseline; the bytes the bike map sends (city cells, each district)
against sending every station; the page's rerun under AppTest. Figures, not assertions.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def timed(fn, repeat: int = 5):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main(argv: list[str]) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-airbikes-"))
    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    import pandas as pd

    import queries
    import settings
    from loaders import boundaries, feeds, geo, replay, runner, store, watch
    from ui import airbikes

    cfg = settings.get()
    sample_path = feeds.ensure_sample(cfg)
    feeds.refresh(feeds.FEEDS["reference"], cfg)

    def refresh(feed: str, source: str = "sample"):
        return feeds.refresh(feeds.FEEDS[feed], cfg, use_sample=True, source=source)

    for feed, stride in (("air", 12), ("bikes", 1)):
        step = replay.DEFAULT_STEP

        def one(feed=feed, stride=stride):
            nonlocal step
            step += stride  # a new reading each time (air: the next hour), so every run publishes
            replay.set_step(sample_path, step)
            return refresh(feed, "replay")

        seconds, record = timed(one)
        print(
            f"{feed}: {record.rows_received:,} rows received, {record.rows_loaded:,} loaded, "
            f"{record.rows_quarantined} quarantined, {record.extra.get('requests')} requests; "
            f"refresh {seconds * 1000:.0f} ms (median of 5, in-process, outcome {record.outcome})"
        )
    replay.set_step(sample_path, replay.DEFAULT_STEP)

    w = watch.Watcher(cfg, "replay", once=True)
    t = time.perf_counter()
    w.run()
    step_s = time.perf_counter() - t
    per_feed = ", ".join(f"{r['feed']} {r['outcome']} {r['duration_s'] * 1000:.0f} ms" for r in w.results)
    print(f"one replay step through the watcher (forked children): {step_s * 1000:.0f} ms ({per_feed})")

    if argv:
        doc = json.loads(Path(argv[0]).read_text("utf-8"))
        rows = [{"properties": f["properties"], "geometry": f["geometry"]} for f in doc["features"]]
        ctx = runner.RunContext(cfg, data_dir, "file", is_sample=False)
        result = boundaries.transform(rows, ctx)
        store.publish(data_dir, "boundaries", result.tables, run_id="bench", as_of=None, is_sample=False, source="file")
        stations = queries.run("bike_grid")  # warm
        frame = pd.concat(
            [queries.run("bike_stations_in_district", district_code=c) for c in queries.run("districts")["sig_cd"]]
        )
        polygons = geo.serving_boundaries(data_dir)
        by_boundary_s, codes = timed(lambda: geo.district_by_boundary(frame["lat"], frame["lon"], polygons))
        by_centre_s, centres = timed(lambda: geo.district_by_centroid(frame["lat"], frame["lon"]))
        print(
            f"district of {len(frame):,} stations: boundary {by_boundary_s * 1000:.0f} ms, nearest centre "
            f"{by_centre_s * 1000:.1f} ms ({by_boundary_s / by_centre_s:.0f}×); they agree on "
            f"{(codes == centres).mean():.1%}, {codes.isna().sum()} outside every boundary"
        )
        replay.set_step(sample_path, replay.DEFAULT_STEP + 1)
        seconds, record = timed(lambda: refresh("bikes"), repeat=3)
        print(f"bikes refresh with boundaries published: {seconds * 1000:.0f} ms ({record.extra['district_method']})")
        del stations

    grid = queries.run("bike_grid")
    city = airbikes.payload_bytes(airbikes.bike_deck(grid, per_station=False))
    districts = queries.run("districts")["sig_cd"]
    per_district = [
        airbikes.payload_bytes(
            airbikes.bike_deck(queries.run("bike_stations_in_district", district_code=c), per_station=True)
        )
        for c in districts
    ]
    every = pd.concat([queries.run("bike_stations_in_district", district_code=c) for c in districts])
    baseline = airbikes.payload_bytes(airbikes.bike_deck(every, per_station=True))
    print(
        f"bike map bytes: city in {len(grid)} cells {city:,} B; one district {min(per_district):,}–"
        f"{max(per_district):,} B; baseline every station ({len(every):,}) in one map {baseline:,} B "
        f"→ city view {baseline / city:.1f}× smaller, largest district {baseline / max(per_district):.1f}× smaller"
    )

    from streamlit.testing.v1 import AppTest

    page = str(Path(__file__).resolve().parents[1] / "pages" / "air_bikes.py")
    t = time.perf_counter()
    AppTest.from_file(page, default_timeout=60).run()
    cold = time.perf_counter() - t
    warm, _ = timed(lambda: AppTest.from_file(page, default_timeout=60).run(), repeat=5)
    print(f"air-and-bikes page under AppTest: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
