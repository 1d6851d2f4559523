"""Complaints (120 Dasan call centre, 응답소, app, visits): `python -m loaders import complaints FILE`.

Seoul publishes no record-level complaints API, so complaints arrive as exports: CSV (UTF-8, UTF-8
with a BOM, or CP949/EUC-KR, detected; mojibake is refused), XLSX, or Parquet. Columns are found by
the declared contract `FIELDS` (Korean or English headers). Nothing goes row by row: the file is
staged in DuckDB, validated in SQL, merged with what is serving (a complaint id that comes again
replaces the older row, so re-importing a file changes nothing), and published from the staging
file together with its rollups:

- `complaints`: one row per complaint, in order of receipt;
- `complaints_cube_daily`: counts per day × district × category × channel, plus every total over
  any of those three (`*` = all), so each page query reads only the cells of its own filters;
- `complaints_cube_heat`: counts per month × weekday × hour, with the same totals;
- `complaints_cube_resolution`: resolved complaints per month × category × resolution-time bin
  (bins 15% wide), totals over district and channel.

A row whose id, time of receipt, district, category, channel or status is missing or unknown, whose
resolution precedes its receipt, whose point lies outside Seoul, or that repeats an id earlier in the
file goes to quarantine with the reason; above MAYOR_MAX_INVALID_SHARE the file is rejected whole
and the last good data keeps serving.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

import datadir
from loaders import complaints_sample, reference, runner, store, textfile
from loaders.envelope import Outcome
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchError, FetchResult

FEED = "complaints"
SAMPLE_VERSION = 1
EARLIEST = "2000-01-01"  # older dates are typing slips (the 120 call centre opened in 2007)
FUTURE_SLACK_H = 24  # clocks of exporting systems may run ahead; beyond a day is an error
SEOUL_BOX = (37.41, 37.72, 126.73, 127.27)  # lat min, lat max, lon min, lon max
QUARANTINE_KEEP_ROWS = 200_000  # a rejected 16 M-row file would otherwise write gigabytes of JSON
RESOLUTION_BIN_BASE_H = 0.5
RESOLUTION_BIN_RATIO = 1.15
RESOLUTION_BINS = 62  # bin 0: under 30 minutes; bin 61: over 0.5 × 1.15^60 h (about 90 days)
ALL = "*"


@dataclass(frozen=True)
class Field:
    name: str
    headers: tuple[str, ...]  # accepted headers, compared without spaces and case
    required: bool
    meaning: str


FIELDS = (
    Field("complaint_id", ("민원번호", "접수번호", "민원id", "complaint_id", "id"), True, "the complaint's number"),
    Field("received_at", ("접수일시", "접수일자", "신청일시", "received_at"), True, "when it was received"),
    Field("district", ("자치구", "구", "자치구명", "자치구코드", "district", "district_code"), True, "district"),
    Field("category", ("민원분야", "분야", "대분류", "category"), True, "topic"),
    Field("subcategory", ("세부분야", "소분류", "중분류", "subcategory"), False, "sub-topic"),
    Field("channel", ("접수경로", "접수채널", "채널", "channel"), True, "how it arrived"),
    Field("status", ("처리상태", "상태", "status"), True, "where it stands"),
    Field("resolved_at", ("처리완료일시", "완료일시", "처리일시", "resolved_at"), False, "when it was resolved"),
    Field("lat", ("위도", "lat", "latitude"), False, "latitude (WGS84)"),
    Field("lon", ("경도", "lon", "lng", "longitude"), False, "longitude (WGS84)"),
)
# Labels exports use for channels and statuses -> the stored code (compared without spaces and case).
CHANNELS = {
    "call": ("120", "120전화", "120다산콜", "다산콜", "전화", "call", "phone"),
    "web": ("응답소", "인터넷", "웹", "홈페이지", "web", "internet"),
    "app": ("모바일앱", "앱", "모바일", "app", "mobile"),
    "visit": ("방문", "방문민원", "visit", "inperson"),
    "other": ("기타", "팩스", "우편", "서신", "sns", "other", "fax", "mail"),
}
STATUSES = {
    "received": ("접수", "신규", "received", "new"),
    "in_progress": ("처리중", "진행중", "inprogress", "in_progress"),
    "resolved": ("처리완료", "완료", "답변완료", "resolved", "closed", "done"),
    "withdrawn": ("취하", "취소", "withdrawn", "cancelled"),
}
TIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y%m%d%H%M",
    "%Y-%m-%d",
    "%Y.%m.%d",
    "%Y/%m/%d",
    "%Y%m%d",
]
COMPLAINTS = {
    "complaint_id": "VARCHAR",
    "received_at": "TIMESTAMP",
    "district_code": "VARCHAR",
    "category": "VARCHAR",
    "subcategory": "VARCHAR",
    "channel": "VARCHAR",
    "status": "VARCHAR",
    "resolved_at": "TIMESTAMP",
    "lat": "DOUBLE",
    "lon": "DOUBLE",
}
CUBE_DAILY = {
    "level": "UTINYINT",
    "day": "DATE",
    "district_code": "VARCHAR",
    "category": "VARCHAR",
    "channel": "VARCHAR",
    "complaints": "INTEGER",
    "resolved": "INTEGER",
    "open": "INTEGER",
}
CUBE_HEAT = {
    "level": "UTINYINT",
    "month": "DATE",
    "district_code": "VARCHAR",
    "category": "VARCHAR",
    "channel": "VARCHAR",
    "weekday": "TINYINT",
    "hour": "TINYINT",
    "complaints": "INTEGER",
}
CUBE_RESOLUTION = {
    "level": "UTINYINT",
    "month": "DATE",
    "district_code": "VARCHAR",
    "channel": "VARCHAR",
    "category": "VARCHAR",
    "bin": "TINYINT",
    "complaints": "INTEGER",
}
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls")


def _key(text) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", str(text or "")).lstrip("\ufeff")).lower()


HEADER_KEYS = {_key(h): f.name for f in FIELDS for h in f.headers}


@dataclass
class StagedFile:
    """A file read into DuckDB (`con`, relation `wide` with `row_no` and one column per field found,
    under the field's name). Its rows never become Python records."""

    con: duckdb.DuckDBPyConnection
    db: Path
    rows: int
    name: str
    headers: dict[str, str]  # field -> the file's own header
    types: dict[str, str]  # field -> DuckDB type of the staged column

    def __len__(self) -> int:
        return self.rows


def _mapping(columns: list[str]) -> dict[str, str]:
    """field -> the file's header, for the headers the contract knows (first one wins)."""
    found: dict[str, str] = {}
    for c in columns:
        field = HEADER_KEYS.get(_key(c))
        if field and field not in found:
            found[field] = c
    missing = [f for f in FIELDS if f.required and f.name not in found]
    if missing:
        need = "; ".join(f"{f.meaning} ({' / '.join(f.headers[:2])})" for f in missing)
        raise FetchError(Outcome.PERMANENT, f"not a complaints export: no column for {need}")
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stage_view(con, source_sql: str) -> dict[str, str]:
    """`wide` over a relation with row_no: the contract's fields renamed, the rest left out."""
    con.execute(f"CREATE TEMP VIEW source AS {source_sql}")
    columns = [c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE source)").fetchall() if c != "row_no"]
    found = _mapping(columns)
    select = ", ".join(f"{_quote(h)} AS {f}" for f, h in found.items())
    con.execute(f"CREATE TEMP VIEW wide AS SELECT row_no, {select} FROM source")
    return found


def _stage_csv(path: Path, db: Path, con) -> dict[str, str]:
    source, _encoding = textfile.utf8_source(path, db.with_suffix(".utf8.csv"))
    try:
        con.execute(
            "CREATE TABLE staged AS SELECT * FROM read_csv(?, header = true, all_varchar = true, "
            "null_padding = true, encoding = 'utf-8', strict_mode = false)",
            [str(source)],
        )
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0][:300]
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the CSV does not read ({first})") from None
    return _stage_view(con, "SELECT rowid + 1 AS row_no, * FROM staged")


