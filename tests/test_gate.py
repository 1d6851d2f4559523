"""The gate for user SQL: one SELECT, no files, no settings, no Python variables."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

import datadir
from queries import QueryError, gate
from tests.conftest import run_module

PROJECT = Path(__file__).resolve().parents[1]

REFUSED_BEFORE_RUNNING = [
    "SELECT 1; SELECT 2",
    "SELECT 1; DROP TABLE prices",
    "DROP TABLE prices",
    "DELETE FROM prices",
    "INSERT INTO prices SELECT * FROM prices",
    "CREATE TABLE x AS SELECT 1",
    "COPY prices TO '/tmp/out.csv'",
    "EXPORT DATABASE '/tmp/exported'",
    "ATTACH '/tmp/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET lock_configuration",
    "PRAGMA database_list",
    "CALL pragma_version()",
    "",
    "   ",
]

FAIL_WHEN_RUN = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM secret_frame",  # a Python variable: replacement scans are off
]


@pytest.mark.parametrize("sql", REFUSED_BEFORE_RUNNING)
def test_refused_statements(sample_data_dir, sql):
    with pytest.raises(gate.Refused):
        gate.run_user_sql(sql)


@pytest.mark.parametrize("sql", FAIL_WHEN_RUN)
def test_file_and_variable_access_fails(sample_data_dir, sql):
    import pandas as pd

    secret_frame = pd.DataFrame({"secret": ["do not read"]})  # noqa: F841 — must stay unreachable
    with pytest.raises(QueryError) as info:
        gate.run_user_sql(sql)
    assert "do not read" not in str(info.value)


def test_select_returns_rows_with_truncation_flag(sample_data_dir):
    result = gate.run_user_sql("SELECT item_name FROM prices ORDER BY price_id", max_rows=10)
    assert len(result.frame) == 10 and result.truncated is True
    small = gate.run_user_sql("SELECT count(*) AS n FROM districts")
    assert small.frame["n"].tolist() == [25] and small.truncated is False


def test_an_answer_is_capped_by_bytes_as_well_as_rows(sample_data_dir):
    # 50 rows of 2 MB strings (100 MB) are within the row cap; the byte cap keeps all but two
    # back, in the child, so they never reach the app process or the browser.
    result = gate.run_user_sql("SELECT i, repeat('가', 700000) AS s FROM range(50) t(i)", max_bytes=5_000_000)
    assert result.cut_by_bytes is True and result.truncated is True and result.max_bytes == 5_000_000
    assert result.frame["i"].tolist() == [0, 1]  # 2.1 MB each in UTF-8: a third would pass 5 MB
    assert sum(len(s.encode("utf-8")) for s in result.frame["s"]) <= 5_000_000
    # 1,000 rows of 100 kB, the row cap's worth: cut by bytes at the same cap
    wide = gate.run_user_sql("SELECT repeat('x', 100000) AS s FROM range(1000)", max_bytes=1_000_000)
    assert len(wide.frame) == 10 and wide.cut_by_bytes is True
    # under the cap, nothing is cut
    small = gate.run_user_sql("SELECT repeat('x', 1000) AS s FROM range(50)", max_bytes=1_000_000)
    assert len(small.frame) == 50 and small.cut_by_bytes is False and small.truncated is False


def test_the_byte_cap_is_a_setting_and_the_cli_says_when_it_cut(sample_data_dir):
    env = {"MAYOR_DATA_DIR": str(sample_data_dir), "PATH": "/usr/bin:/bin", "MAYOR_CONSOLE_MAX_BYTES": "300000"}
    done = run_module("queries", "sql", "SELECT repeat('x', 100000) AS s FROM range(20)", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 + 3  # the header and three rows of 100 kB
    assert "passed 300,000 bytes (MAYOR_CONSOLE_MAX_BYTES); showing the first 3 rows" in done.stderr


def _serving_digest(data_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(datadir.snapshots_dir(data_dir).rglob("*.duckdb")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _queries_cli(data_dir: Path, sql: str) -> subprocess.CompletedProcess:
    # A bare environment: nothing but the data directory reaches the CLI.
    return run_module("queries", "sql", sql, env={"MAYOR_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}, timeout=60)


def test_cli_prints_csv_and_refuses_with_exit_codes(sample_data_dir):
    before = _serving_digest(sample_data_dir)
    ok = _queries_cli(sample_data_dir, "SELECT count(*) AS n FROM districts")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == ["n", "25"]
    refused = _queries_cli(sample_data_dir, "COPY prices TO '/tmp/leak.csv'")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "refused: only SELECT is allowed, not COPY"
    failed = _queries_cli(sample_data_dir, "SELECT * FROM read_csv('/etc/passwd')")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr and "root:" not in failed.stdout
    assert _serving_digest(sample_data_dir) == before
