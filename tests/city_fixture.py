"""A realistic real-time city warehouse for the traffic and crowds pages, published through
loaders.store the way the city feeds publish (feeds `citydata`, `traffic_history`, `reference`),
with exactly the columns of data/dictionary.toml.

`city_frames()` draws about 120 hotspots, 600 road links with paths, 12-hour forecasts, accidents,
eight days of the city speed log and the weekday curve from a seeded generator; `publish_city()`
writes them. `crowd_frames()` builds small crafted crowd warehouses for the alert tests.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loaders import reference, store
from queries import warehouse

# The sample's recorded day (a Thursday) at the evening peak.
MEASURED_AT = datetime(2026, 11, 19, 18, 0)
LEVELS = ["여유", "보통", "약간 붐빔", "붐빔"]
ROAD_LEVELS = ["원활", "서행", "정체"]
CATEGORIES = ["관광특구", "고궁·문화유산", "인구밀집지역", "발달상권", "공원"]

# Real hotspot names with approximate coordinates; the rest of the ~120 are generated.
KNOWN = [
    ("강남역", "Gangnam Station", "인구밀집지역", 37.4979, 127.0276),
    ("홍대 관광특구", "Hongdae Special Tourist Zone", "관광특구", 37.5563, 126.9236),
    ("명동 관광특구", "Myeong-dong Special Tourist Zone", "관광특구", 37.5636, 126.9827),
    ("광화문·덕수궁", "Gwanghwamun · Deoksugung", "고궁·문화유산", 37.5714, 126.9768),
    ("잠실 관광특구", "Jamsil Special Tourist Zone", "관광특구", 37.5133, 127.1001),
    ("여의도", "Yeouido", "인구밀집지역", 37.5219, 126.9245),
    ("서울역", "Seoul Station", "인구밀집지역", 37.5547, 126.9707),
    ("이태원 관광특구", "Itaewon Special Tourist Zone", "관광특구", 37.5345, 126.9946),
    ("성수카페거리", "Seongsu Cafe Street", "발달상권", 37.5446, 127.0557),
    ("가로수길", "Garosu-gil", "발달상권", 37.5206, 127.0230),
    ("북촌한옥마을", "Bukchon Hanok Village", "고궁·문화유산", 37.5826, 126.9830),
    ("경복궁", "Gyeongbokgung", "고궁·문화유산", 37.5796, 126.9770),
    ("창덕궁·종묘", "Changdeokgung · Jongmyo", "고궁·문화유산", 37.5794, 126.9910),
    ("남산공원", "Namsan Park", "공원", 37.5509, 126.9908),
    ("여의도한강공원", "Yeouido Hangang Park", "공원", 37.5284, 126.9327),
    ("뚝섬한강공원", "Ttukseom Hangang Park", "공원", 37.5292, 127.0697),
    ("서울숲공원", "Seoul Forest", "공원", 37.5444, 127.0374),
    ("신촌·이대역", "Sinchon · Ewha Womans Univ. Station", "인구밀집지역", 37.5568, 126.9402),
    ("건대입구역", "Konkuk Univ. Station", "인구밀집지역", 37.5404, 127.0692),
    ("고속터미널역", "Express Bus Terminal Station", "인구밀집지역", 37.5049, 127.0049),
    ("용산역", "Yongsan Station", "인구밀집지역", 37.5298, 126.9648),
    ("노량진", "Noryangjin", "발달상권", 37.5131, 126.9425),
    ("왕십리역", "Wangsimni Station", "인구밀집지역", 37.5612, 127.0371),
    ("연남동", "Yeonnam-dong", "발달상권", 37.5620, 126.9250),
    ("익선동", "Ikseon-dong", "발달상권", 37.5743, 126.9897),
    ("압구정로데오거리", "Apgujeong Rodeo Street", "발달상권", 37.5273, 127.0390),
    ("강남 MICE 관광특구", "Gangnam MICE Special Tourist Zone", "관광특구", 37.5116, 127.0594),
    ("동대문 관광특구", "Dongdaemun Special Tourist Zone", "관광특구", 37.5663, 127.0092),
    ("종로·청계 관광특구", "Jongno · Cheonggye Special Tourist Zone", "관광특구", 37.5700, 126.9920),
    ("인사동", "Insa-dong", "발달상권", 37.5740, 126.9856),
]
ROADS = [
    "세종대로",
    "테헤란로",
    "올림픽대로",
    "강남대로",
    "종로",
    "을지로",
    "퇴계로",
    "한강대로",
    "도산대로",
    "영동대로",
    "남부순환로",
    "동일로",
    "강변북로",
    "마포대로",
    "왕산로",
    "천호대로",
]
# People in the area by level, as the city's estimates range (lower bound, width).
POPULATION = {1: (2000, 2000), 2: (8000, 4000), 3: (18000, 6000), 4: (30000, 8000)}


def columns(table: str) -> dict[str, str]:
    return {c: ty for c, (ty, _m) in warehouse.dictionary()["tables"][table]["columns"].items()}


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows in the dictionary's column order; a missing column is an error, not a silent NULL."""
    cols = list(columns(table))
    out = pd.DataFrame(rows, columns=cols)
    for row in rows:
        assert set(row) == set(cols), (table, set(cols) ^ set(row))
    return out


