"""Every page runs under streamlit's AppTest on the sample warehouse and on an empty one, shows
the figures the named queries return, keeps its state in the URL, and survives a broken query."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
from loaders import store
from tests.charts_check import assert_spec_is_plotlys_own
from ui import data as ui_data
from ui import navigation

PROJECT = Path(__file__).resolve().parents[1]
APP = "app.py"
PRICES = "pages/prices.py"
DATA = "pages/data.py"
PAGE_PATHS = [p.path for p in navigation.PAGES]
TIMEOUT_S = 30


def locale(lang: str) -> dict:
    with open(PROJECT / "ui" / "locales" / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


KO = locale("ko")
EN = locale("en")


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


def app_test(path: str, **query_params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT / path), default_timeout=TIMEOUT_S)
    at.query_params.update(query_params)
    return at


def run(path: str, **query_params: str) -> AppTest:
    at = app_test(path, **query_params).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_prices(**query_params: str) -> AppTest:
    """The app opened on the prices page (the default page is the overview)."""
    at = run(APP, **query_params)
    at.switch_page("pages/prices.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def won(value) -> str:
    """The Korean money format, written out independently of ui.frame.krw."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{round(float(value)):,}원"


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(item: str) -> dict[str, str]:
    s = queries.run("price_item_summary", item_name=item).iloc[0]
    return {
        KO["prices"]["median_now"]: won(s["median_now"]),
        KO["prices"]["lowest"]: won(s["min_now"]),
        KO["prices"]["highest"]: won(s["max_now"]),
        KO["prices"]["vs_year"]: won(s["median_year_ago"]),
    }


def item_names() -> list[str]:
    return queries.run("price_items")["item_name"].tolist()


# --- every page runs --------------------------------------------------------------------------


def test_pages_list_is_not_empty_and_points_at_files():
    assert PAGE_PATHS
    for path in PAGE_PATHS:
        assert (PROJECT / path).is_file(), path


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_runs_on_the_sample(sample_data_dir, path):
    at = run(path)
    assert at.title, f"{path} shows no title"
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_runs_on_an_empty_warehouse(isolated_env, path):
    at = run(path)
    assert at.title
    assert not at.error, [e.value for e in at.error]


def test_app_runs_on_the_sample(sample_data_dir):
    at = run(APP)
    assert [t.value for t in at.title] == [KO["overview"]["title"]]  # the default page is the overview
    assert any(c.value == KO["app"]["source_footer"] for c in at.caption)


# --- the frame: banner and language -----------------------------------------------------------


def test_app_shows_the_sample_banner_in_korean(sample_data_dir):
    at = run_prices()
    assert [w.value for w in at.warning] == [KO["banner"]["sample"]]
    assert at.title[0].value == KO["prices"]["title"]


def test_app_in_english_via_the_lang_parameter(sample_data_dir):
    at = run_prices(lang="en")
    assert [w.value for w in at.warning] == [EN["banner"]["sample"]]
    assert at.title[0].value == EN["prices"]["title"]
    assert at.radio(key="lang_choice").value == "en"
    assert at.query_params["lang"] == "en"
    median = next(m for m in at.metric if m.label == EN["prices"]["median_now"])
    assert median.value.startswith("₩")


def test_app_on_an_empty_warehouse_says_nothing_is_loaded(isolated_env):
    at = run(APP)
    assert [w.value for w in at.warning] == [KO["banner"]["no_data"]]
    assert not at.error
    at.switch_page("pages/prices.py").run()
    assert [w.value for w in at.warning] == [KO["banner"]["no_data"]]
    assert [i.value for i in at.info] == [KO["prices"]["no_prices"]]
    assert not at.error
    assert not at.metric


def test_prices_page_on_an_empty_warehouse_says_no_prices(isolated_env):
    at = run(PRICES)
    assert [i.value for i in at.info] == [KO["prices"]["no_prices"]]
    assert not at.selectbox
    assert not at.metric


# --- prices -----------------------------------------------------------------------------------


def test_prices_metrics_match_the_item_summary_query(sample_data_dir):
    at = run(PRICES)
    item = at.selectbox(key="item").value
    assert item == item_names()[0]
    assert at.query_params["item"] == item
    shown = metric_values(at)
    assert shown == expected_metrics(item)
    median = shown[KO["prices"]["median_now"]]
    assert median.endswith("원") and "," in median, median  # e.g. "5,950원"


def test_selecting_another_item_updates_the_url_and_the_metrics(sample_data_dir):
    at = run(PRICES)
    names = item_names()
    first = at.selectbox(key="item").value
    before = metric_values(at)
    other = next(n for n in names[1:] if expected_metrics(n) != before)

    at.selectbox(key="item").select(other).run()
    assert not at.exception
    assert at.selectbox(key="item").value == other
    assert at.query_params["item"] == other
    assert metric_values(at) == expected_metrics(other)
    assert metric_values(at) != before
    assert other != first


