"""The complaints queries against the same answers computed with pandas from the raw rows, and the
complaints page under AppTest: figures, filters in the URL, empty selections, no data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
import settings
from loaders import complaints, complaints_sample
from tests.caches import clear_page_caches
from tests.charts_check import assert_spec_is_plotlys_own
from tests.conftest import PROJECT

END = date(2026, 11, 19)
PAGE = str(PROJECT / "pages" / "complaints.py")


@pytest.fixture(scope="module")
def complaints_source(tmp_path_factory) -> tuple:
    """A warehouse of 30,000 generated complaints (and the districts), built once; copied per test."""
    import os

    root = tmp_path_factory.mktemp("complaints-warehouse")
    saved = os.environ.get("MAYOR_DATA_DIR")
    os.environ["MAYOR_DATA_DIR"] = str(root)
    try:
        from loaders import feeds

        cfg = settings.get()
        assert feeds.refresh(feeds.FEEDS["reference"], cfg).outcome == "ok"
        path = complaints_sample.write(root / "export.parquet", 30000, END)
        assert complaints.run_import(cfg, path, source="sample", is_sample=True).outcome == "ok"
    finally:
        if saved is None:
            os.environ.pop("MAYOR_DATA_DIR")
        else:
            os.environ["MAYOR_DATA_DIR"] = saved
    raw = pd.read_parquet(root / "export.parquet")
    return root, raw


@pytest.fixture
def complaints_dir(complaints_source, isolated_env):
    import shutil

    from queries import warehouse

    shutil.copytree(complaints_source[0], isolated_env, dirs_exist_ok=True)
    warehouse._warehouses.clear()
    clear_page_caches()
    return isolated_env


def raw_rows(complaints_source) -> pd.DataFrame:
    raw = complaints_source[1]
    codes = {r.name_ko: r.sig_cd for r in __import__("loaders.reference").reference.districts().itertuples()}
    channels = {"120 전화": "call", "응답소": "web", "모바일 앱": "app", "방문": "visit", "기타": "other"}
    return pd.DataFrame(
        {
            "received_at": raw["접수일시"],
            "district_code": raw["자치구"].map(codes),
            "category": raw["민원분야"],
            "channel": raw["접수경로"].map(channels),
            "status": raw["처리상태"].map({"처리완료": "resolved", "처리중": "in_progress", "접수": "received"}),
            "resolved_at": raw["처리완료일시"],
        }
    )


def select(raw: pd.DataFrame, p: dict) -> pd.DataFrame:
    day = raw["received_at"].dt.date
    keep = (day >= p["date_from"]) & (day <= p["date_to"])
    for key, column in (("districts", "district_code"), ("categories", "category"), ("channels", "channel")):
        if p[key]:
            keep &= raw[column].isin(p[key])
    return raw[keep]


FILTERS = [
    {"date_from": date(2026, 8, 20), "date_to": END, "districts": [], "categories": [], "channels": []},
    {
        "date_from": date(2026, 1, 7),
        "date_to": date(2026, 6, 13),
        "districts": ["11680", "11710"],
        "categories": [],
        "channels": [],
    },
    {
        "date_from": date(2025, 12, 1),
        "date_to": date(2026, 3, 31),
        "districts": [],
        "categories": ["교통", "복지"],
        "channels": ["call"],
    },
    {
        "date_from": date(2026, 5, 3),
        "date_to": date(2026, 5, 17),
        "districts": ["11110"],
        "categories": ["교통"],
        "channels": ["web", "app"],
    },
]


@pytest.mark.parametrize("p", FILTERS, ids=["quarter", "two-districts", "topics-and-call", "fortnight-all-filters"])
def test_counts_match_the_raw_rows(complaints_dir, complaints_source, p):
    raw = select(raw_rows(complaints_source), p)
    summary = queries.run("complaints_summary", **p).iloc[0]
    assert summary["complaints"] == len(raw)
    assert summary["resolved"] == (raw["status"] == "resolved").sum()
    assert summary["open"] == raw["status"].isin(["received", "in_progress"]).sum()
    assert summary["days"] == (p["date_to"] - p["date_from"]).days + 1

    by_district = queries.run("complaints_by_district", **p).set_index("sig_cd")
    assert len(by_district) == 25
    everywhere = select(raw_rows(complaints_source), {**p, "districts": []})
    want = everywhere.groupby("district_code").size()
    assert (
        by_district["complaints"][by_district["complaints"] > 0].sort_index().to_dict() == want.sort_index().to_dict()
    )
    assert set(by_district.index[by_district["selected"]]) == set(p["districts"] or by_district.index)

    trend = queries.run("complaints_category_trend", period="week", **p)
    want = raw.groupby([raw["received_at"].dt.to_period("W-SUN").dt.start_time, "category"]).size()
    got = trend.set_index([pd.to_datetime(trend["period"]), "category"])["complaints"]
    assert got.sort_index().to_dict() == want.sort_index().to_dict()


@pytest.mark.parametrize("p", FILTERS, ids=["quarter", "two-districts", "topics-and-call", "fortnight-all-filters"])
def test_the_heatmap_counts_every_day_of_the_range_exactly(complaints_dir, complaints_source, p):
    # Whole months come from the heat cube and the days at either edge from the rows themselves.
    raw = select(raw_rows(complaints_source), p)
    heat = queries.run("complaints_heatmap", **p).set_index(["weekday", "hour"])["complaints"]
    want = raw.groupby([raw["received_at"].dt.isocalendar().day.astype(int), raw["received_at"].dt.hour]).size()
    assert heat.to_dict() == want.to_dict()


@pytest.mark.parametrize("p", FILTERS[:3], ids=["quarter", "two-districts", "topics-and-call"])
def test_resolution_quantiles_are_within_the_bin_accuracy(complaints_dir, complaints_source, p):
    raw = select(raw_rows(complaints_source), p)
    done = raw[(raw["status"] == "resolved") & raw["resolved_at"].notna()]
    hours = (done["resolved_at"] - done["received_at"]).dt.total_seconds() / 3600
    got = queries.run("complaints_resolution", **p).set_index("category")
    for category, h in hours.groupby(done["category"]):
        assert got.loc[category, "resolved"] == len(h)
        if len(h) < 50:
            continue
        # Bins are 15% wide; interpolation inside one keeps the estimate within about 8%.
        assert got.loc[category, "median_hours"] == pytest.approx(np.quantile(h, 0.5), rel=0.08), category
        assert got.loc[category, "p90_hours"] == pytest.approx(np.quantile(h, 0.9), rel=0.08), category


def test_the_placement_in_bins_is_the_loaders_bins():
    # The query places a quantile inside a bin with the loader's base, ratio and last bin.
    sql = queries.sql_text("complaints_resolution")
    assert "0.5 * pow(1.15, bin - 1 + f)" in sql and "WHEN bin = 61 THEN 0.5 * pow(1.15, 60)" in sql
    assert complaints.RESOLUTION_BINS == 62
    assert (complaints.RESOLUTION_BIN_BASE_H, complaints.RESOLUTION_BIN_RATIO) == (0.5, 1.15)


def test_top_categories_and_latest(complaints_dir, complaints_source):
    p = FILTERS[0]
    raw = select(raw_rows(complaints_source), p)
    top = queries.run("complaints_top_categories", district="11440", **{k: v for k, v in p.items() if k != "districts"})
    here = raw[raw["district_code"] == "11440"]["category"].value_counts()
    assert top["category"].tolist()[:3] == here.index.tolist()[:3]
    assert top["share"].sum() == pytest.approx(1.0)
    assert top.set_index("category")["complaints"].to_dict() == here.to_dict()
    city = raw["category"].value_counts(normalize=True)
    assert top.set_index("category")["city_share"].to_dict() == pytest.approx(city.to_dict())

    latest = queries.run("complaints_latest", limit=5, **p)
    newest = raw.sort_values("received_at", ascending=False).head(5)
    assert latest["received_at"].tolist() == newest["received_at"].tolist()


def test_today_against_the_usual_weekday(complaints_dir, complaints_source):
    raw = raw_rows(complaints_source)
    per_day = raw.groupby(raw["received_at"].dt.date).size()
    row = queries.run("complaints_today_vs_usual").iloc[0]
    assert row["day"].date() == END and row["complaints"] == per_day[END]
    same_weekday = [END - pd.Timedelta(days=7 * k) for k in range(1, 9)]
    assert row["usual"] == pytest.approx(np.median([per_day.get(pd.Timestamp(d).date(), 0) for d in same_weekday]))


# --- the page ----------------------------------------------------------------------------------


def run_page(query: dict | None = None, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if lang:
        at.query_params["lang"] = lang
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_page_shows_the_figures_of_its_filters(complaints_dir, complaints_source):
    at = run_page({"from": "2026-08-20", "to": "2026-11-19"})
    assert not at.exception
    raw = select(raw_rows(complaints_source), FILTERS[0])
    assert metric(at, "민원 건수") == f"{len(raw):,}"
    assert metric(at, "처리 완료 비율") == f"{(raw['status'] == 'resolved').mean():.1%}"
    assert any("기준: 2026-11-19" in c.value and "출처: 120 다산콜재단" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 4  # map (tile grid without boundaries), trend, heat, resolution
    latest = at.dataframe[-1].value
    assert len(latest) == 50 and latest.iloc[0]["접수일시"] == raw["received_at"].max()
    # Open complaints have no resolved time: the table shows a dash there, not "None".
    assert latest["처리완료일시"].isna().any() and at.dataframe[-1].proto.placeholder == "—"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_map_shades_the_chosen_districts_by_their_counts(complaints_dir, monkeypatch, lang):
    from ui import complaints as cv
    from ui import maps

    monkeypatch.setattr("ui.maps.current", lambda: lang)
    rows = queries.run("complaints_by_district", **{**FILTERS[1], "categories": [], "channels": []})
    view = cv.district_view(rows).set_index("sig_cd")
    chosen = view[view["selected"]]
    assert sorted(chosen.index) == sorted(FILTERS[1]["districts"]) and (chosen["complaints"] > 0).all()
    busiest = chosen["complaints"].idxmax()
    assert view.loc[busiest, ["r", "g", "b"]].tolist() == list(cv._BLUES[2])  # the largest: deepest blue
    assert view.loc[~view["selected"], ["r", "g", "b"]].isna().all().all()  # not chosen: no colour
    gangnam = view.loc["11680"]
    assert gangnam["name"] == ("강남구" if lang == "ko" else "Gangnam")
    assert view["value_label"].tolist() == [f"{n:,}" for n in rows["complaints"].tolist()]
    tiles = maps.district_tile_grid(view.reset_index(), "no data").spec["data"][0]
    shown = {t for line in tiles["text"] for t in line if t}
    assert f"{gangnam['name']}<br>{gangnam['value_label']}" in shown and len(shown) == 25


def test_every_tile_is_drawn_in_its_own_colour(complaints_dir):
    """25 districts, 25 shades: a tile given its neighbour's colour would show."""
    from ui import complaints as cv
    from ui import maps

    rows = queries.run("complaints_by_district", **FILTERS[0])
    rows = rows.assign(complaints=range(1000, 1000 * (len(rows) + 1), 1000), selected=True)
    view = cv.district_view(rows)
    tiles = maps.district_tile_grid(view, "no data").spec["data"][0]
    own = {
        n: f"rgb({int(r)}, {int(g)}, {int(b)})" for n, r, g, b in view[["name", "r", "g", "b"]].itertuples(index=False)
    }
    assert len(set(own.values())) == 25
    for (i, j), z in np.ndenumerate(tiles["z"]):
        if not np.isnan(z):
            name = tiles["text"][i][j].split("<br>")[0]
            assert _plotly_colour(tiles["colorscale"], tiles["zmin"], tiles["zmax"], z) == own[name], name


