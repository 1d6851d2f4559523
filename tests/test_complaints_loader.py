"""Complaint exports: encodings, the declared contract, quarantine, rejection, idempotent re-imports,
the cubes against the raw rows, and the sample's shape."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import datadir
import settings
from loaders import complaints, complaints_sample
from tests.conftest import run_module
from tests.test_faults import run_log, serving_state

HEADER = complaints_sample.HEADERS  # the columns and order of a 120 / 응답소 export
GOOD = [
    [
        "2026-001",
        "2026-11-02 09:15:00",
        "종로구",
        "교통",
        "불법주정차",
        "120 전화",
        "처리완료",
        "2026-11-02 11:15:00",
        "",
        "",
    ],
    ["2026-002", "2026-11-02 10:00:00", "강남구", "환경·청소", "소음", "응답소", "처리중", "", "37.4967", "127.0630"],
    ["2026-003", "2026.11.03 14:05", "Mapo-gu", "교통", "버스", "모바일 앱", "접수", "", "", ""],
    ["2026-004", "20261104", "11680", "복지", "", "방문", "처리완료", "2026-11-10 09:00:00", "", ""],
    ["2026-005", "2026-11-05 23:59:59", "중구", "도로·시설", "제설", "팩스", "취하", "", "", ""],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", header: list[str] = HEADER) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def load(path: Path):
    return complaints.run_import(settings.get(), path, source=f"file:{path.name}", is_sample=False)


def published(data_dir: Path, sql: str = "SELECT * FROM complaints ORDER BY complaint_id") -> pd.DataFrame:
    pointer = datadir.read_pointer(data_dir, "complaints")
    con = duckdb.connect(str(datadir.feed_dir(data_dir, "complaints") / pointer["file"]), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def quarantined(data_dir: Path) -> pd.DataFrame:
    files = sorted(datadir.quarantine_dir(data_dir, "complaints").glob("*.parquet"))
    return pd.read_parquet(files[-1]) if files else pd.DataFrame(columns=["row_number", "reason", "record"])


def test_a_clean_export_loads_every_row_with_its_stored_values(isolated_env, tmp_path):
    record = load(write_csv(tmp_path / "c.csv", GOOD))
    assert record.outcome == "ok", record.message
    assert record.rows_loaded and record.rows_quarantined == 0
    rows = published(isolated_env)
    assert rows["complaint_id"].tolist() == ["2026-001", "2026-002", "2026-003", "2026-004", "2026-005"]
    assert rows["district_code"].astype(str).tolist() == ["11110", "11680", "11440", "11680", "11140"]
    assert rows["channel"].astype(str).tolist() == ["call", "web", "app", "visit", "other"]
    assert rows["status"].astype(str).tolist() == ["resolved", "in_progress", "received", "resolved", "withdrawn"]
    assert rows["received_at"].tolist()[2:4] == [pd.Timestamp("2026-11-03 14:05"), pd.Timestamp("2026-11-04")]
    assert pd.isna(rows["subcategory"].iloc[3])  # an empty cell is missing, not ""
    assert rows["lat"].iloc[1] == pytest.approx(37.4967) and pd.isna(rows["lat"].iloc[0])
    assert datadir.read_pointer(isolated_env, "complaints")["as_of"] == "2026-11-05 23:59:59"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_every_korean_encoding_gives_the_same_rows(isolated_env, tmp_path, encoding):
    rows = [r[:] for r in GOOD]
    rows[0][3] = "교통"
    record = load(write_csv(tmp_path / "c.csv", rows, encoding=encoding))
    assert record.outcome == "ok", record.message
    got = published(isolated_env)
    assert got["category"].astype(str).tolist() == ["교통", "환경·청소", "교통", "복지", "도로·시설"]
    assert got["subcategory"].astype(str).tolist()[0] == "불법주정차"


def test_cp949_only_characters_decode(isolated_env, tmp_path):
    rows = [r[:] for r in GOOD]
    rows[0][4] = "똠방각하 주차"  # 똠 exists in CP949, not in EUC-KR
    assert load(write_csv(tmp_path / "c.csv", rows, encoding="cp949")).outcome == "ok"
    assert published(isolated_env)["subcategory"].astype(str).iloc[0] == "똠방각하 주차"


def good_baseline(data_dir: Path, tmp_path: Path) -> tuple[str, str]:
    assert load(write_csv(tmp_path / "good.csv", GOOD)).outcome == "ok"
    return serving_state(data_dir, "complaints")


@pytest.mark.parametrize(
    "garble",
    [
        # UTF-8 bytes read as Latin-1 and saved again as UTF-8 (the classic Excel round trip)
        lambda text: text.encode("utf-8").decode("latin-1").encode("utf-8"),
        # CP949 bytes read as Latin-1 and saved as UTF-8
        lambda text: text.encode("cp949").decode("latin-1").encode("utf-8"),
    ],
    ids=["utf8-as-latin1", "cp949-as-latin1"],
)
def test_mojibake_is_refused_and_the_serving_data_stays(isolated_env, tmp_path, garble):
    before = good_baseline(isolated_env, tmp_path)
    text = (tmp_path / "good.csv").read_bytes().decode("utf-8")
    bad = tmp_path / "garbled.csv"
    bad.write_bytes(garble(text))
    record = load(bad)
    assert record.outcome == "failed"
    assert "mojibake" in record.message and "garbled.csv" in record.message
    assert serving_state(isolated_env, "complaints") == before
    assert run_log(isolated_env)[-1]["outcome"] == "failed"


def test_a_utf16_file_is_refused_with_what_to_do(isolated_env, tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes(("\ufeff" + ",".join(HEADER) + "\r\n").encode("utf-16-le"))
    record = load(path)
    assert record.outcome == "failed" and "UTF-16" in record.message and "UTF-8 or CP949" in record.message


def test_english_headers_and_an_extra_column_are_accepted(isolated_env, tmp_path):
    header = ["complaint_id", "received_at", "district", "category", "subcategory", "channel", "status"]
    header += ["resolved_at", "latitude", "longitude", "memo"]
    rows = [[*r, "x"] for r in GOOD]
    assert load(write_csv(tmp_path / "en.csv", rows, header=header)).outcome == "ok"
    assert len(published(isolated_env)) == 5


def test_a_file_without_a_required_column_says_which(isolated_env, tmp_path):
    header = [h for h in HEADER if h != "접수경로"]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h != "접수경로"] for r in GOOD]
    record = load(write_csv(tmp_path / "no-channel.csv", rows, header=header))
    assert record.outcome == "failed"
    assert record.message.startswith("not a complaints export: no column for how it arrived (접수경로")


BAD_ROWS = [
    (
        ["2026-101", "19/11/2026 10:00", "종로구", "교통", "", "120", "접수", "", "", ""],
        '접수일시 "19/11/2026 10:00" is not a date',
    ),
    (
        ["2026-102", "2026-11-02 10:00:00", "부산진구", "교통", "", "120", "접수", "", "", ""],
        '자치구 "부산진구" is not one of',
    ),
    (["2026-103", "2026-11-02 10:00:00", "종로구", "", "", "120", "접수", "", "", ""], "민원분야 is empty"),
    (
        ["2026-104", "2026-11-02 10:00:00", "종로구", "교통", "", "비둘기", "접수", "", "", ""],
        '접수경로 "비둘기" is not a known channel',
    ),
    (
        ["2026-105", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "보류", "", "", ""],
        '처리상태 "보류" is not a known status',
    ),
    (
        ["2026-106", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "처리완료", "2026-11-01 10:00:00", "", ""],
        "처리완료일시 is before 접수일시",
    ),
    (["2026-107", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "접수", "", "35.1", "129.0"], "outside Seoul"),
    (
        ["2026-108", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "접수", "", "37.5", ""],
        "only one of 위도 and 경도",
    ),
    (["", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "접수", "", "", ""], "민원번호 is empty"),
    (["2026-110", "2031-01-01 00:00:00", "종로구", "교통", "", "120", "접수", "", "", ""], "in the future"),
    (
        ["2026-111", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "처리중", "2026-11-03 10:00:00", "", ""],
        '처리완료일시 is given but 처리상태 is "처리중"',
    ),
    (
        ["2026-112", "2026-11-02 10:00:00", "종로구", "교통", "", "120", "접수", "", "점검중", "127.0"],
        "is not a number",
    ),
]


def test_bad_rows_go_to_quarantine_with_their_reason_and_record(isolated_env, tmp_path, monkeypatch):
    monkeypatch.setenv("MAYOR_MAX_INVALID_SHARE", "0.9")
    rows = GOOD + [r for r, _ in BAD_ROWS]
    record = load(write_csv(tmp_path / "mixed.csv", rows))
    assert record.outcome == "ok", record.message
    assert record.rows_quarantined == len(BAD_ROWS)
    assert published(isolated_env)["complaint_id"].tolist() == [r[0] for r in GOOD]
    q = quarantined(isolated_env).sort_values("row_number")
    assert q["row_number"].tolist() == list(range(len(GOOD) + 1, len(rows) + 1))
    for (row, reason), (got_reason, got_record) in zip(
        BAD_ROWS, zip(q["reason"], q["record"], strict=True), strict=True
    ):
        assert reason in got_reason, (row, got_reason)
        assert json.loads(got_record)["민원번호"] == (row[0] or None)


def test_a_repeated_id_in_one_file_keeps_the_first_row(isolated_env, tmp_path):
    rows = [*GOOD, ["2026-002", "2026-11-06 10:00:00", "종로구", "교통", "", "120", "접수", "", "", ""]]
    rows = [rows[i] for i in (0, 1, 5, 2, 3, 4)]  # the repeat out of order: the hash check runs
    record = load(write_csv(tmp_path / "dup.csv", rows))
    assert record.outcome == "ok" and record.rows_quarantined == 1
    assert record.extra["duplicate_ids"] == 1
    kept = published(isolated_env).set_index("complaint_id")
    assert str(kept.loc["2026-002", "district_code"]) == "11680"
    assert "repeats the 민원번호 of an earlier row" in quarantined(isolated_env)["reason"].iloc[0]


def test_too_many_bad_rows_reject_the_file_and_the_last_good_data_serves(isolated_env, tmp_path):
    before = good_baseline(isolated_env, tmp_path)
    rows = [r for r, _ in BAD_ROWS] + GOOD[:1]
    record = load(write_csv(tmp_path / "mostly-bad.csv", rows))
    assert record.outcome == "rejected"
    assert f"{len(BAD_ROWS)} of {len(rows)} rows failed validation" in record.message
    assert serving_state(isolated_env, "complaints") == before
    assert len(quarantined(isolated_env)) == len(BAD_ROWS)  # nothing is lost: the rows wait in quarantine


def test_reimporting_a_file_changes_nothing_and_a_newer_export_updates_by_id(isolated_env, tmp_path):
    before = good_baseline(isolated_env, tmp_path)
    again = load(tmp_path / "good.csv")
    assert again.outcome == "unchanged"
    assert serving_state(isolated_env, "complaints") == before
    update = [
        [
            "2026-002",
            "2026-11-02 10:00:00",
            "강남구",
            "환경·청소",
            "소음",
            "응답소",
            "처리완료",
            "2026-11-03 08:00:00",
            "",
            "",
        ]
    ]
    update.append(["2026-006", "2026-11-06 08:00:00", "송파구", "교통", "버스", "120", "접수", "", "", ""])
    record = load(write_csv(tmp_path / "next.csv", update))
    assert record.outcome == "ok" and record.extra["kept_from_serving"] == 4
    rows = published(isolated_env).set_index("complaint_id")
    assert len(rows) == 6
    assert str(rows.loc["2026-002", "status"]) == "resolved"
    assert rows.loc["2026-002", "resolved_at"] == pd.Timestamp("2026-11-03 08:00:00")
    # Resolved by the newer export after 22 hours: its bin is computed (1 + floor(ln(44) / ln(1.15)));
    # a row kept from the serving version keeps its own.
    assert (rows.loc["2026-002", "resolution_bin"], rows.loc["2026-001", "resolution_bin"]) == (28, 10)


def test_each_resolved_complaint_is_stored_with_its_resolution_bin(isolated_env, tmp_path):
    assert load(write_csv(tmp_path / "c.csv", GOOD)).outcome == "ok"
    rows = published(isolated_env).set_index("complaint_id")
    # 2 hours: bin 1 + floor(ln(4) / ln(1.15)) = 10, from 0.5 × 1.15^9 = 1.76 h; 153 hours: bin 41.
    assert complaints.bin_bounds_h(10)[0] <= 2 < complaints.bin_bounds_h(10)[1]
    assert rows["resolution_bin"].to_dict() == pytest.approx(
        {"2026-001": 10, "2026-002": None, "2026-003": None, "2026-004": 41, "2026-005": None}, nan_ok=True
    )
    assert complaints.bin_bounds_h(41)[0] <= 6 * 24 + 9 < complaints.bin_bounds_h(41)[1]


def test_a_version_published_without_resolution_bins_gets_them_at_the_next_import(isolated_env, tmp_path):
    assert load(write_csv(tmp_path / "c.csv", GOOD)).outcome == "ok"
    pointer = datadir.read_pointer(isolated_env, "complaints")
    path = datadir.feed_dir(isolated_env, "complaints") / pointer["file"]
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE complaints DROP COLUMN resolution_bin")
    con.close()
    new = [
        ["2026-006", "2026-11-06 08:00:00", "송파구", "교통", "버스", "120", "처리완료", "2026-11-06 08:10:00", "", ""]
    ]
    record = load(write_csv(tmp_path / "next.csv", new))
    assert record.outcome == "ok" and record.extra["kept_from_serving"] == 5
    bins = published(isolated_env).set_index("complaint_id")["resolution_bin"]
    assert bins.to_dict() == pytest.approx(
        {"2026-001": 10, "2026-002": None, "2026-003": None, "2026-004": 41, "2026-005": None, "2026-006": 0},
        nan_ok=True,
    )


def test_a_version_published_without_resolution_bins_is_served_with_them_computed(isolated_env, tmp_path):
    """Until the next import stores the column, the warehouse computes it as the version is read
    (data/dictionary.toml, `computed`): the resolution panel gives the same answer."""
    from queries import warehouse

    assert load(complaints_sample.write(tmp_path / "s.parquet", 3000, date(2026, 11, 19))).outcome == "ok"
    params = {
        "date_from": date(2026, 9, 10),
        "date_to": date(2026, 11, 12),
        "districts": [],
        "categories": [],
        "channels": [],
    }
    sql = (Path(__file__).parents[1] / "queries" / "complaints_resolution.sql").read_text("utf-8")
    stored = warehouse.build(isolated_env).execute(sql, params).df()
    pointer = datadir.read_pointer(isolated_env, "complaints")
    con = duckdb.connect(str(datadir.feed_dir(isolated_env, "complaints") / pointer["file"]))
    con.execute("ALTER TABLE complaints DROP COLUMN resolution_bin")
    con.close()
    served = warehouse.build(isolated_env)
    assert "resolution_bin" in served.execute("SELECT * FROM complaints LIMIT 0").df().columns
    computed = served.execute(sql, params).df()
    assert len(stored) >= 5 and stored["resolved"].sum() > 100
    pd.testing.assert_frame_equal(computed, stored)


def test_an_export_out_of_order_is_stored_in_order_of_receipt(isolated_env, tmp_path):
    record = load(write_csv(tmp_path / "shuffled.csv", [GOOD[i] for i in (4, 1, 3, 0, 2)]))
    assert record.outcome == "ok" and record.extra["sorted"] is True
    stored = published(isolated_env, "SELECT received_at FROM complaints")["received_at"]
    assert stored.is_monotonic_increasing


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx", ".csv"])
def test_parquet_xlsx_and_csv_load_the_same_sample(isolated_env, tmp_path, suffix):
    path = complaints_sample.write(
        tmp_path / f"s{suffix}", 3000, date(2026, 11, 19), "cp949" if suffix == ".csv" else None
    )
    record = load(path)
    assert record.outcome == "ok", record.message
    assert record.rows_quarantined == 0
    rows = published(isolated_env)
    assert len(rows) == 3000
    expected = pd.read_parquet(complaints_sample.write(tmp_path / "ref.parquet", 3000, date(2026, 11, 19)))
    assert rows["complaint_id"].tolist() == sorted(expected["민원번호"].tolist())
    assert (rows.set_index("complaint_id")["received_at"] == expected.set_index("민원번호")["접수일시"]).all()


def test_the_cubes_add_up_to_the_complaints(isolated_env, tmp_path):
    path = complaints_sample.write(tmp_path / "s.parquet", 20000, date(2026, 11, 19))
    assert load(path).outcome == "ok"
    raw = published(isolated_env)
    daily = published(isolated_env, "SELECT * FROM complaints_cube_daily")
    for level, keys in {
        0: ["district_code", "category", "channel"],
        3: ["district_code"],
        5: ["category"],
        7: [],
    }.items():
        cells = daily[daily["level"] == level]
        assert cells["complaints"].sum() == len(raw)
        if keys:
            got = cells.groupby([cells[k].astype(str) for k in keys])["complaints"].sum().sort_index()
            want = raw.groupby([raw[k].astype(str) for k in keys]).size().sort_index()
            assert got.to_dict() == want.to_dict(), level
    top = daily[daily["level"] == 7].set_index("day")
    per_day = raw.groupby(raw["received_at"].dt.normalize()).size()
    assert {pd.Timestamp(d): n for d, n in top["complaints"].items()} == per_day.to_dict()
    assert top["resolved"].sum() == (raw["status"].astype(str) == "resolved").sum()
    assert top["open"].sum() == raw["status"].astype(str).isin(["received", "in_progress"]).sum()
    heat = published(isolated_env, "SELECT * FROM complaints_cube_heat WHERE level = 3")  # by district
    got = heat.groupby([heat["district_code"].astype(str), "weekday", "hour"])["complaints"].sum()
    want = raw.groupby(
        [
            raw["district_code"].astype(str),
            raw["received_at"].dt.isocalendar().day.astype(int),
            raw["received_at"].dt.hour,
        ]
    ).size()
    assert got.to_dict() == want.to_dict()
    bins = published(isolated_env, "SELECT * FROM complaints_cube_resolution WHERE level = 5")
    resolved = raw[(raw["status"].astype(str) == "resolved") & raw["resolved_at"].notna()]
    hours = (resolved["resolved_at"] - resolved["received_at"]).dt.total_seconds() / 3600
    assert bins["complaints"].sum() == len(resolved)
    for b in (0, 10, 30):
        lo, hi = complaints.bin_bounds_h(b)
        assert bins.loc[bins["bin"] == b, "complaints"].sum() == ((hours >= lo) & (hours < hi)).sum()


def test_the_sample_has_a_city_shape():
    tables = list(complaints_sample.chunks(60000, date(2026, 11, 19)))
    frame = pd.concat([t.to_pandas() for t in tables])
    again = pd.concat([t.to_pandas() for t in complaints_sample.chunks(60000, date(2026, 11, 19))])
    assert frame.equals(again)  # deterministic
    assert frame["민원번호"].is_unique and frame["접수일시"].is_monotonic_increasing
    shares = frame["민원분야"].value_counts(normalize=True)
    assert shares.index[0] == "교통" and shares.iloc[0] > 0.25
    weekday = frame["접수일시"].dt.weekday
    per_weekday = frame.groupby(weekday).size() / frame.groupby(weekday)["접수일시"].apply(
        lambda s: s.dt.date.nunique()
    )
    assert per_weekday.loc[0:4].min() > 1.5 * per_weekday.loc[5:6].max()
    hours = (frame["처리완료일시"] - frame["접수일시"]).dt.total_seconds() / 3600
    medians = hours.groupby(frame["민원분야"]).median()
    assert medians["세무·재정"] > 5 * medians["안전"]
    month = frame["접수일시"].dt.month
    roads = frame[frame["민원분야"] == "도로·시설"].groupby(month).size() / frame.groupby(month).size()
    assert roads.loc[[12, 1, 2]].mean() > roads.loc[[6, 7, 8]].mean()  # snow and potholes in winter
    assert frame["처리완료일시"].isna().mean() < 0.05


def test_the_cli_generates_and_imports(isolated_env, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "MAYOR_DATA_DIR": str(isolated_env), "HOME": str(tmp_path)}
    out = tmp_path / "big.csv"
    made = run_module("loaders", "sample-complaints", "--rows", "5000", "--out", str(out), "--format", "cp949", env=env)
    assert made.returncode == 0, made.stderr
    assert out.read_bytes().decode("cp949").splitlines()[0] == ",".join(HEADER)
    done = run_module("loaders", "import", "complaints", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("complaints: ok (file:big.csv;")
    assert len(published(isolated_env)) == 5000
    refused = run_module("loaders", "sample-complaints", "--rows", "16000001", env=env)
    assert refused.returncode == 2 and "between 1 and 16,000,000" in refused.stderr
