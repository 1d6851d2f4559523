"""The air and bikes feeds against a local server on 127.0.0.1 that speaks their wire formats:
both air schemas, 점검중 as missing (never zero), out-of-range values quarantined, the rentBikeStatus
key, paging until a short page, all-string values, stations outside Seoul, districts by boundary
and by centre; and their sample at the replayed moment."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import unquote

import duckdb
import pandas as pd
import pytest
from werkzeug.wrappers import Request, Response

import datadir
import settings
from loaders import airbike_sample, feeds, replay, store

KEY = "AIRBIKEKEY1"
OK = {"CODE": "INFO-000", "MESSAGE": "정상 처리되었습니다"}
NO_DATA = {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}


def old_air_row(station: str, region: str, **values) -> dict:
    row = {
        "MSRDT": "202611191400",
        "MSRRGN_NM": region,
        "MSRSTE_NM": station,
        "PM10": 42.0,
        "PM25": 21.0,
        "O3": 0.031,
        "NO2": 0.024,
        "CO": 0.5,
        "SO2": 0.003,
        "IDEX_NM": "보통",
        "IDEX_MVL": 66.0,
        "ARPLT_MAIN": "PM10",
    }
    row.update(values)
    return row


def new_air_row(station: str, region: str, **values) -> dict:
    row = {
        "MSRMT_DT": "2026-11-19 14:00",
        "SAREA_NM": region,
        "MSRSTN_NM": station,
        "PM": "42",
        "FPM": "21",
        "OZON": "0.031",
        "NTDX": "0.024",
        "CBMX": "0.5",
        "SPDX": "0.003",
        "CAI_GRD": "2",
        "CAI_IDX": "66",
    }
    row.update(values)
    return row


def bike_row(n: int, lat: float = 37.5665, lon: float = 126.9780, **values) -> dict:
    row = {
        "rackTotCnt": "15",
        "stationName": f"{100 + n}. 시청역 {n}번출구 앞",
        "parkingBikeTotCnt": str(n % 9),
        "shared": str(round(100 * (n % 9) / 15)),
        "stationLatitude": f"{lat:.8f}",
        "stationLongitude": f"{lon:.8f}",
        "stationId": f"ST-{n}",
    }
    row.update(values)
    return row


class FeedServer:
    """Answers `/{KEY}/json/{SERVICE}/{S}/{E}/` for RealtimeCityAir and bikeList like the real API
    (bikeList under rentBikeStatus, its count being the page's), recording every window asked."""

    def __init__(self):
        self.air: list[dict] = []
        self.bikes: list[dict] = []
        self.windows: list[tuple[str, int, int]] = []

    def __call__(self, request: Request) -> Response:
        _key, _fmt, service, start_s, end_s = [unquote(p) for p in request.path.strip("/").split("/")][:5]
        start, end = int(start_s), int(end_s)
        self.windows.append((service, start, end))
        if end - start + 1 > 1000:
            return self._json({"RESULT": {"CODE": "ERROR-336", "MESSAGE": "최대 1000건"}})
        if service == "RealtimeCityAir":
            page = self.air[start - 1 : end]
            doc = {service: {"list_total_count": len(self.air), "RESULT": OK, "row": page}} if page else NO_DATA
        elif service == "bikeList":
            page = self.bikes[start - 1 : end]
            doc = {"rentBikeStatus": {"list_total_count": len(page), "RESULT": OK, "row": page}} if page else NO_DATA
        else:
            doc = {"RESULT": {"CODE": "ERROR-310", "MESSAGE": "해당하는 서비스를 찾을 수 없습니다."}}
        return self._json(doc)

    @staticmethod
    def _json(doc) -> Response:
        return Response(json.dumps(doc, ensure_ascii=False), content_type="application/json;charset=UTF-8")


@pytest.fixture
def server(httpserver) -> FeedServer:
    srv = FeedServer()
    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(srv)
    return srv


@pytest.fixture
def live(httpserver, monkeypatch):
    monkeypatch.setenv("SEOUL_API_KEY", KEY)
    monkeypatch.setenv("SEOUL_API_BASE_URL", httpserver.url_for("").rstrip("/"))

    def refresh(feed: str) -> store.RunRecord:
        return feeds.refresh(feeds.FEEDS[feed], settings.get())

    return refresh


def published(data_dir, table: str, feed: str) -> pd.DataFrame:
    pointer = datadir.read_pointer(data_dir, feed)
    con = duckdb.connect(str(datadir.feed_dir(data_dir, feed) / pointer["file"]), read_only=True)
    try:
        return con.execute(f'SELECT * FROM "{table}"').df()
    finally:
        con.close()


def quarantined(data_dir, feed: str) -> pd.DataFrame:
    files = sorted(datadir.quarantine_dir(data_dir, feed).glob("*.parquet"))
    return pd.read_parquet(files[-1]) if files else pd.DataFrame(columns=["row_number", "reason", "record"])


# --- air ------------------------------------------------------------------------------------------


def test_old_air_schema_is_published_with_numbers_grades_and_districts(server, live, isolated_env):
    server.air = [
        old_air_row("종로구", "도심권"),
        old_air_row("강남구", "동남권", MSRDT=202611191400, PM10=88.0, PM25=41.0, IDEX_NM="나쁨", IDEX_MVL=130.0),
        old_air_row("중랑", "동북권", PM10=12, PM25=6, IDEX_NM="좋음", IDEX_MVL=20),
    ]
    record = live("air")
    assert record.outcome == "ok", record.message
    assert server.windows == [("RealtimeCityAir", 1, 25)]
    frame = published(isolated_env, "air_quality", "air").set_index("station_name")
    assert set(frame["schema"]) == {"old"}
    assert frame.loc["강남구", "district_code"] == "11680"
    assert frame.loc["중랑", "district_code"] == "11260" and frame.loc["중랑", "district_name"] == "중랑구"
    assert frame.loc["강남구", "pm10"] == 88.0 and frame.loc["강남구", "pm25"] == 41.0
    assert frame.loc["강남구", "grade"] == "나쁨" and frame.loc["중랑", "grade"] == "좋음"
    assert frame.loc["종로구", "main_pollutant"] == "PM10" and frame.loc["종로구", "o3"] == 0.031
    assert set(frame["measured_at"]) == {pd.Timestamp("2026-11-19 14:00")}
    assert record.as_of == "2026-11-19T14:00:00"


def test_new_air_schema_maps_numeric_grades_and_maintenance_to_missing(server, live, isolated_env):
    server.air = [
        new_air_row("종로구", "도심권"),
        new_air_row("강북구", "동북권", PM="점검중", FPM="점검중", CAI_GRD="", CAI_IDX="점검중"),
        new_air_row("마포구", "서북권", PM="-", FPM="", CAI_GRD="3", CAI_IDX="120"),
        new_air_row("송파구", "동남권", CAI_GRD="4", MSRMT_DT="202611191400"),
        new_air_row("서초구", "동남권", CAI_GRD="1", PM="0", FPM="0"),
    ]
    record = live("air")
    assert record.outcome == "ok", record.message
    frame = published(isolated_env, "air_quality", "air").set_index("station_name")
    assert set(frame["schema"]) == {"new"}
    # 점검중, "" and "-" are missing, never zero; a real zero stays zero.
    assert frame.loc["강북구", ["pm10", "pm25", "cai"]].isna().all()
    assert pd.isna(frame.loc["강북구", "grade"])
    assert frame.loc["강북구", "o3"] == 0.031  # the other pollutants of the station still count
    assert frame.loc["마포구", ["pm10", "pm25"]].isna().all()
    assert frame.loc["서초구", "pm10"] == 0.0
    assert dict(frame["grade"].dropna()) == {"종로구": "보통", "마포구": "나쁨", "송파구": "매우나쁨", "서초구": "좋음"}
    assert set(frame["measured_at"]) == {pd.Timestamp("2026-11-19 14:00")}
    assert record.rows_quarantined == 0


def test_out_of_range_air_values_and_unknown_stations_are_quarantined_with_reasons(server, live, isolated_env):
    good = [new_air_row(name, "도심권") for name in ("종로구", "중구", "용산구", "성동구", "광진구", "동대문구")]
    server.air = [
        *good,
        new_air_row("중랑구", "동북권", PM="-999"),
        new_air_row("성북구", "동북권", FPM="5000", OZON="3"),
        new_air_row("부산진구", "부산"),
        new_air_row("강북구", "동북권", CAI_GRD="9"),
    ]
    record = live("air")
    assert record.outcome == "rejected"  # 4 of 10 rows is over MAYOR_MAX_INVALID_SHARE (20%)
    reasons = quarantined(isolated_env, "air").set_index("row_number")["reason"]
    assert "PM10/PM outside 0-2,000" in reasons[7]
    assert "PM25/FPM outside 0-1,000" in reasons[8] and "O3/OZON outside 0-1 ppm" in reasons[8]
    assert "no district matches the station 부산진구" in reasons[9]
    assert "unknown grade: 9" in reasons[10]
    assert datadir.read_pointer(isolated_env, "air") is None  # nothing half-checked is published


def test_air_answer_with_no_data_keeps_serving(server, live, isolated_env):
    server.air = [new_air_row("종로구", "도심권")]
    assert live("air").outcome == "ok"
    server.air = []
    record = live("air")
    assert record.outcome == "no_data" and record.api_code == "INFO-200"
    assert len(published(isolated_env, "air_quality", "air")) == 1


# --- bikes ----------------------------------------------------------------------------------------


def test_bikes_are_paged_until_a_short_page_with_exact_windows(server, live, isolated_env):
    server.bikes = [bike_row(n, 37.50 + n * 0.00005, 127.00) for n in range(1, 2346)]
    record = live("bikes")
    assert record.outcome == "ok", record.message
    assert server.windows == [("bikeList", 1, 1000), ("bikeList", 1001, 2000), ("bikeList", 2001, 3000)]
    assert record.rows_loaded == 2345 and record.extra["requests"] == 3


def test_bikes_stop_at_an_empty_page_after_a_full_one(server, live, isolated_env):
    server.bikes = [bike_row(n, 37.50 + n * 0.00005, 127.00) for n in range(1, 2001)]
    record = live("bikes")
    assert record.outcome == "ok", record.message
    assert server.windows == [("bikeList", 1, 1000), ("bikeList", 1001, 2000), ("bikeList", 2001, 3000)]
    assert record.rows_loaded == 2000


def test_bike_values_arrive_as_strings_and_are_typed(server, live, isolated_env):
    server.bikes = [
        bike_row(4, 37.55566, 126.91060, stationName="102. 망원역 1번출구 앞", rackTotCnt="15", parkingBikeTotCnt="7"),
        bike_row(10, 37.51, 127.10, rackTotCnt="20", parkingBikeTotCnt="0", shared="0"),
    ]
    before = pd.Timestamp(datetime.now(feeds.bikes.SEOUL).replace(tzinfo=None)).floor("5min")
    assert live("bikes").outcome == "ok"
    frame = published(isolated_env, "bike_stations", "bikes").set_index("station_id")
    assert frame.loc["ST-4", "station_name"] == "102. 망원역 1번출구 앞"
    assert frame.loc["ST-4", "racks"] == 15 and frame.loc["ST-4", "bikes_parked"] == 7
    assert frame.loc["ST-4", "lat"] == pytest.approx(37.55566) and frame.loc["ST-4", "lon"] == pytest.approx(126.9106)
    assert frame.loc["ST-10", "bikes_parked"] == 0 and frame.loc["ST-10", "shared_pct"] == 0.0
    assert str(frame["racks"].dtype) == "int32"
    # No time field on the wire: the five-minute cycle of the fetch, in Seoul time.
    measured = frame["measured_at"].iloc[0]
    assert measured.minute % 5 == 0 and measured.second == 0 and before <= measured <= before + pd.Timedelta("5min")


def test_bike_stations_outside_seoul_and_bad_counts_are_quarantined(server, live, isolated_env):
    inside = [bike_row(n, 37.50 + n * 0.0001, 127.00) for n in range(1, 21)]
    server.bikes = [
        *inside,
        bike_row(901, 0.0, 0.0),
        bike_row(902, 35.1796, 129.0756),  # Busan
        bike_row(903, parkingBikeTotCnt="-1"),
        bike_row(904, stationLatitude="점검중"),
    ]
    record = live("bikes")
    assert record.outcome == "ok" and record.rows_loaded == 20 and record.rows_quarantined == 4
    reasons = quarantined(isolated_env, "bikes").set_index("row_number")["reason"]
    assert reasons[21].startswith("coordinates outside Seoul") and reasons[22].startswith("coordinates outside Seoul")
    assert "parkingBikeTotCnt outside 0-500" in reasons[23]
    assert "stationLatitude is missing" in reasons[24]
    assert set(published(isolated_env, "bike_stations", "bikes")["station_id"]) == {f"ST-{n}" for n in range(1, 21)}


def test_bike_districts_by_nearest_centre_without_boundaries(server, live, isolated_env):
    server.bikes = [
        bike_row(1, 37.59494, 126.97733),  # 종로구's centre
        bike_row(2, 37.51500, 127.04700),  # near 강남구's centre
        bike_row(3, 37.55566, 126.91060),  # 망원역, 마포구
    ]
    record = live("bikes")
    assert record.extra["district_method"] == "centroid"
    codes = published(isolated_env, "bike_stations", "bikes").set_index("station_id")["district_code"]
    assert dict(codes) == {"ST-1": "11110", "ST-2": "11680", "ST-3": "11440"}


def square(lat: float, lon: float, half: float) -> str:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})


