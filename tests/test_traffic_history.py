"""TOPIS monthly speed files: CSV in CP949 or UTF-8 and xlsx, validation with reasons, the weekday
curve worked out by hand, idempotent re-imports and months that add up."""

from __future__ import annotations

import csv
import os
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import queries
import settings
from loaders import feeds, traffic_history
from tests.conftest import run_module

HEADER = ["일자", "요일", "도로명", "링크아이디", "시점명", "종점명", "방향", "거리", "차선수"]
HEADER += ["기능유형구분", "도심/외곽구분", "권역구분"] + [f"{h:02d}시" for h in range(1, 25)]
FEED = feeds.FEEDS["traffic_history"]


def wide(day: date, link: str, speeds, road: str = "세종대로") -> list:
    return [
        f"{day:%Y%m%d}",
        "월화수목금토일"[day.weekday()],
        road,
        link,
        "광화문",
        "시청앞",
        "상행",
        "420",
        "4",
        "주간선도로",
        "도심",
        "도심권",
        *speeds,
    ]


def write_csv(path: Path, rows: list[list], encoding: str = "cp949") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:  # numbers as Excel keeps them: dates, ids, lengths and speeds numeric
        sheet.append(
            [int(r[0]), r[1], r[2], int(r[3]), *r[4:7], int(r[7]), int(r[8]), *r[9:12]]
            + [float(v) if v else None for v in r[12:]]
        )
    book.save(path)
    return path


def load(path: Path):
    return feeds.import_file(FEED, settings.get(), path)


def rows(sql: str) -> pd.DataFrame:
    return queries.execute(sql, {})


MONDAY = date(2026, 11, 16)


def ramp(base: float) -> list[str]:
    return [f"{base + h:.1f}" for h in range(24)]


def test_a_cp949_csv_loads_every_reading(tmp_path):
    speeds = ramp(10)
    speeds[2] = ""  # 03시 missing: no reading, no error
    data = [wide(MONDAY, "1220003800", speeds, road="똠방각하로"), wide(MONDAY, "1220003900", ramp(20))]
    data += [wide(MONDAY + timedelta(days=1), "1220003800", ramp(30))]
    record = load(write_csv(tmp_path / "2026년 11월 서울시 차량통행속도.csv", data))
    assert record.outcome == "ok", record.message
    assert record.rows_received == 3 and record.rows_quarantined == 0
    history = rows("SELECT * FROM traffic_speed_history ORDER BY day, link_id, hour")
    assert len(history) == 3 * 24 - 1
    first = history.iloc[0]
    assert first["road_name"] == "똠방각하로"  # a CP949-only syllable
    assert (first["day"], first["weekday"], first["hour"], first["speed_kmh"]) == (pd.Timestamp(MONDAY), 1, 0, 10.0)
    assert (first["distance_m"], first["lanes"], first["region"], first["area_type"]) == (420.0, 4, "도심권", "도심")
    link_a = history[(history["link_id"] == "1220003800") & (history["day"] == pd.Timestamp(MONDAY))]
    assert 2 not in set(link_a["hour"]) and link_a.set_index("hour").loc[23, "speed_kmh"] == 33.0
    assert set(history["weekday"]) == {1, 2}
    assert record.as_of == "2026-11-17"


def test_utf8_csv_with_a_bom_and_xlsx_load_the_same_rows(tmp_path, monkeypatch):
    data = [wide(MONDAY, "1220003800", ramp(10)), wide(MONDAY, "1220003900", ramp(12.5))]
    assert load(write_csv(tmp_path / "month.csv", data, encoding="utf-8-sig")).outcome == "ok"
    from_csv = rows("SELECT * FROM traffic_speed_history ORDER BY link_id, hour")
    monkeypatch.setenv("MAYOR_DATA_DIR", str(tmp_path / "other"))
    record = load(write_xlsx(tmp_path / "month.xlsx", data))
    assert record.outcome == "ok", record.message
    from_xlsx = rows("SELECT * FROM traffic_speed_history ORDER BY link_id, hour")
    assert len(from_xlsx) == 48 and from_xlsx["link_id"].iloc[0] == "1220003800"  # not 1220003800.0
    pd.testing.assert_frame_equal(from_csv, from_xlsx)


def test_bad_rows_and_cells_go_to_quarantine_with_their_reasons(tmp_path):
    good = [wide(MONDAY + timedelta(days=d), f"12200{d:05d}", ramp(20)) for d in range(20)]
    bad_cells = ramp(20)
    bad_cells[6], bad_cells[7] = "abc", "999"
    data = [
        *good,
        wide(MONDAY, "1220009999", bad_cells),
        ["2026-13-01", *wide(MONDAY, "1220008888", ramp(20))[1:]],
        wide(MONDAY, "", ramp(20)),
        wide(MONDAY, "1220000000", ramp(50)),  # the same link and day as the first good row
    ]
    record = load(write_csv(tmp_path / "month.csv", data))
    assert record.outcome == "ok", record.message
    assert record.rows_received == 24 and record.rows_quarantined == 4
    quarantine = rows("SELECT row_number, reason, record FROM quarantine ORDER BY row_number")
    reasons = dict(zip(quarantine["row_number"], quarantine["reason"], strict=True))
    assert reasons[21] == (
        'speed not a number or outside 0-160 km/h at 7시 "abc", 8시 "999" (those hours dropped, the rest of the row loaded)'
    )
    assert reasons[22] == '일자 "2026-13-01" is not a date'
    assert reasons[23] == "링크아이디 is empty"
    assert reasons[24] == "the same 링크아이디 and 일자 as an earlier row (row dropped)"
    assert '"링크아이디": "1220009999"' in quarantine["record"].iloc[0]
    partly = rows("SELECT hour FROM traffic_speed_history WHERE link_id = '1220009999' ORDER BY hour")["hour"]
    assert len(partly) == 22 and 6 not in set(partly) and 7 not in set(partly)
    assert (
        rows("SELECT max(speed_kmh) AS top FROM traffic_speed_history WHERE link_id = '1220000000'")["top"].iloc[0]
        == 43.0
    )


