"""Generated complaints in the shape of a 120 Dasan call-centre / 응답소 export.

Seoul publishes no record-level complaints, so the sample is generated, seeded and deterministic:
`python -m loaders sample` writes `MAYOR_SAMPLE_COMPLAINT_ROWS` rows as a CP949 CSV (the way city
systems export) and imports it through the real loader; `python -m loaders sample-complaints --rows
N --out FILE` writes up to 16,000,000 rows as CSV (UTF-8 or CP949), XLSX or Parquet for benchmarks.

Shape: weekday office hours for calls and visits, evenings and weekends for the web and the app;
fewer complaints at weekends; seasonal swings by topic (snow and heating in winter, noise, pests
and heat in summer); transport the largest topic (45.6% of 120 calls in 2008-2011, less today);
districts in proportion to their population; resolution times that differ by topic (a parked car
in hours, a road repair in days, a tax question in a week or more); complaints of the last weeks
still open. Everything here is generated, not Seoul's records.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loaders import reference

GENERATOR_VERSION = 1
SEED = 120  # the call centre's number
MAX_ROWS = 16_000_000
CHUNK_ROWS = 2_000_000

# (category, share of complaints, median hours to resolve, spread (sigma of log-hours),
#  seasonal amplitude, month of the peak, subcategories)
CATEGORIES = [
    ("교통", 0.31, 20, 1.1, 0.05, 3, ["불법주정차", "버스", "택시", "지하철", "교통신호"]),
    ("환경·청소", 0.13, 30, 0.9, 0.35, 8, ["쓰레기 무단투기", "소음", "악취", "해충 방역"]),
    ("도로·시설", 0.10, 70, 0.8, 0.30, 1, ["도로 파손", "제설", "보도블록", "가로등"]),
    ("주택·건축", 0.09, 150, 0.9, 0.05, 4, ["불법건축물", "공사장 소음", "층간소음", "임대주택"]),
    ("복지", 0.07, 90, 0.8, 0.10, 12, ["기초생활", "어르신 돌봄", "장애인 지원", "아동·보육"]),
    ("안전", 0.06, 12, 1.0, 0.20, 7, ["위험 시설물", "침수", "폭염 쉼터", "CCTV"]),
    ("보건·위생", 0.05, 60, 0.9, 0.25, 7, ["식품 위생", "감염병", "동물 사체"]),
    ("공원·녹지", 0.04, 80, 0.8, 0.25, 6, ["가로수", "공원 시설", "산책로"]),
    ("상하수도", 0.04, 40, 0.9, 0.20, 1, ["누수", "수도 동파", "하수 악취"]),
    ("세무·재정", 0.04, 200, 0.7, 0.30, 7, ["지방세", "과태료", "체납"]),
    ("경제·일자리", 0.03, 160, 0.8, 0.05, 2, ["소상공인", "일자리", "물가"]),
    ("문화·관광", 0.02, 120, 0.8, 0.10, 10, ["축제", "관광 안내", "도서관"]),
    ("행정·기타", 0.02, 100, 1.0, 0.00, 1, ["민원 처리 불만", "정보공개", "기타"]),
]
# (channel label as exports write it, share, hours profile: office | evening)
CHANNELS = [("120 전화", 0.50, "office"), ("응답소", 0.24, "evening"), ("모바일 앱", 0.16, "evening")]
CHANNELS += [("방문", 0.05, "office"), ("기타", 0.05, "office")]
# Share of complaints by hour of day (0-23): calls and visits follow office hours, the web and the
# app the evening; both dip at night.
OFFICE_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 10, 30, 55, 60, 55, 35, 45, 55, 55, 50, 40, 20, 12, 9, 6, 4, 2], float)
EVENING_HOURS = np.array(
    [10, 6, 3, 2, 2, 3, 6, 12, 20, 28, 30, 30, 28, 30, 30, 30, 30, 32, 36, 42, 46, 44, 34, 20], float
)
WEEKDAY_SHARE = {"office": [1.0, 0.95, 0.95, 0.93, 0.9, 0.3, 0.2], "evening": [1.0, 0.95, 0.95, 0.95, 0.9, 0.7, 0.75]}
POPULATION_K = {  # district residents in thousands (about 2024), for the district mix
    "11110": 139, "11140": 121, "11170": 210, "11200": 276, "11215": 335, "11230": 340, "11260": 378,
    "11290": 428, "11305": 282, "11320": 298, "11350": 491, "11380": 463, "11410": 305, "11440": 357,
    "11470": 434, "11500": 561, "11530": 396, "11545": 229, "11560": 376, "11590": 375, "11620": 486,
    "11650": 405, "11680": 536, "11710": 655, "11740": 459,
}  # fmt: skip
OPEN_STATUSES = ["접수", "처리중"]
HEADERS = [
    "민원번호",
    "접수일시",
    "자치구",
    "민원분야",
    "세부분야",
    "접수경로",
    "처리상태",
    "처리완료일시",
    "위도",
    "경도",
]
COORDINATE_SHARE = {"모바일 앱": 0.9, "응답소": 0.5}  # geotagged reports; calls rarely have a point


def span_days(rows: int) -> int:
    """Days the sample covers: a year at least (seasons show), about 11,000 complaints a day at
    scale (16 M rows: four years)."""
    return int(min(4 * 365, max(365, rows / 11_000)))


def _days(end: date, span: int) -> np.ndarray:
    return np.array([end - timedelta(days=span - 1 - i) for i in range(span)], dtype="datetime64[D]")


def _weights(days: np.ndarray, profile: str) -> np.ndarray:
    """Relative number of complaints on each day for a channel profile: weekday, season, growth."""
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    weekdays = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    season = 1 + 0.12 * np.cos(2 * np.pi * (months - 7) / 12) + 0.08 * np.cos(2 * np.pi * (months - 1) / 12)
    growth = np.linspace(0.9, 1.1, len(days))
    return np.array(WEEKDAY_SHARE[profile])[weekdays] * season * growth


def _chunk(rng: np.random.Generator, start_id: int, n: int, days: np.ndarray, end: date) -> dict[str, pa.Array]:
    span = len(days)
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    channel = rng.choice(len(CHANNELS), n, p=[c[1] for c in CHANNELS])

    # Category: base share times its season in the day's month; sampled per season-month.
    cat_share = np.array([c[1] for c in CATEGORIES])
    amplitude = np.array([c[4] for c in CATEGORIES])
    peak = np.array([c[5] for c in CATEGORIES])
    season = 1 + amplitude[None, :] * np.cos(2 * np.pi * (np.arange(1, 13)[:, None] - peak[None, :]) / 12)
    month_cat = cat_share[None, :] * season
    month_cat /= month_cat.sum(axis=1, keepdims=True)

    # Day: weekday pattern by channel profile, a seasonal total, and slow growth over the span.
    out_day = np.empty(n, dtype=np.int64)
    out_hour = np.empty(n, dtype=np.int64)
    for profile, hours in (("office", OFFICE_HOURS), ("evening", EVENING_HOURS)):
        mask = np.isin(channel, [i for i, c in enumerate(CHANNELS) if c[2] == profile])
        k = int(mask.sum())
        weights = _weights(days, profile)
        out_day[mask] = rng.choice(span, k, p=weights / weights.sum())
        out_hour[mask] = rng.choice(24, k, p=hours / hours.sum())
    category = np.empty(n, dtype=np.int64)
    day_month = months[out_day]
    for m in range(1, 13):
        mask = day_month == m
        category[mask] = rng.choice(len(CATEGORIES), int(mask.sum()), p=month_cat[m - 1])
    sub_count = np.array([len(c[6]) for c in CATEGORIES])
    sub_index = rng.integers(0, 1 << 30, n) % sub_count[category]
    sub_names = [s for c in CATEGORIES for s in c[6]]
    sub_offset = np.concatenate([[0], np.cumsum(sub_count)[:-1]])

    codes = list(POPULATION_K)
    pop = np.array([POPULATION_K[c] for c in codes], float)
    district_i = rng.choice(len(codes), n, p=pop / pop.sum())
    districts = reference.districts().set_index("sig_cd").loc[codes]

    seconds = out_hour * 3600 + rng.integers(0, 3600, n)
    received = days[out_day].astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    # Exports list complaints by number, which follows the time of receipt.
    order = np.argsort(received, kind="stable")
    received, channel, category, sub_index = received[order], channel[order], category[order], sub_index[order]
    district_i = district_i[order]

    median_h = np.array([c[2] for c in CATEGORIES], float)[category]
    sigma = np.array([c[3] for c in CATEGORIES])[category]
    hours_to_resolve = np.exp(np.log(median_h) + sigma * rng.standard_normal(n))
    # Calls answered on the line are closed within the hour; a share of calls is exactly that.
    quick = (channel == 0) & (rng.random(n) < 0.25)
    hours_to_resolve[quick] = rng.uniform(0.05, 1.0, int(quick.sum()))
    resolved = received + (hours_to_resolve * 3600).astype("timedelta64[s]")
    cutoff = np.datetime64(datetime.combine(end, datetime.max.time()).replace(microsecond=0), "s")
    is_open = resolved > cutoff
    status = np.where(is_open, np.where(rng.random(n) < 0.3, 0, 1), 2)

    point_share = np.array([COORDINATE_SHARE.get(c[0], 0.05) for c in CHANNELS])[channel]
    has_point = rng.random(n) < point_share
    lat = np.where(has_point, np.round(districts["lat"].to_numpy()[district_i] + rng.normal(0, 0.008, n), 6), np.nan)
    lon = np.where(has_point, np.round(districts["lon"].to_numpy()[district_i] + rng.normal(0, 0.010, n), 6), np.nan)

    year = pc.cast(pa.array(received.astype("datetime64[Y]").astype(np.int64) + 1970), pa.string())
    serial = pc.utf8_lpad(pc.cast(pa.array(start_id + np.arange(n)), pa.string()), 8, "0")

    def labels(index: np.ndarray, names: list[str]) -> pa.Array:
        return pc.cast(pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(names)), pa.string())

    return {
        "민원번호": pc.binary_join_element_wise(year, serial, "-"),
        "접수일시": pa.array(received, pa.timestamp("s")),
        "자치구": labels(district_i, districts["name_ko"].tolist()),
        "민원분야": labels(category, [c[0] for c in CATEGORIES]),
        "세부분야": labels(sub_offset[category] + sub_index, sub_names),
        "접수경로": labels(channel, [c[0] for c in CHANNELS]),
        "처리상태": labels(status, [*OPEN_STATUSES, "처리완료"]),
        "처리완료일시": pa.array(np.where(is_open, np.datetime64("NaT"), resolved), pa.timestamp("s")),
        "위도": pa.array(lat, pa.float64(), from_pandas=True),
        "경도": pa.array(lon, pa.float64(), from_pandas=True),
    }


def chunks(rows: int, end: date, seed: int = SEED):
    """The sample in pieces of at most CHUNK_ROWS rows, as Arrow tables, in the order of receipt
    (each piece covers its own stretch of days, weighted so the whole has the daily shape)."""
    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"--rows must be between 1 and {MAX_ROWS:,}")
    days = _days(end, span_days(rows))
    pieces = -(-rows // CHUNK_ROWS)
    weight = _weights(days, "office") + _weights(days, "evening")
    cum = np.cumsum(weight) / weight.sum()
    bounds = np.searchsorted(cum, np.arange(1, pieces) / pieces)
    starts, stops = np.concatenate([[0], bounds]), np.concatenate([bounds, [len(days)]])
    sizes = np.diff(np.round(np.concatenate([[0], cum[stops - 1]]) * rows).astype(int))
    done = 0
    for i, (lo, hi, n) in enumerate(zip(starts, stops, sizes, strict=True)):
        if n == 0:
            continue
        cols = _chunk(np.random.default_rng([seed, i]), done + 1, int(n), days[lo:hi], end)
        done += int(n)
        yield pa.table(cols).select(HEADERS)


def _as_text(table: pa.Table) -> pa.Table:
    """Times as exports write them ("2026-11-19 14:05:09"), empty where missing."""
    out = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_floating(col.type):
            col = pc.cast(col, pa.string())
        out[name] = pc.fill_null(col, "")
    return pa.table(out)


def write(path: Path, rows: int, end: date, fmt: str | None = None) -> Path:
    """Write the sample to `path`: .parquet, .xlsx, or .csv (UTF-8; fmt="cp949" for CP949)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or path.suffix.lower().lstrip(".")
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "parquet":
        with pq.ParquetWriter(tmp, next(iter(chunks(1, end))).schema) as writer:
            for table in chunks(rows, end):
                writer.write_table(table)
    elif fmt in ("csv", "cp949"):
        with open(tmp, "wb") as f:
            f.write((",".join(HEADERS) + "\r\n").encode(fmt if fmt == "cp949" else "utf-8"))
            for table in chunks(rows, end):
                sink = pa.BufferOutputStream()
                pacsv.write_csv(
                    _as_text(table),
                    sink,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed", eol="\r\n"),
                )
                body = sink.getvalue().to_pybytes()
                f.write(body if fmt == "csv" else body.decode("utf-8").encode("cp949"))
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("민원")
        sheet.append(HEADERS)
        for table in chunks(rows, end):
            for row in _as_text(table).to_pylist():
                sheet.append([row[h] for h in HEADERS])
        book.save(tmp)
    else:
        raise ValueError(f"unknown format {fmt!r}: parquet, csv, cp949 or xlsx")
    tmp.replace(path)
    return path