def publish_boundaries(data_dir, shapes: dict[str, str]) -> None:
    frame = pd.DataFrame({"sig_cd": list(shapes), "name_ko": list(shapes), "geometry_json": list(shapes.values())})
    table = store.Table(
        "district_boundaries", {"sig_cd": "VARCHAR", "name_ko": "VARCHAR", "geometry_json": "VARCHAR"}, frame
    )
    store.publish(data_dir, "boundaries", [table], run_id="test-boundaries", as_of=None, is_sample=False, source="live")


def test_bike_districts_by_published_boundary_beat_the_nearest_centre(server, live, isolated_env):
    # 중구's polygon is drawn around 종로구's centre: a station there lies in 중구, though the
    # nearest centre is 종로구's. 강남구's polygon holds a hole; a station in it lies nowhere.
    shapes = {code: square(37.45 + 0.01 * i, 126.80, 0.004) for i, code in enumerate(["11110", "11170"])}
    shapes["11140"] = square(37.59494, 126.97733, 0.01)
    outer = [[127.03, 37.50], [127.07, 37.50], [127.07, 37.53], [127.03, 37.53], [127.03, 37.50]]
    hole = [[127.045, 37.51], [127.055, 37.51], [127.055, 37.52], [127.045, 37.52], [127.045, 37.51]]
    shapes["11680"] = json.dumps({"type": "Polygon", "coordinates": [outer, hole]})
    shapes["11440"] = json.dumps(
        {"type": "MultiPolygon", "coordinates": [json.loads(square(37.56, 126.91, 0.01))["coordinates"]]}
    )
    publish_boundaries(isolated_env, shapes)
    server.bikes = [
        bike_row(1, 37.59494, 126.97733),  # inside 중구's polygon
        bike_row(2, 37.51500, 127.03500),  # inside 강남구, outside its hole
        bike_row(3, 37.51500, 127.05000),  # in the hole, more than 300 m from any edge
        bike_row(4, 37.55566, 126.91060),  # inside 마포구's multipolygon
        bike_row(5, 37.57030, 126.91060),  # 200 m north of 마포구's edge: within the tolerance
        bike_row(6, 37.70000, 127.15000),  # inside Seoul's box, far from every polygon
        *[bike_row(n, 37.59, 126.98) for n in range(7, 13)],  # more in 중구, to stay under the invalid share
    ]
    record = live("bikes")
    assert record.outcome == "ok" and record.extra["district_method"] == "boundary"
    codes = published(isolated_env, "bike_stations", "bikes").set_index("station_id")["district_code"]
    assert dict(codes) == {"ST-1": "11140", "ST-2": "11680", "ST-4": "11440", "ST-5": "11440"} | {
        f"ST-{n}": "11140" for n in range(7, 13)
    }
    reasons = quarantined(isolated_env, "bikes").set_index("row_number")["reason"]
    assert dict(reasons) == {
        3: "outside every district boundary of Seoul",
        6: "outside every district boundary of Seoul",
    }


