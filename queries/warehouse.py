"""The read side of the warehouse: one in-memory DuckDB that attaches each feed's serving version
read-only, plus the run log, quarantine and data dictionary, then locks itself down.

Writers never touch a file a reader has open (see loaders/store.py), so any number of app
processes, on one machine or several sharing the data directory, read while a loader publishes.
A reader notices a new version by its pointer and builds a fresh instance; queries already
running finish on the old one.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from functools import cache
from pathlib import Path

import duckdb

import datadir
import settings

QUARANTINE_FILES_PER_FEED = 20  # the newest runs' rejects; older files stay on disk

log = logging.getLogger(__name__)


@cache
def dictionary() -> dict:
    with open(settings.PROJECT_DIR / "data" / "dictionary.toml", "rb") as f:
        return tomllib.load(f)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_type(declared: str) -> str:
    """A dictionary type as DuckDB spells it: "ENUM" (values fixed per published version, e.g. the
    complaints' districts and topics) stands for text when there is no version to take them from."""
    return "VARCHAR" if declared == "ENUM" else declared


def _empty_table_sql(table: str) -> str:
    cols = dictionary()["tables"][table]["columns"]
    return f"CREATE TABLE {_quote(table)} ({', '.join(f'{_quote(c)} {sql_type(t)}' for c, (t, _m) in cols.items())})"


def signature(data_dir: Path) -> tuple:
    """Changes whenever something a reader shows has changed on disk."""
    parts = []
    for feed, pointer in sorted(datadir.published_feeds(data_dir).items()):
        parts.append((feed, pointer["version"]))
    runs = datadir.runs_log_path(data_dir)
    try:
        st = runs.stat()
        parts.append(("runs", st.st_size, st.st_mtime_ns))
    except OSError:
        pass
    return tuple(parts)


def build(data_dir: Path, memory_limit: str = "1GB", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh read-only view of everything published, with file access and settings locked."""
    con = duckdb.connect(":memory:", config={"python_enable_replacements": False})
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    published = datadir.published_feeds(data_dir)
    # Two feeds publishing one table name (a stray import, a feed renamed) must not break every
    # page: the feed the dictionary assigns the table to wins, otherwise the first one.
    declared = dictionary()
    tables = declared["tables"]
    owner = {t: f for f, spec in declared["feeds"].items() for t in spec.get("tables", [])}
    present: set[str] = set()
    for feed, pointer in published.items():
        path = datadir.feed_dir(data_dir, feed) / pointer["file"]
        alias = _quote(f"feed_{feed}")
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
        for table in pointer["rows"]:
            if table in present and owner.get(table) != feed:
                log.warning("%s also publishes %s; serving the table from another feed", feed, table)
                continue
            added = computed_missing(con, f"feed_{feed}", table, tables.get(table, {}).get("computed", {}))
            con.execute(f"CREATE OR REPLACE VIEW {_quote(table)} AS SELECT *{added} FROM {alias}.main.{_quote(table)}")
            present.add(table)
    for table in tables:
        if table not in present and table not in ("datasets", "load_runs", "quarantine", "threshold_rules"):
            con.execute(_empty_table_sql(table))

    con.execute(_empty_table_sql("datasets"))
    for feed, p in published.items():
        con.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                feed,
                p["version"],
                p["published_at"],
                p.get("as_of"),
                p["is_sample"],
                p["source"],
                sum(p["rows"].values()),
            ],
        )
    _load_runs(con, data_dir)
    _load_quarantine(con, data_dir)
    _load_catalog(con)
    _load_threshold_rules(con)
    # Last: after this, SQL can neither reach files nor change these settings (stack-notes.md).
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def computed_missing(con, database: str, table: str, computed: dict[str, str]) -> str:
    """`, <expression> AS <column>` for each computed column (data/dictionary.toml) that a version
    published before the column existed lacks: it is served computed as it is read until the next
    import stores it."""
    if not computed:
        return ""
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ?", [database, table]
        ).fetchall()
    }
    return "".join(f", {expression} AS {_quote(c)}" for c, expression in computed.items() if c not in have)


def _load_runs(con, data_dir: Path) -> None:
    con.execute(_empty_table_sql("load_runs"))
    path = datadir.runs_log_path(data_dir)
    if not path.is_file() or path.stat().st_size == 0:
        return
    cols = dictionary()["tables"]["load_runs"]["columns"]
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in cols)
    casts = ", ".join(f"TRY_CAST({_quote(c)} AS {t})" for c, (t, _m) in cols.items())
    con.execute(
        f"INSERT INTO load_runs SELECT {casts} FROM read_json(?, format='newline_delimited', "
        f"columns={{{spec}}}, ignore_errors=true)",
        [str(path)],
    )


def _load_quarantine(con, data_dir: Path) -> None:
    con.execute(_empty_table_sql("quarantine"))
    root = datadir.quarantine_dir(data_dir)
    files = []
    if root.is_dir():
        for feed_dir in root.iterdir():
            newest = sorted(feed_dir.glob("*.parquet"), reverse=True)[:QUARANTINE_FILES_PER_FEED]
            files += [str(f) for f in newest]
    if files:
        con.execute(
            "INSERT INTO quarantine SELECT run_id, feed, row_number, reason, record FROM read_parquet(?)",
            [files],
        )


# Types of the catalogue tables; built from Python lists in SQL (no DataFrame), so the SQL console's
# child process, which builds this instance too, starts without importing pandas.
CATALOG_FEEDS = {
    "feed": "VARCHAR",
    "title_ko": "VARCHAR",
    "title_en": "VARCHAR",
    "service": "VARCHAR",
    "source": "VARCHAR",
    "licence": "VARCHAR",
    "cadence_s": "DOUBLE",
    "tables": "VARCHAR",
}
CATALOG_COLUMNS = {
    "table_name": "VARCHAR",
    "grain": "VARCHAR",
    "column_name": "VARCHAR",
    "column_type": "VARCHAR",
    "meaning": "VARCHAR",
}


def _create_from_rows(con, name: str, types: dict[str, str], rows: list[dict]) -> None:
    """CREATE TABLE name AS the rows, one list per column unnested side by side."""
    columns = ", ".join(f"unnest(CAST(${c} AS {ty}[])) AS {_quote(c)}" for c, ty in types.items())
    con.execute(
        f"CREATE TABLE {_quote(name)} AS SELECT {columns}",
        {c: [r[c] for r in rows] for c in types},
    )


def _load_catalog(con) -> None:
    d = dictionary()
    feeds = [
        {
            "feed": name,
            "title_ko": f["title_ko"],
            "title_en": f["title_en"],
            "service": f["service"],
            "source": f["source"],
            "licence": f["licence"],
            "cadence_s": _cadence(f["cadence_setting"]),
            "tables": ", ".join(f["tables"]),
        }
        for name, f in d["feeds"].items()
    ]
    columns = [
        {"table_name": t, "grain": spec["grain"], "column_name": c, "column_type": ty, "meaning": m}
        for t, spec in d["tables"].items()
        for c, (ty, m) in spec["columns"].items()
    ]
    _create_from_rows(con, "catalog_feeds", CATALOG_FEEDS, feeds)
    _create_from_rows(con, "catalog_columns", CATALOG_COLUMNS, columns)


def _load_threshold_rules(con) -> None:
    """The dated Democracy Seoul rules from settings, so a changed setting applies on the next
    reader rebuild without reloading any data."""
    con.execute(_empty_table_sql("threshold_rules"))
    rules = settings.threshold_rules(settings.get().threshold_rules)
    for i, (since, answer, forum, mayor) in enumerate(rules):
        until = rules[i + 1][0] if i + 1 < len(rules) else None
        con.execute("INSERT INTO threshold_rules VALUES (?, ?, ?, ?, ?)", [since, until, answer, forum, mayor])


def _cadence(env: str) -> int | None:
    if not env:
        return None
    cfg = settings.get()
    setting = next(s for s in settings.SETTINGS if s.env == env)
    return int(getattr(cfg, setting.name))


class Warehouse:
    """Shared by every thread of a process; hand each query its own cursor.

    Every query asks for the current version. Between checks it is read without a lock, from one
    tuple (connection, signature, checked at) that a check replaces whole; only a due check takes
    the lock, and only one thread makes it. Under load (bench.load, py-spy) threads had queued on a
    lock taken by every read for a third of their time, while Streamlit's per-run collection held
    the GIL; reading without it changed no figure measurably on its own, but a read needs no lock."""

    def __init__(self, data_dir: Path, check_every_s: float = 2.0):
        self.data_dir = data_dir
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._state: tuple[duckdb.DuckDBPyConnection, tuple, float] | None = None

    def current_signature(self) -> tuple:
        return self._current()[1]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        # Cursors may be made from many threads at once (DuckDB's own tests do so).
        return self._current()[0].cursor()

    def _current(self) -> tuple[duckdb.DuckDBPyConnection, tuple, float]:
        state = self._state
        if state is not None and time.monotonic() - state[2] < self.check_every_s:
            return state
        with self._lock:
            state = self._state  # another thread may have checked while this one waited
            now = time.monotonic()
            if state is not None and now - state[2] < self.check_every_s:
                return state
            sig = signature(self.data_dir)
            # A new version gets a new instance; the old one is not closed: queries running on it
            # finish, then it is freed.
            con = build(self.data_dir) if state is None or sig != state[1] else state[0]
            self._state = (con, sig, now)
            return self._state


_warehouses: dict[Path, Warehouse] = {}
_registry_lock = threading.Lock()


def shared(data_dir: Path | None = None) -> Warehouse:
    data_dir = data_dir or settings.data_dir()
    found = _warehouses.get(data_dir)  # no lock for the common case: a dict read is atomic
    if found is not None:
        return found
    with _registry_lock:
        if data_dir not in _warehouses:
            _warehouses[data_dir] = Warehouse(data_dir, settings.get().snapshot_check_s)
        return _warehouses[data_dir]


def dictionary_markdown() -> str:
    """The README's table reference, generated from data/dictionary.toml."""
    out = []
    for table, spec in dictionary()["tables"].items():
        out += [f"#### `{table}` — {spec['grain']}", "", "| column | type | meaning |", "|---|---|---|"]
        out += [f"| `{c}` | {ty} | {m} |" for c, (ty, m) in spec["columns"].items()]
        out.append("")
        for column, expression in spec.get("computed", {}).items():
            out += [
                f"`{column}` is computed by the import (and on reading a version without it) as `{expression}`.",
                "",
            ]
    return "\n".join(out).rstrip()


def hide_restricted(con: duckdb.DuckDBPyConnection) -> None:
    """Remove personal data from an instance that runs user SQL: tables marked `restricted` in
    data/dictionary.toml (panel_members) are read only through named queries that aggregate and
    suppress small cells. The feed file holding one is detached, so `feed_<name>.main.<table>`
    cannot reach it either; a restricted table therefore lives in a feed of its own."""
    restricted = sorted(t for t, spec in dictionary()["tables"].items() if spec.get("restricted"))
    if not restricted:
        return
    found = con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE database_name = current_database() "
        "AND list_contains($t, view_name) UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() "
        "WHERE database_name = current_database() AND list_contains($t, table_name)",
        {"t": restricted},
    ).fetchall()
    for name, kind in found:
        con.execute(f"DROP {kind} {_quote(name)}")
    holders = con.execute(
        "SELECT DISTINCT database_name FROM duckdb_tables() "
        "WHERE database_name <> current_database() AND list_contains($t, table_name)",
        {"t": restricted},
    ).fetchall()
    for (database,) in holders:
        con.execute(f"DETACH {_quote(database)}")