def _plotly_colour(scale: list, zmin: float, zmax: float, z: float) -> str | None:
    """As plotly.js colours a heatmap cell: the scale's stops become z values (stop × range + zmin, in
    floating point) and the cell takes the stretch that d3's bisect finds; None between two colours."""
    import bisect

    domain = [zmin + stop * (zmax - zmin) for stop, _ in scale]
    i = min(max(bisect.bisect_right(domain, z) - 1, 0), len(domain) - 2)
    low, high = scale[i][1], scale[i + 1][1]
    return low if low == high else None


def test_a_link_reproduces_the_filters_and_changes_go_into_the_link(complaints_dir, complaints_source):
    at = run_page({"from": "2026-01-07", "to": "2026-06-13", "gu": ["11680", "11710"], "ch": "call", "cat": "교통"})
    assert not at.exception
    assert at.date_input(key="c_dates").value == (date(2026, 1, 7), date(2026, 6, 13))
    assert at.multiselect(key="c_gu").value == ["11680", "11710"]
    assert at.multiselect(key="c_ch").value == ["call"] and at.multiselect(key="c_cat").value == ["교통"]
    p = {**FILTERS[1], "categories": ["교통"], "channels": ["call"]}
    assert metric(at, "민원 건수") == f"{len(select(raw_rows(complaints_source), p)):,}"
    at.multiselect(key="c_gu").set_value(["11110"]).run()
    assert at.query_params["gu"] in ("11110", ["11110"])  # AppTest shows a one-value list as the value
    at.multiselect(key="c_cat").set_value([]).run()
    assert "cat" not in at.query_params
    assert (
        metric(at, "민원 건수")
        == f"{len(select(raw_rows(complaints_source), {**p, 'districts': ['11110'], 'categories': []})):,}"
    )


