"""Listening forums, the citizen panel and its census: the reproducible stratified draw, largest
remainder quotas, small-cell suppression in every demographic query, page and export, CSV
imports (UTF-8 and CP949) with quarantine, and both pages under AppTest."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import datadir
import queries
from loaders import census, panel, participation_sample
from loaders.__main__ import main as loaders_main
from queries import gate
from tests.conftest import run_module
from ui import participation

PROJECT = Path(__file__).resolve().parents[1]
FORUMS_PAGE = "pages/forums.py"
PANEL_PAGE = "pages/panel.py"
# (named query, its dimension parameter or None): the three one-way views share panel_by_group.
DEMOGRAPHIC_QUERIES = ["gender", "age_band", "district", "panel_by_cell"]
GROUPS = {
    "gender": ["gender"],
    "age_band": ["age_band"],
    "district": ["sig_cd"],
    "panel_by_cell": ["sig_cd", "gender", "age_band"],
}
KS = [1, 3, 10, 25, 60]


def locale(lang: str) -> dict:
    with open(PROJECT / "ui" / "locales" / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


KO, EN = locale("ko"), locale("en")


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


def run_page(path: str, **query_params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT / path), default_timeout=60)
    at.query_params.update(query_params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def sample_pool(size: int = 600, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    quota = panel.quotas(census.table(), size)
    rows = participation_sample.pool_rows(quota, seed)
    pool = pd.DataFrame(rows).rename(columns={"district": "sig_cd"})
    pool["sig_cd"] = panel.normalise_district(pool["sig_cd"])
    return pool, quota


def panel_csv(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(datadir.sample_dir(data_dir) / "panel.csv", dtype=str)


# --- quotas: largest remainder ----------------------------------------------------------------


def tiny_census(populations: list[int]) -> pd.DataFrame:
    bands = ["18-29", "30-39", "40-49", "50-59", "60-69", "70+"]
    return pd.DataFrame(
        {
            "sig_cd": "11110",
            "district_name": "종로구",
            "gender": "F",
            "age_band": bands[: len(populations)],
            "population": populations,
            "reference_year": 2023,
        }
    )


@pytest.mark.parametrize(
    ("populations", "size", "expected"),
    [
        ([5, 3, 2], 4, [2, 1, 1]),  # exact 2.0 / 1.2 / 0.8: the one seat left goes to the .8
        ([1, 1, 1], 2, [1, 1, 0]),  # equal remainders: stratum order breaks the tie
        ([50, 30, 20], 10, [5, 3, 2]),  # no remainder at all
        ([7, 7, 1], 3, [2, 1, 0]),  # 1.4 / 1.4 / 0.2: the seat left goes to the first .4, never to the .2
        ([1000, 1], 5, [5, 0]),
    ],
)
def test_largest_remainder_on_hand_worked_cases(populations, size, expected):
    assert panel.quotas(tiny_census(populations), size)["quota"].tolist() == expected


@pytest.mark.parametrize("size", [1, 7, 299, 300, 3000, 3001, 10_000])
def test_quotas_sum_to_the_size_and_are_largest_remainder(size):
    q = panel.quotas(census.table(), size)
    assert q["quota"].sum() == size
    assert len(q) == 300
    floors = q["exact_quota"].apply(math.floor)
    assert ((q["quota"] == floors) | (q["quota"] == floors + 1)).all()
    remainder = q["exact_quota"] - floors
    got, missed = remainder[q["remainder_seat"]], remainder[~q["remainder_seat"]]
    if len(got) and len(missed):
        assert got.min() >= missed.max() - 1e-9  # no stratum left out had a larger remainder
    assert q["remainder_seat"].sum() == size - floors.sum()


def test_quotas_follow_the_census():
    q = panel.quotas(census.table(), 3000).set_index(["sig_cd", "gender", "age_band"])
    songpa_old_women = q.loc[("11710", "F", "70+"), "quota"]
    jung_young_men = q.loc[("11140", "M", "18-29"), "quota"]
    assert songpa_old_women > jung_young_men  # 송파구 is about five times 중구
    assert panel.quotas(census.table(), 3000).equals(panel.quotas(census.table(), 3000))


# --- the draw ---------------------------------------------------------------------------------


def test_draw_reproduces_exactly_for_a_seed_and_differs_for_another():
    pool, quota = sample_pool()
    first = panel.draw_panel(pool, quota, seed=42)
    again = panel.draw_panel(pool, quota, seed=42)
    other = panel.draw_panel(pool, quota, seed=43)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == len(other) == 600
    assert set(first["applicant_id"]) != set(other["applicant_id"])
    assert panel.fingerprint(first["applicant_id"]) == panel.fingerprint(again["applicant_id"])
    assert panel.fingerprint(first["applicant_id"]) != panel.fingerprint(other["applicant_id"])


def test_draw_does_not_depend_on_the_pool_file_order():
    pool, quota = sample_pool()
    shuffled = pool.sample(frac=1, random_state=5).reset_index(drop=True)
    pd.testing.assert_frame_equal(panel.draw_panel(pool, quota, 7), panel.draw_panel(shuffled, quota, 7))


def test_draw_fills_every_quota_from_its_own_stratum():
    pool, quota = sample_pool()
    drawn = panel.draw_panel(pool, quota, seed=1)
    assert drawn["applicant_id"].is_unique
    assert set(drawn["applicant_id"]) <= set(pool["applicant_id"])
    per_stratum = drawn.groupby(panel.STRATUM).size()
    wanted = quota.set_index(panel.STRATUM)["quota"]
    assert per_stratum.reindex(wanted.index, fill_value=0).equals(wanted)


def test_draw_follows_the_documented_algorithm():
    """Re-implemented from the README's words, without pandas: keys in applicant-id order."""
    pool, quota = sample_pool(size=120, seed=3)
    rows = sorted(pool.to_dict("records"), key=lambda r: r["applicant_id"])
    keys = np.random.default_rng(99).random(len(rows))
    seats = {(q.sig_cd, q.gender, q.age_band): q.quota for q in quota.itertuples()}
    chosen = []
    by_stratum: dict[tuple, list] = {}
    for row, key in zip(rows, keys, strict=True):
        by_stratum.setdefault((row["sig_cd"], row["gender"], row["age_band"]), []).append((key, row["applicant_id"]))
    for stratum, members in by_stratum.items():
        chosen += [a for _k, a in sorted(members)[: seats[stratum]]]
    assert sorted(chosen) == panel.draw_panel(pool, quota, 99)["applicant_id"].tolist()


