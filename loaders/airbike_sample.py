"""The sample's air and bikes: `RealtimeCityAir` and `bikeList` answered by the sample transport
at the replayed moment of the recorded day (loaders/replay.py), deterministic and seeded.

Air (new wire schema, values as strings): 25 district stations, one reading per hour. Dust follows
a daily curve of a hazy late-autumn day (morning and evening rush peaks, a midday dip) with district
differences, so at the default step (18:00) some districts are 나쁨. The 강북구 station is under
maintenance (점검중) from 13:00 to 20:59. Grades are computed like the city's comprehensive index
(통합대기환경지수) from PM10 and PM2.5 and sent as numbers 1-4.

Bikes: about 2,700 stations named after each district's real landmarks ("102. 망원역 1번출구 앞"),
placed evenly within 0.65 of the district's equivalent radius from its centre and nearer to it
than to any other centre (areas from the southkorea/seoul-maps polygons; checked against them, no
station falls outside Seoul and 94% fall in the district they are named for), with commute-driven
availability: office-area stations fill in the morning rush and empty in the evening, residential
ones the other way round.
Two stations carry 0,0 coordinates, as test stations in the real list do, and are quarantined.
None of it is Seoul's data.
"""

from __future__ import annotations

import json
import math
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np

import settings
from loaders import reference, replay
from loaders.sample import SEED, live_handler

AIR_SERVICE = "RealtimeCityAir"
BIKE_SERVICE = "bikeList"
BIKE_TOP_KEY = "rentBikeStatus"
MAINTENANCE_DISTRICT = "11305"  # 강북구
MAINTENANCE_HOURS = range(13, 21)
PAGE_LIMIT = 1000

