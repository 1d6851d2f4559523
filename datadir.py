"""Layout of the data directory, shared by the writer (loaders) and the readers (queries).

<data_dir>/snapshots/<feed>/<version>.duckdb   immutable published versions
<data_dir>/snapshots/<feed>/current.json       pointer to the serving version (atomic rename)
<data_dir>/ops/runs.jsonl                      one line per loader run (append-only)
<data_dir>/ops/quarantine/<feed>/<run>.parquet rows that failed validation, with the reason
<data_dir>/sample/<SERVICE>.json               the bundled sample, in wire format
<data_dir>/cache/                              loader caches that are not data (e.g. road-link names)
"""

from __future__ import annotations

import json
from pathlib import Path

POINTER = "current.json"


def snapshots_dir(data_dir: Path) -> Path:
    return data_dir / "snapshots"


def feed_dir(data_dir: Path, feed: str) -> Path:
    return snapshots_dir(data_dir) / feed


def pointer_path(data_dir: Path, feed: str) -> Path:
    return feed_dir(data_dir, feed) / POINTER


def runs_log_path(data_dir: Path) -> Path:
    return data_dir / "ops" / "runs.jsonl"


def quarantine_dir(data_dir: Path, feed: str | None = None) -> Path:
    base = data_dir / "ops" / "quarantine"
    return base / feed if feed else base


def sample_dir(data_dir: Path) -> Path:
    return data_dir / "sample"


def cache_dir(data_dir: Path) -> Path:
    return data_dir / "cache"


def read_pointer(data_dir: Path, feed: str) -> dict | None:
    try:
        return json.loads(pointer_path(data_dir, feed).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def published_feeds(data_dir: Path) -> dict[str, dict]:
    """Every feed with a readable pointer, mapped to that pointer's metadata."""
    root = snapshots_dir(data_dir)
    if not root.is_dir():
        return {}
    found = {}
    for child in sorted(root.iterdir()):
        pointer = read_pointer(data_dir, child.name) if child.is_dir() else None
        if pointer and (child / pointer["file"]).is_file():
            found[child.name] = pointer
    return found
