"""Wall-screen mode: one link configures a screen (`?screen=1&pages=a,b&every=30`), hides
Streamlit's chrome, sets large type on a dark ground, and rotates through its pages.

The rotation never changes Streamlit's page. A screen's navigation holds one runner page per url
path; the runner runs the playlist's current page file inside itself, and moving on is a full
rerun with the next file. Switching Streamlit pages (st.switch_page) every few seconds beside
run_every fragments blanked the screen in Streamlit 1.67: the browser tidied the old page's
elements after the new page's had arrived, the next fragment wrote past the end of the page
("Bad delta path index") and the app stopped until reloaded (seen within 10-110 s with the
browser's CPU throttled 8x; never in 13 minutes with the runner). For the same reason every
fragment of the frame sits above the page, at the same place on every page.

The app's theme is fixed light in .streamlit/config.toml (Streamlit's `embed_options=dark_theme`
does not override it), so the dark ground is this module's style: it darkens the page and inverts
chart and table colours (hue kept), which reads from across a room.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import streamlit as st

import settings
from ui import alerts, navigation, status
from ui.i18n import t

SCREEN_PARAMS = ("screen", "pages", "every", "lang")
# Pages that put the alert banner in their own live panel; the screen adds it to every other page.
OWN_ALERT_BANNER = frozenset({"seoul-at-a-glance", "traffic-now"})
OFFLINE_MARK_EVERY_S = 10
MIN_EVERY_S = 5
MAX_EVERY_S = 3600
TRUE = {"1", "true", "on", "yes"}

CHROME_CSS = """
<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stStatusWidget"],
[data-testid="stMainMenu"], [data-testid="stPageLink"], footer { display: none !important; }
/* Lost connection: no modal over the screen; the marker below says since when instead. */
[data-testid="stDialog"], [role="dialog"] { display: none !important; }
.screen-offline { display: none; }
body:has([data-testid="stConnectionStatus"]) .screen-offline {
  display: block; position: fixed; top: 0; left: 0; right: 0; z-index: 1000000; padding: 0.4rem 1rem;
  background: #b45309; color: #fff; font-size: 1.3rem; font-weight: 600; text-align: center;
}
body:has([data-testid="stConnectionStatus"]) [data-testid="stMainBlockContainer"] { padding-top: 3.2rem; }
html { font-size: 21px; }
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; max-width: 100%; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
h1 { font-size: 2.2rem !important; }
</style>
"""

DARK_CSS = """
<style>
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #0d1117 !important; color: #e6edf3; }
.stApp :is(p, li, h1, h2, h3, [data-testid="stMetricValue"], [data-testid="stMetricLabel"],
  [data-testid="stCaptionContainer"]):not([data-testid="stAlertContainer"] *, [data-testid="stMetricDelta"] *) { color: #e6edf3 !important; }
[data-testid="stVerticalBlockBorderWrapper"] { border-color: #30363d !important; }
[data-testid="stPlotlyChart"], [data-testid="stDataFrame"] { filter: invert(0.9) hue-rotate(180deg); }
</style>
"""


@dataclass(frozen=True)
class Screen:
    pages: tuple[str, ...]  # url paths, in rotation order
    every_s: int


def parse(params: dict[str, str], default_pages: str, default_every_s: int) -> Screen | None:
    """The screen a link asks for, or None when the link is not a screen link. Unknown pages are
    dropped and the interval is clamped, so a mistyped link still gives a working screen."""
    if str(params.get("screen", "")).lower() not in TRUE:
        return None
    known = [p.url_path for p in navigation.PAGES]
    wanted = [p.strip() for p in str(params.get("pages") or default_pages).split(",")]
    pages = tuple(p for p in wanted if p in known) or (known[0],)
    try:
        every = int(params.get("every") or default_every_s)
    except ValueError:
        every = default_every_s
    return Screen(pages, max(MIN_EVERY_S, min(MAX_EVERY_S, every)))


def current() -> Screen | None:
    cfg = settings.get()
    return parse(st.query_params.to_dict(), cfg.screen_pages, cfg.screen_rotate_s)


def next_page(screen: Screen, current_url_path: str) -> str:
    """The page after this one in the rotation (the first when this page is not in it)."""
    if current_url_path not in screen.pages:
        return screen.pages[0]
    return screen.pages[(screen.pages.index(current_url_path) + 1) % len(screen.pages)]


def apply_style() -> None:
    st.html(CHROME_CSS)
    st.html(DARK_CSS)


@cache
def _compiled(path: str):
    source = settings.PROJECT_DIR / path
    return compile(source.read_text("utf-8"), str(source), "exec")


def run_page(url_path: str) -> None:
    """Run one page file as the screen's page (each in a namespace of its own, so fragments of
    different pages never share an id)."""
    path = navigation.path_for(url_path)
    exec(_compiled(path), {"__name__": f"screen_{Path(path).stem}", "__file__": path})


def runner_pages(screen: Screen) -> list:
    """The screen's navigation: a runner under every url path (a screen link may name any), each
    running whatever page the rotation has reached."""
    return [
        st.Page(
            lambda: run_page(st.session_state["screen_page"]),
            title=t(spec.title_key),
            url_path=spec.url_path,
            default=(i == 0),
        )
        for i, spec in enumerate(navigation.PAGES)
    ]


def is_due(screen: Screen) -> bool:
    shown_for = time.monotonic() - st.session_state.get("screen_since", time.monotonic())
    return len(screen.pages) > 1 and shown_for >= screen.every_s


def current_page(screen: Screen, link_url_path: str) -> str:
    """The page to show in this full run: the page the link names (or the playlist's first) at the
    start, the next one once this one has been up for `every_s`. A new page starts with the
    screen's own link parameters only (a page's own, such as ?item=, do not travel on)."""
    shown = st.session_state.get("screen_page")
    if shown not in screen.pages:
        shown = link_url_path if link_url_path in screen.pages else screen.pages[0]
    elif is_due(screen):
        shown = next_page(screen, shown)
    if shown != st.session_state.get("screen_page"):
        st.session_state["screen_page"] = shown
        st.session_state["screen_since"] = time.monotonic()
        for key in [k for k in st.query_params if k not in SCREEN_PARAMS]:
            del st.query_params[key]
    return shown


def alert_banner(shown_url_path: str) -> None:
    """Whatever page the rotation shows, the alerts in force stay on the screen: a banner above the
    page, rebuilt from the published data every MAYOR_LIVE_REFRESH_S, so it goes when the condition
    clears. On the pages that show their own banner it stays empty (it keeps its place, so the
    fragments below it keep theirs)."""

    @st.fragment(run_every=settings.get().live_refresh_s)
    def banner() -> None:
        if shown_url_path not in OWN_ALERT_BANNER:
            alerts.render_alert_banner()

    banner()


def offline_marker() -> None:
    """'Degraded since HH:MM' for the moment the server stops answering (network or server down).

    The browser keeps the last picture it was sent; Streamlit then shows its connection status,
    which the style above turns into this marker (hidden while connected). A fragment rewrites the
    marker's time every OFFLINE_MARK_EVERY_S, so it says when the screen last heard from the server."""

    @st.fragment(run_every=OFFLINE_MARK_EVERY_S)
    def mark() -> None:
        since = status.now_kst().strftime("%H:%M")
        st.html(f'<div class="screen-offline">{html.escape(t("screen.offline", since=since))}</div>')

    mark()


def rotate(screen: Screen) -> None:
    """Ask for a full rerun once this page's time is up (current_page then moves on). The check is
    a fragment, so the page itself is not rerun until it is time to move on."""

    @st.fragment(run_every=max(1, screen.every_s // 5))
    def tick() -> None:
        if is_due(screen):
            st.rerun(scope="app")

    tick()