# --- the sample at the replayed moment ------------------------------------------------------------


def sample_refresh(data_dir, feed: str, source: str = "sample") -> store.RunRecord:
    return feeds.refresh(feeds.FEEDS[feed], settings.get(), use_sample=True, source=source)


def test_sample_air_at_the_default_step_has_a_bad_district_and_a_station_in_maintenance(isolated_env):
    assert sample_refresh(isolated_env, "air").outcome == "ok"
    frame = published(isolated_env, "air_quality", "air").set_index("district_code")
    assert len(frame) == 25 and set(frame["schema"]) == {"new"}
    assert set(frame["measured_at"]) == {pd.Timestamp("2026-11-19 18:00")}
    assert (frame["grade"] == "나쁨").sum() >= 1
    maintenance = frame.loc[airbike_sample.MAINTENANCE_DISTRICT]
    assert pd.isna(maintenance["pm10"]) and pd.isna(maintenance["grade"]) and maintenance["no2"] > 0
    assert frame.drop(index=airbike_sample.MAINTENANCE_DISTRICT)["pm10"].gt(0).all()


def test_sample_bikes_look_like_the_real_network(isolated_env):
    record = sample_refresh(isolated_env, "bikes")
    assert record.outcome == "ok" and record.rows_quarantined == 2  # the two 0,0 test stations
    assert record.extra["requests"] == 3  # 1-1000, 1001-2000, 2001-3000 (short)
    frame = published(isolated_env, "bike_stations", "bikes")
    assert 2600 <= len(frame) <= 2800 and frame["station_id"].is_unique
    assert frame["station_name"].str.match(r"^\d+\. \S").all()
    assert frame["lat"].between(37.41, 37.72).all() and frame["lon"].between(126.76, 127.19).all()
    assert frame["district_code"].nunique() == 25
    empty = (frame["bikes_parked"] == 0).mean()
    assert 0.05 < empty < 0.5, empty  # the evening rush empties a share of stations, not all


