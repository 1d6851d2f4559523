"""The frame: page config, navigation, language switch and the sample-data banner. No data work.

A link with `?screen=1` opens wall-screen mode (ui/screen.py): no sidebar or Streamlit chrome,
large type, and a rotation through the pages the link names."""

import streamlit as st

from ui import frame, navigation, screen
from ui.i18n import t

st.set_page_config(page_title=t("app.title"), page_icon="🏛️", layout="wide")
wall = screen.current()
nav = st.navigation(navigation.pages(), position="hidden" if wall else "sidebar")
if wall:
    screen.switch_if_due(wall, navigation.shown_url_path(nav))
    screen.apply_style()
else:
    with st.sidebar:
        st.markdown(f"**{t('app.title')}**")
        st.caption(t("app.subtitle"))
    frame.language_switch()
frame.provenance_banner()
if wall:
    screen.alert_banner(navigation.shown_url_path(nav))
nav.run()
if wall:
    screen.offline_marker()
    screen.rotate(wall, navigation.shown_url_path(nav))
else:
    frame.footer()
