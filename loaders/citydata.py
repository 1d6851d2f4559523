"""Seoul's real-time city data for every hotspot: `citydata`, or `citydata_ppltn` for crowds only.

One call per hotspot of data/hotspots.csv (`.../json/citydata/1/5/{AREA_NM}`), MAYOR_FETCH_WORKERS
at a time. Every hotspot's answer is published in `hotspot_fetch` (ok, no_data for INFO-200,
failed with the code and message); the others still load unless more than MAYOR_MAX_FAILED_SHARE
failed. Quirks handled (../shared/seoul-open-api.md): the dotted RESULT envelope, a block that
comes as a dict or as a list, ROAD_TRAFFIC_TIME also spelt ROAD_TRFFIC_TIME, an empty link list,
every value a string with "", "-" and "점검중" meaning missing, XYLIST as `lon_lat|lon_lat|...`.

MAYOR_CITYDATA_MODE=population asks `citydata_ppltn` instead (a few kB per hotspot rather than a
few hundred): crowd and forecast tables are refreshed, the road, accident and weather tables of the
serving version are carried over unchanged.

`city_speed_log` is learnt across loads, as proposals learn their crossings: each refresh reads
the serving log, appends the city mean of this refresh and keeps 8 days.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import duckdb
import pandas as pd

import datadir
from loaders import fanout, hotspots, roads, store
from loaders.contract import Column, Contract
from loaders.runner import RunContext, Transformed, in_future
from loaders.seoul_api import FetchResult, SeoulApi

FEED = "citydata"
SERVICE = "citydata"
PPLTN_SERVICE = "citydata_ppltn"
PPLTN_KEYS = ("SeoulRtd.citydata_ppltn", "citydata_ppltn")
CONGESTION_RANK = {"여유": 1, "보통": 2, "약간 붐빔": 3, "붐빔": 4}
_CONGESTION_SPELLINGS = {"여유": "여유", "보통": "보통", "약간붐빔": "약간 붐빔", "붐빔": "붐빔", "매우붐빔": "붐빔"}
LOG_DAYS = 8
MAX_SPEED_KMH = 200  # above any road speed in Seoul; catches unit slips


def _pct(name: str, wire: str) -> Column:
    return Column(
        name,
        (wire,),
        "number",
        "DOUBLE",
        required=False,
        check=lambda s: s.between(0, 100),
        check_reason=f"{wire} is not a percentage",
    )


def _non_negative(name: str, wire: str, required: bool = False) -> Column:
    return Column(
        name, (wire,), "int", "BIGINT", required=required, check=lambda s: s >= 0, check_reason=f"{wire} is negative"
    )


def _speed(name: str, wire: str) -> Column:
    return Column(
        name,
        (wire,),
        "number",
        "DOUBLE",
        required=False,
        check=lambda s: s.between(0, MAX_SPEED_KMH),
        check_reason=f"{wire} is not a speed between 0 and {MAX_SPEED_KMH} km/h",
    )


def _congestion(name: str, wire: str) -> Column:
    return Column(
        name,
        (wire,),
        "text",
        "VARCHAR",
        check=lambda s: s.isin(list(CONGESTION_RANK)),
        check_reason=f"{wire} is not one of {', '.join(CONGESTION_RANK)}",
    )


def _road_level(name: str, wire: str) -> Column:
    return Column(
        name,
        (wire,),
        "text",
        "VARCHAR",
        required=False,
        check=lambda s: s.isin(roads.LEVELS),
        check_reason=f"{wire} is not one of {', '.join(roads.LEVELS)}",
    )


def _coordinate(name: str, wire: str, bounds: tuple[float, float]) -> Column:
    return Column(
        name,
        (wire,),
        "number",
        "DOUBLE",
        required=False,
        check=lambda s: s.between(*bounds),
        check_reason=f"{wire} lies outside Seoul",
    )


AREA = Column("area_code", ("AREA_CD",), "text", "VARCHAR")

CROWD = Contract(
    [
        AREA,
        Column("area_name", ("AREA_NM",), "text", "VARCHAR"),
        _congestion("congestion_level", "AREA_CONGEST_LVL"),
        Column("congestion_message", ("AREA_CONGEST_MSG",), "text", "VARCHAR", required=False),
        _non_negative("population_min", "AREA_PPLTN_MIN"),
        _non_negative("population_max", "AREA_PPLTN_MAX"),
        _pct("male_pct", "MALE_PPLTN_RATE"),
        _pct("female_pct", "FEMALE_PPLTN_RATE"),
        *[_pct(f"age_{a}_pct", f"PPLTN_RATE_{a}") for a in range(0, 80, 10)],
        _pct("resident_pct", "RESNT_PPLTN_RATE"),
        _pct("non_resident_pct", "NON_RESNT_PPLTN_RATE"),
        Column("measured_at", ("PPLTN_TIME",), "datetime", "TIMESTAMP"),
    ]
)
FORECAST = Contract(
    [
        AREA,
        Column("measured_at", ("PPLTN_TIME",), "datetime", "TIMESTAMP"),
        Column("forecast_at", ("FCST_TIME",), "datetime", "TIMESTAMP"),
        _congestion("congestion_level", "FCST_CONGEST_LVL"),
        _non_negative("population_min", "FCST_PPLTN_MIN"),
        _non_negative("population_max", "FCST_PPLTN_MAX"),
    ]
)
AVG_ROAD = Contract(
    [
        AREA,
        Column("area_name", ("AREA_NM",), "text", "VARCHAR"),
        _speed("avg_speed_kmh", "ROAD_TRAFFIC_SPD"),
        _road_level("traffic_index", "ROAD_TRAFFIC_IDX"),
        Column("message", ("ROAD_MSG",), "text", "VARCHAR", required=False),
        Column("measured_at", ("ROAD_TRAFFIC_TIME",), "datetime", "TIMESTAMP"),
    ]
)
LINKS = Contract(
    [
        Column("link_id", ("LINK_ID",), "text", "VARCHAR"),
        AREA,
        Column("road_name", ("ROAD_NM",), "text", "VARCHAR", required=False),
        Column("start_node", ("START_ND_NM",), "text", "VARCHAR", required=False),
        Column("end_node", ("END_ND_NM",), "text", "VARCHAR", required=False),
        Column(
            "distance_m",
            ("DIST",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s > 0,
            check_reason="DIST is not a positive length",
        ),
        _speed("speed_kmh", "SPD"),
        _road_level("level", "IDX"),
        Column("path", ("_PATH",), "text", "VARCHAR", required=False),
        Column("measured_at", ("ROAD_TRAFFIC_TIME",), "datetime", "TIMESTAMP"),
        Column("xy_problem", ("_XY_PROBLEM",), "text", "VARCHAR", required=False),
    ]
)
EVENTS = Contract(
    [
        AREA,
        Column("kind", ("ACDNT_TYPE",), "text", "VARCHAR", required=False),
        Column("detail", ("ACDNT_DTYPE",), "text", "VARCHAR", required=False),
        Column("info", ("ACDNT_INFO",), "text", "VARCHAR", required=False),
        Column("occurred_at", ("ACDNT_OCCR_DT",), "datetime", "TIMESTAMP"),
        Column("expected_clear_at", ("EXP_CLR_DT",), "datetime", "TIMESTAMP", required=False),
        _coordinate("lon", "ACDNT_X", hotspots.LON_RANGE),
        _coordinate("lat", "ACDNT_Y", hotspots.LAT_RANGE),
    ]
)
WEATHER = Contract(
    [
        AREA,
        Column("measured_at", ("WEATHER_TIME",), "datetime", "TIMESTAMP"),
        Column(
            "temp_c",
            ("TEMP",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s.between(-40, 50),
            check_reason="TEMP is not a plausible temperature",
        ),
        _pct("humidity_pct", "HUMIDITY"),
        Column("precipitation", ("PRECIPITATION",), "text", "VARCHAR", required=False),
        Column(
            "pm10",
            ("PM10",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s.between(0, 2000),
            check_reason="PM10 is out of range",
        ),
        Column(
            "pm25",
            ("PM25",),
            "number",
            "DOUBLE",
            required=False,
            check=lambda s: s.between(0, 1000),
            check_reason="PM25 is out of range",
        ),
        Column("pm10_grade", ("PM10_INDEX",), "text", "VARCHAR", required=False),
        Column("pm25_grade", ("PM25_INDEX",), "text", "VARCHAR", required=False),
        Column("air_grade", ("AIR_IDX",), "text", "VARCHAR", required=False),
    ]
)

HOTSPOT_CROWD = {
    "area_code": "VARCHAR",
    "area_name": "VARCHAR",
    "congestion_level": "VARCHAR",
    "congestion_rank": "INTEGER",
    "congestion_message": "VARCHAR",
    "population_min": "BIGINT",
    "population_max": "BIGINT",
    "male_pct": "DOUBLE",
    "female_pct": "DOUBLE",
    **{f"age_{a}_pct": "DOUBLE" for a in range(0, 80, 10)},
    "resident_pct": "DOUBLE",
    "non_resident_pct": "DOUBLE",
    "measured_at": "TIMESTAMP",
}
HOTSPOT_FORECAST = {
    "area_code": "VARCHAR",
    "measured_at": "TIMESTAMP",
    "forecast_at": "TIMESTAMP",
    "congestion_level": "VARCHAR",
    "congestion_rank": "INTEGER",
    "population_min": "BIGINT",
    "population_max": "BIGINT",
}
HOTSPOT_TRAFFIC = AVG_ROAD.sql_types
ROAD_LINKS = {k: v for k, v in LINKS.sql_types.items() if k != "xy_problem"}
ROAD_EVENTS = {"event_id": "VARCHAR", **EVENTS.sql_types}
HOTSPOT_WEATHER = WEATHER.sql_types
HOTSPOT_FETCH = {
    "area_code": "VARCHAR",
    "area_name": "VARCHAR",
    "outcome": "VARCHAR",
    "api_code": "VARCHAR",
    "message": "VARCHAR",
}
CITY_SPEED_LOG = {"measured_at": "TIMESTAMP", "avg_speed_kmh": "DOUBLE", "hotspots": "INTEGER"}
# Tables the population mode does not refresh: carried from the serving version.
ROAD_TABLES = {
    "hotspot_traffic": HOTSPOT_TRAFFIC,
    "road_links": ROAD_LINKS,
    "road_events": ROAD_EVENTS,
    "hotspot_weather": HOTSPOT_WEATHER,
}


def _one(block) -> dict | None:
    """A block meant to hold one record, sent as the record or as a list of one."""
    if isinstance(block, list):
        block = next((b for b in block if isinstance(b, dict)), None)
    return block if isinstance(block, dict) else None


def _many(block) -> list[dict]:
    if isinstance(block, dict):
        return [block]
    if isinstance(block, list):
        return [b for b in block if isinstance(b, dict)]
    return []


def _scalars(record: dict) -> dict:
    return {k: v for k, v in record.items() if not isinstance(v, (list, dict))}


def _congestion_spelling(value):
    if isinstance(value, str):
        return _CONGESTION_SPELLINGS.get("".join(value.split()), value.strip())
    return value


def payload(env, service: str) -> dict | None:
    """The hotspot's record in an answer: CITYDATA, or the citydata_ppltn row."""
    if env is None:
        return None
    if service == PPLTN_SERVICE:
        for key in PPLTN_KEYS:
            if key in env.body:
                return _one(env.body[key])
        return None
    return _one(env.body.get("CITYDATA"))


