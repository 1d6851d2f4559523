"""The real-time sample: every city table published with plausible values at the default step,
deterministic answers, the wire quirks on purpose, and motion when the replay clock moves."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import datadir
import queries
import settings
from loaders import city_sample, feeds, replay


def rows(sql: str) -> pd.DataFrame:
    return queries.execute(sql, {})


def test_the_sample_publishes_every_city_table(sample_data_dir):
    crowd = rows("SELECT * FROM hotspot_crowd")
    assert len(crowd) == 118 and crowd["area_code"].is_unique  # 121 hotspots, 3 answer INFO-200
    assert set(crowd["congestion_level"]) == {"여유", "보통", "약간 붐빔", "붐빔"}
    assert set(crowd["measured_at"]) == {pd.Timestamp("2026-11-19 18:00")}
    assert (crowd["population_min"] < crowd["population_max"]).all()
    assert crowd[[f"age_{a}_pct" for a in range(0, 70, 10)]].sum(axis=1).between(85, 101).all()
    fetch = rows("SELECT outcome, count(*) AS n FROM hotspot_fetch GROUP BY 1")
    assert dict(zip(fetch["outcome"], fetch["n"], strict=True)) == {"ok": 118, "no_data": 3}

    links = rows("SELECT * FROM road_links")
    assert 800 <= len(links) <= 1200 and links["link_id"].is_unique
    assert set(links["level"]) == {"원활", "서행", "정체"}
    assert links["speed_kmh"].between(4, 100).all() and links["path"].notna().all()
    assert {"올림픽대로", "강변북로", "테헤란로"} <= set(links["road_name"])
    traffic = rows("SELECT * FROM hotspot_traffic")
    assert len(traffic) == 118 and traffic["avg_speed_kmh"].between(8, 45).all()
    events = rows("SELECT * FROM road_events")
    assert 4 <= len(events) <= 14 and events["event_id"].is_unique
    assert (events["occurred_at"] <= pd.Timestamp("2026-11-19 18:00")).all()
    assert events["expected_clear_at"].isna().any() and events["expected_clear_at"].notna().any()
    weather = rows("SELECT * FROM hotspot_weather")
    assert weather["temp_c"].between(0, 15).all() or weather["temp_c"].isna().any()
    assert weather["pm10"].isna().sum() >= 2  # stations under maintenance (점검중)

    log = rows("SELECT * FROM city_speed_log ORDER BY measured_at")
    assert len(log) == replay.DEFAULT_STEP + 1  # the recorded day from midnight to 18:00
    night, rush = log["avg_speed_kmh"].iloc[36], log["avg_speed_kmh"].iloc[-1]
    assert night > 35 and rush < 22  # 03:00 against the evening peak
    assert len(rows("SELECT * FROM link_speeds")) == settings.get().traffic_max_links
    curve = rows("SELECT * FROM traffic_weekday_curve")
    assert len(curve) == 7 * 24 and (curve["days"] == 4).all()
    history = rows("SELECT count(*) AS n, count(DISTINCT link_id) AS links FROM traffic_speed_history").iloc[0]
    assert history["links"] == 320 and history["n"] > 200_000
    spots = rows("SELECT * FROM hotspots").set_index("area_code")
    assert len(spots) == 121 and set(spots.loc[["POI125", "POI128"], "coord_source"]) == {"links"}


def test_forecasts_reach_busy_within_the_next_hours(sample_data_dir):
    soon = rows(
        """
        SELECT DISTINCT f.area_code FROM hotspot_forecast f JOIN hotspot_crowd c USING (area_code)
        WHERE c.congestion_rank < 4 AND f.congestion_level = '붐빔' AND f.forecast_at <= c.measured_at + INTERVAL 3 HOUR
        """
    )
    assert len(soon) >= 3
    counts = rows("SELECT area_code, count(*) AS n FROM hotspot_forecast GROUP BY 1")
    assert set(counts["n"]) == {12}


def test_answers_are_deterministic_and_carry_the_wire_quirks(sample_data_dir):
    path = datadir.sample_dir(sample_data_dir)
    ask = ["SAMPLE", "json", "citydata", "1", "5"]
    spots = city_sample.world().spots
    first, _ = city_sample.answer_citydata([*ask, "강남역"], 216, path)
    again, _ = city_sample.answer_citydata([*ask, "강남역"], 216, path)
    later, _ = city_sample.answer_citydata([*ask, "강남역"], 217, path)
    assert first == again and first != later
    bodies = {code: json.loads(city_sample.answer_citydata([*ask, s.name], 216, path)[0]) for code, s in spots.items()}
    result = {b["RESULT"]["RESULT.CODE"] for b in bodies.values()}
    assert result == {"INFO-000", "INFO-200"}
    road = [b["CITYDATA"]["ROAD_TRAFFIC_STTS"] for b in bodies.values() if "CITYDATA" in b]
    blocks = [r[0] if isinstance(r, list) else r for r in road]
    assert any(isinstance(r, list) for r in road) and any(isinstance(r, dict) for r in road)
    assert any("ROAD_TRFFIC_TIME" in b["AVG_ROAD_DATA"] for b in blocks)
    assert any("ROAD_TRAFFIC_TIME" in b["AVG_ROAD_DATA"] for b in blocks)
    assert any(b["ROAD_TRAFFIC_STTS"] == [] for b in blocks)
    people = [b["CITYDATA"]["LIVE_PPLTN_STTS"] for b in bodies.values() if "CITYDATA" in b]
    assert any(isinstance(p, dict) for p in people) and any(isinstance(p, list) for p in people)
    xml, kind = city_sample.answer_traffic_info(["SAMPLE", "xml", "TrafficInfo", "1", "5", "1201400000"], 216, path)
    assert kind.startswith("application/xml") and b"<prcs_spd>" in xml and b"<link_id>1201400000</link_id>" in xml


@pytest.mark.parametrize("feed", ["citydata", "traffic"])
def test_the_replay_clock_moves_the_city(sample_data_dir, feed):
    before = rows("SELECT max(measured_at) AS t FROM city_speed_log")["t"].iloc[0]
    replay.set_step(datadir.sample_dir(sample_data_dir), replay.DEFAULT_STEP + 1)
    record = feeds.refresh(feeds.FEEDS[feed], settings.get(), use_sample=True)
    assert record.outcome == "ok", record.message
    assert record.as_of == "2026-11-19T18:05:00"
    if feed == "citydata":
        log = rows("SELECT measured_at FROM city_speed_log ORDER BY measured_at")["measured_at"]
        assert log.iloc[-2] == before and log.iloc[-1] == pd.Timestamp("2026-11-19 18:05")
        assert set(rows("SELECT measured_at FROM hotspot_crowd")["measured_at"]) == {pd.Timestamp("2026-11-19 18:05")}
    else:
        assert set(rows("SELECT measured_at FROM link_speeds")["measured_at"]) == {pd.Timestamp("2026-11-19 18:05")}
