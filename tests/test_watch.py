"""`python -m loaders watch`: cadence scheduling on a fake clock, --once against a local server, one
feed failing (or crashing, or hanging) while the others load, no overlap with a held feed lock or a
slow run, clean stop on SIGTERM, exit with the parent, and the replay clock moving the sample."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

import datadir
import settings
from loaders import feeds, replay, store, watch
from tests.conftest import PROJECT
from tests.test_air_bikes_loaders import FeedServer, bike_row, new_air_row

KEY = "WATCHKEY99"


# --- the schedule on a fake clock -----------------------------------------------------------------


def test_every_feed_is_due_at_start_then_after_its_cadence():
    s = watch.Schedule({"bikes": 300, "air": 3600}, retry_s=600)
    s.start(now=1000)
    assert s.due(1000) == ["air", "bikes"]
    s.done("bikes", 1000, ok=True)
    s.done("air", 1000, ok=True)
    assert s.due(1299) == []
    assert s.due(1300) == ["bikes"]
    assert s.next_at() == 1300
    s.done("bikes", 1302, ok=True)  # the next run counts from when this one finished
    assert s.due(1601) == [] and s.due(1602) == ["bikes"]
    assert s.due(4599) == ["bikes"] and s.due(4600) == ["bikes", "air"]  # longest waiting first


def test_a_failed_run_is_retried_after_the_retry_delay_or_the_cadence_if_shorter():
    s = watch.Schedule({"prices": 86400, "bikes": 300}, retry_s=600)
    s.start(now=0)
    s.done("prices", 10, ok=False)
    s.done("bikes", 10, ok=False)
    assert s.next_due == {"prices": 610, "bikes": 310}


def test_a_running_feed_is_never_due_again():
    s = watch.Schedule({"bikes": 300}, retry_s=600)
    s.start(now=0)
    assert s.due(0, running={"bikes"}) == []
    assert s.due(10_000, running={"bikes"}) == []
    assert s.next_at(running={"bikes"}) == float("inf")


def test_start_counts_from_each_feeds_last_run_in_the_log():
    s = watch.Schedule({"bikes": 300, "air": 3600, "prices": 86400}, retry_s=600)
    s.start(now=100, since_last={"air": (1000.0, True), "prices": (700.0, False)})
    assert s.next_due == {"bikes": 100, "air": 100 + 2600, "prices": 100}


def test_aligned_schedule_puts_the_hourly_feed_on_the_hour():
    s = watch.Schedule({"air": 3600, "bikes": 300}, retry_s=600, aligned=True)
    s.start(now=18 * 3600 + 900)  # 18:15 of the replayed day
    for feed in s.due(18 * 3600 + 900):
        s.done(feed, 18 * 3600 + 900, ok=True)
    assert s.next_due == {"air": 19 * 3600, "bikes": 18 * 3600 + 1200}


@pytest.mark.parametrize(
    ("key", "replay_setting", "force", "expected"),
    [
        ("", "auto", False, "replay"),
        ("", "off", False, None),
        ("", "on", False, "replay"),
        ("K", "auto", False, "live"),
        ("K", "off", False, "live"),
        ("K", "on", False, "replay"),
        ("K", "off", True, "replay"),
    ],
)
def test_mode_follows_the_key_and_the_replay_setting(monkeypatch, key, replay_setting, force, expected):
    monkeypatch.setenv("SEOUL_API_KEY", key)
    monkeypatch.setenv("MAYOR_REPLAY", replay_setting)
    assert watch.mode(settings.get(), force) == expected


def test_bad_replay_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("MAYOR_REPLAY", "sometimes")
    with pytest.raises(settings.SettingError, match="MAYOR_REPLAY"):
        settings.get()


def test_live_watches_feeds_with_a_cadence_and_a_fetch_replay_only_real_time_ones():
    cfg = settings.get()
    live = watch.cadences(cfg, "live")
    assert {
        "prices": 86400,
        "proposals": 3600,
        "air": 3600,
        "bikes": 300,
        "citydata": 300,
        "traffic": 300,
        "boundaries": 2592000,
    }.items() <= live.items()
    assert not {"reference", "census", "forums", "panel", "panel_draw"} & set(live)
    replayed = watch.cadences(cfg, "replay")
    assert {"air": 3600, "bikes": 300, "citydata": 300, "traffic": 300}.items() <= replayed.items()
    assert all(feeds.replayable(feeds.FEEDS[f]) for f in replayed)


def test_last_runs_reads_the_log_and_ignores_skipped_runs(isolated_env):
    def append(feed, outcome, minutes_ago):
        r = store.RunRecord(feed=feed, source="live", run_id=store.new_run_id(feed), outcome=outcome)
        r.started_at = r.finished_at = (store.now_utc() - timedelta(minutes=minutes_ago)).isoformat()
        store.append_run(isolated_env, r)

    append("bikes", "ok", 20)
    append("bikes", "failed", 10)
    append("bikes", "skipped", 1)
    append("air", "unchanged", 30)
    runs = watch.last_runs(isolated_env)
    assert runs["bikes"][1] is False and runs["air"][1] is True
    assert 9 * 60 < (store.now_utc() - runs["bikes"][0]).total_seconds() < 11 * 60


# --- the loop against a local server --------------------------------------------------------------


@pytest.fixture
def server(httpserver) -> FeedServer:
    srv = FeedServer()
    srv.air = [new_air_row(name, "도심권") for name in ("종로구", "중구", "용산구")]
    srv.bikes = [bike_row(n, 37.50 + n * 0.0001, 127.00) for n in range(1, 31)]
    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(srv)
    return srv


@pytest.fixture
def live_cfg(httpserver, monkeypatch, server):
    monkeypatch.setenv("SEOUL_API_KEY", KEY)
    monkeypatch.setenv("SEOUL_API_BASE_URL", httpserver.url_for("").rstrip("/"))
    return settings.get()


def run_log(data_dir) -> list[dict]:
    path = datadir.runs_log_path(data_dir)
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.is_file() else []


def test_once_runs_each_due_feed_and_publishes_it(live_cfg, isolated_env):
    w = watch.Watcher(live_cfg, "live", ["air", "bikes"], once=True)
    assert w.run() == 0
    assert {r["feed"]: r["outcome"] for r in w.results} == {"air": "ok", "bikes": "ok"}
    assert datadir.read_pointer(isolated_env, "air")["rows"] == {"air_quality": 3}
    assert datadir.read_pointer(isolated_env, "bikes")["rows"] == {"bike_stations": 30}
    assert sorted(r["feed"] for r in run_log(isolated_env)) == ["air", "bikes"]
    # Started again at once, nothing is due: both ran within their cadence.
    again = watch.Watcher(live_cfg, "live", ["air", "bikes"], once=True)
    assert again.run() == 0 and again.results == []


def test_unknown_or_unwatched_feeds_are_refused(live_cfg):
    with pytest.raises(watch.WatchError, match="unknown feed"):
        watch.Watcher(live_cfg, "live", ["nope"])
    with pytest.raises(watch.WatchError, match="not watched in live mode"):
        watch.Watcher(live_cfg, "live", ["census"])


def test_one_feed_raising_crashing_or_hanging_does_not_stop_the_others(live_cfg, isolated_env, monkeypatch):
    real_refresh = feeds.refresh

    def refresh(feed, cfg, **kwargs):
        if feed.name == "air":
            raise RuntimeError("the air feed blew up")
        if feed.name == "prices":
            os._exit(3)  # a crash: no message, no run record from the child
        if feed.name == "proposals":
            time.sleep(60)
        return real_refresh(feed, cfg, **kwargs)

    monkeypatch.setattr(feeds, "refresh", refresh)
    monkeypatch.setenv("MAYOR_WATCH_MAX_RUN_S", "1.5")
    w = watch.Watcher(settings.get(), "live", ["air", "bikes", "prices", "proposals"], once=True)
    started = time.monotonic()
    assert w.run() == 1  # once mode says a run failed
    assert time.monotonic() - started < 15
    outcomes = {r["feed"]: (r["outcome"], r["message"]) for r in w.results}
    assert outcomes["bikes"][0] == "ok"
    assert outcomes["air"] == ("failed", "RuntimeError: the air feed blew up")
    assert outcomes["prices"][0] == "failed" and "exit code 3" in outcomes["prices"][1]
    assert outcomes["proposals"][0] == "failed" and "MAYOR_WATCH_MAX_RUN_S" in outcomes["proposals"][1]
    logged = {r["feed"]: r for r in run_log(isolated_env)}
    assert set(logged) == {"air", "bikes", "prices", "proposals"}  # every run is in the run log
    assert logged["air"]["message"] == "RuntimeError: the air feed blew up" and logged["air"]["source"] == "live"
    assert datadir.read_pointer(isolated_env, "bikes") is not None
    # A failure is tried again after MAYOR_WATCH_RETRY_S (600 s), not after air's hourly cadence.
    assert 590 < w.schedule.next_due["air"] - time.monotonic() <= 600


def test_a_feed_whose_lock_is_held_is_skipped_not_run_twice(live_cfg, isolated_env):
    with store.feed_lock(isolated_env, "bikes"):  # e.g. a `refresh bikes` started by hand
        w = watch.Watcher(live_cfg, "live", ["air", "bikes"], once=True)
        assert w.run() == 0
    outcomes = {r["feed"]: r["outcome"] for r in w.results}
    assert outcomes == {"air": "ok", "bikes": "skipped"}
    assert datadir.read_pointer(isolated_env, "bikes") is None
    skipped = next(r for r in run_log(isolated_env) if r["feed"] == "bikes")
    assert skipped["message"] == "another refresh of bikes is running"


def test_a_slow_feed_never_overlaps_itself(live_cfg, isolated_env, monkeypatch, tmp_path):
    spans = tmp_path / "spans.txt"

    def refresh(feed, cfg, **kwargs):
        start = time.monotonic()
        time.sleep(0.6)  # longer than the cadence below
        with open(spans, "a") as f:
            f.write(f"{start} {time.monotonic()}\n")
        return store.RunRecord(feed=feed.name, source="live", outcome="unchanged")

    monkeypatch.setattr(feeds, "refresh", refresh)
    monkeypatch.setattr(watch, "cadences", lambda cfg, mode: {"bikes": 0.1})
    w = watch.Watcher(live_cfg, "live", ["bikes"])
    thread = threading.Thread(target=w.run)
    thread.start()
    time.sleep(2.5)
    w.stop()
    thread.join(15)
    assert not thread.is_alive()
    runs = sorted(tuple(map(float, line.split())) for line in spans.read_text().splitlines())
    assert len(runs) >= 3
    for (_s1, e1), (s2, _e2) in itertools.pairwise(runs):
        assert s2 >= e1, runs


# --- as an operator runs it -----------------------------------------------------------------------


def cli_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYOR_", "SEOUL_"))}
    env.update({k: v for k, v in os.environ.items() if k.startswith("MAYOR_")})
    env.update({"MAYOR_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "utf-8", **extra})
    return env


def wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float = 60) -> list[str]:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} in {lines}")


def test_replay_once_moves_the_clock_one_step_and_reloads_the_real_time_sample(isolated_env):
    sample_path = datadir.sample_dir(isolated_env)
    replay.set_step(sample_path, 12 * 12 - 1)  # 11:55
    proc = subprocess.run(
        [sys.executable, "-m", "loaders", "watch", "--once"],
        cwd=PROJECT,
        env=cli_env(isolated_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert replay.current_step(sample_path) == 12 * 12
    assert "replay: 2026-11-19 12:00" in proc.stderr
    for feed in ("air", "bikes", "citydata", "traffic"):
        pointer = datadir.read_pointer(isolated_env, feed)
        assert pointer["source"] == "replay" and pointer["is_sample"] is True, feed
        assert pointer["as_of"] == "2026-11-19T12:00:00", feed
    # traffic asks for the links citydata publishes: it waited for citydata in the same round
    assert proc.stderr.index("citydata: ok") < proc.stderr.index("traffic: ok")
    assert datadir.read_pointer(isolated_env, "prices") is None  # replay touches only real-time feeds


def test_sigterm_stops_the_watcher_cleanly(isolated_env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders", "watch", "--replay"],
        cwd=PROJECT,
        env=cli_env(isolated_env, MAYOR_REPLAY_STEP_S="0.3"),
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        wait_for_line(proc, r"replay: 2026-11-19 18:10")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        rest = proc.stderr.read()
        assert "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    steps = replay.current_step(datadir.sample_dir(isolated_env))
    assert steps >= replay.DEFAULT_STEP + 2
    outcomes = {r["outcome"] for r in run_log(isolated_env) if r["feed"] == "bikes"}
    assert outcomes <= {"ok", "unchanged", "failed"} and "ok" in outcomes


def test_the_watcher_stops_when_its_parent_dies(isolated_env):
    # A parent that starts the watcher, prints its pid and waits; then it is killed outright.
    code = (
        "import os, subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-m', 'loaders', 'watch', '--replay', "
        "'--exit-with-parent', str(os.getpid())])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], cwd=PROJECT, env=cli_env(isolated_env), stdout=subprocess.PIPE, text=True
    )
    watcher_pid = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 60
        while datadir.read_pointer(isolated_env, "bikes") is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(watcher_pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 15
        while alive(watcher_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(watcher_pid)
    finally:
        if alive(watcher_pid):
            os.kill(watcher_pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_watch_without_a_key_and_replay_off_does_nothing(isolated_env):
    proc = subprocess.run(
        [sys.executable, "-m", "loaders", "watch"],
        cwd=PROJECT,
        env=cli_env(isolated_env, MAYOR_REPLAY="off"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "nothing to watch" in proc.stdout
    assert not datadir.runs_log_path(isolated_env).exists()


def test_replayed_bikes_hold_the_replayed_moment(isolated_env):
    sample_path = feeds.ensure_sample(settings.get())
    replay.set_step(sample_path, 100)
    w = watch.Watcher(settings.get(), "replay", ["bikes"], once=True)
    assert w.run() == 0
    pointer = datadir.read_pointer(isolated_env, "bikes")
    con = duckdb.connect(str(datadir.feed_dir(isolated_env, "bikes") / pointer["file"]), read_only=True)
    try:
        (measured,) = con.execute("SELECT DISTINCT measured_at FROM bike_stations").fetchone()
    finally:
        con.close()
    assert measured.strftime("%H:%M") == "08:25"  # step 101


# --- make run: the launcher -----------------------------------------------------------------------


def test_the_launcher_runs_the_watcher_beside_the_app_and_stops_it_with_the_app(isolated_env, monkeypatch):
    import launch

    monkeypatch.setenv("MAYOR_REPLAY_STEP_S", "0.5")
    pointer = datadir.pointer_path(isolated_env, "bikes")
    # A short-lived app: it waits for the watcher's first replayed publish, then exits with 3.
    app = [
        sys.executable,
        "-c",
        f"import pathlib, sys, time\n"
        f"deadline = time.time() + 60\n"
        f"while not pathlib.Path({str(pointer)!r}).exists() and time.time() < deadline: time.sleep(0.1)\n"
        f"sys.exit(3)\n",
    ]
    supervisor = launch.Supervisor(app, launch.watcher_command())
    assert supervisor.run() == 3
    assert supervisor.watcher.poll() == 0  # stopped cleanly, not killed
    assert datadir.read_pointer(isolated_env, "bikes")["source"] == "replay"
