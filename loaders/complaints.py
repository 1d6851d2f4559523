"""Complaints (120 Dasan call centre, 응답소, app, visits): `python -m loaders import complaints FILE`.

Seoul publishes no record-level complaints API, so complaints arrive as exports: CSV (UTF-8, UTF-8
with a BOM, or CP949/EUC-KR, detected; mojibake is refused), XLSX, or Parquet. Columns are found by
the declared contract `FIELDS` (Korean or English headers). Nothing goes row by row: the file is
staged in DuckDB, validated in SQL, merged with what is serving (a complaint id that comes again
replaces the older row, so re-importing a file changes nothing), and published from the staging
file together with its rollups:

- `complaints`: one row per complaint, in order of receipt, with the resolution-time bin of a
  resolved one;
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
import re
import resource
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
from queries import warehouse

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
# Unique ids defeat DuckDB's default string compression (dictionary + FSST): choosing and applying
# it cost 6.5 CPU-s per 16 M ids, zstd 3.1 CPU-s for a file 24% larger (98 MB against 79 MB of ids).
COMPRESSION = {"complaint_id": " USING COMPRESSION zstd"}
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
    steps: dict[str, list[float]]  # step -> [wall s, CPU s], for the run log (see `Clock`)

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


class Clock:
    """Wall and CPU seconds of each step of an import, kept in the run log's `extra.steps` so a slow
    load says where its time went. CPU is the process's, every DuckDB thread included."""

    def __init__(self, into: dict[str, list[float]]):
        self.into = into
        self._wall, self._cpu = time.perf_counter(), self.cpu_s()

    @staticmethod
    def cpu_s() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def lap(self, step: str) -> None:
        wall, cpu = time.perf_counter(), self.cpu_s()
        self.into[step] = [round(wall - self._wall, 3), round(cpu - self._cpu, 3)]
        self._wall, self._cpu = wall, cpu


def stage(path: Path, db: Path) -> StagedFile:
    steps: dict[str, list[float]] = {}
    clock = Clock(steps)
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
    clock.lap("stage")
    return StagedFile(con, db, int(rows), path.name, headers, {f: types[f] for f in headers}, steps)


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
    if _typed(field, staged):
        return f"CAST(w.{field} AS TIMESTAMP)", f"CAST(w.{field} AS VARCHAR)"
    raw = _text(field, staged)
    formats = ", ".join(f"'{f}'" for f in TIME_FORMATS)
    return f"try_strptime(CAST(w.{field} AS VARCHAR), [{formats}])", raw


def _number(field: str, staged: StagedFile) -> tuple[str, str]:
    if field not in staged.headers:
        return "NULL::DOUBLE", "NULL::VARCHAR"
    if _typed(field, staged):
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

    def unknown(self) -> str:
        """True where `expression()` is NULL, tested on the raw text: the ENUM lookup costs about
        a second per 16 M rows and column, and validation must not pay it again."""
        bad = [r for r, v in zip(self.raw_values, self.stored, strict=True) if v is None]
        if not bad:
            return f"w.{self.field} IS NULL"
        return f"(w.{self.field} IS NULL OR CAST(w.{self.field} AS VARCHAR) IN ({', '.join(map(_literal, bad))}))"

    def among(self, values: tuple[str, ...]) -> str:
        """True where `expression()` is one of `values`, tested on the raw text."""
        raws = [r for r, v in zip(self.raw_values, self.stored, strict=True) if v in values]
        return f"CAST(w.{self.field} AS VARCHAR) IN ({', '.join(map(_literal, raws))})" if raws else "false"


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


def _present(field: str, staged: StagedFile) -> str:
    """True where the file has a value for the field (text: not empty, not "-")."""
    if field not in staged.headers:
        return "false"
    return f"w.{field} IS NOT NULL" if _typed(field, staged) else f"{_text(field, staged)} IS NOT NULL"


