"""Cached reads for pages. The cache key includes the warehouse signature, so a newly published
version or a new run record is seen at once, not after the TTL."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import queries
import settings


@st.cache_data(ttl=settings.get().cache_ttl_s, show_spinner=False, max_entries=512)
def _cached(name: str, params: tuple, signature_key: str) -> pd.DataFrame:
    return queries.run(name, **dict(params))


def query(name: str, **params) -> pd.DataFrame:
    """Rows of `queries/<name>.sql`; raises queries.QueryError with a short message."""
    return _cached(name, tuple(sorted(params.items())), repr(queries.signature()))


QueryError = queries.QueryError