def test_a_short_stratum_draws_everyone_and_reports_the_shortfall(isolated_env, tmp_path):
    pool, quota = sample_pool(size=300)
    target = quota.sort_values("quota").iloc[-1]  # the biggest quota: leave only one applicant
    in_target = (pool[panel.STRATUM] == target[panel.STRATUM].to_numpy()).all(axis=1)
    keep = pool[~in_target | (in_target.astype(int).cumsum() == 1)]
    names = census.table().drop_duplicates("sig_cd").set_index("sig_cd")["district_name"]
    rows = keep.assign(district=keep["sig_cd"].map(names)).drop(columns="sig_cd").to_dict("records")
    path = write_csv(tmp_path / "short_pool.csv", rows)
    out = tmp_path / "drawn.csv"
    assert loaders_main(["panel-draw", "--seed", "5", "--size", "300", "--pool", str(path), "--out", str(out)]) == 0
    drawn = pd.read_csv(out, dtype=str)
    assert len(drawn) == 300 - int(target["quota"]) + 1
    row = queries.run("panel_draw").iloc[0]
    assert row["seats_short"] == int(target["quota"]) - 1 and row["strata_short"] == 1


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return run_module("loaders", *args, env={**os.environ, "MAYOR_DATA_DIR": str(data_dir)})