def fetch(api: SeoulApi) -> FetchResult:
    cfg = api.cfg
    service = PPLTN_SERVICE if cfg.citydata_mode == "population" else SERVICE
    spots = hotspots.listed()
    fanned = fanout.ask_each(api, service, spots["area_name"].tolist())
    rows = []
    for (code, name), answer in zip(
        spots[["area_code", "area_name"]].itertuples(index=False), fanned.answers, strict=True
    ):
        data = payload(answer.envelope, service)
        if answer.outcome == "ok" and data is None:
            answer.outcome, answer.message = "failed", f"{answer.code} without the {service} record in the answer"
        rows.append(
            {
                "area_code": code,
                "area_name": name,
                "service": service,
                "outcome": answer.outcome,
                "api_code": answer.code,
                "message": answer.message,
                "data": data,
            }
        )
    fanout.raise_if_too_many_failed(fanned, service, "hotspots", cfg)
    ok = fanned.count("ok")
    return FetchResult(
        service,
        "INFO-000" if ok else "INFO-200",
        f"{ok} of {len(rows)} hotspots answered with data",
        len(rows),
        rows,
        fanned.requests,
    )


def flatten(records: list[dict]) -> dict[str, list[dict]]:
    """The wire records of each block, each tagged with the hotspot code asked for (the key the
    hotspot list and every table share)."""
    out: dict[str, list[dict]] = {k: [] for k in ("crowd", "forecast", "avg_road", "links", "events", "weather")}
    for r in records:
        data = r.get("data")
        if r.get("outcome") != "ok" or not isinstance(data, dict):
            continue
        code = r["area_code"]
        name = data.get("AREA_NM") or r["area_name"]
        population = data if r.get("service") == PPLTN_SERVICE else _one(data.get("LIVE_PPLTN_STTS"))
        if population is not None:
            crowd = _scalars(population) | {"AREA_CD": code, "AREA_NM": population.get("AREA_NM") or name}
            crowd["AREA_CONGEST_LVL"] = _congestion_spelling(crowd.get("AREA_CONGEST_LVL"))
            out["crowd"].append(crowd)
            for f in _many(population.get("FCST_PPLTN")):
                forecast = _scalars(f) | {"AREA_CD": code, "PPLTN_TIME": population.get("PPLTN_TIME")}
                forecast["FCST_CONGEST_LVL"] = _congestion_spelling(forecast.get("FCST_CONGEST_LVL"))
                out["forecast"].append(forecast)
        _flatten_roads(data, code, name, out)
        for event in _many(data.get("ACDNT_CNTRL_STTS")):
            event = _scalars(event)
            if not any(str(v).strip() for v in event.values() if v is not None):
                continue  # an empty placeholder record, not an event
            clear = event.get("EXP_CLR_DT")
            if isinstance(clear, str) and not any(ch.isdigit() for ch in clear):
                event["EXP_CLR_DT"] = None  # e.g. 미정 (not known yet)
            out["events"].append(event | {"AREA_CD": code})
        weather = _one(data.get("WEATHER_STTS"))
        if weather is not None:
            out["weather"].append(_scalars(weather) | {"AREA_CD": code})
    return out


