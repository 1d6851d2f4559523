"""Load test: many sessions speaking Streamlit's own websocket protocol against the served app.

    python -m bench.load [--sessions 10,50,100] [--pages seoul-at-a-glance,market-prices]
                         [--duration 30] [--processes 1,2] [--think 3,10] [--ramp 10]

Each simulated session opens `/_stcore/stream` as the browser does, asks for a page run
(BackMsg.rerun_script with the page's url path), waits for `script_finished`, pauses as a reader
would (`--think`, seconds drawn uniformly between the two figures), and asks again, for
`--duration` seconds. A level's sessions arrive evenly over `--ramp` seconds (10: five people a
second at 50 sessions; `--ramp 1` is a flash crowd). Profiles reported in the README: a reader's
pace (3–10 s between runs: a person reads a chart before changing a filter), the same with a flash
crowd, and a stress profile (`--think 0.5,1.5`: every session asks again about a second after each
answer, about six times a reader's rate). Reported per run: reruns per second,
p50 and p95 latency (request to script_finished), errors (a failed connection, a timeout, a run
that did not finish successfully, or an exception element sent to the page) and the servers'
memory, the app processes' CPU time per rerun (independent of what else the machine runs) and
the machine's load average. With `--processes 2` the sessions are spread over two app processes reading the same
published data, as a reverse proxy would spread them (see README, "Running several app
processes"). Target at 50 sessions: p95 ≤ 2 s and no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.test_browser import serve_app

RUN_TIMEOUT_S = 30
THINK_S = (3.0, 10.0)  # a person reads a chart before the next interaction


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.elements: list[int] = []  # elements drawn per run: proof that the page really ran

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def session(url: str, page: str, start_at: float, until: float, stats: Stats, think: tuple[float, float]) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    origin = url.replace("ws://", "http://").split("/_stcore")[0]
    try:
        ws = await websockets.connect(
            url, subprotocols=["streamlit"], origin=origin, max_size=None, open_timeout=RUN_TIMEOUT_S
        )
    except Exception as e:  # any failure to connect is an error to count
        stats.error(f"connect: {type(e).__name__}")
        return
    try:
        while time.monotonic() < until:
            msg = BackMsg()
            msg.rerun_script.query_string = ""
            msg.rerun_script.page_name = page
            started = time.monotonic()
            await ws.send(msg.SerializeToString())
            outcome = await finish(ws, stats)
            if outcome == "ok":
                stats.latencies.append(time.monotonic() - started)
            elif outcome:
                stats.error(outcome)
                if outcome in ("timeout", "closed"):
                    return
            await asyncio.sleep(random.uniform(*think))
    finally:
        with contextlib.suppress(Exception):
            await ws.close()


async def finish(ws, stats: Stats) -> str:
    """Read until this run's script_finished: 'ok', or the kind of error."""
    exception_seen = False
    elements = 0
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        try:
            raw = await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            return "timeout"
        except websockets.ConnectionClosed:
            return "closed"
        fwd = ForwardMsg()
        fwd.ParseFromString(raw)
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            elements += 1
            if fwd.delta.new_element.WhichOneof("type") == "exception":
                exception_seen = True
        elif kind == "script_finished":
            status = fwd.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue
            if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                continue  # a live panel's own refresh, not the run we asked for
            if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                return "script did not finish"
            stats.elements.append(elements)
            return "exception on page" if exception_seen else "ok"


def tree_cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the app processes have used so far: per rerun, a figure that does
    not depend on what else the machine runs."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def tree_rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def listening_pid(port: int) -> int:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return conn.pid
    raise RuntimeError(f"nothing listens on {port}")


