"""The real-time city queries answer what their grain promises: crowd alerts on crafted forecasts,
and the traffic and crowd figures on the realistic city fixture, checked against the frames."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import pandas as pd
import pytest

import queries
from tests import city_fixture as cf

CENTRE = (37.5636, 126.9827)  # 명동


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = a, b
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def spot(code: str, north_km: float, east_km: float, now: int, ranks: list[int]) -> tuple:
    lat, lon = cf.offset(*CENTRE, north_km, east_km)
    return (code, f"장소 {code}", lat, lon, now, ranks)


CALM = [1, 2, 2, 1, 2, 2, 1, 1, 2, 2, 1, 1]


def crafted(measured_at: datetime = cf.MEASURED_AT) -> dict[str, pd.DataFrame]:
    return cf.crowd_frames(
        [
            # A reaches 붐빔 in the second forecast hour; B only in the fourth, far away.
            spot("A", 0, 0, 3, [3, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2]),
            spot("B", 10, 10, 2, [2, 2, 2, 4, 4, 3, 2, 2, 2, 2, 2, 2]),
            spot("C1", 0.5, 0, 1, CALM),
            spot("C2", 0, -1.2, 2, CALM),
            spot("C3", 0.3, 0, 3, CALM),  # 약간 붐빔 now: not a calmer place
            spot("C4", -0.8, 0, 2, [2, 3, 2, *CALM[3:]]),  # 약간 붐빔 within the window
            spot("C5", -1.9, 0, 1, CALM),
            spot("C6", 2.5, 0, 1, CALM),  # beyond 2 km
            spot("C7", 0, 1.5, 2, CALM),
            spot("C8", 1.0, 0, 2, [2, 2, 2, 3, 3, 2, *CALM[6:]]),  # busier only after the window
        ],
        measured_at,
    )


def publish(data_dir, frames, is_sample=True):
    cf.publish_city(data_dir, frames, is_sample=is_sample)


def alerts(hours=3, radius_km=2.0, suggestions=3) -> pd.DataFrame:
    return queries.run("crowd_alerts", hours=hours, radius_km=radius_km, suggestions=suggestions)


# --- crowd alerts -----------------------------------------------------------------------------


@pytest.mark.parametrize("minute", [0, 25])
def test_busy_at_hour_two_alerts_and_at_hour_four_does_not(isolated_env, minute):
    measured = cf.MEASURED_AT.replace(minute=minute)
    publish(isolated_env, crafted(measured))
    frame = alerts(hours=3)
    assert frame["area_code"].tolist() == ["A"]
    row = frame.iloc[0]
    assert row["busy_from"] == pd.Timestamp("2026-11-19 20:00")
    assert row["measured_at"] == pd.Timestamp(measured)
    assert row["hours_until_busy"] == round((120 - minute) / 60, 1)
    assert row["busy_hours"] == 1
    assert row["level_now"] == "약간 붐빔" and not row["busy_now"]
    assert row["peak_population_max"] == cf.POPULATION[4][0] + cf.POPULATION[4][1]


def test_a_longer_window_catches_the_later_peak(isolated_env):
    publish(isolated_env, crafted())
    assert alerts(hours=4)["area_code"].tolist() == ["A", "B"]
    assert alerts(hours=1)["area_code"].tolist() == []


def test_suggestions_are_calm_now_and_ahead_within_the_radius_nearest_first(isolated_env):
    publish(isolated_env, crafted())
    row = alerts(hours=3, suggestions=3).iloc[0]
    got = [s["area_code"] for s in row["suggestions"]]
    # C3 is busy now, C4 busy within the window, C6 too far; C8 gets busier only after the window.
    assert got == ["C1", "C8", "C2"]
    distances = [s["distance_km"] for s in row["suggestions"]]
    assert distances == sorted(distances)
    frames = crafted()["hotspots"].set_index("area_code")
    for s in row["suggestions"]:
        expected = haversine_km(CENTRE, (frames.loc[s["area_code"], "lat"], frames.loc[s["area_code"], "lon"]))
        assert s["distance_km"] == pytest.approx(expected, abs=0.01)
        assert s["congestion_level"] in ("여유", "보통") and s["forecast_max_rank"] <= 2

    more = alerts(hours=3, suggestions=10).iloc[0]
    assert [s["area_code"] for s in more["suggestions"]] == ["C1", "C8", "C2", "C7", "C5"]
    wider = alerts(hours=3, radius_km=3.0, suggestions=10).iloc[0]
    assert [s["area_code"] for s in wider["suggestions"]][-1] == "C6"
    assert [s["area_code"] for s in alerts(hours=3, radius_km=0.4).iloc[0]["suggestions"]] == []


def test_the_window_decides_calm_too(isolated_env):
    publish(isolated_env, crafted())
    # Over four hours C8 reaches 약간 붐빔 (hour 4), so it is no longer suggested.
    row = alerts(hours=4, suggestions=10).set_index("area_code").loc["A"]
    assert "C8" not in [s["area_code"] for s in row["suggestions"]]


def test_only_the_newest_forecast_issue_counts(isolated_env):
    frames = crafted()
    older = cf.forecast_rows("C1", cf.MEASURED_AT - timedelta(hours=1), [4] * 12)
    frames["hotspot_forecast"] = pd.concat([frames["hotspot_forecast"], pd.DataFrame(older)], ignore_index=True)
    publish(isolated_env, frames)
    assert alerts()["area_code"].tolist() == ["A"]
    assert "C1" in [s["area_code"] for s in alerts().iloc[0]["suggestions"]]


def test_busy_now_and_ahead_is_flagged(isolated_env):
    publish(isolated_env, cf.crowd_frames([spot("Z", 0, 0, 4, [4, 4, 3, *CALM[3:]])]))
    row = alerts().iloc[0]
    assert row["area_code"] == "Z" and bool(row["busy_now"]) and row["busy_hours"] == 2
    assert list(row["suggestions"]) == []


# --- traffic ----------------------------------------------------------------------------------


def test_traffic_summary_matches_the_frames(city_data_dir):
    frames = cf.city_frames()
    row = queries.run("traffic_summary").iloc[0]
    links = frames["road_links"]
    log = frames["city_speed_log"].sort_values("measured_at")
    curve = frames["traffic_weekday_curve"].set_index(["weekday", "hour"])
    usual = curve.loc[(4, 18), "avg_speed_kmh"]  # 2026-11-19 is a Thursday
    assert row["measured_at"] == pd.Timestamp(cf.MEASURED_AT)
    assert row["city_speed_kmh"] == round(log["avg_speed_kmh"].iloc[-1], 1)
    assert row["usual_speed_kmh"] == round(usual, 1)
    assert row["speed_index"] == round(100 * log["avg_speed_kmh"].iloc[-1] / usual)
    assert row["links"] == len(links)
    assert row["links_jammed"] == (links["level"] == "정체").sum()
    assert row["links_jammed_pct"] == round(100 * (links["level"] == "정체").mean(), 1)
    assert row["hotspots_jammed"] == (frames["hotspot_traffic"]["traffic_index"] == "정체").sum()
    assert row["events"] == len(frames["road_events"])
    assert row["accidents"] == (frames["road_events"]["kind"] == "사고").sum()


def test_traffic_summary_on_an_empty_warehouse_is_one_row_of_nothing(isolated_env):
    frame = queries.run("traffic_summary")
    assert len(frame) == 1
    assert frame.iloc[0]["links"] == 0 and pd.isna(frame.iloc[0]["city_speed_kmh"])


def test_map_links_are_thinned_rounded_and_most_congested_first(city_data_dir):
    frames = cf.city_frames()
    raw = frames["road_links"].set_index("link_id")
    frame = queries.run("traffic_map_links", max_links=5000, max_points=5)
    assert len(frame) == len(raw) and (frame["drawable_links"] == len(raw)).all()
    assert frame["level_rank"].is_monotonic_decreasing
    jammed = frame[frame["level"] == "정체"]["speed_kmh"]
    assert jammed.is_monotonic_increasing
    for _, row in frame.head(50).iterrows():
        path = json.loads(row["path_json"])
        original = json.loads(raw.loc[row["link_id"], "path"])
        assert 2 <= len(path) <= 5
        assert path[0] == pytest.approx(original[0], abs=1e-5)
        assert path[-1] == pytest.approx(original[-1], abs=1e-5)
        assert all(len(f"{v}".split(".")[1]) <= 5 for point in path for v in point)
    assert len(queries.run("traffic_map_links", max_links=10, max_points=8)) == 10


def test_map_links_skip_links_without_a_usable_path(isolated_env):
    frames = cf.city_frames(hotspots=3, links=4)
    links = frames["road_links"]
    links.loc[0, "path"] = "not json"
    links.loc[1, "path"] = "[[127.0, 37.5]]"
    links.loc[2, "path"] = None
    publish(isolated_env, frames)
    frame = queries.run("traffic_map_links", max_links=100, max_points=8)
    assert frame["link_id"].tolist() == [links.loc[3, "link_id"]]
    assert queries.run("traffic_summary").iloc[0]["links"] == 4


def test_slowest_roads_come_slowest_first_with_their_hotspot(city_data_dir):
    frame = queries.run("slowest_roads_now", limit=10)
    links = cf.city_frames()["road_links"]
    assert frame["speed_kmh"].tolist() == sorted(links["speed_kmh"])[:10]
    assert frame["area_name"].notna().all()


def test_road_events_carry_minutes_to_clearance(city_data_dir):
    frame = queries.run("road_events_now")
    events = cf.city_frames()["road_events"].set_index("event_id")
    assert len(frame) == len(events)
    assert frame["occurred_at"].is_monotonic_decreasing
    for _, row in frame.iterrows():
        clear = events.loc[row["event_id"], "expected_clear_at"]
        if pd.isna(clear):
            assert pd.isna(row["minutes_to_clear"]) and not row["past_expected_clearance"]
        else:
            minutes = (pd.Timestamp(clear) - pd.Timestamp(cf.MEASURED_AT)).total_seconds() / 60
            assert row["minutes_to_clear"] == minutes
            assert bool(row["past_expected_clearance"]) == (minutes < 0)


def test_city_speed_today_and_the_usual_curve(city_data_dir):
    today = queries.run("city_speed_today")
    mine = today[today["series"] == "today"]
    before = today[today["series"] == "week_before"]
    assert mine["measured_at"].max() == pd.Timestamp(cf.MEASURED_AT)
    assert len(mine) == 18 * 12 + 1
    assert len(before) == 288
    assert (before["clock"] - before["measured_at"] == pd.Timedelta(days=7)).all()
    usual = queries.run("city_speed_usual")
    assert usual["hour"].tolist() == list(range(24))
    assert set(usual["weekday"]) == {4}
    assert (usual["p25_speed_kmh"] < usual["avg_speed_kmh"]).all()
    assert usual["hour_start"].iloc[18] == pd.Timestamp("2026-11-19 18:00")


# --- crowds -----------------------------------------------------------------------------------


def test_hotspots_now_joins_crowd_and_traffic_and_filters_by_category(city_data_dir):
    frames = cf.city_frames()
    every = queries.run("hotspots_now", category="")
    assert len(every) == len(frames["hotspots"])
    assert every["congestion_rank"].is_monotonic_decreasing
    assert every["avg_speed_kmh"].notna().all() and every["lat"].notna().all()
    parks = queries.run("hotspots_now", category="공원")
    assert len(parks) == (frames["hotspots"]["category"] == "공원").sum() > 0
    assert set(parks["category"]) == {"공원"}
    categories = queries.run("hotspot_categories")
    assert categories["hotspots"].sum() == len(frames["hotspots"])


def test_forecast_hours_and_visitor_mix_of_one_hotspot(city_data_dir):
    forecast = queries.run("hotspot_forecast_hours", area_code="POI003")
    assert forecast["hours_ahead"].tolist() == [float(h) for h in range(1, 13)]
    assert forecast["congestion_rank"].between(1, 4).all()
    mix = queries.run("hotspot_visitor_mix", area_code="POI003")
    assert mix["grp"].tolist() == ["age"] * 8 + ["residence"] * 2 + ["gender"] * 2
    assert mix[mix["grp"] == "age"]["pct"].sum() == pytest.approx(100, abs=0.5)
    residence = mix[mix["grp"] == "residence"].set_index("band")["pct"]
    assert residence.sum() == pytest.approx(100, abs=0.2)
    assert queries.run("hotspot_visitor_mix", area_code="POI999").empty


def test_feed_freshness_lists_published_feeds(city_data_dir):
    frame = queries.run("feed_freshness").set_index("feed")
    assert {"citydata", "traffic_history", "reference"} <= set(frame.index)
    assert bool(frame.loc["citydata", "is_sample"]) is True
