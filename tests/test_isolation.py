"""One broken feed never blanks a page: with each published feed missing in turn, or its latest
run failed, or (for the real-time feeds) its data stale, every page still renders without an
exception, and exactly the panels that show that feed's data say what state it is in."""

from __future__ import annotations

import json
import re
import tomllib

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import datadir
from loaders import store
from queries import warehouse
from tests.conftest import PROJECT
from ui import navigation

FEEDS = ["prices", "proposals", "reference", "census", "forums", "panel", "panel_draw", "air", "bikes"]
FEEDS += ["citydata", "traffic", "hotspots", "traffic_history"]


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


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


# --- real-time feeds stale or failing: exactly their panels say so ----------------------------

KO = tomllib.loads((PROJECT / "ui" / "locales" / "ko.toml").read_text("utf-8"))
REALTIME = ["air", "bikes", "citydata", "traffic"]


def pattern(template: str) -> re.Pattern:
    """A locale string with its {placeholders} as wildcards."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


# What a panel says about its data: stale (live panels and overview tiles), refresh failing.
PANEL_STATES = {
    "stale": [pattern(KO["state"]["stale"]), pattern(KO["live"]["stale"]), pattern(KO["overview"]["stale_since"])],
    "failing": [pattern(KO["state"]["failing"]), pattern(KO["overview"]["error_since"])],
}
FEED_ALERTS = {"stale": pattern(KO["alerts"]["feed_stale"]), "failing": pattern(KO["alerts"]["feed_error"])}
# The panels that show each real-time feed's data, per page. The traffic feed (TrafficInfo's
# link_speeds) feeds no panel yet: only the catalogue and the alert list know it.
PANELS = {
    "air": {"pages/overview.py": 1, "pages/air_bikes.py": 1},  # the air tile; the dust panel
    "bikes": {"pages/air_bikes.py": 1},  # the bikes panel
    "citydata": {"pages/overview.py": 2, "pages/traffic.py": 1, "pages/crowds.py": 1},  # road and crowd tiles
    "traffic": {},
}


def page_texts(at: AppTest) -> list[str]:
    kinds = ("caption", "markdown", "warning", "error", "info", "success", "text")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


def panel_states(at: AppTest, mode: str) -> int:
    banner = pattern(KO["alerts"]["banner"])
    texts = [x for x in page_texts(at) if not banner.search(x)]
    return sum(any(p.search(x) for p in PANEL_STATES[mode]) for x in texts)


def make_stale(data_dir, feed: str) -> None:
    """The feed's published data as if it were live: its newest measurement (the sample's recorded
    day, weeks ago) is then far older than its cadence allows."""
    path = datadir.pointer_path(data_dir, feed)
    pointer = json.loads(path.read_text("utf-8"))
    assert pointer["as_of"] < (pd.Timestamp.now() - pd.Timedelta(days=1)).isoformat()
    path.write_text(json.dumps(pointer | {"is_sample": False, "source": "live"}, ensure_ascii=False), "utf-8")


def make_failing(data_dir, feed: str) -> None:
    record = store.RunRecord(feed=feed, source="live", run_id=store.new_run_id(feed))
    record.started_at = record.finished_at = store.now_utc().isoformat()
    record.outcome, record.api_code, record.message = "failed", "ERROR-500", f"{feed}: ERROR-500 server error"
    record.extra["failure_kind"] = "transient"
    store.append_run(data_dir, record)


@pytest.mark.parametrize("mode", ["stale", "failing"])
@pytest.mark.parametrize("feed", REALTIME)
def test_a_realtime_feed_stale_or_failing_shows_only_in_its_panels(sample_data_dir, feed, mode):
    (make_stale if mode == "stale" else make_failing)(sample_data_dir, feed)
    runs = run_every_page()
    for path, at in runs.items():
        assert not at.exception, (feed, mode, path, [e.value for e in at.exception])
        assert at.title, (feed, mode, path)
        assert not [x for x in page_texts(at) if "Traceback" in x], (feed, mode, path)
        assert panel_states(at, mode) == PANELS[feed].get(path, 0), (feed, mode, path, page_texts(at))
        other = "failing" if mode == "stale" else "stale"
        assert panel_states(at, other) == 0, (feed, mode, path)
    # The overview's alert list names exactly this feed, once.
    overview = page_texts(runs["pages/overview.py"])
    title = warehouse.dictionary()["feeds"][feed]["title_ko"]
    feed_alerts = [x for x in overview if FEED_ALERTS[mode].search(x)]
    assert len(feed_alerts) == 1 and title in feed_alerts[0], feed_alerts
    if mode == "failing":  # the catalogue marks it degraded, the last good data still serving
        table = runs["pages/data.py"].dataframe[0].value
        states = dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))
        assert [t for t, s in states.items() if s == KO["state"]["degraded"]] == [title], states
