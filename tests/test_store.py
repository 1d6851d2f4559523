"""Publishing: atomic versions, last good data kept on failure, idempotent reloads, readers in
other processes while a loader writes."""

from __future__ import annotations

import json
import multiprocessing as mp
import time

import duckdb
import pandas as pd

import datadir
import settings
from loaders import runner, store
from loaders.envelope import Outcome
from loaders.runner import RunContext, Transformed
from loaders.seoul_api import FetchError, FetchResult

COLUMNS = {"k": "BIGINT", "v": "VARCHAR"}


def table(n: int, tag: str = "a") -> store.Table:
    return store.Table("things", COLUMNS, pd.DataFrame({"k": range(n), "v": [f"{tag}{i}" for i in range(n)]}))


def publish(data_dir, n, tag="a", run_id=None):
    return store.publish(
        data_dir,
        "things",
        [table(n, tag)],
        run_id=run_id or store.new_run_id("things"),
        as_of="2026-11-19",
        is_sample=False,
        source="test",
    )


def serving_rows(data_dir) -> list[tuple]:
    pointer = datadir.read_pointer(data_dir, "things")
    con = duckdb.connect(str(datadir.feed_dir(data_dir, "things") / pointer["file"]), read_only=True)
    try:
        return con.execute("SELECT k, v FROM things ORDER BY k").fetchall()
    finally:
        con.close()


def test_publish_writes_version_pointer_and_meta(isolated_env):
    version = publish(isolated_env, 5)
    pointer = datadir.read_pointer(isolated_env, "things")
    assert pointer["version"] == version
    assert pointer["rows"] == {"things": 5}
    assert serving_rows(isolated_env) == [(i, f"a{i}") for i in range(5)]
    con = duckdb.connect(str(datadir.feed_dir(isolated_env, "things") / pointer["file"]), read_only=True)
    meta = con.execute("SELECT feed, version, is_sample, source FROM _snapshot").fetchall()
    con.close()
    assert meta == [("things", version, False, "test")]
    assert not list(datadir.feed_dir(isolated_env, "things").glob("*.wal"))


def test_identical_payload_publishes_nothing_and_data_is_the_same(isolated_env):
    first = publish(isolated_env, 5)
    before = serving_rows(isolated_env)
    assert publish(isolated_env, 5) is None
    assert datadir.read_pointer(isolated_env, "things")["version"] == first
    assert serving_rows(isolated_env) == before


def test_content_hash_ignores_row_order_but_not_values():
    a = table(4)
    shuffled = store.Table("things", COLUMNS, a.frame.iloc[::-1].reset_index(drop=True))
    changed = store.Table("things", COLUMNS, a.frame.assign(v=["a0", "a1", "a2", "zz"]))
    assert store.content_hash([a]) == store.content_hash([shuffled])
    assert store.content_hash([a]) != store.content_hash([changed])


def test_old_versions_are_collected_only_after_the_grace_period(isolated_env, monkeypatch):
    for i in range(5):
        publish(isolated_env, 3 + i, run_id=f"2026010{i}T000000000000Z-things-1")
    files = sorted(p.name for p in datadir.feed_dir(isolated_env, "things").glob("*.duckdb"))
    assert len(files) == 5  # all within the grace period: a slow reader may still use them
    monkeypatch.setattr(store, "GRACE_S", -1)
    publish(isolated_env, 20, run_id="20260109T000000000000Z-things-1")
    files = sorted(p.name for p in datadir.feed_dir(isolated_env, "things").glob("*.duckdb"))
    assert files == [
        "20260103T000000000000Z-things-1.duckdb",
        "20260104T000000000000Z-things-1.duckdb",
        "20260109T000000000000Z-things-1.duckdb",
    ]


def _ctx(data_dir):
    return RunContext(settings.get(), data_dir, "test", is_sample=False)


def _transform_ok(records, ctx):
    frame = pd.DataFrame(records)
    return Transformed(
        [store.Table("things", COLUMNS, frame)], pd.DataFrame(columns=["row_number", "reason", "record"]), len(records)
    )


def _records(n, tag="a"):
    return [{"k": i, "v": f"{tag}{i}"} for i in range(n)]


def test_failed_fetch_keeps_last_good_data_and_is_logged(isolated_env):
    ok = runner.run(
        "things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-000", "", 3, _records(3)), _transform_ok
    )
    assert ok.outcome == "ok"
    before = (datadir.read_pointer(isolated_env, "things"), serving_rows(isolated_env))

    def failing():
        raise FetchError(Outcome.TRANSIENT, "S rows 1-1000: ERROR-500 server error at the API", "ERROR-500")

    bad = runner.run("things", _ctx(isolated_env), failing, _transform_ok)
    assert (bad.outcome, bad.api_code) == ("failed", "ERROR-500")
    assert (datadir.read_pointer(isolated_env, "things"), serving_rows(isolated_env)) == before
    lines = [json.loads(x) for x in datadir.runs_log_path(isolated_env).read_text().splitlines()]
    assert [r["outcome"] for r in lines] == ["ok", "failed"]
    assert lines[1]["message"].startswith("S rows 1-1000: ERROR-500")


