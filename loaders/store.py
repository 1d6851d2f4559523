"""Publishing snapshots, the run log and quarantine (the writer side of the warehouse).

DuckDB locks a file opened read-write against every other process, so nobody ever writes a file
that a reader has open: each load writes a new version file, checkpoints and closes it, renames it
into place, then swaps the feed's `current.json` pointer by atomic rename. Readers attach the
version the pointer names, read-only, and reopen when it changes. A failed load never touches the
pointer, so the last good version keeps serving.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

import datadir

GRACE_S = 600  # an old version stays on disk this long after it stops serving, for slow readers
# A feed refreshed every 5 minutes that always rejects a few rows writes 288 quarantine files a day;
# readers show the newest 20 (queries/warehouse.py), so older ones beyond this are removed.
QUARANTINE_KEEP_FILES = 100


class FeedBusy(RuntimeError):
    """Another process is refreshing this feed right now."""


@dataclass
class StagedRows:
    """Rows that stay in a DuckDB file until they are published: bulk imports of millions of rows
    never pass through a DataFrame. `digest` is their order-independent content hash, computed
    where they live (see `staged_digest`)."""

    path: Path
    table: str
    rows: int
    digest: str

    def __len__(self) -> int:
        return self.rows


def staged_digest(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple[int, str]:
    """Row count and an order-independent hash of a table's rows, in DuckDB."""
    cols = ", ".join(f'"{c}"' for c in columns)
    count, total = con.execute(
        f'SELECT count(*), coalesce(sum(hash({cols})::HUGEINT) % 18446744073709551616, 0) FROM "{table}"'
    ).fetchone()
    return int(count), f"{int(total):016x}"


@dataclass
class Table:
    name: str
    columns: dict[str, str]  # column -> DuckDB type, in published order
    frame: pd.DataFrame | StagedRows


@dataclass
class RunRecord:
    feed: str
    source: str
    run_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    outcome: str = "running"  # ok | unchanged | no_data | rejected | failed | skipped
    api_code: str | None = None
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    version: str | None = None
    as_of: str | None = None
    extra: dict = field(default_factory=dict)


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_run_id(feed: str) -> str:
    return f"{now_utc():%Y%m%dT%H%M%S%fZ}-{feed}-{os.getpid()}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@contextmanager
def feed_lock(data_dir: Path, feed: str):
    """One writer per feed: a second refresh started at once is told, not queued."""
    d = datadir.feed_dir(data_dir, feed)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FeedBusy(f"another refresh of {feed} is running") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def content_hash(tables: list[Table]) -> str:
    """Order-independent hash of the published rows, so an identical reload publishes nothing."""
    parts = []
    for t in sorted(tables, key=lambda t: t.name):
        if isinstance(t.frame, StagedRows):
            parts.append(f"{t.name}:{t.frame.rows}:{','.join(t.columns.values())}:staged-{t.frame.digest}")
            continue
        frame = t.frame[list(t.columns)]
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        total = int(row_hashes.sum(dtype="uint64")) if len(row_hashes) else 0
        parts.append(f"{t.name}:{len(frame)}:{','.join(t.columns.values())}:{total:016x}")
    return "|".join(parts)


