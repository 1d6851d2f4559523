"""The frame: page config, navigation, language switch and the sample-data banner. No data work.

A link with `?screen=1` opens wall-screen mode (ui/screen.py): no sidebar or Streamlit chrome,
large type, and a rotation through the pages the link names (inside one runner page, see there)."""

import streamlit as st

from ui import frame, navigation, screen
from ui.i18n import t

st.set_page_config(page_title=t("app.title"), page_icon="🏛️", layout="wide")
wall = screen.current()
if wall:
    nav = st.navigation(screen.runner_pages(wall), position="hidden")
    shown = screen.current_page(wall, navigation.shown_url_path(nav))
    screen.apply_style()
    frame.provenance_banner()
    screen.alert_banner(shown)
    screen.offline_marker()
    screen.rotate(wall)
else:
    nav = st.navigation(navigation.pages(), position="sidebar")
    with st.sidebar:
        st.markdown(f"**{t('app.title')}**")
        st.caption(t("app.subtitle"))
    frame.language_switch()
    frame.provenance_banner()
nav.run()
if not wall:
    frame.footer()