def test_replay_steps_change_what_the_sample_serves(isolated_env):
    sample_path = feeds.ensure_sample(settings.get())
    morning = airbike_sample.bike_counts(7 * 12)
    replay.set_step(sample_path, 9 * 12)
    assert sample_refresh(isolated_env, "bikes", source="replay").outcome == "ok"
    assert sample_refresh(isolated_env, "air", source="replay").outcome == "ok"
    at_nine = published(isolated_env, "bike_stations", "bikes")
    assert set(at_nine["measured_at"]) == {pd.Timestamp("2026-11-19 09:00")}
    assert set(published(isolated_env, "air_quality", "air")["measured_at"]) == {pd.Timestamp("2026-11-19 09:00")}
    assert replay.advance(sample_path) == 9 * 12 + 1
    assert sample_refresh(isolated_env, "bikes", source="replay").outcome == "ok"
    at_905 = published(isolated_env, "bike_stations", "bikes")
    assert set(at_905["measured_at"]) == {pd.Timestamp("2026-11-19 09:05")}
    assert not at_905["bikes_parked"].equals(at_nine["bikes_parked"])
    assert datadir.read_pointer(isolated_env, "bikes")["source"] == "replay"
    # Office stations gain bikes through the morning rush (commute-driven, not noise).
    office = airbike_sample.bike_layout()["office"] > 0.5
    assert airbike_sample.bike_counts(10 * 12)[office].sum() > morning[office].sum() * 1.2


def test_quarantine_files_per_feed_are_capped(isolated_env, monkeypatch):
    # bikes quarantines a few rows on every five-minute refresh: the folder must not grow forever.
    monkeypatch.setattr(store, "QUARANTINE_KEEP_FILES", 5)
    rejected = pd.DataFrame({"row_number": [1], "reason": ["coordinates outside Seoul"], "record": ["{}"]})
    run_ids = [f"20261122T0000{n:02d}000000Z-bikes-1" for n in range(8)]
    for run_id in run_ids:
        store.write_quarantine(isolated_env, "bikes", run_id, rejected)
    kept = sorted(p.stem for p in datadir.quarantine_dir(isolated_env, "bikes").glob("*.parquet"))
    assert kept == run_ids[-5:]
