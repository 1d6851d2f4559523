"""Road speeds per link against a local server: TrafficInfo's lowercase XML, LinkInfo names and
their cache, which links are asked, and links that fail or answer no data."""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest

import queries
import settings
from loaders import feeds, hotspots, traffic
from tests.city_wire import KEY, SPOTS, CityServer, citydata, link, xml_row


@pytest.fixture
def city(httpserver, monkeypatch, isolated_env) -> CityServer:
    server = CityServer()
    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(server)
    monkeypatch.setenv("SEOUL_API_BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("SEOUL_API_KEY", KEY)
    monkeypatch.setattr(hotspots, "listed", lambda: SPOTS.copy())
    return server


def speed_xml(link_id: str, speed: str, seconds: str = "60") -> str:
    return xml_row("TrafficInfo", {"link_id": link_id, "prcs_spd": speed, "prcs_trv_time": seconds})


def names_xml(link_id: str, road: str, start: str, end: str, dist: str) -> str:
    return xml_row(
        "LinkInfo", {"link_id": link_id, "road_name": road, "st_node_nm": start, "ed_node_nm": end, "map_dist": dist}
    )


def refresh(feed: str = "traffic"):
    return feeds.refresh(feeds.FEEDS[feed], settings.get())


def rows(sql: str) -> pd.DataFrame:
    return queries.execute(sql, {})


def serve_links(server: CityServer) -> None:
    server.answers |= {
        ("TrafficInfo", "1220003800"): speed_xml("1220003800", "12.5", "96"),
        ("TrafficInfo", "1220003900"): speed_xml("1220003900", "22.0"),
        ("TrafficInfo", "1170001100"): speed_xml("1170001100", "55.3"),
        ("LinkInfo", "1220003800"): names_xml("1220003800", "세종대로", "광화문", "시청앞", "420"),
        ("LinkInfo", "1220003900"): names_xml("1220003900", "세종대로", "시청앞", "광화문", "418"),
        ("LinkInfo", "1170001100"): names_xml("1170001100", "올림픽대로", "반포대교남단", "한남대교남단", "1650"),
    }


def test_speeds_and_names_from_lowercase_xml(city, monkeypatch):
    monkeypatch.setenv("MAYOR_TRAFFIC_LINKS", "1220003800, 1220003900,1170001100")
    serve_links(city)
    before = pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None).floor("5min")
    record = refresh()
    assert record.outcome == "ok", record.message
    speeds = rows("SELECT * FROM link_speeds ORDER BY link_id").set_index("link_id")
    assert speeds.loc["1220003800"].to_dict() == {
        "road_name": "세종대로",
        "start_node": "광화문",
        "end_node": "시청앞",
        "distance_m": 420.0,
        "speed_kmh": 12.5,
        "travel_time_s": 96.0,
        "level": "정체",
        "measured_at": speeds.loc["1220003800", "measured_at"],
    }
    assert speeds.loc["1220003900", "level"] == "서행"
    assert speeds.loc["1170001100", "level"] == "원활"  # an expressway: 50 km/h and more is free
    measured = speeds["measured_at"].iloc[0]
    assert measured.minute % 5 == 0 and measured.second == 0 and measured >= before
    assert record.extra["names"] == {"cached": 0, "fetched": 3, "missing": 0}


def test_link_names_are_cached(city, monkeypatch):
    monkeypatch.setenv("MAYOR_TRAFFIC_LINKS", "1220003800,1220003900,1170001100")
    serve_links(city)
    assert refresh().outcome == "ok"
    assert city.count("LinkInfo") == 3
    city.answers[("TrafficInfo", "1220003800")] = speed_xml("1220003800", "31.0")
    second = refresh()
    assert second.outcome == "ok" and city.count("LinkInfo") == 3  # no name asked again
    assert second.extra["names"] == {"cached": 3, "fetched": 0, "missing": 0}
    speeds = rows("SELECT * FROM link_speeds ORDER BY link_id").set_index("link_id")
    assert speeds.loc["1220003800", "road_name"] == "세종대로" and speeds.loc["1220003800", "level"] == "원활"
    monkeypatch.setenv("MAYOR_LINKINFO_MAX_AGE_S", "0")
    time.sleep(0.01)
    refresh()
    assert city.count("LinkInfo") == 6  # older than the setting allows: asked again


def test_a_link_without_names_or_speed_does_not_stop_the_others(city, monkeypatch):
    monkeypatch.setenv("MAYOR_TRAFFIC_LINKS", "1220003800,1220003900,1170001100,9999999999")
    serve_links(city)
    del city.answers[("LinkInfo", "1220003900")]  # INFO-200: no names
    city.answers[("TrafficInfo", "1170001100")] = 500  # fails every attempt
    record = refresh()
    assert record.outcome == "ok", record.message
    assert record.extra["links"] == {"ok": 2, "no_data": 1, "failed": 1}
    speeds = rows("SELECT * FROM link_speeds ORDER BY link_id").set_index("link_id")
    assert list(speeds.index) == ["1220003800", "1220003900"]
    assert pd.isna(speeds.loc["1220003900", "road_name"]) and speeds.loc["1220003900", "speed_kmh"] == 22.0
    assert speeds.loc["1220003900", "level"] == "서행"  # an unnamed link is judged as an ordinary road


def test_links_come_from_the_city_data_in_turn_and_are_capped(city, monkeypatch):
    for code, name in SPOTS[["area_code", "area_name"]].itertuples(index=False):
        ids = [f"{code}-{i}" for i in range(3)]
        city.answers[("citydata", name)] = citydata(code, name, links=[link(x) for x in ids])
    assert refresh("citydata").outcome == "ok"
    monkeypatch.setenv("MAYOR_TRAFFIC_LINKS", "EXTRA-1")
    monkeypatch.setenv("MAYOR_TRAFFIC_MAX_LINKS", "7")
    assert traffic.links_to_ask(settings.get()) == [
        "EXTRA-1",
        "POI001-0",
        "POI014-0",
        "POI055-0",
        "POI091-0",
        "POI125-0",
        "POI001-1",
    ]


def test_no_links_to_ask_says_what_to_do(city):
    record = refresh()
    assert record.outcome == "failed"
    assert "refresh citydata first" in record.message and "MAYOR_TRAFFIC_LINKS" in record.message