def test_a_mistyped_link_still_shows_a_page(complaints_dir):
    at = run_page(
        {"from": "yesterday", "to": "2099-01-01", "gu": ["99999", "11110"], "ch": "pigeon", "cat": "없는분야"}
    )
    assert not at.exception
    assert at.multiselect(key="c_gu").value == ["11110"]
    assert at.multiselect(key="c_ch").value == [] and at.multiselect(key="c_cat").value == []
    assert at.date_input(key="c_dates").value[1] == END


def test_an_empty_selection_says_so_in_words(complaints_dir):
    at = run_page({"from": "2026-11-19", "to": "2026-11-19", "gu": "11110", "cat": "문화·관광", "ch": "visit"})
    assert not at.exception
    assert metric(at, "민원 건수") == "0"
    assert any("이 조건에 맞는 민원이 없습니다" in i.value for i in at.info)
    assert not at.get("plotly_chart")[1:]  # the map stays (every district grey); no empty charts


def test_without_complaints_the_page_says_how_to_load_them(sample_data_dir):
    import datadir

    datadir.pointer_path(sample_data_dir, "complaints").unlink()
    at = run_page()
    assert not at.exception
    assert any("python -m loaders import complaints" in i.value for i in at.info)


def test_the_page_speaks_english(complaints_dir):
    at = run_page({"from": "2026-08-20", "to": "2026-11-19", "cat": "교통"}, lang="en")
    assert not at.exception
    assert at.title[0].value == "Complaints (120 Dasan call centre, Eungdapso)"
    assert [m.label for m in at.metric] == ["Complaints", "Per day", "Resolved", "Still open"]
    assert at.multiselect(key="c_cat").options[0] == "Transport (교통)"
    assert at.multiselect(key="c_ch").options[0] == "120 call"


