"""Road speed per link: TOPIS `TrafficInfo`, with names from `LinkInfo`.

`.../xml/TrafficInfo/1/5/{LINK_ID}` answers XML only, one link per call, in lowercase tags
(`link_id`, `prcs_spd` km/h, `prcs_trv_time` s) and without a time: the speed belongs to the
five-minute cycle of the fetch. The links asked are those of MAYOR_TRAFFIC_LINKS, then the links
the serving city data reports around the hotspots, taken in turn from every hotspot, up to
MAYOR_TRAFFIC_MAX_LINKS. Names (`road_name`, `st_node_nm`, `ed_node_nm`, `map_dist`) come from
`LinkInfo` and are cached in the data directory for MAYOR_LINKINFO_MAX_AGE_S, since they change
rarely; a link whose names cannot be fetched still publishes its speed.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

import datadir
from loaders import fanout, replay, roads, store
from loaders.contract import Column, Contract
from loaders.envelope import Outcome
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchError, FetchResult, SeoulApi

log = logging.getLogger(__name__)

FEED = "traffic"
SERVICE = "TrafficInfo"
NAMES_SERVICE = "LinkInfo"
NAME_FIELDS = ("road_name", "st_node_nm", "ed_node_nm", "map_dist")
SEOUL = ZoneInfo("Asia/Seoul")
CYCLE_S = 300

CONTRACT = Contract(
    [
        Column("link_id", ("link_id",), "text", "VARCHAR"),
        Column("road_name", ("road_name",), "text", "VARCHAR", required=False),
        Column("start_node", ("st_node_nm",), "text", "VARCHAR", required=False),
        Column("end_node", ("ed_node_nm",), "text", "VARCHAR", required=False),
        Column(
            "distance_m",
            ("map_dist",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s > 0,
            check_reason="map_dist is not a positive length",
        ),
        Column(
            "speed_kmh",
            ("prcs_spd",),
            "number",
            "DOUBLE",
            check=lambda s: s.between(0, 200),
            check_reason="prcs_spd is not a speed between 0 and 200 km/h",
        ),
        Column(
            "travel_time_s",
            ("prcs_trv_time",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s >= 0,
            check_reason="prcs_trv_time is negative",
        ),
    ],
    key=("link_id",),
)
PUBLISHED = {
    "link_id": "VARCHAR",
    "road_name": "VARCHAR",
    "start_node": "VARCHAR",
    "end_node": "VARCHAR",
    "distance_m": "DOUBLE",
    "speed_kmh": "DOUBLE",
    "travel_time_s": "DOUBLE",
    "level": "VARCHAR",
    "measured_at": "TIMESTAMP",
}


def configured_links(cfg) -> list[str]:
    return [x.strip() for x in cfg.traffic_links.split(",") if x.strip()]


def hotspot_links(data_dir) -> list[str]:
    """The serving city data's links, one from each hotspot in turn, so a cap keeps every hotspot."""
    pointer = datadir.read_pointer(data_dir, "citydata")
    if not pointer or "road_links" not in pointer["rows"]:
        return []
    con = duckdb.connect(str(datadir.feed_dir(data_dir, "citydata") / pointer["file"]), read_only=True)
    try:
        frame = con.execute(
            "SELECT link_id FROM road_links "
            "ORDER BY row_number() OVER (PARTITION BY area_code ORDER BY link_id), area_code, link_id"
        ).fetchall()
    finally:
        con.close()
    return [link for (link,) in frame]


def links_to_ask(cfg) -> list[str]:
    ordered = list(dict.fromkeys(configured_links(cfg) + hotspot_links(cfg.data_dir)))
    return ordered[: max(0, cfg.traffic_max_links)]


def _names_path(data_dir) -> os.PathLike:
    return datadir.cache_dir(data_dir) / "link_names.json"


