"""Wall-screen endurance: the app served as `make run` serves it, one headless chromium showing a
screen link with a fast rotation for a long time, and the server's memory sampled throughout.

    python -m bench.screen_endurance [--minutes 30] [--every 10] [--pages a,b,c]

Prints the server's resident memory (the whole process tree) over time, the growth from the
first sample after warm-up to the mean of the last five minutes, the pages shown and the number
of rotations seen in the browser, the longest stretch without a page heading (a page loading, or
a blank screen), and any page error. Target: growth under 10%, no page error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, serve_app
from ui import navigation

WARMUP_S = 120


def tree_rss_mb(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


def server_pid(port: int) -> int:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return conn.pid
    raise RuntimeError(f"no process listens on port {port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=int, default=10, help="seconds per page (the screen link's every=)")
    parser.add_argument(
        "--pages", default=",".join(p.url_path for p in navigation.PAGES if p.url_path != "sql-console")
    )
    parser.add_argument("--sample-every", type=float, default=30, help="seconds between memory samples")
    parser.add_argument(
        "--replay-step",
        type=float,
        default=10,
        help="run `python -m loaders watch --replay` beside the app with this many seconds per five-minute step "
        "(0: no watcher, the data stands still)",
    )
    args = parser.parse_args(argv)
    # Stopped with SIGTERM (a timeout, a CI job cancelled): unwind, so the `finally` below stops the
    # watcher and the server and removes the run's folder, as after Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from playwright.sync_api import sync_playwright

    from loaders.__main__ import main as loaders_main

    root = Path(tempfile.mkdtemp(prefix="endurance-"))
    data_dir = root / "data"
    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    if loaders_main(["sample"]) != 0:
        print("could not build the sample", file=sys.stderr)
        return 1
    link = f"/?screen=1&pages={args.pages}&every={args.every}"
    samples: list[tuple[float, float]] = []
    titles: list[str] = []
    errors: list[str] = []
    longest_headless = 0.0
    watcher = None
    if args.replay_step > 0:
        import subprocess

        env = dict(os.environ, MAYOR_REPLAY_STEP_S=str(args.replay_step))
        watcher = subprocess.Popen(
            # Even if this process is killed outright, the watcher sees its parent gone and stops.
            [sys.executable, "-m", "loaders", "watch", "--replay", "--exit-with-parent", str(os.getpid())],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / "watch.log", "wb"),  # noqa: SIM115 - closed with the process
        )
    try:
        with serve_app(data_dir, root / "streamlit.log", production=True) as base, sync_playwright() as p:
            port = int(base.rsplit(":", 1)[1])
            pid = server_pid(port)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + link)
            start = time.monotonic()
            next_sample = start
            end = start + args.minutes * 60
            print(f"screen link {link} for {args.minutes:g} min; server pid {pid}")
            print(f"{'t (s)':>7} {'server MB':>10}  page")
            headless_since = None
            while time.monotonic() < end:
                now = time.monotonic()
                try:
                    title = page.locator("h1").first.inner_text(timeout=2000)
                except Exception:  # between pages there may be no heading for a moment
                    title = ""
                if title and (not titles or titles[-1] != title):
                    titles.append(title)
                if title:
                    headless_since = None
                else:
                    headless_since = headless_since or now
                    longest_headless = max(longest_headless, time.monotonic() - headless_since)
                if now >= next_sample:
                    mb = tree_rss_mb(pid)
                    samples.append((now - start, mb))
                    print(f"{now - start:7.0f} {mb:10.1f}  {title}", flush=True)
                    next_sample += args.sample_every
                time.sleep(1)
            browser.close()
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(10)
            runs = len((data_dir / "ops" / "runs.jsonl").read_text("utf-8").splitlines())
            print(f"replay watcher: {runs} loader runs logged while the screen ran")
        shutil.rmtree(root, ignore_errors=True)

    after_warmup = [mb for t, mb in samples if t >= WARMUP_S] or [mb for _t, mb in samples]
    tail = [mb for t, mb in samples if t >= samples[-1][0] - 300] or after_warmup[-1:]
    first, last = after_warmup[0], statistics.mean(tail)
    growth = (last - first) / first
    print()
    print(f"pages shown (in order, first 12): {titles[:12]}")
    print(
        f"page changes seen: {len(titles) - 1} in {args.minutes:g} min (expected about {args.minutes * 60 / args.every:.0f})"
    )
    print(f"memory after warm-up: {first:.1f} MB; mean of the last five minutes: {last:.1f} MB")
    print(f"growth: {growth:+.1%} (target under +10%); peak {max(mb for _t, mb in samples):.1f} MB")
    print(f"longest stretch without a page heading: {longest_headless:.0f} s")
    print(f"browser page errors: {len(errors)}" + (f" (first: {errors[0][:200]})" if errors else ""))
    return 0 if growth < 0.10 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
