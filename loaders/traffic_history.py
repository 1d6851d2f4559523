"""TOPIS monthly road-speed files: `python -m loaders import traffic_history FILE`.

TOPIS publishes "YYYY년 MM월 서울시 차량통행속도" each month, as xlsx or as CSV in CP949 (UTF-8 is
accepted too): one row per link and day, columns 일자 (YYYYMMDD), 요일, 도로명, 링크아이디, 시점명,
종점명, 방향, 거리, 차선수, 기능유형구분, 도심/외곽구분, 권역구분, then 01시 .. 24시 in km/h. About
5,000 links × 30 days: 150,000 wide rows, 3.6 million readings a month.

Nothing here goes row by row. The file is read into a staging DuckDB (`read_csv` with every
column declared VARCHAR, so a bad cell is reported rather than failing the read; xlsx through
calamine into Arrow), validated, unpivoted and merged in SQL, and published from that staging
file (`store.StagedRows`). A new month adds to what is served: readings of the same link × day ×
hour are replaced by the newer file, so importing a file twice changes nothing. Each import also
rebuilds `traffic_weekday_curve`, the usual city speed per ISO weekday × hour.

Validation: a row whose 일자 is not a date or whose 링크아이디 is empty, or that repeats a link and
day already seen in the file, is dropped; an hour whose speed is not a number or outside 0-160 km/h
is dropped and the rest of its row loads. Either way the row goes to quarantine with its reasons.
Empty hours ("" or "-") are missing readings, not errors.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

import datadir
from loaders import city_sample, runner, store
from loaders.envelope import Outcome
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchError, FetchResult

FEED = "traffic_history"
MAX_SPEED_KMH = 160  # urban expressways at night stay well below; catches unit slips and 999 fillers
SAMPLE_VERSION = 2
HOURS = [f"h{h:02d}" for h in range(1, 25)]
# Header as TOPIS writes it (spaces and units in brackets ignored) -> staging column.
HEADERS = {
    "일자": "day",
    "요일": "weekday_name",
    "도로명": "road_name",
    "링크아이디": "link_id",
    "링크ID": "link_id",
    "시점명": "start_name",
    "종점명": "end_name",
    "방향": "direction",
    "거리": "distance",
    "차선수": "lanes",
    "기능유형구분": "function_type",
    "도심/외곽구분": "area_type",
    "도심외곽구분": "area_type",
    "권역구분": "region",
}
TEXT_COLUMNS = [
    "weekday_name",
    "road_name",
    "start_name",
    "end_name",
    "direction",
    "function_type",
    "area_type",
    "region",
]
HISTORY = {
    "day": "DATE",
    "weekday": "INTEGER",
    "link_id": "VARCHAR",
    "road_name": "VARCHAR",
    "start_name": "VARCHAR",
    "end_name": "VARCHAR",
    "direction": "VARCHAR",
    "distance_m": "DOUBLE",
    "lanes": "INTEGER",
    "function_type": "VARCHAR",
    "area_type": "VARCHAR",
    "region": "VARCHAR",
    "hour": "INTEGER",
    "speed_kmh": "DOUBLE",
}
CURVE = {
    "weekday": "INTEGER",
    "hour": "INTEGER",
    "avg_speed_kmh": "DOUBLE",
    "p25_speed_kmh": "DOUBLE",
    "p75_speed_kmh": "DOUBLE",
    "days": "INTEGER",
}
_HOUR_HEADER = re.compile(r"(\d{1,2})시")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls")


@dataclass
class StagedFile:
    """A file read into an in-memory staging database (`con`, table `wide`): its rows never become
    Python records. The history to publish is written into the DuckDB file `db`."""

    con: duckdb.DuckDBPyConnection
    db: Path
    rows: int
    name: str
    headers: dict[str, str]  # staging column -> the file's own header, for quarantine records

    def __len__(self) -> int:
        return self.rows


def canonical(header) -> str | None:
    text = re.sub(r"\s+|\(.*?\)", "", str(header or "")).lstrip("\ufeff")
    hour = _HOUR_HEADER.fullmatch(text)
    if hour and 1 <= int(hour.group(1)) <= 24:
        return f"h{int(hour.group(1)):02d}"
    return HEADERS.get(text)


def _mapping(header: list) -> tuple[list[str], dict[str, str]]:
    """Staging names for each column of the file (unknown columns kept as extra_N), and
    staging -> original header for the known ones."""
    names, known = [], {}
    for i, h in enumerate(header):
        name = canonical(h)
        if name is None or name in known:
            name = f"extra_{i}"
        else:
            known[name] = str(h).strip().lstrip("\ufeff")
        names.append(name)
    missing = [h for h, c in (("일자", "day"), ("링크아이디", "link_id")) if c not in known]
    if missing or not any(c in known for c in HOURS):
        need = ", ".join(missing + ([] if any(c in known for c in HOURS) else ["01시..24시"]))
        raise FetchError(Outcome.PERMANENT, f"not a TOPIS speed file: no column {need} in the header")
    return names, known


def _utf8_copy(path: Path, db: Path) -> Path:
    """DuckDB reads UTF-8 only (its encodings extension would need the network): a CP949 file is
    decoded once in Python (a C codec, about 100 MB/s) into a UTF-8 copy beside the staging file."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        return path
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp949")
    except UnicodeDecodeError:
        raise FetchError(Outcome.PERMANENT, f"{path.name}: neither UTF-8 nor CP949 text") from None
    copy = db.with_suffix(".utf8.csv")
    copy.write_text(text, "utf-8")
    return copy