def _typed(field: str, staged: StagedFile) -> bool:
    """A time or number column the file already types (Parquet): nothing to parse, so the checks
    "is not a date" and "is not a number" cannot fail and are left out."""
    kind = staged.types.get(field, "VARCHAR").upper()
    if field in ("received_at", "resolved_at"):
        return kind.startswith("TIMESTAMP") or kind == "DATE"
    return kind in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INTEGER", "BIGINT")


def _stored(staged: StagedFile, dims: dict[str, Dimension]) -> dict[str, str]:
    """column of `complaints` -> its value computed from a row of `wide w`."""
    columns = {
        "complaint_id": _text("complaint_id", staged),
        "received_at": _timestamp("received_at", staged)[0],
    }
    for field in DIMENSIONS:
        column = "district_code" if field == "district" else field
        columns[column] = dims[field].expression() if field in dims else "NULL::VARCHAR"
    columns["resolved_at"] = _timestamp("resolved_at", staged)[0]
    columns["lat"] = _number("lat", staged)[0]
    columns["lon"] = _number("lon", staged)[0]
    return columns


def _checks(staged: StagedFile, dims: dict[str, Dimension], now: str) -> list[tuple[str, str]]:
    """(condition on a row of `wide w` that makes it bad, reason) pairs. Evaluated in one scan of
    the file before anything is stored, so each is written against the raw row as cheaply as it
    can be (dimensions by their raw values, typed columns without parsing). Reasons name the file's
    own headers and quote its raw text."""
    h = {f.name: staged.headers.get(f.name, f.headers[0]) for f in FIELDS}
    lat0, lat1, lon0, lon1 = SEOUL_BOX
    received, resolved = _timestamp("received_at", staged)[0], _timestamp("resolved_at", staged)[0]
    lat, lon = _number("lat", staged)[0], _number("lon", staged)[0]
    has_lat, has_lon = _present("lat", staged), _present("lon", staged)

    def quoted(field: str) -> str:
        if field not in staged.headers:
            return "'empty'"
        return f"""coalesce('"' || CAST(w.{field} AS VARCHAR) || '"', 'empty')"""

    def unparsed(field: str, parsed: str) -> str | None:
        return None if _typed(field, staged) else f"{_present(field, staged)} AND {parsed} IS NULL"

    def unknown(field: str) -> str:
        return dims[field].unknown() if field in dims else "true"

    checks = [
        (f"{_text('complaint_id', staged)} IS NULL", f"{h['complaint_id']} is empty"),
        (f"NOT ({_present('received_at', staged)})", f"{h['received_at']} is empty"),
        (
            unparsed("received_at", received),
            f"'{h['received_at']} ' || {quoted('received_at')} || ' is not a date and time (year first)'",
        ),
        (
            f"{received} < TIMESTAMP '{EARLIEST}' OR {received} > TIMESTAMP '{now}' + INTERVAL {FUTURE_SLACK_H} HOUR",
            f"'{h['received_at']} ' || CAST({received} AS VARCHAR) || ' is before {EARLIEST[:4]} or in the future'",
        ),
        (unknown("district"), f"'{h['district']} ' || {quoted('district')} || ' is not one of Seoul''s 25 districts'"),
        (unknown("category"), f"{h['category']} is empty"),
        (unknown("channel"), f"'{h['channel']} ' || {quoted('channel')} || ' is not a known channel'"),
        (unknown("status"), f"'{h['status']} ' || {quoted('status')} || ' is not a known status'"),
        (
            unparsed("resolved_at", resolved),
            f"'{h['resolved_at']} ' || {quoted('resolved_at')} || ' is not a date and time (year first)'",
        ),
        (f"{resolved} < {received}", f"{h['resolved_at']} is before {h['received_at']}"),
        (
            f"{resolved} IS NOT NULL AND "
            + (dims["status"].among(("received", "in_progress")) if "status" in dims else "false"),
            f"'{h['resolved_at']} is given but {h['status']} is ' || {quoted('status')}",
        ),
        (
            None
            if _typed("lat", staged) and _typed("lon", staged)
            else f"(({has_lat}) AND {lat} IS NULL) OR (({has_lon}) AND {lon} IS NULL)",
            f"{h['lat']}/{h['lon']} is not a number",
        ),
        (f"({has_lat}) <> ({has_lon})", f"only one of {h['lat']} and {h['lon']} is given"),
        (
            f"NOT ({lat} BETWEEN {lat0} AND {lat1} AND {lon} BETWEEN {lon0} AND {lon1})",
            f"{h['lat']}/{h['lon']} outside Seoul",
        ),
    ]
    return [(cond, reason) for cond, reason in checks if cond is not None]


