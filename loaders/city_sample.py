"""The real-time sample: Seoul's hotspots through one recorded day, answered in wire format.

The day is MAYOR_SAMPLE_END_DATE (read from the sample's manifest) in 288 five-minute steps; the
transport asks `replay.current_step()` and these handlers answer `citydata`, `citydata_ppltn`,
`TrafficInfo` and `LinkInfo` for that moment, computed on the fly (no files) and deterministic:
the same step always gives the same bytes. Nothing here is Seoul's data.

- Crowds follow a daily curve per category (stations: commuter peaks and an evening peak;
  commercial streets: lunch and a late evening; palaces: opening hours; parks: the afternoon),
  scaled per hotspot; the 12-hour forecast follows the same curve, so at the default step (18:00)
  several hotspots are forecast to reach 붐빔 within the next hours.
- Road links (8 per hotspot, both directions of two crossing roads; river parks sit on 올림픽대로
  or 강변북로) slow down in the morning and evening rush hours; neighbouring hotspots report some
  of the same links.
- A handful of accidents, works and closures start and clear through the day; a few are
  reported by two hotspots, some have no expected clearance.
- Weather and fine dust by district (a late-autumn day), with a few "점검중" and empty values.
- Wire quirks on purpose: some hotspots answer INFO-200, half spell ROAD_TRFFIC_TIME, some send a
  block as a dict or a list, some have an empty link list.
"""

from __future__ import annotations

import csv
import json
import math
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

import datadir
from loaders import hotspots, reference, replay, roads
from loaders.sample import live_handler