def test_item_parameter_preselects_the_item(sample_data_dir):
    names = item_names()
    wanted = names[len(names) // 2]
    at = run(PRICES, item=wanted)
    assert at.selectbox(key="item").value == wanted
    assert at.query_params["item"] == wanted
    assert metric_values(at) == expected_metrics(wanted)


def test_unknown_item_parameter_falls_back_to_the_first_item(sample_data_dir):
    at = run(PRICES, item="없는 품목")
    first = item_names()[0]
    assert at.selectbox(key="item").value == first
    assert at.query_params["item"] == first


# --- data -------------------------------------------------------------------------------------


def dictionary() -> dict:
    with open(PROJECT / "data" / "dictionary.toml", "rb") as f:
        return tomllib.load(f)


def overview(at: AppTest):
    """The feed overview: the dataframe with the feed, state and failure columns."""
    wanted = {KO["data"]["feed"], KO["data"]["state"], KO["data"]["failures_7d"]}
    frames = [d.value for d in at.dataframe if wanted <= set(d.value.columns)]
    assert len(frames) == 1, [list(d.value.columns) for d in at.dataframe]
    return frames[0].set_index(KO["data"]["feed"])


def failures_table(at: AppTest):
    frames = [d.value for d in at.dataframe if KO["data"]["col_message"] in d.value.columns]
    assert len(frames) <= 1
    return frames[0] if frames else None


def test_data_page_lists_every_feed_of_the_dictionary(sample_data_dir):
    at = run(DATA)
    table = overview(at)
    feeds = dictionary()["feeds"]
    assert sorted(table.index) == sorted(f["title_ko"] for f in feeds.values())
    state = KO["data"]["state"]
    assert table.loc[feeds["prices"]["title_ko"], state] == KO["state"]["ok"]
    assert table.loc[feeds["reference"]["title_ko"], state] == KO["state"]["ok"]
    assert table.loc[feeds["boundaries"]["title_ko"], state] == KO["state"]["no_data"]
    assert table.loc[feeds["prices"]["title_ko"], KO["data"]["sample"]] == KO["data"]["yes"]
    assert (table[KO["data"]["failures_7d"]] == 0).all()
    assert failures_table(at) is None
    assert KO["data"]["no_failures"] in [s.value for s in at.success]
    assert len(at.expander) == len(feeds)


def test_data_page_shows_a_failed_run_and_the_degraded_state(sample_data_dir):
    now = store.now_utc().isoformat(timespec="milliseconds")
    store.append_run(
        sample_data_dir,
        store.RunRecord(
            feed="prices",
            source="test",
            run_id=store.new_run_id("prices"),
            started_at=now,
            finished_at=now,
            outcome="failed",
            api_code="ERROR-500",
            message="boom test",
        ),
    )
    at = run(DATA)
    failures = failures_table(at)
    assert failures is not None, "no recent-failures table"
    assert len(failures) == 1
    row = failures.iloc[0]
    assert row[KO["data"]["feed"]] == "prices"
    assert row[KO["data"]["col_outcome"]] == "failed"
    assert row[KO["data"]["col_message"]] == "boom test"
    assert row[KO["data"]["col_code"]] == "ERROR-500"

    table = overview(at)
    feeds = dictionary()["feeds"]
    prices = table.loc[feeds["prices"]["title_ko"]]
    assert prices[KO["data"]["state"]] == KO["state"]["degraded"] == "일부 오류 (마지막 정상 자료 표시 중)"
    assert prices[KO["data"]["failures_7d"]] == 1
    assert table.loc[feeds["reference"]["title_ko"], KO["data"]["state"]] == KO["state"]["ok"]
    assert KO["data"]["no_failures"] not in [s.value for s in at.success]


def test_data_page_on_an_empty_warehouse_shows_every_feed_without_data(isolated_env):
    at = run(DATA)
    table = overview(at)
    assert len(table) == len(dictionary()["feeds"])
    assert set(table[KO["data"]["state"]]) == {KO["state"]["no_data"]}


# --- a broken query ---------------------------------------------------------------------------


def break_query(monkeypatch, broken: str, message: str) -> None:
    real = ui_data.query

    def query(name, **params):
        if name == broken:
            raise queries.QueryError(message)
        return real(name, **params)

    monkeypatch.setattr(ui_data, "query", query)


def test_a_broken_query_shows_an_error_panel_and_the_rest_renders(sample_data_dir, monkeypatch):
    break_query(monkeypatch, "price_trend_weekly", "price_trend_weekly: boom from the test")
    at = run(PRICES)
    expected = KO["state"]["query_error"].format(error="price_trend_weekly: boom from the test")
    assert [e.value for e in at.error] == [expected]
    item = at.selectbox(key="item").value
    assert metric_values(at) == expected_metrics(item)
    subheaders = [s.value for s in at.subheader]
    assert KO["prices"]["trend_title"] in subheaders
    assert KO["prices"]["cheapest_title"] in subheaders  # below the broken panel
    assert KO["prices"]["gap_title"] in subheaders
    assert KO["prices"]["trend_caption"] not in [c.value for c in at.caption]


def test_a_failing_queries_run_is_caught_the_same_way(sample_data_dir, monkeypatch):
    real = queries.run

    def run_query(name, **params):
        if name == "price_by_district":
            raise queries.QueryError("price_by_district: no such table")
        return real(name, **params)

    monkeypatch.setattr(queries, "run", run_query)
    at = run_prices()
    assert [e.value for e in at.error] == [KO["state"]["query_error"].format(error="price_by_district: no such table")]
    assert len(at.metric) == 4
    assert [w.value for w in at.warning] == [KO["banner"]["sample"]]


def test_data_page_with_a_broken_feed_status_still_shows_failures(sample_data_dir, monkeypatch):
    break_query(monkeypatch, "feed_status", "feed_status: boom")
    at = run(DATA)
    assert [e.value for e in at.error] == [KO["state"]["query_error"].format(error="feed_status: boom")]
    assert KO["data"]["recent_failures"] in [s.value for s in at.subheader]
    assert KO["data"]["no_failures"] in [s.value for s in at.success]


# --- navigation and language switch -----------------------------------------------------------


def test_switching_language_with_the_radio_translates_and_sets_the_url(sample_data_dir):
    at = run_prices()
    item = at.selectbox(key="item").value
    at.radio(key="lang_choice").set_value("en").run()
    assert not at.exception
    assert at.query_params["lang"] == "en"
    assert at.title[0].value == EN["prices"]["title"]
    assert [w.value for w in at.warning] == [EN["banner"]["sample"]]
    assert at.selectbox(key="item").value == item


def test_switching_to_the_data_page_keeps_the_frame(sample_data_dir):
    at = run(APP)
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert at.title[0].value == KO["data"]["title"]
    assert [w.value for w in at.warning] == [KO["banner"]["sample"]]
    assert len(overview(at)) == len(dictionary()["feeds"])


def test_a_failed_run_on_an_empty_warehouse_is_an_error_state(isolated_env):
    now = store.now_utc().isoformat(timespec="milliseconds")
    store.append_run(
        isolated_env,
        store.RunRecord(
            feed="prices", source="test", started_at=now, finished_at=now, outcome="failed", message="boom"
        ),
    )
    at = run(DATA)
    table = overview(at)
    assert table.loc[dictionary()["feeds"]["prices"]["title_ko"], KO["data"]["state"]] == KO["state"]["error"]
    assert failures_table(at) is not None


def test_cheapest_markets_table_shows_survey_dates_without_a_time(sample_data_dir):
    at = run(PRICES)
    col = KO["prices"]["col_date"]
    (table,) = [d for d in at.dataframe if col in d.value.columns]
    configured = json.loads(table.proto.columns or "{}").get(col, {}).get("type_config", {}).get("type")
    values = table.value[col]
    assert configured == "date" or not pd.api.types.is_datetime64_any_dtype(values), values.dtype
    assert not values.astype(str).str.contains("00:00").any()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_prices_figures_are_sent_as_plotly_itself_would_send_them(sample_data_dir, lang, monkeypatch):
    """Sent unvalidated per rerun (ui/charts.py): plotly validates them here, with their numbers."""
    from ui import prices

    monkeypatch.setattr("ui.i18n.current", lambda: lang)
    item = item_names()[0]
    trend = queries.run("price_trend_weekly", item_name=item)
    fig = prices.trend_figure(trend)
    assert_spec_is_plotlys_own(fig)
    first = trend[trend["market_type"] == sorted(trend["market_type"].unique())[0]]
    assert list(fig.spec["data"][0]["y"]) == first["median_krw"].tolist()
    gap = queries.run("price_type_gap").dropna(subset=["mart_premium_pct"]).sort_values("mart_premium_pct")
    fig = prices.gap_figure(gap)
    assert_spec_is_plotlys_own(fig)
    colours = fig.spec["data"][0]["marker"]["color"]
    assert [c == "#d73027" for c in colours] == (gap["mart_premium_pct"] > 0).tolist()


def test_query_results_are_shared_yet_no_reader_can_change_another_readers_rows(sample_data_dir):
    """ui/data.py keeps one frame per result for every session and hands out shallow copies: no
    pickling per read, and pandas' copy-on-write keeps one reader's writes to itself."""
    first = ui_data.query("feed_status")
    untouched = first.copy(deep=True)
    second = ui_data.query("feed_status")
    assert second is not first
    # The same rows in memory, not a copy of them per read.
    assert np.shares_memory(first["failures_7d"].to_numpy(), second["failures_7d"].to_numpy())

    first.loc[first.index[0], "feed"] = "written by one reader"
    first["added"] = 1
    first.loc[first.index[0], "failures_7d"] = 99
    first.drop(columns=["row_count"], inplace=True)

    third = ui_data.query("feed_status")
    pd.testing.assert_frame_equal(third, untouched)
    pd.testing.assert_frame_equal(second, untouched)