def read_names(data_dir) -> dict[str, dict]:
    try:
        names = json.loads(_names_path(data_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return names if isinstance(names, dict) else {}


def write_names(data_dir, names: dict[str, dict]) -> None:
    path = _names_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(names, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


def fetch(api: SeoulApi) -> FetchResult:
    cfg = api.cfg
    links = links_to_ask(cfg)
    if not links:
        raise FetchError(
            Outcome.PERMANENT,
            "no road links to ask: refresh citydata first (its links around the hotspots) or set MAYOR_TRAFFIC_LINKS",
        )
    fetched_at = datetime.now(SEOUL).replace(tzinfo=None).isoformat(timespec="seconds")
    deadline = time.monotonic() + cfg.fetch_deadline_s
    speeds = fanout.ask_each(api, SERVICE, links, fmt="xml", deadline=deadline)
    fanout.raise_if_too_many_failed(speeds, SERVICE, "links", cfg)
    names = read_names(cfg.data_dir)
    now = time.time()
    answered = [a.item for a in speeds.answers if a.outcome == "ok"]
    stale = [x for x in answered if now - names.get(x, {}).get("fetched_at", 0) > cfg.linkinfo_max_age_s]
    name_state = dict.fromkeys(answered, "cached")
    requests = speeds.requests
    if stale:
        info = fanout.ask_each(api, NAMES_SERVICE, stale, fmt="xml", deadline=deadline)
        requests += info.requests
        for a in info.answers:
            if a.outcome == "ok" and a.envelope.rows:
                row = a.envelope.rows[0]
                names[a.item] = {k: row.get(k) for k in NAME_FIELDS} | {"fetched_at": now}
                name_state[a.item] = "fetched"
            else:
                name_state[a.item] = f"{a.outcome}: {a.message}"
        if info.aborted_code:
            log.warning("LinkInfo refused the request (%s); road names come from the cache only", info.aborted_code)
        write_names(cfg.data_dir, names)
    rows = []
    for a in speeds.answers:
        row = {"link_id": a.item, "outcome": a.outcome, "api_code": a.code, "message": a.message}
        if a.outcome == "ok" and a.envelope.rows:
            speed = a.envelope.rows[0]
            cached = {k: v for k, v in names.get(a.item, {}).items() if k in NAME_FIELDS}
            row |= {k: v for k, v in speed.items() if k != "link_id"} | cached
            row |= {"fetched_at": fetched_at, "names": name_state.get(a.item)}
        elif a.outcome == "ok":
            row["outcome"] = "no_data"
        rows.append(row)
    ok = sum(r["outcome"] == "ok" for r in rows)
    return FetchResult(
        SERVICE, "INFO-000" if ok else "INFO-200", f"{ok} of {len(rows)} links answered", len(rows), rows, requests
    )


def cycle_time(ctx: RunContext, fetched_at: str | None) -> pd.Timestamp:
    """The five-minute cycle the speeds belong to: the replay step in the sample, else the fetch
    time (KST) floored to five minutes."""
    if ctx.is_sample:
        step = replay.current_step(datadir.sample_dir(ctx.data_dir))
        return pd.Timestamp(replay.step_time(date.fromisoformat(ctx.cfg.sample_end_date), step))
    moment = pd.Timestamp(fetched_at) if fetched_at else pd.Timestamp(datetime.now(SEOUL).replace(tzinfo=None))
    return moment.floor(f"{CYCLE_S}s")


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    answered = [r for r in records if r.get("outcome") == "ok"]
    result = CONTRACT.apply(answered)
    clean = result.clean
    clean["level"] = roads.levels_for(clean["speed_kmh"], clean["road_name"])
    fetched = next((r.get("fetched_at") for r in answered if r.get("fetched_at")), None)
    measured = cycle_time(ctx, fetched)
    clean["measured_at"] = measured
    outcomes = pd.Series([r.get("outcome") for r in records]).value_counts()
    names = pd.Series([r.get("names") or "none" for r in answered], dtype="object")
    return Transformed(
        tables=[store.Table("link_speeds", PUBLISHED, clean.sort_values("link_id", ignore_index=True))],
        rejected=result.rejected,
        received=result.received,
        as_of=measured.isoformat(),
        extra={
            "links": {k: int(outcomes.get(k, 0)) for k in ("ok", "no_data", "failed")},
            "names": {
                "cached": int((names == "cached").sum()),
                "fetched": int((names == "fetched").sum()),
                "missing": int((~names.isin(["cached", "fetched"])).sum()),
            },
        },
    )
