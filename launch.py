"""`make run`: the app (serve.py) and, beside it, `python -m loaders watch`, stopped together.

`python launch.py [streamlit run options]`. The watcher decides its own mode: live refreshes on each
feed's cadence when SEOUL_API_KEY is set, a replay of the sample's recorded day without a key
(MAYOR_REPLAY=auto), or nothing (it exits at once; the app keeps serving). When the app exits, for
whatever reason, the watcher is stopped; it is also given this process's id (--exit-with-parent), so
it stops by itself if the launcher is killed outright and cannot outlive the app.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
STOP_TIMEOUT_S = 20  # the watcher gives runs under way 10 s to finish (loaders/watch.py)


def stop(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Supervisor:
    """Starts the watcher, then the app; returns the app's exit code once it exits, the watcher
    stopped."""

    def __init__(self, app_cmd: list[str], watcher_cmd: list[str]):
        self.app_cmd = app_cmd
        self.watcher_cmd = watcher_cmd
        self.app: subprocess.Popen | None = None
        self.watcher: subprocess.Popen | None = None

    def _forward(self, signum, _frame) -> None:
        if self.app is not None and self.app.poll() is None:
            self.app.send_signal(signum)

    def run(self) -> int:
        previous = {s: signal.signal(s, self._forward) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.watcher = subprocess.Popen(self.watcher_cmd, cwd=PROJECT)
            self.app = subprocess.Popen(self.app_cmd, cwd=PROJECT)
            return self.app.wait()
        finally:
            for proc in (self.watcher, self.app):
                if proc is not None:
                    stop(proc)
            for s, handler in previous.items():
                signal.signal(s, handler)


def watcher_command() -> list[str]:
    return [sys.executable, "-m", "loaders", "watch", "--exit-with-parent", str(os.getpid())]


def app_command(args: list[str]) -> list[str]:
    return [sys.executable, "serve.py", *args]


if __name__ == "__main__":
    sys.exit(Supervisor(app_command(sys.argv[1:]), watcher_command()).run())
