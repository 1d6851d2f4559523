"""Benchmark of the Traffic and Crowds pages on the city fixture, with baselines from the same run.

    python -m bench.city_pages

Prints: the bytes the traffic page's map sends (what st.pydeck_chart puts on the wire) with the
realistic ~600 links and with 5,000 links, against pydeck's own indented JSON of the same map;
page reruns under AppTest, cold and warm, against the datasets page on the same warehouse.
Figures, not assertions.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def fresh_dir(tag: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=f"bench-city-{tag}-")) / "data"
    os.environ["MAYOR_DATA_DIR"] = str(d)
    from queries import warehouse

    warehouse._warehouses.clear()
    return d


def app_test(page: str):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(PROJECT / page), default_timeout=120)


def map_figures(links: int, points: int) -> None:
    import pydeck as pdk
    import streamlit as st

    from tests import city_fixture as cf

    data_dir = fresh_dir(f"{links}")
    cf.publish_city(data_dir, cf.city_frames(links=links, points=points))
    st.cache_data.clear()
    at = app_test("pages/traffic.py").run()
    (deck,) = at.get("deck_gl_json_chart")
    spec = deck.proto.json
    sent = len(spec.encode("utf-8"))
    parsed = json.loads(spec)
    drawn = sum(len(layer["data"]) for layer in parsed["layers"] if layer["id"].startswith("links-"))
    # The same map as pydeck writes it by default (indent=2, \\u-escaped Hangul).
    layers = [pdk.Layer(layer.pop("@@type"), layer.pop("data", None), **layer) for layer in parsed["layers"]]
    plain = pdk.Deck(layers=layers, initial_view_state=pdk.ViewState(**parsed["initialViewState"]), map_style=None)
    plain_bytes = len(plain.to_json().encode("utf-8"))
    print(
        f"traffic map, {links:,} links of {points} points: {drawn:,} drawn, {sent:,} bytes sent "
        f"({sent / 1e6:.2f} MB); pydeck's default JSON of the same map {plain_bytes:,} bytes "
        f"→ {plain_bytes / sent:.1f}× smaller"
    )


def median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def rerun_figures() -> None:
    import streamlit as st

    from tests import city_fixture as cf

    data_dir = fresh_dir("pages")
    cf.publish_city(data_dir, cf.city_frames())
    results = {}
    for page in ("pages/data.py", "pages/traffic.py", "pages/crowds.py"):
        st.cache_data.clear()
        at = app_test(page)
        t = time.perf_counter()
        at.run()
        cold = (time.perf_counter() - t) * 1000
        assert not at.exception, [e.value for e in at.exception]
        warm = median_ms(at.run)
        results[page] = (cold, warm)
    base_warm = results["pages/data.py"][1]
    for page, (cold, warm) in results.items():
        print(
            f"{page}: first run {cold:.0f} ms, warm rerun {warm:.0f} ms "
            f"({warm / base_warm:.1f}× the datasets page's {base_warm:.0f} ms)"
        )


def main() -> None:
    os.environ.setdefault("MAYOR_SNAPSHOT_CHECK_S", "2")
    map_figures(600, 12)
    map_figures(5000, 12)
    map_figures(5000, 40)
    rerun_figures()


if __name__ == "__main__":
    main()