def test_the_weekday_curve_by_hand(tmp_path):
    # Two Mondays, two links. At 00h: Monday 1 has 10 and 30 (city mean 20), Monday 2 has 20 and 40 (30):
    # the mean over links and days is 25, the quartiles of the daily city means 22.5 and 27.5.
    def speeds(first_hour: float) -> list[str]:
        return [f"{first_hour}"] + ["25"] * 23

    later = MONDAY + timedelta(days=7)
    data = [
        wide(MONDAY, "A", speeds(10)),
        wide(MONDAY, "B", speeds(30)),
        wide(later, "A", speeds(20)),
        wide(later, "B", speeds(40)),
        wide(MONDAY + timedelta(days=1), "A", ["50"] * 24),
    ]
    assert load(write_csv(tmp_path / "month.csv", data)).outcome == "ok"
    curve = rows("SELECT * FROM traffic_weekday_curve ORDER BY weekday, hour")
    assert len(curve) == 48  # Monday and Tuesday, 24 hours each
    monday_0 = curve[(curve["weekday"] == 1) & (curve["hour"] == 0)].iloc[0]
    assert (monday_0["avg_speed_kmh"], monday_0["p25_speed_kmh"], monday_0["p75_speed_kmh"], monday_0["days"]) == (
        25.0,
        22.5,
        27.5,
        2,
    )
    tuesday = curve[curve["weekday"] == 2]
    assert set(tuesday["avg_speed_kmh"]) == {50.0} and set(tuesday["days"]) == {1}


def test_reimport_is_idempotent_and_a_new_month_adds_up(tmp_path):
    first = write_csv(tmp_path / "a.csv", [wide(MONDAY + timedelta(days=d), "A", ramp(10)) for d in range(2)])
    loaded = load(first)
    assert loaded.outcome == "ok"
    assert len(rows("SELECT * FROM traffic_speed_history")) == 48
    again = load(first)
    assert again.outcome == "unchanged" and again.rows_loaded == loaded.rows_loaded
    assert len(rows("SELECT * FROM traffic_speed_history")) == 48
    # The next file overlaps one day, with other speeds: that day is replaced, not doubled.
    second = write_csv(tmp_path / "b.csv", [wide(MONDAY + timedelta(days=d), "A", ramp(60)) for d in range(1, 3)])
    record = load(second)
    assert record.outcome == "ok" and record.extra["readings_kept_from_serving"] == 24
    by_day = rows(
        "SELECT day, count(*) AS n, min(speed_kmh) AS low FROM traffic_speed_history GROUP BY day ORDER BY day"
    )
    assert by_day["n"].tolist() == [24, 24, 24]
    assert by_day["low"].tolist() == [10.0, 60.0, 60.0]


def test_real_files_replace_the_sample_rather_than_mix_with_it(tmp_path):
    sample_file = write_csv(tmp_path / "sample.csv", [wide(MONDAY, "SAMPLE", ramp(10))])
    cfg = settings.get()
    assert traffic_history.run_import(cfg, sample_file, source="sample", is_sample=True).outcome == "ok"
    assert load(write_csv(tmp_path / "real.csv", [wide(MONDAY, "REAL", ramp(10))])).outcome == "ok"
    assert rows("SELECT DISTINCT link_id FROM traffic_speed_history")["link_id"].tolist() == ["REAL"]


def test_a_file_that_is_not_a_topis_speed_file_fails_clearly(tmp_path, isolated_env):
    path = tmp_path / "prices.csv"
    path.write_text("일자,품목,가격\n20261116,사과,2500\n", "utf-8")
    record = load(path)
    assert record.outcome == "failed"
    assert "not a TOPIS speed file: no column 링크아이디, 01시..24시" in record.message
    leftovers = list((isolated_env / "snapshots" / "traffic_history").glob(".staging-*"))
    assert leftovers == []


def test_refresh_never_replaces_an_import_with_the_sample():
    record = feeds.refresh(FEED, settings.get())
    assert record.outcome == "skipped" and "import traffic_history FILE" in record.message


def test_the_command_line_import(tmp_path, isolated_env):
    path = write_csv(tmp_path / "2026년 11월.csv", [wide(MONDAY, "1220003800", ramp(10))])
    proc = run_module("loaders", "import", "traffic_history", str(path), env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    # 24 readings and the 24 hours of the Monday curve
    assert proc.stdout.startswith("traffic_history: ok (file:2026년 11월.csv; 48 rows loaded, 0 quarantined")
    missing = run_module("loaders", "import", "traffic_history", str(tmp_path / "none.csv"), env={**os.environ})
    assert missing.returncode == 2 and "no such file" in missing.stderr


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("01시", "h01"),
        ("1시", "h01"),
        (" 24 시", "h24"),
        ("25시", None),
        ("링크아이디", "link_id"),
        ("거리(m)", "distance"),
    ],
)
def test_header_names_are_tolerated(header, expected):
    assert traffic_history.canonical(header) == expected
