"""The citizen panel (서울시민회의): members imported from a file, and the reproducible stratified
draw that picks them from a pool of applicants.

There is no open feed for the panel, so members arrive as CSV (schema in the README, "Citizen
panel"): member id, gender, age band, district, draw round, sessions attended, votes. Genders,
age bands and districts are normalised against the census reference (data/census_seoul.csv).

The draw (`python -m loaders panel-draw --seed S`):
1. quotas: for each district × gender × age band of the census, exact = size × population / total;
   each stratum gets floor(exact), and the seats left go one each to the strata with the largest
   remainders (ties: stratum order sig_cd, gender, age_band). Integer arithmetic, so no float ties.
2. draw: the valid pool is sorted by applicant id (as text), `numpy.random.default_rng(seed)`
   deals one key `rng.random()` to each applicant in that order, and each stratum takes its quota
   of applicants with the lowest keys (all of them when it has fewer applicants than its quota).
Same seed, pool and census: the same panel, every time. The draw publishes its seed, quotas and
SHA-256 fingerprints of the pool file and of the drawn member ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from loaders import census, reference, runner, store
from loaders.contract import Column, Contract, ContractResult
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchResult

FEED = "panel"
DRAW_FEED = "panel_draw"
STRATUM = ["sig_cd", "gender", "age_band"]
METHOD = (
    "largest-remainder quotas by district × gender × age band of the census; pool sorted by applicant_id "
    "(text order); numpy.random.default_rng(seed).random() deals one key per applicant in that order; each "
    "stratum draws its quota of lowest keys"
)
GENDER_WORDS = {
    "M": "M",
    "MALE": "M",
    "남": "M",
    "남성": "M",
    "남자": "M",
    "F": "F",
    "FEMALE": "F",
    "여": "F",
    "여성": "F",
    "여자": "F",
}
CSV_COLUMNS = ["member_id", "gender", "age_band", "district", "draw_round", "sessions_attended", "votes"]


def _at_least(n: int) -> Callable[[pd.Series], pd.Series]:
    return lambda s: s >= n


MEMBERS = Contract(
    [
        Column("member_id", ("member_id", "회원번호", "id"), "text", "VARCHAR"),
        Column("gender", ("gender", "성별"), "text", "VARCHAR"),
        Column("age_band", ("age_band", "연령대", "age", "연령"), "text", "VARCHAR"),
        Column("district", ("district", "자치구", "sig_cd"), "text", "VARCHAR"),
        Column(
            "draw_round",
            ("draw_round", "추첨차수"),
            "int",
            "INTEGER",
            required=False,
            check=_at_least(1),
            check_reason="draw_round must be 1 or more",
        ),
        Column(
            "sessions_attended",
            ("sessions_attended", "참석회차"),
            "int",
            "INTEGER",
            required=False,
            check=_at_least(0),
            check_reason="sessions_attended is negative",
        ),
        Column(
            "votes",
            ("votes", "투표수"),
            "int",
            "INTEGER",
            required=False,
            check=_at_least(0),
            check_reason="votes is negative",
        ),
    ],
    key=("member_id",),
)
PUBLISHED = {
    "member_id": "VARCHAR",
    "gender": "VARCHAR",
    "age_band": "VARCHAR",
    "sig_cd": "VARCHAR",
    "district_name": "VARCHAR",
    "draw_round": "INTEGER",
    "sessions_attended": "INTEGER",
    "votes": "INTEGER",
}

POOL = Contract(
    [
        Column("applicant_id", ("applicant_id", "신청번호", "member_id"), "text", "VARCHAR"),
        Column("gender", ("gender", "성별"), "text", "VARCHAR"),
        Column("age_band", ("age_band", "연령대", "age", "연령"), "text", "VARCHAR"),
        Column("district", ("district", "자치구", "sig_cd"), "text", "VARCHAR"),
    ],
    key=("applicant_id",),
)
QUOTAS = {
    "seed": "BIGINT",
    "sig_cd": "VARCHAR",
    "district_name": "VARCHAR",
    "gender": "VARCHAR",
    "age_band": "VARCHAR",
    "census_population": "BIGINT",
    "exact_quota": "DOUBLE",
    "quota": "INTEGER",
    "remainder_seat": "BOOLEAN",
}
DRAW = {
    "seed": "BIGINT",
    "panel_size": "INTEGER",
    "draw_round": "INTEGER",
    "pool_file": "VARCHAR",
    "pool_rows": "BIGINT",
    "pool_sha256": "VARCHAR",
    "drawn": "BIGINT",
    "drawn_sha256": "VARCHAR",
    "strata": "INTEGER",
    "strata_short": "INTEGER",
    "seats_short": "BIGINT",
    "census_year": "INTEGER",
    "method": "VARCHAR",
    "numpy_version": "VARCHAR",
}


# --- normalising demographics -----------------------------------------------------------------


def normalise_gender(raw: pd.Series) -> pd.Series:
    return raw.str.strip().str.upper().map(GENDER_WORDS).astype("string")


def normalise_age_band(raw: pd.Series, bands: list[str]) -> pd.Series:
    """A census band as written ('30-39', '70+', '30~39'), or an age in whole years ('34')."""
    text = raw.str.strip().str.replace(r"\s*[~–]\s*", "-", regex=True).str.removesuffix("세")
    out = text.where(text.isin(bands))
    ages = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,3}").fillna(False)), errors="coerce")
    for band in bands:
        lo, hi = census.band_bounds(band)
        out = out.mask(out.isna() & ages.between(lo, hi), band)
    return out.astype("string")


def normalise_district(raw: pd.Series) -> pd.Series:
    """SIG_CD from a SIG_CD, a Korean name (종로구) or an English name (Jongno-gu)."""
    ref = reference.districts()
    lookup = {c: c for c in ref["sig_cd"]}
    lookup |= dict(zip(ref["name_ko"], ref["sig_cd"], strict=True))
    lookup |= {n.lower(): c for n, c in zip(ref["name_en"], ref["sig_cd"], strict=True)}
    text = raw.str.strip()
    return text.map(lookup).fillna(text.str.lower().map(lookup)).astype("string")


def _demographics(result: ContractResult, bands: list[str]) -> None:
    """Normalise gender, age band and district in place, rejecting rows that do not fit the census."""
    clean = result.clean
    clean["gender_norm"] = normalise_gender(clean["gender"])
    clean["age_norm"] = normalise_age_band(clean["age_band"], bands)
    clean["sig_cd"] = normalise_district(clean["district"])
    problems: list[list[str]] = [[] for _ in range(len(clean))]
    for col, source, what in (
        ("gender_norm", "gender", "gender"),
        ("age_norm", "age_band", f"age band (one of {', '.join(bands)}, or an age)"),
        ("sig_cd", "district", "district"),
    ):
        for i in np.flatnonzero(clean[col].isna().to_numpy()):
            problems[i].append(f"unknown {what}: {clean[source].iloc[i]}")
    reasons = pd.Series(["; ".join(p) for p in problems], index=clean.index, dtype="object")
    result.reject(reasons != "", reasons)
    result.clean["gender"] = result.clean.pop("gender_norm")
    result.clean["age_band"] = result.clean.pop("age_norm")


def _bands(census_frame: pd.DataFrame) -> list[str]:
    return sorted(census_frame["age_band"].unique())


# --- members ----------------------------------------------------------------------------------


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    census_frame = census.table()
    result = MEMBERS.apply(records)
    _demographics(result, _bands(census_frame))
    clean = result.clean
    clean["district_name"] = clean["sig_cd"].map(reference.districts().set_index("sig_cd")["name_ko"])
    clean["draw_round"] = clean["draw_round"].fillna(1)
    for col in ("sessions_attended", "votes"):
        # A file without the column predates the sessions: 0. A blank, "-" or "점검중" cell is
        # unknown and stays NULL, never 0.
        if result.sources[col] is None:
            clean[col] = 0
    return Transformed(
        tables=[store.Table("panel_members", PUBLISHED, clean.sort_values("member_id", ignore_index=True))],
        rejected=result.rejected,
        received=result.received,
    )


# --- the draw ---------------------------------------------------------------------------------


def quotas(census_frame: pd.DataFrame, size: int) -> pd.DataFrame:
    """Seats per district × gender × age band, proportional to the census, summing to `size`
    (largest remainder; ties broken by stratum order)."""
    if size < 1:
        raise ValueError("the panel size must be at least 1")
    cells = (
        census_frame.groupby(STRATUM, as_index=False)
        .agg(census_population=("population", "sum"), district_name=("district_name", "first"))
        .sort_values(STRATUM, ignore_index=True)
    )
    population = [int(p) for p in cells["census_population"]]
    total = sum(population)
    if total <= 0:
        raise ValueError("the census holds no people")
    floors = [p * size // total for p in population]
    remainders = [p * size % total for p in population]
    left = size - sum(floors)
    # Python ints: exact remainders, so ranking never depends on float rounding.
    order = sorted(range(len(cells)), key=lambda i: (-remainders[i], i))
    extra = set(order[:left])
    cells["exact_quota"] = [p * size / total for p in population]
    cells["quota"] = [f + (1 if i in extra else 0) for i, f in enumerate(floors)]
    cells["remainder_seat"] = [i in extra for i in range(len(cells))]
    return cells


def draw_panel(pool: pd.DataFrame, quota: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The drawn applicants (pool rows), sorted by applicant id. See the module docstring."""
    ordered = pool.sort_values("applicant_id", key=lambda s: s.astype(str), ignore_index=True)
    rng = np.random.default_rng(seed)
    ordered["_key"] = rng.random(len(ordered))
    ranked = ordered.sort_values(["_key", "applicant_id"], ignore_index=True)
    ranked["_rank"] = ranked.groupby(STRATUM, sort=False).cumcount()
    ranked = ranked.merge(quota[[*STRATUM, "quota"]], on=STRATUM, how="inner")
    drawn = ranked[ranked["_rank"] < ranked["quota"]]
    return drawn.drop(columns=["_key", "_rank", "quota"]).sort_values("applicant_id", ignore_index=True)