def test_panel_draw_command_reproduces_the_panel_and_publishes_seed_and_quotas(isolated_env, tmp_path):
    _pool, quota = sample_pool(size=400, seed=8)
    pool_rows = participation_sample.pool_rows(quota, 8)
    pool_path = write_csv(tmp_path / "pool.csv", pool_rows)
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    args = ["panel-draw", "--size", "400", "--pool", str(pool_path)]
    first = cli(*args, "--seed", "2024", "--out", str(a), data_dir=isolated_env)
    assert first.returncode == 0, first.stderr
    assert "panel_draw: ok" in first.stdout
    second = cli(*args, "--seed", "2024", "--out", str(b), data_dir=isolated_env)
    assert second.returncode == 0 and "panel_draw: unchanged" in second.stdout
    assert a.read_bytes() == b.read_bytes()
    to_stdout = cli(*args, "--seed", "2024", data_dir=isolated_env)
    assert to_stdout.stdout == a.read_text("utf-8")  # the status line goes to stderr
    assert "panel_draw:" in to_stdout.stderr
    third = cli(*args, "--seed", "2025", "--out", str(c), data_dir=isolated_env)
    assert third.returncode == 0
    ids_a = pd.read_csv(a, dtype=str)["member_id"]
    ids_c = pd.read_csv(c, dtype=str)["member_id"]
    assert len(ids_a) == len(ids_c) == 400 and set(ids_a) != set(ids_c)

    published = queries.run("panel_draw").iloc[0]
    assert published["seed"] == 2025 and published["panel_size"] == 400
    assert published["drawn_sha256"] == panel.fingerprint(ids_c)
    quotas = queries.run("panel_quotas")
    assert quotas["quota"].sum() == 400 and set(quotas["seed"]) == {2025}
    assert quotas["quota"].tolist() == panel.quotas(census.table(), 400)["quota"].tolist()

    # the drawn file imports as the panel, and then matches the published draw
    assert cli("import", "panel", str(c), data_dir=isolated_env).returncode == 0
    summary = queries.run("panel_summary", k=10).iloc[0]
    assert summary["members"] == 400 and bool(summary["matches_draw"]) is True


def test_panel_draw_refuses_a_missing_pool_and_bad_arguments(isolated_env, tmp_path):
    assert loaders_main(["panel-draw", "--pool", str(tmp_path / "nope.csv")]) == 2
    assert loaders_main(["panel-draw", "--size", "0"]) == 2
    assert not datadir.read_pointer(isolated_env, "panel_draw")


def test_a_pool_with_too_many_bad_rows_publishes_nothing(isolated_env, tmp_path):
    rows = [{"applicant_id": f"X{i}", "gender": "?", "age_band": "18-29", "district": "종로구"} for i in range(10)]
    path = write_csv(tmp_path / "bad_pool.csv", rows)
    out = tmp_path / "never.csv"
    assert loaders_main(["panel-draw", "--pool", str(path), "--out", str(out)]) == 1
    assert not out.exists()
    assert not datadir.read_pointer(isolated_env, "panel_draw")


# --- the sample -------------------------------------------------------------------------------


def test_sample_forums_match_the_published_totals():
    rows = participation_sample.forum_rows()
    assert rows == participation_sample.forum_rows()
    assert len(rows) == 129
    assert sum(int(r["participants"]) for r in rows) == 24_267
    dates = sorted(r["date"] for r in rows)
    assert dates[0] >= "2011-11-01" and dates[0] < "2011-12-01"
    assert "2019-01-01" <= dates[-1] <= "2019-06-30"
    assert min(int(r["participants"]) for r in rows) >= 25
    assert {r["field"] for r in rows} <= set(participation_sample.TOPICS)


def test_sample_panel_is_the_draw_of_the_sample_pool(sample_data_dir):
    members = panel_csv(sample_data_dir)
    assert len(members) == 3000
    draw = queries.run("panel_draw").iloc[0]
    assert draw["seed"] == 20200701 and draw["drawn"] == 3000
    assert draw["drawn_sha256"] == panel.fingerprint(members["member_id"])
    assert bool(queries.run("panel_summary", k=10).iloc[0]["matches_draw"]) is True
    forums = queries.run("forums_summary").iloc[0]
    assert forums["forums"] == 129 and forums["participants"] == 24_267


# --- suppression ------------------------------------------------------------------------------


def true_counts(data_dir: Path, keys: list[str]) -> pd.Series:
    members = panel_csv(data_dir)
    members["sig_cd"] = panel.normalise_district(members["district"])
    return members.groupby(keys).size()


def demographic(name: str, k: int) -> pd.DataFrame:
    if name == "panel_by_cell":
        return queries.run(name, k=k)
    return queries.run("panel_by_group", dimension=name, k=k)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("name", DEMOGRAPHIC_QUERIES)