def test_no_data_answer_is_not_a_wipe(isolated_env):
    runner.run("things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-000", "", 3, _records(3)), _transform_ok)
    before = serving_rows(isolated_env)
    r = runner.run("things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-200", "", 0, []), _transform_ok)
    assert r.outcome == "no_data"
    assert serving_rows(isolated_env) == before


def test_too_many_invalid_rows_rejects_the_run_but_keeps_the_quarantine(isolated_env, monkeypatch):
    monkeypatch.setenv("MAYOR_MAX_INVALID_SHARE", "0.1")
    runner.run("things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-000", "", 3, _records(3)), _transform_ok)
    before = serving_rows(isolated_env)

    def transform_half_bad(records, ctx):
        rejected = pd.DataFrame({"row_number": [1, 2], "reason": ["bad v", "bad v"], "record": ["{}", "{}"]})
        return Transformed([store.Table("things", COLUMNS, pd.DataFrame(records[2:]))], rejected, len(records))

    r = runner.run(
        "things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-000", "", 4, _records(4, "b")), transform_half_bad
    )
    assert r.outcome == "rejected"
    assert "MAYOR_MAX_INVALID_SHARE" in r.message
    assert serving_rows(isolated_env) == before
    kept = pd.read_parquet(datadir.quarantine_dir(isolated_env, "things") / f"{r.run_id}.parquet")
    assert kept["reason"].tolist() == ["bad v", "bad v"]


def test_unexpected_exception_is_recorded_not_raised(isolated_env):
    def boom(records, ctx):
        raise KeyError("surprise")

    r = runner.run("things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-000", "", 1, _records(1)), boom)
    assert r.outcome == "failed"
    assert "KeyError" in r.message
    assert datadir.read_pointer(isolated_env, "things") is None


def test_second_refresh_of_the_same_feed_is_skipped(isolated_env):
    with store.feed_lock(isolated_env, "things"):
        r = runner.run(
            "things", _ctx(isolated_env), lambda: FetchResult("S", "INFO-000", "", 1, _records(1)), _transform_ok
        )
    assert r.outcome == "skipped"
    assert "another refresh" in r.message


def test_killed_loader_leaves_serving_data_readable(isolated_env, monkeypatch):
    publish(isolated_env, 4)
    d = datadir.feed_dir(isolated_env, "things")
    # What a loader killed mid-write leaves behind: a partial temp file and its WAL.
    (d / ".20990101T000000000000Z-things-9.duckdb.tmp").write_bytes(b"partial")
    (d / ".20990101T000000000000Z-things-9.duckdb.tmp.wal").write_bytes(b"partial")
    from queries import warehouse

    con = warehouse.build(isolated_env)
    assert con.execute("SELECT count(*) FROM things").fetchone() == (4,)
    monkeypatch.setattr(store, "GRACE_S", -1)
    publish(isolated_env, 6)
    assert not list(d.glob(".*.tmp"))


def test_interrupted_leftovers_are_cleared_but_older_versions_kept(isolated_env):
    old = publish(isolated_env, 3, run_id="20260101T000000000000Z-things-1")
    serving = publish(isolated_env, 4, run_id="20260102T000000000000Z-things-2")
    d = datadir.feed_dir(isolated_env, "things")
    left = [
        ".20260103T000000000000Z-things-3.duckdb.tmp",
        ".20260103T000000000000Z-things-3.duckdb.tmp.wal",
        ".current.json.3.tmp",
        "20260104T000000000000Z-things-4.duckdb",  # renamed into place, pointer never swapped
    ]
    for name in left:
        (d / name).write_bytes(b"partial")
    assert store.clear_interrupted(isolated_env, "things") == sorted(left)
    assert sorted(p.name for p in d.glob("*.duckdb")) == [f"{old}.duckdb", f"{serving}.duckdb"]
    assert serving_rows(isolated_env) == [(i, f"a{i}") for i in range(4)]
    assert store.clear_interrupted(isolated_env, "things") == []