def _reason_literal(reason: str) -> str:
    return reason if reason.startswith("'") else "'" + reason.replace("'", "''") + "'"


def _validate(con, staged: StagedFile, dims: dict[str, Dimension], now: str) -> tuple[int, int]:
    """Creates `invalid` (row_no, reason: the bad rows) and the view `good` (the stored columns of
    the other rows, computed as they are read: materialising them first cost more than the rest of
    the load). Returns (bad rows, rows repeating an earlier id)."""
    checks = _checks(staged, dims, now)
    bad = " OR ".join(f"coalesce({cond}, false)" for cond, _ in checks)
    reasons = ", ".join(f"CASE WHEN coalesce({cond}, false) THEN {_reason_literal(r)} END" for cond, r in checks)
    # Ids that only ever rise cannot repeat, in whatever order the rows were seen: one pass in file
    # order proves most exports clean, and only a file out of order pays for the hash check. (Empty
    # ids are skipped, so a repeat on either side of one is still seen.) The pass reads the ids
    # alone: a window in file order runs on one thread, and the checks are counted on all of them.
    falls = con.execute(
        f"SELECT count(*) FILTER (WHERE id <= before) FROM "
        f"(SELECT id, lag(id IGNORE NULLS) OVER () AS before FROM "
        f"(SELECT {_text('complaint_id', staged)} AS id FROM wide w))"
    ).fetchone()[0]
    bad_rows = con.execute(f"SELECT count(*) FROM wide w WHERE {bad}").fetchone()[0]
    con.execute(
        f"CREATE TEMP TABLE invalid AS SELECT w.row_no, concat_ws('; ', {reasons}) AS reason FROM wide w "
        + (f"WHERE {bad}" if bad_rows else "LIMIT 0")
    )
    stored = ", ".join(f"{e} AS {c}" for c, e in _stored(staged, dims).items())
    keep = "WHERE w.row_no NOT IN (SELECT row_no FROM invalid)"
    con.execute(f"CREATE TEMP VIEW good AS SELECT w.row_no, {stored} FROM wide w {keep if bad_rows else ''}")
    if not falls:
        return int(bad_rows), 0
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
    con.execute(f"CREATE OR REPLACE TEMP VIEW good AS SELECT w.row_no, {stored} FROM wide w {keep}")
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


