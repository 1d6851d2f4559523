"""The page list, in one place: app.py builds the navigation from it and the tests run every
page in it.

A url_path must differ from its file's stem: with a `pages/` folder beside app.py, Streamlit
1.67 serves a direct link such as /explore by running pages/explore.py on its own, without
app.py's frame (no banner, no language switch, the legacy page list).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui.i18n import t


@dataclass(frozen=True)
class PageSpec:
    path: str
    title_key: str
    icon: str
    url_path: str


PAGES = [
    PageSpec("pages/overview.py", "nav.overview", ":material/dashboard:", "seoul-at-a-glance"),
    PageSpec("pages/prices.py", "nav.prices", ":material/shopping_cart:", "market-prices"),
    PageSpec("pages/traffic.py", "nav.traffic", ":material/traffic:", "traffic-now"),
    PageSpec("pages/crowds.py", "nav.crowds", ":material/groups_3:", "crowds-now"),
    PageSpec("pages/complaints.py", "nav.complaints", ":material/support_agent:", "complaints-120"),
    PageSpec("pages/proposals.py", "nav.proposals", ":material/how_to_vote:", "citizen-proposals"),
    PageSpec("pages/air_bikes.py", "nav.air_bikes", ":material/air:", "air-and-bikes"),
    PageSpec("pages/forums.py", "nav.forums", ":material/record_voice_over:", "listening-forums"),
    PageSpec("pages/panel.py", "nav.panel", ":material/groups:", "citizen-panel"),
    PageSpec("pages/explore.py", "nav.explore", ":material/travel_explore:", "data-explorer"),
    PageSpec("pages/sql.py", "nav.sql", ":material/terminal:", "sql-console"),
    PageSpec("pages/data.py", "nav.data", ":material/dataset:", "datasets"),
]


def pages() -> list:
    return [
        st.Page(p.path, title=t(p.title_key), icon=p.icon, url_path=p.url_path, default=(i == 0))
        for i, p in enumerate(PAGES)
    ]


def path_for(url_path: str) -> str | None:
    """The page file behind a url path, for links between pages; None when no such page exists."""
    return next((p.path for p in PAGES if p.url_path == url_path), None)


def page_link(url_path: str, label: str, icon: str | None = None) -> None:
    """A link to another page, left out where that page cannot be reached (a page run on its own,
    outside app.py's navigation, as the page tests do)."""
    path = path_for(url_path)
    if path is None:
        return
    with contextlib.suppress(StreamlitAPIException):
        st.page_link(path, label=label, icon=icon)


def shown_url_path(page) -> str:
    """The url path of the page being shown; Streamlit reports the default page's as ""."""
    return page.url_path or PAGES[0].url_path