def test_every_demographic_query_hides_every_count_under_k(sample_data_dir, name, k):
    frame = demographic(name, k)
    keys = GROUPS[name]
    truth = true_counts(sample_data_dir, keys)
    actual = frame.set_index(keys).index.map(lambda key: truth.get(key, 0))
    shown = frame[~frame["suppressed"]]
    hidden = frame[frame["suppressed"]]
    assert (shown["members"] >= k).all()
    assert shown["members"].tolist() == list(actual[~frame["suppressed"].to_numpy()])
    assert hidden[["members", "panel_share", "gap_pp"]].isna().all().all()
    assert (actual[frame["suppressed"].to_numpy()] >= 0).all()
    small = actual < k
    assert frame["suppressed"][small].all(), "a count under k is shown"
    # No published total hides exactly one cell: it would be the total minus the shown cells.
    groups = [[]] + ([[c] for c in keys] if len(keys) > 1 else [])
    for group in groups:
        counts = frame.groupby(group)["suppressed"].sum() if group else pd.Series([frame["suppressed"].sum()])
        assert not (counts == 1).any(), (name, group, counts[counts == 1])


def test_suppression_bites_at_the_default_k(sample_data_dir):
    cells = queries.run("panel_by_cell", k=10)
    truth = true_counts(sample_data_dir, ["sig_cd", "gender", "age_band"])
    assert (truth < 10).sum() > 20  # 3,000 members over 300 cells: many are small
    assert cells["suppressed"].sum() >= (truth < 10).sum()
    assert not cells["suppressed"].all()
    assert queries.run("panel_by_cell", k=1)["suppressed"].sum() == 0


@pytest.mark.parametrize("k", [3, 10, 25])
def test_the_cell_export_holds_no_count_under_k(sample_data_dir, k):
    exported = participation.cells_export(queries.run("panel_by_cell", k=k))
    frame = pd.read_csv(io.BytesIO(exported), encoding="utf-8-sig", dtype={"sig_cd": str})
    assert len(frame) == 300
    assert (frame["members"].dropna() >= k).all()
    hidden = frame["suppressed"].astype(bool)
    assert hidden.any() or k < 10  # with 3,000 members every cell holds at least 3
    assert frame.loc[hidden, ["members", "panel_share", "gap_pp"]].isna().all().all()
    assert frame.loc[~hidden, "members"].notna().all()


def test_index_and_attendance_are_withheld_for_a_panel_under_k(sample_data_dir):
    summary = queries.run("panel_summary", k=3001).iloc[0]
    assert summary["members"] == 3000
    assert pd.isna(summary["representativeness"]) and pd.isna(summary["attended_share"])
    shown = queries.run("panel_summary", k=10).iloc[0]
    assert 0.9 < shown["representativeness"] <= 1


def test_representativeness_index_matches_its_definition(sample_data_dir):
    members = true_counts(sample_data_dir, ["sig_cd", "gender", "age_band"])
    people = census.table().set_index(["sig_cd", "gender", "age_band"])["population"]
    panel_share = members.reindex(people.index, fill_value=0) / members.sum()
    expected = 1 - 0.5 * (panel_share - people / people.sum()).abs().sum()
    assert queries.run("panel_summary", k=10).iloc[0]["representativeness"] == pytest.approx(expected)


def test_the_sql_console_cannot_read_panel_members(sample_data_dir):
    for sql in (
        "SELECT count(*) FROM panel_members",
        "SELECT * FROM feed_panel.main.panel_members",
        "SELECT gender, count(*) FROM panel_members GROUP BY gender",
    ):
        with pytest.raises(queries.QueryError):
            gate.run_user_sql(sql)
    assert gate.run_user_sql("SELECT count(*) AS n FROM forums").frame["n"].iloc[0] == 129
    assert gate.run_user_sql("SELECT sum(quota) AS n FROM panel_quotas").frame["n"].iloc[0] == 3000


# --- CSV imports ------------------------------------------------------------------------------


def quarantined(feed: str) -> list[str]:
    frame = queries.execute(
        "SELECT reason FROM quarantine WHERE feed = $feed "
        "AND run_id = (SELECT max(run_id) FROM quarantine WHERE feed = $feed) ORDER BY row_number",
        {"feed": feed},
    )
    return frame["reason"].tolist()


