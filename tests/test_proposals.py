"""Citizen proposals: dated thresholds, crossings learnt across loads, the accountability clock."""

from __future__ import annotations

import pandas as pd
import pytest

import datadir
import queries
import settings
from loaders import proposals, runner
from loaders.runner import RunContext
from loaders.seoul_api import FetchResult


def record(sn: int, reg: str, agree: int, answered: str = "N", **extra) -> dict:
    return {
        "SN": f"{sn}",
        "TITLE": f"제안 {sn}",
        "CONTENT": "내용",
        "VOTE_SCORE": "1.0",
        "REG_DATE": reg,
        "VISIOIN_TXT": extra.get("field", "교통"),
        "USER_COMMENT_CNT": "0",
        "VOTE_CNT": str(agree),
        "VOTE_DIS_CNT": "1",
        "REPLY_YN": answered,
    }


def load(data_dir, records) -> str:
    ctx = RunContext(settings.get(), data_dir, "test", is_sample=False)
    r = runner.run(
        "proposals", ctx, lambda: FetchResult("S", "INFO-000", "", len(records), records), proposals.transform
    )
    assert r.outcome in ("ok", "unchanged"), r.message
    return r.as_of


def funnel_totals() -> pd.Series:
    return queries.run("proposals_funnel", category="")[
        ["submitted", "reached_answer", "reached_forum", "reached_mayor"]
    ].sum()


@pytest.mark.parametrize(
    ("registered", "agree", "forum_reached"),
    [
        ("2020-02-29 23:59:59", 120, 0),  # the old rule (forum at 500) on the last day before the change
        ("2020-03-01 00:00:00", 120, 1),  # the change day itself: the new rule (forum at 100)
        ("2020-03-01 09:30:00", 99, 0),
        ("2019-06-01 10:00:00", 500, 1),
        ("2026-01-01 10:00:00", 100, 1),
    ],
)
def test_forum_threshold_follows_the_rule_of_the_registration_date(isolated_env, registered, agree, forum_reached):
    load(isolated_env, [record(1, registered, agree)])
    assert funnel_totals()["reached_forum"] == forum_reached


def test_mayor_stage_under_both_rules(isolated_env):
    load(
        isolated_env,
        [
            record(1, "2019-05-01 10:00:00", 4999),
            record(2, "2019-05-02 10:00:00", 5000),
            record(3, "2021-01-01 10:00:00", 1000),
        ],
    )
    totals = funnel_totals()
    assert (totals["submitted"], totals["reached_answer"], totals["reached_forum"], totals["reached_mayor"]) == (
        3,
        3,
        3,
        2,
    )


def test_rules_are_settings(isolated_env, monkeypatch):
    monkeypatch.setenv("MAYOR_THRESHOLD_RULES", "2017-01-01=10/20/30")
    load(isolated_env, [record(1, "2022-01-01 10:00:00", 25)])
    totals = funnel_totals()
    assert (totals["reached_answer"], totals["reached_forum"], totals["reached_mayor"]) == (1, 1, 0)
    assert queries.run("threshold_rules")["answer_agrees"].tolist() == [10]


@pytest.mark.parametrize("bad", ["", "2020-03-01", "2020-03-01=50/100", "someday=1/2/3", "2020-03-01=a/b/c"])
def test_bad_rules_name_the_setting(monkeypatch, bad):
    monkeypatch.setenv("MAYOR_THRESHOLD_RULES", bad)
    if bad == "":
        assert settings.get().threshold_rules == settings.help_for("threshold_rules").default
        return
    with pytest.raises(settings.SettingError, match="MAYOR_THRESHOLD_RULES"):
        settings.get()


def crossings() -> dict:
    frame = queries.execute("SELECT proposal_id, level, first_seen_at, estimated FROM proposal_crossings", {})
    rows = frame.itertuples(index=False)
    return {(pid, level): (seen, est) for pid, level, seen, est in rows}


def test_crossings_are_learnt_across_loads(isolated_env):
    first_as_of = load(isolated_env, [record(1, "2026-01-05 10:00:00", 60), record(2, "2026-01-06 11:00:00", 10)])
    c1 = crossings()
    # Already over 50 when first seen: the registration time stands in, flagged estimated.
    assert c1 == {(1, 50): (pd.Timestamp("2026-01-05 10:00:00"), True)}

    second_as_of = load(isolated_env, [record(1, "2026-01-05 10:00:00", 130), record(2, "2026-01-06 11:00:00", 55)])
    c2 = crossings()
    assert second_as_of >= first_as_of
    assert c2[(1, 50)] == (pd.Timestamp("2026-01-05 10:00:00"), True)  # carried, not re-estimated
    assert c2[(1, 100)] == (pd.Timestamp(second_as_of), False)  # crossed between the two loads
    assert c2[(2, 50)] == (pd.Timestamp(second_as_of), False)
    assert (1, 500) not in c2


def test_accountability_clock_and_overdue(isolated_env, monkeypatch):
    load(
        isolated_env,
        [
            record(1, "2026-01-05 10:00:00", 60),  # waiting since 2026-01-05
            record(2, "2026-01-06 11:00:00", 70, answered="Y"),  # answered: not on the clock
            record(3, "2026-01-07 11:00:00", 10),  # below the threshold
        ],
    )
    waiting = queries.run("proposals_waiting", deadline_days=30, category="")
    assert waiting["proposal_id"].tolist() == [1]
    row = waiting.iloc[0]
    as_of = pd.Timestamp(datadir.read_pointer(isolated_env, "proposals")["as_of"])
    assert row["days_waiting"] == (as_of.normalize() - pd.Timestamp("2026-01-05")).days
    assert bool(row["overdue"]) is bool(row["days_waiting"] > 30)
    far = queries.run("proposals_waiting", deadline_days=100_000, category="")
    assert bool(far["overdue"].iloc[0]) is False
    summary = queries.run("proposals_summary", deadline_days=100_000).iloc[0]
    assert (
        summary["proposals"],
        summary["reached_answer"],
        summary["answered_after_reaching"],
        summary["waiting"],
    ) == (3, 2, 1, 1)


def test_invalid_proposals_are_quarantined(isolated_env):
    ctx = RunContext(settings.get(), isolated_env, "test", is_sample=False)
    bad = [record(1, "2026-01-05 10:00:00", 60), record(2, "not a date", 5), record(3, "2026-01-05 10:00:00", -4)]
    result = proposals.transform(bad, ctx)
    assert result.tables[0].frame["proposal_id"].tolist() == [1]
    reasons = dict(zip(result.rejected["row_number"], result.rejected["reason"], strict=True))
    assert "REG_DATE is not a valid datetime" in reasons[2]
    assert "VOTE_CNT is negative" in reasons[3]


def test_sample_has_proposals_over_every_threshold(sample_data_dir):
    totals = funnel_totals()
    assert totals["submitted"] > 1000
    assert totals["submitted"] > totals["reached_answer"] > totals["reached_forum"] >= totals["reached_mayor"] >= 1
