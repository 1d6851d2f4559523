"""The air-and-bikes page under AppTest: the figures the named queries return, the district choice
in the URL, empty states, stale marking for live data, one broken panel; the replay banner on
every page while the watcher replays the sample; and the bytes the bike map sends."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
import settings
from loaders import feeds, replay, store, watch
from tests.caches import clear_page_caches
from tests.conftest import PROJECT
from tests.test_pages import EN, KO, break_query
from ui import airbikes, navigation

PAGE = "pages/air_bikes.py"
APP = "app.py"
AB = KO["airbikes"]


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


def run(path: str = PAGE, **query_params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT / path), default_timeout=30)
    at.query_params.update(query_params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_the_page_is_in_the_navigation():
    spec = next(p for p in navigation.PAGES if p.path == PAGE)
    assert spec.url_path == "air-and-bikes" and KO["nav"][spec.title_key.split(".")[1]] == "대기질·따릉이"


def test_air_panel_shows_the_district_readings(sample_data_dir):
    at = run()
    rows = queries.run("air_by_district")
    shown = metrics(at)
    assert shown[AB["pm25_avg"]] == f"{rows['pm25'].mean():.0f} µg/m³"
    assert shown[AB["pm10_avg"]] == f"{rows['pm10'].mean():.0f} µg/m³"
    bad = int((rows["grade"].isin(["나쁨", "매우나쁨"])).sum())
    assert bad >= 1 and shown[AB["bad_districts"]] == f"{bad}곳"
    assert "기준: 2026-11-19 18:00 · 출처: RealtimeCityAir" in captions(at)
    # The station under maintenance is named, not drawn as zero.
    assert AB["no_reading_list"].format(names="강북구") in captions(at)
    assert rows.loc[rows["name_ko"] == "강북구", "pm25"].isna().all()
    # Plain-words legend, all four grades; no boundaries in the sample, so the tile grid.
    legend = [m.value for m in at.markdown if "-badge[" in m.value]
    assert [line.split("]")[0] for line in legend] == [
        ":blue-badge[좋음",
        ":green-badge[보통",
        ":orange-badge[나쁨",
        ":red-badge[매우나쁨",
    ]
    assert AB["grid_caption"] in captions(at)
    assert not at.warning and not at.error
    # The ranking: cleanest first, each bar in its grade's colour; the station under maintenance left out.
    bars = next(json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart") if '"type":"bar"' in c.proto.spec)
    measured = rows.dropna(subset=["pm25"]).sort_values("pm25")
    assert bars["y"] == measured["name_ko"].tolist()
    assert bars["marker"]["color"] == [airbikes.grade_hex(g) for g in measured["grade"]]
    assert "강북구" not in "".join(bars["y"]) and len(set(bars["marker"]["color"])) >= 2


def test_bike_panel_shows_the_city_and_every_district(sample_data_dir):
    at = run()
    s = queries.run("bike_summary").iloc[0]
    shown = metrics(at)
    assert shown[AB["stations"]] == f"{int(s['stations']):,}곳"
    assert shown[AB["bikes_now"]] == f"{int(s['bikes']):,}대"
    assert shown[AB["empty_share"]] == f"{s['empty_stations'] / s['stations']:.0%}"
    assert "기준: 2026-11-19 18:00 · 출처: bikeList" in captions(at)
    table = at.dataframe[0].value
    assert len(table) == 25
    assert table[AB["col_bikes"]].sum() == s["bikes"] and table[AB["col_stations"]].sum() == s["stations"]
    assert at.selectbox(key="bike_district").value == "all"
    assert AB["grid_map_caption"] in captions(at)
    assert "gu" not in at.query_params


def test_choosing_a_district_shows_its_stations_and_goes_into_the_url(sample_data_dir):
    at = run()
    at.selectbox(key="bike_district").set_value("11440").run()
    assert not at.exception
    assert at.query_params["gu"] == "11440"
    assert AB["station_map_caption"] in captions(at)
    again = run(gu="11440")  # the link reproduces the view
    assert again.selectbox(key="bike_district").value == "11440"
    assert run(gu="99999").selectbox(key="bike_district").value == "all"


def test_english_labels(sample_data_dir):
    at = run(lang="en")
    assert at.title[0].value == EN["airbikes"]["title"]
    assert EN["airbikes"]["bikes_now"] in metrics(at)
    assert "Mapo" in at.dataframe[0].value[EN["airbikes"]["col_district"]].tolist()


def test_empty_warehouse_says_so_in_words(isolated_env):
    at = run()
    assert [i.value for i in at.info] == [AB["no_air"], AB["no_bikes"]]
    assert not at.metric and not at.error


def test_a_broken_bike_query_leaves_the_air_panel(sample_data_dir, monkeypatch):
    break_query(monkeypatch, "bike_grid", "bike_grid: boom from the test")
    at = run()
    assert [e.value for e in at.error] == [KO["state"]["query_error"].format(error="bike_grid: boom from the test")]
    assert AB["pm25_avg"] in metrics(at) and AB["stations"] in metrics(at)
    assert len(at.dataframe) == 1  # the district table still renders


# --- staleness ------------------------------------------------------------------------------------


def publish_air(data_dir, measured_at: pd.Timestamp, source: str = "live") -> None:
    frame = pd.DataFrame(
        {
            "district_code": ["11110"],
            "district_name": ["종로구"],
            "region": ["도심권"],
            "station_name": ["종로구"],
            "measured_at": [measured_at],
            "pm10": [40.0],
            "pm25": [20.0],
            "o3": [0.02],
            "no2": [0.02],
            "co": [0.5],
            "so2": [0.003],
            "grade": ["보통"],
            "cai": [60.0],
            "main_pollutant": [None],
            "schema": ["new"],
        }
    )
    from loaders import air

    table = store.Table("air_quality", air.PUBLISHED, frame)
    store.publish(
        data_dir,
        "air",
        [table],
        run_id=store.new_run_id("air"),
        as_of=measured_at.isoformat(),
        is_sample=source != "live",
        source=source,
    )


def stale_warning(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("오래된 자료")]


def test_live_air_older_than_its_cadence_allows_is_marked_stale(sample_data_dir, monkeypatch):
    now = pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None).floor("h")
    publish_air(sample_data_dir, now - pd.Timedelta(hours=3))  # 3 h > 2 cadences of 1 h
    at = run()
    assert stale_warning(at) == [
        KO["state"]["stale"].format(when=(now - pd.Timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"))
    ]
    monkeypatch.setenv("MAYOR_STALE_AFTER_CADENCES", "4")  # the tolerance is a setting
    clear_page_caches()
    assert stale_warning(run()) == []


def test_fresh_live_air_is_not_stale(sample_data_dir):
    publish_air(sample_data_dir, pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None).floor("h"))
    at = run()
    assert stale_warning(at) == []
    assert AB["pm25_avg"] in metrics(at)


def test_sample_standing_still_is_never_stale_but_a_lagging_replayed_feed_is(sample_data_dir):
    assert stale_warning(run()) == []  # the recorded day, days ago, is not "late"
    # Replayed bikes at 23:00 while air still says 18:00: five replayed hours behind.
    sample_path = feeds.ensure_sample(settings.get())
    replay.set_step(sample_path, 23 * 12)
    assert feeds.refresh(feeds.FEEDS["bikes"], settings.get(), use_sample=True, source="replay").outcome == "ok"
    clear_page_caches()
    assert stale_warning(run()) == [KO["state"]["stale"].format(when="2026-11-19 18:00")]


def test_live_panels_poll_a_tenth_of_their_cadence_within_bounds():
    from ui import frame

    assert frame.poll_interval_s(300) == 30
    assert frame.poll_interval_s(3600) == 300
    assert frame.poll_interval_s(60) == 15
    assert frame.poll_interval_s(None) == 300


# --- the replay banner ----------------------------------------------------------------------------


def test_replay_banner_on_every_page_with_the_replayed_time(sample_data_dir):
    assert watch.Watcher(settings.get(), "replay", once=True).run() == 0  # 18:00 -> 18:05
    at = run(APP)
    banner = KO["banner"]["replay"].format(when="2026-11-19 18:05")
    assert at.warning[0].value == banner  # first on the page; the overview's alerts follow
    for spec in navigation.PAGES[1:]:
        at.switch_page(spec.path).run()
        assert not at.exception, spec.path
        assert at.warning[0].value == banner, spec.path
    english = run(APP, lang="en")
    assert english.warning[0].value.startswith("Replay of sample data")
    assert "2026-11-19 18:05" in english.warning[0].value


def test_each_replay_step_moves_the_page(sample_data_dir):
    sample_path = feeds.ensure_sample(settings.get())
    replay.set_step(sample_path, 7 * 12)
    assert watch.Watcher(settings.get(), "replay", once=True).run() == 0  # 07:05
    before = run()
    assert "기준: 2026-11-19 07:05 · 출처: bikeList" in captions(before)
    assert "기준: 2026-11-19 07:00 · 출처: RealtimeCityAir" in captions(before)
    replay.set_step(sample_path, 9 * 12 - 1)
    assert watch.Watcher(settings.get(), "replay", once=True).run() == 0  # 09:00
    clear_page_caches()
    after = run()
    assert "기준: 2026-11-19 09:00 · 출처: bikeList" in captions(after)
    assert "기준: 2026-11-19 09:00 · 출처: RealtimeCityAir" in captions(after)
    assert metrics(after)[AB["bikes_now"]] != metrics(before)[AB["bikes_now"]]


# --- what the bike map sends ----------------------------------------------------------------------


def test_bike_map_payload_stays_small(sample_data_dir):
    grid = queries.run("bike_grid")
    city = airbikes.payload_bytes(airbikes.bike_deck(grid, per_station=False))
    assert queries.run("bike_summary").iloc[0]["stations"] > 5 * len(grid)  # cells, not stations
    assert city < 150_000, city
    for code in queries.run("districts")["sig_cd"]:
        stations = queries.run("bike_stations_in_district", district_code=code)
        assert airbikes.payload_bytes(airbikes.bike_deck(stations, per_station=True)) < 80_000, code


def test_every_station_in_maintenance_shows_dashes_not_nan(sample_data_dir):
    now = pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None).floor("h")
    publish_air(sample_data_dir, now)
    from loaders import air

    frame = pd.DataFrame([{c: None for c in air.PUBLISHED}])
    frame = frame.assign(
        district_code="11110", district_name="종로구", station_name="종로구", measured_at=now, schema="new"
    )
    table = store.Table("air_quality", air.PUBLISHED, frame)
    store.publish(
        sample_data_dir,
        "air",
        [table],
        run_id=store.new_run_id("air"),
        as_of=now.isoformat(),
        is_sample=False,
        source="live",
    )
    at = run()
    assert metrics(at)[AB["pm25_avg"]] == "—" and metrics(at)[AB["bad_districts"]] == "0곳"
    assert [i.value for i in at.info] == [KO["state"]["empty_selection"]]  # the ranking has nothing to rank


def test_a_broken_freshness_query_leaves_the_panels(sample_data_dir, monkeypatch):
    break_query(monkeypatch, "live_feed_state", "live_feed_state: boom")
    at = run()
    assert AB["pm25_avg"] in metrics(at) and AB["stations"] in metrics(at)
    assert "출처: RealtimeCityAir" in captions(at)


def test_a_live_measurement_at_midnight_keeps_its_time():
    # A survey day reads as a date; a measurement taken at 00:00 is a time (the stale test above
    # failed between 03:00 and 04:00 KST, when "3 hours ago" was midnight).
    from ui import frame

    midnight = pd.Timestamp("2026-12-05 00:00")
    assert frame.when(midnight) == "2026-12-05"
    assert frame.when(midnight, with_time=True) == "2026-12-05 00:00"
    assert frame.when(pd.Timestamp("2026-12-05 14:30"), with_time=False) == "2026-12-05"