_OK = {"CODE": "INFO-000", "MESSAGE": "정상 처리되었습니다"}
_NO_DATA = {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
_TOO_MANY = {"RESULT": {"CODE": "ERROR-336", "MESSAGE": "데이터요청은 한번에 최대 1000건을 넘을 수 없습니다."}}
_BAD_INDEX = {"RESULT": {"CODE": "ERROR-333", "MESSAGE": "요청위치 값의 타입이 유효하지 않습니다."}}
JSON = "application/json;charset=UTF-8"

# City-wide PM2.5 of the recorded day by hour (µg/m³): a hazy November day.
PM25_BY_HOUR = [24, 23, 22, 22, 23, 25, 28, 31, 33, 32, 29, 26, 24, 23, 24, 26, 28, 31, 33, 35, 34, 31, 28, 26]
# District factors: the south-west and south-east (traffic, the Gyeongin industrial belt) run higher.
PM_FACTOR = {
    "도심권": 1.02,
    "동북권": 0.92,
    "서북권": 0.95,
    "서남권": 1.12,
    "동남권": 1.06,
}

# (district, equivalent radius km of its area, station weight, office share -1 residential .. 1 office,
#  landmarks). 구로, 서초 and 노원 have smaller radii than their areas give: their centres sit near an
# edge of an elongated shape. Weights give the rough shape of the real network (more stations in the big flat south),
# not its counts.
DISTRICTS = {
    "11110": (
        2.76,
        95,
        0.6,
        [
            "광화문역",
            "종로3가역",
            "혜화역",
            "동대문역",
            "경복궁역",
            "안국역",
            "종각역",
            "대학로",
            "서울대병원",
            "창신동 주민센터",
        ],
    ),
    "11140": (
        1.78,
        90,
        0.8,
        [
            "시청역",
            "을지로입구역",
            "명동역",
            "충무로역",
            "동대입구역",
            "신당역",
            "서울역",
            "회현역",
            "청계광장",
            "약수역",
        ],
    ),
    "11170": (
        2.64,
        95,
        0.0,
        ["용산역", "이태원역", "삼각지역", "효창공원앞역", "한강진역", "숙대입구역", "용산구청", "이촌역", "녹사평역"],
    ),
    "11200": (
        2.31,
        110,
        0.2,
        ["왕십리역", "성수역", "뚝섬역", "서울숲역", "옥수역", "금호역", "행당역", "한양대역", "응봉역"],
    ),
    "11215": (
        2.33,
        100,
        -0.3,
        ["건대입구역", "구의역", "강변역", "아차산역", "광나루역", "군자역", "어린이대공원역", "광진구청"],
    ),
    "11230": (
        2.13,
        95,
        -0.3,
        ["청량리역", "회기역", "외대앞역", "신설동역", "답십리역", "장한평역", "제기동역", "용두역", "동대문구청"],
    ),
    "11260": (2.43, 85, -0.6, ["상봉역", "중화역", "먹골역", "면목역", "사가정역", "용마산역", "망우역", "중랑구청"]),
    "11290": (
        2.80,
        95,
        -0.5,
        [
            "성신여대입구역",
            "한성대입구역",
            "길음역",
            "미아사거리역",
            "고려대역",
            "월곡역",
            "석계역",
            "안암역",
            "정릉시장",
        ],
    ),
    "11305": (
        2.74,
        70,
        -0.6,
        ["수유역", "미아역", "4.19민주묘지역", "솔샘역", "북한산우이역", "강북구청", "번동사거리"],
    ),
    "11320": (2.56, 75, -0.7, ["쌍문역", "창동역", "방학역", "도봉역", "도봉산역", "도봉구청", "창동 문화체육센터"]),
    "11350": (
        3.0,
        130,
        -0.7,
        ["노원역", "상계역", "중계역", "하계역", "공릉역", "태릉입구역", "마들역", "당고개역", "노원구청", "월계역"],
    ),
    "11380": (
        3.08,
        105,
        -0.6,
        ["연신내역", "불광역", "구파발역", "응암역", "녹번역", "새절역", "역촌역", "은평구청", "수색역"],
    ),
    "11410": (
        2.38,
        90,
        -0.3,
        ["신촌역", "이대역", "홍제역", "독립문역", "서대문역", "가좌역", "무악재역", "연세대 정문", "서대문구청"],
    ),
    "11440": (
        2.74,
        150,
        0.2,
        [
            "망원역",
            "합정역",
            "홍대입구역",
            "상수역",
            "마포역",
            "공덕역",
            "디지털미디어시티역",
            "월드컵경기장역",
            "망원한강공원",
            "마포구청",
        ],
    ),
    "11470": (
        2.35,
        120,
        -0.5,
        ["목동역", "오목교역", "신정네거리역", "양천구청역", "신목동역", "목동운동장", "신월동 주민센터", "파리공원"],
    ),
    "11500": (
        3.63,
        175,
        -0.2,
        [
            "마곡역",
            "발산역",
            "우장산역",
            "화곡역",
            "까치산역",
            "가양역",
            "등촌역",
            "김포공항역",
            "강서구청",
            "마곡나루역",
        ],
    ),
    "11530": (
        1.5,
        110,
        0.3,
        [
            "구로디지털단지역",
            "신도림역",
            "대림역",
            "구일역",
            "개봉역",
            "오류동역",
            "구로역",
            "남구로역",
            "고척스카이돔",
        ],
    ),
    "11545": (2.03, 80, 0.4, ["가산디지털단지역", "독산역", "금천구청역", "시흥사거리", "독산동 우시장", "금천구청"]),
    "11560": (
        2.80,
        160,
        0.5,
        [
            "여의도역",
            "여의나루역",
            "영등포역",
            "당산역",
            "문래역",
            "영등포구청역",
            "신길역",
            "대방역",
            "여의도한강공원",
            "국회의사당역",
        ],
    ),
    "11590": (
        2.28,
        100,
        -0.4,
        [
            "노량진역",
            "사당역",
            "이수역",
            "숭실대입구역",
            "상도역",
            "장승배기역",
            "흑석역",
            "신대방삼거리역",
            "동작구청",
        ],
    ),
    "11620": (
        3.06,
        105,
        -0.6,
        ["서울대입구역", "신림역", "봉천역", "낙성대역", "신대방역", "관악구청", "서울대 정문", "신원시장"],
    ),
    "11650": (
        2.8,
        140,
        0.4,
        [
            "강남역",
            "교대역",
            "서초역",
            "양재역",
            "고속터미널역",
            "방배역",
            "내방역",
            "반포한강공원",
            "예술의전당",
            "양재시민의숲역",
        ],
    ),
    "11680": (
        3.54,
        165,
        0.6,
        [
            "선릉역",
            "역삼역",
            "삼성역",
            "압구정역",
            "신사역",
            "논현역",
            "학동역",
            "대치역",
            "도곡역",
            "수서역",
            "강남구청역",
        ],
    ),
    "11710": (
        3.28,
        185,
        -0.2,
        [
            "잠실역",
            "석촌역",
            "송파역",
            "가락시장역",
            "문정역",
            "방이역",
            "올림픽공원역",
            "잠실새내역",
            "오금역",
            "송파구청",
        ],
    ),
    "11740": (
        2.79,
        120,
        -0.5,
        ["천호역", "강동역", "길동역", "암사역", "명일역", "고덕역", "상일동역", "둔촌동역", "강동구청역"],
    ),
}
STATION_SUFFIXES = [f"{n}번출구 앞" for n in range(1, 9)] + ["앞", "옆", "건너편", "버스정류장", "사거리", "교차로"]
PLACE_SUFFIXES = ["앞", "정문", "건너편", "옆", "입구", "후문", "버스정류장"]
APARTMENTS = ["래미안", "자이", "힐스테이트", "푸르지오", "e편한세상", "아이파크", "롯데캐슬", "현대", "삼성", "한신"]
TOTAL_STATIONS = 2700
RACKS = [5, 8, 10, 10, 12, 15, 15, 15, 20, 20, 20, 25, 30, 40]


def recorded_day(sample_path: Path) -> date:
    try:
        return date.fromisoformat(json.loads((Path(sample_path) / "manifest.json").read_text("utf-8"))["end"])
    except (OSError, ValueError, KeyError):
        return date.fromisoformat(settings.get().sample_end_date)


def _window(parts: list[str]) -> tuple[int, int] | dict:
    if len(parts) < 5 or not (parts[3].isdigit() and parts[4].isdigit()):
        return _BAD_INDEX
    start, end = int(parts[3]), int(parts[4])
    if end - start + 1 > PAGE_LIMIT:
        return _TOO_MANY
    return start, end


def _answer(doc: dict) -> tuple[bytes, str]:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), JSON


