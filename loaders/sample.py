"""The bundled sample: a seeded, deterministic generator of wire-format payloads, and a transport
that serves them exactly as the API would, so the sample travels through the same client,
contract and publishing as live data.

Prices: 72 real Seoul markets (50 traditional markets, 22 large marts) across all 25 districts,
18 necessities, one survey a week. Prices follow a per-item seasonal curve, a mean-reverting
weekly walk, a mild upward drift, district and market-type differences, and market noise.
About 1% of rows carry a zero price and are quarantined, as in the real feed.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import requests
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

import datadir
from loaders import reference, replay
from loaders.seoul_api import PAGE_SIZE

GENERATOR_VERSION = 2
SEED = 20191220  # the day Seoul opened the Digital Citizen Mayor's Office to citizens (approx.)
BASE_URL = "sample://bundled"
KEY = "SAMPLE"

# (A_SEQ, A_NAME, A_UNIT, base price in won, seasonal amplitude, peak month, weekly volatility,
#  large-mart factor, remark)
ITEMS = [
    (13, "사과(부사, 300g)", "1개", 2600, 0.18, 7, 0.025, 1.06, "국내산"),
    (14, "배(신고, 600g)", "1개", 4300, 0.15, 8, 0.025, 1.05, "국내산"),
    (16, "배추(2.5~3kg)", "1포기", 4200, 0.45, 9, 0.06, 1.04, "국내산"),
    (17, "무(1.5kg)", "1개", 2300, 0.35, 9, 0.05, 1.04, "국내산"),
    (18, "양파(1.5kg망)", "1망", 3600, 0.25, 5, 0.04, 1.02, "국내산"),
    (19, "상추(100g)", "100g", 1300, 0.35, 8, 0.06, 1.08, "국내산"),
    (20, "오이(다다기 계통, 1개)", "1개", 850, 0.30, 1, 0.05, 1.05, "국내산"),
    (21, "애호박(1개)", "1개", 1500, 0.35, 1, 0.05, 1.05, "국내산"),
    (22, "대파(1kg)", "1단", 3200, 0.30, 2, 0.05, 1.03, "국내산"),
    (23, "쇠고기(한우 1등급, 100g)", "100g", 9800, 0.05, 9, 0.015, 0.97, "국내산(한우)"),
    (24, "돼지고기(생삼겹살, 100g)", "100g", 2700, 0.08, 6, 0.02, 0.98, "국내산"),
    (25, "닭고기(육계, 1kg)", "1마리", 6600, 0.10, 7, 0.02, 0.97, "국내산"),
    (26, "달걀(일반란, 30개)", "30개", 7400, 0.08, 1, 0.02, 0.96, "국내산"),
    (27, "고등어(생물, 30cm)", "1마리", 4100, 0.12, 3, 0.03, 1.00, "국내산"),
    (28, "명태(생태, 40cm)", "1마리", 4600, 0.15, 8, 0.03, 1.00, "러시아산"),
    (29, "오징어(생물, 25cm)", "1마리", 5200, 0.20, 4, 0.04, 1.00, "국내산"),
    (30, "조기(참조기, 20cm)", "1마리", 3100, 0.12, 6, 0.03, 1.02, "국내산"),
    (31, "쌀(20kg)", "1포", 56000, 0.03, 9, 0.008, 0.98, "국내산"),
]
_PREMIUM_DISTRICTS = {"강남구": 0.05, "서초구": 0.05, "송파구": 0.03, "용산구": 0.03, "종로구": 0.02}


def _survey_dates(end: date, weeks: int) -> list[date]:
    return [end - timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]


def price_rows(end: date, weeks: int, seed: int = SEED) -> list[dict]:
    """Wire records of ListNecessariesPricesService, newest first, as the API sends them."""
    rng = np.random.default_rng(seed)
    markets = reference._read_csv("markets.csv")
    gu = reference.districts().set_index("name_ko")
    dates = _survey_dates(end, weeks)
    n_items, n_markets, n_weeks = len(ITEMS), len(markets), len(dates)

    walk = np.zeros((n_items, n_weeks))
    for i, item in enumerate(ITEMS):
        for w in range(1, n_weeks):
            walk[i, w] = 0.85 * walk[i, w - 1] + rng.normal(0, item[6])
    market_item = rng.normal(0, 0.05, size=(n_markets, n_items))
    noise = rng.normal(0, 0.025, size=(n_weeks, n_markets, n_items))
    missing = rng.random(size=(n_weeks, n_markets, n_items)) < 0.04
    zero = rng.random(size=(n_weeks, n_markets, n_items)) < 0.01

    rows = []
    seq = 1_500_000
    for w, day in enumerate(dates):
        years = (day - dates[0]).days / 365.25
        for m, market in enumerate(markets):
            is_mart = market["market_type_code"] == "002"
            premium = _PREMIUM_DISTRICTS.get(market["district_name"], 0.0)
            for i, (a_seq, name, unit, base, amp, peak, _vol, mart, remark) in enumerate(ITEMS):
                if missing[w, m, i]:
                    continue
                season = amp * math.cos(2 * math.pi * (day.month - peak) / 12)
                factor = (mart if is_mart else 1.0) * (1 + premium) * (1.025**years)
                price = base * factor * math.exp(season + walk[i, w] + market_item[m, i] + noise[w, m, i])
                price = 0 if zero[w, m, i] else int(round(price, -1))
                seq += 1
                rows.append(
                    {
                        "P_SEQ": f"{seq}.0",
                        "M_SEQ": f"{market['market_id']}.0",
                        "M_NAME": market["market_name"],
                        "A_SEQ": f"{a_seq}.0",
                        "A_NAME": name,
                        "A_UNIT": unit,
                        "A_PRICE": str(price),
                        "P_YEAR_MONTH": f"{day:%Y-%m}",
                        "ADD_COL": remark,
                        "P_DATE": day.isoformat(),
                        "M_TYPE_CODE": market["market_type_code"],
                        "M_TYPE_NAME": market["market_type"],
                        "M_GU_CODE": gu.loc[market["district_name"], "prices_gu_cd"],
                        "M_GU_NAME": market["district_name"],
                    }
                )
    rows.reverse()  # the feed is newest first
    return rows


PROPOSAL_FIELDS = {
    "교통": [
        "버스 배차 간격을 줄여 주세요",
        "자전거 도로를 이어 주세요",
        "횡단보도 신호 시간을 늘려 주세요",
        "마을버스 노선을 새로 만들어 주세요",
    ],
    "환경": ["미세먼지 쉼터를 늘려 주세요", "하천 산책로에 나무를 심어 주세요", "일회용컵 보증금을 확대해 주세요"],
    "복지": [
        "어르신 무료 급식소를 늘려 주세요",
        "장애인 이동 지원을 확대해 주세요",
        "한부모 가정 돌봄을 지원해 주세요",
    ],
    "주택": [
        "청년 임대주택을 늘려 주세요",
        "노후 주택 수리비를 지원해 주세요",
        "전세 사기 피해 상담 창구를 열어 주세요",
    ],
    "안전": ["골목길 가로등을 밝혀 주세요", "어린이 보호구역 단속을 강화해 주세요", "지하철역 안전문을 점검해 주세요"],
    "경제·일자리": [
        "전통시장 주차장을 늘려 주세요",
        "청년 창업 공간을 지원해 주세요",
        "소상공인 배달 수수료를 낮춰 주세요",
    ],
    "문화·관광": ["공공도서관 운영 시간을 늘려 주세요", "한강 공원에 공연장을 만들어 주세요"],
    "교육": ["방과후 돌봄 교실을 늘려 주세요", "평생학습 강좌를 다양하게 열어 주세요"],
    "도시계획": ["공원 녹지를 늘려 주세요", "보행자 전용 거리를 만들어 주세요"],
    "행정": ["민원 처리 결과를 문자로 알려 주세요", "구청 온라인 예약을 쉽게 해 주세요"],
}


def proposal_rows(end: date, seed: int = SEED, count: int = 2400) -> list[dict]:
    """Wire records of ChunmanFreeSuggestions: proposals from 2017 to `end`, newest first, with a
    heavy-tailed agree count (most gather a handful of votes, a few thousands)."""
    rng = np.random.default_rng(seed + 1)
    start = date(2017, 1, 1)
    span = (end - start).days
    fields = list(PROPOSAL_FIELDS)
    weights = np.array([18, 12, 12, 12, 10, 10, 7, 7, 7, 5], dtype=float)
    names = reference.districts()["name_ko"].tolist()
    rows = []
    offsets = np.sort(rng.integers(0, span + 1, size=count))
    for n, offset in enumerate(offsets):
        day = start + timedelta(days=int(offset))
        field = fields[rng.choice(len(fields), p=weights / weights.sum())]
        title = f"{names[rng.integers(len(names))]} {rng.choice(PROPOSAL_FIELDS[field])}"
        agree = int(rng.lognormal(mean=1.6, sigma=1.7))
        disagree = int(agree * rng.uniform(0.02, 0.6) + rng.integers(0, 4))
        age_days = (end - day).days
        over = agree >= 50
        answered = rng.random() < (0.9 if over and age_days > 45 else 0.4 if over else 0.04)
        seconds = int(rng.integers(8 * 3600, 23 * 3600))
        rows.append(
            {
                "SN": str(100000 + n),
                "TITLE": title,
                "CONTENT": f"{title}. 주민들이 오랫동안 불편을 겪고 있습니다. 검토를 부탁드립니다.",
                "VOTE_SCORE": f"{agree - disagree * 0.5:.1f}",
                "REG_DATE": f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
                "VISIOIN_TXT": field,
                "USER_COMMENT_CNT": str(int(agree * rng.uniform(0.05, 0.4))),
                "VOTE_CNT": str(agree),
                "VOTE_DIS_CNT": str(disagree),
                "REPLY_YN": "Y" if answered else "N",
            }
        )
    rows.reverse()
    return rows


def envelope(service: str, rows: list[dict], total: int | None = None) -> dict:
    return {
        service: {
            "list_total_count": len(rows) if total is None else total,
            "RESULT": {"CODE": "INFO-000", "MESSAGE": "정상 처리되었습니다"},
            "row": rows,
        }
    }


def generate(data_dir: Path, end: date, weeks: int) -> Path:
    """Write the sample payloads unless an identical sample is already there."""
    out = datadir.sample_dir(data_dir)
    manifest = {"generator": GENERATOR_VERSION, "seed": SEED, "end": end.isoformat(), "weeks": weeks}
    manifest_path = out / "manifest.json"
    try:
        if json.loads(manifest_path.read_text("utf-8")) == manifest:
            return out
    except (OSError, ValueError):
        pass
    out.mkdir(parents=True, exist_ok=True)
    for service, rows in (
        ("ListNecessariesPricesService", price_rows(end, weeks)),
        ("ChunmanFreeSuggestions", proposal_rows(end)),
    ):
        payload = json.dumps(envelope(service, rows), ensure_ascii=False)
        (out / f"{service}.json").write_text(payload, "utf-8")
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return out


# Services whose sample answers depend on the request's own segments or on the moment of the
# recorded day (real-time feeds): SERVICE -> handler(parts, step, sample_path) -> (body, content type),
# where parts are the URL path segments [key, type, service, start, end, *options] and step is
# replay.current_step(). Feed modules register theirs with @live_handler("SERVICE").
LIVE_HANDLERS: dict[str, Callable[[list[str], int, Path], tuple[bytes, str]]] = {}


def live_handler(service: str):
    def register(fn):
        LIVE_HANDLERS[service] = fn
        return fn

    return register


class SampleAdapter(BaseAdapter):
    """Serves `sample://bundled/{KEY}/json/{SERVICE}/{START}/{END}/...` from the generated files,
    with the API's own paging rules and result codes."""

    def __init__(self, sample_path: Path):
        super().__init__()
        self.sample_path = sample_path
        self._docs: dict[str, dict | None] = {}

    def _doc(self, service: str) -> dict | None:
        if service not in self._docs:
            path = self.sample_path / f"{service}.json"
            self._docs[service] = json.loads(path.read_text("utf-8")) if path.is_file() else None
        return self._docs[service]

    def _answer(self, path: str) -> dict:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) < 5:
            return {"RESULT": {"CODE": "ERROR-300", "MESSAGE": "필수 값이 누락되어 있습니다."}}
        _key, _fmt, service, start_s, end_s = parts[:5]
        if not (start_s.isdigit() and end_s.isdigit()):
            return {"RESULT": {"CODE": "ERROR-333", "MESSAGE": "요청위치 값의 타입이 유효하지 않습니다."}}
        start, end = int(start_s), int(end_s)
        if end - start + 1 > PAGE_SIZE:
            return {"RESULT": {"CODE": "ERROR-336", "MESSAGE": "데이터요청은 한번에 최대 1000건을 넘을 수 없습니다."}}
        doc = self._doc(service)
        if doc is None:
            return {"RESULT": {"CODE": "ERROR-310", "MESSAGE": "해당하는 서비스를 찾을 수 없습니다."}}
        rows = doc[service]["row"]
        window = rows[start - 1 : end]
        if not window:
            return {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
        return envelope(service, window, total=len(rows))

    def send(self, request, **kwargs):
        path = urlsplit(request.url).path
        parts = [unquote(p) for p in path.strip("/").split("/")]
        handler = LIVE_HANDLERS.get(parts[2]) if len(parts) >= 3 else None
        if handler is not None:
            body, content_type = handler(parts, replay.current_step(self.sample_path), self.sample_path)
        else:
            body = json.dumps(self._answer(path), ensure_ascii=False).encode("utf-8")
            content_type = "application/json;charset=UTF-8"
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        resp = requests.Response()
        resp.status_code = 200
        resp.reason = "OK"
        resp.headers = CaseInsensitiveDict(headers)
        resp.raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers, status=200, preload_content=False)
        resp.url = request.url
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self):
        self._docs.clear()


def session(data_dir: Path) -> requests.Session:
    s = requests.Session()
    s.mount("sample://", SampleAdapter(datadir.sample_dir(data_dir)))
    return s