def test_panel_import_from_a_cp949_file_with_korean_headers(isolated_env, tmp_path):
    rows = [
        {
            "회원번호": "M1",
            "성별": "남",
            "연령대": "34",
            "자치구": "종로구",
            "추첨차수": "1",
            "참석회차": "3",
            "투표수": "2",
        },
        {
            "회원번호": "M2",
            "성별": "여성",
            "연령대": "70+",
            "자치구": "Gangnam-gu",
            "추첨차수": "",
            "참석회차": "",
            "투표수": "",
        },
        {
            "회원번호": "M3",
            "성별": "F",
            "연령대": "18~29",
            "자치구": "11710",
            "추첨차수": "2",
            "참석회차": "6",
            "투표수": "6",
        },
    ]
    rows += [
        {
            "회원번호": f"N{i}",
            "성별": "M",
            "연령대": "50-59",
            "자치구": "도봉구",
            "추첨차수": "1",
            "참석회차": "1",
            "투표수": "0",
        }
        for i in range(13)
    ]
    rows += [
        {
            "회원번호": "B1",
            "성별": "?",
            "연령대": "40-49",
            "자치구": "종로구",
            "추첨차수": "1",
            "참석회차": "1",
            "투표수": "1",
        },
        {
            "회원번호": "B2",
            "성별": "M",
            "연령대": "12",
            "자치구": "똠구",
            "추첨차수": "1",
            "참석회차": "1",
            "투표수": "1",
        },
        {
            "회원번호": "M1",
            "성별": "M",
            "연령대": "40-49",
            "자치구": "종로구",
            "추첨차수": "1",
            "참석회차": "1",
            "투표수": "1",
        },
        {
            "회원번호": "B3",
            "성별": "M",
            "연령대": "40-49",
            "자치구": "종로구",
            "추첨차수": "0",
            "참석회차": "1",
            "투표수": "-1",
        },
    ]
    path = write_csv(tmp_path / "panel_cp949.csv", rows, encoding="cp949")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert loaders_main(["import", "panel", str(path)]) == 0
    members = queries.execute("SELECT * FROM panel_members ORDER BY member_id", {}).set_index("member_id")
    assert len(members) == 16
    assert members.loc["M1", ["gender", "age_band", "sig_cd", "sessions_attended", "votes"]].tolist() == [
        "M",
        "30-39",
        "11110",
        3,
        2,
    ]
    assert members.loc["M2", ["gender", "age_band", "sig_cd", "draw_round"]].tolist() == ["F", "70+", "11680", 1]
    # Blank cells are unknown, not zero (a file without the column would give 0).
    assert members.loc["M2", ["sessions_attended", "votes"]].isna().all()
    assert members.loc["M3", ["age_band", "district_name", "draw_round"]].tolist() == ["18-29", "송파구", 2]
    reasons = quarantined("panel")
    assert len(reasons) == 4
    assert "unknown gender: ?" in reasons[0]
    assert "unknown age band" in reasons[1] and "unknown district: 똠구" in reasons[1]
    assert reasons[2] == "duplicate member_id"
    assert "draw_round must be 1 or more" in reasons[3] and "votes is negative" in reasons[3]


def test_panel_file_without_attendance_columns_means_no_session_yet(isolated_env, tmp_path):
    rows = [{"member_id": "A1", "gender": "M", "age_band": "40-49", "district": "종로구"}]
    assert loaders_main(["import", "panel", str(write_csv(tmp_path / "drawn.csv", rows))]) == 0
    members = queries.execute("SELECT sessions_attended, votes FROM panel_members", {})
    assert members.iloc[0].tolist() == [0, 0]


def test_forums_import_utf8_and_cp949_with_quarantine(isolated_env, tmp_path):
    good = [
        {
            "date": "2012-03-05",
            "topic": "<script>alert(1)</script> 똠방 토론",
            "field": "교통",
            "participants": "120",
            "outcome": "**정책 반영**",
        },
        {"date": "2012.04.10", "topic": "주거 청책토론회", "field": "", "participants": "1,250", "outcome": ""},
        {"date": "20120512", "topic": "환경 토론", "field": "환경", "participants": "80", "outcome": "일부 반영"},
    ]
    good += [
        {"date": f"2013-01-{d:02d}", "topic": f"토론 {d}", "field": "복지", "participants": "50", "outcome": "반영"}
        for d in range(1, 10)
    ]
    bad = [
        {"date": "2099-01-01", "topic": "미래", "field": "복지", "participants": "10", "outcome": ""},
        {"date": "2013-02-01", "topic": "", "field": "복지", "participants": "0", "outcome": ""},
        {
            "date": "2012-03-05",
            "topic": "<script>alert(1)</script> 똠방 토론",
            "field": "교통",
            "participants": "9",
            "outcome": "",
        },
    ]
    korean = [
        {"일자": r["date"], "주제": r["topic"], "분야": r["field"], "참여인원": r["participants"], "결과": r["outcome"]}
        for r in good + bad
    ]
    for name, rows, encoding in (("forums.csv", good + bad, "utf-8"), ("forums_cp949.csv", korean, "cp949")):
        path = write_csv(tmp_path / name, rows, encoding=encoding)
        assert loaders_main(["import", "forums", str(path)]) == 0, name
        forums = queries.run("forums_list")
        assert len(forums) == 12
        assert forums["participants"].sum() == 120 + 1250 + 80 + 9 * 50
        assert forums["forum_number"].tolist() == list(range(1, 13))
        assert forums["topic"].iloc[0] == "<script>alert(1)</script> 똠방 토론"
        assert forums.set_index("topic").loc["주거 청책토론회", "field"] == "기타"
        assert forums["cumulative_participants"].iloc[-1] == forums["participants"].sum()
        reasons = quarantined("forums")[-3:]
        assert "in the future" in reasons[0]
        assert "is missing" in reasons[1] and "participants must be between 1" in reasons[1]
        assert "duplicate" in reasons[2]