def _district_of(lat: float, lon: float, districts: pd.DataFrame) -> str:
    d = (districts["lat"] - lat) ** 2 + ((districts["lon"] - lon) * 0.79) ** 2
    return str(districts.loc[d.idxmin(), "sig_cd"])


def hotspot_rows(n: int, rng: np.random.Generator) -> list[dict]:
    districts = reference.districts()
    rows = []
    for i in range(n):
        if i < len(KNOWN):
            name, name_en, category, lat, lon = KNOWN[i]
        else:
            lat, lon = float(rng.uniform(37.47, 37.65)), float(rng.uniform(126.84, 127.14))
            name, name_en, category = f"생활권 {i + 1}", f"Neighbourhood {i + 1}", CATEGORIES[i % len(CATEGORIES)]
        rows.append(
            {
                "area_code": f"POI{i + 1:03d}",
                "area_name": name,
                "area_name_en": name_en,
                "category": category,
                "district_code": _district_of(lat, lon, districts),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "coord_source": "listed" if i < len(KNOWN) else "derived from link coordinates",
            }
        )
    return rows


def crowd_row(spot: dict, rank: int, measured_at: datetime, rng: np.random.Generator | None = None) -> dict:
    low, width = POPULATION[rank]
    ages = np.array([4, 9, 24, 21, 15, 12, 9, 6], dtype=float)
    if rng is not None:
        ages = ages * rng.uniform(0.7, 1.3, size=8)
    ages = np.round(ages / ages.sum() * 100, 1)
    male = 48.0 if rng is None else round(float(rng.uniform(40, 60)), 1)
    resident = 22.0 if rng is None else round(float(rng.uniform(5, 45)), 1)
    return {
        "area_code": spot["area_code"],
        "area_name": spot["area_name"],
        "congestion_level": LEVELS[rank - 1],
        "congestion_rank": rank,
        "congestion_message": f"{spot['area_name']} 주변은 {LEVELS[rank - 1]} 상태입니다.",
        "population_min": low,
        "population_max": low + width,
        "male_pct": male,
        "female_pct": round(100 - male, 1),
        **{f"age_{a}_pct": float(v) for a, v in zip(range(0, 80, 10), ages, strict=True)},
        "resident_pct": resident,
        "non_resident_pct": round(100 - resident, 1),
        "measured_at": measured_at,
    }


def forecast_rows(area_code: str, measured_at: datetime, ranks: list[int]) -> list[dict]:
    """One row per hour after the reading: ranks[0] is the first full hour after measured_at."""
    first = measured_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rows = []
    for h, rank in enumerate(ranks):
        low, width = POPULATION[rank]
        rows.append(
            {
                "area_code": area_code,
                "measured_at": measured_at,
                "forecast_at": first + timedelta(hours=h),
                "congestion_level": LEVELS[rank - 1],
                "congestion_rank": rank,
                "population_min": low,
                "population_max": low + width,
            }
        )
    return rows


def level_of_speed(speed: float) -> str:
    # The city's cut-offs for ordinary roads: under 15 km/h jammed, under 25 slow.
    return "정체" if speed < 15 else ("서행" if speed < 25 else "원활")


def link_rows(spots: list[dict], n: int, rng: np.random.Generator, measured_at: datetime, points: int) -> list[dict]:
    rows = []
    for i in range(n):
        spot = spots[i % len(spots)]
        angle = float(rng.uniform(0, 2 * math.pi))
        length_m = float(rng.uniform(200, 1500))
        start_lat = spot["lat"] + float(rng.normal(0, 0.004))
        start_lon = spot["lon"] + float(rng.normal(0, 0.005))
        bend = float(rng.normal(0, 0.0004))
        path = []
        for k in range(points):
            f = k / (points - 1)
            dlat = math.sin(angle) * length_m * f / 111_000
            dlon = math.cos(angle) * length_m * f / 88_000
            wobble = bend * math.sin(math.pi * f)
            path.append([round(start_lon + dlon - wobble, 7), round(start_lat + dlat + wobble, 7)])
        speed = round(float(np.clip(rng.gamma(4.0, 6.0), 3, 70)), 1)
        road = ROADS[i % len(ROADS)]
        rows.append(
            {
                "link_id": f"{1220000000 + i * 7:010d}",
                "area_code": spot["area_code"],
                "road_name": road,
                "start_node": f"{road} 시점 {i}",
                "end_node": f"{road} 종점 {i}",
                "distance_m": round(length_m, 1),
                "speed_kmh": speed,
                "level": level_of_speed(speed),
                "path": json.dumps(path),
                "measured_at": measured_at,
            }
        )
    return rows