def _flatten_roads(data: dict, code: str, name: str, out: dict) -> None:
    block = data.get("ROAD_TRAFFIC_STTS")
    avg, links = None, []
    if isinstance(block, list) and any(isinstance(b, dict) and "LINK_ID" in b for b in block):
        links, avg = _many(block), _one(data.get("AVG_ROAD_DATA"))  # links sent straight as the block
    else:
        block = _one(block)
        if block is not None:
            avg, links = _one(block.get("AVG_ROAD_DATA")), _many(block.get("ROAD_TRAFFIC_STTS"))
        else:
            avg = _one(data.get("AVG_ROAD_DATA"))
    road_time = None
    if avg is not None:
        avg = _scalars(avg)
        road_time = avg.get("ROAD_TRAFFIC_TIME") or avg.get("ROAD_TRFFIC_TIME")
        out["avg_road"].append(avg | {"AREA_CD": code, "AREA_NM": name, "ROAD_TRAFFIC_TIME": road_time})
    for link in links:
        link = _scalars(link)
        points, problem = roads.parse_xylist(link.get("XYLIST"))
        ends = [link.get(k) for k in ("START_ND_XY", "END_ND_XY")]
        if points is None and problem is None and all(isinstance(e, str) and e.strip() for e in ends):
            points, problem = roads.parse_xylist("|".join(ends))  # no XYLIST: a straight line end to end
        out["links"].append(
            link
            | {
                "AREA_CD": code,
                "ROAD_TRAFFIC_TIME": link.get("ROAD_TRAFFIC_TIME") or road_time,
                "_PATH": roads.path_json(points),
                "_XY_PROBLEM": problem,
            }
        )


