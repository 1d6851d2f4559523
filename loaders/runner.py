"""One loader run: fetch, validate against the feed's contract, quarantine, publish, record.

Every run, whatever happens, appends a run record. Nothing is published unless the whole snapshot
arrived and passed validation, so the last good version keeps serving after any failure.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import datadir
import settings
from loaders import store
from loaders.envelope import Outcome
from loaders.seoul_api import FetchError, FetchResult, IncompleteSnapshot

log = logging.getLogger(__name__)
SEOUL = "Asia/Seoul"  # naive times in the warehouse are Seoul time


@dataclass
class Transformed:
    tables: list[store.Table]
    rejected: pd.DataFrame
    received: int
    as_of: str | None = None
    extra: dict = field(default_factory=dict)
    # Set when the data broke an invariant of the whole snapshot; the rejected rows are still
    # quarantined before the run is rejected.
    reject_reason: str | None = None
    # Rows rejected in all, when `rejected` holds only the first of them (a bulk import keeps a
    # bounded quarantine).
    rejected_total: int | None = None

    @property
    def rejected_count(self) -> int:
        return len(self.rejected) if self.rejected_total is None else self.rejected_total

    @property
    def invalid_share(self) -> float:
        return self.rejected_count / self.received if self.received else 0.0


@dataclass
class RunContext:
    cfg: object
    data_dir: Path
    source: str  # live | sample | file:<name>
    is_sample: bool


# A measurement dated more than this after now is a slip at the source (a wrong year, a clock), not
# data: published, it would become the feed's as-of time, and every real refresh after it would be
# refused as older than the serving version.
FUTURE_TOLERANCE = pd.Timedelta(hours=1)


def in_future(times: pd.Series, ctx: RunContext) -> pd.Series:
    """Rows whose measurement time (naive Seoul time) lies in the future. The sample is exempt: its
    recorded day is fixed by MAYOR_SAMPLE_END_DATE, whatever the clock says."""
    if ctx.is_sample or times.empty:
        return pd.Series(False, index=times.index)
    now = pd.Timestamp.now(tz=SEOUL).tz_localize(None)
    return pd.to_datetime(times) > now + FUTURE_TOLERANCE


class Rejected(Exception):
    """The data arrived but must not be published (too many invalid rows, a broken invariant)."""


def run(
    feed: str,
    ctx: RunContext,
    fetch: Callable[[], FetchResult],
    transform: Callable[[list[dict], RunContext], Transformed],
) -> store.RunRecord:
    record = store.RunRecord(feed=feed, source=ctx.source, run_id=store.new_run_id(feed))
    record.started_at = store.now_utc().isoformat(timespec="milliseconds")
    try:
        with store.feed_lock(ctx.data_dir, feed):
            _run_locked(feed, ctx, fetch, transform, record)
    except store.FeedBusy as e:
        record.outcome, record.message = "skipped", str(e)
    except FetchError as e:
        record.outcome = "rejected" if isinstance(e, IncompleteSnapshot) else "failed"
        record.api_code = record.api_code or e.code
        record.message = e.reason
        record.extra["failure_kind"] = e.outcome.value
    except Rejected as e:
        record.outcome, record.message = "rejected", str(e)
    except Exception as e:  # the run log must say what happened, whatever it was
        log.exception("unexpected failure in %s", feed)
        record.outcome, record.message = "failed", f"{type(e).__name__}: {e}"
        record.extra["failure_kind"] = Outcome.UNKNOWN.value
    record.message = settings.redact(record.message, ctx.cfg.api_key)
    record.finished_at = store.now_utc().isoformat(timespec="milliseconds")
    store.append_run(ctx.data_dir, record)
    return record


def run_staged_import(
    feed: str, cfg, path: Path, fetch: Callable, transform: Callable, *, source: str, is_sample: bool
):
    """One bulk file import (traffic history, complaints): `fetch(path, db)` stages the file in
    DuckDB and returns a FetchResult whose rows hold the open staging connection (`.con`);
    `transform` builds the tables to publish in the staging database `db`, in the feed's folder, so
    publishing adopts it without a copy. Staging files of a killed import are swept first, and this
    run's leftovers are removed whatever happens."""
    feed_dir = datadir.feed_dir(cfg.data_dir, feed)
    feed_dir.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - store.GRACE_S
    for stale in feed_dir.glob(".staging-*"):
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)
    db = feed_dir / f".staging-{os.getpid()}-{time.monotonic_ns()}.duckdb"
    ctx = RunContext(cfg, cfg.data_dir, source, is_sample=is_sample)
    staged = []

    def fetch_staged() -> FetchResult:
        result = fetch(path, db)
        staged.append(result.rows)
        return result

    try:
        return run(feed, ctx, fetch_staged, transform)
    finally:
        for s in staged:  # a run that stopped before the transform leaves it open
            s.con.close()
        for leftover in (db, Path(f"{db}.wal"), db.with_suffix(".utf8.csv")):
            leftover.unlink(missing_ok=True)