def _cell(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps numbers; ids and dates written as numbers stay whole
    return None if value is None or value == "" else str(value)


def _stage_excel(path: Path, con) -> dict[str, str]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the workbook does not open ({e})") from None
    rows = next((r for r in (book.get_sheet_by_name(s).to_python() for s in book.sheet_names) if r), None)
    if not rows:
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the workbook has no rows")
    header = [str(h) for h in rows[0]]
    table = pa.table(
        {
            f"c{i}": pa.array([_cell(r[i]) if i < len(r) else None for r in rows[1:]], pa.string())
            for i in range(len(header))
        }
    )
    con.register("incoming", table)
    renamed = ", ".join(f"c{i} AS {_quote(h)}" for i, h in enumerate(header) if h not in header[:i])
    con.execute(f"CREATE TABLE staged AS SELECT {renamed} FROM incoming")
    con.unregister("incoming")
    return _stage_view(con, "SELECT rowid + 1 AS row_no, * FROM staged")


def _stage_parquet(path: Path, con) -> dict[str, str]:
    try:
        # A view cannot take a bound parameter: the path goes in as a quoted literal.
        source = (
            f"SELECT file_row_number + 1 AS row_no, * FROM read_parquet({_literal(str(path))}, file_row_number = true)"
        )
        return _stage_view(con, source)
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0][:300]
        raise FetchError(Outcome.PERMANENT, f"{path.name}: the Parquet file does not read ({first})") from None


