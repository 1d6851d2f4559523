"""The sample's recorded day and the replay clock.

The real-time feeds' sample (city data, road speeds, air, bikes) is one recorded day in five-minute
steps: the day MAYOR_SAMPLE_END_DATE, step 0 = 00:00 KST, step 287 = 23:55. Without replay the
sample stands still at DEFAULT_STEP (the evening peak, so the offline app shows a busy city). In
replay mode the watcher advances the clock one step per cadence and reloads the real-time feeds,
so screens show motion offline. The clock is a small file beside the sample, so every process
(watcher, sample transport, app) reads the same moment.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path

STEPS = 288
STEP_S = 300
DEFAULT_STEP = 18 * 12  # 18:00
CLOCK_FILE = "replay_clock.json"


def clock_path(sample_path: Path) -> Path:
    return Path(sample_path) / CLOCK_FILE


def current_step(sample_path: Path) -> int:
    """The recorded day's moment the sample serves now (DEFAULT_STEP unless a replay is running)."""
    try:
        step = int(json.loads(clock_path(sample_path).read_text("utf-8"))["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_STEP
    return step % STEPS


def is_replaying(sample_path: Path) -> bool:
    return clock_path(sample_path).is_file()


def set_step(sample_path: Path, step: int) -> int:
    """Move the clock (atomically: the transport may read it at any moment)."""
    path = clock_path(sample_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"step": step % STEPS}), "utf-8")
    os.replace(tmp, path)
    return step % STEPS


def advance(sample_path: Path) -> int:
    return set_step(sample_path, current_step(sample_path) + 1)


def stop(sample_path: Path) -> None:
    clock_path(sample_path).unlink(missing_ok=True)


def step_time(day: date, step: int) -> datetime:
    """Wall-clock time (KST, naive) of a step of the recorded day."""
    return datetime(day.year, day.month, day.day) + timedelta(seconds=(step % STEPS) * STEP_S)