# --- air ----------------------------------------------------------------------------------------


def _sub_index(value: float, breaks: list[float]) -> float:
    """The city index's linear interpolation: concentration breakpoints -> 0/50/100/250/500."""
    index = [0, 50, 100, 250, 500]
    for i in range(1, len(breaks)):
        if value <= breaks[i]:
            lo, hi = breaks[i - 1], breaks[i]
            return index[i - 1] + (index[i] - index[i - 1]) * (value - lo) / (hi - lo)
    return 500.0


def cai(pm10: float, pm25: float) -> tuple[int, int]:
    """(index, grade 1-4) from the dust sub-indices (PM10 30/80/150, PM2.5 15/35/75 µg/m³)."""
    value = max(_sub_index(pm10, [0, 30, 80, 150, 600]), _sub_index(pm25, [0, 15, 35, 75, 500]))
    grade = 1 if value <= 50 else 2 if value <= 100 else 3 if value <= 250 else 4
    return round(value), grade


def air_rows(day: date, step: int) -> list[dict]:
    """The 25 stations' reading for the hour the step falls in, in the new wire schema."""
    hour = (step % replay.STEPS) // 12
    rng = np.random.default_rng([SEED, 7, hour])
    ref = reference.districts()
    noise = rng.normal(0, 0.07, size=(len(ref), 4))
    district_bias = np.random.default_rng([SEED, 8]).normal(0, 0.06, size=len(ref))
    rows = []
    for i, d in enumerate(ref.itertuples()):
        factor = PM_FACTOR[d.region_ko] * (1 + district_bias[i])
        pm25 = PM25_BY_HOUR[hour] * factor * (1 + noise[i, 0])
        pm10 = pm25 * 1.75 * (1 + noise[i, 1])
        o3 = max(0.004, 0.012 + 0.024 * math.exp(-(((hour - 15) / 3.2) ** 2))) * (1 + noise[i, 2])
        no2 = (0.022 + 0.014 * (hour in (7, 8, 9, 18, 19, 20))) * factor * (1 + noise[i, 3])
        index, grade = cai(round(pm10), round(pm25))
        row = {
            "MSRMT_DT": f"{day.isoformat()} {hour:02d}:00",
            "SAREA_NM": d.region_ko,
            "MSRSTN_NM": d.name_ko,
            "PM": str(round(pm10)),
            "FPM": str(round(pm25)),
            "OZON": f"{o3:.3f}",
            "NTDX": f"{no2:.3f}",
            "CBMX": f"{0.45 + 0.25 * factor * (1 + noise[i, 3]):.1f}",
            "SPDX": f"{0.003 * factor:.3f}",
            "CAI_GRD": str(grade),
            "CAI_IDX": str(index),
        }
        if d.sig_cd == MAINTENANCE_DISTRICT and hour in MAINTENANCE_HOURS:
            row.update(PM="점검중", FPM="점검중", CAI_GRD="", CAI_IDX="점검중")
        rows.append(row)
    return rows


