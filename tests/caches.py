"""What pages cached, forgotten between tests: two copies of the sample share a signature, and a
test that changes published data in place must not be answered from the old rows."""

import streamlit as st

from ui import data


def clear_page_caches() -> None:
    """Both of Streamlit's caches: query results live in st.cache_resource (ui/data.py), the
    explorer's reads in st.cache_data. And the record of the queries started ahead, so that a
    page run after the clear starts them again."""
    st.cache_data.clear()
    st.cache_resource.clear()
    with data._started_lock:
        data._started.clear()