def usual_speed(hour: int) -> float:
    """A weekday's city speed: fast at night, dips at the morning and evening peaks."""
    return (
        30
        + 8 * math.cos((hour - 3) / 24 * 2 * math.pi)
        - 6 * math.exp(-((hour - 8) ** 2) / 2)
        - 7 * math.exp(-((hour - 18.5) ** 2) / 3)
    )


def curve_rows() -> list[dict]:
    rows = []
    for weekday in range(1, 8):
        lift = 4.0 if weekday >= 6 else 0.0  # weekends run faster
        for hour in range(24):
            avg = round(usual_speed(hour) + lift, 2)
            rows.append(
                {
                    "weekday": weekday,
                    "hour": hour,
                    "avg_speed_kmh": avg,
                    "p25_speed_kmh": round(avg - 1.8, 2),
                    "p75_speed_kmh": round(avg + 1.6, 2),
                    "days": 4 if weekday != 4 else 5,
                }
            )
    return rows


def speed_log_rows(measured_at: datetime, rng: np.random.Generator, hotspots: int) -> list[dict]:
    """Every five minutes back from measured_at to the start of the same weekday a week before."""
    rows = []
    start = (measured_at - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
    steps = int((measured_at - start).total_seconds() // 300)
    for k in range(steps, -1, -1):
        t = measured_at - timedelta(minutes=5 * k)
        usual = usual_speed(t.hour) + (4.0 if t.isoweekday() >= 6 else 0.0)
        # Hotspot roads run a little slower than the city-wide links of the curve.
        rows.append(
            {
                "measured_at": t,
                "avg_speed_kmh": round(usual - 2.5 + float(rng.normal(0, 0.8)), 2),
                "hotspots": hotspots,
            }
        )
    return rows


def event_rows(spots: list[dict], measured_at: datetime, rng: np.random.Generator, n: int = 12) -> list[dict]:
    kinds = [("사고", "추돌사고"), ("공사", "도로공사"), ("통제", "행사통제"), ("사고", "차량고장")]
    rows = []
    for i in range(n):
        spot = spots[(i * 7) % len(spots)]
        kind, detail = kinds[i % len(kinds)]
        occurred = measured_at - timedelta(minutes=int(rng.integers(5, 240)))
        clear = None if i % 5 == 4 else measured_at + timedelta(minutes=int(rng.integers(-30, 180)))
        lon = round(spot["lon"] + float(rng.normal(0, 0.003)), 6)
        lat = round(spot["lat"] + float(rng.normal(0, 0.003)), 6)
        rows.append(
            {
                "event_id": f"ev{i:04d}",
                "area_code": spot["area_code"],
                "kind": kind,
                "detail": detail,
                "info": f"{spot['area_name']} 부근 {detail}로 {1 + i % 2}개 차로 통제",
                "occurred_at": occurred,
                "expected_clear_at": clear,
                "lon": lon,
                "lat": lat,
            }
        )
    return rows


def city_frames(
    hotspots: int = 120,
    links: int = 600,
    measured_at: datetime = MEASURED_AT,
    seed: int = 20261119,
    points: int = 12,
) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    spots = hotspot_rows(hotspots, rng)
    ranks = rng.choice([1, 2, 3, 4], size=hotspots, p=[0.35, 0.35, 0.2, 0.1])
    crowd, forecast, traffic, weather, fetch = [], [], [], [], []
    for spot, rank in zip(spots, ranks, strict=True):
        rank = int(rank)
        crowd.append(crowd_row(spot, rank, measured_at, rng))
        walk = [rank]
        for _ in range(12):
            walk.append(int(np.clip(walk[-1] + rng.choice([-1, 0, 0, 1]), 1, 4)))
        forecast += forecast_rows(spot["area_code"], measured_at, walk[1:])
        speed = round(float(rng.uniform(8, 40)), 1)
        traffic.append(
            {
                "area_code": spot["area_code"],
                "area_name": spot["area_name"],
                "avg_speed_kmh": speed,
                "traffic_index": level_of_speed(speed),
                "message": f"{spot['area_name']} 주변 도로는 평균 {speed} km/h입니다.",
                "measured_at": measured_at,
            }
        )
        pm10 = round(float(rng.uniform(15, 90)), 0)
        weather.append(
            {
                "area_code": spot["area_code"],
                "measured_at": measured_at,
                "temp_c": 6.5,
                "humidity_pct": 55.0,
                "precipitation": "없음",
                "pm10": pm10,
                "pm25": round(pm10 * 0.55, 0),
                "pm10_grade": "좋음" if pm10 <= 30 else ("보통" if pm10 <= 80 else "나쁨"),
                "pm25_grade": "보통",
                "air_grade": "보통",
            }
        )
        fetch.append(
            {
                "area_code": spot["area_code"],
                "area_name": spot["area_name"],
                "outcome": "ok",
                "api_code": "INFO-000",
                "message": "",
            }
        )
    return {
        "hotspots": frame("hotspots", spots),
        "hotspot_crowd": frame("hotspot_crowd", crowd),
        "hotspot_forecast": frame("hotspot_forecast", forecast),
        "hotspot_traffic": frame("hotspot_traffic", traffic),
        "road_links": frame("road_links", link_rows(spots, links, rng, measured_at, points)),
        "road_events": frame("road_events", event_rows(spots, measured_at, rng)),
        "hotspot_weather": frame("hotspot_weather", weather),
        "hotspot_fetch": frame("hotspot_fetch", fetch),
        "city_speed_log": frame("city_speed_log", speed_log_rows(measured_at, rng, hotspots)),
        "traffic_weekday_curve": frame("traffic_weekday_curve", curve_rows()),
    }


FEED_TABLES = {
    "citydata": [
        "hotspot_crowd",
        "hotspot_forecast",
        "hotspot_traffic",
        "road_links",
        "road_events",
        "hotspot_weather",
        "hotspot_fetch",
        "city_speed_log",
    ],
    "traffic_history": ["traffic_weekday_curve"],
    "reference": ["hotspots"],
}


def publish_city(data_dir: Path, frames: dict[str, pd.DataFrame], *, is_sample: bool = True) -> None:
    """Publish the frames as the feeds would; the reference feed also carries the 25 districts."""
    for feed, tables in FEED_TABLES.items():
        out = [store.Table(t, columns(t), frames[t]) for t in tables if t in frames]
        if feed == "reference":
            out.append(store.Table("districts", reference.DISTRICT_COLUMNS, reference.districts()))
        if not out:
            continue
        as_of = None
        if "measured_at" in out[0].frame and len(out[0].frame):
            as_of = str(pd.Timestamp(out[0].frame["measured_at"].max()))
        store.publish(
            data_dir,
            feed,
            out,
            run_id=store.new_run_id(feed),
            as_of=as_of,
            is_sample=is_sample,
            source="test fixture",
        )


def crowd_frames(spots: list[tuple], measured_at: datetime = MEASURED_AT) -> dict[str, pd.DataFrame]:
    """A crafted crowd warehouse: each spot is (code, name, lat, lon, current_rank, forecast_ranks)."""
    hotspots, crowd, forecast = [], [], []
    for code, name, lat, lon, rank, ranks in spots:
        spot = {
            "area_code": code,
            "area_name": name,
            "area_name_en": f"{name} (en)",
            "category": "관광특구",
            "district_code": "11140",
            "lat": lat,
            "lon": lon,
            "coord_source": "listed",
        }
        hotspots.append(spot)
        crowd.append(crowd_row(spot, rank, measured_at))
        forecast += forecast_rows(code, measured_at, ranks)
    return {
        "hotspots": frame("hotspots", hotspots),
        "hotspot_crowd": frame("hotspot_crowd", crowd),
        "hotspot_forecast": frame("hotspot_forecast", forecast),
    }


def offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    """A point north_km / east_km away (small distances, spherical Earth)."""
    return lat + north_km / 111.195, lon + east_km / (111.195 * math.cos(math.radians(lat)))


# --- pytest fixtures (import them into a test module to use them) --------------------------------


@pytest.fixture(scope="session")
def city_source(tmp_path_factory) -> Path:
    """The realistic city warehouse, published once; copy it, never modify it."""
    root = tmp_path_factory.mktemp("city-warehouse")
    publish_city(root, city_frames())
    return root


@pytest.fixture
def city_data_dir(city_source, isolated_env) -> Path:
    """This test's data directory, holding a copy of the city warehouse."""
    shutil.copytree(city_source, isolated_env, dirs_exist_ok=True)
    warehouse._warehouses.clear()
    return isolated_env