@live_handler(AIR_SERVICE)
def answer_air(parts: list[str], step: int, sample_path: Path) -> tuple[bytes, str]:
    window = _window(parts)
    if isinstance(window, dict):
        return _answer(window)
    rows = air_rows(recorded_day(sample_path), step)
    page = rows[window[0] - 1 : window[1]]
    if not page:
        return _answer(_NO_DATA)
    return _answer({AIR_SERVICE: {"list_total_count": len(rows), "RESULT": _OK, "row": page}})


# --- bikes --------------------------------------------------------------------------------------


def _station_names(rng: np.random.Generator, landmarks: list[str], count: int) -> list[str]:
    names = [f"{lm} {s}" for lm in landmarks for s in (STATION_SUFFIXES if lm.endswith("역") else PLACE_SUFFIXES)]
    stem = landmarks[0].removesuffix("역")
    names += [f"{stem} {apt} {n}단지 정문" for apt in APARTMENTS for n in range(1, 7)]
    names += [f"{lm.removesuffix('역')}초등학교 앞" for lm in landmarks if lm.endswith("역")]
    picked = rng.choice(len(names), size=count, replace=False)
    return [names[i] for i in picked]


@cache
def bike_layout() -> dict[str, np.ndarray]:
    """Every station's fixed attributes: id, name, position, racks, base fill, commute type."""
    rng = np.random.default_rng([SEED, 20])
    ref = reference.districts().set_index("sig_cd")
    weights = np.array([v[1] for v in DISTRICTS.values()], dtype=float)
    counts = np.floor(weights / weights.sum() * (TOTAL_STATIONS - 2)).astype(int)
    counts[np.argsort(-weights)[: TOTAL_STATIONS - 2 - counts.sum()]] += 1
    names, lat, lon, office = [], [], [], []
    centres = ref[["lat", "lon"]]
    for (code, (radius_km, _w, office_share, landmarks)), count in zip(DISTRICTS.items(), counts, strict=True):
        block = 100 + 250 * list(DISTRICTS).index(code)  # station numbers run in blocks per district
        for k, name in enumerate(_station_names(rng, landmarks, count)):
            names.append(f"{block + k}. {name}")
        y, x = _points_of_district(rng, code, 0.65 * radius_km, count, centres)
        lat += list(y)
        lon += list(x)
        office += list(np.clip(office_share + rng.normal(0, 0.45, count), -1, 1))
    names += ["9998. 시스템 점검용 (테스트)", "9999. 정비센터 (테스트)"]
    lat += [0.0, 0.0]
    lon += [0.0, 0.0]
    office += [0.0, 0.0]
    n = len(names)
    ids = rng.permutation(np.arange(3, 3 + n + 900))[:n]
    order = np.argsort(ids)
    return {
        "id": np.array([f"ST-{i}" for i in ids])[order],
        "name": np.array(names)[order],
        "lat": np.array(lat)[order],
        "lon": np.array(lon)[order],
        "racks": rng.choice(RACKS, size=n)[order],
        "base": rng.uniform(0.2, 0.65, size=n)[order],
        "office": np.array(office)[order],
        "phase": rng.uniform(0, 2 * np.pi, size=n)[order],
    }