def _reader(data_dir: str, ready, stop, out) -> None:
    """Another process reading through the query layer while the loader publishes."""
    import os

    os.environ["MAYOR_DATA_DIR"] = data_dir
    os.environ["MAYOR_SNAPSHOT_CHECK_S"] = "0"
    from queries import warehouse

    wh = warehouse.Warehouse(__import__("pathlib").Path(data_dir), check_every_s=0)
    seen, errors = set(), []
    while not stop.is_set():
        try:
            cur = wh.cursor()
            n, distinct_tags = cur.execute("SELECT count(*), count(DISTINCT left(v, 1)) FROM things").fetchone()
            cur.close()
            # A half-loaded snapshot would show a count not in the published set or mixed tags.
            seen.add(n)
            if distinct_tags != 1:
                errors.append(f"mixed versions in one read: {distinct_tags}")
        except Exception as e:  # any error at all fails the test
            errors.append(f"{type(e).__name__}: {e}")
        if len(seen) == 1 and not errors:
            ready.set()  # reading: the writer may start (a spawned process can take seconds to start)
    out.put((sorted(seen), errors))


def test_readers_in_other_processes_never_see_half_loaded_data(isolated_env):
    publish(isolated_env, 1000, tag="a")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    stop = ctx.Event()
    ready = [ctx.Event() for _ in range(2)]
    readers = [ctx.Process(target=_reader, args=(str(isolated_env), r, stop, out)) for r in ready]
    for p in readers:
        p.start()
    # The window starts once both readers read, not at a fixed time: on a busy machine starting a
    # process that imports DuckDB took longer than the old fixed window.
    assert all(r.wait(timeout=60) for r in ready), "the readers should have started reading"
    sizes = {1000}
    tags = "bcdefghij"
    i = 0
    writing_until = time.time() + 4
    while time.time() < writing_until:
        n = 1000 + 500 * (i % 4)
        publish(isolated_env, n, tag=tags[i % len(tags)])
        sizes.add(n)
        i += 1
    stop.set()
    results = [out.get(timeout=30) for _ in readers]
    for p in readers:
        p.join(timeout=10)
    assert i >= 3, "the writer should have published several versions"
    for seen, errors in results:
        assert errors == []
        assert set(seen) <= sizes
        assert len(seen) >= 2, "readers should have noticed new versions"


def test_a_collapsing_row_count_is_rejected(isolated_env):
    ctx = RunContext(settings.get(), isolated_env, "live", is_sample=False)
    runner.run("things", ctx, lambda: FetchResult("S", "INFO-000", "", 100, _records(100)), _transform_ok)
    before = serving_rows(isolated_env)
    r = runner.run("things", ctx, lambda: FetchResult("S", "INFO-000", "", 10, _records(10, "b")), _transform_ok)
    assert r.outcome == "rejected"
    assert r.message.startswith("rows fell from 100 to 10")
    assert serving_rows(isolated_env) == before
    # A moderate change is a normal refresh; a deliberate file import may shrink the data.
    assert (
        runner.run(
            "things", ctx, lambda: FetchResult("S", "INFO-000", "", 60, _records(60, "c")), _transform_ok
        ).outcome
        == "ok"
    )
    file_ctx = RunContext(settings.get(), isolated_env, "file:small.json", is_sample=False)
    r = runner.run("things", file_ctx, lambda: FetchResult("S", "INFO-000", "", 5, _records(5, "d")), _transform_ok)
    assert r.outcome == "ok"
    assert len(serving_rows(isolated_env)) == 5


def test_readers_see_the_version_between_checks_without_waiting_and_one_thread_checks(isolated_env, monkeypatch):
    """Every query asks the warehouse for the current version: between checks it answers without a
    lock, and when a check is due one thread makes it (and builds a new instance if the published
    versions changed) while the others keep the answer it leaves."""
    import threading

    from queries import warehouse

    published = {"sig": ("v1",)}
    calls = {"signature": 0, "build": 0}

    def fake_signature(data_dir):
        calls["signature"] += 1
        time.sleep(0.05)  # a check takes a while: every other thread arrives during it
        return published["sig"]

    def fake_build(data_dir):
        calls["build"] += 1
        return duckdb.connect(":memory:")

    monkeypatch.setattr(warehouse, "signature", fake_signature)
    monkeypatch.setattr(warehouse, "build", fake_build)
    w = warehouse.Warehouse(isolated_env, check_every_s=3600)
    assert w.current_signature() == ("v1",)
    assert calls == {"signature": 1, "build": 1}

    published["sig"] = ("v2",)
    assert [w.current_signature() for _ in range(100)] == [("v1",)] * 100  # not due: no check
    assert calls == {"signature": 1, "build": 1}

    con, sig, _ = w._state
    w._state = (con, sig, time.monotonic() - 7200)  # the check is due
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(w.current_signature())) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert seen == [("v2",)] * 8
    assert calls == {"signature": 2, "build": 2}
    assert w.cursor().execute("SELECT 42").fetchone() == (42,)