def test_an_import_that_is_mostly_invalid_is_rejected_and_keeps_the_serving_panel(sample_data_dir, tmp_path):
    before = queries.run("panel_summary", k=10).iloc[0]["members"]
    rows = [{"member_id": f"Z{i}", "gender": "X", "age_band": "30-39", "district": "종로구"} for i in range(5)]
    assert loaders_main(["import", "panel", str(write_csv(tmp_path / "bad.csv", rows))]) == 1
    assert queries.run("panel_summary", k=10).iloc[0]["members"] == before


def test_refresh_never_replaces_an_imported_file_with_the_sample(sample_data_dir, tmp_path, capsys):
    rows = [{"date": "2014-05-01", "topic": f"주제 {i}", "participants": "10"} for i in range(3)]
    assert loaders_main(["import", "forums", str(write_csv(tmp_path / "f.csv", rows))]) == 0
    assert loaders_main(["refresh", "forums", "panel", "panel_draw", "census"]) == 0
    out = capsys.readouterr().out
    assert "forums: skipped" in out and "python -m loaders import forums" in out
    assert "census: unchanged" in out
    assert queries.run("forums_summary").iloc[0]["forums"] == 3
    assert datadir.read_pointer(sample_data_dir, "forums")["source"] == "file:f.csv"


def test_import_refuses_feeds_that_are_not_files(isolated_env, tmp_path, capsys):
    path = write_csv(tmp_path / "x.csv", [{"a": "1"}])
    assert loaders_main(["import", "census", str(path)]) == 2
    assert "importable feeds" in capsys.readouterr().err


def test_the_bundled_census_is_whole_and_labelled_approximate():
    frame = census.table()
    assert len(frame) == 300 and frame["sig_cd"].nunique() == 25
    assert set(frame["gender"]) == {"M", "F"}
    assert sorted(frame["age_band"].unique()) == ["18-29", "30-39", "40-49", "50-59", "60-69", "70+"]
    assert set(frame["precision"]) == {"approximate"} and set(frame["reference_year"]) == {2023}
    assert 7_500_000 < frame["population"].sum() < 8_500_000
    readme = (PROJECT / "README.md").read_text("utf-8")
    dictionary = (PROJECT / "data" / "dictionary.toml").read_text("utf-8")
    assert "approximate sample, not official statistics" in readme
    assert "approximate sample, not official statistics" in dictionary


# --- pages ------------------------------------------------------------------------------------


def dataframes_with(at: AppTest, column: str) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if column in d.value.columns]


def test_forums_page_shows_the_totals_and_topics_as_text(isolated_env, tmp_path):
    rows = [
        {
            "date": "2012-03-05",
            "topic": "<script>alert(1)</script>",
            "field": "<b>교통</b>",
            "participants": "120",
            "outcome": "**반영**",
        },
        {
            "date": "2013-06-01",
            "topic": "[link](javascript:alert(1))",
            "field": "복지",
            "participants": "80",
            "outcome": "<img src=x>",
        },
    ]
    assert loaders_main(["import", "forums", str(write_csv(tmp_path / "f.csv", rows))]) == 0
    at = run_page(FORUMS_PAGE)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[KO["forums"]["forums"]] == "2"
    assert metrics[KO["forums"]["participants"]] == "200"
    (listing,) = dataframes_with(at, KO["forums"]["col_topic"])
    assert listing[KO["forums"]["col_topic"]].tolist() == ["<script>alert(1)</script>", "[link](javascript:alert(1))"]
    assert listing[KO["forums"]["col_outcome"]].tolist() == ["**반영**", "<img src=x>"]
    rendered = [e.value for e in [*at.markdown, *at.caption, *at.title, *at.subheader, *at.info]]
    assert not any("script" in v or "javascript" in v or "<img" in v for v in rendered)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    names = [tr.get("name") for c in charts for tr in c["data"]]
    assert "&lt;b&gt;교통&lt;/b&gt;" in names and "<b>교통</b>" not in names
    labels = [y for c in charts for tr in c["data"] for y in (tr.get("y") or []) if isinstance(y, str)]
    assert "<b>교통</b>" not in labels