def publish(
    data_dir: Path,
    feed: str,
    tables: list[Table],
    *,
    run_id: str,
    as_of: str | None,
    is_sample: bool,
    source: str,
    keep_versions: int = 3,
) -> str | None:
    """Publish a new version of `feed`; None when it is identical to the serving version."""
    digest = content_hash(tables)
    current = datadir.read_pointer(data_dir, feed)
    if current and current.get("content_hash") == digest and current.get("is_sample") == is_sample:
        return None
    d = datadir.feed_dir(data_dir, feed)
    d.mkdir(parents=True, exist_ok=True)
    version = run_id
    final = d / f"{version}.duckdb"
    tmp = d / f".{version}.duckdb.tmp"
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    published_at = now_utc().isoformat(timespec="seconds")
    adopted = _adoptable(tables, d)
    if adopted is not None:
        os.replace(adopted, tmp)  # the staging file becomes the version: its rows are not copied
    con = duckdb.connect(str(tmp))
    try:
        for t in tables:
            if adopted is not None and isinstance(t.frame, StagedRows):
                continue
            cols = ", ".join(f'"{c}" {ty}' for c, ty in t.columns.items())
            con.execute(f'CREATE TABLE "{t.name}" ({cols})')
            select = ", ".join(f'CAST("{c}" AS {ty})' for c, ty in t.columns.items())
            if isinstance(t.frame, StagedRows):
                con.execute("ATTACH ? AS staged (READ_ONLY)", [str(t.frame.path)])
                con.execute(f'INSERT INTO "{t.name}" SELECT {select} FROM staged.main."{t.frame.table}"')
                con.execute("DETACH staged")
                continue
            con.register("incoming", t.frame[list(t.columns)])
            con.execute(f'INSERT INTO "{t.name}" SELECT {select} FROM incoming')
            con.unregister("incoming")
        con.execute(
            "CREATE TABLE _snapshot (feed VARCHAR, version VARCHAR, published_at TIMESTAMPTZ, "
            "as_of TIMESTAMP, is_sample BOOLEAN, source VARCHAR, content_hash VARCHAR, tables VARCHAR)"
        )
        con.execute(
            "INSERT INTO _snapshot VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [feed, version, published_at, as_of, is_sample, source, digest, json.dumps([t.name for t in tables])],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    Path(f"{tmp}.wal").unlink(missing_ok=True)  # a stale WAL beside a renamed file breaks readers
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    pointer = {
        "feed": feed,
        "version": version,
        "file": final.name,
        "published_at": published_at,
        "as_of": as_of,
        "is_sample": is_sample,
        "source": source,
        "content_hash": digest,
        "rows": {t.name: len(t.frame) for t in tables},
    }
    _atomic_write_text(datadir.pointer_path(data_dir, feed), json.dumps(pointer, ensure_ascii=False))
    _collect_old_versions(d, keep_versions, serving=final.name)
    return version


def _adoptable(tables: list[Table], d: Path) -> Path | None:
    """A staging file in the feed's folder that holds exactly the published tables staged in it,
    under their published names and types, can become the new version file itself (its rows are
    not copied)."""
    staged = [t for t in tables if isinstance(t.frame, StagedRows)]
    paths = {t.frame.path for t in staged}
    if len(paths) != 1 or any(t.frame.table != t.name for t in staged) or next(iter(paths)).parent != d:
        return None
    path = next(iter(paths))
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        types = {
            (t, c): ty
            for t, c, ty in con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns()").fetchall()
        }
    finally:
        con.close()
    if names != {t.name for t in staged}:
        return None
    for t in staged:
        if {c: types.get((t.name, c)) for c in t.columns} != t.columns or sum(n == t.name for n, _ in types) != len(
            t.columns
        ):
            return None
    return path


def _collect_old_versions(d: Path, keep: int, serving: str) -> None:
    versions = sorted((p for p in d.glob("*.duckdb")), key=lambda p: p.name, reverse=True)
    cutoff = time.time() - GRACE_S
    for old in versions[max(1, keep) :]:
        if old.name != serving and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    for tmp in d.glob(".*.duckdb.tmp"):
        if tmp.stat().st_mtime < cutoff:  # left by a loader killed mid-write
            tmp.unlink(missing_ok=True)


def clear_interrupted(data_dir: Path, feed: str) -> list[str]:
    """Remove what a loader killed while publishing left behind, and return the names: a temporary
    version file and its WAL, a temporary pointer, or a version file renamed into place whose
    pointer swap never happened (newer than the serving one). Call only under `feed_lock`: then no
    other writer of this feed is at work, and readers never open any of these files."""
    d = datadir.feed_dir(data_dir, feed)
    if not d.is_dir():
        return []
    pointer = datadir.read_pointer(data_dir, feed)
    serving = pointer["file"] if pointer else None
    removed = []
    for path in sorted(d.iterdir()):
        name = path.name
        half_written = name.startswith(".") and (
            name.endswith((".duckdb.tmp", ".duckdb.tmp.wal"))
            or (name.startswith(f".{datadir.POINTER}.") and name.endswith(".tmp"))
        )
        never_served = name.endswith(".duckdb") and not name.startswith(".") and (serving is None or name > serving)
        if half_written or never_served:
            path.unlink(missing_ok=True)
            removed.append(name)
    return removed


def write_quarantine(data_dir: Path, feed: str, run_id: str, rejected: pd.DataFrame) -> None:
    if rejected.empty:
        return
    d = datadir.quarantine_dir(data_dir, feed)
    d.mkdir(parents=True, exist_ok=True)
    frame = rejected.assign(run_id=run_id, feed=feed)[["run_id", "feed", "row_number", "reason", "record"]]
    tmp = d / f".{run_id}.parquet.tmp"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, d / f"{run_id}.parquet")
    for old in sorted(d.glob("*.parquet"), reverse=True)[QUARANTINE_KEEP_FILES:]:
        old.unlink(missing_ok=True)


def append_run(data_dir: Path, record: RunRecord) -> None:
    path = datadir.runs_log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(record), ensure_ascii=False, default=str) + "\n"
    # O_APPEND with one write per line keeps lines whole when several loaders append at once.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
