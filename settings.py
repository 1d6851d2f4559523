"""Every setting in one table: name, environment variable, default and help.

Settings are read from the environment each time `get()` is called, so tests and the
loader CLI see changes without a restart. The API key may also come from
`.streamlit/secrets.toml`; it is never printed, logged or shown (see `redact`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

PROJECT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str
    kind: type = str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        "MAYOR_DATA_DIR",
        "var",
        "Where published snapshots, the run log, quarantine and the sample live. Relative paths "
        "are taken from the project folder. Several app processes may share one data directory.",
    ),
    Setting(
        "api_base_url",
        "SEOUL_API_BASE_URL",
        "http://openapi.seoul.go.kr:8088",
        "Base URL of Seoul's Open API. Point it at a local server to test loaders.",
    ),
    Setting(
        "api_key",
        "SEOUL_API_KEY",
        "",
        "Seoul Open API key (also read from `.streamlit/secrets.toml`). Empty: loaders read the "
        "bundled sample and every page says so.",
        secret=True,
    ),
    Setting(
        "connect_timeout_s",
        "MAYOR_CONNECT_TIMEOUT_S",
        "5",
        "Seconds to wait for a connection to the API.",
        float,
    ),
    Setting(
        "read_timeout_s",
        "MAYOR_READ_TIMEOUT_S",
        "20",
        "Seconds to wait for the next bytes of an answer before giving up on that request.",
        float,
    ),
    Setting(
        "request_deadline_s",
        "MAYOR_REQUEST_DEADLINE_S",
        "60",
        "Overall seconds for one request including its whole body; stops a server that drips bytes.",
        float,
    ),
    Setting(
        "fetch_deadline_s",
        "MAYOR_FETCH_DEADLINE_S",
        "900",
        "Overall seconds for one feed fetch: every page and every retry.",
        float,
    ),
    Setting(
        "max_body_bytes",
        "MAYOR_MAX_BODY_BYTES",
        "20000000",
        "Largest answer body accepted from the API, in bytes.",
        int,
    ),
    Setting(
        "retry_attempts",
        "MAYOR_RETRY_ATTEMPTS",
        "4",
        "Attempts per request for transient failures (server errors, timeouts, ERROR-500/600/601).",
        int,
    ),
    Setting(
        "retry_backoff_max_s",
        "MAYOR_RETRY_BACKOFF_MAX_S",
        "30",
        "Longest wait between two retries, in seconds (exponential backoff with jitter up to this).",
        float,
    ),
    Setting(
        "retry_after_cap_s",
        "MAYOR_RETRY_AFTER_CAP_S",
        "60",
        "A server's Retry-After is honoured up to this many seconds.",
        float,
    ),
    Setting(
        "max_invalid_share",
        "MAYOR_MAX_INVALID_SHARE",
        "0.2",
        "A load whose share of rows failing validation is above this is rejected whole "
        "(the rows still go to quarantine) and the last good data keeps serving.",
        float,
    ),
    Setting(
        "max_row_drop",
        "MAYOR_MAX_ROW_DROP",
        "0.5",
        "A live refresh whose rows fall by more than this share against the serving version is rejected "
        "as a collapsed snapshot (0.5: losing half the rows). Sample rebuilds and file imports are exempt.",
        float,
    ),
    Setting(
        "keep_versions",
        "MAYOR_KEEP_VERSIONS",
        "3",
        "Published versions kept per feed, newest first, so readers of older versions finish safely.",
        int,
    ),
    Setting(
        "snapshot_check_s",
        "MAYOR_SNAPSHOT_CHECK_S",
        "2",
        "How often, at most, a reader looks for a newly published version, in seconds.",
        float,
    ),
    Setting(
        "cadence_prices_s",
        "MAYOR_CADENCE_PRICES_S",
        "86400",
        "Refresh cadence of the prices feed, in seconds (the markets are surveyed twice a week).",
        int,
    ),
    Setting(
        "cadence_air_s",
        "MAYOR_CADENCE_AIR_S",
        "3600",
        "Refresh cadence of the air-quality feed (RealtimeCityAir), in seconds (the stations report hourly).",
        int,
    ),
    Setting(
        "cadence_bikes_s",
        "MAYOR_CADENCE_BIKES_S",
        "300",
        "Refresh cadence of the public-bike feed (bikeList), in seconds.",
        int,
    ),
    Setting(
        "cadence_boundaries_s",
        "MAYOR_CADENCE_BOUNDARIES_S",
        "2592000",
        "Refresh cadence of the district boundaries, in seconds.",
        int,
    ),
    Setting(
        "boundaries_url",
        "MAYOR_BOUNDARIES_URL",
        "https://raw.githubusercontent.com/southkorea/seoul-maps/master/juso/2015/json/"
        "seoul_municipalities_geo_simple.json",
        "GeoJSON of the 25 district boundaries, fetched by `python -m loaders refresh boundaries`. "
        "Without it, district views draw a tile-grid map.",
    ),
    Setting(
        "sample_end_date",
        "MAYOR_SAMPLE_END_DATE",
        "2026-11-19",
        "Last survey date in the bundled sample (the sample is deterministic, not dated by today).",
    ),
    Setting(
        "sample_weeks",
        "MAYOR_SAMPLE_WEEKS",
        "64",
        "Weeks of price history in the bundled sample.",
        int,
    ),
    Setting(
        "sample_complaint_rows",
        "MAYOR_SAMPLE_COMPLAINT_ROWS",
        "300000",
        "Complaints in the bundled sample (a year up to the sample's last day, written as a CP949 CSV "
        "and imported like a real export). `python -m loaders sample-complaints --rows N` writes up to "
        "16,000,000 for benchmarks.",
        int,
    ),
    Setting(
        "console_max_rows",
        "MAYOR_CONSOLE_MAX_ROWS",
        "1000",
        "Rows the SQL console and `python -m queries sql` show at most; more is flagged as truncated.",
        int,
    ),
    Setting(
        "console_max_bytes",
        "MAYOR_CONSOLE_MAX_BYTES",
        "5000000",
        "Bytes a SQL console answer may hold (text counted in UTF-8); the rows past it are left off and "
        "the answer says so, so huge values never travel to the browser. Checked in the query's child "
        "process, row by row, together with MAYOR_CONSOLE_MAX_ROWS.",
        int,
    ),
    Setting(
        "console_max_sql_chars",
        "MAYOR_CONSOLE_MAX_SQL_CHARS",
        "20000",
        "Longest user SQL accepted, in characters; checked before anything parses it.",
        int,
    ),
    Setting(
        "console_timeout_s",
        "MAYOR_CONSOLE_TIMEOUT_S",
        "5",
        "Seconds a user SQL query may run before its child process is killed.",
        float,
    ),
    Setting(
        "console_memory_mb",
        "MAYOR_CONSOLE_MEMORY_MB",
        "1536",
        "Address-space limit (RLIMIT_AS) of the child process that runs a user SQL query, in MB.",
        int,
    ),
    Setting(
        "console_max_concurrent",
        "MAYOR_CONSOLE_MAX_CONCURRENT",
        "2",
        "User SQL queries that may run at once in one app process (each session runs one at a time).",
        int,
    ),
    Setting(
        "export_max_rows",
        "MAYOR_EXPORT_MAX_ROWS",
        "100000",
        "Rows an export (CSV, Parquet, JSON) may hold; a larger selection is refused with a message.",
        int,
    ),
    Setting(
        "threshold_rules",
        "MAYOR_THRESHOLD_RULES",
        "2017-01-01=50/500/5000;2020-03-01=50/100/1000",
        "Democracy Seoul answer thresholds, dated: `FROM=ANSWER/FORUM/MAYOR;...`. A proposal is judged "
        "by the rule in force on its registration date (agrees for a department answer, agrees to open "
        "a public forum, forum participants for the mayor's answer).",
    ),
    Setting(
        "answer_deadline_days",
        "MAYOR_ANSWER_DEADLINE_DAYS",
        "30",
        "Days a proposal may wait for its answer after crossing the answer threshold before it is flagged overdue.",
        int,
    ),
    Setting(
        "cadence_proposals_s",
        "MAYOR_CADENCE_PROPOSALS_S",
        "3600",
        "Refresh cadence of the citizen proposals feed, in seconds.",
        int,
    ),
    Setting(
        "watch_max_run_s",
        "MAYOR_WATCH_MAX_RUN_S",
        "1200",
        "`python -m loaders watch` stops a feed's run that takes longer than this many seconds, records it as "
        "failed and tries again later (keep it above MAYOR_FETCH_DEADLINE_S).",
        float,
    ),
    Setting(
        "watch_retry_s",
        "MAYOR_WATCH_RETRY_S",
        "600",
        "After a failed or rejected run, the watcher tries the feed again after this many seconds, or after its "
        "cadence when that is shorter.",
        float,
    ),
    Setting(
        "replay",
        "MAYOR_REPLAY",
        "auto",
        "Replay of the sample's recorded day by `python -m loaders watch` (and `make run`): `auto` replays when "
        "no API key is set, `on` always (sample data only), `off` never. Pages say so while it runs.",
    ),
    Setting(
        "replay_step_s",
        "MAYOR_REPLAY_STEP_S",
        "30",
        "Seconds of real time per five-minute step of the replayed day (30: the day passes in 2.4 hours).",
        float,
    ),
    Setting(
        "cache_ttl_s",
        "MAYOR_CACHE_TTL_S",
        "60",
        "Seconds a page keeps a query result before asking the warehouse again.",
        int,
    ),
    Setting(
        "live_refresh_s",
        "MAYOR_LIVE_REFRESH_S",
        "60",
        "Seconds between redraws of the live panels (traffic, crowds) while a page is open; only those "
        "panels rerun, not the whole page.",
        int,
    ),
    Setting(
        "stale_after_cadences",
        "MAYOR_STALE_AFTER_CADENCES",
        "2",
        "A real-time feed is marked stale once its newest measurement is older than this many refresh "
        "cadences (2: one missed refresh on top of the source's own publishing delay); a slow feed (cadence "
        "over an hour) once its last successful load is. Sample data is never stale.",
        float,
    ),
    Setting(
        "crowd_alert_hours",
        "MAYOR_CROWD_ALERT_HOURS",
        "3",
        "Hours ahead of a hotspot's latest population reading in which a forecast of 붐빔 (busy) raises a "
        "crowd alert, with nearby calmer hotspots suggested.",
        int,
    ),
    Setting(
        "panel_min_cell",
        "MAYOR_PANEL_MIN_CELL",
        "10",
        "Smallest number of citizen-panel members a demographic cell may show (k): cells with fewer are "
        "suppressed in every panel view and export, with complementary cells so totals cannot reveal them.",
        int,
    ),
    Setting(
        "panel_size",
        "MAYOR_PANEL_SIZE",
        "3000",
        "Seats of the citizen panel (서울시민회의): the default size of `python -m loaders panel-draw` and of "
        "the sample panel.",
        int,
    ),
    Setting(
        "panel_seed",
        "MAYOR_PANEL_SEED",
        "20200701",
        "Default seed of the stratified panel draw (`python -m loaders panel-draw --seed`); the sample panel is "
        "drawn with it. The same seed, pool and census always draw the same panel.",
        int,
    ),
    Setting(
        "screen_rotate_s",
        "MAYOR_SCREEN_ROTATE_S",
        "45",
        "Wall-screen mode (`?screen=1`): seconds each page stays before the next; a screen's link may set "
        "its own with `&every=N` (at least 5).",
        int,
    ),
    Setting(
        "screen_pages",
        "MAYOR_SCREEN_PAGES",
        "seoul-at-a-glance",
        "Wall-screen mode: the url paths of the pages it rotates through, comma-separated; a screen's link "
        "may set its own with `&pages=a,b,c`.",
    ),
    Setting(
        "cadence_citydata_s",
        "MAYOR_CADENCE_CITYDATA_S",
        "300",
        "Refresh cadence of the real-time city data (crowds, roads, accidents and weather at about 120 hotspots), "
        "in seconds; the source updates every five minutes.",
        int,
    ),
    Setting(
        "cadence_traffic_s",
        "MAYOR_CADENCE_TRAFFIC_S",
        "300",
        "Refresh cadence of the per-link road speeds (TrafficInfo), in seconds; TOPIS updates every five minutes.",
        int,
    ),
    Setting(
        "citydata_mode",
        "MAYOR_CITYDATA_MODE",
        "full",
        "`full`: ask `citydata` for each hotspot (crowds, roads, accidents, weather). `population`: ask the much "
        "lighter `citydata_ppltn` and refresh only the crowd and forecast tables, keeping the road, accident and "
        "weather tables of the serving version as they are.",
    ),
    Setting(
        "fetch_workers",
        "MAYOR_FETCH_WORKERS",
        "6",
        "Requests in flight at once for feeds asked one item per call (citydata per hotspot, TrafficInfo and "
        "LinkInfo per road link).",
        int,
    ),
    Setting(
        "max_failed_share",
        "MAYOR_MAX_FAILED_SHARE",
        "0.5",
        "For feeds asked one item per call: a refresh where more than this share of the calls failed is a failed "
        "run and the serving data stays; below it, what answered is published and every failure is recorded.",
        float,
    ),
    Setting(
        "traffic_links",
        "MAYOR_TRAFFIC_LINKS",
        "",
        "Road link ids (comma-separated) the traffic feed asks besides the links the city data reports around "
        "the hotspots.",
    ),
    Setting(
        "traffic_max_links",
        "MAYOR_TRAFFIC_MAX_LINKS",
        "600",
        "Most road links the traffic feed asks per refresh (one TrafficInfo call each): the configured links "
        "first, then the hotspots' links, taken in turn from every hotspot.",
        int,
    ),
    Setting(
        "linkinfo_max_age_s",
        "MAYOR_LINKINFO_MAX_AGE_S",
        "604800",
        "Road names and lengths from LinkInfo are kept this many seconds (they change rarely); a link is asked "
        "again once its entry is older.",
        int,
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
REPLAY_MODES = ("auto", "on", "off")
CITYDATA_MODES = ("full", "population")


_secrets_read: tuple[tuple, dict] = ((), {})


def _secrets_file_value(env: str) -> str:
    """A secret from .streamlit/secrets.toml. `get()` runs many times per page run, so the file is
    parsed again only when its size or modification time changes (a stat, not a read)."""
    global _secrets_read
    path = PROJECT_DIR / ".streamlit" / "secrets.toml"
    try:
        info = path.stat()
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp != _secrets_read[0]:
            with path.open("rb") as f:
                _secrets_read = (stamp, tomllib.load(f))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return str(_secrets_read[1].get(env, ""))


def _raw(setting: Setting) -> str:
    value = os.environ.get(setting.env)
    if value is None and setting.secret:
        value = _secrets_file_value(setting.env)
    return setting.default if value in (None, "") else value


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def data_dir() -> Path:
    """MAYOR_DATA_DIR alone: readers ask for it on every query, and `get()` reads every setting."""
    path = Path(_raw(next(s for s in SETTINGS if s.name == "data_dir")))
    return path if path.is_absolute() else PROJECT_DIR / path


def get() -> SimpleNamespace:
    values = {}
    for s in SETTINGS:
        raw = _raw(s)
        try:
            values[s.name] = s.kind(raw)
        except ValueError:
            raise SettingError(f"{s.env}={raw!r} is not a valid {s.kind.__name__}") from None
    values["data_dir"] = data_dir()
    values["api_base_url"] = values["api_base_url"].rstrip("/")
    threshold_rules(values["threshold_rules"])  # fail early, naming the variable
    if values["replay"] not in REPLAY_MODES:
        raise SettingError(f"MAYOR_REPLAY={values['replay']!r}: expected one of {', '.join(REPLAY_MODES)}")
    if values["replay_step_s"] <= 0:
        raise SettingError(f"MAYOR_REPLAY_STEP_S={values['replay_step_s']!r} must be above 0")
    if not 1 <= values["sample_complaint_rows"] <= 16_000_000:
        raise SettingError(
            f"MAYOR_SAMPLE_COMPLAINT_ROWS={values['sample_complaint_rows']!r} must be between 1 and 16,000,000"
        )
    if values["citydata_mode"] not in CITYDATA_MODES:
        raise SettingError(
            f"MAYOR_CITYDATA_MODE={values['citydata_mode']!r}: expected one of {', '.join(CITYDATA_MODES)}"
        )
    return SimpleNamespace(**values)


def threshold_rules(text: str) -> list[tuple[date, int, int, int]]:
    """`2017-01-01=50/500/5000;2020-03-01=50/100/1000` as (since, answer, forum, mayor), by date."""
    rules = []
    try:
        for part in filter(None, (p.strip() for p in text.split(";"))):
            since, levels = part.split("=")
            answer, forum, mayor = (int(x) for x in levels.split("/"))
            rules.append((date.fromisoformat(since.strip()), answer, forum, mayor))
    except ValueError:
        raise SettingError(f"MAYOR_THRESHOLD_RULES={text!r}: expected FROM=ANSWER/FORUM/MAYOR;...") from None
    if not rules:
        raise SettingError("MAYOR_THRESHOLD_RULES is empty")
    return sorted(rules)


def help_for(name: str) -> Setting:
    return _BY_NAME[name]


def redact(text: str, key: str | None = None) -> str:
    """Replace the API key wherever it appears (it is part of every request URL)."""
    key = get().api_key if key is None else key
    return text.replace(key, "***") if key else text


def markdown_table() -> str:
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = "(empty)" if s.secret or not s.default else f"`{s.default}`"
        rows.append(f"| `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
