"""The frame: page config, navigation, language switch and the sample-data banner. No data work."""

import streamlit as st

from ui import frame, navigation
from ui.i18n import t

st.set_page_config(page_title=t("app.title"), page_icon="🏛️", layout="wide")
page = navigation.pages()
nav = st.navigation(page)
with st.sidebar:
    st.markdown(f"**{t('app.title')}**")
    st.caption(t("app.subtitle"))
frame.language_switch()
frame.provenance_banner()
nav.run()
frame.footer()