GENERATOR_VERSION = 2
NO_DATA_AREAS = ("POI086", "POI102", "POI112")  # answer INFO-200, as a paused or retired place does
EMPTY_LINK_AREAS = ("POI091", "POI096", "POI107")  # an average road speed but an empty link list
# Where the hotspots listed without coordinates really are, so their links (and the coordinates
# the hotspots loader derives from them) land in the right place.
HIDDEN_POSITIONS = {"POI125": (37.5265, 126.8800), "POI128": (37.5793, 126.9345)}
CAPACITY = {"관광특구": 60_000, "고궁·문화유산": 14_000, "인구밀집지역": 36_000, "발달상권": 24_000, "공원": 20_000}
BUSY = {
    "POI014": 1.12,
    "POI055": 1.12,
    "POI007": 1.08,
    "POI119": 1.06,
    "POI003": 1.02,
    "POI068": 1.02,
    "POI073": 1.0,
    "POI040": 1.0,
    "POI039": 1.0,
    "POI017": 0.98,
    "POI033": 0.98,
    "POI053": 0.98,
}
LEVEL_CUTS = (0.42, 0.62, 0.80)  # share of a hotspot's capacity: 여유 | 보통 | 약간 붐빔 | 붐빔
LEVELS = ("여유", "보통", "약간 붐빔", "붐빔")
MESSAGES = {
    "여유": "사람이 몰려있을 가능성이 낮고 붐빔은 거의 느껴지지 않아요. 도보 이동이 자유로워요.",
    "보통": "사람이 몰려있을 수 있지만 크게 붐비지는 않아요. 도보 이동에 큰 제약이 없어요.",
    "약간 붐빔": "사람들이 몰려있을 가능성이 크고 붐빈다고 느낄 수 있어요. 인구밀도가 높은 구간에서는 도보 이동시 부딪힘이 발생할 수 있어요.",
    "붐빔": "사람들이 몰려있을 가능성이 매우 크고 많이 붐빈다고 느낄 수 있어요. 인구밀도가 높은 구간에서는 도보 이동이 어려울 수 있어요.",
}
ROAD_MESSAGES = {
    "원활": "주변 도로 소통이 원활합니다.",
    "서행": "주변 도로가 다소 혼잡합니다. 서행에 유의하세요.",
    "정체": "주변 도로가 정체되고 있습니다. 가급적 우회 도로를 이용하세요.",
}
DISTRICT_ROADS = {
    "11110": ("종로", "율곡로", "세종대로", "대학로", "자하문로"),
    "11140": ("을지로", "퇴계로", "세종대로", "남대문로", "장충단로"),
    "11170": ("한강대로", "이태원로", "녹사평대로", "원효로", "서빙고로"),
    "11200": ("왕십리로", "고산자로", "성수이로", "뚝섬로", "동호로"),
    "11215": ("능동로", "아차산로", "자양로", "광나루로"),
    "11230": ("왕산로", "천호대로", "망우로", "답십리로"),
    "11260": ("망우로", "동일로", "용마산로"),
    "11290": ("동소문로", "보문로", "정릉로", "성북로"),
    "11305": ("도봉로", "삼양로", "솔매로"),
    "11320": ("도봉로", "노해로", "마들로"),
    "11350": ("동일로", "노원로", "상계로"),
    "11380": ("통일로", "연서로", "은평로"),
    "11410": ("신촌로", "연세로", "통일로", "성산로", "연희로"),
    "11440": ("양화로", "월드컵로", "마포대로", "와우산로", "독막로"),
    "11470": ("목동로", "오목로", "신월로", "안양천로"),
    "11500": ("공항대로", "강서로", "양천로", "마곡중앙로"),
    "11530": ("경인로", "디지털로", "구로중앙로", "경서로"),
    "11545": ("디지털로", "벚꽃로", "시흥대로", "가산로"),
    "11560": ("여의대로", "국회대로", "영등포로", "경인로", "노들로"),
    "11590": ("노량진로", "동작대로", "상도로", "사당로"),
    "11620": ("남부순환로", "관악로", "신림로", "봉천로"),
    "11650": ("강남대로", "반포대로", "서초대로", "사평대로", "양재대로"),
    "11680": ("테헤란로", "강남대로", "봉은사로", "영동대로", "도산대로", "압구정로", "논현로", "선릉로"),
    "11710": ("올림픽로", "송파대로", "백제고분로", "잠실로", "위례성대로"),
    "11740": ("천호대로", "올림픽로", "양재대로", "고덕로", "구천면로"),
    "41290": ("과천대로", "대공원광장로"),
}
ROAD_OVERRIDES = {
    "POI014": ("강남대로", "테헤란로"),
    "POI042": ("테헤란로", "논현로"),
    "POI034": ("테헤란로", "선릉로"),
    "POI001": ("영동대로", "봉은사로"),
    "POI009": ("세종대로", "새문안로"),
    "POI088": ("세종대로", "종로"),
    "POI033": ("한강대로", "퇴계로"),
    "POI003": ("을지로", "남대문로"),
    "POI055": ("양화로", "와우산로"),
    "POI119": ("올림픽로", "송파대로"),
    "POI072": ("여의대로", "국제금융로"),
}
SOUTH_BANK = {"POI085", "POI087", "POI095", "POI103", "POI105", "POI110", "POI111"}
NORTH_BANK = {"POI090", "POI093", "POI094", "POI108"}
EVENT_KINDS = [
    ("사고", "추돌사고", "{road} {a}→{b} 방향 추돌사고 처리 중, 1개 차로 통제"),
    ("공사", "도로보수", "{road} {a}→{b} 방향 도로 보수공사로 2개 차로 부분 통제"),
    ("사고", "차량고장", "{road} {a}→{b} 방향 고장 차량 처리 중"),
    ("행사", "집회 및 행사", "{place} 일대 행사로 {road} 일부 차로 통제"),
    ("공사", "상수도공사", "{road} {a}→{b} 방향 상수도 공사, 야간 전면 통제 예정"),
    ("통제", "시설물보수", "{road} {a}→{b} 방향 시설물 보수로 가장자리 차로 통제"),
]
REGIONS = {
    "도심권": ("11110", "11140", "11170"),
    "동북권": ("11200", "11215", "11230", "11260", "11290", "11305", "11320", "11350"),
    "서북권": ("11380", "11410", "11440"),
    "서남권": ("11470", "11500", "11530", "11545", "11560", "11590", "11620"),
    "동남권": ("11650", "11680", "11710", "11740", "41290"),
}
REGION_OF = {sig: region for region, sigs in REGIONS.items() for sig in sigs}
M_PER_DEG_LAT = 111_320.0


def _unit(*keys) -> float:
    """A deterministic number in [0, 1) for the keys (no global random state)."""
    return zlib.crc32("|".join(map(str, keys)).encode("utf-8")) / 2**32


def _bump(h, mu: float, sigma: float):
    """A bell around hour mu, on the 24-hour circle (h a float or an array of hours)."""
    d = np.abs(np.asarray(h) - mu) % 24
    d = np.minimum(d, 24 - d)
    return np.exp(-0.5 * (d / sigma) ** 2)


def _open(h, start: float, end: float):
    h = np.asarray(h)
    return 1 / (1 + np.exp(-2 * (h - start))) / (1 + np.exp(-2 * (end - h)))