def _points_of_district(rng, code: str, radius_km: float, count: int, centres) -> tuple[np.ndarray, np.ndarray]:
    """`count` points spread evenly within `radius_km` of the district's centre and nearer to it
    than to any other district's centre (so they tile the city instead of leaving gaps)."""
    cy, cx = centres["lat"].to_numpy() * 111.0, centres["lon"].to_numpy() * 88.2
    own = list(centres.index).index(code)
    ys, xs = [], []
    while sum(len(y) for y in ys) < count:
        r = radius_km * np.sqrt(rng.random(400))
        theta = rng.random(400) * 2 * np.pi
        y, x = cy[own] + r * np.sin(theta), cx[own] + r * np.cos(theta)
        nearest = np.hypot(x[:, None] - cx[None, :], y[:, None] - cy[None, :]).argmin(axis=1)
        ys.append(y[nearest == own])
        xs.append(x[nearest == own])
    return np.concatenate(ys)[:count] / 111.0, np.concatenate(xs)[:count] / 88.2


def _smoothstep(a: float, b: float, x: float) -> float:
    t = min(1.0, max(0.0, (x - a) / (b - a)))
    return t * t * (3 - 2 * t)


def bike_counts(step: int) -> np.ndarray:
    """Bikes parked at every station at a step: office stations gain in the morning rush and lose in
    the evening one, residential stations the reverse; trucks rebalance overnight."""
    s = bike_layout()
    hour = (step % replay.STEPS) * replay.STEP_S / 3600
    commute = _smoothstep(6.5, 9.5, hour) - _smoothstep(17.0, 20.5, hour)
    wiggle = 0.08 * np.sin(2 * np.pi * hour / 6 + s["phase"])
    noise = np.random.default_rng([SEED, 21, step % replay.STEPS]).normal(0, 0.04, size=len(s["id"]))
    fill = s["base"] + 0.7 * s["office"] * commute + wiggle + noise
    return np.round(np.clip(fill, 0, 1.5) * s["racks"]).astype(int)


def bike_rows(step: int) -> list[dict]:
    s = bike_layout()
    bikes = bike_counts(step)
    return [
        {
            "rackTotCnt": str(int(s["racks"][i])),
            "stationName": str(s["name"][i]),
            "parkingBikeTotCnt": str(int(bikes[i])),
            "shared": str(round(100 * bikes[i] / s["racks"][i])),
            "stationLatitude": f"{s['lat'][i]:.8f}",
            "stationLongitude": f"{s['lon'][i]:.8f}",
            "stationId": str(s["id"][i]),
        }
        for i in range(len(s["id"]))
    ]


@live_handler(BIKE_SERVICE)
def answer_bikes(parts: list[str], step: int, sample_path: Path) -> tuple[bytes, str]:
    window = _window(parts)
    if isinstance(window, dict):
        return _answer(window)
    page = bike_rows(step)[window[0] - 1 : window[1]]
    if not page:
        return _answer(_NO_DATA)
    # As the real feed: the count is of this page only.
    return _answer({BIKE_TOP_KEY: {"list_total_count": len(page), "RESULT": _OK, "row": page}})
