"""Real-time city data against a local server: every hotspot recorded, the wire quirks (dotted and
flat RESULT, both time spellings, blocks as dicts or lists, empty link lists, missing markers,
XYLIST), failures that spare the other hotspots, the speed log learnt across loads, and the
population-only mode."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import datadir
import queries
import settings
from loaders import citydata, feeds, hotspots, roads
from tests.city_wire import KEY, NO_DATA, OK, SPOTS, CityServer, link, population
from tests.city_wire import citydata as doc

AT = "2026-11-19 18:00"


@pytest.fixture
def city(httpserver, monkeypatch, isolated_env) -> CityServer:
    server = CityServer()
    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(server)
    monkeypatch.setenv("SEOUL_API_BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("SEOUL_API_KEY", KEY)
    monkeypatch.setattr(hotspots, "listed", lambda: SPOTS.copy())
    return server


def answer(server: CityServer, name: str, body) -> None:
    server.answers[("citydata", name)] = body


def refresh(feed: str = "citydata"):
    return feeds.refresh(feeds.FEEDS[feed], settings.get())


def rows(sql: str) -> pd.DataFrame:
    return queries.execute(sql, {})


def standard_answers(server: CityServer, at: str = AT) -> None:
    """Five hotspots, one quirk each: the dotted RESULT and ROAD_TRAFFIC_TIME (POI001); the old
    ROAD_TRFFIC_TIME spelling, the road block as a list and 24 forecast hours (POI014); a flat
    INFO-200 (POI055); an empty link list and the population block as a dict (POI091); links only
    (POI125, listed without coordinates)."""
    shared = link("L-SHARED", "18", ((127.03, 37.50), (127.031, 37.501), (127.032, 37.502)))
    answer(server, "강남 MICE 관광특구", doc("POI001", "강남 MICE 관광특구", at, links=[link("L-1", "31"), shared]))
    answer(
        server,
        "강남역",
        doc(
            "POI014",
            "강남역",
            at,
            links=[shared, link("L-2", "12", road="테헤란로")],
            speed="15",
            time_key="ROAD_TRFFIC_TIME",
            road_as_list=True,
            pop=population("POI014", "강남역", at, level="약간붐빔", forecast_hours=24),
        ),
    )
    answer(server, "홍대입구역(2호선)", {"RESULT.CODE": "INFO-200", "RESULT.MESSAGE": "해당하는 데이터가 없습니다."})
    answer(server, "남산공원", doc("POI091", "남산공원", at, links=[], population_as_dict=True))
    answer(
        server,
        "안양천",
        doc("POI125", "안양천", at, links=[link("L-3", "40", ((126.88, 37.52), (126.882, 37.524)))], speed="40"),
    )


def test_every_hotspot_is_recorded_and_every_block_loads(city):
    standard_answers(city)
    record = refresh()
    assert record.outcome == "ok", record.message
    assert record.extra["hotspots"] == {"ok": 4, "no_data": 1, "failed": 0}
    assert record.as_of == "2026-11-19T18:00:00"
    fetched = rows("SELECT area_code, outcome, api_code FROM hotspot_fetch ORDER BY area_code")
    assert fetched.values.tolist() == [
        ["POI001", "ok", "INFO-000"],
        ["POI014", "ok", "INFO-000"],
        ["POI055", "no_data", "INFO-200"],
        ["POI091", "ok", "INFO-000"],
        ["POI125", "ok", "INFO-000"],
    ]
    crowd = rows("SELECT * FROM hotspot_crowd ORDER BY area_code").set_index("area_code")
    assert list(crowd.index) == ["POI001", "POI014", "POI091", "POI125"]  # the dict-shaped block too
    assert crowd.loc["POI014", "congestion_level"] == "약간 붐빔"  # spelt without the space on the wire
    assert crowd.loc["POI014", "congestion_rank"] == 3
    assert crowd.loc["POI001", "population_min"] == 24000 and crowd.loc["POI001", "population_max"] == 26000
    assert crowd.loc["POI001", "measured_at"] == pd.Timestamp(AT)
    forecast = rows("SELECT area_code, count(*) AS n, max(congestion_rank) AS top FROM hotspot_forecast GROUP BY 1")
    assert dict(zip(forecast["area_code"], forecast["n"], strict=True)) == {
        "POI001": 12,
        "POI014": 24,
        "POI091": 12,
        "POI125": 12,
    }
    assert set(forecast["top"]) == {4}
    traffic = rows("SELECT area_code, avg_speed_kmh, measured_at FROM hotspot_traffic ORDER BY 1")
    assert traffic["area_code"].tolist() == ["POI001", "POI014", "POI091", "POI125"]
    assert (traffic["measured_at"] == pd.Timestamp(AT)).all()  # both time spellings
    assert traffic.set_index("area_code").loc["POI014", "avg_speed_kmh"] == 15


def test_links_are_deduplicated_with_their_geometry(city):
    standard_answers(city)
    assert refresh().outcome == "ok"
    links = rows("SELECT * FROM road_links ORDER BY link_id").set_index("link_id")
    assert list(links.index) == ["L-1", "L-2", "L-3", "L-SHARED"]
    assert links.loc["L-SHARED", "area_code"] == "POI001"  # the first hotspot that reported it
    assert json.loads(links.loc["L-SHARED", "path"]) == [[127.03, 37.5], [127.031, 37.501], [127.032, 37.502]]
    assert links.loc["L-2", "road_name"] == "테헤란로" and links.loc["L-2", "distance_m"] == 350
    assert links.loc["L-2", "measured_at"] == pd.Timestamp(AT)  # from ROAD_TRFFIC_TIME


def test_a_failing_hotspot_is_recorded_and_the_others_still_load(city):
    standard_answers(city)
    answer(city, "남산공원", 500)  # every attempt fails
    record = refresh()
    assert record.outcome == "ok", record.message
    failed = rows("SELECT * FROM hotspot_fetch WHERE outcome = 'failed'")
    assert failed["area_code"].tolist() == ["POI091"]
    assert "HTTP 500" in failed["message"].iloc[0] and KEY not in failed["message"].iloc[0]
    assert city.asked[("citydata", "남산공원")] == 3  # MAYOR_RETRY_ATTEMPTS in the tests
    assert set(rows("SELECT area_code FROM hotspot_crowd")["area_code"]) == {"POI001", "POI014", "POI125"}


def test_too_many_failures_fail_the_run_and_the_last_good_data_serves(city, isolated_env):
    standard_answers(city)
    assert refresh().outcome == "ok"
    before = datadir.read_pointer(isolated_env, "citydata")
    for name in ("강남 MICE 관광특구", "강남역", "남산공원"):
        answer(city, name, {"RESULT": {"RESULT.CODE": "ERROR-601", "RESULT.MESSAGE": "SQL 문장 오류"}})
    record = refresh()
    assert record.outcome == "failed"
    assert "3 of 5 hotspots failed" in record.message and "MAYOR_MAX_FAILED_SHARE" in record.message
    assert datadir.read_pointer(isolated_env, "citydata") == before


def test_a_refused_key_stops_the_fan_out(city, monkeypatch):
    monkeypatch.setenv("MAYOR_FETCH_WORKERS", "1")
    for name in SPOTS["area_name"]:
        answer(city, name, "<RESULT><CODE>INFO-100</CODE><MESSAGE>인증키가 유효하지 않습니다.</MESSAGE></RESULT>")
    record = refresh()
    assert record.outcome == "failed" and record.api_code == "INFO-100"
    assert "stopped asking" in record.message
    assert city.count("citydata") == 1


def test_missing_markers_become_missing_not_zero(city):
    pop = population(
        "POI001", "강남 MICE 관광특구", AT, PPLTN_RATE_70="-", RESNT_PPLTN_RATE="", AREA_PPLTN_MAX="점검중"
    )
    answer(
        city,
        "강남 MICE 관광특구",
        doc(
            "POI001",
            "강남 MICE 관광특구",
            AT,
            pop=pop,
            speed="점검중",
            weather_extra={"PM10": "점검중", "TEMP": "", "HUMIDITY": "-", "PRECIPITATION": "-"},
        ),
    )
    record = refresh()
    assert record.outcome == "ok" and record.rows_quarantined == 0
    crowd = rows("SELECT * FROM hotspot_crowd").iloc[0]
    assert pd.isna(crowd["age_70_pct"]) and pd.isna(crowd["resident_pct"]) and pd.isna(crowd["population_max"])
    assert crowd["age_60_pct"] == 12.5 and crowd["population_min"] == 24000
    weather = rows("SELECT * FROM hotspot_weather").iloc[0]
    assert pd.isna(weather["pm10"]) and pd.isna(weather["temp_c"]) and pd.isna(weather["humidity_pct"])
    assert pd.isna(weather["precipitation"]) and weather["pm25"] == 22
    traffic = rows("SELECT * FROM hotspot_traffic").iloc[0]
    assert pd.isna(traffic["avg_speed_kmh"]) and traffic["traffic_index"] == "서행"
    assert rows("SELECT count(*) AS n FROM city_speed_log")["n"].iloc[0] == 0  # nothing to average


def test_coordinates_outside_seoul_are_quarantined(city):
    busan = ((129.07, 35.18), (129.08, 35.19))
    events = [
        {
            "ACDNT_OCCR_DT": "2026-11-19 17:10",
            "EXP_CLR_DT": "2026-11-19 19:00",
            "ACDNT_TYPE": "사고",
            "ACDNT_DTYPE": "추돌사고",
            "ACDNT_INFO": "강남대로 추돌",
            "ACDNT_X": "127.02",
            "ACDNT_Y": "37.49",
        },
        {
            "ACDNT_OCCR_DT": "2026-11-19 16:00",
            "EXP_CLR_DT": "미정",
            "ACDNT_TYPE": "공사",
            "ACDNT_X": "129.07",
            "ACDNT_Y": "35.18",
        },
        {"ACDNT_OCCR_DT": "", "ACDNT_TYPE": "", "ACDNT_INFO": ""},  # an empty placeholder, not an event
    ]
    links = [link("L-OK", "30"), link("L-BUSAN", "30", busan), link("L-BAD", "30", XYLIST="127.0_abc|127.1_37.5")]
    answer(city, "강남 MICE 관광특구", doc("POI001", "강남 MICE 관광특구", AT, links=links, events=events))
    record = refresh()
    assert record.outcome == "ok"
    assert rows("SELECT link_id FROM road_links")["link_id"].tolist() == ["L-OK"]
    events_now = rows("SELECT * FROM road_events")
    assert events_now["info"].tolist() == ["강남대로 추돌"]
    assert events_now["expected_clear_at"].iloc[0] == pd.Timestamp("2026-11-19 19:00")
    reasons = rows("SELECT reason FROM quarantine ORDER BY reason")["reason"].tolist()
    assert len(reasons) == 3
    assert any(r.startswith("ACDNT_CNTRL_STTS:") and "ACDNT_X lies outside Seoul" in r for r in reasons)
    assert any("XYLIST: point 129.07, 35.18 lies outside Seoul" in r for r in reasons)
    assert any("XYLIST: point 127.0_abc is not numeric" in r for r in reasons)


@pytest.mark.parametrize(
    ("text", "points", "problem"),
    [
        ("126.9_37.5|126.91_37.51", [[126.9, 37.5], [126.91, 37.51]], None),
        ("126.9,37.5;126.91,37.51", [[126.9, 37.5], [126.91, 37.51]], None),
        (" 126.9 37.5 | 126.91 37.51 ", [[126.9, 37.5], [126.91, 37.51]], None),
        ("37.5_126.9|37.51_126.91", [[126.9, 37.5], [126.91, 37.51]], None),  # lat first
        ("126.9,37.5,126.91,37.51", [[126.9, 37.5], [126.91, 37.51]], None),  # one separator throughout
        ("126.9_37.5|126.91_37.51|", [[126.9, 37.5], [126.91, 37.51]], None),  # a trailing bar
        ("126.9_37.5", None, "fewer than two points"),
        ("126.9_37.5|129.1_35.2", None, "point 129.1, 35.2 lies outside Seoul"),
        ("126.9_37.5|0_0", None, "point 0.0, 0.0 lies outside Seoul"),
        ("126.9_37.5_1|126.91_37.51", None, "point '126.9_37.5_1' is not x_y"),
        ("126.9,37.5,126.91", None, "an odd count of numbers (3)"),
        ("", None, None),
        ("-", None, None),
        ("점검중", None, None),
        (None, None, None),
    ],
)
def test_xylist_parsing(text, points, problem):
    assert roads.parse_xylist(text) == (points, problem)


@pytest.mark.parametrize(
    ("speed", "road", "level"),
    [
        (14.9, "강남대로", "정체"),
        (15.0, "강남대로", "정체"),
        (15.1, "강남대로", "서행"),
        (24.9, "테헤란로", "서행"),
        (25.0, "테헤란로", "원활"),
        (30.0, "올림픽대로", "정체"),
        (49.9, "강변북로", "서행"),
        (50.0, "동부간선도로", "원활"),
        (70.0, None, "원활"),
        (None, "강남대로", None),
    ],
)
def test_speed_levels_follow_the_city_cut_offs(speed, road, level):
    assert roads.level_for(speed, road) == level
    if speed is not None:
        got = roads.levels_for(pd.Series([speed]), pd.Series([road], dtype="object")).iloc[0]
        assert got == level


def test_the_speed_log_is_carried_across_loads_for_eight_days(city):
    standard_answers(city, "2026-11-19 18:00")
    assert refresh().outcome == "ok"
    standard_answers(city, "2026-11-19 18:05")
    assert refresh().outcome == "ok"
    log = rows("SELECT * FROM city_speed_log ORDER BY measured_at")
    assert log["measured_at"].tolist() == [pd.Timestamp("2026-11-19 18:00"), pd.Timestamp("2026-11-19 18:05")]
    assert log["avg_speed_kmh"].tolist() == [round((21 + 15 + 21 + 40) / 4, 2)] * 2
    assert log["hotspots"].tolist() == [4, 4]
    standard_answers(city, "2026-11-19 18:05")  # the same cycle again replaces its row
    refresh()
    assert len(rows("SELECT * FROM city_speed_log")) == 2
    standard_answers(city, "2026-11-27 18:06")  # 8 days later: the first two fall out
    assert refresh().outcome == "ok"
    assert rows("SELECT measured_at FROM city_speed_log")["measured_at"].tolist() == [pd.Timestamp("2026-11-27 18:06")]


def test_population_mode_refreshes_crowds_and_keeps_the_road_tables(city, monkeypatch):
    standard_answers(city)
    assert refresh().outcome == "ok"
    roads_before = rows("SELECT * FROM road_links ORDER BY link_id")
    log_before = rows("SELECT * FROM city_speed_log")
    monkeypatch.setenv("MAYOR_CITYDATA_MODE", "population")
    later = "2026-11-19 18:10"
    for code, name in SPOTS[["area_code", "area_name"]].itertuples(index=False):
        row = population(code, name, later, level="붐빔")
        city.answers[("citydata_ppltn", name)] = {"SeoulRtd.citydata_ppltn": [row], "RESULT": OK}
    city.answers[("citydata_ppltn", "남산공원")] = {"RESULT": NO_DATA}
    record = refresh()
    assert record.outcome == "ok", record.message
    assert record.extra["service"] == "citydata_ppltn"
    assert city.count("citydata") == 5  # only the first, full refresh asked citydata
    crowd = rows("SELECT area_code, congestion_level, measured_at FROM hotspot_crowd ORDER BY 1")
    assert crowd["area_code"].tolist() == ["POI001", "POI014", "POI055", "POI125"]
    assert set(crowd["congestion_level"]) == {"붐빔"} and set(crowd["measured_at"]) == {pd.Timestamp(later)}
    pd.testing.assert_frame_equal(rows("SELECT * FROM road_links ORDER BY link_id"), roads_before)
    pd.testing.assert_frame_equal(rows("SELECT * FROM city_speed_log"), log_before)
    assert rows("SELECT outcome FROM hotspot_fetch WHERE area_code = 'POI091'")["outcome"].iloc[0] == "no_data"


def test_an_identical_refresh_publishes_nothing(city):
    standard_answers(city)
    assert refresh().outcome == "ok"
    again = refresh()
    assert again.outcome == "unchanged", again.message


def test_the_mode_setting_is_checked(monkeypatch):
    monkeypatch.setenv("MAYOR_CITYDATA_MODE", "everything")
    with pytest.raises(settings.SettingError, match="MAYOR_CITYDATA_MODE"):
        settings.get()


def test_hotspots_without_coordinates_take_them_from_their_links(city, isolated_env):
    standard_answers(city)
    assert refresh("hotspots").outcome == "ok"  # before any city data: the district centre
    spots = rows("SELECT * FROM hotspots").set_index("area_code")
    assert spots.loc["POI125", "coord_source"] == "district_centroid"
    assert refresh().outcome == "ok"
    assert refresh("hotspots").outcome == "ok"
    spots = rows("SELECT * FROM hotspots").set_index("area_code")
    assert spots.loc["POI125", "coord_source"] == "links"
    assert spots.loc["POI125", "lon"] == pytest.approx((126.88 + 126.882) / 2)
    assert spots.loc["POI125", "lat"] == pytest.approx((37.52 + 37.524) / 2)
    assert spots.loc["POI014", "coord_source"] == "approximate" and spots.loc["POI014", "lat"] == 37.4979


def test_the_bundled_hotspot_list_is_sound():
    listed = hotspots.listed()
    assert len(listed) == 121 and listed["area_code"].is_unique and listed["area_name"].is_unique
    assert set(listed["category"]) == set(hotspots.CATEGORIES)
    assert {"POI014", "POI009", "POI105", "POI131"} <= set(listed["area_code"])
    names = dict(zip(listed["area_code"], listed["area_name"], strict=True))
    assert names["POI009"] == "광화문·덕수궁" and names["POI055"] == "홍대입구역(2호선)"
    with_xy = listed.dropna(subset=["lat", "lon"])
    assert len(with_xy) >= 115 and hotspots.in_seoul(with_xy["lat"], with_xy["lon"]).all()
    seoul = set(citydata.hotspots.reference.districts()["sig_cd"])
    assert set(listed["district_code"]) - seoul == {"41290"}  # 서울대공원 lies in Gwacheon
