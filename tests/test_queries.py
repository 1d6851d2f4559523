"""Every named query runs on the fixture warehouse and returns the rows its grain promises."""

from __future__ import annotations

import pandas as pd
import pytest

import queries

ITEM = "배추(2.5~3kg)"
PARAMS = {
    "item_name": ITEM,
    "limit": 5,
    "category": "",
    "deadline_days": 30,
    "k": 10,
    "dimension": "district",
    # the real-time city queries (tests/test_city_queries.py checks their answers)
    "hours": 3,
    "radius_km": 2.0,
    "suggestions": 3,
    "area_code": "POI001",
    "max_links": 5000,
    "max_points": 8,
    "feed": "bikes",
    "district_code": "11440",
    # complaints (tests/test_complaints_page.py checks their answers against the raw rows)
    "date_from": pd.Timestamp("2026-08-20").date(),
    "date_to": pd.Timestamp("2026-11-19").date(),
    "districts": ["11440", "11680"],
    "categories": [],
    "channels": ["call"],
    "district": "11440",
    "period": "week",
}


@pytest.mark.parametrize("name", queries.names())
def test_every_query_runs_and_states_its_grain(sample_data_dir, name):
    assert queries.grain(name).startswith("one row"), f"{name}.sql must open with its grain"
    params = {p: PARAMS[p] for p in queries.parameters(name)}
    frame = queries.run(name, **params)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns), name


@pytest.mark.parametrize("name", queries.names())
def test_every_query_runs_on_an_empty_warehouse(isolated_env, name):
    params = {p: PARAMS[p] for p in queries.parameters(name)}
    queries.run(name, **params)


def test_price_by_district_covers_all_25_districts(sample_data_dir):
    frame = queries.run("price_by_district", item_name=ITEM)
    assert len(frame) == 25
    assert frame["sig_cd"].is_unique
    assert frame["median_krw"].notna().sum() >= 20


def test_price_latest_by_market_matches_the_raw_rows(sample_data_dir):
    frame = queries.run("price_latest_by_market", item_name=ITEM)
    latest = queries.run("price_item_summary", item_name=ITEM).iloc[0]
    assert (frame["surveyed_on"] == latest["as_of"]).all()
    assert frame["price_krw"].min() == latest["min_now"]
    assert frame["price_krw"].max() == latest["max_now"]
    assert frame["lat"].between(37.4, 37.75).all() and frame["lon"].between(126.7, 127.25).all()
    assert set(frame["location_precision"]) == {"approximate"}


def test_weekly_trend_has_both_market_types(sample_data_dir):
    frame = queries.run("price_trend_weekly", item_name=ITEM)
    assert set(frame["market_type"]) == {"전통시장", "대형마트"}
    assert frame.groupby("market_type")["week"].nunique().min() >= 8


def test_feed_status_reports_sample_and_states(sample_data_dir):
    frame = queries.run("feed_status").set_index("feed")
    assert frame.loc["prices", "state"] == "ok"
    assert bool(frame.loc["prices", "is_sample"]) is True
    assert frame.loc["boundaries", "state"] == "no_data"
    assert frame.loc["prices", "row_count"] > 1000


def test_provenance_says_sample(sample_data_dir):
    row = queries.run("data_provenance").iloc[0]
    from loaders import feeds

    assert bool(row["any_sample"]) is True and row["datasets"] == len(feeds.SAMPLE_FEEDS)


def test_quarantine_reasons_count_the_latest_run_only(sample_data_dir):
    from loaders.__main__ import main

    first = queries.run("quarantine_reasons")
    zero = first[first["reason"].str.contains("A_PRICE must be above 0")]
    assert len(zero) == 1 and zero["records"].iloc[0] > 0
    assert main(["sample"]) == 0  # an identical reload quarantines the same rows again
    again = queries.run("quarantine_reasons")
    assert again["records"].sum() == first["records"].sum()


def test_wrong_parameters_are_refused(sample_data_dir):
    with pytest.raises(queries.QueryError, match="takes"):
        queries.run("price_item_summary")
    with pytest.raises(queries.QueryError, match="takes"):
        queries.run("price_item_summary", item_name=ITEM, extra=1)
    with pytest.raises(queries.QueryError, match="no query named"):
        queries.run("../etc/passwd")


def test_reader_sees_a_new_version_without_restart(sample_data_dir):
    from loaders import store

    before = queries.run("data_provenance").iloc[0]["datasets"]
    frame = pd.DataFrame({"sig_cd": ["11110"], "name_ko": ["종로구"], "geometry_json": ["{}"]})
    cols = {"sig_cd": "VARCHAR", "name_ko": "VARCHAR", "geometry_json": "VARCHAR"}
    store.publish(
        sample_data_dir,
        "boundaries",
        [store.Table("district_boundaries", cols, frame)],
        run_id=store.new_run_id("boundaries"),
        as_of=None,
        is_sample=False,
        source="test",
    )
    assert queries.run("data_provenance").iloc[0]["datasets"] == before + 1
    assert queries.run("district_boundaries")["sig_cd"].tolist() == ["11110"]


def test_a_named_query_is_parsed_once_and_each_run_binds_its_own_values(sample_data_dir, monkeypatch):
    parsed = []
    real = queries._parser

    class CountingParser:
        def cursor(self):
            cursor = real().cursor()

            class Counting:
                def extract_statements(self, sql):
                    parsed.append(sql)
                    return cursor.extract_statements(sql)

            return Counting()

    queries._statement.cache_clear()
    monkeypatch.setattr(queries, "_parser", lambda: CountingParser())
    try:
        gangnam = queries.run("complaints_top_categories", **_top_params("11680"))
        jongno = queries.run("complaints_top_categories", **_top_params("11110"))
    finally:
        queries._statement.cache_clear()
    assert parsed == [queries.sql_text("complaints_top_categories")]
    assert gangnam["complaints"].sum() != jongno["complaints"].sum()
    direct = queries.execute(queries.sql_text("complaints_top_categories"), _top_params("11110"))
    pd.testing.assert_frame_equal(jongno, direct)


def test_one_parsed_query_serves_many_threads_at_once(sample_data_dir):
    from concurrent.futures import ThreadPoolExecutor

    codes = queries.run("districts")["sig_cd"].tolist()
    alone = {code: queries.run("complaints_top_categories", **_top_params(code)) for code in codes}
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda c: queries.run("complaints_top_categories", **_top_params(c)), codes * 4))
    for code, frame in zip(codes * 4, together, strict=True):
        pd.testing.assert_frame_equal(frame, alone[code])
    assert len({int(f["complaints"].sum()) for f in alone.values()}) > 1


def _top_params(district: str) -> dict:
    return {
        "district": district,
        "date_from": PARAMS["date_from"],
        "date_to": PARAMS["date_to"],
        "categories": [],
        "channels": [],
    }