def crowd_curve(category: str, h: float, weekend: bool) -> float:
    """Share of a hotspot's capacity present at hour h (0..24), before its own intensity."""
    if category == "인구밀집지역":
        if weekend:
            return 0.10 + 0.35 * _open(h, 11, 22) + 0.45 * _bump(h, 17.5, 2.5)
        return 0.10 + 0.42 * _bump(h, 8.4, 0.9) + 0.30 * _open(h, 9.5, 17) + 0.62 * _bump(h, 18.9, 1.2)
    if category == "발달상권":
        if weekend:
            return 0.08 + 0.30 * _open(h, 11, 22) + 0.62 * _bump(h, 16.5, 3.0)
        return 0.08 + 0.28 * _open(h, 11, 22.5) + 0.22 * _bump(h, 12.4, 0.9) + 0.58 * _bump(h, 19.6, 1.6)
    if category == "관광특구":
        lift = 0.1 if weekend else 0.0
        return 0.10 + (0.42 + lift) * _open(h, 10.5, 22) + 0.40 * _bump(h, 19.2, 1.8)
    if category == "고궁·문화유산":
        return 0.04 + (0.8 if weekend else 0.66) * _open(h, 9.5, 17.5) + 0.15 * _bump(h, 19.5, 1.4)
    # 공원: a walk before work, the afternoon, an evening stroll
    return (
        0.06 + 0.12 * _bump(h, 7.0, 1.0) + (0.78 if weekend else 0.55) * _bump(h, 15.0, 2.3) + 0.2 * _bump(h, 19.8, 1.4)
    )


def road_load(h, weekend: bool):
    """How loaded the roads are at hour h, 0 (empty) .. about 0.75 (evening rush)."""
    if weekend:
        return 0.08 + 0.42 * _bump(h, 15.5, 3.5) + 0.12 * _open(h, 10, 21)
    return 0.08 + 0.6 * _bump(h, 8.3, 1.0) + 0.22 * _open(h, 9.5, 17) + 0.7 * _bump(h, 18.6, 1.4)


def level_of(ratio: float) -> str:
    return LEVELS[sum(ratio >= cut for cut in LEVEL_CUTS)]


@dataclass(frozen=True)
class Link:
    link_id: str
    area_code: str
    road_name: str
    start_node: str
    end_node: str
    dist_m: float
    points: tuple[tuple[float, float], ...]
    free_kmh: float
    depth: float
    phase: float

    def speeds(self, steps: np.ndarray, weekend: bool, day_salt: int = 0) -> np.ndarray:
        h = (steps % replay.STEPS) * replay.STEP_S / 3600
        t = steps + 37 * day_salt  # another day wobbles differently at the same time of day
        wobble = 0.06 * np.sin(2 * math.pi * t / 23 + self.phase) + 0.03 * np.sin(t / 3.1 + self.phase)
        return np.maximum(4.0, self.free_kmh * (1 - self.depth * road_load(h, weekend)) * (1 + wobble))

    @property
    def xylist(self) -> str:
        return "|".join(f"{lon:.10f}_{lat:.10f}" for lon, lat in self.points)


@dataclass
class Spot:
    code: str
    name: str
    category: str
    district: str
    lat: float
    lon: float
    num: int
    intensity: float
    capacity: int
    links: list[Link] = field(default_factory=list)
    reported: list[Link] = field(default_factory=list)  # its own links and some of its neighbours'

    @property
    def short(self) -> str:
        for sep in ("·", " ", "("):
            if sep in self.name:
                return self.name.split(sep)[0]
        return self.name

    def ratio(self, h: float, weekend: bool, wobble: float = 0.0) -> float:
        return self.intensity * crowd_curve(self.category, h, weekend) * (1 + wobble)


@dataclass
class World:
    spots: dict[str, Spot]
    by_name: dict[str, Spot]
    links: dict[str, Link]
    events: list[dict]
    blocked: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # link -> steps with an incident
    _days: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)

    def day_speeds(self, link: Link, weekend: bool) -> np.ndarray:
        """The link's speed at every step of the recorded day; an accident or closure in force
        slows it down."""
        key = (link.link_id, weekend)
        if key not in self._days:
            steps = np.arange(replay.STEPS)
            speeds = link.speeds(steps, weekend)
            for start, end in self.blocked.get(link.link_id, ()):
                speeds[(steps >= start) & (steps < end)] *= 0.55
            self._days[key] = speeds
        return self._days[key]

    def speed(self, link: Link, step: int, weekend: bool) -> float:
        return float(self.day_speeds(link, weekend)[step % replay.STEPS])

    def spot_speeds(self, spot: Spot, weekend: bool) -> np.ndarray:
        """ROAD_TRAFFIC_SPD of a hotspot at every step: the rounded mean of its own links."""
        return np.round(np.mean([self.day_speeds(link, weekend) for link in spot.links], axis=0))


