"""Benchmark of a citydata refresh for every hotspot, with a sequential baseline in the same run.

    python -m bench.citydata            (make bench)

Prints: the refresh through the sample transport (rows per refresh, seconds, at several replay
steps; the population-only mode); then against a local HTTP server on 127.0.0.1 answering with
payloads of realistic size (the sample's record padded with the parking, bus, subway, bike,
event and charger blocks the real answer carries; the mean size is printed), with and without a
per-request latency like the real API's, for 1 worker (the sequential baseline) and more.
Figures, not assertions.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

KEY = "BENCHKEY"


def padded(record: dict, n: int) -> dict:
    """The other blocks of a real answer, in plausible sizes (the loader reads none of them)."""
    record = dict(record)
    record["PRK_STTS"] = [
        {
            "PRK_NM": f"공영주차장 {i}",
            "PRK_CD": f"{170000 + i}",
            "PRK_TYPE": "NW",
            "CPCTY": "120",
            "CUR_PRK_CNT": str(40 + i),
            "CUR_PRK_TIME": "2026-11-19 18:00:00",
            "CUR_PRK_YN": "Y",
            "PAY_YN": "Y",
            "RATES": "400",
            "TIME_RATES": "5",
            "ADD_RATES": "400",
            "ADD_TIME_RATES": "5",
            "ROAD_ADDR": "서울특별시 강남구 테헤란로 000",
            "ADDRESS": "서울특별시 강남구 역삼동 000-0",
            "LAT": "37.4979",
            "LNG": "127.0276",
        }
        for i in range(25)
    ]
    record["BUS_STN_STTS"] = [
        {
            "BUS_STN_ID": f"1210000{i:03d}",
            "BUS_ARS_ID": f"22{i:03d}",
            "BUS_STN_NM": f"정류소 {i}",
            "BUS_STN_X": "127.0276",
            "BUS_STN_Y": "37.4979",
            "BUS_DETAIL": [
                {"RTE_NM": f"{140 + j}", "RTE_ID": f"1000000{j}", "RTE_CONGEST": "보통", "ARRV_MSG": "3분후[2번째 전]"}
                for j in range(6)
            ],
        }
        for i in range(80)
    ]
    record["SUB_STTS"] = [
        {
            "SUB_STN_NM": f"역 {i}",
            "SUB_STN_LINE": "2",
            "SUB_DETAIL": [{"SUB_NT_STN": "역", "SUB_ARVL_MSG": "2분 후"} for _ in range(8)],
        }
        for i in range(4)
    ]
    record["SBIKE_STTS"] = [
        {
            "SBIKE_SPOT_NM": f"{100 + i}. 대여소",
            "SBIKE_SPOT_ID": f"ST-{i}",
            "SBIKE_PARKING_CNT": "7",
            "SBIKE_RACK_CNT": "10",
            "SBIKE_X": "127.02",
            "SBIKE_Y": "37.49",
        }
        for i in range(15)
    ]
    record["EVENT_STTS"] = [
        {
            "EVENT_NM": f"행사 {i}",
            "EVENT_PERIOD": "2026-11-01~2026-11-30",
            "EVENT_PLACE": "광장",
            "URL": "https://example.invalid/" + "x" * 80,
        }
        for i in range(5)
    ]
    record["CHARGER_STTS"] = [
        {
            "STAT_NM": f"충전소 {i}",
            "STAT_ID": f"ME{i:06d}",
            "STAT_ADDR": "서울특별시 강남구",
            "CHARGER_DETAILS": [
                {"CHARGER_ID": str(j), "CHARGER_TYPE": "급속", "CHARGER_STAT": "충전대기"} for j in range(4)
            ],
        }
        for i in range(12)
    ]
    weather = dict(record["WEATHER_STTS"][0])
    weather["FCST24HOURS"] = [
        {
            "FCST_DT": f"20261119{h:02d}00",
            "TEMP": "7",
            "PRECIPITATION": "-",
            "PRECPT_TYPE": "없음",
            "RAIN_CHANCE": "10",
            "SKY_STTS": "맑음",
        }
        for h in range(24)
    ]
    record["WEATHER_STTS"] = [weather]
    return record


class Handler(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, bytes]] = {}
    latency_s = 0.0

    def do_GET(self):
        time.sleep(self.latency_s)
        name = unquote(self.path.strip("/").split("/")[5])
        body = (
            self.bodies.get(name)
            or json.dumps({"RESULT": {"RESULT.CODE": "INFO-200", "RESULT.MESSAGE": "없음"}}).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-citydata-"))
    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    import settings
    from loaders import city_sample, feeds, replay
    from loaders.envelope import Outcome  # noqa: F401 (warm imports before timing)

    cfg = settings.get()
    feeds.ensure_sample(cfg)
    feed = feeds.FEEDS["citydata"]
    sample_path = data_dir / "sample"
    t = time.perf_counter()
    first = feeds.refresh(feed, cfg, use_sample=True)  # builds the sample's world once
    first_s = time.perf_counter() - t
    times = []
    for step in (60, 100, 140, 180, 220):
        replay.set_step(sample_path, step)
        t = time.perf_counter()
        record = feeds.refresh(feed, cfg, use_sample=True)
        times.append(time.perf_counter() - t)
    tables = ", ".join(
        f"{k} {v}" for k, v in json.loads((data_dir / "snapshots/citydata/current.json").read_text())["rows"].items()
    )
    print(
        f"sample transport: {first.rows_received} hotspots, {record.rows_loaded:,} rows per refresh ({tables}); "
        f"median {statistics.median(times):.2f} s over 5 steps (the first, building the sample's world: {first_s:.2f} s)"
    )
    os.environ["MAYOR_CITYDATA_MODE"] = "population"
    t = time.perf_counter()
    record = feeds.refresh(feed, settings.get(), use_sample=True)
    print(f"sample transport, population mode: {time.perf_counter() - t:.2f} s ({record.outcome})")
    os.environ.pop("MAYOR_CITYDATA_MODE")

    day = date.fromisoformat(cfg.sample_end_date)
    world = city_sample.world()
    Handler.bodies = {
        s.name: json.dumps(
            {
                "list_total_count": 1,
                "RESULT": city_sample.OK_RESULT,
                "CITYDATA": padded(city_sample.citydata_record(s, day, 216), s.num),
            },
            ensure_ascii=False,
        ).encode("utf-8")
        for code, s in world.spots.items()
        if code not in city_sample.NO_DATA_AREAS
    }
    sizes = [len(b) for b in Handler.bodies.values()]
    print(f"local server payloads: {statistics.mean(sizes) / 1000:.0f} kB mean, {sum(sizes) / 1e6:.1f} MB per refresh")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["SEOUL_API_BASE_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ["SEOUL_API_KEY"] = KEY
    try:
        for latency in (0.0, 0.15):
            Handler.latency_s = latency
            baseline = None
            for workers in (1, 4, 6, 8):
                os.environ["MAYOR_FETCH_WORKERS"] = str(workers)
                t = time.perf_counter()
                record = feeds.refresh(feed, settings.get())
                took = time.perf_counter() - t
                baseline = baseline or took
                print(
                    f"local HTTP, {latency * 1000:.0f} ms latency, {workers} worker(s): {took:.2f} s "
                    f"({record.outcome}, {record.rows_loaded:,} rows; {baseline / took:.1f}× the sequential run)"
                )
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
