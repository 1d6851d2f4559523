"""The Traffic and Crowds pages in headless chromium, served on 127.0.0.1 from the city fixture
with every other host refused (so the basemap tiles never come: the offline case). The deck canvas
must really be drawn, tooltips must show feed text as text, and a 390-px phone must not scroll
sideways. Screenshots go to tests/_artifacts for a person to look at."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest

from tests import city_fixture as cf
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE_WIDTH, serve_app
from ui.maps import SEOUL_VIEW

pytestmark = pytest.mark.browser

PAYLOAD = '<img src=x onerror="window.__xss=1">도로'
# A lone link south-west of everything else, where a hover can only hit it.
LONE_PATH = [[126.80, 37.43], [126.86, 37.43], [126.92, 37.43]]
MAP_HEIGHT = 460  # pages/traffic.py


@pytest.fixture(scope="module")
def city_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("city-browser")
    frames = cf.city_frames()
    links = frames["road_links"]
    links.loc[0, ["road_name", "path", "level", "speed_kmh"]] = [PAYLOAD, json.dumps(LONE_PATH), "정체", 4.0]
    cf.publish_city(root / "data", frames)
    with serve_app(root / "data", root / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is not installed (make system-deps)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(chromium, city_server):
    contexts, blocked = [], []

    def route(r):
        if r.request.url.startswith((city_server, "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    def make(path: str, width: int = 1280, height: int = 2600):
        context = chromium.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
        context.route("**/*", route)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs
        page.goto(city_server + path)
        return page

    make.blocked = blocked
    yield make
    for c in contexts:
        c.close()


def wait_for_map(page):
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.wait_for()
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_timeout(2500)  # deck.gl draws on the next animation frames
    return chart


def coloured_pixels(png: bytes) -> dict[str, int]:
    """Pixels of each road colour (and any strongly coloured pixel) in a screenshot."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    counts = {"red": 0, "green": 0, "amber": 0, "coloured": 0}
    for r, g, b in img.getdata():
        if max(r, g, b) - min(r, g, b) > 60:
            counts["coloured"] += 1
        if r > 170 and g < 90 and b < 90:
            counts["red"] += 1
        elif g > 120 and r < 110 and b < 120:
            counts["green"] += 1
        elif r > 200 and 120 < g < 200 and b < 90:
            counts["amber"] += 1
    return counts


def screen_xy(lon: float, lat: float, width: float, height: float) -> tuple[float, float]:
    """Web Mercator, as deck.gl's MapView projects at SEOUL_VIEW."""
    scale = 512 * 2**SEOUL_VIEW.zoom

    def project(lo, la):
        x = scale * (lo + 180) / 360
        y = scale * (1 - math.log(math.tan(math.pi / 4 + math.radians(la) / 2)) / math.pi) / 2
        return x, y

    cx, cy = project(SEOUL_VIEW.longitude, SEOUL_VIEW.latitude)
    x, y = project(lon, lat)
    return width / 2 + (x - cx), height / 2 + (y - cy)


def test_traffic_map_is_drawn_offline(open_page):
    page = open_page("/traffic-now")
    chart = wait_for_map(page)
    png = chart.screenshot()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "traffic-map.png").write_bytes(png)
    page.screenshot(path=str(ARTIFACTS / "traffic-1280.png"), full_page=True)
    counts = coloured_pixels(png)
    assert counts["red"] > 300 and counts["green"] > 300 and counts["amber"] > 300, counts
    assert open_page.blocked == [] or all("cartocdn" in u or "openmaptiles" in u for u in open_page.blocked)


def test_traffic_tooltip_shows_feed_text_as_text(open_page):
    page = open_page("/traffic-now")
    chart = wait_for_map(page)
    box = chart.bounding_box()
    canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.bounding_box()
    x, y = screen_xy(126.86, 37.43, canvas["width"], canvas["height"])
    page.mouse.move(canvas["x"] + x, canvas["y"] + y)
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    text = tooltip.inner_text()
    assert PAYLOAD in text, text
    assert "정체 · 4.0 km/h" in text
    assert page.locator(".deck-tooltip img").count() == 0
    assert page.evaluate("() => window.__xss") is None and not page.dialogs
    page.screenshot(path=str(ARTIFACTS / "traffic-tooltip.png"), clip={**box, "height": box["height"] + 40})


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH])
def test_crowds_page_draws_its_map_and_fits_the_screen(open_page, width):
    page = open_page("/crowds-now", width=width, height=2600 if width > 500 else 5200)
    chart = wait_for_map(page)
    png = chart.screenshot()
    counts = coloured_pixels(png)
    assert counts["coloured"] > 500, counts
    page.screenshot(path=str(ARTIFACTS / f"crowds-{width}.png"), full_page=True)
    assert page.get_by_text("인파 경보 (앞으로 3시간)").is_visible()
    if width == PHONE_WIDTH:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH + 2


def test_traffic_page_fits_a_phone(open_page):
    page = open_page("/traffic-now", width=PHONE_WIDTH, height=5200)
    wait_for_map(page)
    page.screenshot(path=str(ARTIFACTS / "traffic-390.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH + 2
    assert page.evaluate("() => document.body.scrollWidth") <= PHONE_WIDTH + 2