def _refuse_garbled_text(con, staged_name: str, headers: dict[str, str]) -> None:
    """Mojibake check on the text the rows hold (headers and the first rows), whatever the format:
    a file saved through the wrong code page decodes without error."""
    texts = [f for f in ("district", "category", "subcategory", "channel", "status") if f in headers]
    joined = " || ' ' || ".join(f"coalesce(CAST({f} AS VARCHAR), '')" for f in texts)
    sample = con.execute(f"SELECT string_agg({joined}, ' ') FROM (SELECT * FROM wide LIMIT 20000)").fetchone()[0]
    textfile.refuse_mojibake(" ".join(headers.values()) + " " + (sample or ""), staged_name, "text")


def stage(path: Path, db: Path) -> StagedFile:
    con = duckdb.connect(":memory:")
    try:
        suffix = path.suffix.lower()
        if suffix in EXCEL_SUFFIXES:
            headers = _stage_excel(path, con)
        elif suffix == ".parquet":
            headers = _stage_parquet(path, con)
        else:
            headers = _stage_csv(path, db, con)
        _refuse_garbled_text(con, path.name, headers)
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE wide)").fetchall())
        rows = con.execute("SELECT count(*) FROM wide").fetchone()[0]
    except BaseException:
        con.close()
        raise
    return StagedFile(con, db, int(rows), path.name, headers, {f: types[f] for f in headers})


def fetch(path: Path, db: Path) -> FetchResult:
    staged = stage(path, db)
    return FetchResult(FEED, "INFO-000", path.name, staged.rows, staged)


# --- validation, in SQL -----------------------------------------------------------------------


DIMENSIONS = ("district", "category", "subcategory", "channel", "status")


def _text(field: str, staged: StagedFile) -> str:
    """The field as text, NULL when empty or "-"; trimmed only where it has spaces at an end
    (trimming every value costs more than the rest of the parse)."""
    if field not in staged.headers:
        return "NULL::VARCHAR"
    v = f"CAST(w.{field} AS VARCHAR)"
    return (
        f"CASE WHEN {v} IN ('', '-') THEN NULL WHEN {v} LIKE ' %' OR {v} LIKE '% ' "
        f"THEN nullif(nullif(trim({v}), ''), '-') ELSE {v} END"
    )


def _timestamp(field: str, staged: StagedFile) -> tuple[str, str]:
    """(parsed expression, raw text expression) for a time column of any staged type."""
    if field not in staged.headers:
        return "NULL::TIMESTAMP", "NULL::VARCHAR"
    kind = staged.types[field].upper()
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"CAST(w.{field} AS TIMESTAMP)", f"CAST(w.{field} AS VARCHAR)"
    raw = _text(field, staged)
    formats = ", ".join(f"'{f}'" for f in TIME_FORMATS)
    return f"try_strptime(CAST(w.{field} AS VARCHAR), [{formats}])", raw


def _number(field: str, staged: StagedFile) -> tuple[str, str]:
    if field not in staged.headers:
        return "NULL::DOUBLE", "NULL::VARCHAR"
    if staged.types[field].upper() in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INTEGER", "BIGINT"):
        return f"CAST(w.{field} AS DOUBLE)", f"CAST(w.{field} AS VARCHAR)"
    raw = _text(field, staged)
    return f"TRY_CAST(replace({raw}, ',', '') AS DOUBLE)", raw


