"""Seoul at a glance and the wall screen: tile states, alerts, last-good values, screen links and
the rotation."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
from loaders import store
from queries import warehouse
from tests.caches import clear_page_caches
from tests.conftest import PROJECT
from ui import alerts, navigation, screen
from ui.status import feed_state

NOW = pd.Timestamp("2026-11-22 12:00")


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


def row(**kw) -> dict:
    base = {
        "feed": "citydata",
        "title_ko": "실시간 도시데이터",
        "state": "ok",
        "is_sample": False,
        "as_of": "2026-11-22 11:55",
        "last_success": "2026-11-22T02:56:00+00:00",
        "cadence_s": 300.0,
        "degraded_since": None,
        "last_run_at": None,
        "last_message": None,
    }
    return base | kw


@pytest.mark.parametrize(
    ("kw", "state", "since"),
    [
        ({}, "ok", None),
        ({"state": "no_data", "as_of": None}, "no_data", None),
        # 15 minutes allowed (3 × 5 min): measured 11:40 → stale since 11:55
        ({"as_of": "2026-11-22 11:40"}, "stale", "2026-11-22 11:55"),
        ({"as_of": "2026-11-22 11:46"}, "ok", None),
        # the sample is never stale, whatever its moment
        ({"as_of": "2026-11-19 18:00", "is_sample": True}, "ok", None),
        # a failing feed keeps its last good data, marked with when the failures began (UTC in the log)
        ({"state": "degraded", "degraded_since": "2026-11-22T02:30:00+00:00"}, "error", "2026-11-22 11:30"),
        ({"state": "error", "as_of": None, "degraded_since": "2026-11-22T01:00:00+00:00"}, "error", "2026-11-22 10:00"),
        # a slow feed (daily) is judged by its last successful load, not its survey date
        ({"cadence_s": 86400.0, "as_of": "2026-11-12", "last_success": "2026-11-21T06:00:00+00:00"}, "ok", None),
        (
            {"cadence_s": 86400.0, "as_of": "2026-11-12", "last_success": "2026-11-18T03:00:00+00:00"},
            "stale",
            "2026-11-21 12:00",
        ),
    ],
)
def test_feed_state(kw, state, since):
    got = feed_state(row(**kw), NOW, 3.0)
    assert got.state == state
    assert got.since == (pd.Timestamp(since) if since else None)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, None),
        ({"screen": "0"}, None),
        ({"screen": "1"}, screen.Screen(("seoul-at-a-glance",), 45)),
    ],
)
def test_only_a_screen_link_opens_the_screen(params, expected):
    assert screen.parse(params, "seoul-at-a-glance", 45) == expected


@pytest.mark.parametrize(
    ("params", "pages", "every"),
    [
        ({"screen": "1", "pages": "market-prices,nowhere,datasets", "every": "20"}, ("market-prices", "datasets"), 20),
        ({"screen": "true", "pages": "nowhere", "every": "1"}, ("seoul-at-a-glance",), screen.MIN_EVERY_S),
        ({"screen": "1", "every": "soon"}, ("seoul-at-a-glance",), 45),
        ({"screen": "1", "every": "999999"}, ("seoul-at-a-glance",), screen.MAX_EVERY_S),
    ],
)
def test_mistyped_screen_links_still_give_a_working_screen(params, pages, every):
    got = screen.parse(params, "seoul-at-a-glance", 45)
    assert got.pages == pages and got.every_s == every


def test_rotation_order_wraps_and_recovers():
    s = screen.Screen(("a", "b", "c"), 10)
    assert [screen.next_page(s, p) for p in ("a", "b", "c", "zzz")] == ["b", "c", "a", "a"]


def overview(lang: str = "ko") -> AppTest:
    at = AppTest.from_file(str(PROJECT / "pages" / "overview.py"), default_timeout=60)
    at.session_state["lang"] = lang
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_overview_tiles_show_the_published_figures(sample_data_dir):
    at = overview()
    assert not at.exception
    shown = metrics(at)
    basket = queries.run("overview_price_basket").iloc[0]
    assert shown["생필품 물가 (한 달 전 = 100)"] == f"{basket['basket_index']:.1f}"
    summary = queries.run("proposals_summary", deadline_days=30).iloc[0]
    assert shown["시민 제안"] == f"답변 대기 {int(summary['waiting'])}건"
    assert int(summary["waiting"]) > 0
    assert "기준: 2026-11-19" in captions(at)  # the prices tile's as-of (survey date)
    road = queries.run("overview_road_speed").iloc[0]
    assert shown["도심 도로 속도"] == f"{road['avg_speed_kmh']:.1f} km/h"
    assert abs(road["speed_index"] - 100 * road["avg_speed_kmh"] / road["usual_speed_kmh"]) <= 0.5
    assert f"평소 대비 지수 {int(road['speed_index'])} (평소 = 100)" in captions(at)


def test_a_missing_feed_says_no_data_and_names_the_loader(sample_data_dir):
    import datadir

    datadir.pointer_path(sample_data_dir, "prices").unlink()
    warehouse._warehouses.clear()
    at = overview()
    assert not at.exception
    assert metrics(at)["생필품 물가 (한 달 전 = 100)"] == "—"
    assert "python -m loaders refresh prices" in captions(at)


def test_a_failing_feed_keeps_its_last_value_marked_and_raises_an_alert(sample_data_dir):
    record = store.RunRecord(feed="prices", source="live", run_id=store.new_run_id("prices"))
    record.started_at = record.finished_at = store.now_utc().isoformat()
    record.outcome, record.api_code, record.message = "failed", "ERROR-500", "ERROR-500 server error"
    store.append_run(sample_data_dir, record)
    at = overview()
    assert not at.exception
    assert metrics(at)["생필품 물가 (한 달 전 = 100)"] != "—"  # the last good value stays
    assert "갱신 실패: 마지막 정상값을 표시합니다" in captions(at)
    warnings = "\n".join(w.value for w in at.warning)
    assert "생필품 가격: " in warnings and "갱신 실패" in warnings
    assert not at.error  # alerts are warnings: an error box means the page itself failed


def test_a_query_failure_keeps_the_last_picture(sample_data_dir, monkeypatch):
    at = overview()
    before = metrics(at)["생필품 물가 (한 달 전 = 100)"]
    real = queries.run

    def broken(name, **params):
        if name == "overview_price_basket":
            raise queries.QueryError("the warehouse is being rebuilt")
        return real(name, **params)

    monkeypatch.setattr(queries, "run", broken)
    clear_page_caches()
    at.run()
    assert not at.exception
    assert metrics(at)["생필품 물가 (한 달 전 = 100)"] == before
    assert "마지막 화면을 유지합니다" in captions(at)


def publish_city(data_dir, crowd: list[tuple], forecast: list[tuple], *, sample: bool = True) -> None:
    """A small citydata version: crowd rows (code, name, rank, population, lat, lon) and forecast
    rows (code, hours ahead, rank), measured at NOW."""
    levels = {1: "여유", 2: "보통", 3: "약간 붐빔", 4: "붐빔"}
    dictionary = warehouse.dictionary()["tables"]

    def table(name: str, records: list[dict]) -> store.Table:
        schema = {c: ty for c, (ty, _m) in dictionary[name]["columns"].items()}
        frame = pd.DataFrame(records, columns=list(schema))
        return store.Table(name, schema, frame)

    crowd_rows = [
        {
            "area_code": code,
            "area_name": name,
            "congestion_level": levels[rank],
            "congestion_rank": rank,
            "population_min": pop - 2000,
            "population_max": pop,
            "measured_at": NOW,
        }
        for code, name, rank, pop, _lat, _lon in crowd
    ]
    spots = [
        {"area_code": code, "area_name": name, "area_name_en": name, "lat": lat, "lon": lon, "coord_source": "test"}
        for code, name, _rank, _pop, lat, lon in crowd
    ]
    fc = [
        {
            "area_code": code,
            "measured_at": NOW,
            "forecast_at": NOW + pd.Timedelta(hours=h),
            "congestion_level": levels[rank],
            "congestion_rank": rank,
        }
        for code, h, rank in forecast
    ]
    traffic = [
        {"area_code": code, "area_name": name, "avg_speed_kmh": 12.0 + i, "traffic_index": "정체", "measured_at": NOW}
        for i, (code, name, *_rest) in enumerate(crowd)
    ]
    tables = [table("hotspot_crowd", crowd_rows), table("hotspot_forecast", fc), table("hotspot_traffic", traffic)]
    for feed, published in (("citydata", tables), ("hotspots", [table("hotspots", spots)])):
        store.publish(
            data_dir, feed, published, run_id=store.new_run_id(feed), as_of=str(NOW), is_sample=sample, source="test"
        )
    warehouse._warehouses.clear()


def test_a_crowd_forecast_raises_an_alert_until_it_clears(sample_data_dir):
    spots = [
        ("POI001", "강남 MICE 관광특구", 3, 40000, 37.5118, 127.0592),
        ("POI003", "명동 관광특구", 2, 20000, 37.5638, 126.9845),
    ]
    publish_city(sample_data_dir, spots, [("POI001", 2, 4), ("POI003", 5, 4)])
    at = overview()
    assert not at.exception
    alerts = "\n".join(w.value for w in at.warning)
    assert "강남 MICE 관광특구: " in alerts and "붐빔 예상" in alerts, alerts
    assert "명동 관광특구: " not in alerts  # busy only in 5 hours, beyond the 3-hour window
    assert metrics(at)["도심 도로 속도"] == "12.5 km/h"
    publish_city(sample_data_dir, spots, [("POI001", 2, 3)])
    clear_page_caches()
    at = overview()
    assert not any("강남 MICE 관광특구: " in w.value for w in at.warning)


def test_hotspot_names_in_alerts_are_shown_as_text(sample_data_dir):
    hostile = "[click](javascript:alert(1)) **bold** :red[x]"
    publish_city(sample_data_dir, [("POI009", hostile, 3, 30000, 37.5, 127.0)], [("POI009", 1, 4)])
    at = overview()
    alerts = "\n".join(w.value for w in at.warning)
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in alerts
    assert "](javascript:" not in alerts


def test_the_overview_speaks_english(sample_data_dir):
    at = overview("en")
    assert not at.exception
    assert at.title[0].value == "Seoul at a glance"
    assert "Price basket (a month ago = 100)" in metrics(at)


def app(**params) -> AppTest:
    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_screen_mode_hides_the_sidebar_and_rotates(sample_data_dir):
    at = app(screen="1", pages="seoul-at-a-glance,market-prices", every="5")
    assert not at.exception
    assert at.title[0].value == "서울 한눈에"
    assert len(at.sidebar) == 0  # no language switch, no page list
    time.sleep(5.2)
    at.run()
    assert not at.exception
    assert at.title[0].value == "생필품 가격"
    assert at.query_params["screen"] in ("1", ["1"])  # the screen's own link survives the switch


def banners(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("알림 ")]


def test_the_screen_keeps_the_alert_banner_on_every_page_it_rotates_to(sample_data_dir):
    raised, _errors = alerts.active_alerts()
    assert raised  # the sample: crowd forecasts, bad air, overdue proposals
    expected = f"알림 {len(raised)}건: "
    at = app(screen="1", pages="market-prices,datasets", every="60")
    assert not at.exception
    assert at.title[0].value == "생필품 가격"
    assert len(banners(at)) == 1 and banners(at)[0].startswith(expected), banners(at)
    # The overview has its own banner: the screen does not add a second one.
    at = app(screen="1", pages="seoul-at-a-glance", every="60")
    assert len(banners(at)) == 1 and banners(at)[0].startswith(expected), banners(at)
    # Outside screen mode a page carries only what it shows itself.
    at = app()
    at.switch_page("pages/prices.py").run()
    assert not at.exception and at.title[0].value == "생필품 가격"
    assert banners(at) == []


def test_the_screen_banner_goes_when_the_alerts_clear(sample_data_dir, monkeypatch):
    at = app(screen="1", pages="market-prices", every="60")
    assert len(banners(at)) == 1
    monkeypatch.setattr(alerts, "SOURCES", ())
    clear_page_caches()
    at.run()
    assert not at.exception
    assert banners(at) == []


def test_normal_mode_keeps_the_sidebar(sample_data_dir):
    at = app()
    assert not at.exception
    assert at.title[0].value == "서울 한눈에"
    assert len(at.sidebar) > 0


def test_alerts_are_a_list_the_wall_screen_can_read(sample_data_dir):
    raised, errors = alerts.active_alerts()
    assert errors == []
    kinds = {a.kind for a in raised}
    assert "proposals" in kinds  # the sample has proposals past their answer deadline
    assert all(navigation.path_for(p.url_path) for p in navigation.PAGES)
    assert {a.page for a in raised} <= {p.path for p in navigation.PAGES}


def test_a_table_published_by_two_feeds_does_not_break_the_warehouse(sample_data_dir):
    # A stray feed publishing `hotspots` too: the owner's table serves, every page still works.
    frame = queries.run("overview_hotspot_map", hours=3)
    own = len(frame)
    stray = store.Table("hotspots", {"area_code": "VARCHAR"}, pd.DataFrame({"area_code": ["X1"]}))
    for feed in ("aaa_stray", "zzz_stray"):  # attached before and after the owner
        store.publish(sample_data_dir, feed, [stray], run_id=f"r-{feed}", as_of=None, is_sample=True, source="test")
    warehouse._warehouses.clear()
    assert len(queries.run("overview_hotspot_map", hours=3)) == own
    assert "X1" not in set(queries.run("overview_hotspot_map", hours=3)["area_code"])


def test_the_complaints_tile_compares_the_day_with_its_usual_weekday(sample_data_dir):
    at = overview()
    assert not at.exception
    row = queries.run("complaints_today_vs_usual").iloc[0]
    assert metrics(at)["민원 (하루)"] == f"{int(row['complaints']):,}"
    delta = next(m.delta for m in at.metric if m.label == "민원 (하루)")
    assert delta == f"평소 같은 요일보다 {(row['complaints'] / row['usual'] - 1) * 100:+.0f}%"
    assert f"평소(같은 요일 8주 중앙값) {row['usual']:,.0f}건" in captions(at)


def test_without_complaints_the_tile_says_how_to_import_them(sample_data_dir):
    import datadir

    datadir.pointer_path(sample_data_dir, "complaints").unlink()
    warehouse._warehouses.clear()
    at = overview()
    assert not at.exception
    assert metrics(at)["민원 (하루)"] == "—"
    assert "python -m loaders import complaints FILE" in captions(at)


def badges(at: AppTest) -> list[tuple[str, str]]:
    """(colour, text) of every st.badge, in page order."""
    found = []
    for m in at.markdown:
        if m.value.startswith(":") and "-badge[" in m.value:
            colour, text = m.value[1:].split("-badge[", 1)
            found.append((colour, text.removesuffix("]")))
    return found


def test_every_tile_has_its_threshold_colour_and_a_link_to_its_page(sample_data_dir):
    at = app()
    assert not at.exception and at.title[0].value == "서울 한눈에"
    colours = dict((text, colour) for colour, text in badges(at))
    road = queries.run("overview_road_speed").iloc[0]
    speed = road["avg_speed_kmh"]
    assert colours["원활" if speed >= 25 else "서행" if speed >= 15 else "정체"] == (
        "green" if speed >= 25 else "orange" if speed >= 15 else "red"
    )
    crowds = queries.run("overview_crowds", hours=3).iloc[0]
    expected = (
        "red" if crowds["forecast_busy"] or crowds["busy_now"] else "orange" if crowds["somewhat_busy_now"] else "green"
    )
    assert colours[f"3시간 안에 붐빔 예보 {int(crowds['forecast_busy'] or 0)}곳"] == expected
    air = queries.run("overview_air").iloc[0]
    assert colours[air["worst_districts"]] == {1: "blue", 2: "green", 3: "orange", 4: "red"}[int(air["worst_rank"])]
    basket = queries.run("overview_price_basket").iloc[0]["basket_index"]
    rule = "red" if basket >= 105 else "orange" if basket >= 102 else "blue" if basket <= 98 else "green"
    assert [c for c, text in badges(at) if text.startswith("생필품")] == [rule]
    summary = queries.run("proposals_summary", deadline_days=30).iloc[0]
    overdue_colour = "red" if summary["overdue"] else "orange" if summary["waiting"] else "green"
    assert colours[f"30일 넘게 대기 {int(summary['overdue'])}건"] == overdue_colour
    links = [p.proto.page for p in at.get("page_link") if p.proto.label == "자세히 보기"]
    assert links[-6:] == [
        "traffic-now",
        "crowds-now",
        "air-and-bikes",
        "market-prices",
        "citizen-proposals",
        "complaints-120",
    ]


def test_the_screen_shows_each_tile_state_a_feed_missing_or_failing(sample_data_dir):
    import datadir

    datadir.pointer_path(sample_data_dir, "prices").unlink()
    record = store.RunRecord(feed="air", source="live", run_id=store.new_run_id("air"))
    record.started_at = record.finished_at = store.now_utc().isoformat()
    record.outcome, record.api_code, record.message = "failed", "ERROR-500", "ERROR-500 server error"
    store.append_run(sample_data_dir, record)
    warehouse._warehouses.clear()
    at = app(screen="1", pages="seoul-at-a-glance", every="60")
    assert not at.exception and len(at.sidebar) == 0
    shown = metrics(at)
    assert shown["생필품 물가 (한 달 전 = 100)"] == "—"
    assert "python -m loaders refresh prices" in captions(at)
    assert shown["대기질 (가장 나쁜 구)"] != "—"  # the failing feed's last good value stays, marked
    assert "갱신 실패" in captions(at)
    assert shown["시민 제안"].startswith("답변 대기")  # the others are untouched
    warnings = "\n".join(w.value for w in at.warning)
    assert "대기질" in warnings and "갱신 실패" in warnings
