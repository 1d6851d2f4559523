"""`python -m loaders watch`: every feed refreshed on its own cadence, or the sample's day replayed.

Live (an API key is set): each feed that has a cadence setting in data/dictionary.toml and a way
to fetch is refreshed when its cadence has passed since its last run (read from the run log, so a
restart does not refetch everything); after a failure it is tried again after MAYOR_WATCH_RETRY_S.
Replay (no key, MAYOR_REPLAY auto or on, or --replay): every MAYOR_REPLAY_STEP_S the replay clock
moves one five-minute step of the recorded day, and each real-time sample feed reloads when its
cadence has passed in replayed time (bikes every step, air on the hour), published as "replay".

Each run happens in a forked child: an exception or a crash in one feed never reaches the loop, a
run over MAYOR_WATCH_MAX_RUN_S is killed, and the child holds the feed's lock (loaders/store.py),
so a feed never overlaps itself, not even with a `refresh` started by hand (that run is "skipped").
Every run is in ops/runs.jsonl: the runner writes it, or the watcher when the child could not.
SIGTERM or SIGINT stops the loop: runs under way get STOP_GRACE_S to finish, then are stopped.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import signal
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for

import datadir
import settings
from loaders import feeds, replay, store

log = logging.getLogger(__name__)

STOP_GRACE_S = 10
# traffic asks TrafficInfo for the road links citydata published; hotspots derive missing
# coordinates from those links: both run after citydata when all are due together.
DEPENDS_ON = {"traffic": ("citydata",), "hotspots": ("citydata",)}
RUN_LOG_TAIL_BYTES = 2_000_000  # enough for days of runs; an older last run only makes a feed due at once
FAILED = {"failed", "rejected"}
_FORK = multiprocessing.get_context("fork")  # children inherit the loaded modules: no re-import per run


class WatchError(ValueError):
    """The watch cannot start as asked (unknown feed, a feed without cadence); the message says why."""


# --- what to watch ------------------------------------------------------------------------------


def mode(cfg, force_replay: bool = False) -> str | None:
    """ "live", "replay", or None when there is nothing to do (no key and MAYOR_REPLAY=off)."""
    if force_replay or cfg.replay == "on":
        return "replay"
    if cfg.api_key:
        return "live"
    return "replay" if cfg.replay == "auto" else None


def _cadence_settings() -> dict[str, str]:
    with open(settings.PROJECT_DIR / "data" / "dictionary.toml", "rb") as f:
        spec = tomllib.load(f)["feeds"]
    return {name: f.get("cadence_setting", "") for name, f in spec.items()}


def cadences(cfg, watch_mode: str) -> dict[str, float]:
    """Seconds between runs of every feed the mode watches."""
    by_env = {s.env: s.name for s in settings.SETTINGS}
    out = {}
    for name, env in _cadence_settings().items():
        feed = feeds.FEEDS.get(name)
        if feed is None or not env or env not in by_env:
            continue
        if watch_mode == "replay" and not feeds.replayable(feed):
            continue
        if watch_mode == "live" and feed.fetch_live is None and feed.kind != "url":
            continue
        out[name] = float(getattr(cfg, by_env[env]))
    if watch_mode == "replay":  # a real-time feed without a cadence setting moves with every step
        for name, feed in feeds.FEEDS.items():
            if feeds.replayable(feed):
                out.setdefault(name, float(replay.STEP_S))
    return out


def last_runs(data_dir) -> dict[str, tuple[datetime, bool]]:
    """Each feed's latest finished run in the run log: (when, whether it succeeded)."""
    path = datadir.runs_log_path(data_dir)
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - RUN_LOG_TAIL_BYTES))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        try:
            r = json.loads(line)
            finished = datetime.fromisoformat(r["finished_at"])
        except (ValueError, KeyError, TypeError):
            continue  # the first line of the tail is usually cut
        if r.get("outcome") != "skipped":
            out[r["feed"]] = (finished, r.get("outcome") not in FAILED)
    return out


# --- when -----------------------------------------------------------------------------------------


@dataclass
class Schedule:
    """When each feed is due, on whatever clock the caller uses (monotonic seconds live, replayed
    seconds in replay, a fake one in tests). `aligned`: due on multiples of the cadence (replay:
    air on the hour) instead of a cadence after the last run."""

    cadence_s: dict[str, float]
    retry_s: float
    aligned: bool = False
    next_due: dict[str, float] = field(default_factory=dict)

    def start(self, now: float, since_last: dict[str, tuple[float, bool]] | None = None) -> None:
        """Every feed due now, unless it ran recently: (seconds ago, succeeded) per feed."""
        for feed in self.cadence_s:
            ago, ok = (since_last or {}).get(feed, (math.inf, True))
            self.next_due[feed] = now + max(0.0, self.wait_after(feed, ok) - ago)

    def wait_after(self, feed: str, ok: bool) -> float:
        cadence = self.cadence_s[feed]
        return cadence if ok else min(cadence, self.retry_s)

    def due(self, now: float, running: set[str] = frozenset()) -> list[str]:
        ready = [f for f, at in self.next_due.items() if at <= now and f not in running]
        return sorted(ready, key=lambda f: (self.next_due[f], f))

    def done(self, feed: str, now: float, ok: bool) -> None:
        wait = self.wait_after(feed, ok)
        if self.aligned and ok:
            self.next_due[feed] = (math.floor(now / wait) + 1) * wait
        else:
            self.next_due[feed] = now + wait

    def next_at(self, running: set[str] = frozenset()) -> float:
        pending = [at for f, at in self.next_due.items() if f not in running]
        return min(pending, default=math.inf)