@dataclass
class Dimension:
    """How a text column is stored: its ENUM type in `out`, and for each distinct raw value of the
    file (a temporary ENUM `raw_<field>_t`) the stored value, None where the value is unknown."""

    field: str
    enum: str
    raw_values: list[str]
    stored: list[str | None]

    def expression(self) -> str:
        """Projection only (no join, so the rows keep the file's order): the raw value's position in
        its ENUM picks the stored value from a constant list of the stored ENUM type."""
        if not self.raw_values:
            return f"NULL::{self.enum}"
        values = ", ".join("NULL" if v is None else _literal(v) for v in self.stored)
        raw = f"CAST(CAST(w.{self.field} AS VARCHAR) AS raw_{self.field}_t)"
        return f"CAST([{values}] AS {self.enum}[])[enum_code({raw}) + 1]"


def _label_lookup() -> dict[str, dict[str, str]]:
    """field -> {normalised label: stored code} for the dimensions with a fixed vocabulary."""
    districts = {}
    for row in reference.districts().itertuples():
        for label in (
            row.sig_cd,
            row.name_ko,
            row.name_ko.removesuffix("구"),
            row.name_en,
            row.name_en.removesuffix("-gu"),
        ):
            districts[_key(label)] = row.sig_cd
    return {
        "district": districts,
        "channel": {_key(v): code for code, names in CHANNELS.items() for v in names},
        "status": {_key(v): code for code, names in STATUSES.items() for v in names},
    }


def _normalised(raw: str) -> str | None:
    text = unicodedata.normalize("NFC", raw).strip()
    return None if text in ("", "-") else text


def _dimensions(con, staged: StagedFile, serving: bool) -> dict[str, Dimension]:
    """The stored form of each text dimension, worked out once per distinct raw value (trimmed,
    NFC-normalised, looked up), with ENUM types created in `out`."""
    lookups = _label_lookup()
    dims = {}
    for field in DIMENSIONS:
        if field not in staged.headers:
            continue
        raw_values = [
            r
            for (r,) in con.execute(
                f"SELECT DISTINCT CAST({field} AS VARCHAR) FROM wide WHERE {field} IS NOT NULL"
            ).fetchall()
        ]
        if field in lookups:
            stored = [lookups[field].get(_key(n)) if (n := _normalised(r)) else None for r in raw_values]
            members = list(reference.districts()["sig_cd"]) if field == "district" else list(lookups[field].values())
        else:
            stored = [_normalised(r) for r in raw_values]
            members = [v for v in stored if v is not None]
            if serving:  # the serving rows keep their values
                members += [
                    v
                    for (v,) in con.execute(
                        f"SELECT DISTINCT {field}::VARCHAR FROM serving.main.complaints WHERE {field} IS NOT NULL"
                    ).fetchall()
                ]
        cube_dimension = field in ("district", "category", "channel")  # '*' stands for all in the cubes
        members = sorted(set(members) - {ALL}) + ([ALL] if cube_dimension else [])
        enum = f"out.{field}_t"
        con.execute(f"CREATE TYPE {enum} AS ENUM ({', '.join(_literal(m) for m in members)})")
        if raw_values:
            con.execute(f"CREATE TYPE raw_{field}_t AS ENUM ({', '.join(_literal(r) for r in raw_values)})")
        dims[field] = Dimension(field, enum, raw_values, stored)
    return dims


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parse_sql(staged: StagedFile, dims: dict[str, Dimension]) -> str:
    """`parsed`: the stored values of every row, plus flags for the raw values that were present
    (the reasons quote the raw text, read back from `wide` for the rejected rows only)."""
    received, received_raw = _timestamp("received_at", staged)
    resolved, resolved_raw = _timestamp("resolved_at", staged)
    lat, lat_raw = _number("lat", staged)
    lon, lon_raw = _number("lon", staged)
    stored = []
    for field in DIMENSIONS:
        column = "district_code" if field == "district" else field
        stored.append(f"{dims[field].expression() if field in dims else 'NULL::VARCHAR'} AS {column}")
    return f"""
    CREATE TEMP TABLE parsed AS
    SELECT w.row_no, {_text("complaint_id", staged)} AS complaint_id,
        {received} AS received_at, {received_raw} IS NOT NULL AS has_received,
        {", ".join(stored)},
        {resolved} AS resolved_at, {resolved_raw} IS NOT NULL AS has_resolved,
        {lat} AS lat, {lat_raw} IS NOT NULL AS has_lat, {lon} AS lon, {lon_raw} IS NOT NULL AS has_lon
    FROM wide w
    """