def _computed() -> dict[str, tuple[str, str]]:
    """column -> (type, expression) of each column the import computes and stores after the
    export's own: the resolution-time bin of a resolved complaint, which the resolution rollup counts
    and its query reads for the days at the edges of a range (computing it there from both
    timestamps cost that query a fifth of its CPU). Declared in the data dictionary, which the
    warehouse also reads to serve them from a version published before they existed; the rollups'
    test checks the bin against bin_sql()."""
    spec = warehouse.dictionary()["tables"]["complaints"]
    return {column: (spec["columns"][column][0], expression) for column, expression in spec["computed"].items()}


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
    computed = _computed()
    stored = COMPLAINTS | {column: sql_type for column, (sql_type, _) in computed.items()}
    declared = ", ".join(f"{c} {enums.get(c, t)}{COMPRESSION.get(c, '')}" for c, t in stored.items())
    con.execute(f"CREATE TABLE out.complaints ({declared})")
    expressions = {column: expression for column, (_, expression) in computed.items()}
    kept = 0
    if merging:
        # Read as the warehouse serves it: a version published before a computed column existed has
        # it computed on the way.
        added = warehouse.computed_missing(con, "serving", "complaints", expressions)
        con.execute(
            f"INSERT INTO out.complaints SELECT {', '.join(stored)} FROM (SELECT *{added} FROM serving.main.complaints) "
            "ANTI JOIN (SELECT complaint_id FROM good) USING (complaint_id)"
        )
        kept = con.execute("SELECT count(*) FROM out.complaints").fetchone()[0]
    computing = "".join(f", {expression} AS {column}" for column, expression in expressions.items())
    con.execute(f"INSERT INTO out.complaints SELECT {_COLUMNS}{computing} FROM good")
    # Receipt order keeps the zone maps tight (the latest records and the days at the edges of a
    # date range read only their own row groups); rows already in order are not sorted again.
    unordered = con.execute(
        "SELECT count(*) FILTER (WHERE received_at < before) FROM "
        "(SELECT received_at, lag(received_at) OVER () AS before FROM out.complaints)"
    ).fetchone()[0]
    if unordered:
        con.execute(f"CREATE TABLE out.complaints_sorted ({declared})")
        con.execute("INSERT INTO out.complaints_sorted SELECT * FROM out.complaints ORDER BY received_at")
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
    """The resolution-time bin of a complaint, as the import stores it in `resolution_bin`."""
    return _bin_sql(resolution_hours())


@dataclass(frozen=True)
class Cube:
    """A rollup table: `base` groups the complaints at the finest level (its keys, then every
    dimension of `bits`, then the counts); `bits` gives each dimension that can be summed away its
    bit in `level`; rows are stored in the order `order`."""

    table: str
    schema: dict[str, str]
    base: str
    bits: dict[str, int]
    counts: tuple[str, ...]
    order: str


def cubes() -> tuple[Cube, ...]:
    return (
        Cube(
            "complaints_cube_daily",
            CUBE_DAILY,
            "SELECT received_at::DATE AS day, district_code, category, channel, count(*)::INTEGER AS complaints, "
            "(count(*) FILTER (WHERE status = 'resolved'))::INTEGER AS resolved, "
            "(count(*) FILTER (WHERE status IN ('received', 'in_progress')))::INTEGER AS open "
            "FROM out.complaints GROUP BY ALL",
            {"district_code": 4, "category": 2, "channel": 1},
            ("complaints", "resolved", "open"),
            "level, district_code, category, channel, day",
        ),
        Cube(
            "complaints_cube_heat",
            CUBE_HEAT,
            "SELECT date_trunc('month', received_at)::DATE AS month, district_code, category, channel, "
            "isodow(received_at)::TINYINT AS weekday, hour(received_at)::TINYINT AS hour, "
            "count(*)::INTEGER AS complaints FROM out.complaints GROUP BY ALL",
            {"district_code": 4, "category": 2, "channel": 1},
            ("complaints",),
            "level, district_code, category, channel, month",
        ),
        Cube(
            "complaints_cube_resolution",
            CUBE_RESOLUTION,
            "SELECT date_trunc('month', received_at)::DATE AS month, district_code, channel, category, "
            "resolution_bin AS bin, count(*)::INTEGER AS complaints "
            "FROM out.complaints WHERE resolution_bin IS NOT NULL GROUP BY ALL",
            {"district_code": 4, "channel": 1},
            ("complaints",),
            "level, district_code, channel, category, month",
        ),
    )