def test_forums_page_on_the_sample_in_english(sample_data_dir):
    at = run_page(FORUMS_PAGE, lang="en")
    assert at.title[0].value == EN["forums"]["title"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[EN["forums"]["forums"]] == "129"
    assert metrics[EN["forums"]["participants"]] == "24,267"
    (by_field,) = dataframes_with(at, EN["forums"]["col_share"])
    assert by_field[EN["forums"]["col_participants"]].sum() == 24_267
    assert "Welfare" in by_field[EN["forums"]["col_field"]].tolist()
    (years,) = dataframes_with(at, EN["forums"]["col_cumulative"])
    assert years[EN["forums"]["col_cumulative"]].iloc[-1] == 24_267


def test_forums_page_without_forums_says_so(isolated_env):
    at = run_page(FORUMS_PAGE)
    assert [i.value for i in at.info] == [KO["forums"]["no_forums"]]
    assert not at.metric and not at.dataframe


def plotly_array(value) -> np.ndarray:
    """A plotly figure array: a list, or plotly's typed-array form {dtype, bdata, shape}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).astype(float)
    return np.array([[np.nan if v is None else v for v in row] for row in value], dtype=float)


@pytest.fixture
def captured_downloads(monkeypatch) -> list[tuple[bytes, str]]:
    """What the page handed to st.download_button, as stored for the browser."""
    seen: list[tuple[bytes, str]] = []
    real = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes | str):
            seen.append((path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode(), filename))
        return real(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


@pytest.mark.parametrize("k", ["10", "25"])
def test_panel_page_never_shows_or_exports_a_count_under_k(sample_data_dir, monkeypatch, captured_downloads, k):
    monkeypatch.setenv("MAYOR_PANEL_MIN_CELL", k)
    at = run_page(PANEL_PAGE)
    members_col = KO["panel"]["col_members"]
    tables = dataframes_with(at, members_col)
    assert len(tables) == 4  # gender, age band, district, cells
    for table in tables:
        assert (table[members_col].dropna() >= int(k)).all()
    cells = tables[-1]
    assert len(cells) == 300 and cells[members_col].isna().sum() == cells[KO["panel"]["col_suppressed"]].sum() > 0
    heatmaps = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (z,) = [plotly_array(tr["z"]) for c in heatmaps for tr in c["data"] if tr["type"] == "heatmap"]
    assert z.size == 300 and np.isnan(z).sum() == cells[members_col].isna().sum()
    exports = {name: data for data, name in captured_downloads}
    cell_csv = pd.read_csv(io.BytesIO(exports["panel_by_cell.csv"]), encoding="utf-8-sig")
    assert (cell_csv["members"].dropna() >= int(k)).all() and cell_csv["members"].isna().any()
    quota_csv = pd.read_csv(io.BytesIO(exports["panel_quotas.csv"]), encoding="utf-8-sig")
    assert quota_csv["quota"].sum() == 3000 and set(quota_csv["seed"]) == {20200701}


def test_panel_page_publishes_seed_quotas_and_how_to_rerun(sample_data_dir):
    at = run_page(PANEL_PAGE)
    metrics = {m.label: m.value for m in at.metric}
    summary = queries.run("panel_summary", k=10).iloc[0]
    assert metrics[KO["panel"]["members"]] == "3,000"
    assert metrics[KO["panel"]["index"]] == f"{summary['representativeness']:.3f}"
    assert metrics[KO["panel"]["seed"]] == "20200701"
    assert metrics[KO["panel"]["min_cell"]] == "10"
    codes = [c.value for c in at.code]
    assert any("python -m loaders panel-draw --seed 20200701 --size 3000" in c for c in codes)
    assert [s.value for s in at.success] == [KO["panel"]["matches"].format(round=1)]
    assert KO["panel"]["census_approximate"].format(year=2023) in [i.value for i in at.info]
    (quotas,) = dataframes_with(at, KO["panel"]["col_quota"])
    assert quotas[KO["panel"]["col_quota"]].sum() == 3000 and len(quotas) == 300
    draw = queries.run("panel_draw").iloc[0]
    assert any(draw["drawn_sha256"] in t.value and draw["pool_sha256"] in t.value for t in at.text)


def test_panel_page_in_english_and_with_a_replaced_member(sample_data_dir, tmp_path):
    members = panel_csv(sample_data_dir)
    members.loc[0, "member_id"] = "REPLACEMENT-1"
    path = tmp_path / "panel.csv"
    members.to_csv(path, index=False)
    assert loaders_main(["import", "panel", str(path)]) == 0
    at = run_page(PANEL_PAGE, lang="en")
    assert at.title[0].value == EN["panel"]["title"]
    assert [w.value for w in at.warning] == [EN["panel"]["mismatch"].format(round=1)]
    tabs = [t.label for t in at.tabs]
    assert tabs == [
        EN["panel"]["tab_gender"],
        EN["panel"]["tab_age"],
        EN["panel"]["tab_district"],
        EN["panel"]["tab_cells"],
    ]
    (gender,) = [d for d in dataframes_with(at, EN["panel"]["col_group"]) if len(d) == 2]
    assert sorted(gender[EN["panel"]["col_group"]]) == ["Men", "Women"]


def test_panel_page_without_a_panel_or_draw_says_so(isolated_env):
    at = run_page(PANEL_PAGE)
    assert [i.value for i in at.info] == [KO["panel"]["no_panel"], KO["panel"]["no_draw"]]
    assert not at.metric and not at.dataframe


def test_panel_page_with_a_broken_query_keeps_the_rest(sample_data_dir, monkeypatch):
    from ui import data as ui_data

    real = ui_data.query

    def query(name, **params):
        if name == "panel_by_cell":
            raise queries.QueryError("panel_by_cell: boom")
        return real(name, **params)

    monkeypatch.setattr(ui_data, "query", query)
    at = run_page(PANEL_PAGE)
    assert [e.value for e in at.error] == [KO["state"]["query_error"].format(error="panel_by_cell: boom")]
    assert dataframes_with(at, KO["panel"]["col_quota"])  # the draw section still renders


def test_the_sample_draw_matches_a_fresh_draw_with_the_same_seed(sample_data_dir, tmp_path):
    out = tmp_path / "again.csv"
    assert loaders_main(["panel-draw", "--out", str(out)]) == 0
    again = pd.read_csv(out, dtype=str)
    sample = panel_csv(sample_data_dir)
    assert again["member_id"].tolist() == sample["member_id"].tolist()
    assert Counter(zip(again["gender"], again["age_band"], strict=True)) == Counter(
        zip(sample["gender"], sample["age_band"], strict=True)
    )


@pytest.mark.parametrize("name", ["gender", "age_band", "district"])
def test_a_lone_small_group_takes_the_next_smallest_with_it(sample_data_dir, name):
    (key,) = GROUPS[name]
    counts = true_counts(sample_data_dir, [key]).sort_values()
    assert counts.iloc[0] < counts.iloc[1], "the test needs a unique smallest group"
    k = int(counts.iloc[0]) + 1  # exactly one group is under k
    frame = demographic(name, k).set_index(key)
    assert sorted(frame.index[frame["suppressed"]]) == sorted(counts.index[:2])
    assert frame.loc[counts.index[1], "members"] is pd.NA or pd.isna(frame.loc[counts.index[1], "members"])


def test_a_lone_small_cell_in_a_district_takes_another_with_it(sample_data_dir):
    cells = true_counts(sample_data_dir, ["sig_cd", "gender", "age_band"])
    # k just above one district's smallest cell, where that cell is the district's only one under k
    lone = [key for key, n in cells.sort_values().items() if (cells.loc[key[0]] <= n).sum() == 1]
    sig_cd, gender, band = lone[0]
    k = int(cells.loc[lone[0]]) + 1
    frame = queries.run("panel_by_cell", k=k)
    hidden = frame[frame["suppressed"] & (frame["sig_cd"] == sig_cd)]
    assert len(hidden) >= 2
    assert (gender, band) in set(zip(hidden["gender"], hidden["age_band"], strict=True))
