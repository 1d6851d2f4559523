"""The real app in a real browser: `streamlit run` on 127.0.0.1 with a copy of the sample
warehouse, driven by headless Debian chromium through Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import TEST_ENV
from ui import navigation

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 30
PHONE_WIDTH = 390

with open(PROJECT / "ui" / "locales" / "ko.toml", "rb") as _f:
    KO = tomllib.load(_f)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"streamlit did not answer {url} within {STARTUP_TIMEOUT_S}s:\n{log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group (it was started in a session of its own)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def app_env(data_dir: Path, production: bool = False) -> dict:
    """The test settings, no key, and this data directory: what a served app under test sees.
    `production`: the settings' own defaults instead (benchmarks measure what `make run` serves)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYOR_", "SEOUL_"))}
    if not production:
        env.update(TEST_ENV)
    env["MAYOR_DATA_DIR"] = str(data_dir)
    return env


@contextlib.contextmanager
def serve_app(data_dir: Path, log: Path, production: bool = False):
    """`python serve.py` (the launcher `make run` uses) on a free 127.0.0.1 port; yields its base
    URL and stops the whole process group afterwards."""
    port = free_port()
    # The interpreter running the tests (the Makefile's .venv or the setup venv), not a fixed path.
    cmd = [sys.executable, "serve.py", "--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd += ["--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT,
            env=app_env(data_dir, production),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(f"{base}/_stcore/health", proc, log)
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def server(sample_source, tmp_path_factory) -> str:
    """The app serving a copy of the sample warehouse.

    Module-scoped so the tests share one server; the copy is made the same way `sample_data_dir`
    makes its copy (that fixture is per test and would restart the server for every test)."""
    root = tmp_path_factory.mktemp("browser")
    data_dir = root / "data"
    shutil.copytree(sample_source, data_dir)
    with serve_app(data_dir, root / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
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
def open_page(browser, server):
    """A page factory; every request that is not to the local server is refused and recorded."""
    contexts = []
    blocked: list[str] = []

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    def make(path: str = "/", width: int = 1400, height: int = 2200):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
        context.route("**/*", route)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(server + path)
        return page

    make.blocked = blocked
    yield make
    for c in contexts:
        c.close()


def wait_until_idle(page) -> None:
    """Streamlit shows a status widget while the script runs; wait until it is gone."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stMetric\"]').length > 0"
    )


# Is Hangul really drawn with a Korean font? Without a font that covers Hangul, chromium draws
# every syllable as the same "missing glyph" (tofu): a hollow box or nothing at all. So:
#  1. draw '가', '힣' and two characters that no font renders (U+FFFF, a noncharacter, and
#     U+10FFFD, a private-use plane-16 code point) on a canvas, in the h1's computed font-family;
#  2. tofu makes '가' and '힣' pixel-identical to each other and to one of the missing glyphs, and
#     an empty rendering has no ink. Real glyphs have ink, differ from each other (different
#     shapes) and differ from both missing glyphs.
# This fails when fonts-nanum (or any Korean font) is missing, which a screenshot alone hides.
GLYPH_CHECK_JS = """
(fontFamily) => {
  const draw = (ch) => {
    const c = document.createElement('canvas');
    c.width = 96; c.height = 96;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 96, 96);
    ctx.fillStyle = '#000'; ctx.textBaseline = 'top';
    ctx.font = `64px ${fontFamily}`;
    ctx.fillText(ch, 8, 8);
    const px = ctx.getImageData(0, 0, 96, 96).data;
    let ink = 0, sig = [];
    for (let i = 0; i < px.length; i += 4) { if (px[i] < 128) ink++; sig.push(px[i] < 128 ? 1 : 0); }
    return {ink, sig: sig.join(''), width: ctx.measureText(ch).width};
  };
  const ga = draw('\\uAC00'), hih = draw('\\uD7A3');
  const missing1 = draw('\\uFFFF'), missing2 = draw(String.fromCodePoint(0x10FFFD));
  return {
    gaInk: ga.ink, hihInk: hih.ink,
    gaVsHih: ga.sig !== hih.sig,
    gaVsMissing: ga.sig !== missing1.sig && ga.sig !== missing2.sig,
    hihVsMissing: hih.sig !== missing1.sig && hih.sig !== missing2.sig,
    widths: [ga.width, hih.width, missing1.width, missing2.width],
  };
}
"""


def test_a_shared_link_to_the_datasets_page_opens_it(open_page):
    # First in this file on purpose: the fresh server's first session. Streamlit 1.67 gave that
    # session the legacy pages/ list (a "Page not found" dialog) unless serve.py told it not to.
    page = open_page("/datasets")
    page.locator("h1", has_text=KO["data"]["title"]).wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.wait_for_timeout(500)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("h1", has_text=KO["prices"]["title"]).count() == 0
    assert urlparse(page.url).path == "/datasets"


def test_prices_page_renders_korean_with_a_korean_font(open_page):
    page = open_page("/market-prices")
    h1 = page.locator("h1", has_text=KO["prices"]["title"])
    h1.wait_for()
    assert page.get_by_text(KO["banner"]["sample"]).is_visible()
    wait_until_idle(page)

    family = h1.evaluate("el => getComputedStyle(el).fontFamily")
    glyphs = page.evaluate(GLYPH_CHECK_JS, family)
    assert glyphs["gaInk"] > 50 and glyphs["hihInk"] > 50, glyphs
    assert glyphs["gaVsHih"], f"'가' and '힣' draw the same pixels in {family!r}: tofu? {glyphs}"
    assert glyphs["gaVsMissing"] and glyphs["hihVsMissing"], f"Hangul drawn as a missing glyph: {glyphs}"

    # Let the charts draw before the picture (plotly: trend, gap and tile grid).
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "prices.png"))


def test_phone_width_has_no_horizontal_overflow(open_page):
    page = open_page("/market-prices", width=PHONE_WIDTH, height=844)
    page.locator("h1", has_text=KO["prices"]["title"]).wait_for()
    wait_until_idle(page)
    page.wait_for_timeout(500)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    body = page.evaluate("() => document.body.scrollWidth")
    assert width <= PHONE_WIDTH + 2, f"page is {width}px wide on a {PHONE_WIDTH}px screen"
    assert body <= PHONE_WIDTH + 2, f"body is {body}px wide on a {PHONE_WIDTH}px screen"
    box = page.locator("h1").first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH + 2, box


@pytest.mark.parametrize("spec", navigation.PAGES[1:], ids=lambda p: p.url_path)
def test_every_direct_link_opens_inside_the_app_frame(open_page, spec):
    # A shared link must run app.py's frame too: the sample banner and the app's own navigation.
    page = open_page(f"/{spec.url_path}")
    section, key = spec.title_key.split(".")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(KO[section][key]).first.wait_for()
    page.get_by_text(KO["banner"]["sample"]).wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert urlparse(page.url).path == f"/{spec.url_path}"


def test_the_overview_fits_a_phone(open_page):
    page = open_page("/", width=PHONE_WIDTH, height=1600)
    page.locator("h1", has_text=KO["overview"]["title"]).wait_for()
    wait_until_idle(page)
    page.wait_for_timeout(800)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH + 2
    # Tiles stack one above the other on a phone: each as wide as the screen allows.
    boxes = [m.bounding_box() for m in page.locator('[data-testid="stMetric"]').all()]
    assert len(boxes) >= 5
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE_WIDTH + 2 for b in boxes), boxes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-phone.png"), full_page=True)


def test_a_screen_link_hides_the_chrome_and_rotates(open_page):
    link = "/?screen=1&pages=seoul-at-a-glance,market-prices&every=6"
    page = open_page(link, width=1920, height=1080)
    page.locator("h1", has_text=KO["overview"]["title"]).wait_for()
    wait_until_idle(page)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert not page.locator('[data-testid="stHeader"]').is_visible()
    background = page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
    r, g, b = (int(x) for x in background.removeprefix("rgb(").removesuffix(")").split(",")[:3])
    assert r + g + b < 150, f"the screen should be dark, not {background}"
    # Large type, read from five metres: the root size every rem of the page scales with.
    root_px = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    metric_px = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('[data-testid=\"stMetricValue\"]')).fontSize)"
    )
    assert root_px >= 20 and metric_px >= 40, (root_px, metric_px)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screen-overview.png"))
    # The next page of the playlist follows by itself, the screen's link kept.
    page.locator("h1", has_text=KO["prices"]["title"]).wait_for(timeout=30_000)
    assert "screen=1" in page.url and "every=6" in page.url
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "screen-prices.png"))
    # Only the screen's own parameters travel with it, not the last page's (prices' ?item=).
    page.locator("h1", has_text=KO["overview"]["title"]).wait_for(timeout=30_000)
    assert "item=" not in page.url, page.url
    assert page.errors == [], page.errors  # e.g. "Bad delta path index": a blank screen


def test_a_screen_that_loses_its_server_keeps_the_picture_and_says_since_when(browser, sample_source, tmp_path):
    # A server of its own: this test stops it.
    shutil.copytree(sample_source, tmp_path / "data")
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="ko-KR")
    try:
        page = context.new_page()
        with serve_app(tmp_path / "data", tmp_path / "streamlit.log") as base:
            page.goto(base + "/?screen=1&pages=market-prices&every=60")
            page.locator("h1", has_text=KO["prices"]["title"]).wait_for(timeout=30_000)
            wait_until_idle(page)
            marker = page.locator(".screen-offline")
            assert marker.count() == 1 and not marker.is_visible()  # connected: no marker
            connected_at = datetime.now(ZoneInfo("Asia/Seoul"))
        marker.wait_for(state="visible", timeout=30_000)
        lost_at = datetime.now(ZoneInfo("Asia/Seoul"))
        minutes = {
            (connected_at + timedelta(minutes=m)).strftime("%H:%M")
            for m in range(-1, int((lost_at - connected_at).total_seconds() // 60) + 2)
        }
        text = marker.inner_text()
        prefix, _, rest = KO["screen"]["offline"].partition("{since}")
        assert text.startswith(prefix) and text.endswith(rest), text
        assert text.removeprefix(prefix).removesuffix(rest) in minutes, (text, minutes)
        # The last picture stays, with no dialog over it and no traceback.
        page.wait_for_timeout(3000)
        assert page.locator("h1", has_text=KO["prices"]["title"]).is_visible()
        assert page.locator('[data-testid="stMetric"]').first.is_visible()
        assert not page.get_by_text("Connection error").is_visible()
        assert page.get_by_text("Traceback").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screen-offline.png"))
    finally:
        context.close()