def _checks(staged: StagedFile, now: str) -> list[tuple[str, str]]:
    """(condition that makes a row of `parsed` bad, reason) pairs. Reasons name the file's own
    headers and quote its raw text (`w_<field>`: `wide` joined for the rejected rows only)."""
    h = {f.name: staged.headers.get(f.name, f.headers[0]) for f in FIELDS}
    lat0, lat1, lon0, lon1 = SEOUL_BOX

    def quoted(field: str) -> str:
        if field not in staged.headers:
            return "'empty'"
        return f"""coalesce('"' || CAST(w_{field} AS VARCHAR) || '"', 'empty')"""

    return [
        ("complaint_id IS NULL", f"{h['complaint_id']} is empty"),
        ("NOT has_received", f"{h['received_at']} is empty"),
        (
            "has_received AND received_at IS NULL",
            f"'{h['received_at']} ' || {quoted('received_at')} || ' is not a date and time (year first)'",
        ),
        (
            f"received_at < TIMESTAMP '{EARLIEST}' OR received_at > TIMESTAMP '{now}' + INTERVAL {FUTURE_SLACK_H} HOUR",
            f"'{h['received_at']} ' || CAST(received_at AS VARCHAR) || ' is before {EARLIEST[:4]} or in the future'",
        ),
        (
            "district_code IS NULL",
            f"'{h['district']} ' || {quoted('district')} || ' is not one of Seoul''s 25 districts'",
        ),
        ("category IS NULL", f"{h['category']} is empty"),
        ("channel IS NULL", f"'{h['channel']} ' || {quoted('channel')} || ' is not a known channel'"),
        ("status IS NULL", f"'{h['status']} ' || {quoted('status')} || ' is not a known status'"),
        (
            "has_resolved AND resolved_at IS NULL",
            f"'{h['resolved_at']} ' || {quoted('resolved_at')} || ' is not a date and time (year first)'",
        ),
        ("resolved_at < received_at", f"{h['resolved_at']} is before {h['received_at']}"),
        (
            "resolved_at IS NOT NULL AND status IN ('received', 'in_progress')",
            f"'{h['resolved_at']} is given but {h['status']} is ' || {quoted('status')}",
        ),
        ("(has_lat AND lat IS NULL) OR (has_lon AND lon IS NULL)", f"{h['lat']}/{h['lon']} is not a number"),
        ("has_lat <> has_lon", f"only one of {h['lat']} and {h['lon']} is given"),
        (
            f"NOT (lat BETWEEN {lat0} AND {lat1} AND lon BETWEEN {lon0} AND {lon1})",
            f"{h['lat']}/{h['lon']} outside Seoul",
        ),
    ]


def _reason_literal(reason: str) -> str:
    return reason if reason.startswith("'") else "'" + reason.replace("'", "''") + "'"