def _stage_csv(path: Path, db: Path, con) -> tuple[int, dict[str, str]]:
    source = _utf8_copy(path, db)
    with open(source, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    names, known = _mapping(header)
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    try:
        con.execute(
            f"CREATE TABLE wide AS SELECT * FROM read_csv(?, header = true, delim = ',', quote = '\"', "
            f"columns = {columns}, auto_detect = false, null_padding = true, encoding = 'utf-8')",
            [str(source)],
        )
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0][:300]
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the CSV does not read ({first})") from None
    return con.execute("SELECT count(*) FROM wide").fetchone()[0], known


def _cell_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 20240101 and link ids as numbers
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value)


def _stage_excel(path: Path, con) -> tuple[int, dict[str, str]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the workbook does not open ({e})") from None
    batches, known = [], None
    for sheet_name in book.sheet_names:  # TOPIS may split a month over several sheets
        rows = book.get_sheet_by_name(sheet_name).to_python()
        if not rows:
            continue
        names, sheet_known = _mapping(rows[0])
        known = known or sheet_known
        columns = {n: [_cell_text(r[i]) if i < len(r) else None for r in rows[1:]] for i, n in enumerate(names)}
        batches.append(pa.table({n: pa.array(v, pa.string()) for n, v in columns.items() if n in sheet_known}))
    if known is None:
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the workbook has no rows")
    table = pa.concat_tables(batches, promote_options="default")
    con.register("incoming", table)
    con.execute("CREATE TABLE wide AS SELECT * FROM incoming")
    con.unregister("incoming")
    return table.num_rows, known


def stage(path: Path, db: Path) -> StagedFile:
    """Read the file into the staging database's `wide` table, every column as text."""
    con = duckdb.connect(":memory:")
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            rows, known = _stage_excel(path, con)
        else:
            rows, known = _stage_csv(path, db, con)
        present = {c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE wide)").fetchall()}
        for col in ["day", "link_id", "distance", "lanes", *TEXT_COLUMNS, *HOURS]:
            if col not in present:
                con.execute(f'ALTER TABLE wide ADD COLUMN "{col}" VARCHAR')
    except BaseException:
        con.close()
        raise
    return StagedFile(con, db, int(rows), path.name, known)


def fetch(path: Path, db: Path) -> FetchResult:
    """The runner's fetch step: the file staged; its rows travel as a StagedFile, not records."""
    staged = stage(path, db)
    return FetchResult(FEED, "INFO-000", path.name, staged.rows, staged)


def _nullif_blank(col: str) -> str:
    return f"""nullif(nullif(trim("{col}"), ''), '-')"""


_TEXTS = ", ".join(f'{_nullif_blank(c)} AS "{c}"' for c in TEXT_COLUMNS)
_HOUR_CELLS = ", ".join(f'{_nullif_blank(h)} AS "{h}"' for h in HOURS)
_HOUR_LIST = ", ".join(HOURS)
VALIDATE = f"""
CREATE TABLE checked AS
SELECT
    rowid + 1 AS row_no,
    coalesce(
        try_strptime(trim(day), '%Y%m%d'), try_strptime(trim(day), '%Y-%m-%d'), try_strptime(trim(day), '%Y.%m.%d')
    )::DATE AS day_parsed,
    day AS day_raw,
    nullif(regexp_replace(trim(link_id), '\\.0$', ''), '') AS link,
    {_TEXTS},
    TRY_CAST(replace({_nullif_blank("distance")}, ',', '') AS DOUBLE) AS distance_m,
    TRY_CAST(TRY_CAST({_nullif_blank("lanes")} AS DOUBLE) AS INTEGER) AS lanes,
    {_HOUR_CELLS}
FROM wide;
CREATE TABLE row_problems AS
SELECT row_no, concat_ws('; ',
    CASE WHEN day_parsed IS NULL THEN '일자 ' || coalesce('"' || day_raw || '"', 'is empty') || ' is not a date' END,
    CASE WHEN link IS NULL THEN '링크아이디 is empty' END,
    CASE WHEN day_parsed IS NOT NULL AND link IS NOT NULL AND
        row_number() OVER (PARTITION BY link, day_parsed ORDER BY row_no) > 1
        THEN 'the same 링크아이디 and 일자 as an earlier row (row dropped)' END
) AS reason
FROM checked;
CREATE TABLE cell_problems AS
SELECT row_no, string_agg(format('{{}}시 "{{}}"', CAST(substr(hour_col, 2) AS INTEGER), raw), ', ' ORDER BY hour_col)
    AS cells
FROM (
    UNPIVOT (SELECT row_no, {_HOUR_LIST} FROM checked JOIN row_problems USING (row_no) WHERE reason = '')
    ON {_HOUR_LIST} INTO NAME hour_col VALUE raw
)
WHERE coalesce(NOT TRY_CAST(replace(raw, ',', '') AS DOUBLE) BETWEEN 0 AND {MAX_SPEED_KMH}, true)
GROUP BY row_no;
CREATE TEMP VIEW fresh AS
SELECT day_parsed AS day, isodow(day_parsed)::INTEGER AS weekday, link AS link_id, road_name, start_name,
    end_name, direction, distance_m, lanes, function_type, area_type, region,
    CAST(substr(hour_col, 2) AS INTEGER) - 1 AS hour, TRY_CAST(replace(raw, ',', '') AS DOUBLE) AS speed_kmh
FROM (
    UNPIVOT (SELECT * EXCLUDE (day_raw) FROM checked JOIN row_problems USING (row_no) WHERE reason = '')
    ON {_HOUR_LIST} INTO NAME hour_col VALUE raw
)
WHERE speed_kmh BETWEEN 0 AND {MAX_SPEED_KMH};
"""


def _quarantine(con, staged: StagedFile) -> pd.DataFrame:
    rejected = con.execute(
        f"""
        SELECT row_no AS row_number,
            concat_ws('; ', nullif(p.reason, ''),
                CASE WHEN c.cells IS NOT NULL THEN 'speed not a number or outside 0-{MAX_SPEED_KMH} km/h at '
                    || c.cells || ' (those hours dropped, the rest of the row loaded)' END) AS reason
        FROM row_problems p LEFT JOIN cell_problems c USING (row_no)
        WHERE p.reason <> '' OR c.cells IS NOT NULL
        ORDER BY row_no
        """
    ).df()
    if rejected.empty:
        return pd.DataFrame({"row_number": pd.Series(dtype="int64"), "reason": [], "record": []})
    cols = list(staged.headers)
    con.register("wanted", pd.DataFrame({"row_no": rejected["row_number"]}))
    wide = con.execute(
        f"SELECT rowid + 1 AS row_no, {', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)} FROM wide "
        "WHERE rowid + 1 IN (SELECT row_no FROM wanted) ORDER BY row_no"
    ).fetchall()
    con.unregister("wanted")
    records = {
        row[0]: json.dumps(
            {staged.headers[c]: v for c, v in zip(cols, row[1:], strict=True)}, ensure_ascii=False, default=str
        )
        for row in wide
    }
    rejected["record"] = rejected["row_number"].map(records)
    rejected["row_number"] = rejected["row_number"].astype("int64")
    return rejected


def _merge(con, ctx: RunContext) -> int:
    """out.traffic_speed_history = the serving history, less the link × day × hours this file
    brings, plus this file's readings. Sample and real data never mix: either replaces the other."""
    cols = ", ".join(f'"{c}"' for c in HISTORY)
    declared = ", ".join(f'"{c}" {t}' for c, t in HISTORY.items())
    con.execute(f"CREATE TABLE out.traffic_speed_history ({declared})")
    pointer = datadir.read_pointer(ctx.data_dir, FEED)
    kept = 0
    if pointer and bool(pointer.get("is_sample")) == ctx.is_sample and "traffic_speed_history" in pointer["rows"]:
        con.execute("ATTACH ? AS serving (READ_ONLY)", [str(datadir.feed_dir(ctx.data_dir, FEED) / pointer["file"])])
        first, last = con.execute("SELECT min(day), max(day) FROM fresh").fetchone()
        # Only the days the file covers can be replaced; the rest is copied without a join.
        con.execute(
            f"""
            INSERT INTO out.traffic_speed_history
            SELECT {cols} FROM serving.main.traffic_speed_history
            WHERE $first IS NULL OR NOT day BETWEEN $first AND $last
            UNION ALL
            SELECT {cols} FROM (
                SELECT * FROM serving.main.traffic_speed_history WHERE day BETWEEN $first AND $last
            ) ANTI JOIN (SELECT link_id, day, hour FROM fresh) USING (link_id, day, hour)
            """,
            {"first": first, "last": last},
        )
        kept = con.execute("SELECT count(*) FROM out.traffic_speed_history").fetchone()[0]
        con.execute("DETACH serving")
    con.execute(f"INSERT INTO out.traffic_speed_history SELECT {cols} FROM fresh")
    return kept


WEEKDAY_CURVE = """
WITH city AS (
    SELECT day, weekday, hour, avg(speed_kmh) AS city_mean
    FROM traffic_speed_history GROUP BY day, weekday, hour
),
spread AS (
    SELECT weekday, hour, quantile_cont(city_mean, 0.25) AS p25, quantile_cont(city_mean, 0.75) AS p75,
        count(DISTINCT day) AS days
    FROM city GROUP BY weekday, hour
),
overall AS (
    SELECT weekday, hour, avg(speed_kmh) AS mean FROM traffic_speed_history GROUP BY weekday, hour
)
SELECT o.weekday, o.hour, round(o.mean, 2) AS avg_speed_kmh, round(s.p25, 2) AS p25_speed_kmh,
    round(s.p75, 2) AS p75_speed_kmh, s.days::INTEGER AS days
FROM overall o JOIN spread s USING (weekday, hour)
ORDER BY o.weekday, o.hour
"""


def transform(staged: StagedFile, ctx: RunContext) -> Transformed:
    con = staged.con
    try:
        con.execute(VALIDATE)
        rejected = _quarantine(con, staged)
        fresh = con.execute("SELECT count(*), count(DISTINCT link_id), min(day), max(day) FROM fresh").fetchone()
        con.execute("ATTACH ? AS out", [str(staged.db)])
        kept = _merge(con, ctx)
        con.execute("USE out")
        curve = con.execute(WEEKDAY_CURVE).df()
        rows, digest = store.staged_digest(con, "traffic_speed_history", list(HISTORY))
        con.execute("USE memory")
        con.execute("CHECKPOINT out")  # no WAL beside a file that publishing may rename
        con.execute("DETACH out")
    finally:
        con.close()
    readings, links, first, last = fresh
    return Transformed(
        tables=[
            store.Table(
                "traffic_speed_history",
                HISTORY,
                store.StagedRows(staged.db, "traffic_speed_history", rows, digest),
            ),
            store.Table("traffic_weekday_curve", CURVE, curve),
        ],
        rejected=rejected,
        received=staged.rows,
        as_of=None if last is None else last.isoformat(),
        extra={
            "file_readings": int(readings),
            "file_links": int(links),
            "file_days": [None if first is None else first.isoformat(), None if last is None else last.isoformat()],
            "readings_kept_from_serving": int(kept),
        },
    )


def run_import(cfg, path: Path, *, source: str, is_sample: bool) -> store.RunRecord:
    return runner.run_staged_import(FEED, cfg, path, fetch, transform, source=source, is_sample=is_sample)


HOW_TO_LOAD = (
    "no live feed: load TOPIS monthly speed files with `python -m loaders import traffic_history FILE` "
    "(or `python -m loaders sample`)"
)


def ensure_sample(cfg) -> Path:
    """The sample month (CP949 CSV, as TOPIS publishes it), written once per sample day."""
    out = datadir.sample_dir(cfg.data_dir) / "traffic_history.csv"
    manifest_path = out.with_suffix(".json")
    manifest = {"generator": SAMPLE_VERSION, "city": city_sample.GENERATOR_VERSION, "end": cfg.sample_end_date}
    try:
        if out.is_file() and json.loads(manifest_path.read_text("utf-8")) == manifest:
            return out
    except (OSError, ValueError):
        pass
    city_sample.write_history_sample(out, date.fromisoformat(cfg.sample_end_date))
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return out


def refresh(cfg, *, use_sample: bool) -> store.RunRecord:
    """Only the sample is loaded by a refresh: an imported month is never replaced by it unasked."""
    if not use_sample:
        return store.RunRecord(feed=FEED, source="file", outcome="skipped", message=HOW_TO_LOAD)
    return run_import(cfg, ensure_sample(cfg), source="sample", is_sample=True)
