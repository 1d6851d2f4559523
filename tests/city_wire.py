"""Wire-format answers of the real-time city services, written by the tests themselves, and a
local server that routes them by service and item (`/{KEY}/{type}/{SERVICE}/1/5/{item}/`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import unquote
from xml.sax.saxutils import escape

import pandas as pd
from werkzeug.wrappers import Request, Response

KEY = "CITYKEY123"
OK = {"RESULT.CODE": "INFO-000", "RESULT.MESSAGE": "정상 처리되었습니다."}
NO_DATA = {"RESULT.CODE": "INFO-200", "RESULT.MESSAGE": "해당하는 데이터가 없습니다."}
SPOTS = pd.DataFrame(
    {
        "area_code": ["POI001", "POI014", "POI055", "POI091", "POI125"],
        "area_name": ["강남 MICE 관광특구", "강남역", "홍대입구역(2호선)", "남산공원", "안양천"],
        "area_name_en": ["Gangnam MICE", "Gangnam Station", "Hongik Univ. Station", "Namsan Park", "Anyangcheon"],
        "category": ["관광특구", "인구밀집지역", "인구밀집지역", "공원", "공원"],
        "district_code": ["11680", "11680", "11440", "11140", "11470"],
        "lat": [37.5118, 37.4979, 37.5572, 37.5510, None],
        "lon": [127.0592, 127.0276, 126.9245, 126.9880, None],
        "coord_source": ["approximate"] * 4 + [None],
    }
)


def xy(points) -> str:
    return "|".join(f"{lon}_{lat}" for lon, lat in points)


def link(link_id: str, speed: str = "22", points=((127.02, 37.49), (127.021, 37.491)), **extra) -> dict:
    return {
        "LINK_ID": link_id,
        "ROAD_NM": extra.pop("road", "강남대로"),
        "START_ND_CD": "1",
        "START_ND_NM": "강남역",
        "START_ND_XY": f"{points[0][0]}_{points[0][1]}",
        "END_ND_CD": "2",
        "END_ND_NM": "신논현역",
        "END_ND_XY": f"{points[-1][0]}_{points[-1][1]}",
        "DIST": "350",
        "SPD": speed,
        "IDX": "서행",
        "XYLIST": xy(points),
        **extra,
    }


def population(code: str, name: str, at: str, level: str = "보통", forecast_hours: int = 12, **extra) -> dict:
    start = datetime.fromisoformat(at).replace(minute=0)
    return {
        "AREA_NM": name,
        "AREA_CD": code,
        "AREA_CONGEST_LVL": level,
        "AREA_CONGEST_MSG": "사람이 몰려있을 수 있지만 크게 붐비지는 않아요.",
        "AREA_PPLTN_MIN": "24000",
        "AREA_PPLTN_MAX": "26000",
        "MALE_PPLTN_RATE": "48.2",
        "FEMALE_PPLTN_RATE": "51.8",
        **{f"PPLTN_RATE_{a}": "12.5" for a in range(0, 80, 10)},
        "RESNT_PPLTN_RATE": "21.0",
        "NON_RESNT_PPLTN_RATE": "79.0",
        "REPLACE_YN": "N",
        "PPLTN_TIME": at,
        "FCST_YN": "Y",
        "FCST_PPLTN": [
            {
                "FCST_TIME": f"{start + timedelta(hours=k):%Y-%m-%d %H:%M}",
                "FCST_CONGEST_LVL": "붐빔" if k == 2 else "약간 붐빔",
                "FCST_PPLTN_MIN": str(26000 + 1000 * k),
                "FCST_PPLTN_MAX": str(28000 + 1000 * k),
            }
            for k in range(1, forecast_hours + 1)
        ],
        **extra,
    }


def weather(at: str, **extra) -> dict:
    return {
        "TEMP": "8.5",
        "HUMIDITY": "55",
        "PRECIPITATION": "-",
        "PM10": "41",
        "PM25": "22",
        "PM10_INDEX": "보통",
        "PM25_INDEX": "보통",
        "AIR_IDX": "보통",
        "WEATHER_TIME": at,
        "FCST24HOURS": [{"FCST_DT": "202611191900", "TEMP": "7"}],
        **extra,
    }


def citydata(
    code: str,
    name: str,
    at: str = "2026-11-19 18:00",
    *,
    links=(),
    speed: str = "21",
    time_key: str = "ROAD_TRAFFIC_TIME",
    road_as_list: bool = False,
    population_as_dict: bool = False,
    events=(),
    pop: dict | None = None,
    weather_extra: dict | None = None,
) -> dict:
    people = pop or population(code, name, at)
    road = {
        "AVG_ROAD_DATA": {
            "ROAD_MSG": "주변 도로가 다소 혼잡합니다.",
            "ROAD_TRAFFIC_IDX": "서행",
            "ROAD_TRAFFIC_SPD": speed,
            time_key: at,
        },
        "ROAD_TRAFFIC_STTS": list(links),
    }
    return {
        "list_total_count": 1,
        "RESULT": OK,
        "CITYDATA": {
            "AREA_NM": name,
            "AREA_CD": code,
            "LIVE_PPLTN_STTS": people if population_as_dict else [people],
            "ROAD_TRAFFIC_STTS": [road] if road_as_list else road,
            "PRK_STTS": [{"PRK_NM": "공영주차장", "CPCTY": "120"}],
            "ACDNT_CNTRL_STTS": list(events),
            "WEATHER_STTS": [weather(at, **(weather_extra or {}))],
        },
    }


def xml_row(service: str, row: dict | None, code: str = "INFO-000") -> str:
    if row is None:
        return f"<RESULT><CODE>{code}</CODE><MESSAGE>해당하는 데이터가 없습니다.</MESSAGE></RESULT>"
    fields = "".join(f"<{k}>{escape(v)}</{k}>" if v else f"<{k}/>" for k, v in row.items())
    return (
        f"<{service}><list_total_count>1</list_total_count><RESULT><CODE>{code}</CODE><MESSAGE>정상 처리되었습니다</MESSAGE>"
        f"</RESULT><row>{fields}</row></{service}>"
    )


class CityServer:
    """Answers by service and item from `answers[(service, item)]`: a dict (JSON), a str (XML or
    raw body), an int (that HTTP status), or a callable returning one of those. Unknown items
    answer INFO-200. Counts requests per (service, item)."""

    def __init__(self):
        self.answers: dict[tuple[str, str], object] = {}
        self.asked: Counter = Counter()

    def __call__(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        service, item = parts[2], (parts[5] if len(parts) > 5 else "")
        self.asked[(service, item)] += 1
        answer = self.answers.get((service, item))
        if callable(answer):
            answer = answer()
        if answer is None:
            answer = {"RESULT": NO_DATA} if parts[1] == "json" else xml_row(service, None, "INFO-200")
        if isinstance(answer, int):
            return Response("server error", status=answer)
        if isinstance(answer, dict):
            return Response(json.dumps(answer, ensure_ascii=False), content_type="application/json;charset=UTF-8")
        return Response(answer, content_type="text/xml;charset=UTF-8")

    def count(self, service: str) -> int:
        return sum(n for (s, _i), n in self.asked.items() if s == service)
