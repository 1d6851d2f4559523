"""Wall-screen mode: one link configures a screen (`?screen=1&pages=a,b&every=30`), hides
Streamlit's chrome, sets large type on a dark ground, and rotates through its pages.

The app's theme is fixed light in .streamlit/config.toml (Streamlit's `embed_options=dark_theme`
does not override it), so the dark ground is this module's style: it darkens the page and inverts
chart and table colours (hue kept), which reads from across a room.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

import streamlit as st

import settings
from ui import alerts, navigation, status
from ui.i18n import t

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


def alert_banner(shown_url_path: str) -> None:
    """Whatever page the rotation shows, the alerts in force stay on the screen: a banner above the
    page, rebuilt from the published data every MAYOR_LIVE_REFRESH_S, so it goes when the condition
    clears."""
    if shown_url_path in OWN_ALERT_BANNER:
        return
    st.fragment(run_every=settings.get().live_refresh_s)(alerts.render_alert_banner)()


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


SCREEN_PARAMS = ("screen", "pages", "every", "lang")


def due(screen: Screen, shown_url_path: str) -> str | None:
    """The page to switch to now, or None while this one has time left."""
    if st.session_state.get("screen_page") != shown_url_path:
        st.session_state["screen_page"] = shown_url_path
        st.session_state["screen_since"] = time.monotonic()
    if len(screen.pages) < 2 and shown_url_path in screen.pages:
        return None
    shown_for = time.monotonic() - st.session_state["screen_since"]
    if shown_for >= screen.every_s or shown_url_path not in screen.pages:
        return next_page(screen, shown_url_path)
    return None


def switch_if_due(screen: Screen, shown_url_path: str) -> None:
    """At the start of a full run: go to the next page if this one's time is up. The switch is made
    from a full run, never from a fragment: a page switch from a fragment raced the fragments'
    timers in the browser, which then got parts of the old page and went blank (Streamlit 1.67:
    "Bad delta path index")."""
    target = due(screen, shown_url_path)
    if target is None:
        return
    st.session_state["screen_page"] = target
    st.session_state["screen_since"] = time.monotonic()
    params = {k: v for k, v in st.query_params.to_dict().items() if k in SCREEN_PARAMS}
    st.switch_page(navigation.path_for(target), query_params=params)


def rotate(screen: Screen, shown_url_path: str) -> None:
    """Ask for a full run once this page's time is up (switch_if_due then moves on). The check is a
    fragment, so the page itself is not rerun until it is time to move on."""

    @st.fragment(run_every=max(1, screen.every_s // 5))
    def tick() -> None:
        if due(screen, shown_url_path) is not None:
            st.rerun(scope="app")

    tick()
