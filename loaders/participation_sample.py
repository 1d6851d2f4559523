"""The bundled sample of the listening forums and the citizen panel, and how their feeds load.

These feeds have no open source: `forums` and `panel` load from files (`python -m loaders import`),
`census` from data/, `panel_draw` from `python -m loaders panel-draw`. `python -m loaders sample`
writes deterministic sample files into the data directory's sample folder and loads them:

- forums.csv: 129 forums from 2011-11 to 2019-06 with exactly 24,267 participants in all (the
  published totals); dates, topics, fields, counts and outcomes are generated, not Seoul's records.
- panel_pool.csv: a generated pool of applicants, skewed the way volunteer pools are (more
  people in their 30s–50s, fewer aged 70+), with enough applicants in every stratum.
- panel.csv: the panel drawn from that pool by the real draw (loaders/panel.py) with
  MAYOR_PANEL_SEED and MAYOR_PANEL_SIZE, with generated attendance and votes.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import datadir
from loaders import census, panel, reference, runner, store
from loaders.runner import RunContext

GENERATOR_VERSION = 1
SEED = 20111124  # around the first listening forum (November 2011)
KINDS = ("bundled", "file", "draw")
FORUMS_TOTAL = 129
PARTICIPANTS_TOTAL = 24_267
FIRST_DAY, LAST_DAY = date(2011, 11, 1), date(2019, 6, 30)
# Forums per year: frequent in the first years, fewer later (sums to 129).
PER_YEAR = {2011: 6, 2012: 32, 2013: 25, 2014: 16, 2015: 14, 2016: 12, 2017: 10, 2018: 8, 2019: 6}
SESSIONS = 6  # plenary sessions of the sample panel

TOPICS = {
    "복지": ["어르신 복지", "장애인 자립생활", "찾아가는 동주민센터", "노숙인 지원", "돌봄 서비스"],
    "교통": ["보행친화도시", "자전거 이용 활성화", "대중교통 요금", "심야버스", "택시 서비스 개선"],
    "주택": ["전월세 대책", "공공임대주택", "뉴타운 출구전략", "주거복지", "공동체주택"],
    "환경": ["원전하나줄이기", "미세먼지 대책", "도시농업", "자원순환", "한강 생태"],
    "일자리": ["청년 일자리", "비정규직 정규직화", "사회적경제", "협동조합", "소상공인 지원"],
    "문화": ["생활문화", "공공도서관", "서울광장 활용", "거리예술", "문화재 보존"],
    "안전": ["여성 안심", "재난 안전", "어린이 안전", "먹거리 안전", "지하철 안전"],
    "교육": ["혁신교육지구", "학교 급식", "평생학습", "청소년 활동", "마을 방과후"],
    "도시재생": ["마을공동체", "도시재생 활성화", "골목상권", "세운상가 재생", "서울역 고가"],
    "시민참여": ["주민참여예산", "시민 제안", "마을계획", "인권 도시", "정보 공개"],
}
FIELD_WEIGHTS = [14, 13, 11, 11, 12, 9, 9, 8, 8, 5]
OUTCOMES = ["정책 반영", "일부 반영", "조례 제정", "예산 반영", "중장기 검토", "검토 후 불수용"]
OUTCOME_WEIGHTS = [34, 24, 8, 14, 14, 6]
# Volunteer pools over-represent middle age: applicants per seat by age band.
POOL_PER_SEAT = {"18-29": 2.6, "30-39": 3.4, "40-49": 3.6, "50-59": 3.2, "60-69": 2.4, "70+": 1.6}


@dataclass(frozen=True)
class SampleFiles:
    forums: Path
    pool: Path
    panel: Path

    def for_feed(self, feed: str) -> Path:
        return {"forums": self.forums, "panel": self.panel, "panel_draw": self.pool}[feed]


def forum_rows(seed: int = SEED) -> list[dict]:
    """129 forums in date order whose participants add up to exactly 24,267."""
    rng = np.random.default_rng(seed)
    fields = list(TOPICS)
    weights = np.array(FIELD_WEIGHTS, dtype=float) / sum(FIELD_WEIGHTS)
    days = []
    for year, n in PER_YEAR.items():
        start = max(FIRST_DAY, date(year, 1, 1))
        end = min(LAST_DAY, date(year, 12, 31))
        span = (end - start).days
        days += sorted(start + timedelta(days=int(d)) for d in rng.choice(span + 1, size=n, replace=False))
    raw = rng.lognormal(mean=0.0, sigma=0.55, size=len(days))
    participants = _apportion(raw, PARTICIPANTS_TOTAL, floor=25)
    used: dict[str, int] = {}
    rows = []
    for i, day in enumerate(days):
        field = fields[rng.choice(len(fields), p=weights)]
        subject = TOPICS[field][rng.integers(len(TOPICS[field]))]
        used[subject] = used.get(subject, 0) + 1
        topic = f"{subject} 청책토론회" + (f" ({used[subject]}차)" if used[subject] > 1 else "")
        outcome = OUTCOMES[rng.choice(len(OUTCOMES), p=np.array(OUTCOME_WEIGHTS) / sum(OUTCOME_WEIGHTS))]
        rows.append(
            {
                "forum_id": str(i + 1),
                "date": day.isoformat(),
                "topic": topic,
                "field": field,
                "participants": str(participants[i]),
                "outcome": outcome,
            }
        )
    return rows


def _apportion(weights: np.ndarray, total: int, floor: int) -> list[int]:
    """Integers >= floor, proportional to weights, summing exactly to total (largest remainder)."""
    spare = total - floor * len(weights)
    exact = weights / weights.sum() * spare
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: spare - base.sum()]] += 1
    return [int(floor + b) for b in base]


def pool_rows(quota: pd.DataFrame, seed: int = SEED) -> list[dict]:
    """Applicants per stratum: the quota times a per-age-band factor, never fewer than the quota."""
    rng = np.random.default_rng(seed + 1)
    names = reference.districts().set_index("sig_cd")["name_ko"]
    people = []
    for row in quota.itertuples(index=False):
        factor = POOL_PER_SEAT[row.age_band] * rng.uniform(0.8, 1.25)
        n = max(int(row.quota), round(float(row.quota * factor)) + int(rng.integers(0, 3)))
        people += [(row.gender, row.age_band, names[row.sig_cd])] * n
    ids = rng.permutation(len(people)) + 1
    width = len(str(len(people)))
    rows = [
        {"applicant_id": f"A{ids[i]:0{width}d}", "gender": g, "age_band": a, "district": d}
        for i, (g, a, d) in enumerate(people)
    ]
    return sorted(rows, key=lambda r: r["applicant_id"])


def panel_rows(members: pd.DataFrame, seed: int = SEED) -> list[dict]:
    """The drawn members with generated attendance (older members attend more) and votes cast."""
    rng = np.random.default_rng(seed + 2)
    attend = {"18-29": 0.55, "30-39": 0.6, "40-49": 0.66, "50-59": 0.72, "60-69": 0.78, "70+": 0.68}
    rows = []
    for m in members.itertuples(index=False):
        p = attend[m.age_band] * (0.0 if rng.random() < 0.06 else 1.0)  # some never come
        sessions = int(rng.binomial(SESSIONS, p))
        votes = int(rng.binomial(sessions, 0.9))
        rows.append(
            {
                "member_id": m.member_id,
                "gender": m.gender,
                "age_band": m.age_band,
                "district": m.district,
                "draw_round": str(m.draw_round),
                "sessions_attended": str(sessions),
                "votes": str(votes),
            }
        )
    return rows


def _write_csv(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def ensure(cfg) -> SampleFiles:
    """Write the sample files unless an identical set is already there."""
    out = datadir.sample_dir(cfg.data_dir)
    files = SampleFiles(out / "forums.csv", out / "panel_pool.csv", out / "panel.csv")
    manifest = {
        "generator": GENERATOR_VERSION,
        "seed": SEED,
        "panel_seed": cfg.panel_seed,
        "panel_size": cfg.panel_size,
        "census_sha256": hashlib.sha256(census.PATH.read_bytes()).hexdigest(),
    }
    manifest_path = out / "participation.json"
    try:
        if json.loads(manifest_path.read_text("utf-8")) == manifest and all(
            p.is_file() for p in (files.forums, files.pool, files.panel)
        ):
            return files
    except (OSError, ValueError):
        pass
    out.mkdir(parents=True, exist_ok=True)
    census_frame = census.table()
    quota = panel.quotas(census_frame, cfg.panel_size)
    pool = pool_rows(quota)
    _write_csv(files.forums, forum_rows())
    _write_csv(files.pool, pool)
    pool_frame = pd.DataFrame(pool).rename(columns={"district": "sig_cd"})
    pool_frame["sig_cd"] = panel.normalise_district(pool_frame["sig_cd"])
    drawn = panel.draw_panel(pool_frame, quota, cfg.panel_seed)
    _write_csv(files.panel, panel_rows(panel.members_frame(drawn)))
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return files


HOW_TO_LOAD = {
    "forums": "no open feed: load a file with `python -m loaders import forums FILE` (or `python -m loaders sample`)",
    "panel": "no open feed: load a file with `python -m loaders import panel FILE` (or `python -m loaders sample`)",
    "panel_draw": "drawn on request: `python -m loaders panel-draw --seed S --pool FILE` (or `python -m loaders sample`)",
}


def refresh(feed, cfg, *, use_sample: bool, read: Callable) -> store.RunRecord:
    """One of these feeds: the census from data/; the others from the sample only when the sample is
    asked for (an ordinary refresh must not replace an imported file with the sample)."""
    if feed.kind == "bundled":
        ctx = RunContext(cfg, cfg.data_dir, "bundled", is_sample=False)
        return runner.run(feed.name, ctx, census.fetch, feed.transform)
    if not use_sample:
        return store.RunRecord(feed=feed.name, source="file", outcome="skipped", message=HOW_TO_LOAD[feed.name])
    files = ensure(cfg)
    ctx = RunContext(cfg, cfg.data_dir, "sample", is_sample=True)
    path = files.for_feed(feed.name)
    if feed.kind == "draw":
        record, _members, _summary = panel.run_draw(
            ctx, path, lambda p: read(feed, p), seed=cfg.panel_seed, size=cfg.panel_size
        )
        return record
    return runner.run(feed.name, ctx, lambda: read(feed, path), feed.transform)


def draw(cfg, pool: Path | None, read: Callable, *, seed: int, size: int, draw_round: int = 1):
    """`python -m loaders panel-draw`: draw from a pool file (default: the sample pool) and publish
    the quotas and seed. Returns (run record, members or None, summary or None)."""
    if pool is None:
        pool = ensure(cfg).pool
        ctx = RunContext(cfg, cfg.data_dir, "sample", is_sample=True)
    else:
        ctx = RunContext(cfg, cfg.data_dir, f"file:{pool.name}", is_sample=False)
    return panel.run_draw(ctx, pool, read, seed=seed, size=size, draw_round=draw_round)