def test_partial_periods_count_only_their_days_in_the_range():
    from ui import complaints as cv

    f = cv.Filters(date(2026, 8, 20), END, (), (), ())
    assert cv.period(f) == "week"
    weeks = pd.Series(pd.to_datetime(["2026-08-17", "2026-08-24", "2026-11-16"]))
    assert cv.days_covered(weeks, f).tolist() == [4, 7, 4]
    f = cv.Filters(date(2025, 1, 10), END, (), (), ())
    months = pd.Series(pd.to_datetime(["2025-01-01", "2025-02-01", "2026-11-01"]))
    assert (cv.period(f), cv.days_covered(months, f).tolist()) == ("month", [22, 28, 19])
    assert cv.period(cv.Filters(date(2026, 11, 1), END, (), (), ())) == "day"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_figure_is_sent_as_plotly_itself_would_send_it(complaints_dir, lang, monkeypatch):
    """The page's figures skip plotly's validation per rerun (ui/charts.py); here plotly validates
    each of them, for a filter set of every period, with the labels of both languages."""
    from ui import complaints as cv
    from ui import maps

    monkeypatch.setattr("ui.i18n.current", lambda: lang)
    monkeypatch.setattr("ui.complaints.current", lambda: lang)
    for p in FILTERS:
        f = cv.Filters(
            p["date_from"], p["date_to"], tuple(p["districts"]), tuple(p["categories"]), tuple(p["channels"])
        )
        params = f.params()
        assert_spec_is_plotlys_own(
            cv.trend_figure(queries.run("complaints_category_trend", period=cv.period(f), **params), f)
        )
        assert_spec_is_plotlys_own(cv.heat_figure(queries.run("complaints_heatmap", **params)))
        assert_spec_is_plotlys_own(cv.resolution_figure(queries.run("complaints_resolution", **params)))
        by_district = queries.run("complaints_by_district", **params)
        assert_spec_is_plotlys_own(maps.district_tile_grid(cv.district_view(by_district), "no data"))