async def run_level(
    bases: list[str],
    pages: list[str],
    sessions: int,
    duration: float,
    pids: list[int],
    think: tuple[float, float],
    ramp: float,
) -> dict:
    stats = Stats()
    until = time.monotonic() + duration
    peak = [tree_rss_mb(pids)]

    async def sample_memory() -> None:
        while time.monotonic() < until:
            peak.append(tree_rss_mb(pids))
            await asyncio.sleep(1)

    tasks = []
    started = time.monotonic()
    for i in range(sessions):
        base = bases[i % len(bases)]  # round robin, as a proxy would
        url = base.replace("http://", "ws://") + "/_stcore/stream"
        # Arrivals evenly spread over `ramp` seconds (a coroutine starts only when gathered, so the
        # spread is each session's own wait, not a pause between creating them).
        start_at = started + ramp * i / sessions
        tasks.append(session(url, pages[i % len(pages)], start_at, until, stats, think))
    cpu_before = tree_cpu_s(pids)
    await asyncio.gather(sample_memory(), *tasks)
    elapsed = time.monotonic() - started
    cpu = tree_cpu_s(pids) - cpu_before
    lat = sorted(stats.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {
        "sessions": sessions,
        "reruns": len(lat),
        "reruns_per_s": len(lat) / elapsed,
        "p50_s": pct(0.50),
        "p95_s": pct(0.95),
        "mean_s": statistics.mean(lat) if lat else float("nan"),
        "errors": sum(stats.errors.values()),
        "error_kinds": stats.errors,
        "memory_mb": max(peak),
        "cpu_ms_per_rerun": 1000 * cpu / len(lat) if lat else float("nan"),
        "load_avg": os.getloadavg()[0],
        "elements_per_run": statistics.median(stats.elements) if stats.elements else 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="10,50,100")
    parser.add_argument("--pages", default="seoul-at-a-glance,market-prices")
    parser.add_argument("--duration", type=float, default=30, help="seconds per level")
    parser.add_argument("--processes", default="1,2", help="app processes to compare, e.g. 1,2")
    parser.add_argument(
        "--think", default=",".join(map(str, THINK_S)), help="seconds between a run's answer and the next ask: MIN,MAX"
    )
    parser.add_argument(
        "--ramp", type=float, default=10, help="seconds over which a level's sessions arrive (1 = a flash crowd)"
    )
    args = parser.parse_args(argv)
    think = tuple(float(x) for x in args.think.split(","))
    print(
        f"think time {think[0]:g}–{think[1]:g} s between runs, sessions arriving over {args.ramp:g} s, "
        f"{args.duration:g} s per level",
        flush=True,
    )
    levels = [int(x) for x in args.sessions.split(",")]
    pages = args.pages.split(",")

    from loaders.__main__ import main as loaders_main

    root = Path(tempfile.mkdtemp(prefix="load-"))
    data_dir = root / "data"
    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    if loaders_main(["sample"]) != 0:
        print("could not build the sample", file=sys.stderr)
        return 1
    results = []
    try:
        for processes in [int(x) for x in args.processes.split(",")]:
            with contextlib.ExitStack() as stack:
                bases = [
                    stack.enter_context(serve_app(data_dir, root / f"app{i}.log", production=True))
                    for i in range(processes)
                ]
                pids = [listening_pid(int(b.rsplit(":", 1)[1])) for b in bases]
                # Warm each process (imports, first page) before measuring.
                asyncio.run(run_level(bases, pages, len(bases) * len(pages), 5, pids, think, 0))
                for n in levels:
                    r = asyncio.run(run_level(bases, pages, n, args.duration, pids, think, args.ramp))
                    r["processes"] = processes
                    results.append(r)
                    print(
                        f"{processes} proc · {n:4d} sessions: {r['reruns_per_s']:6.1f} reruns/s, "
                        f"p50 {r['p50_s'] * 1000:7.0f} ms, p95 {r['p95_s'] * 1000:7.0f} ms, "
                        f"errors {r['errors']} {r['error_kinds'] or ''}, memory {r['memory_mb']:.0f} MB, "
                        f"{r['cpu_ms_per_rerun']:.0f} CPU ms per rerun, {r['elements_per_run']:.0f} elements per run, "
                        f"machine load {r['load_avg']:.1f}",
                        flush=True,
                    )
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print("| processes | sessions | reruns/s | p50 ms | p95 ms | errors | server MB | CPU ms/rerun | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['processes']} | {r['sessions']} | {r['reruns_per_s']:.1f} | {r['p50_s'] * 1000:.0f} | "
            f"{r['p95_s'] * 1000:.0f} | {r['errors']} | {r['memory_mb']:.0f} | {r['cpu_ms_per_rerun']:.0f} | "
            f"{r['load_avg']:.1f} |"
        )
    by = {(r["processes"], r["sessions"]): r for r in results}
    for n in levels:
        if (1, n) in by and (2, n) in by:
            one, two = by[(1, n)], by[(2, n)]
            print(
                f"two processes against one at {n} sessions: reruns/s ×{two['reruns_per_s'] / one['reruns_per_s']:.2f}, "
                f"p95 ×{two['p95_s'] / one['p95_s']:.2f}"
            )
    met = []
    for r in (r for r in results if r["sessions"] == 50):
        ok = r["p95_s"] <= 2 and r["errors"] == 0
        met.append(ok)
        print(
            f"target at 50 sessions, {r['processes']} process(es): p95 ≤ 2 s and 0 errors: {'met' if ok else 'NOT met'}"
        )
    return 0 if any(met) else 1


if __name__ == "__main__":
    sys.exit(main())