def _validate(con, staged: StagedFile, now: str) -> tuple[int, int]:
    """Creates `invalid` (row_no, reason: the bad rows) and the view `good`. Returns (bad rows,
    rows repeating an earlier id)."""
    checks = _checks(staged, now)
    bad = " OR ".join(f"coalesce({cond}, false)" for cond, _ in checks)
    reasons = ", ".join(f"CASE WHEN coalesce({cond}, false) THEN {_reason_literal(r)} END" for cond, r in checks)
    raw = ", ".join(f"{f} AS w_{f}" for f in staged.headers)
    con.execute(
        f"CREATE TEMP TABLE invalid AS SELECT row_no, concat_ws('; ', {reasons}) AS reason "
        f"FROM (SELECT * FROM parsed WHERE {bad}) JOIN (SELECT row_no, {raw} FROM wide) USING (row_no)"
    )
    con.execute(f"CREATE TEMP VIEW good AS SELECT * FROM parsed WHERE NOT ({bad})")
    # Ids that only ever rise cannot repeat, in whatever order the rows were seen: one streaming
    # pass proves most exports clean, and only a file out of order pays for the hash check.
    falls = con.execute(
        f"SELECT count(*) FILTER (WHERE id <= before) FROM "
        f"(SELECT id, lag(id) OVER () AS before FROM (SELECT {_text('complaint_id', staged)} AS id FROM wide w))"
    ).fetchone()[0]
    if not falls:
        return con.execute("SELECT count(*) FROM invalid").fetchone()[0], 0
    reason = _literal(f"repeats the {staged.headers['complaint_id']} of an earlier row")
    con.execute(
        f"""
        INSERT INTO invalid
        SELECT row_no, {reason} FROM (
            SELECT row_no, row_number() OVER (PARTITION BY complaint_id ORDER BY row_no) AS nth FROM good
            WHERE complaint_id IN (SELECT complaint_id FROM good GROUP BY ALL HAVING count(*) > 1)
        ) WHERE nth > 1
        """
    )
    dups = con.execute(f"SELECT count(*) FROM invalid WHERE reason = {reason}").fetchone()[0]
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW good AS SELECT * FROM parsed WHERE NOT ({bad}) AND row_no NOT IN (SELECT row_no FROM invalid)"
    )
    return con.execute("SELECT count(*) FROM invalid").fetchone()[0], dups


def _quarantine(con, staged: StagedFile) -> pd.DataFrame:
    """The rejected rows with their reasons and the record as the file had it (the first
    QUARANTINE_KEEP_ROWS of them)."""
    pairs = ", ".join(f"{_literal(staged.headers[f])}, CAST(w.{f} AS VARCHAR)" for f in staged.headers)
    return con.execute(
        f"""
        SELECT i.row_no::BIGINT AS row_number, i.reason, json_object({pairs})::VARCHAR AS record
        FROM (SELECT * FROM invalid ORDER BY row_no LIMIT {QUARANTINE_KEEP_ROWS}) i JOIN wide w USING (row_no)
        ORDER BY i.row_no
        """
    ).df()


# --- publishing: merge with the serving version, then the rollups ------------------------------

_COLUMNS = ", ".join(COMPLAINTS)


def _serving(ctx: RunContext) -> Path | None:
    """The serving version to merge into: never the sample into real data or the reverse."""
    pointer = datadir.read_pointer(ctx.data_dir, FEED)
    if pointer and bool(pointer.get("is_sample")) == ctx.is_sample and "complaints" in pointer["rows"]:
        return datadir.feed_dir(ctx.data_dir, FEED) / pointer["file"]
    return None


def _merge(con, dims: dict[str, Dimension], merging: bool) -> dict:
    """out.complaints = the serving complaints whose id this file does not bring, then this file's
    rows, in order of receipt."""
    enums = {("district_code" if f == "district" else f): d.enum for f, d in dims.items()}
    declared = ", ".join(f"{c} {enums.get(c, t)}" for c, t in COMPLAINTS.items())
    con.execute(f"CREATE TABLE out.complaints ({declared})")
    kept = 0
    if merging:
        con.execute(
            f"INSERT INTO out.complaints SELECT {_COLUMNS} FROM serving.main.complaints "
            "ANTI JOIN (SELECT complaint_id FROM good) USING (complaint_id)"
        )
        kept = con.execute("SELECT count(*) FROM out.complaints").fetchone()[0]
    con.execute(f"INSERT INTO out.complaints SELECT {_COLUMNS} FROM good")
    # Receipt order keeps the zone maps tight (the latest records and the days at the edges of a
    # date range read only their own row groups); rows already in order are not sorted again.
    unordered = con.execute(
        "SELECT count(*) FILTER (WHERE received_at < before) FROM "
        "(SELECT received_at, lag(received_at) OVER () AS before FROM out.complaints)"
    ).fetchone()[0]
    if unordered:
        con.execute("CREATE TABLE out.complaints_sorted AS SELECT * FROM out.complaints ORDER BY received_at")
        con.execute("DROP TABLE out.complaints")
        con.execute("ALTER TABLE out.complaints_sorted RENAME TO complaints")
    return {"kept_from_serving": int(kept), "sorted": bool(unordered)}


def _bin_sql(hours: str) -> str:
    base, ratio = RESOLUTION_BIN_BASE_H, RESOLUTION_BIN_RATIO
    return (
        f"CASE WHEN {hours} < {base} THEN 0 ELSE least({RESOLUTION_BINS - 1}, "
        f"1 + floor(ln({hours} / {base}) / ln({ratio}))::INTEGER) END"
    )