# --- one run in a child process -------------------------------------------------------------------


def _child(feed: str, watch_mode: str, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        cfg = settings.get()
        if watch_mode == "replay":
            record = feeds.refresh(feeds.FEEDS[feed], cfg, use_sample=True, source="replay")
        else:
            record = feeds.refresh(feeds.FEEDS[feed], cfg)
        conn.send(
            {
                "outcome": record.outcome,
                "rows_loaded": record.rows_loaded,
                "rows_quarantined": record.rows_quarantined,
                "as_of": record.as_of,
                "message": record.message,
                "logged": True,
            }
        )
    except BaseException as e:  # whatever it was, the parent records it and carries on
        conn.send({"outcome": "failed", "message": f"{type(e).__name__}: {e}", "logged": False})
    finally:
        conn.close()


@dataclass
class Running:
    feed: str
    process: multiprocessing.Process
    conn: Connection
    started: float  # monotonic
    started_at: str  # UTC, for the run log


def start_run(feed: str, watch_mode: str) -> Running:
    parent, child = _FORK.Pipe(duplex=False)
    process = _FORK.Process(target=_child, args=(feed, watch_mode, child), name=f"watch-{feed}", daemon=True)
    started_at = store.now_utc().isoformat(timespec="milliseconds")
    process.start()
    child.close()
    return Running(feed, process, parent, time.monotonic(), started_at)


# --- the loop -------------------------------------------------------------------------------------


class Watcher:
    def __init__(
        self,
        cfg,
        watch_mode: str,
        names: list[str] | None = None,
        *,
        once: bool = False,
        parent_pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        launch: Callable[[str, str], Running] = start_run,
    ):
        self.cfg = cfg
        self.mode = watch_mode
        self.once = once
        self.parent_pid = parent_pid
        self.clock = clock
        self.launch = launch
        cadence = cadences(cfg, watch_mode)
        if names:
            unknown = [n for n in names if n not in feeds.FEEDS]
            if unknown:
                raise WatchError(f"unknown feed(s): {', '.join(unknown)}; known: {', '.join(feeds.FEEDS)}")
            unwatched = [n for n in names if n not in cadence]
            if unwatched:
                raise WatchError(
                    f"not watched in {watch_mode} mode (no cadence setting, no fetch, or no replayable sample): "
                    f"{', '.join(unwatched)}; watched: {', '.join(cadence) or 'none'}"
                )
            cadence = {n: cadence[n] for n in names}
        self.schedule = Schedule(cadence, cfg.watch_retry_s, aligned=watch_mode == "replay")
        self.running: dict[str, Running] = {}
        self.launched: set[str] = set()  # in once mode, each feed runs at most once
        self.stopping = False
        self.results: list[dict] = []
        self.sample_path = datadir.sample_dir(cfg.data_dir)
        self.replay_step = 0  # steps since the recorded day's start, across day wraps

    @property
    def feeds(self) -> list[str]:
        return list(self.schedule.cadence_s)

    def stop(self, *_args) -> None:
        self.stopping = True

    # Replay runs on replayed time: step × 300 s; live on the monotonic clock.
    def _now(self) -> float:
        return self.replay_step * replay.STEP_S if self.mode == "replay" else self.clock()

    def _start_schedule(self) -> None:
        if self.mode == "replay":
            feeds.ensure_sample(self.cfg)
            self.replay_step = replay.current_step(self.sample_path)
            self.schedule.start(self._now())
            return
        wall = store.now_utc()
        since = {
            f: ((wall - finished).total_seconds(), ok)
            for f, (finished, ok) in last_runs(self.cfg.data_dir).items()
            if f in self.schedule.cadence_s
        }
        self.schedule.start(self.clock(), since)

    def _advance_replay(self) -> None:
        step = replay.advance(self.sample_path)
        self.replay_step += 1
        if step != self.replay_step % replay.STEPS:  # someone moved the clock: follow it
            self.replay_step = step
            self.schedule.start(self._now())
        log.info("replay: %s", replay.step_time(self._day(), step).strftime("%Y-%m-%d %H:%M"))

    def _day(self):
        return datetime.fromisoformat(self.cfg.sample_end_date).date()

    def _launch_due(self) -> None:
        due = self.schedule.due(self._now(), set(self.running))
        for feed in due:
            if self.once and feed in self.launched:
                continue
            # A feed waits while what it reads is being refreshed in this same round.
            if any(
                dep in self.running or (dep in due and dep not in self.launched) for dep in DEPENDS_ON.get(feed, ())
            ):
                continue
            self.launched.add(feed)
            try:
                self.running[feed] = self.launch(feed, self.mode)
            except Exception as e:  # e.g. no more processes: record it and try later
                self._finish(feed, None, {"outcome": "failed", "message": f"could not start the run: {e}"})

    def _reap(self) -> None:
        for feed, run in list(self.running.items()):
            message = None
            if run.conn.poll():
                try:
                    message = run.conn.recv()
                except (EOFError, OSError):
                    message = None
            if message is not None:
                run.process.join(5)
                self._finish(feed, run, message)
            elif not run.process.is_alive():
                code = run.process.exitcode
                self._finish(feed, run, {"outcome": "failed", "message": f"the run's process ended (exit code {code})"})
            elif time.monotonic() - run.started > self.cfg.watch_max_run_s:
                self._kill(run)
                self._finish(
                    feed,
                    run,
                    {
                        "outcome": "failed",
                        "message": f"stopped after {self.cfg.watch_max_run_s:.0f} s (MAYOR_WATCH_MAX_RUN_S); "
                        "tried again later",
                    },
                )

    def _kill(self, run: Running) -> None:
        run.process.terminate()
        run.process.join(2)
        if run.process.is_alive():
            run.process.kill()
            run.process.join(2)

    def _finish(self, feed: str, run: Running | None, message: dict) -> None:
        self.running.pop(feed, None)
        duration = time.monotonic() - run.started if run else 0.0
        message = {**message, "feed": feed, "duration_s": round(duration, 3)}
        if not message.get("logged"):
            self._record(feed, run, message)
        ok = message["outcome"] not in FAILED
        self.schedule.done(feed, self._now(), ok)
        self.results.append(message)
        detail = f"{message.get('rows_loaded', 0)} rows" if ok else settings.redact(message.get("message", ""))
        log.info("%s: %s in %.1f s (%s)", feed, message["outcome"], duration, detail)

    def _record(self, feed: str, run: Running | None, message: dict) -> None:
        """The run log must hold every run, also one whose process could not write it."""
        source = "replay" if self.mode == "replay" else "live"
        record = store.RunRecord(feed=feed, source=source, run_id=store.new_run_id(feed))
        record.started_at = run.started_at if run else store.now_utc().isoformat(timespec="milliseconds")
        record.finished_at = store.now_utc().isoformat(timespec="milliseconds")
        record.outcome = message["outcome"]
        record.message = settings.redact(message.get("message", ""), self.cfg.api_key)
        record.extra["watch"] = True
        store.append_run(self.cfg.data_dir, record)

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self) -> int:
        """Loop until stopped (or, with once, until each due feed ran once); 1 if a run failed
        in once mode, else 0."""
        if not self.feeds:
            log.warning("nothing to watch in %s mode", self.mode)
            return 0
        log.info(
            "watching %s (%s)", ", ".join(f"{f} every {c:.0f} s" for f, c in self.schedule.cadence_s.items()), self.mode
        )
        self._start_schedule()
        if self.mode == "replay" and self.once:  # one step forward, every real-time feed once
            self._advance_replay()
            self.schedule.start(self._now())
        next_step = time.monotonic() + self.cfg.replay_step_s
        try:
            self._launch_due()
            while not self.stopping:
                if self._parent_gone():
                    log.info("the app stopped: stopping the watcher")
                    break
                if self.once and not self.running:
                    break
                self._wait(next_step)
                self._reap()
                if self.once:
                    self._launch_due()  # feeds that waited for another to finish
                    continue
                if self.mode == "replay" and time.monotonic() >= next_step:
                    self._advance_replay()
                    next_step = max(next_step + self.cfg.replay_step_s, time.monotonic())
                self._launch_due()
        finally:
            self._shutdown()
        if self.once:
            return 1 if any(r["outcome"] in FAILED for r in self.results) else 0
        return 0

    def _wait(self, next_step: float) -> None:
        if self.mode == "replay":
            until = next_step - time.monotonic()
        else:
            until = self.schedule.next_at(set(self.running)) - self.clock()
        timeout = min(1.0, max(0.05, until))
        sentinels = [r.process.sentinel for r in self.running.values()]
        if sentinels:
            wait_for(sentinels, timeout)
        else:
            time.sleep(timeout)

    def _shutdown(self) -> None:
        deadline = time.monotonic() + STOP_GRACE_S
        while self.running and time.monotonic() < deadline:
            self._reap()
            if self.running:
                wait_for([r.process.sentinel for r in self.running.values()], 0.2)
        for feed, run in list(self.running.items()):
            self._kill(run)
            self._finish(feed, run, {"outcome": "failed", "message": "interrupted: the watcher stopped"})


def main(cfg, names: list[str], *, force_replay: bool, once: bool, parent_pid: int | None) -> int:
    watch_mode = mode(cfg, force_replay)
    if watch_mode is None:
        print("nothing to watch: no SEOUL_API_KEY and MAYOR_REPLAY=off (the sample stays as it is)")
        return 0
    watcher = Watcher(cfg, watch_mode, names, once=once, parent_pid=parent_pid)
    previous = {sig: signal.signal(sig, watcher.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
