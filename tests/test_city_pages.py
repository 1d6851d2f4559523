"""The Traffic and Crowds pages under AppTest on the city fixture: figures from the queries, the
crowd alerts with their suggestions, the hotspot in the URL, stale and empty states in words, a
broken panel that leaves the rest standing, and the map's payload under its byte budget."""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
from tests import city_fixture as cf
from tests.test_city_queries import crafted
from ui import alerts, city_maps, frame
from ui import data as ui_data

PROJECT = Path(__file__).resolve().parents[1]
TRAFFIC = "pages/traffic.py"
CROWDS = "pages/crowds.py"
TIMEOUT_S = 60


def locale(lang: str) -> dict:
    with open(PROJECT / "ui" / "locales" / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


KO = locale("ko")
EN = locale("en")


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


def run(path: str, **query_params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT / path), default_timeout=TIMEOUT_S)
    at.query_params.update(query_params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def decks(at: AppTest) -> list:
    return list(at.get("deck_gl_json_chart"))


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def texts(elements) -> list[str]:
    return [e.value for e in elements]


# --- traffic ----------------------------------------------------------------------------------


def test_traffic_shows_the_summary_the_map_and_the_slowest_roads(city_data_dir):
    at = run(TRAFFIC)
    s = queries.run("traffic_summary").iloc[0]
    shown = metrics(at)
    assert shown[KO["traffic"]["city_speed"]] == f"{s['city_speed_kmh']:.1f} km/h"
    assert shown[KO["traffic"]["speed_index"]] == str(int(s["speed_index"]))
    assert shown[KO["traffic"]["jammed_share"]] == f"{s['links_jammed_pct']:.1f}%"
    assert shown[KO["traffic"]["events"]] == str(int(s["events"]))
    delta = next(m.delta for m in at.metric if m.label == KO["traffic"]["city_speed"])
    assert delta.startswith(f"{s['city_speed_kmh'] - s['usual_speed_kmh']:+.1f}")

    assert KO["live"]["measured"].format(when="2026-11-19 18:00") in " ".join(texts(at.caption))
    assert not at.error and not at.info
    (deck,) = decks(at)
    spec = json.loads(deck.proto.json)
    drawn = sum(len(layer["data"]) for layer in spec["layers"] if layer["id"].startswith("links-"))
    assert drawn == 600
    assert json.loads(deck.proto.tooltip) == {"text": "{tip}"}
    assert KO["traffic"]["map_count"].format(shown=600) in texts(at.caption)

    slow = frame_with(at, KO["traffic"]["col_speed"])
    expected = queries.run("slowest_roads_now", limit=10)
    assert slow[KO["traffic"]["col_speed"]].tolist() == expected["speed_kmh"].tolist()
    assert slow[KO["traffic"]["col_road"]].tolist() == expected["road_name"].tolist()
    events = frame_with(at, KO["traffic"]["col_clear"])
    assert len(events) == len(queries.run("road_events_now"))


def test_traffic_tooltips_are_plain_text_from_the_data(city_data_dir):
    at = run(TRAFFIC)
    spec = json.loads(decks(at)[0].proto.json)
    jammed = next(layer for layer in spec["layers"] if layer["id"] == "links-2")
    first = queries.run("traffic_map_links", max_links=1, max_points=8).iloc[0]
    tip = jammed["data"][0]["tip"]
    assert tip.startswith(f"{first['road_name']} {first['start_node']} → {first['end_node']}")
    assert tip.endswith(f"정체 · {first['speed_kmh']:.1f} km/h")
    events = next(layer for layer in spec["layers"] if layer["id"] == "events")
    assert any("예상 해소" in e["tip"] and "<" not in e["tip"] for e in events["data"])
    # The hotspots are on the road map too, each at its place, named in its tooltip.
    spots = next(layer for layer in spec["layers"] if layer["id"] == "hotspots")
    now = queries.run("hotspots_now", category="").dropna(subset=["lat", "lon"])
    assert len(spots["data"]) == len(now) > 100
    first = next(d for d in spots["data"] if now.iloc[0]["area_name"] in d["tip"])
    assert first["position"] == pytest.approx([now.iloc[0]["lon"], now.iloc[0]["lat"]])


def test_traffic_banner_counts_the_crowd_alerts(city_data_dir):
    at = run(TRAFFIC)
    crowd = len(queries.run("crowd_alerts", hours=3, radius_km=2.0, suggestions=3))
    raised, _errors = alerts.active_alerts()  # every kind of alert, crowds among them
    assert crowd > 0 and sum(a.kind == "crowd" for a in raised) == crowd
    banner = [w for w in texts(at.warning) if w.startswith(KO["alerts"]["banner"].split("{")[0])]
    assert len(banner) == 1 and f"알림 {len(raised)}건" in banner[0]


def test_traffic_in_english(city_data_dir):
    at = run(TRAFFIC, lang="en")
    assert at.title[0].value == EN["traffic"]["title"]
    assert EN["traffic"]["city_speed"] in metrics(at)
    spec = json.loads(decks(at)[0].proto.json)
    names = next(layer for layer in spec["layers"] if layer["id"] == "district-names")
    assert "Jongno-gu" in {d["name"] for d in names["data"]}


def test_traffic_on_an_empty_warehouse_says_which_loader_to_run(isolated_env):
    at = run(TRAFFIC)
    assert texts(at.info) == [KO["traffic"]["no_data"]]
    assert "python -m loaders refresh citydata" in at.info[0].value
    assert not at.metric and not decks(at) and not at.error


def live_city(data_dir, minutes_old: float) -> None:
    measured = (frame.seoul_now() - timedelta(minutes=minutes_old)).floor("min").to_pydatetime()
    cf.publish_city(data_dir, cf.city_frames(measured_at=measured), is_sample=False)


def test_old_live_data_is_marked_stale(isolated_env):
    live_city(isolated_env, minutes_old=95)
    at = run(TRAFFIC)
    stale = [w for w in texts(at.warning) if w.startswith(KO["live"]["stale"].split("{")[0])]
    assert len(stale) == 1 and ("(95분 전)" in stale[0] or "(96분 전)" in stale[0]), stale
    assert metrics(at)[KO["traffic"]["events"]] == "12"  # the figures still show, marked
    at = run(CROWDS)
    assert any(w.startswith(KO["live"]["stale"].split("{")[0]) for w in texts(at.warning))


def test_fresh_live_data_is_not_stale_and_not_called_sample(isolated_env):
    live_city(isolated_env, minutes_old=3)
    at = run(TRAFFIC)
    assert not [w for w in texts(at.warning) if w.startswith(KO["live"]["stale"].split("{")[0])]
    assert not any(KO["live"]["sample_clock"] in c for c in texts(at.caption))


def test_sample_data_is_never_stale_but_says_it_is_a_recording(city_data_dir):
    at = run(TRAFFIC)
    assert not [w for w in texts(at.warning) if w.startswith(KO["live"]["stale"].split("{")[0])]
    assert any(KO["live"]["sample_clock"] in c for c in texts(at.caption))


def test_a_broken_map_query_leaves_the_rest_of_the_traffic_page(city_data_dir, monkeypatch):
    real = ui_data.query

    def query(name, **params):
        if name == "traffic_map_links":
            raise queries.QueryError("traffic_map_links: boom from the test")
        return real(name, **params)

    monkeypatch.setattr(ui_data, "query", query)
    at = run(TRAFFIC)
    assert texts(at.error) == [KO["state"]["query_error"].format(error="traffic_map_links: boom from the test")]
    assert len(at.metric) == 4 and not decks(at)
    assert KO["traffic"]["slowest_title"] in texts(at.subheader)
    assert KO["traffic"]["curve_title"] in texts(at.subheader)


def test_the_traffic_map_of_5000_links_stays_under_the_budget(isolated_env):
    cf.publish_city(isolated_env, cf.city_frames(links=5000, points=20))
    at = run(TRAFFIC)
    (deck,) = decks(at)
    assert len(deck.proto.json.encode("utf-8")) <= city_maps.MAP_MAX_BYTES
    spec = json.loads(deck.proto.json)
    drawn = sum(len(layer["data"]) for layer in spec["layers"] if layer["id"].startswith("links-"))
    assert drawn > 2000


def test_a_tight_budget_leaves_off_free_flowing_links_first(city_data_dir):
    links = queries.run("traffic_map_links", max_links=5000, max_points=8)
    full = city_maps.road_map(links, lambda r: r["road_name"], [], [], [])
    tight = city_maps.road_map(links, lambda r: r["road_name"], [], [], [], max_bytes=full.bytes // 3)
    assert tight.bytes <= full.bytes // 3 < full.bytes
    assert 0 < tight.links_shown < full.links_shown == len(links) == tight.links_drawable
    spec = json.loads(tight.deck.to_json())
    kept = {layer["id"]: len(layer["data"]) for layer in spec["layers"]}
    assert kept.get("links-2") == (links["level"] == "정체").sum()  # every jammed link is kept
    assert "links-0" not in kept  # the free-flowing ones went first


# --- crowds -----------------------------------------------------------------------------------


def test_crowds_lists_every_hotspot_and_shows_the_alerts(city_data_dir):
    at = run(CROWDS)
    spots = queries.run("hotspots_now", category="")
    table = frame_with(at, KO["crowds"]["col_level"])
    assert len(table) == len(spots) == 120
    assert table[KO["crowds"]["col_people"]].tolist() == spots["population_max"].tolist()
    assert table[KO["crowds"]["col_level"]].iloc[0] == "4 · 붐빔"
    shown = metrics(at)
    assert shown[KO["crowds"]["busy_now"]] == str((spots["congestion_rank"] == 4).sum())

    rows = queries.run("crowd_alerts", hours=3, radius_km=2.0, suggestions=3)
    boxes = [w for w in texts(at.warning) if w.startswith("**")]
    assert len(boxes) == min(4, len(rows))
    first = rows.iloc[0]
    assert first["area_name"] in boxes[0]
    for s in first["suggestions"]:
        assert f"{s['area_name']} ({s['distance_km']:.1f} km" in boxes[0]
    assert any(KO["crowds"]["more_alerts"].format(n=len(rows) - 4) == e.label for e in at.expander)
    (deck,) = decks(at)
    layer = next(x for x in json.loads(deck.proto.json)["layers"] if x["id"] == "crowds")
    assert len(layer["data"]) == 120


def test_crafted_alert_and_its_suggestions_on_the_page(isolated_env):
    cf.publish_city(isolated_env, crafted())
    at = run(CROWDS)
    boxes = [w for w in texts(at.warning) if w.startswith("**")]
    assert len(boxes) == 1
    assert "장소 A" in boxes[0] and "20:00" in boxes[0]
    assert boxes[0].index("장소 C1") < boxes[0].index("장소 C8") < boxes[0].index("장소 C2")
    assert "장소 C3" not in boxes[0] and "장소 C6" not in boxes[0]


def test_no_alerts_says_so(isolated_env):
    calm = [1, 2] * 6
    cf.publish_city(isolated_env, cf.crowd_frames([("Q", "조용한 곳", 37.56, 126.98, 1, calm)]))
    at = run(CROWDS)
    assert KO["crowds"]["no_alerts"].format(hours=3) in texts(at.success)
    assert not [w for w in texts(at.warning) if w.startswith("**")]


def test_the_hotspot_comes_from_the_url_and_goes_back_into_it(city_data_dir):
    at = run(CROWDS, hotspot="POI011")
    assert at.selectbox(key="hotspot").value == "POI011"
    mix = queries.run("hotspot_visitor_mix", area_code="POI011").set_index("band")["pct"]
    assert metrics(at)[KO["crowds"]["visitors"]] == f"{mix['visitor']:.0f}%"
    assert metrics(at)[KO["crowds"]["women"]] == f"{mix['female']:.0f}%"

    at.selectbox(key="hotspot").select("POI003").run()
    assert not at.exception
    assert at.query_params["hotspot"] == "POI003"
    mix = queries.run("hotspot_visitor_mix", area_code="POI003").set_index("band")["pct"]
    assert metrics(at)[KO["crowds"]["visitors"]] == f"{mix['visitor']:.0f}%"
    forecast = queries.run("hotspot_forecast_hours", area_code="POI003")
    assert KO["crowds"]["forecast_caption"].format(when="2026-11-19 18:00") in texts(at.caption)
    assert len(forecast) == 12


def test_an_unknown_hotspot_falls_back_to_the_busiest(city_data_dir):
    at = run(CROWDS, hotspot="POI999")
    first = queries.run("hotspots_now", category="").iloc[0]["area_code"]
    assert at.selectbox(key="hotspot").value == first
    assert at.query_params["hotspot"] == first


def test_the_category_filter_narrows_the_list_and_lives_in_the_url(city_data_dir):
    at = run(CROWDS, category="공원")
    parks = queries.run("hotspots_now", category="공원")
    assert at.selectbox(key="category").value == "공원"
    assert len(frame_with(at, KO["crowds"]["col_level"])) == len(parks)
    at.selectbox(key="category").select("").run()
    assert "category" not in at.query_params
    assert len(frame_with(at, KO["crowds"]["col_level"])) == 120


def test_crowds_on_an_empty_warehouse_says_which_loader_to_run(isolated_env):
    at = run(CROWDS)
    assert texts(at.info) == [KO["crowds"]["no_data"]]
    assert not decks(at) and not at.error and not at.metric


def test_crowds_in_english(city_data_dir):
    at = run(CROWDS, lang="en", hotspot="POI001")
    assert at.title[0].value == EN["crowds"]["title"]
    table = frame_with(at, EN["crowds"]["col_level"])
    assert "Gangnam Station" in table[EN["crowds"]["col_place"]].tolist()
    assert table[EN["crowds"]["col_level"]].iloc[0] == "4 · Busy"


# --- the alerts module, as other pages use it --------------------------------------------------


def test_crowd_alerts_become_alert_records(isolated_env):
    cf.publish_city(isolated_env, crafted())
    (alert,) = alerts.crowd_alerts()
    assert alert.kind == "crowd" and alert.subject == "A" and alert.short == "장소 A"
    assert alert.page == alerts.CROWDS_PAGE and alert.severity == "warning"
    assert alert.since == pd.Timestamp(cf.MEASURED_AT)
    assert [s.split(" (")[0] for s in alert.suggestions] == ["장소 C1", "장소 C8", "장소 C2"]
    found, errors = alerts.active_alerts()
    assert found == [alert] and errors == []


def test_a_failing_alert_source_is_reported_not_raised(isolated_env, monkeypatch):
    def broken():
        raise ui_data.QueryError("crowd_alerts: boom")

    monkeypatch.setattr(alerts, "SOURCES", (broken,))
    assert alerts.active_alerts() == ([], ["crowd_alerts: boom"])


def test_freshness_states(isolated_env):
    live_city(isolated_env, minutes_old=0)
    now = frame.seoul_now().floor("min")
    cadence = frame.DEFAULT_CADENCE_S
    assert frame.freshness("citydata", now - timedelta(minutes=2), now=now).state == "live"
    old = frame.freshness("citydata", now - timedelta(seconds=cadence * 2 + 60), now=now)
    assert old.state == "stale" and old.age_s == cadence * 2 + 60
    assert frame.freshness("citydata", None, now=now).state == "no_data"
    assert frame.freshness("no_such_feed", now, now=now).state == "unknown"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("MAYOR_STALE_AFTER_CADENCES", "10")
    try:
        assert frame.freshness("citydata", now - timedelta(seconds=cadence * 2 + 60), now=now).state == "live"
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("hours", [1, 6])
def test_the_alert_window_is_the_setting(city_data_dir, monkeypatch, hours):
    """MAYOR_CROWD_ALERT_HOURS decides which forecasts raise an alert, on the page as in the query."""
    monkeypatch.setenv("MAYOR_CROWD_ALERT_HOURS", str(hours))
    at = run(CROWDS)
    assert not at.exception
    rows = queries.run("crowd_alerts", hours=hours, radius_km=2.0, suggestions=3)
    boxes = [w for w in texts(at.warning) if w.startswith("**")]
    assert len(boxes) == min(4, len(rows))
    assert boxes[0].count(rows.iloc[0]["area_name"]) >= 1
    assert len(queries.run("crowd_alerts", hours=1, radius_km=2.0, suggestions=3)) < len(
        queries.run("crowd_alerts", hours=6, radius_km=2.0, suggestions=3)
    )  # the two windows differ on this data, so the test can tell them apart
