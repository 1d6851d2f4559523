"""The fast paths of the complaints import give the same data as the plain SQL they replace: cubes
summed level by level equal `GROUP BY ..., CUBE (...)` over the stored complaints, in their declared
order; validation on raw values quarantines every kind of bad row with its reason."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import datadir
import settings
from loaders import complaints, complaints_sample

END = date(2026, 11, 30)
ROWS = 30_000


def _rows(typed: bool) -> list[dict]:
    table = pa.concat_tables(list(complaints_sample.chunks(ROWS, END)))
    return (table if typed else complaints_sample._as_text(table)).to_pylist()


def _write(rows: list[dict], path: Path) -> Path:
    table = pa.Table.from_pylist(rows)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return path


def _import(path: Path):
    return complaints.run_import(settings.get(), path, source="file", is_sample=False)


def _published(data_dir: Path) -> duckdb.DuckDBPyConnection:
    pointer = datadir.read_pointer(data_dir, "complaints")
    return duckdb.connect(str(datadir.feed_dir(data_dir, "complaints") / pointer["file"]), read_only=True)


def _quarantine(data_dir: Path) -> dict[int, str]:
    files = sorted(datadir.quarantine_dir(data_dir, "complaints").rglob("*.parquet"))
    frame = pq.read_table(files[-1]).to_pandas()
    return dict(zip(frame["row_number"], frame["reason"], strict=True))


# Plain SQL for each cube: what the level-by-level build must reproduce.
REFERENCE = {
    "complaints_cube_daily": """
        SELECT GROUPING(district_code, category, channel)::UTINYINT AS level, day,
            coalesce(district_code, '*') AS district_code, coalesce(category, '*') AS category,
            coalesce(channel, '*') AS channel, sum(n)::INTEGER, sum(r)::INTEGER, sum(o)::INTEGER
        FROM (SELECT received_at::DATE AS day, district_code::VARCHAR AS district_code,
                category::VARCHAR AS category, channel::VARCHAR AS channel, 1 AS n,
                (status = 'resolved')::INTEGER AS r, (status IN ('received', 'in_progress'))::INTEGER AS o
              FROM complaints)
        GROUP BY day, CUBE (district_code, category, channel)""",
    "complaints_cube_heat": """
        SELECT GROUPING(district_code, category, channel)::UTINYINT AS level, month,
            coalesce(district_code, '*'), coalesce(category, '*'), coalesce(channel, '*'),
            weekday, hour, count(*)::INTEGER
        FROM (SELECT date_trunc('month', received_at)::DATE AS month, district_code::VARCHAR AS district_code,
                category::VARCHAR AS category, channel::VARCHAR AS channel,
                isodow(received_at)::TINYINT AS weekday, hour(received_at)::TINYINT AS hour FROM complaints)
        GROUP BY month, weekday, hour, CUBE (district_code, category, channel)""",
    "complaints_cube_resolution": f"""
        SELECT (GROUPING(district_code) * 4 + GROUPING(channel))::UTINYINT AS level, month,
            coalesce(district_code, '*'), coalesce(channel, '*'), category, bin, count(*)::INTEGER
        FROM (SELECT date_trunc('month', received_at)::DATE AS month, district_code::VARCHAR AS district_code,
                channel::VARCHAR AS channel, category::VARCHAR AS category, ({complaints.bin_sql()})::TINYINT AS bin
              FROM complaints WHERE status = 'resolved' AND resolved_at IS NOT NULL)
        GROUP BY month, category, bin, CUBE (district_code, channel)""",
}
SORT_KEYS = {cube.table: cube.order for cube in complaints.cubes()}


@pytest.fixture(scope="module")
def clean_import(tmp_path_factory) -> Path:
    """A clean typed Parquet export, imported once; the published data directory."""
    import os

    data_dir = tmp_path_factory.mktemp("perf") / "data"
    old = os.environ.get("MAYOR_DATA_DIR")
    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    try:
        record = _import(_write(_rows(typed=True), data_dir.parent / "clean.parquet"))
    finally:
        if old is None:
            os.environ.pop("MAYOR_DATA_DIR")
        else:
            os.environ["MAYOR_DATA_DIR"] = old
    assert record.outcome == "ok", record.message
    return data_dir


@pytest.mark.parametrize("table", list(REFERENCE))
def test_cube_equals_plain_cube_sql(clean_import, table):
    con = _published(clean_import)
    columns = ", ".join(
        f"{c}::VARCHAR" if c in ("district_code", "category", "channel") else c
        for c in next(cube.schema for cube in complaints.cubes() if cube.table == table)
    )
    built = f"SELECT {columns} FROM {table}"
    extra = con.execute(f"SELECT count(*) FROM ({built} EXCEPT ALL {REFERENCE[table]})").fetchone()[0]
    missing = con.execute(f"SELECT count(*) FROM ({REFERENCE[table]} EXCEPT ALL {built})").fetchone()[0]
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert (extra, missing) == (0, 0)
    assert rows > 1000


def test_every_level_sums_to_all_complaints(clean_import):
    con = _published(clean_import)
    total = con.execute("SELECT count(*) FROM complaints").fetchone()[0]
    per_level = dict(con.execute("SELECT level, sum(complaints) FROM complaints_cube_daily GROUP BY ALL").fetchall())
    assert per_level == {level: total for level in range(8)}
    resolved = con.execute(
        "SELECT count(*) FROM complaints WHERE status = 'resolved' AND resolved_at IS NOT NULL"
    ).fetchone()[0]
    per_level = dict(
        con.execute("SELECT level, sum(complaints) FROM complaints_cube_resolution GROUP BY ALL").fetchall()
    )
    assert per_level == {0: resolved, 1: resolved, 4: resolved, 5: resolved}


@pytest.mark.parametrize("table", ["complaints", *REFERENCE])
def test_rows_are_stored_in_their_declared_order(clean_import, table):
    con = _published(clean_import)
    key = SORT_KEYS.get(table, "received_at")
    falls = con.execute(
        f"SELECT count(*) FILTER (WHERE k < before) FROM (SELECT k, lag(k) OVER () AS before FROM (SELECT ({key},) AS k FROM {table}))"
    ).fetchone()[0]
    assert falls == 0


def test_complaint_ids_are_stored_with_zstd(clean_import):
    con = _published(clean_import)
    kinds = {
        c
        for (c,) in con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('complaints') "
            "WHERE column_name = 'complaint_id' AND segment_type = 'VARCHAR'"
        ).fetchall()
    }
    assert kinds == {"ZSTD"}


FAULTS_TEXT = [  # (row, header, raw value, reason)
    (5, "민원번호", "", "민원번호 is empty"),
    (17, "자치구", "없는구", '자치구 "없는구" is not one of Seoul\'s 25 districts'),
    (29, "접수일시", "2026-13-45 00:00:00", '접수일시 "2026-13-45 00:00:00" is not a date and time (year first)'),
    (41, "접수일시", "", "접수일시 is empty"),
    (53, "처리상태", "모름", '처리상태 "모름" is not a known status'),
    (65, "접수경로", "비둘기", '접수경로 "비둘기" is not a known channel'),
    (77, "위도", "12.0", "위도/경도 outside Seoul"),
    (101, "위도", "abc", "위도/경도 is not a number"),
    (113, "민원분야", "-", "민원분야 is empty"),
    (125, "접수일시", "1999-01-01 00:00:00", "접수일시 1999-01-01 00:00:00 is before 2000 or in the future"),
    (149, "처리완료일시", "2000-01-01 00:00:00", "처리완료일시 is before 접수일시"),
    (161, "처리완료일시", "not a date", '처리완료일시 "not a date" is not a date and time (year first)'),
]


def test_text_export_quarantines_each_fault_with_its_reason(isolated_env, tmp_path):
    rows = _rows(typed=False)
    rows[77]["경도"] = rows[101]["경도"] = "127.0"  # a point given, one coordinate wrong
    for i, header, value, _ in FAULTS_TEXT:
        rows[i][header] = value
    rows[137]["자치구"] = " 강남구 "  # trimmed and accepted
    record = _import(_write(rows, tmp_path / "faults.csv"))
    assert record.outcome == "ok", record.message
    reasons = _quarantine(isolated_env)
    assert {n: r for n, r in reasons.items()} == {i + 1: reason for i, _, _, reason in FAULTS_TEXT}
    con = _published(isolated_env)
    stored = con.execute(
        "SELECT district_code::VARCHAR FROM complaints WHERE complaint_id = ?", [rows[137]["민원번호"]]
    )
    assert stored.fetchone()[0] == "11680"


def test_typed_export_checks_without_parsing(isolated_env, tmp_path):
    rows = _rows(typed=True)
    resolved = next(i for i in range(200, 400) if rows[i]["처리완료일시"] is not None)
    rows[5]["민원번호"] = None
    rows[41]["접수일시"] = None
    rows[77]["위도"], rows[77]["경도"] = 12.0, 127.0
    lone = next(i for i in range(80, 200) if rows[i]["위도"] is not None)
    rows[lone]["경도"] = None
    rows[125]["접수일시"] = datetime(1999, 1, 1)
    rows[resolved]["처리상태"] = "접수"
    record = _import(_write(rows, tmp_path / "faults.parquet"))
    assert record.outcome == "ok", record.message
    assert _quarantine(isolated_env) == {
        6: "민원번호 is empty",
        42: "접수일시 is empty",
        78: "위도/경도 outside Seoul",
        lone + 1: "only one of 위도 and 경도 is given",
        126: "접수일시 1999-01-01 00:00:00 is before 2000 or in the future",
        resolved + 1: '처리완료일시 is given but 처리상태 is "접수"',
    }


def test_a_repeated_id_is_found_across_an_empty_one(isolated_env, tmp_path):
    """Ids that rise but for an empty one in between: the repeat after it is still caught (the
    order check skips empty ids instead of comparing with nothing)."""
    rows = _rows(typed=True)[:100]
    rows[11]["민원번호"] = None
    rows[12]["민원번호"] = rows[10]["민원번호"]
    record = _import(_write(rows, tmp_path / "repeat.parquet"))
    assert record.outcome == "ok", record.message
    assert record.extra["duplicate_ids"] == 1
    assert _quarantine(isolated_env) == {12: "민원번호 is empty", 13: "repeats the 민원번호 of an earlier row"}


def test_reimport_changes_nothing_and_steps_are_timed(isolated_env, tmp_path):
    path = _write(_rows(typed=True)[:5000], tmp_path / "again.parquet")
    first, second = _import(path), _import(path)
    assert (first.outcome, second.outcome) == ("ok", "unchanged")
    assert list(first.extra["steps"]) == [
        "stage",
        "dimensions",
        "validate",
        "quarantine",
        "merge",
        "cube_daily",
        "cube_heat",
        "cube_resolution",
        "digest",
    ]
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in first.extra["steps"].values())