def _offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    return lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))), lat + north_m / M_PER_DEG_LAT


def _road_pair(spot: Spot) -> tuple[str, str]:
    if spot.code in ROAD_OVERRIDES:
        return ROAD_OVERRIDES[spot.code]
    names = DISTRICT_ROADS.get(spot.district, ("중앙로", "시민로"))
    first = int(_unit(spot.code, "road") * len(names))
    second = (first + 1 + int(_unit(spot.code, "road2") * (len(names) - 1))) % len(names)
    pair = (names[first], names[second])
    if spot.code in SOUTH_BANK:
        return ("올림픽대로", pair[0])
    if spot.code in NORTH_BANK:
        return ("강변북로", pair[0])
    return pair


def _links_for(spot: Spot) -> list[Link]:
    angle = _unit(spot.code, "angle") * math.pi / 2
    links = []
    compass = ("북", "동", "남", "서")
    for r, road in enumerate(_road_pair(spot)):
        theta = angle + r * math.pi / 2
        express = roads.is_expressway(road)
        for side in (1, -1):
            length = 420 + 260 * _unit(spot.code, road, side)
            dx, dy = math.sin(theta) * side, math.cos(theta) * side
            heading = compass[int(((math.degrees(math.atan2(dx, dy)) + 45) % 360) // 90)]
            outer = f"{spot.short} {heading}측"
            centre = f"{spot.short}사거리" if not express else f"{spot.short}IC"
            n = max(4, int(length // 60))
            bend = (_unit(spot.code, road, side, "bend") - 0.5) * 30
            line = []
            for i in range(n + 1):
                s = i / n
                east = dx * length * s + math.cos(theta) * bend * math.sin(math.pi * s)
                north = dy * length * s - math.sin(theta) * bend * math.sin(math.pi * s)
                line.append(_offset(spot.lat, spot.lon, east, north))
            for direction in (0, 1):
                j = len(links)
                points = tuple(line if direction else reversed(line))
                ends = (outer, centre) if direction else (centre, outer)
                links.append(
                    Link(
                        link_id=f"12{spot.num:03d}{j:03d}00",
                        area_code=spot.code,
                        road_name=road,
                        start_node=ends[0],
                        end_node=ends[1],
                        dist_m=round(length, 1),
                        points=tuple((round(x, 10), round(y, 10)) for x, y in points),
                        free_kmh=(72 if express else 38) + 14 * _unit(spot.code, j, "free"),
                        depth=((0.62 if express else 0.7) + (0.2 if express else 0.3) * _unit(spot.code, j, "depth"))
                        * (0.5 if _unit(spot.code, j, "light") < 0.22 else 1.0),  # some roads stay light
                        phase=2 * math.pi * _unit(spot.code, j, "phase"),
                    )
                )
    return links


def _events(spots: dict[str, Spot]) -> list[dict]:
    """Accidents, works and closures of the recorded day: (link, start step, steps, kind)."""
    with_links = [s for s in spots.values() if s.links and s.code not in NO_DATA_AREAS]
    events = []
    for i in range(18):
        spot = with_links[int(_unit("event", i) * len(with_links))]
        link = spot.links[int(_unit("event-link", i) * len(spot.links))]
        if i < 6:  # in force at the default step, so the offline app shows some
            start, steps = 150 + 10 * i, 60 + int(_unit("event-len", i) * 60)
        elif i < 8:  # works that began before the recorded day and outlast it
            start, steps = -400 - 50 * i, 2400
        else:
            start, steps = int(_unit("event-start", i) * 280), 6 + int(_unit("event-len", i) * 66)
        kind, detail, text = EVENT_KINDS[(1, 4)[i - 6] if 6 <= i < 8 else i % len(EVENT_KINDS)]
        mid = link.points[len(link.points) // 2]
        events.append(
            {
                "link": link,
                "start": start,
                "steps": steps,
                "known_clearance": i % 5 != 4,
                "ACDNT_TYPE": kind,
                "ACDNT_DTYPE": detail,
                "ACDNT_INFO": text.format(road=link.road_name, a=link.start_node, b=link.end_node, place=spot.short),
                "ACDNT_X": f"{mid[0]:.7f}",
                "ACDNT_Y": f"{mid[1]:.7f}",
            }
        )
    return events


@cache
def world() -> World:
    listed = hotspots.listed()
    districts = reference.districts().set_index("sig_cd")
    spots: dict[str, Spot] = {}
    for row in listed.itertuples(index=False):
        lat, lon = row.lat, row.lon
        if pd.isna(lat) or pd.isna(lon):
            lat, lon = HIDDEN_POSITIONS.get(row.area_code) or (
                districts.loc[row.district_code, "lat"],
                districts.loc[row.district_code, "lon"],
            )
        code = row.area_code
        intensity = BUSY.get(code, 0.66 + 0.3 * _unit(code, "intensity"))
        capacity = int(CAPACITY[row.category] * (0.6 + 0.8 * _unit(code, "capacity")) / 100) * 100
        spots[code] = Spot(
            code, row.area_name, row.category, row.district_code, lat, lon, int(code[3:]), intensity, capacity
        )
    for spot in spots.values():
        spot.links = _links_for(spot)
        spot.reported = list(spot.links)
    for spot in spots.values():  # a hotspot within 600 m of an earlier one also reports two of its links
        for other in spots.values():
            if other.code >= spot.code or not other.links:
                continue
            east = (spot.lon - other.lon) * M_PER_DEG_LAT * math.cos(math.radians(spot.lat))
            if math.hypot(east, (spot.lat - other.lat) * M_PER_DEG_LAT) < 600:
                spot.reported += other.links[:2]
                break
    links = {link.link_id: link for s in spots.values() for link in s.links}
    events = _events(spots)
    blocked: dict[str, list[tuple[int, int]]] = {}
    for e in events:
        blocked.setdefault(e["link"].link_id, []).append((e["start"], e["start"] + e["steps"]))
    return World(spots, {s.name: s for s in spots.values()}, links, events, blocked)


@cache
def _day_of(manifest: str) -> date:
    return date.fromisoformat(json.loads(manifest)["end"])


def recorded_day(sample_path: Path) -> date:
    try:
        return _day_of((Path(sample_path) / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError):
        import settings

        return date.fromisoformat(settings.get().sample_end_date)


def _fmt(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _population(spot: Spot, day: date, step: int) -> dict:
    weekend = day.weekday() >= 5
    moment = replay.step_time(day, step)
    h = step * replay.STEP_S / 3600
    wobble = 0.05 * math.sin(2 * math.pi * step / 19 + 6 * _unit(spot.code, "p1")) + 0.03 * math.sin(
        step / 2.3 + 6 * _unit(spot.code, "p2")
    )
    ratio = spot.ratio(h, weekend, wobble)
    people = spot.capacity * ratio
    band = 1000 if people >= 10_000 else 500
    low = int(people // band * band)
    level = level_of(ratio)
    ages = _ages(spot, h)
    male = 46 + 6 * _unit(spot.code, "male") + 2 * math.sin(h / 4)
    resident = {"인구밀집지역": 18, "발달상권": 22, "관광특구": 12, "고궁·문화유산": 8, "공원": 35}[spot.category]
    resident += 10 * _unit(spot.code, "resident") + (8 if h < 7 or h > 22 else 0)
    record = {
        "AREA_NM": spot.name,
        "AREA_CD": spot.code,
        "AREA_CONGEST_LVL": level,
        "AREA_CONGEST_MSG": MESSAGES[level],
        "AREA_PPLTN_MIN": str(low),
        "AREA_PPLTN_MAX": str(low + 2 * band),
        "MALE_PPLTN_RATE": f"{male:.1f}",
        "FEMALE_PPLTN_RATE": f"{100 - male:.1f}",
        **{f"PPLTN_RATE_{age}": f"{share:.1f}" for age, share in zip(range(0, 80, 10), ages, strict=True)},
        "RESNT_PPLTN_RATE": f"{resident:.1f}",
        "NON_RESNT_PPLTN_RATE": f"{100 - resident:.1f}",
        "REPLACE_YN": "N",
        "PPLTN_TIME": _fmt(moment),
        "FCST_YN": "Y",
        "FCST_PPLTN": _forecast(spot, day, step),
    }
    if spot.num % 11 == 3:
        record["PPLTN_RATE_70"] = "-"  # a value the source withholds
    return record


def _ages(spot: Spot, h: float) -> list[float]:
    base = {
        "인구밀집지역": [2, 6, 30, 24, 16, 12, 7, 3],
        "발달상권": [2, 7, 34, 25, 14, 10, 5, 3],
        "관광특구": [3, 8, 28, 22, 15, 12, 8, 4],
        "고궁·문화유산": [5, 9, 22, 18, 15, 14, 11, 6],
        "공원": [9, 8, 15, 18, 17, 15, 11, 7],
    }[spot.category]
    shares = [b * (0.85 + 0.3 * _unit(spot.code, "age", i)) for i, b in enumerate(base)]
    if h >= 19 and spot.category != "공원":
        shares[2] *= 1.25  # evenings are younger
    total = sum(shares)
    return [round(100 * s / total, 1) for s in shares]


def _forecast(spot: Spot, day: date, step: int) -> list[dict]:
    weekend = day.weekday() >= 5
    hour = replay.step_time(day, step).replace(minute=0)
    out = []
    for k in range(1, 13):
        at = hour + timedelta(hours=k)
        h = at.hour + 0.5
        ratio = spot.ratio(h, weekend if at.date() == day else (at.weekday() >= 5), 0.03 * (_unit(spot.code, k) - 0.5))
        people = spot.capacity * ratio
        band = 1000 if people >= 10_000 else 500
        low = int(people // band * band)
        out.append(
            {
                "FCST_TIME": _fmt(at),
                "FCST_CONGEST_LVL": level_of(ratio),
                "FCST_PPLTN_MIN": str(low),
                "FCST_PPLTN_MAX": str(low + 2 * band),
            }
        )
    return out


def link_record(link: Link, step: int, weekend: bool) -> dict:
    speed = world().speed(link, step, weekend)
    return {
        "LINK_ID": link.link_id,
        "ROAD_NM": link.road_name,
        "START_ND_CD": f"{link.link_id[:7]}1",
        "START_ND_NM": link.start_node,
        "START_ND_XY": f"{link.points[0][0]:.10f}_{link.points[0][1]:.10f}",
        "END_ND_CD": f"{link.link_id[:7]}2",
        "END_ND_NM": link.end_node,
        "END_ND_XY": f"{link.points[-1][0]:.10f}_{link.points[-1][1]:.10f}",
        "DIST": f"{link.dist_m:.1f}",
        "SPD": f"{speed:.0f}",
        "IDX": roads.level_for(round(speed), link.road_name),
        "XYLIST": link.xylist,
    }


def avg_speed(spot: Spot, step: int, weekend: bool) -> int:
    return int(world().spot_speeds(spot, weekend)[step % replay.STEPS])


def _roads(spot: Spot, day: date, step: int) -> dict:
    weekend = day.weekday() >= 5
    speed = avg_speed(spot, step, weekend)
    level = roads.level_for(speed)
    time_key = "ROAD_TRFFIC_TIME" if spot.num % 2 else "ROAD_TRAFFIC_TIME"  # both spellings are seen
    links = [] if spot.code in EMPTY_LINK_AREAS else [link_record(x, step, weekend) for x in spot.reported]
    block = {
        "AVG_ROAD_DATA": {
            "ROAD_MSG": ROAD_MESSAGES[level],
            "ROAD_TRAFFIC_IDX": level,
            time_key: _fmt(replay.step_time(day, step)),
            "ROAD_TRAFFIC_SPD": str(speed),
        },
        "ROAD_TRAFFIC_STTS": links,
    }
    return [block] if spot.num % 5 == 0 else block  # sometimes the block comes as a list of one


def _events_at(spot: Spot, day: date, step: int) -> list[dict]:
    ids = {link.link_id for link in spot.reported}
    start_of_day = replay.step_time(day, 0)
    out = []
    for e in world().events:
        if e["link"].link_id not in ids or not (e["start"] <= step < e["start"] + e["steps"]):
            continue
        begun = start_of_day + timedelta(seconds=e["start"] * replay.STEP_S)
        clear = begun + timedelta(seconds=e["steps"] * replay.STEP_S)
        out.append(
            {k: v for k, v in e.items() if k.startswith("ACDNT")}
            | {"ACDNT_OCCR_DT": _fmt(begun), "EXP_CLR_DT": _fmt(clear) if e["known_clearance"] else ""}
        )
    return out


def pm_grade(value: float, cuts: tuple[float, float, float]) -> str:
    return ("좋음", "보통", "나쁨", "매우나쁨")[sum(value > c for c in cuts)]


def _weather(spot: Spot, day: date, step: int) -> dict:
    h = step * replay.STEP_S / 3600
    d = _unit(spot.district, "weather") - 0.5
    temp = 6.5 + 4.5 * math.cos(2 * math.pi * (h - 15) / 24) + 1.2 * d
    humidity = 58 - 16 * math.cos(2 * math.pi * (h - 15) / 24) + 6 * d
    pm10 = (
        34
        + 22 * _bump(h, 20.5, 2.5)
        + 8 * _bump(h, 8.5, 1.5)
        + 16 * d
        + (10 if REGION_OF.get(spot.district) == "서남권" else 0)
    )
    pm25 = pm10 * (0.55 + 0.1 * d)
    g10, g25 = pm_grade(pm10, (30, 80, 150)), pm_grade(pm25, (15, 35, 75))
    moment = replay.step_time(day, step)
    record = {
        "TEMP": f"{temp:.1f}",
        "SENSIBLE_TEMP": f"{temp - 2.5:.1f}",
        "MAX_TEMP": "11.0",
        "MIN_TEMP": "2.0",
        "HUMIDITY": f"{humidity:.0f}",
        "PRECIPITATION": "-",
        "PRECPT_TYPE": "없음",
        "PM25_INDEX": g25,
        "PM25": f"{pm25:.0f}",
        "PM10_INDEX": g10,
        "PM10": f"{pm10:.0f}",
        "AIR_IDX": max(g10, g25, key=("좋음", "보통", "나쁨", "매우나쁨").index),
        "WEATHER_TIME": _fmt(moment),
        "FCST24HOURS": [
            {
                "FCST_DT": f"{moment + timedelta(hours=k):%Y%m%d%H}00",
                "TEMP": f"{temp - k * 0.6:.0f}",
                "SKY_STTS": "맑음",
            }
            for k in (1, 2, 3)
        ],
    }
    if spot.num % 29 == 7:
        record["PM10"] = record["PM25"] = "점검중"  # a station under maintenance
    if spot.num % 31 == 9:
        record["TEMP"] = ""
    return record


def citydata_record(spot: Spot, day: date, step: int) -> dict:
    population = _population(spot, day, step)
    return {
        "AREA_NM": spot.name,
        "AREA_CD": spot.code,
        "LIVE_PPLTN_STTS": population if spot.num % 7 == 0 else [population],  # a dict now and then
        "ROAD_TRAFFIC_STTS": _roads(spot, day, step),
        "PRK_STTS": [],
        "SUB_STTS": [],
        "ACDNT_CNTRL_STTS": _events_at(spot, day, step),
        "WEATHER_STTS": [_weather(spot, day, step)],
    }


OK_RESULT = {"RESULT.CODE": "INFO-000", "RESULT.MESSAGE": "정상 처리되었습니다."}
NO_DATA_RESULT = {"RESULT.CODE": "INFO-200", "RESULT.MESSAGE": "해당하는 데이터가 없습니다."}
JSON_TYPE = "application/json;charset=UTF-8"
XML_TYPE = "application/xml;charset=UTF-8"


def _json(doc: dict) -> tuple[bytes, str]:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), JSON_TYPE


def _spot_asked(parts: list[str]) -> Spot | None:
    asked = parts[5] if len(parts) > 5 else ""
    w = world()
    spot = w.by_name.get(asked) or w.spots.get(asked)
    return None if spot is None or spot.code in NO_DATA_AREAS else spot


@live_handler("citydata")
def answer_citydata(parts: list[str], step: int, sample_path: Path) -> tuple[bytes, str]:
    spot = _spot_asked(parts)
    if spot is None:
        return _json({"list_total_count": 0, "RESULT": NO_DATA_RESULT})
    return _json(
        {"list_total_count": 1, "RESULT": OK_RESULT, "CITYDATA": citydata_record(spot, recorded_day(sample_path), step)}
    )


@live_handler("citydata_ppltn")
def answer_citydata_ppltn(parts: list[str], step: int, sample_path: Path) -> tuple[bytes, str]:
    spot = _spot_asked(parts)
    if spot is None:
        return _json({"RESULT": NO_DATA_RESULT})
    return _json({"SeoulRtd.citydata_ppltn": [_population(spot, recorded_day(sample_path), step)], "RESULT": OK_RESULT})


def _xml(service: str, row: dict | None) -> tuple[bytes, str]:
    if row is None:
        body = "<RESULT><CODE>INFO-200</CODE><MESSAGE>해당하는 데이터가 없습니다.</MESSAGE></RESULT>"
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode(), XML_TYPE
    fields = "".join(f"<{k}>{escape(str(v))}</{k}>" if v != "" else f"<{k}/>" for k, v in row.items())
    body = (
        f"<{service}><list_total_count>1</list_total_count>"
        "<RESULT><CODE>INFO-000</CODE><MESSAGE>정상 처리되었습니다</MESSAGE></RESULT>"
        f"<row>{fields}</row></{service}>"
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode(), XML_TYPE


@live_handler("TrafficInfo")
def answer_traffic_info(parts: list[str], step: int, sample_path: Path) -> tuple[bytes, str]:
    link = world().links.get(parts[5] if len(parts) > 5 else "")
    if link is None:
        return _xml("TrafficInfo", None)
    speed = world().speed(link, step, recorded_day(sample_path).weekday() >= 5)
    row = {"link_id": link.link_id, "prcs_spd": f"{speed:.1f}", "prcs_trv_time": f"{link.dist_m / (speed / 3.6):.0f}"}
    return _xml("TrafficInfo", row)


@live_handler("LinkInfo")
def answer_link_info(parts: list[str], step: int, sample_path: Path) -> tuple[bytes, str]:
    link = world().links.get(parts[5] if len(parts) > 5 else "")
    if link is None:
        return _xml("LinkInfo", None)
    row = {
        "link_id": link.link_id,
        "road_name": link.road_name,
        "st_node_nm": link.start_node,
        "ed_node_nm": link.end_node,
        "map_dist": f"{link.dist_m:.0f}",
    }
    return _xml("LinkInfo", row)


def recorded_day_log(data_dir: Path, before) -> pd.DataFrame:
    """city_speed_log rows for the recorded day's steps before `before`, as a watcher running since
    midnight would have logged them (the same hotspots and rounding as the feed)."""
    columns = {"measured_at": pd.Series(dtype="datetime64[ns]"), "avg_speed_kmh": [], "hotspots": []}
    if before is None or pd.isna(before):
        return pd.DataFrame(columns)
    day = recorded_day(datadir.sample_dir(data_dir))
    weekend = day.weekday() >= 5
    answering = [s for s in world().spots.values() if s.code not in NO_DATA_AREAS]
    means = np.mean([world().spot_speeds(s, weekend) for s in answering], axis=0)
    rows = []
    for step, mean in enumerate(means):
        moment = replay.step_time(day, step)
        if moment >= before:
            break
        rows.append({"measured_at": moment, "avg_speed_kmh": round(float(mean), 2), "hotspots": len(answering)})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns)


# The TOPIS monthly file's functional classes and lane counts, for the history sample.
FUNCTION_TYPES = {"도시고속도로": 4, "주간선도로": 3, "보조간선도로": 2}


def history_rows(day: date, days: int = 28, links: int = 320) -> list[list[str]]:
    """A TOPIS-style monthly speed file (header first) for the `days` before the recorded day:
    the sample links' speeds hour by hour, weekdays and weekends, with a few empty hours."""
    chosen = sorted(world().links.values(), key=lambda x: (_unit(x.link_id, "history"), x.link_id))[:links]
    header = ["일자", "요일", "도로명", "링크아이디", "시점명", "종점명", "방향", "거리", "차선수"]
    header += ["기능유형구분", "도심/외곽구분", "권역구분"] + [f"{h:02d}시" for h in range(1, 25)]
    rows = [header]
    weekdays = "월화수목금토일"
    steps = np.arange(24) * 12 + 6  # the middle of each hour
    missed = 0.004  # share of hours the detectors missed (left empty)
    for d in range(days, 0, -1):
        today = day - timedelta(days=d)
        weekend = today.weekday() >= 5
        day_factor = 1 + 0.05 * math.sin(d * 1.7)
        for link in chosen:
            spot = world().spots[link.area_code]
            express = roads.is_expressway(link.road_name)
            function = (
                "도시고속도로" if express else ("주간선도로" if link.road_name.endswith("대로") else "보조간선도로")
            )
            centre = "도심" if spot.district in REGIONS["도심권"] else "외곽"
            values = link.speeds(steps, weekend, d) / day_factor
            speeds = ["" if _unit(link.link_id, today, h) < missed else f"{v:.1f}" for h, v in enumerate(values)]
            rows.append(
                [
                    f"{today:%Y%m%d}",
                    weekdays[today.weekday()],
                    link.road_name,
                    link.link_id,
                    link.start_node,
                    link.end_node,
                    "상행" if int(link.link_id[-3]) % 2 else "하행",
                    f"{link.dist_m:.0f}",
                    str(FUNCTION_TYPES[function]),
                    function,
                    centre,
                    REGION_OF.get(spot.district, "동남권"),
                    *speeds,
                ]
            )
    return rows


def write_history_sample(path: Path, day: date) -> Path:
    """The history sample as TOPIS publishes its CSV: CP949."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="cp949", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(history_rows(day))
    tmp.replace(path)
    return path
