"""Hostile citizen and feed text in a real browser: payloads in market names, item names,
proposal titles and forum topics, hotspot names, accident and road-control descriptions, road
names and congestion messages (imported through the real loaders: file imports, the hotspots
transform, citydata from a local server) and SQL console results must show as text on every page
and in every renderer (markdown, dataframes, plotly hover text, pydeck tooltips, tiles) and never run.

Each payload either calls alert() or sets window.__xss; the test fails on any dialog and on any
change to window.__xss, and checks that at least one payload is really on the page as text (so a
payload that never arrived cannot pass silently).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import unquote

import pandas as pd
import pytest

import settings
from loaders import feeds, hotspots, runner
from loaders.seoul_api import FetchResult
from tests import city_wire
from tests.conftest import PROJECT, run_module
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, app_env, serve_app

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '<svg onload="window.__xss=3"></svg>',
    "[클릭](javascript:window.__xss=4)",
    '<a href="javascript:window.__xss=5">링크</a>',
    "&lt;script&gt;window.__xss=6&lt;/script&gt;",
    '"><img src=x onerror=alert(7)>',
    '<iframe srcdoc="<script>parent.__xss=8</script>"></iframe>',
    '<b onmouseover="window.__xss=9">굵게</b>',
    '**굵게** <details open ontoggle="window.__xss=10">',
    '![x](x" onerror="window.__xss=12)',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(13)>",
]
DISTRICTS = ["종로구", "중구", "마포구", "강남구", "송파구", "노원구"]


def price_records() -> list[dict]:
    rows = []
    for i, payload in enumerate(PAYLOADS):
        for week, day in enumerate(("2026-11-12", "2026-11-19")):
            rows.append(
                {
                    "P_SEQ": f"{900000 + i * 10 + week}.0",
                    "M_SEQ": f"{500 + i}.0",
                    "M_NAME": payload,
                    "A_SEQ": "13.0" if i % 2 else "99.0",
                    "A_NAME": "사과(부사, 300g)" if i % 2 else f"{payload}(1개)",
                    "A_UNIT": "1개",
                    "A_PRICE": str(2000 + i * 37 + week * 11),
                    "P_YEAR_MONTH": day[:7],
                    "ADD_COL": payload,
                    "P_DATE": day,
                    "M_TYPE_CODE": "001" if i % 3 else "002",
                    "M_TYPE_NAME": "전통시장" if i % 3 else "대형마트",
                    "M_GU_CODE": "",
                    "M_GU_NAME": DISTRICTS[i % len(DISTRICTS)],
                }
            )
    return rows


def proposal_records() -> list[dict]:
    return [
        {
            "SN": str(700000 + i),
            "TITLE": payload,
            "CONTENT": payload,
            "VOTE_SCORE": "1.0",
            "REG_DATE": f"2026-{(i % 9) + 1:02d}-1{i % 9} 10:00:00",
            "VISIOIN_TXT": payload if i % 4 == 0 else "교통",
            "USER_COMMENT_CNT": "1",
            "VOTE_CNT": str([3, 48, 60, 120, 700, 1500][i % 6]),
            "VOTE_DIS_CNT": "1",
            "REPLY_YN": "N",
        }
        for i, payload in enumerate(PAYLOADS)
    ]


@pytest.fixture(scope="module")
def hostile_server(sample_source, tmp_path_factory):
    root = tmp_path_factory.mktemp("xss")
    data_dir = root / "data"
    shutil.copytree(sample_source, data_dir)
    env = app_env(data_dir)
    (root / "prices.json").write_text(json.dumps(price_records(), ensure_ascii=False), "utf-8")
    (root / "proposals.json").write_text(json.dumps(proposal_records(), ensure_ascii=False), "utf-8")
    with open(root / "forums.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["date", "topic", "field", "participants", "outcome"])
        for i, payload in enumerate(PAYLOADS):
            writer.writerow([f"2015-0{(i % 9) + 1}-1{i % 9}", payload, payload, 100 + i, payload])
    for feed, name in (("prices", "prices.json"), ("proposals", "proposals.json"), ("forums", "forums.csv")):
        done = run_module("loaders", "import", feed, str(root / name), env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"{feed}: ok"), done.stdout
    with serve_app(data_dir, root / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/market-prices", "생필품 가격"),
        ("/", "서울 한눈에"),
        ("/citizen-proposals", "시민 제안"),
        ("/listening-forums", "청책토론회"),
        ("/data-explorer?ds=prices", "자료 탐색"),
        ("/data-explorer?ds=proposals", "자료 탐색"),
        ("/datasets", "데이터 목록"),
    ],
)
def test_hostile_text_never_runs(browser, hostile_server, path, heading):
    context = browser.new_context(viewport={"width": 1400, "height": 2200}, locale="ko-KR")
    context.add_init_script("window.__xss = 0;")
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(hostile_server + path)
        page.locator("h1", has_text=heading).wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        page.wait_for_timeout(2500)  # charts and maps draw after the script run
        # Hover every chart once: plotly hover labels are another renderer of feed text.
        for chart in page.locator(".js-plotly-plot").all()[:4]:
            box = chart.bounding_box()
            if box:
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.wait_for_timeout(300)
        assert dialogs == []
        assert page.evaluate("() => window.__xss") == 0
        assert page.evaluate("() => document.querySelectorAll('iframe[srcdoc], svg[onload], img[onerror]').length") == 0
    finally:
        context.close()


def test_payloads_really_reach_the_page_as_text(browser, hostile_server):
    # Proposal categories carry payloads into the votes-by-field chart's axis labels (SVG text).
    context = browser.new_context(viewport={"width": 1400, "height": 2200}, locale="ko-KR")
    page = context.new_page()
    try:
        page.goto(hostile_server + "/citizen-proposals")
        page.locator("h1", has_text="시민 제안").wait_for(timeout=30_000)
        page.wait_for_selector(".js-plotly-plot .ytick text", timeout=20_000)
        page.wait_for_timeout(1500)
        labels = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot .ytick text')].map(t => t.textContent)"
        )
        assert any(p[:10] in " ".join(labels) for p in PAYLOADS), labels
    finally:
        context.close()


def fresh_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, locale="ko-KR")
    context.add_init_script("window.__xss = 0;")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return context, page, dialogs


def assert_nothing_ran(page, dialogs) -> None:
    assert dialogs == []
    assert page.evaluate("() => window.__xss") == 0
    assert page.evaluate("() => document.querySelectorAll('iframe[srcdoc], svg[onload], img[onerror]').length") == 0


def is_hostile(text: str) -> bool:
    return any(p[:12] in text for p in PAYLOADS)


def sweep_tooltips(page, deck, wanted: int = 2, step: int = 8) -> tuple[list[str], set[str]]:
    """Hover a pydeck map from its centre outwards until `wanted` hostile tooltips have shown;
    each tooltip must be text (line breaks only), never markup. Returns the hostile ones and all."""
    deck.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    box = deck.bounding_box()
    seen: set[str] = set()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    points = [
        (x, y)
        for y in range(int(box["y"]) + 10, int(box["y"] + box["height"]) - 10, step)
        for x in range(int(box["x"]) + 10, int(box["x"] + box["width"]) - 10, step)
    ]
    points.sort(key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2)
    for x, y in points:
        if sum(is_hostile(s) for s in seen) >= wanted:
            break
        page.mouse.move(x, y)
        tip = page.evaluate(
            "() => { const t = document.querySelector('.deck-tooltip');"
            " if (!t || t.style.display === 'none') return null;"
            " return [t.innerText, [...t.querySelectorAll('*')].map(e => e.tagName)]; }"
        )
        if tip and tip[0]:
            # line breaks only: the text mode turns newlines into <br>, and nothing else
            assert set(tip[1]) <= {"BR"}, f"a tooltip holds elements: {tip}"
            seen.add(tip[0])
    return [s for s in seen if is_hostile(s)], seen


def test_map_tooltips_show_hostile_market_names_as_text(browser, hostile_server):
    # pydeck tooltips are one more renderer of feed text: sweep the market map (markets sit near
    # the view's centre) until two hostile markets' tooltips have shown, each text, never markup.
    context, page, dialogs = fresh_page(browser)
    try:
        page.goto(hostile_server + "/market-prices?item=" + "사과(부사, 300g)")
        page.locator("h1", has_text="생필품 가격").wait_for(timeout=30_000)
        hostile, seen = sweep_tooltips(page, page.locator('[data-testid="stDeckGlJsonChart"] canvas').first)
        assert hostile, f"no hostile market's tooltip was reached among {len(seen)} tooltips"
        assert_nothing_ran(page, dialogs)
    finally:
        context.close()


def console_shows_hostile_rows_as_text(browser, base: str, sql: str) -> None:
    context, page, dialogs = fresh_page(browser)
    try:
        page.goto(base + "/sql-console")
        page.locator("h1", has_text="SQL 콘솔").wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        area = page.locator("textarea").first
        area.fill(sql)
        area.press("Control+Enter")
        page.get_by_role("button", name="실행").click()
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
        page.wait_for_timeout(2000)
        # The grid draws on a canvas; its cells are also exposed as an accessible table.
        cells = page.evaluate("() => [...document.querySelectorAll('[role=\"gridcell\"]')].map(c => c.textContent)")
        assert is_hostile(" ".join(cells)), cells[:20]
        grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        for dy in range(40, min(int(grid["height"]), 400), 35):
            page.mouse.move(grid["x"] + 120, grid["y"] + dy)  # cell hover and overlay
            page.wait_for_timeout(80)
        assert_nothing_ran(page, dialogs)
    finally:
        context.close()


def test_sql_console_results_show_hostile_text_as_text(browser, hostile_server):
    console_shows_hostile_rows_as_text(
        browser,
        hostile_server,
        "SELECT DISTINCT market_name, remark FROM prices WHERE market_name LIKE '%<%' OR market_name LIKE '%[%'",
    )


# --- the real-time city: hotspot names, accidents, road names and messages ---------------------


def hostile_hotspot_rows() -> list[dict]:
    """data/hotspots.csv with the first hotspots renamed to payloads (Korean and English names)."""
    rows = [dict(r) for r in hotspots._read()]
    for row, payload in zip(rows, PAYLOADS, strict=False):
        row["area_name"] = f"{payload} {row['area_name']}"
        row["area_name_en"] = payload
    return rows


def hostile_citydata(code: str, name: str, lat: float, lon: float, n: int) -> dict:
    payload = PAYLOADS[n % len(PAYLOADS)]
    links = [
        city_wire.link(
            f"{code}-L{k}",
            str(8 + 7 * k),
            ((lon + 0.002 * k, lat), (lon + 0.002 * k + 0.0015, lat + 0.0015)),
            road=payload if k == 0 else "세종대로",
        )
        for k in range(2)
    ]
    events = []
    if n < 2 * len(PAYLOADS):
        events.append(
            {
                "ACDNT_OCCR_DT": "2026-11-19 17:20",
                "EXP_CLR_DT": "2026-11-19 19:00",
                "ACDNT_TYPE": payload if n % 2 else "공사",
                "ACDNT_DTYPE": payload,
                "ACDNT_INFO": f"{payload} 차로 통제",
                "ACDNT_X": f"{lon + 0.001:.5f}",
                "ACDNT_Y": f"{lat - 0.001:.5f}",
            }
        )
    level = ("여유", "보통", "약간 붐빔", "붐빔")[n % 4]
    people = city_wire.population(code, payload, "2026-11-19 18:00", level=level, AREA_CONGEST_MSG=payload)
    doc = city_wire.citydata(code, payload, links=links, events=events, pop=people)
    doc["CITYDATA"]["ROAD_TRAFFIC_STTS"]["AVG_ROAD_DATA"]["ROAD_MSG"] = payload
    return doc


class HostileCity(BaseHTTPRequestHandler):
    """citydata for every hotspot of the list, asked by its real name, answered with payloads."""

    answers: ClassVar[dict[str, bytes]] = {}

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        parts = [unquote(p) for p in self.path.strip("/").split("/")]
        body = self.answers.get("/".join(parts[5:]), json.dumps({"RESULT": city_wire.NO_DATA}).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def publish_hostile_city(data_dir) -> None:
    """Through the real loaders: the hotspots transform on the renamed list, then a live citydata
    refresh against a local server answering every hotspot with payloads in its text fields."""
    saved = dict(os.environ)
    spots = pd.read_csv(PROJECT / "data" / "hotspots.csv", dtype=str)
    HostileCity.answers = {
        r.area_name: json.dumps(
            hostile_citydata(r.area_code, r.area_name, float(r.lat or 37.55), float(r.lon or 126.98), n),
            ensure_ascii=False,
        ).encode("utf-8")
        for n, r in enumerate(spots.fillna("").itertuples())
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileCity)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        os.environ.update(app_env(data_dir))
        os.environ.update({"SEOUL_API_KEY": "XSSKEY", "SEOUL_API_BASE_URL": f"http://127.0.0.1:{server.server_port}"})
        cfg = settings.get()
        rows = hostile_hotspot_rows()
        ctx = runner.RunContext(cfg, data_dir, "bundled", is_sample=False)
        fetched = FetchResult("hotspots", "INFO-000", "", len(rows), rows)
        record = runner.run("hotspots", ctx, lambda: fetched, hotspots.transform)
        assert record.outcome == "ok", record.message
        record = feeds.refresh(feeds.FEEDS["citydata"], cfg)
        assert record.outcome == "ok", record.message
        assert record.extra["hotspots"]["ok"] == len(spots), record.extra
    finally:
        server.shutdown()
        server.server_close()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def hostile_city_server(sample_source, tmp_path_factory):
    root = tmp_path_factory.mktemp("xss-city")
    data_dir = root / "data"
    shutil.copytree(sample_source, data_dir)
    publish_hostile_city(data_dir)
    with serve_app(data_dir, root / "streamlit.log") as base:
        yield base


def open_page(browser, base: str, path: str, heading: str):
    context, page, dialogs = fresh_page(browser)
    page.goto(base + path)
    page.locator("h1", has_text=heading).wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_timeout(2500)  # charts and maps draw after the script run
    return context, page, dialogs


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "서울 한눈에"),
        ("/traffic-now", "교통"),
        ("/crowds-now", "인파"),
        ("/crowds-now?hotspot=POI001", "인파"),
    ],
)
def test_hostile_city_text_never_runs(browser, hostile_city_server, path, heading):
    context, page, dialogs = open_page(browser, hostile_city_server, path, heading)
    try:
        # Hover every chart: plotly hover labels (the forecast, who is there) are feed text too.
        for chart in page.locator(".js-plotly-plot").all()[:4]:
            box = chart.bounding_box()
            if box:
                for fx in (0.3, 0.5, 0.7):
                    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)
                    page.wait_for_timeout(200)
        assert_nothing_ran(page, dialogs)
        assert is_hostile(page.inner_text("body")), "no payload reached the page as text"
    finally:
        context.close()


@pytest.mark.parametrize(("path", "heading"), [("/traffic-now", "교통"), ("/crowds-now", "인파")])
def test_city_map_tooltips_show_hostile_text_as_text(browser, hostile_city_server, path, heading):
    # Hotspot names, road names, accident descriptions and messages in pydeck tooltips.
    context, page, dialogs = open_page(browser, hostile_city_server, path, heading)
    try:
        deck = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
        deck.scroll_into_view_if_needed()
        hostile, seen = sweep_tooltips(page, deck, wanted=2, step=6)
        assert hostile, f"no hostile tooltip was reached among {len(seen)} tooltips"
        assert_nothing_ran(page, dialogs)
    finally:
        context.close()


def test_sql_console_shows_hostile_accidents_and_hotspots_as_text(browser, hostile_city_server):
    console_shows_hostile_rows_as_text(
        browser,
        hostile_city_server,
        "SELECT e.kind, e.detail, e.info, h.area_name, c.congestion_message FROM road_events e "
        "JOIN hotspots h USING (area_code) JOIN hotspot_crowd c USING (area_code) ORDER BY e.event_id",
    )
