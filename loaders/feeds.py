"""The feeds this project loads, and how each one is fetched live, from the sample or a file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from loaders import (
    air,
    airbike_sample,  # noqa: F401 (registers the sample's RealtimeCityAir and bikeList answers)
    bikes,
    boundaries,
    census,
    city_sample,  # noqa: F401 (registers the sample's answers for the real-time services)
    citydata,
    complaints,
    forums,
    hotspots,
    panel,
    participation_sample,
    prices,
    proposals,
    reference,
    runner,
    sample,
    traffic,
    traffic_history,
)
from loaders.envelope import Outcome, parse
from loaders.runner import RunContext
from loaders.seoul_api import FetchError, FetchResult, SeoulApi


@dataclass(frozen=True)
class Feed:
    name: str
    kind: str  # seoul: Seoul Open API; reference: files in data/; url: a configured URL
    transform: Callable
    service: str | None = None
    fetch_live: Callable | None = None


FEEDS: dict[str, Feed] = {
    "reference": Feed("reference", "reference", reference.transform),
    "prices": Feed("prices", "seoul", prices.transform, prices.SERVICE, prices.fetch),
    "proposals": Feed("proposals", "seoul", proposals.transform, proposals.SERVICE, proposals.fetch),
    "boundaries": Feed("boundaries", "url", boundaries.transform),
}
SAMPLE_FEEDS = ("reference", "prices", "proposals")  # what `sample` builds; boundaries need the network

# Listening forums and the citizen panel have no open feed (loaders/participation_sample.py):
# bundled: a file in data/; file: `import FEED FILE` or the sample; draw: `panel-draw` or the sample.
FEEDS |= {
    "census": Feed("census", "bundled", census.transform),
    "forums": Feed("forums", "file", forums.transform),
    "panel": Feed("panel", "file", panel.transform),
    "panel_draw": Feed("panel_draw", "draw", panel.draw_transform),
}
SAMPLE_FEEDS += ("census", "forums", "panel", "panel_draw")

# Real-time feeds: their sample answers the replayed moment of the recorded day (loaders/replay.py).
FEEDS |= {
    "air": Feed("air", "seoul", air.transform, air.SERVICE, air.fetch),
    "bikes": Feed("bikes", "seoul", bikes.transform, bikes.SERVICE, bikes.fetch),
}
SAMPLE_FEEDS += ("air", "bikes")
IMPORTABLE_KINDS = ("seoul", "file")

# Real-time city (issue 3). realtime: Seoul Open API, one call per hotspot or road link, never
# imported from a file; hotspots: data/hotspots.csv, with coordinates derived from citydata's links.
FEEDS |= {
    "citydata": Feed("citydata", "realtime", citydata.transform, citydata.SERVICE, citydata.fetch),
    "traffic": Feed("traffic", "realtime", traffic.transform, traffic.SERVICE, traffic.fetch),
    "hotspots": Feed("hotspots", "reference", hotspots.transform, fetch_live=hotspots.fetch),
}
# bulk: large files imported in DuckDB, never row by row (`import FEED FILE`) or the sample: TOPIS
# monthly speed files, and complaint exports (issue 4).
BULK = {"traffic_history": traffic_history, "complaints": complaints}
FEEDS |= {name: Feed(name, "bulk", module.transform) for name, module in BULK.items()}
SAMPLE_FEEDS += ("citydata", "traffic", "hotspots", "traffic_history", "complaints")
IMPORTABLE_KINDS += ("bulk",)


def replayable(feed: Feed) -> bool:
    """A feed whose sample moves with the replay clock (its service has a live sample handler)."""
    return feed.kind in ("seoul", "realtime") and feed.service in sample.LIVE_HANDLERS


def ensure_sample(cfg) -> Path:
    return sample.generate(cfg.data_dir, date.fromisoformat(cfg.sample_end_date), cfg.sample_weeks)


def refresh(feed: Feed, cfg, *, use_sample: bool | None = None, source: str = "sample"):
    """Run one feed: live when an API key is set, otherwise from the bundled sample (recorded as
    `source`: "replay" when the watcher replays the sample's recorded day)."""
    if feed.kind == "bulk":
        return BULK[feed.name].refresh(cfg, use_sample=use_sample is True)
    if feed.kind in participation_sample.KINDS:
        return participation_sample.refresh(feed, cfg, use_sample=use_sample is True, read=read_file_rows)
    if use_sample is None:
        use_sample = not cfg.api_key
    if feed.kind == "reference":
        ctx = RunContext(cfg, cfg.data_dir, "bundled", is_sample=False)
        return runner.run(feed.name, ctx, feed.fetch_live or reference.fetch, feed.transform)
    if feed.kind == "url":
        ctx = RunContext(cfg, cfg.data_dir, "live", is_sample=False)
        return runner.run(feed.name, ctx, lambda: boundaries.fetch(cfg), feed.transform)
    if use_sample:
        ensure_sample(cfg)
        api = SeoulApi(
            cfg, key=sample.KEY, base_url=sample.BASE_URL, session_factory=lambda: sample.session(cfg.data_dir)
        )
        ctx = RunContext(cfg, cfg.data_dir, source, is_sample=True)
    else:
        api = SeoulApi(cfg)
        ctx = RunContext(cfg, cfg.data_dir, "live", is_sample=False)
    return runner.run(feed.name, ctx, lambda: feed.fetch_live(api), feed.transform)


def read_file_rows(feed: Feed, path: Path) -> FetchResult:
    """Rows from a local file in the feed's wire format (JSON or XML envelope, or a JSON list of
    records) or CSV with the wire field names as headers (UTF-8, UTF-8 with BOM, or CP949)."""
    raw = path.read_bytes()
    if path.suffix.lower() == ".csv":
        for encoding in ("utf-8-sig", "cp949"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FetchError(Outcome.PERMANENT, f"{path.name}: neither UTF-8 nor CP949 text")
        rows = list(csv.DictReader(io.StringIO(text)))
        return FetchResult(feed.name, "INFO-000", "", len(rows), rows)
    stripped = raw.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"["):
        rows = json.loads(stripped)
        return FetchResult(feed.name, "INFO-000", "", len(rows), rows)
    try:
        env = parse(raw, feed.service or feed.name)
    except ValueError as e:
        raise FetchError(Outcome.PERMANENT, f"{path.name}: {e}") from None
    if env.outcome not in (Outcome.OK, Outcome.NO_DATA):
        raise FetchError(env.outcome, f"{path.name}: the file holds result {env.code}", env.code)
    if env.total is not None and env.total != len(env.rows) and env.outcome is Outcome.OK:
        raise FetchError(
            Outcome.UNKNOWN, f"{path.name}: list_total_count is {env.total} but the file holds {len(env.rows)} rows"
        )
    return FetchResult(feed.name, env.code, env.message, len(env.rows), env.rows)


def import_file(feed: Feed, cfg, path: Path):
    if feed.kind == "bulk":
        return BULK[feed.name].run_import(cfg, path, source=f"file:{path.name}", is_sample=False)
    ctx = RunContext(cfg, cfg.data_dir, f"file:{path.name}", is_sample=False)
    return runner.run(feed.name, ctx, lambda: read_file_rows(feed, path), feed.transform)
