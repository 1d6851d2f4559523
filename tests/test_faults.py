"""The feed fault corpus (tests/faults/manifest.toml): every kind of fault, served to the real
loaders from a local server on 127.0.0.1 after a good version was published through them.

For each case: no crash (the CLI exits 0 or 1 with one clear line), the classified outcome in
ops/runs.jsonl, the serving data unchanged (a hash of every published row before and after) or
exactly what a fault that loads should change, the key nowhere in logs, the run log, the output or
the page, and the feed's state on the Data page under AppTest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import datadir
import docs_sync
import queries
import settings
from loaders import bikes, feeds, hotspots, runner, sample, traffic
from loaders.envelope import parse
from loaders.runner import RunContext
from loaders.seoul_api import FetchResult
from queries import warehouse
from tests.caches import clear_page_caches
from tests.conftest import PROJECT, run_module
from tests.fault_server import FAULTS, Baseline, FaultServer
from tests.faults import derive

KEY = "FAULTKEY7788"
MANIFEST = tomllib.loads((FAULTS / "manifest.toml").read_text("utf-8"))
CASES = MANIFEST["fault"]
KO = tomllib.loads((PROJECT / "ui" / "locales" / "ko.toml").read_text("utf-8"))
FAILED = {"failed", "rejected"}
# Small, bounded retries and timeouts, so a persistent fault costs two quick attempts.
FAULT_ENV = {
    "MAYOR_RETRY_ATTEMPTS": "2",
    "MAYOR_RETRY_BACKOFF_MAX_S": "0.05",
    "MAYOR_RETRY_AFTER_CAP_S": "0.2",
    "MAYOR_CONNECT_TIMEOUT_S": "2",
    "MAYOR_READ_TIMEOUT_S": "3",
    "MAYOR_REQUEST_DEADLINE_S": "5",
    "MAYOR_FETCH_DEADLINE_S": "20",
}


# The paths a feed's requests may take (after /KEY/): its service, in the format it asks.
SERVICE_PATHS = {"traffic": ("xml/TrafficInfo/", "xml/LinkInfo/")}
# Feeds without a time field stamp their rows with the fetch's five-minute cycle: the clock is
# frozen for them, so a refresh that brings identical rows is "unchanged" whenever it runs.
FROZEN_NOW = datetime.fromisoformat("2026-11-19T18:02:00+09:00")


class FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return FROZEN_NOW if tz is None else FROZEN_NOW.astimezone(tz)


@cache
def baseline(name: str) -> Baseline:
    spec = MANIFEST["baselines"][name]
    feed = feeds.FEEDS[spec["feed"]]
    if spec.get("generate") == "bikes":  # more rows than a fixture file should hold: 2,100 stations
        return Baseline(feed.service, rows=derive.good_bikes(), top_key=derive.BIKES_TOP, count_is_page=True)
    if "generate" in spec:  # prices: more rows than a fixture file should hold
        rows = [r for r in sample.price_rows(date(2026, 11, 19), 2) if r["A_PRICE"] != "0"]
        return Baseline(feed.service, rows=rows[: spec["generate"]])
    if "items" in spec:  # one answer per hotspot or road link
        items = {(i["service"], i["item"]): (FAULTS / i["file"]).read_bytes() for i in spec["items"]}
        return Baseline(feed.service, items=items)
    raw = (FAULTS / spec["file"]).read_bytes()
    if feed.kind == "seoul":
        return Baseline(feed.service, rows=parse(raw, feed.service).rows)
    return Baseline(None, raw=raw)


def baseline_name(case: dict) -> str:
    return case.get("baseline", case["feed"])


def listed_hotspots(spec: dict) -> pd.DataFrame:
    """The hotspots citydata asks for in a case: those the baseline answers for, in code order."""
    spots = [(i["code"], i["item"]) for i in spec.get("items", []) if "code" in i]
    return pd.DataFrame(sorted(spots), columns=["area_code", "area_name"])


# --- what is serving, what was logged ----------------------------------------------------------


def serving_file(data_dir: Path, feed: str) -> Path:
    pointer = datadir.read_pointer(data_dir, feed)
    assert pointer, f"nothing serving for {feed}"
    return datadir.feed_dir(data_dir, feed) / pointer["file"]


def serving_state(data_dir: Path, feed: str) -> tuple[str, str]:
    """current.json as it is on disk, and a hash of every row of every table it serves (the
    generic form of test_cli.serving_state, which reads prices only)."""
    pointer_text = datadir.pointer_path(data_dir, feed).read_text("utf-8")
    con = duckdb.connect(str(serving_file(data_dir, feed)), read_only=True)
    try:
        rows = {
            t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in json.loads(pointer_text)["rows"]
        }
    finally:
        con.close()
    return pointer_text, hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()


def serving_value(data_dir: Path, feed: str, sql: str):
    con = duckdb.connect(str(serving_file(data_dir, feed)), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def run_log(data_dir: Path) -> list[dict]:
    path = datadir.runs_log_path(data_dir)
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.is_file() else []


def quarantine(data_dir: Path, feed: str, run_id: str) -> pd.DataFrame:
    path = datadir.quarantine_dir(data_dir, feed) / f"{run_id}.parquet"
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=["reason", "record"])


# --- running a loader ---------------------------------------------------------------------------


@dataclass
class Ran:
    record: dict  # the run record of the fault run (for kill: the run after it)
    output: str = ""  # what the CLI printed, stdout then stderr
    stdout_lines: tuple[str, ...] = ()
    returncode: int | None = None
    others: tuple[dict, ...] = ()  # further run records the case produced


def load(feed: feeds.Feed, path: Path | None = None):
    cfg = settings.get()
    return feeds.import_file(feed, cfg, path) if feed.kind == "file" else feeds.refresh(feed, cfg)


def cli_args(feed: feeds.Feed, case: dict) -> list[str]:
    if feed.kind == "file":
        return ["import", feed.name, str(FAULTS / case["file"])]
    return ["refresh", feed.name]


def run_in_process(case: dict, feed: feeds.Feed, data_dir: Path, srv: FaultServer, tmp_path: Path) -> Ran:
    record = load(feed, FAULTS / case["file"] if "file" in case else None)
    return Ran(asdict(record))


def run_cli(case: dict, feed: feeds.Feed, data_dir: Path, srv: FaultServer, tmp_path: Path) -> Ran:
    proc = run_module("loaders", *cli_args(feed, case), env=dict(os.environ), timeout=60)
    lines = tuple(line for line in proc.stdout.splitlines() if line.strip())
    return Ran(run_log(data_dir)[-1], proc.stdout + proc.stderr, lines, proc.returncode)


# Runs `python -m loaders refresh FEED` with one step of publishing replaced by a pause, so the
# test can SIGKILL it exactly there: "checkpoint" (the new version's rows written to its temporary
# file and WAL, not yet checkpointed) or "pointer" (the version file renamed into place,
# current.json not yet swapped).
KILL_CHILD = """
import sys, time
from pathlib import Path
import duckdb
from loaders import store
from loaders.__main__ import main

