"""Explore: dictionary-driven filtered reads (queries.explore), the exports (ui.export), and the
Explore and SQL console pages under AppTest, with their state in the URL."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
from queries import QueryError, gate
from queries import explore as ex
from ui import export

PROJECT = Path(__file__).resolve().parents[1]
EXPLORE = "pages/explore.py"
SQL = "pages/sql.py"
TIMEOUT_S = 30
BOM = b"\xef\xbb\xbf"


def locale(lang: str) -> dict:
    with open(PROJECT / "ui" / "locales" / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


KO = locale("ko")


def dictionary() -> dict:
    with open(PROJECT / "data" / "dictionary.toml", "rb") as f:
        return tomllib.load(f)


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


@pytest.fixture(autouse=True)
def patient_console(monkeypatch):
    """No test here is about the console's time limit (tests/test_console_attacks.py is): on a
    crowded machine the console's child process can take longer than the default 5 s to start, and
    the page would rightly report a timeout instead of what a test looks for."""
    monkeypatch.setenv("MAYOR_CONSOLE_TIMEOUT_S", str(TIMEOUT_S))


def prices_frame() -> pd.DataFrame:
    """Every price row, read without the explore builder: the reference the filters must match."""
    return queries.execute("SELECT * FROM prices", {})


def two_districts() -> list[str]:
    counts = ex.facet_counts(ex.Selection("prices"), "district_name")
    return counts["value"].tolist()[:2]


# --- queries.explore --------------------------------------------------------------------------


def test_explorable_tables_and_their_specs_come_from_the_dictionary(sample_data_dir):
    tables = dictionary()["tables"]
    assert ex.explorable() == [t for t, spec in tables.items() if "explore" in spec]
    assert "prices" in ex.explorable() and "district_boundaries" not in ex.explorable()
    assert ex.facets("prices") == tables["prices"]["explore"]["facets"]
    assert ex.time_column("prices") == "surveyed_on"
    assert ex.time_column("districts") is None
    assert ex.searchable("prices") and not ex.searchable("datasets")
    assert list(ex.columns("prices")) == list(tables["prices"]["columns"])


def test_no_filter_counts_every_row_and_rows_are_ordered(sample_data_dir):
    every = prices_frame()
    sel = ex.Selection("prices")
    assert ex.count(sel) == len(every) > 1000
    page = ex.rows(sel, 50)
    assert list(page.columns) == list(dictionary()["tables"]["prices"]["columns"])
    assert len(page) == 50
    expected = every.sort_values(["surveyed_on", "price_id"], ascending=False).head(50)
    assert page["price_id"].tolist() == expected["price_id"].tolist()
    assert ex.rows(sel, 10, 10)["price_id"].tolist() == page["price_id"].tolist()[10:20]


def test_facet_filter(sample_data_dir):
    every = prices_frame()
    districts = two_districts()
    sel = ex.Selection("prices", {"district_name": districts, "item_name": []})
    expected = every[every["district_name"].isin(districts)]
    assert ex.count(sel) == len(expected)
    got = ex.rows(sel, 100_000)
    assert set(got["district_name"]) == set(districts)
    assert sorted(got["price_id"]) == sorted(expected["price_id"])


def test_date_range_is_inclusive(sample_data_dir):
    every = prices_frame()
    lo, hi = ex.time_bounds("prices")
    assert lo == every["surveyed_on"].min().date() and hi == every["surveyed_on"].max().date()
    dates = sorted(every["surveyed_on"].dt.date.unique())
    start, end = dates[1], dates[-2]  # both are survey dates, so inclusiveness matters
    sel = ex.Selection("prices", date_from=start, date_to=end)
    day = every["surveyed_on"].dt.date
    expected = every[(day >= start) & (day <= end)]
    assert ex.count(sel) == len(expected) < len(every)
    got = ex.rows(sel, 100_000)
    assert got["surveyed_on"].dt.date.min() == start and got["surveyed_on"].dt.date.max() == end
    assert ex.count(ex.Selection("prices", date_from=end, date_to=end)) == int((day == end).sum()) > 0
    assert ex.count(ex.Selection("prices", date_from=hi + timedelta(days=1))) == 0


def test_search_matches_any_search_column_ignoring_case(sample_data_dir):
    every = prices_frame()
    for term in ["사과", "이마트", "국내산(한우)"]:
        cols = ["market_name", "item_name", "remark"]
        expected = every[every[cols].apply(lambda c, t=term: c.str.lower().str.contains(t, regex=False)).any(axis=1)]
        assert ex.count(ex.Selection("prices", search=term)) == len(expected) > 0, term
    # Trimmed and case-insensitive (districts search their English names).
    upper = ex.count(ex.Selection("districts", search="  GANGNAM-GU "))
    assert upper == ex.count(ex.Selection("districts", search="gangnam-gu")) == 1
    # A literal match, not a LIKE pattern.
    assert ex.count(ex.Selection("prices", search="%")) == 0
    assert ex.count(ex.Selection("prices", search="_")) == 0


def test_facet_counts_exclude_their_own_filter_and_apply_the_others(sample_data_dir):
    every = prices_frame()
    districts = two_districts()
    items = ex.facet_counts(ex.Selection("prices"), "item_name")["value"].tolist()[:3]
    sel = ex.Selection("prices", {"district_name": districts, "item_name": items}, search="")

    by_district = ex.facet_counts(sel, "district_name")
    in_items = every[every["item_name"].isin(items)]
    expected = in_items["district_name"].value_counts()
    assert dict(zip(by_district["value"], by_district["n"], strict=True)) == expected.to_dict()
    assert len(by_district) > len(districts)  # every district, not just the chosen two
    assert by_district["n"].is_monotonic_decreasing

    by_item = ex.facet_counts(sel, "item_name")
    in_districts = every[every["district_name"].isin(districts)]
    assert dict(zip(by_item["value"], by_item["n"], strict=True)) == in_districts["item_name"].value_counts().to_dict()

    # A date range and a search narrow the counts too.
    _lo, hi = ex.time_bounds("prices")
    narrowed = ex.Selection("prices", {"district_name": districts}, date_from=hi, date_to=hi, search="사과")
    got = ex.facet_counts(narrowed, "market_type")
    day = every["surveyed_on"].dt.date
    ref = every[every["district_name"].isin(districts) & (day == hi) & every["item_name"].str.contains("사과")]
    assert dict(zip(got["value"], got["n"], strict=True)) == ref["market_type"].value_counts().to_dict()
    assert ex.facet_counts(ex.Selection("prices"), "district_name", limit=3)["n"].size == 3


def test_unknown_facet_or_table_raises_query_error(sample_data_dir):
    with pytest.raises(QueryError):
        ex.count(ex.Selection("prices", {"price_krw": ["100"]}))  # a column, but not a facet
    with pytest.raises(QueryError):
        ex.rows(ex.Selection("prices", {"no_such_column": ["x"]}), 10)
    with pytest.raises(QueryError):
        ex.facet_counts(ex.Selection("prices"), "price_krw")
    with pytest.raises(QueryError):
        ex.count(ex.Selection("prices", {'district_name" OR 1=1 --': ["x"]}))
    for table in ["district_boundaries", "no_such_table", 'prices" --']:
        with pytest.raises(QueryError):
            ex.count(ex.Selection(table))
        with pytest.raises(QueryError):
            ex.facets(table)
        with pytest.raises(QueryError):
            ex.rows(ex.Selection(table), 5)


def test_sql_metacharacters_in_values_are_data(sample_data_dir):
    total = ex.count(ex.Selection("prices"))
    for evil in ["x' OR 1=1 --", "x') OR ('1'='1", "'; DROP TABLE prices; --", '" OR ""="']:
        sel = ex.Selection("prices", {"district_name": [evil]})
        assert ex.count(sel) == 0
        assert ex.rows(sel, 10).empty
        assert ex.count(ex.Selection("prices", search=evil)) == 0
        assert ex.facet_counts(sel, "item_name").empty
    assert ex.count(ex.Selection("prices")) == total  # nothing was dropped


# --- ui.export --------------------------------------------------------------------------------


def export_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_name": [
                "사과(부사, 300g)",
                '=HYPERLINK("http://x")',
                "+1+2",
                "-2+3",
                "@SUM(A1)",
                "\tTab",
                "배추",
                None,
            ],
            "note": pd.Series(["정상", "=1", "보통", "-", "@", "국내산", "=-2", "끝"], dtype=object),
            "price_krw": [5950, -120, 0, -1, 7, 8, 9, 10],
            "change": [-1.5, 2.25, 0.0, -0.5, 1.0, 3.0, -7.0, 0.5],
        }
    )


def test_csv_has_a_bom_korean_text_and_neutralised_formulas(sample_data_dir):
    frame = export_frame()
    before = frame.copy()
    raw = export.to_csv(frame)
    assert raw.startswith(BOM)
    assert not raw[len(BOM) :].startswith(BOM)
    text = raw.decode("utf-8-sig")
    assert "사과(부사, 300g)" in text and "배추" in text
    back = pd.read_csv(io.StringIO(text), dtype={"item_name": str, "note": str}, keep_default_na=False)
    assert back["item_name"].tolist() == [
        "사과(부사, 300g)",
        '\'=HYPERLINK("http://x")',
        "'+1+2",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "배추",
        "",
    ]
    assert back["note"].tolist() == ["정상", "'=1", "보통", "'-", "'@", "국내산", "'=-2", "끝"]
    # Numbers stay numbers, negative ones included.
    assert back["price_krw"].tolist() == frame["price_krw"].tolist()
    assert back["change"].tolist() == frame["change"].tolist()
    assert pd.api.types.is_integer_dtype(back["price_krw"]) and pd.api.types.is_float_dtype(back["change"])
    assert "'-1" not in text and "'-120" not in text
    pd.testing.assert_frame_equal(frame, before)  # the shown frame is not changed


def test_csv_cell_with_a_carriage_return_stays_one_cell():
    frame = pd.DataFrame({"item": ["배추", "사과"], "note": ["국내산\r=1+2", "\r=3"], "n": [1, 2]})
    text = export.to_csv(frame).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert len(parsed) == 3, parsed
    assert [row[0] for row in parsed[1:]] == ["배추", "사과"]
    assert not any(cell.startswith(export.FORMULA_STARTS) for row in parsed for cell in row)


def test_csv_of_real_rows_opens_with_korean(sample_data_dir):
    rows = ex.rows(ex.Selection("prices", search="사과"), 20)
    text = export.to_csv(rows).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    assert back["item_name"].tolist() == rows["item_name"].tolist()
    assert back["price_krw"].tolist() == rows["price_krw"].tolist()


def test_parquet_round_trips_values_and_dtypes(sample_data_dir):
    # What the pages export: frames from the warehouse (str, int64, datetime64, tz-aware timestamps).
    frames = [
        export_frame().astype({"note": "str"}),
        ex.rows(ex.Selection("prices"), 200),
        ex.rows(ex.Selection("districts"), 25),
        ex.rows(ex.Selection("load_runs"), 50),
    ]
    for frame in frames:
        assert len(frame) > 0
        back = pd.read_parquet(io.BytesIO(export.to_parquet(frame)))
        pd.testing.assert_frame_equal(back, frame, check_dtype=True)
        assert back.dtypes.to_dict() == frame.dtypes.to_dict()
    assert pd.read_parquet(io.BytesIO(export.to_parquet(frames[0])))["item_name"].iloc[1] == '=HYPERLINK("http://x")'


def test_json_is_a_list_of_records_with_korean_intact(sample_data_dir):
    frame = ex.rows(ex.Selection("prices", search="사과"), 5)
    raw = export.to_json(frame)
    assert "사과".encode() in raw
    assert b"\\u" not in raw
    records = json.loads(raw.decode("utf-8"))
    assert isinstance(records, list) and len(records) == 5
    assert [r["item_name"] for r in records] == frame["item_name"].tolist()
    assert [r["price_krw"] for r in records] == frame["price_krw"].tolist()
    assert set(records[0]) == set(frame.columns)
    assert records[0]["surveyed_on"].startswith(frame["surveyed_on"].iloc[0].date().isoformat())
    small = json.loads(export.to_json(export_frame()))
    assert small[0]["item_name"] == "사과(부사, 300g)" and small[1]["price_krw"] == -120
    assert small[1]["item_name"].startswith("=")  # JSON is data, not a spreadsheet: left as is


# --- the Explore page -------------------------------------------------------------------------


def app_test(path: str, **query_params) -> AppTest:
    at = AppTest.from_file(str(PROJECT / path), default_timeout=TIMEOUT_S)
    at.query_params.update(query_params)
    return at


def run(path: str, **query_params) -> AppTest:
    at = app_test(path, **query_params).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def showing_caption(at: AppTest) -> re.Match:
    pattern = re.escape(KO["explore"]["showing"]).replace(r"\{start\}", r"(?P<start>[\d,]+)")
    pattern = pattern.replace(r"\{end\}", r"(?P<end>[\d,]+)").replace(r"\{total\}", r"(?P<total>[\d,]+)")
    found = [m for c in at.caption if (m := re.fullmatch(pattern, c.value))]
    assert len(found) == 1, [c.value for c in at.caption]
    return found[0]


def download_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.get("download_button")]


def url_state() -> tuple[list[str], date, date]:
    districts = two_districts()
    lo, hi = ex.time_bounds("prices")
    return districts, lo + timedelta(days=7), hi - timedelta(days=7)


def test_explore_url_state_sets_the_widgets_and_the_count(sample_data_dir):
    districts, start, end = url_state()
    at = run(
        EXPLORE, ds="prices", f_district_name=districts, q="사과", **{"from": start.isoformat(), "to": end.isoformat()}
    )
    assert at.selectbox(key="explore_ds").value == "prices"
    assert at.multiselect(key="facet_prices_district_name").value == districts
    assert at.multiselect(key="facet_prices_item_name").value == []
    assert at.text_input(key="q_prices").value == "사과"
    assert tuple(at.date_input(key="dates_prices").value) == (start, end)

    expected = ex.count(ex.Selection("prices", {"district_name": districts}, start, end, "사과"))
    assert 0 < expected < ex.count(ex.Selection("prices"))
    shown = showing_caption(at)
    assert shown["total"] == f"{expected:,}"
    assert shown["start"] == "1" and shown["end"] == f"{min(expected, 100):,}"
    (table,) = [d for d in at.dataframe if "price_id" in d.value.columns]
    assert len(table.value) == min(expected, 100)
    assert set(table.value["district_name"]) <= set(districts)
    assert table.value["item_name"].str.contains("사과").all()

    # The URL keeps the state as it came in.
    assert at.query_params["ds"] == "prices"
    assert at.query_params["f_district_name"] == districts
    assert at.query_params["q"] == "사과"
    assert at.query_params["from"] == start.isoformat() and at.query_params["to"] == end.isoformat()


def test_changing_widgets_updates_the_url(sample_data_dir):
    districts, start, end = url_state()
    at = run(
        EXPLORE, ds="prices", f_district_name=districts, q="사과", **{"from": start.isoformat(), "to": end.isoformat()}
    )
    third = next(v for v in ex.facet_counts(ex.Selection("prices"), "district_name")["value"] if v not in districts)
    at.multiselect(key="facet_prices_district_name").select(third).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["f_district_name"] == [*districts, third]
    sel = ex.Selection("prices", {"district_name": [*districts, third]}, start, end, "사과")
    assert showing_caption(at)["total"] == f"{ex.count(sel):,}"

    at.text_input(key="q_prices").input("배추").run()
    assert not at.exception
    assert at.query_params["q"] == "배추"
    sel.search = "배추"
    assert showing_caption(at)["total"] == f"{ex.count(sel):,}"

    at.text_input(key="q_prices").input("").run()
    assert "q" not in at.query_params

    lo, hi = ex.time_bounds("prices")
    at.date_input(key="dates_prices").set_value((lo, hi)).run()
    assert not at.exception
    assert "from" not in at.query_params and "to" not in at.query_params
    sel.search, sel.date_from, sel.date_to = "", None, None
    assert showing_caption(at)["total"] == f"{ex.count(sel):,}"

    at.multiselect(key="facet_prices_market_type").select("대형마트").run()
    assert at.query_params["f_market_type"] == "대형마트"  # one value comes back as a str
    assert at.query_params["f_district_name"] == [*districts, third]


def test_switching_dataset_clears_the_filters(sample_data_dir):
    districts, start, end = url_state()
    at = run(
        EXPLORE, ds="prices", f_district_name=districts, q="사과", **{"from": start.isoformat(), "to": end.isoformat()}
    )
    at.selectbox(key="explore_ds").select("markets").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["ds"] == "markets"
    assert not [k for k in at.query_params if k.startswith("f_")], at.query_params
    assert not {"q", "from", "to", "page"} & set(at.query_params)
    # markets has a district_name facet too: it starts empty, not with the prices filter.
    assert at.multiselect(key="facet_markets_district_name").value == []
    assert showing_caption(at)["total"] == f"{ex.count(ex.Selection('markets')):,}"


def test_unknown_dataset_falls_back_to_the_first(sample_data_dir):
    at = run(EXPLORE, ds="no_such_table", f_feed="x")
    first = ex.explorable()[0]
    assert at.selectbox(key="explore_ds").value == first
    assert at.query_params["ds"] == first
    assert "f_feed" not in at.query_params


def test_export_beyond_the_cap_warns_and_offers_no_download(sample_data_dir, monkeypatch):
    monkeypatch.setenv("MAYOR_EXPORT_MAX_ROWS", "10")
    districts, _, _ = url_state()
    at = run(EXPLORE, ds="prices", f_district_name=districts)
    total = ex.count(ex.Selection("prices", {"district_name": districts}))
    assert total > 10
    expected = KO["explore"]["export_too_big"].format(n=f"{total:,}", cap="10")
    assert [w.value for w in at.warning] == [expected]
    assert f"{total:,}" in expected and "10" in expected
    assert download_labels(at) == []


def test_small_selection_offers_csv_parquet_and_json(sample_data_dir):
    at = run(EXPLORE, ds="districts")
    assert showing_caption(at)["total"] == "25"
    assert not at.warning
    labels = download_labels(at)
    assert labels == [KO["explore"]["export_csv"], KO["explore"]["export_parquet"], KO["explore"]["export_json"]]


def test_export_cap_counts_the_filtered_selection(sample_data_dir, monkeypatch):
    monkeypatch.setenv("MAYOR_EXPORT_MAX_ROWS", "10")
    at = run(EXPLORE, ds="districts", q="gangnam")
    assert showing_caption(at)["total"] == "1"
    assert len(download_labels(at)) == 3
    assert not at.warning


# --- the SQL console page ---------------------------------------------------------------------


def run_button(at: AppTest):
    (button,) = [b for b in at.button if b.label == KO["sql"]["run"]]
    return button


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").input(sql)
    run_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rows_caption(at: AppTest) -> re.Match:
    pattern = re.escape(KO["sql"]["rows"]).replace(r"\{n\}", r"(?P<n>\d+)").replace(r"\{seconds\}", r"\d+\.\d\d")
    found = [m for c in at.caption if (m := re.fullmatch(pattern, c.value))]
    assert len(found) == 1, [c.value for c in at.caption]
    return found[0]


def result_frame(at: AppTest) -> pd.DataFrame:
    frames = [d.value for d in at.main.dataframe]
    # The schema expanders live in the side column; the result is the one without column_type.
    results = [f for f in frames if "column_type" not in f.columns]
    assert len(results) == 1, [list(f.columns) for f in frames]
    return results[0]


def test_sql_select_shows_the_rows(sample_data_dir):
    at = run(SQL)
    sql = "SELECT sig_cd, name_ko, lat FROM districts ORDER BY sig_cd"
    run_sql(at, sql)
    assert not at.error and not at.warning
    expected = queries.execute(sql, {})
    shown = result_frame(at)
    assert shown["sig_cd"].tolist() == expected["sig_cd"].tolist()
    assert shown["name_ko"].tolist() == expected["name_ko"].tolist()
    assert shown["lat"].tolist() == pytest.approx(expected["lat"].tolist())
    assert rows_caption(at)["n"] == "25"
    assert at.query_params["sql"] == sql
    assert [b.label for b in at.get("download_button")] == [KO["sql"]["download"]]


def test_sql_refused_statement_shows_an_error_and_no_traceback(sample_data_dir):
    at = run(SQL)
    run_sql(at, "COPY prices TO '/tmp/attack_from_the_page.csv'")
    assert not at.exception
    (error,) = at.error
    prefix = KO["sql"]["refused"].split("{reason}")[0]
    assert prefix == "실행하지 않았습니다: "
    assert error.value.startswith(prefix)
    assert error.value == KO["sql"]["refused"].format(reason="only SELECT is allowed, not COPY")
    assert "Traceback" not in error.value
    assert not Path("/tmp/attack_from_the_page.csv").exists()
    assert not [d for d in at.main.dataframe if "column_type" not in d.value.columns]


def test_sql_failing_select_shows_an_error_panel(sample_data_dir):
    at = run(SQL)
    run_sql(at, "SELECT * FROM read_csv('/etc/passwd')")
    (error,) = at.error
    assert error.value.startswith(KO["sql"]["error"].split("{reason}")[0])
    assert "root:" not in error.value and "Traceback" not in error.value


def test_sql_result_beyond_the_row_limit_is_truncated(sample_data_dir, monkeypatch):
    monkeypatch.setenv("MAYOR_CONSOLE_MAX_ROWS", "5")
    at = run(SQL)
    run_sql(at, "SELECT sig_cd FROM districts ORDER BY sig_cd")
    assert [w.value for w in at.warning] == [KO["sql"]["truncated"].format(n=5)]
    shown = result_frame(at)
    assert (
        shown["sig_cd"].tolist()
        == queries.execute("SELECT sig_cd FROM districts ORDER BY sig_cd LIMIT 5", {})["sig_cd"].tolist()
    )
    assert rows_caption(at)["n"] == "5"


def test_sql_parameter_preloads_the_editor(sample_data_dir):
    sql = "SELECT count(*) AS n FROM markets"
    at = run(SQL, sql=sql)
    assert at.text_area(key="sql_text").value == sql
    run_button(at).click().run()
    assert not at.exception
    assert result_frame(at)["n"].tolist() == [len(queries.execute("SELECT * FROM markets", {}))]


def test_sql_without_a_parameter_shows_the_default_query(sample_data_dir):
    from ui import console

    at = run(SQL)
    assert at.text_area(key="sql_text").value == console.DEFAULT_SQL


def test_sql_example_button_loads_its_sql(sample_data_dir):
    at = run(SQL)
    names = [n for n in queries.names() if not queries.parameters(n)]
    assert "districts" in names
    at.button(key="example_districts").click().run()
    assert not at.exception
    wanted = queries.sql_text("districts").strip()
    assert at.text_area(key="sql_text").value == wanted
    assert at.query_params["sql"] == wanted
    run_button(at).click().run()
    assert not at.error
    assert rows_caption(at)["n"] == "25"


# --- product bugs, kept as strict expected failures -------------------------------------------


def test_console_returns_timestamptz_columns(sample_data_dir):
    sql = "SELECT feed, published_at FROM datasets ORDER BY feed"
    result = gate.run_user_sql(sql)
    expected = queries.execute(sql, {})
    assert result.frame["feed"].tolist() == expected["feed"].tolist()
    assert len(expected) >= 2
    shown = pd.to_datetime(result.frame["published_at"], utc=True)
    assert shown.tolist() == pd.to_datetime(expected["published_at"], utc=True).tolist()


@pytest.mark.parametrize(
    "name",
    [n for n in queries.names() if not queries.parameters(n)],
)
def test_every_console_example_runs(sample_data_dir, name):
    result = gate.run_user_sql(queries.sql_text(name))
    assert list(result.frame.columns)


def test_sql_duplicate_column_names_do_not_crash_the_page(sample_data_dir):
    at = run(SQL)
    at.text_area(key="sql_text").input("SELECT 1 AS a, 2 AS a")
    run_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_sql_hugeint_result_does_not_crash_the_page(sample_data_dir):
    at = run(SQL)
    at.text_area(key="sql_text").input("SELECT 170141183460469231731687303715884105727::HUGEINT AS h")
    run_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_sql_result_beyond_the_byte_limit_is_cut_with_its_reason(sample_data_dir, monkeypatch):
    monkeypatch.setenv("MAYOR_CONSOLE_MAX_BYTES", "250000")
    at = run(SQL)
    run_sql(at, "SELECT i, repeat('x', 100000) AS s FROM range(20) t(i)")
    assert [w.value for w in at.warning] == [KO["sql"]["truncated_bytes"].format(n=2, mb="0.25")]
    assert result_frame(at)["i"].tolist() == [0, 1]
    assert rows_caption(at)["n"] == "2"