def _build_cube(con, cube: Cube, dims: dict[str, Dimension]) -> None:
    """The cube's finest level is its base as grouped; every coarser level (a set of dimensions
    summed away, GROUPING's bits) is summed from the smallest finer level already built, not from
    the base: a CUBE over the base aggregates all of it once per level, the finest one included.
    Same rows as `GROUP BY keys, CUBE (dimensions)` with '*' for the totals."""
    enum = {"district_code": dims["district"].enum, "category": dims["category"].enum}
    enum["channel"] = dims["channel"].enum
    built: dict[int, tuple[str, int]] = {}
    mask = sum(cube.bits.values())
    for level in sorted((n for n in range(mask + 1) if n & ~mask == 0), key=lambda n: (n.bit_count(), n)):
        temp = f"{cube.table}_{level}"
        if level == 0:
            con.execute(f"CREATE TEMP TABLE {temp} AS {cube.base}")
        else:
            source = min((t for lv, t in built.items() if lv & level == lv), key=lambda t: t[1])[0]
            columns = [c for c in cube.schema if c != "level" and c not in cube.counts]
            kept = ", ".join(c for c in columns if cube.bits.get(c, 0) & level == 0)
            sums = ", ".join(f"sum({c})::INTEGER AS {c}" for c in cube.counts)
            con.execute(f"CREATE TEMP TABLE {temp} AS SELECT {kept}, {sums} FROM {source} GROUP BY ALL")
        built[level] = (temp, con.execute(f"SELECT count(*) FROM {temp}").fetchone()[0])

    def select(level: int, temp: str) -> str:
        out = []
        for column in cube.schema:
            if column == "level":
                out.append(f"{level}::UTINYINT AS level")
            elif column in cube.bits:
                total = f"{_literal(ALL)}::{enum[column]}"
                out.append(
                    f"{total} AS {column}" if level & cube.bits[column] else f"coalesce({column}, {total}) AS {column}"
                )
            else:
                out.append(column)
        return f"SELECT {', '.join(out)} FROM {temp}"

    union = " UNION ALL ".join(select(level, temp) for level, (temp, _) in built.items())
    con.execute(f"CREATE TABLE out.{cube.table} AS {union} ORDER BY {cube.order}")
    for temp, _ in built.values():
        con.execute(f"DROP TABLE {temp}")


def transform(staged: StagedFile, ctx: RunContext) -> Transformed:
    con = staged.con
    now = pd.Timestamp.now(tz=runner.SEOUL).tz_localize(None).floor("s").isoformat(sep=" ")
    extra: dict = {"format": Path(staged.name).suffix.lower().lstrip(".") or "csv", "file_rows": staged.rows}
    extra["steps"] = staged.steps
    clock = Clock(staged.steps)
    serving = _serving(ctx)
    try:
        con.execute("ATTACH ? AS out", [str(staged.db)])
        if serving is not None:
            con.execute("ATTACH ? AS serving (READ_ONLY)", [str(serving)])
        dims = _dimensions(con, staged, serving is not None)
        clock.lap("dimensions")
        bad, dups = _validate(con, staged, dims, now)
        extra["duplicate_ids"] = int(dups)
        clock.lap("validate")
        rejected = _quarantine(con, staged)
        clock.lap("quarantine")
        if staged.rows and bad / staged.rows > ctx.cfg.max_invalid_share:
            # The runner rejects the file; building the rollups of a rejected file would be wasted.
            return Transformed([], rejected, staged.rows, extra=extra, rejected_total=int(bad))
        extra |= _merge(con, dims, serving is not None)
        if serving is not None:
            con.execute("DETACH serving")
        clock.lap("merge")
        for cube in cubes():
            _build_cube(con, cube, dims)
            clock.lap(cube.table.removeprefix("complaints_"))
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
        clock.lap("digest")
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


def run_import(cfg, path: Path, *, source: str, is_sample: bool) -> store.RunRecord:
    return runner.run_staged_import(FEED, cfg, path, fetch, transform, source=source, is_sample=is_sample)


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