def test_the_heat_maps_hours_are_labels_not_numbers(complaints_dir):
    """Read as numbers, "00"…"23" would be ticked 0, 5, 10…; every hour is a category, in order."""
    from ui import complaints as cv

    f = cv.Filters(date(2026, 8, 20), END, (), (), ())
    spec = cv.heat_figure(queries.run("complaints_heatmap", **f.params())).to_plotly_json()
    assert spec["layout"]["xaxis"]["type"] == "category"
    assert list(spec["data"][0]["x"]) == [f"{h:02d}" for h in range(24)]


def _record_query_runs(monkeypatch) -> list[tuple[str, str, tuple]]:
    """(thread, query, params) of every query the page's cache runs."""
    import threading

    runs, run = [], queries.run

    def recorded(name, **params):
        runs.append((threading.current_thread().name, name, tuple(sorted((k, repr(v)) for k, v in params.items()))))
        return run(name, **params)

    monkeypatch.setattr(queries, "run", recorded)
    return runs


@pytest.mark.parametrize(
    "link",
    [
        {"from": "2026-08-20", "to": "2026-11-19"},
        {"from": "2026-01-07", "to": "2026-06-13", "gu": ["11680", "11710"], "ch": "call", "top": "11710"},
    ],
)
def test_the_queries_started_ahead_are_the_pages_own_and_each_runs_once(complaints_dir, monkeypatch, link):
    runs = _record_query_runs(monkeypatch)
    at = run_page(link)
    assert not at.exception
    page_queries = [name for _, name, _ in runs if name.startswith("complaints_") and name != "complaints_categories"]
    # A query started ahead with other parameters than the page's own would run twice: wasted work.
    # (The latest records run a second time, over the whole range, when the last days hold too few.)
    once = [name for name in page_queries if name != "complaints_latest"]
    assert sorted(once) == sorted(set(once)) and len({r for r in runs}) == len(runs)
    expected = {"summary", "by_district", "top_categories", "category_trend", "heatmap", "resolution", "latest"}
    assert {n.removeprefix("complaints_") for n in page_queries} == expected
    ahead = {name for thread, name, _ in runs if thread.startswith("query-ahead")}
    assert ahead and ahead <= {f"complaints_{n}" for n in expected - {"summary"}}
    assert ("complaints_top_categories" in ahead) <= ("top" in link)  # without a district in the link, not ahead


def test_a_query_started_ahead_that_fails_is_run_again_by_the_page_and_shows_its_error(monkeypatch):
    import threading
    import time

    from ui import data as ui_data

    threads = []

    def failing(name, **params):
        threads.append(threading.current_thread().name)
        raise queries.QueryError(f"{name}: the file is gone")

    monkeypatch.setattr(queries, "run", failing)
    clear_page_caches()
    ui_data.prefetch(("complaints_summary", {"n": 1}))
    deadline = time.monotonic() + 10
    while not threads and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(queries.QueryError, match="complaints_summary: the file is gone"):
        ui_data.query("complaints_summary", n=1)
    # Failures are not cached: the page's own call ran the query again (and shows what went wrong).
    assert len(threads) == 2 and threads[0].startswith("query-ahead") and threads[1] == threading.current_thread().name


def test_a_rerun_with_the_same_filters_sends_nothing_to_the_pool(complaints_dir, monkeypatch):
    from ui import data as ui_data

    at = run_page({"from": "2026-08-20", "to": "2026-11-19", "top": "11440"})
    assert not at.exception
    submitted = []
    monkeypatch.setattr(ui_data._ahead, "submit", lambda fn, key, name, params: submitted.append(name))
    at.run()
    assert not at.exception and submitted == []
    at.multiselect(key="c_ch").set_value(["web"]).run()
    assert not at.exception
    assert sorted(submitted) == sorted(
        f"complaints_{n}"
        for n in ("resolution", "heatmap", "latest", "by_district", "category_trend", "top_categories")
    )


def test_formatting_options_outside_a_run_asks_no_session(complaints_dir, caplog):
    """AppTest formats widget options on its own thread, outside any script run: the labels come
    in the default language without Streamlit's warning for each session-state access."""
    from ui import i18n

    at = run_page({"from": "2026-08-20", "to": "2026-11-19"})
    caplog.clear()
    with caplog.at_level("WARNING"):
        at.multiselect(key="c_cat").set_value(["교통"]).run()
        assert i18n.current() == "ko"
    assert not at.exception and at.multiselect(key="c_cat").value == ["교통"]
    assert not [r for r in caplog.records if "ScriptRunContext" in r.getMessage()]
