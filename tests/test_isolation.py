"""One broken feed never blanks a page: with each published feed missing in turn, or its latest
run failed, every page still renders, without an exception, and shows an error panel only where
a query itself fails."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import datadir
from loaders import store
from tests.conftest import PROJECT
from ui import navigation

FEEDS = ["prices", "proposals", "reference", "census", "forums", "panel", "panel_draw", "air", "bikes"]
FEEDS += ["citydata", "traffic", "hotspots", "traffic_history"]


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def run_every_page() -> dict[str, AppTest]:
    runs = {}
    for spec in navigation.PAGES:
        at = AppTest.from_file(str(PROJECT / spec.path), default_timeout=60).run()
        runs[spec.path] = at
    return runs


@pytest.mark.parametrize("feed", FEEDS)
def test_every_page_renders_with_one_feed_missing(sample_data_dir, feed):
    pointer = datadir.pointer_path(sample_data_dir, feed)
    assert pointer.is_file(), f"the sample should publish {feed}"
    pointer.unlink()  # as if the feed had never loaded
    for path, at in run_every_page().items():
        assert not at.exception, (feed, path, [e.value for e in at.exception])
        assert at.title, (feed, path)  # the page drew its heading, not a blank


@pytest.mark.parametrize("feed", ["prices", "proposals"])
def test_every_page_renders_with_one_feed_failing(sample_data_dir, feed):
    record = store.RunRecord(feed=feed, source="live", run_id=store.new_run_id(feed))
    record.started_at = record.finished_at = store.now_utc().isoformat()
    record.outcome, record.api_code, record.message = "failed", "ERROR-500", f"{feed}: ERROR-500 server error"
    store.append_run(sample_data_dir, record)
    runs = run_every_page()
    for path, at in runs.items():
        assert not at.exception, (feed, path, [e.value for e in at.exception])
    # The catalogue tells the operator which feed is degraded, the last good data still serving.
    data_page = runs["pages/data.py"]
    overview = data_page.dataframe[0].value
    states = dict(zip(overview.iloc[:, 0], overview.iloc[:, 1], strict=True))
    degraded = [title for title, state in states.items() if state.startswith("일부 오류")]
    assert len(degraded) == 1, states