def _most_common_reason(rejected: pd.DataFrame) -> str:
    """The reason shared by most rejected rows, so a run log line says what went wrong (a renamed
    or withdrawn field rejects every row for the same reason)."""
    reasons = rejected["reason"].astype(str).str.split("; ").explode() if len(rejected) else pd.Series(dtype=str)
    if reasons.empty:
        return "no reason recorded"
    counts = reasons.value_counts(sort=False)  # first-seen order breaks ties
    top = counts.idxmax()
    return f"{top} ({counts[top]:,} rows)"


def _reject_collapse(feed: str, ctx: RunContext, result: Transformed) -> None:
    """A source that suddenly answers with far fewer rows (a half-filled table on their side) would
    otherwise replace good data while looking internally consistent."""
    if ctx.source != "live":  # sample rebuilds and file imports are deliberate
        return
    serving = datadir.read_pointer(ctx.data_dir, feed)
    if not serving or serving.get("is_sample"):  # the sample's size says nothing about the live feed
        return
    before = sum(serving["rows"].values())
    after = sum(len(t.frame) for t in result.tables)
    if before and after < before * (1 - ctx.cfg.max_row_drop):
        raise Rejected(
            f"rows fell from {before:,} to {after:,} (more than MAYOR_MAX_ROW_DROP {ctx.cfg.max_row_drop:.0%}); "
            "the serving version is kept"
        )


def _seoul_time(value: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_convert(SEOUL).tz_localize(None) if ts.tzinfo is not None else ts


def _reject_stale(feed: str, ctx: RunContext, result: Transformed) -> None:
    """A live answer older than the serving version is an old snapshot served again (a cache or a
    rollback on their side); publishing it would move the pages back in time."""
    if ctx.source != "live" or not result.as_of:
        return
    serving = datadir.read_pointer(ctx.data_dir, feed)
    if not serving or serving.get("is_sample") or not serving.get("as_of"):
        return
    if _seoul_time(result.as_of) < _seoul_time(serving["as_of"]):
        raise Rejected(
            f"as of {result.as_of} is older than the serving version ({serving['as_of']}); the serving version is kept"
        )


def _run_locked(feed, ctx, fetch, transform, record: store.RunRecord) -> None:
    leftovers = store.clear_interrupted(ctx.data_dir, feed)
    if leftovers:  # a run killed mid-publish could not log itself: this run says so
        record.extra["interrupted"] = leftovers
        log.warning("%s: removed what an interrupted run left behind: %s", feed, ", ".join(leftovers))
    fetched = fetch()
    record.api_code = fetched.code
    record.rows_received = len(fetched.rows)
    record.extra["requests"] = fetched.requests
    if fetched.outcome is Outcome.NO_DATA or not fetched.rows:
        record.outcome = "no_data"
        record.message = "the source answered with no rows; the serving data is unchanged"
        return
    result = transform(fetched.rows, ctx)
    record.rows_quarantined = result.rejected_count
    record.as_of = result.as_of
    record.extra.update(result.extra)
    store.write_quarantine(ctx.data_dir, feed, record.run_id, result.rejected)
    if result.reject_reason:
        raise Rejected(result.reject_reason)
    limit = ctx.cfg.max_invalid_share
    if result.invalid_share > limit:
        raise Rejected(
            f"{result.rejected_count:,} of {result.received:,} rows failed validation "
            f"({result.invalid_share:.0%} > MAYOR_MAX_INVALID_SHARE {limit:.0%}); "
            f"most often: {_most_common_reason(result.rejected)}; see the quarantine for the rest"
        )
    if not any(len(t.frame) for t in result.tables):
        raise Rejected(f"no row passed validation; most often: {_most_common_reason(result.rejected)}")
    _reject_collapse(feed, ctx, result)
    _reject_stale(feed, ctx, result)
    version = store.publish(
        ctx.data_dir,
        feed,
        result.tables,
        run_id=record.run_id,
        as_of=result.as_of,
        is_sample=ctx.is_sample,
        source=ctx.source,
        keep_versions=ctx.cfg.keep_versions,
    )
    record.rows_loaded = sum(len(t.frame) for t in result.tables)
    record.version = version
    record.outcome = "ok" if version else "unchanged"
    if not version:
        record.message = "identical to the serving version; nothing republished"