def _rejected(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame.assign(reason=name + ": " + frame["reason"])


def event_ids(frame: pd.DataFrame) -> pd.Series:
    """Stable across refreshes and hotspots: the same accident reported near two hotspots, or in
    two refreshes, keeps one id."""
    keys = (
        frame["occurred_at"].astype("string").fillna("")
        + "|"
        + frame["kind"].fillna("")
        + "|"
        + frame["lon"].round(5).astype("string").fillna("")
        + "|"
        + frame["lat"].round(5).astype("string").fillna("")
    )
    return keys.map(lambda k: hashlib.sha1(k.encode("utf-8")).hexdigest()[:16]).astype("string")


def serving_tables(data_dir, names: dict[str, dict[str, str]]) -> dict[str, pd.DataFrame]:
    """The named tables of the serving citydata version (empty frames where there is none)."""
    pointer = datadir.read_pointer(data_dir, FEED)
    frames = {n: pd.DataFrame({c: pd.Series(dtype="object") for c in cols}) for n, cols in names.items()}
    if not pointer:
        return frames
    con = duckdb.connect(str(datadir.feed_dir(data_dir, FEED) / pointer["file"]), read_only=True)
    try:
        for name in names:
            if name in pointer["rows"]:
                frames[name] = con.execute(f'SELECT * FROM "{name}"').df()
    finally:
        con.close()
    return frames


def speed_log(previous: pd.DataFrame, traffic: pd.DataFrame) -> pd.DataFrame:
    """The serving log plus this refresh's city mean (replacing a row of the same time), 8 days."""
    log = previous[list(CITY_SPEED_LOG)].copy()
    log["measured_at"] = pd.to_datetime(log["measured_at"])
    now = traffic.dropna(subset=["avg_speed_kmh", "measured_at"])
    if not now.empty:
        row = pd.DataFrame(
            {
                "measured_at": [now["measured_at"].max()],
                "avg_speed_kmh": [round(float(now["avg_speed_kmh"].mean()), 2)],
                "hotspots": [len(now)],
            }
        )
        log = pd.concat([log[log["measured_at"] != row["measured_at"].iloc[0]], row], ignore_index=True)
    if log.empty:
        return log
    newest = log["measured_at"].max()
    log = log[log["measured_at"] > newest - timedelta(days=LOG_DAYS)]
    # One dtype per column whatever the source (this refresh, or the serving file), so an identical
    # refresh hashes identically and publishes nothing.
    log = log.astype({"measured_at": "datetime64[us]", "avg_speed_kmh": "float64", "hotspots": "int64"})
    return log.sort_values("measured_at", ignore_index=True)


def reject_future(result, ctx: RunContext, column: str, wire: str) -> None:
    """A measurement time after now goes to quarantine (runner.in_future)."""
    times = result.clean[column]
    result.reject(in_future(times, ctx), f"{wire} is in the future: " + times.astype("string").fillna(""))


def transform(records: list[dict], ctx: RunContext) -> Transformed:
    blocks = flatten(records)
    crowd = CROWD.apply(blocks["crowd"])
    reject_future(crowd, ctx, "measured_at", "PPLTN_TIME")
    c = crowd.clean
    crowd.reject(
        c["population_min"].notna() & c["population_max"].notna() & (c["population_min"] > c["population_max"]),
        "AREA_PPLTN_MIN is above AREA_PPLTN_MAX",
    )
    crowd.clean["congestion_rank"] = crowd.clean["congestion_level"].map(CONGESTION_RANK).astype("Int64")
    forecast = FORECAST.apply(blocks["forecast"])
    reject_future(forecast, ctx, "measured_at", "PPLTN_TIME")
    forecast.clean["congestion_rank"] = forecast.clean["congestion_level"].map(CONGESTION_RANK).astype("Int64")
    forecast.clean = forecast.clean.drop_duplicates(["area_code", "forecast_at"], keep="first")

    population_only = any(r.get("service") == PPLTN_SERVICE for r in records)
    previous = serving_tables(ctx.data_dir, {**ROAD_TABLES, "city_speed_log": CITY_SPEED_LOG})
    checked = [("LIVE_PPLTN_STTS", crowd), ("FCST_PPLTN", forecast)]
    if population_only:
        road_tables = {name: previous[name] for name in ROAD_TABLES}
        log = previous["city_speed_log"]
    else:
        road_tables, log, more = _road_tables(blocks, previous["city_speed_log"], ctx)
        checked += more
    hotspot_fetch = pd.DataFrame([{k: r.get(k) for k in HOTSPOT_FETCH} for r in records], columns=list(HOTSPOT_FETCH))
    tables = [
        store.Table("hotspot_crowd", HOTSPOT_CROWD, crowd.clean.sort_values("area_code", ignore_index=True)),
        store.Table(
            "hotspot_forecast",
            HOTSPOT_FORECAST,
            forecast.clean.sort_values(["area_code", "forecast_at"], ignore_index=True),
        ),
        *[store.Table(name, ROAD_TABLES[name], frame) for name, frame in road_tables.items()],
        store.Table("hotspot_fetch", HOTSPOT_FETCH, hotspot_fetch),
        store.Table("city_speed_log", CITY_SPEED_LOG, log),
    ]
    times = [crowd.clean["measured_at"].max()]
    if not population_only:
        times.append(pd.to_datetime(road_tables["hotspot_traffic"]["measured_at"]).max())
    as_of = max((t for t in times if pd.notna(t)), default=None)
    outcomes = hotspot_fetch["outcome"].value_counts()
    return Transformed(
        tables=tables,
        rejected=pd.concat([_rejected(name, r.rejected) for name, r in checked], ignore_index=True),
        received=sum(r.received for _name, r in checked),
        as_of=None if as_of is None else as_of.isoformat(),
        extra={
            "service": PPLTN_SERVICE if population_only else SERVICE,
            "hotspots": {k: int(outcomes.get(k, 0)) for k in ("ok", "no_data", "failed")},
        },
    )


def _road_tables(blocks: dict, previous_log: pd.DataFrame, ctx: RunContext):
    avg = AVG_ROAD.apply(blocks["avg_road"])
    reject_future(avg, ctx, "measured_at", "ROAD_TRAFFIC_TIME")
    links = LINKS.apply(blocks["links"])
    reject_future(links, ctx, "measured_at", "ROAD_TRAFFIC_TIME")
    links.reject(links.clean["xy_problem"].notna(), "XYLIST: " + links.clean["xy_problem"].fillna(""))
    lc = links.clean.drop_duplicates("link_id", keep="first").reset_index(drop=True)
    lc["level"] = lc["level"].fillna(roads.levels_for(lc["speed_kmh"], lc["road_name"]))
    events = EVENTS.apply(blocks["events"])
    ev = events.clean
    ev["event_id"] = event_ids(ev)
    ev = ev.drop_duplicates("event_id", keep="first")
    weather = WEATHER.apply(blocks["weather"])
    reject_future(weather, ctx, "measured_at", "WEATHER_TIME")
    traffic = avg.clean.sort_values("area_code", ignore_index=True)
    if ctx.is_sample and previous_log.empty:
        from loaders import city_sample  # the sample seeds the log with its recorded day so far

        previous_log = city_sample.recorded_day_log(ctx.data_dir, before=traffic["measured_at"].max())
    tables = {
        "hotspot_traffic": traffic,
        "road_links": lc.sort_values("link_id", ignore_index=True),
        "road_events": ev.sort_values(["occurred_at", "event_id"], ignore_index=True),
        "hotspot_weather": weather.clean.sort_values("area_code", ignore_index=True),
    }
    checked = [
        ("AVG_ROAD_DATA", avg),
        ("ROAD_TRAFFIC_STTS", links),
        ("ACDNT_CNTRL_STTS", events),
        ("WEATHER_STTS", weather),
    ]
    return tables, speed_log(previous_log, traffic), checked