point, marker, feed = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

def pause(*_):
    marker.write_text("paused")
    time.sleep(120)

class PausingConnection:
    def __init__(self, con):
        self.con = con
    def execute(self, sql, *args):
        if sql == "CHECKPOINT":
            pause()
        return self.con.execute(sql, *args)
    def __getattr__(self, name):
        return getattr(self.con, name)

if point == "checkpoint":
    connect = duckdb.connect
    store.duckdb = type("PausingDuckDB", (), {"connect": staticmethod(lambda *a, **k: PausingConnection(connect(*a, **k)))})
elif point == "pointer":
    store._atomic_write_text = pause
sys.exit(main(["refresh", feed]))
"""


def run_killed(case: dict, feed: feeds.Feed, data_dir: Path, srv: FaultServer, tmp_path: Path) -> Ran:
    d = datadir.feed_dir(data_dir, feed.name)
    before = serving_state(data_dir, feed.name)
    files_before = {p.name for p in d.iterdir()}
    runs_before = len(run_log(data_dir))
    marker = tmp_path / "paused"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, case["kill_at"], str(marker), feed.name],
        cwd=PROJECT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), f"the loader never reached {case['kill_at']}: {proc.communicate(timeout=10)}"
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    leftovers = sorted({p.name for p in d.iterdir()} - files_before)
    assert leftovers, "the kill should leave a half-written version behind"
    # Right after the kill: the serving version and current.json are intact and readable, through
    # a direct read-only connection and through the query layer, stale WAL and all.
    assert serving_state(data_dir, feed.name) == before
    warehouse._warehouses.clear()
    status = queries.run("feed_status").set_index("feed")
    assert status.loc[feed.name, "state"] == "ok"
    assert len(run_log(data_dir)) == runs_before, "a killed loader cannot have logged its run"

    record = asdict(load(feed))  # the next run finds the lock free and the leftovers
    assert sorted(record["extra"].get("interrupted", [])) == leftovers
    assert not [p.name for p in d.iterdir() if p.name in leftovers]
    return Ran(record, (out + err).decode("utf-8", "replace"))


def run_concurrent(case: dict, feed: feeds.Feed, data_dir: Path, srv: FaultServer, tmp_path: Path) -> Ran:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    args = [sys.executable, "-m", "loaders", *cli_args(feed, case)]
    procs = [
        subprocess.Popen(args, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    # The server holds the answer to whichever run took the lock and asked first, until the other
    # run has finished: the overlap is certain however slowly either process starts.
    deadline = time.monotonic() + 60
    while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    srv.release.set()
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    lines = [tuple(line for line in out.splitlines() if line.strip()) for out, _err in outputs]
    assert all(len(one) == 1 for one in lines), lines
    records = run_log(data_dir)[-2:]
    skipped = [r for r in records if r["outcome"] == "skipped"]
    others = [r for r in records if r["outcome"] != "skipped"]
    assert len(skipped) == 1, [r["outcome"] for r in records]
    assert sorted(line[0].split(" ")[1] for line in lines) == sorted(f"{r['outcome']}" for r in records)
    text = "".join(out + err for out, err in outputs)
    return Ran(skipped[0], text, (), 0, tuple(others))


RUNNERS = {"loader": run_in_process, "cli": run_cli, "kill": run_killed, "concurrent": run_concurrent}


def publish_baseline(case: dict, feed: feeds.Feed, data_dir: Path, base: Baseline) -> None:
    if case.get("baseline_as_sample"):
        rows = base.rows
        ctx = RunContext(settings.get(), data_dir, "sample", is_sample=True)
        record = runner.run(
            feed.name, ctx, lambda: FetchResult(feed.service, "INFO-000", "", len(rows), rows), feed.transform
        )
    else:  # through the same loader, from the server's good answer or the good file
        spec = MANIFEST["baselines"][baseline_name(case)]
        record = load(feed, FAULTS / spec["file"] if feed.kind == "file" else None)
    assert record.outcome == "ok", record.message


# --- the Data page ------------------------------------------------------------------------------


def page_texts(at: AppTest) -> list[str]:
    texts = [
        e.value
        for kind in ("title", "markdown", "text", "caption", "error", "warning", "success")
        for e in getattr(at, kind)
    ]
    texts += [d.value.to_csv() for d in at.dataframe]
    return [str(t) for t in texts]


def check_data_page(feed: str, expect: dict, record: dict) -> None:
    clear_page_caches()
    warehouse._warehouses.clear()
    at = AppTest.from_file(str(PROJECT / "pages" / "data.py"), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    data = KO["data"]
    (overview,) = [d.value for d in at.dataframe if data["state"] in d.value.columns]
    row = overview.set_index(data["feed"]).loc[warehouse.dictionary()["feeds"][feed]["title_ko"]]
    assert row[data["state"]] == KO["state"][expect["page"]]
    assert row[data["last_success"]] != KO["state"]["never"], "the last success must stay visible"
    failures = [d.value for d in at.dataframe if data["col_message"] in d.value.columns]
    if expect["outcome"] in FAILED:
        (table,) = failures
        mine = table[table[data["feed"]] == feed]
        assert len(mine) == 1
        assert mine.iloc[0][data["col_outcome"]] == expect["outcome"]
        code = mine.iloc[0][data["col_code"]]
        assert (code if isinstance(code, str) else "") == expect["api_code"]
        assert mine.iloc[0][data["col_message"]] == record["message"]
    else:
        assert not failures
    assert not [t for t in page_texts(at) if KEY in t]


# --- the corpus ---------------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("fresh_caches")  # conftest.py


def corpus_params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
        yield pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", list(corpus_params()))
def test_fault(case, isolated_env, monkeypatch, httpserver, caplog, tmp_path):
    data_dir = isolated_env
    feed = feeds.FEEDS[case["feed"]]
    expect = case["expect"]
    base = baseline(baseline_name(case))
    caplog.set_level(logging.INFO)
    spec = MANIFEST["baselines"][baseline_name(case)]
    if feed.name == "citydata":
        monkeypatch.setattr(hotspots, "listed", lambda: listed_hotspots(spec))
    monkeypatch.setattr(bikes, "datetime", FrozenDatetime)
    monkeypatch.setattr(traffic, "datetime", FrozenDatetime)
    with FaultServer(base, other_url=httpserver.url_for("/")) as srv:
        env = {**FAULT_ENV, **spec.get("env", {}), "SEOUL_API_KEY": KEY, "SEOUL_API_BASE_URL": srv.url}
        env["MAYOR_BOUNDARIES_URL"] = f"{srv.url}/seoul.geojson"
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        publish_baseline(case, feed, data_dir, base)
        before = serving_state(data_dir, feed.name)
        runs_before = len(run_log(data_dir))

        for name, value in case.get("env", {}).items():
            monkeypatch.setenv(name, value)
        srv.fault(case.get("serve", []))
        started = time.monotonic()
        ran = RUNNERS[case.get("run", "loader")](case, feed, data_dir, srv, tmp_path)
        elapsed = time.monotonic() - started
        asked = list(srv.requests)

    record = ran.record
    # The classified outcome, in the run record and in ops/runs.jsonl.
    assert record["outcome"] == expect["outcome"], record["message"]
    assert record["extra"].get("failure_kind", "") == expect["failure_kind"]
    assert (record["api_code"] or "") == expect["api_code"]
    assert expect["message"] in record["message"]
    if "quarantined" in expect:
        assert record["rows_quarantined"] == expect["quarantined"]
    if "rows_loaded" in expect:
        assert record["rows_loaded"] == expect["rows_loaded"]
    for key, value in expect.get("extra", {}).items():
        assert record["extra"].get(key) == value, key
    logged = run_log(data_dir)
    assert record in logged[runs_before:]
    if case.get("run", "loader") in ("loader", "cli"):
        assert logged[runs_before:] == [record], "one run, one record"

    # What the server saw: the expected number of requests, the key only on the configured host.
    if "requests" in expect:
        assert len(asked) == expect["requests"], asked
    if feed.kind in ("seoul", "realtime"):
        allowed = tuple(f"/{KEY}/{p}" for p in SERVICE_PATHS.get(feed.name, (f"json/{feed.service}/",)))
        assert all(p.startswith(allowed) for p in asked), asked
    assert httpserver.log == [], "a request reached the other host"
    if "elapsed_min_s" in expect:
        assert elapsed >= expect["elapsed_min_s"], f"{elapsed:.2f}s: Retry-After was not honoured"
    if "elapsed_max_s" in expect:
        assert elapsed <= expect["elapsed_max_s"], f"the fault held the loader for {elapsed:.1f}s"

    # The data: unchanged unless the fault is one that loads, and then exactly as expected.
    changes = expect["outcome"] == "ok" or ran.others
    after = serving_state(data_dir, feed.name)
    assert (after != before) == bool(changes)
    if expect["outcome"] == "ok":
        assert datadir.read_pointer(data_dir, feed.name)["version"] == record["version"]
    for check in expect.get("checks", []):
        assert serving_value(data_dir, feed.name, check["sql"]) == check["equals"], check["sql"]
    rejected = quarantine(data_dir, feed.name, record["run_id"])
    assert len(rejected) == expect.get("quarantined", 0)
    if "quarantine_reason" in expect:
        assert all(expect["quarantine_reason"] in reason for reason in rejected["reason"]), set(rejected["reason"])
    if "interrupted" in expect:
        assert len(record["extra"]["interrupted"]) >= expect["interrupted"]

    # The command line: exit 0 or 1, one line that says what happened, no traceback.
    if ran.returncode is not None and case.get("run") == "cli":
        assert ran.returncode == (1 if expect["outcome"] in FAILED else 0), ran.output
        assert len(ran.stdout_lines) == 1, ran.stdout_lines
        assert ran.stdout_lines[0].startswith(f"{feed.name}: {expect['outcome']}")
        assert expect["message"] in ran.stdout_lines[0]
    assert "Traceback" not in ran.output

    # The key: nowhere in the run log, the logs, the output or the quarantine.
    for text in (json.dumps(logged, ensure_ascii=False), caplog.text, ran.output, rejected.to_csv()):
        assert KEY not in text

    check_data_page(feed.name, expect, record)


# --- the corpus itself --------------------------------------------------------------------------


def test_the_corpus_covers_forty_kinds_of_fault_with_unique_ids():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_every_fixture_file_is_used_and_every_used_file_exists():
    used = {spec["file"] for spec in MANIFEST["baselines"].values() if "file" in spec}
    used |= {i["file"] for spec in MANIFEST["baselines"].values() for i in spec.get("items", [])}
    for case in CASES:
        used |= {e["body"] for e in case.get("serve", []) if e.get("body") not in (None, "good")}
        used |= {case["file"]} if "file" in case else set()
    on_disk = {
        str(p.relative_to(FAULTS)) for p in FAULTS.rglob("*") if p.is_file() and p.suffix not in (".py", ".toml")
    }
    assert used == on_disk


def test_every_case_names_its_feed_and_a_known_outcome():
    outcomes = {"ok", "unchanged", "no_data", "failed", "rejected", "skipped"}
    for case in CASES:
        assert case["feed"] in feeds.FEEDS, case["id"]
        assert case["expect"]["outcome"] in outcomes, case["id"]
        assert case["expect"]["page"] in KO["state"], case["id"]
        assert case.get("run", "loader") in RUNNERS, case["id"]
        assert ("file" in case) == (feeds.FEEDS[case["feed"]].kind == "file"), case["id"]


def test_docs_list_every_fault_as_the_manifest_says():
    readme = (PROJECT / "docs" / "faults.md").read_text("utf-8")
    assert docs_sync.sync_faults(readme) == readme, "docs/faults.md is stale: run `python docs_sync.py`"
    for case in CASES:
        assert f"`{case['id']}`" in readme