def fingerprint(ids) -> str:
    """SHA-256 of the sorted ids joined by newlines (the panel page computes the same in SQL)."""
    return hashlib.sha256("\n".join(sorted(str(i) for i in ids)).encode("utf-8")).hexdigest()


def members_frame(drawn: pd.DataFrame, draw_round: int = 1) -> pd.DataFrame:
    """The drawn applicants in the panel's import schema (sessions and votes not yet held: 0)."""
    names = reference.districts().set_index("sig_cd")["name_ko"]
    return pd.DataFrame(
        {
            "member_id": drawn["applicant_id"].astype(str),
            "gender": drawn["gender"],
            "age_band": drawn["age_band"],
            "district": drawn["sig_cd"].map(names),
            "draw_round": draw_round,
            "sessions_attended": 0,
            "votes": 0,
        }
    )[CSV_COLUMNS]


def draw_transform(
    records: list[dict],
    ctx: RunContext,
    *,
    seed: int,
    size: int,
    draw_round: int,
    pool_path: Path,
    census_frame: pd.DataFrame | None = None,
    out: dict | None = None,
) -> Transformed:
    """Validate the pool, compute quotas, draw; publishes `panel_draw` and `panel_quotas` and
    leaves the drawn members in `out["members"]`."""
    census_frame = census.table() if census_frame is None else census_frame
    result = POOL.apply(records)
    _demographics(result, _bands(census_frame))
    pool = result.clean[["applicant_id", *STRATUM]]
    quota = quotas(census_frame, size)
    drawn = draw_panel(pool, quota, seed)
    counts = drawn.groupby(STRATUM).size().rename("drawn")
    filled = quota.join(counts, on=STRATUM)["drawn"].fillna(0)
    short = (quota["quota"] - filled).clip(lower=0)
    summary = pd.DataFrame(
        [
            {
                "seed": seed,
                "panel_size": size,
                "draw_round": draw_round,
                "pool_file": pool_path.name,
                "pool_rows": len(pool),
                "pool_sha256": hashlib.sha256(pool_path.read_bytes()).hexdigest(),
                "drawn": len(drawn),
                "drawn_sha256": fingerprint(drawn["applicant_id"]),
                "strata": len(quota),
                "strata_short": int((short > 0).sum()),
                "seats_short": int(short.sum()),
                "census_year": int(census_frame["reference_year"].max()),
                "method": METHOD,
                "numpy_version": np.__version__,
            }
        ]
    )
    if out is not None:
        out["members"] = members_frame(drawn, draw_round)
        out["summary"] = summary.iloc[0].to_dict()
    return Transformed(
        tables=[
            store.Table("panel_draw", DRAW, summary),
            store.Table("panel_quotas", QUOTAS, quota.assign(seed=seed)),
        ],
        rejected=result.rejected,
        received=result.received,
        extra={"seed": seed, "panel_size": size, "drawn": len(drawn), "seats_short": int(short.sum())},
    )


def run_draw(
    ctx: RunContext,
    pool_path: Path,
    read: Callable[[Path], FetchResult],
    *,
    seed: int,
    size: int,
    draw_round: int = 1,
) -> tuple[store.RunRecord, pd.DataFrame | None, dict | None]:
    """Draw from the pool file and publish the quotas and seed: (run record, members, summary).
    Members are None when the run failed or was rejected (nothing is published then)."""
    out: dict = {}

    def transform(records, run_ctx):
        return draw_transform(
            records, run_ctx, seed=seed, size=size, draw_round=draw_round, pool_path=pool_path, out=out
        )

    record = runner.run(DRAW_FEED, ctx, lambda: read(pool_path), transform)
    if record.outcome not in ("ok", "unchanged"):
        return record, None, None
    return record, out.get("members"), out.get("summary")