def resolution_hours(received: str = "received_at", resolved: str = "resolved_at") -> str:
    return f"(epoch({resolved}) - epoch({received})) / 3600.0"


def bin_sql() -> str:
    """The resolution-time bin of a complaint, as the rollup computes it (queries use it for the
    days at the edges of a date range)."""
    return _bin_sql(resolution_hours())


# Each cube is built from its finest level, then every total over district, category and channel
# (GROUPING gives the level: 4 district, 2 category, 1 channel summed away). Rows are ordered by
# level and dimensions, so a query's zone maps skip every cell but its own.
def rollups_sql(dims: dict[str, Dimension]) -> str:
    d, c, ch = (f"{_literal(ALL)}::{dims[f].enum}" for f in ("district", "category", "channel"))
    return f"""
CREATE TEMP TABLE daily_base AS
SELECT received_at::DATE AS day, district_code, category, channel, count(*) AS complaints,
    count(*) FILTER (WHERE status = 'resolved') AS resolved,
    count(*) FILTER (WHERE status IN ('received', 'in_progress')) AS open
FROM out.complaints GROUP BY ALL;
CREATE TABLE out.complaints_cube_daily AS
SELECT GROUPING(district_code, category, channel)::UTINYINT AS level, day,
    coalesce(district_code, {d}) AS district_code, coalesce(category, {c}) AS category,
    coalesce(channel, {ch}) AS channel,
    sum(complaints)::INTEGER AS complaints, sum(resolved)::INTEGER AS resolved, sum(open)::INTEGER AS open
FROM daily_base GROUP BY day, CUBE (district_code, category, channel)
ORDER BY level, district_code, category, channel, day;
DROP TABLE daily_base;
CREATE TEMP TABLE heat_base AS
SELECT date_trunc('month', received_at)::DATE AS month, district_code, category, channel,
    isodow(received_at)::TINYINT AS weekday, hour(received_at)::TINYINT AS hour, count(*) AS complaints
FROM out.complaints GROUP BY ALL;
CREATE TABLE out.complaints_cube_heat AS
SELECT GROUPING(district_code, category, channel)::UTINYINT AS level, month,
    coalesce(district_code, {d}) AS district_code, coalesce(category, {c}) AS category,
    coalesce(channel, {ch}) AS channel, weekday, hour, sum(complaints)::INTEGER AS complaints
FROM heat_base GROUP BY month, weekday, hour, CUBE (district_code, category, channel)
ORDER BY level, district_code, category, channel, month;
DROP TABLE heat_base;
CREATE TEMP TABLE resolution_base AS
SELECT date_trunc('month', received_at)::DATE AS month, district_code, channel, category,
    ({bin_sql()})::TINYINT AS bin, count(*) AS complaints
FROM out.complaints WHERE status = 'resolved' AND resolved_at IS NOT NULL GROUP BY ALL;
CREATE TABLE out.complaints_cube_resolution AS
SELECT (GROUPING(district_code) * 4 + GROUPING(channel))::UTINYINT AS level, month,
    coalesce(district_code, {d}) AS district_code, coalesce(channel, {ch}) AS channel,
    category, bin, sum(complaints)::INTEGER AS complaints
FROM resolution_base GROUP BY month, category, bin, CUBE (district_code, channel)
ORDER BY level, district_code, channel, category, month;
DROP TABLE resolution_base;
"""


def transform(staged: StagedFile, ctx: RunContext) -> Transformed:
    con = staged.con
    now = pd.Timestamp.now(tz=runner.SEOUL).tz_localize(None).floor("s").isoformat(sep=" ")
    extra: dict = {"format": Path(staged.name).suffix.lower().lstrip(".") or "csv", "file_rows": staged.rows}
    serving = _serving(ctx)
    try:
        con.execute("ATTACH ? AS out", [str(staged.db)])
        if serving is not None:
            con.execute("ATTACH ? AS serving (READ_ONLY)", [str(serving)])
        dims = _dimensions(con, staged, serving is not None)
        con.execute(_parse_sql(staged, dims))
        bad, dups = _validate(con, staged, now)
        extra["duplicate_ids"] = int(dups)
        rejected = _quarantine(con, staged)
        if staged.rows and bad / staged.rows > ctx.cfg.max_invalid_share:
            # The runner rejects the file; building the rollups of a rejected file would be wasted.
            return Transformed([], rejected, staged.rows, extra=extra, rejected_total=int(bad))
        extra |= _merge(con, dims, serving is not None)
        if serving is not None:
            con.execute("DETACH serving")
        con.execute(rollups_sql(dims))
        con.execute("USE out")
        tables = []
        for name in ("complaints", "complaints_cube_daily", "complaints_cube_heat", "complaints_cube_resolution"):
            columns = dict(
                con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'out' AND table_name = ? "
                    "ORDER BY column_index",
                    [name],
                ).fetchall()
            )
            rows, digest = store.staged_digest(con, name, list(columns))
            tables.append(store.Table(name, columns, store.StagedRows(staged.db, name, rows, digest)))
        as_of = con.execute("SELECT max(received_at) FROM complaints").fetchone()[0]
        con.execute("USE memory")
        con.execute("CHECKPOINT out")  # no WAL beside a file that publishing may rename
        con.execute("DETACH out")
    finally:
        con.close()
    return Transformed(
        tables,
        rejected,
        staged.rows,
        as_of=None if as_of is None else as_of.isoformat(sep=" "),
        extra=extra,
        rejected_total=int(bad),
    )


def _sweep(feed_dir: Path) -> None:
    """Staging files left by an import that was killed."""
    cutoff = time.time() - store.GRACE_S
    for stale in feed_dir.glob(".staging-*"):
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)


def run_import(cfg, path: Path, *, source: str, is_sample: bool) -> store.RunRecord:
    feed_dir = datadir.feed_dir(cfg.data_dir, FEED)
    feed_dir.mkdir(parents=True, exist_ok=True)
    _sweep(feed_dir)
    db = feed_dir / f".staging-{os.getpid()}-{time.monotonic_ns()}.duckdb"
    ctx = RunContext(cfg, cfg.data_dir, source, is_sample=is_sample)
    staged: list[StagedFile] = []

    def fetch_staged() -> FetchResult:
        result = fetch(path, db)
        staged.append(result.rows)
        return result

    try:
        return runner.run(FEED, ctx, fetch_staged, transform)
    finally:
        for s in staged:  # a run that stopped before the transform leaves it open
            s.con.close()
        for leftover in (db, Path(f"{db}.wal"), db.with_suffix(".utf8.csv")):
            leftover.unlink(missing_ok=True)


HOW_TO_LOAD = "no live feed: import complaint exports with `python -m loaders import complaints FILE`"


def ensure_sample(cfg) -> Path:
    """The sample export (CP949 CSV, the way city systems export), written once per settings."""
    out = datadir.sample_dir(cfg.data_dir) / "complaints.csv"
    manifest_path = out.with_suffix(".json")
    manifest = {
        "generator": complaints_sample.GENERATOR_VERSION,
        "loader": SAMPLE_VERSION,
        "rows": cfg.sample_complaint_rows,
        "end": cfg.sample_end_date,
    }
    try:
        if out.is_file() and json.loads(manifest_path.read_text("utf-8")) == manifest:
            return out
    except (OSError, ValueError):
        pass
    complaints_sample.write(out, cfg.sample_complaint_rows, date.fromisoformat(cfg.sample_end_date), "cp949")
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return out


def refresh(cfg, *, use_sample: bool) -> store.RunRecord:
    """Only the sample is loaded by a refresh: imported exports are never replaced by it unasked."""
    if not use_sample:
        return store.RunRecord(feed=FEED, source="file", outcome="skipped", message=HOW_TO_LOAD)
    return run_import(cfg, ensure_sample(cfg), source="sample", is_sample=True)


def bin_bounds_h(b: int) -> tuple[float, float]:
    """Lower and upper bound of a resolution-time bin, in hours (the last bin has no upper bound)."""
    if b == 0:
        return 0.0, RESOLUTION_BIN_BASE_H
    lo = RESOLUTION_BIN_BASE_H * RESOLUTION_BIN_RATIO ** (b - 1)
    return lo, (math.inf if b == RESOLUTION_BINS - 1 else lo * RESOLUTION_BIN_RATIO)
