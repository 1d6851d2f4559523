"""`python -m loaders` as a subprocess against a local server that speaks the prices feed's wire
format: refresh, failures that keep the last good data, import from files, status, and locking."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import re
import subprocess
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pandas as pd
import pytest
from werkzeug.wrappers import Request, Response

import datadir
from loaders import prices, sample, store
from tests.conftest import run_module

PROJECT = Path(__file__).resolve().parents[1]
KEY = "CLIKEY4567"
SVC = prices.SERVICE
INFO_100_XML = "<RESULT><CODE>INFO-100</CODE><MESSAGE>인증키가 유효하지 않습니다.</MESSAGE></RESULT>"
ZERO_PRICE_REASON = "A_PRICE must be above 0"


@cache
def wire_rows() -> tuple[dict, ...]:
    return tuple(sample.price_rows(date(2026, 11, 19), 3))


def expected_rows() -> list[tuple]:
    """What the published table must hold: every served row except the zero prices."""
    out = []
    for r in wire_rows():
        if r["A_PRICE"] == "0":
            continue
        out.append(
            (
                int(float(r["P_SEQ"])),
                date.fromisoformat(r["P_DATE"]),
                int(float(r["M_SEQ"])),
                r["M_NAME"],
                int(float(r["A_SEQ"])),
                r["A_NAME"],
                int(r["A_PRICE"]),
                r["M_GU_NAME"],
                r["ADD_COL"],
            )
        )
    return sorted(out)


PUBLISHED_SQL = (
    "SELECT price_id, surveyed_on, market_id, market_name, item_id, item_name, price_krw, district_name, remark "
    "FROM prices ORDER BY price_id"
)


def published_rows(data_dir: Path) -> list[tuple]:
    pointer = json.loads(datadir.pointer_path(data_dir, "prices").read_text("utf-8"))
    con = duckdb.connect(str(datadir.feed_dir(data_dir, "prices") / pointer["file"]), read_only=True)
    try:
        return con.execute(PUBLISHED_SQL).fetchall()
    finally:
        con.close()


def serving_state(data_dir: Path) -> tuple[str, str]:
    """current.json as bytes on disk, and a hash of every published row."""
    pointer_text = datadir.pointer_path(data_dir, "prices").read_text("utf-8")
    pointer = json.loads(pointer_text)
    con = duckdb.connect(str(datadir.feed_dir(data_dir, "prices") / pointer["file"]), read_only=True)
    try:
        rows = con.execute("SELECT * FROM prices ORDER BY price_id").fetchall()
    finally:
        con.close()
    return pointer_text, hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()


def run_log(data_dir: Path) -> list[dict]:
    path = datadir.runs_log_path(data_dir)
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


class PricesServer:
    """Answers `/{KEY}/json/ListNecessariesPricesService/{S}/{E}/` like the real API, with a `mode`
    the test switches to simulate failures."""

    def __init__(self, rows):
        self.rows = list(rows)
        self.mode = "ok"
        self.windows: list[tuple[int, int]] = []

    def __call__(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        key, _fmt, service, start_s, end_s = parts[:5]
        start, end = int(start_s), int(end_s)
        self.windows.append((start, end))
        if key != KEY:  # an invalid key answers XML even when JSON was asked
            return Response(INFO_100_XML, content_type="text/xml;charset=UTF-8")
        if service != SVC:
            return self._json({"RESULT": {"CODE": "ERROR-310", "MESSAGE": "해당하는 서비스를 찾을 수 없습니다."}})
        if end - start + 1 > 1000:
            return self._json({"RESULT": {"CODE": "ERROR-336", "MESSAGE": "데이터요청은 한번에 최대 1000건"}})
        if self.mode == "error-500":
            return self._json({"RESULT": {"CODE": "ERROR-500", "MESSAGE": "서버 오류입니다."}})
        window = self.rows[start - 1 : end]
        total = len(self.rows) + (5 if self.mode == "count-mismatch" else 0)
        doc = sample.envelope(SVC, window, total=total)
        if self.mode == "malformed":
            return Response(json.dumps(doc, ensure_ascii=False)[:-500], content_type="application/json")
        if not window:
            return self._json({"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}})
        return self._json(doc)

    @staticmethod
    def _json(doc) -> Response:
        return Response(json.dumps(doc, ensure_ascii=False), content_type="application/json;charset=UTF-8")


@pytest.fixture
def server(httpserver) -> PricesServer:
    srv = PricesServer(wire_rows())
    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(srv)
    return srv


@pytest.fixture
def cli(httpserver):
    def run(*args: str, key: str = KEY) -> subprocess.CompletedProcess:
        env = {**os.environ, "SEOUL_API_BASE_URL": httpserver.url_for("").rstrip("/"), "SEOUL_API_KEY": key}
        return run_module("loaders", *args, env=env, timeout=60)

    return run


def out_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.strip()]


def test_refresh_prices_publishes_the_served_rows(server, cli, httpserver, isolated_env):
    proc = cli("refresh", "prices")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = out_lines(proc)
    assert len(lines) == 1
    assert lines[0].startswith("prices: ok")
    n_zero = sum(r["A_PRICE"] == "0" for r in wire_rows())
    assert n_zero > 0
    assert f"{len(wire_rows()) - n_zero} rows loaded, {n_zero} quarantined" in lines[0]

    assert published_rows(isolated_env) == expected_rows()

    # Windows of at most 1,000 rows, contiguous from 1 to the total, nothing fetched twice.
    windows = server.windows
    assert len(windows) == 4
    assert all(end - start + 1 <= 1000 for start, end in windows)
    assert windows[0][0] == 1
    assert windows[-1][1] == len(wire_rows())
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(windows))
    assert all(req.path.startswith(f"/{KEY}/json/{SVC}/") for req, _ in httpserver.log)

    pointer = datadir.read_pointer(isolated_env, "prices")
    assert pointer["rows"] == {"prices": len(expected_rows())}
    assert (pointer["source"], pointer["is_sample"], pointer["as_of"]) == ("live", False, "2026-11-19")

    record = run_log(isolated_env)[-1]
    assert (record["feed"], record["outcome"], record["api_code"]) == ("prices", "ok", "INFO-000")
    assert (record["rows_received"], record["rows_quarantined"]) == (len(wire_rows()), n_zero)
    assert record["extra"]["requests"] == 4

    q = pd.read_parquet(datadir.quarantine_dir(isolated_env, "prices") / f"{record['run_id']}.parquet")
    assert len(q) == n_zero
    assert all(ZERO_PRICE_REASON in reason for reason in q["reason"])
    zero_positions = [i + 1 for i, r in enumerate(wire_rows()) if r["A_PRICE"] == "0"]
    assert sorted(q["row_number"].tolist()) == zero_positions
    assert KEY not in proc.stdout + proc.stderr


def test_second_identical_refresh_is_unchanged(server, cli, isolated_env):
    assert cli("refresh", "prices").returncode == 0
    before = serving_state(isolated_env)
    proc = cli("refresh", "prices")
    assert proc.returncode == 0
    assert out_lines(proc)[0].startswith("prices: unchanged")
    assert serving_state(isolated_env) == before


FAILURES = [
    # (id, server mode, key the CLI uses, fragment in the one output line, outcome, api_code in the run log)
    ("bad-key-info-100-xml", "ok", "WRONGKEY99", "INFO-100", "failed", "INFO-100"),
    ("persistent-error-500", "error-500", KEY, "ERROR-500", "failed", "ERROR-500"),
    ("malformed-json", "malformed", KEY, "JSON that does not parse", "failed", None),
    ("count-mismatch", "count-mismatch", KEY, "list_total_count", "rejected", "INFO-000"),
]


@pytest.mark.parametrize(
    ("mode", "key", "fragment", "outcome", "api_code"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_failed_refresh_keeps_the_serving_data(server, cli, isolated_env, mode, key, fragment, outcome, api_code):
    good = cli("refresh", "prices")
    assert good.returncode == 0, good.stdout + good.stderr
    before = serving_state(isolated_env)
    files_before = sorted(p.name for p in datadir.feed_dir(isolated_env, "prices").glob("*.duckdb"))

    server.mode = mode
    proc = cli("refresh", "prices", key=key)
    assert proc.returncode != 0
    lines = out_lines(proc)
    assert len(lines) == 1, proc.stdout
    assert lines[0].startswith(f"prices: {outcome}")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr
    assert key not in proc.stdout + proc.stderr

    assert serving_state(isolated_env) == before
    assert published_rows(isolated_env) == expected_rows()
    assert sorted(p.name for p in datadir.feed_dir(isolated_env, "prices").glob("*.duckdb")) == files_before

    records = run_log(isolated_env)
    assert [r["outcome"] for r in records] == ["ok", outcome]
    assert records[-1]["api_code"] == api_code
    assert fragment in records[-1]["message"]
    assert key not in json.dumps(records, ensure_ascii=False)


def test_status_after_a_failure_is_degraded_but_still_serving(server, cli, isolated_env):
    assert cli("refresh", "prices").returncode == 0
    server.mode = "error-500"
    assert cli("refresh", "prices").returncode == 1
    proc = cli("status")
    assert proc.returncode == 0
    row = status_row(proc, "prices")
    assert row[1] == "degraded"
    assert str(len(expected_rows())) in row
    assert "failed" in row


def status_row(proc: subprocess.CompletedProcess, feed: str) -> list[str]:
    rows = [line.split() for line in out_lines(proc)]
    header = rows[0]
    assert header[:2] == ["feed", "state"]
    found = [r for r in rows[1:] if r[0] == feed]
    assert len(found) == 1, proc.stdout
    return found[0]


def test_status_prints_the_prices_feed_ok(server, cli, isolated_env):
    assert cli("refresh", "prices").returncode == 0
    proc = cli("status")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = status_row(proc, "prices")
    assert row[1] == "ok"
    assert "2026-11-19" in row
    assert str(len(expected_rows())) in row
    assert status_row(proc, "boundaries")[1] == "no_data"


def test_import_json_envelope_file(cli, isolated_env, tmp_path, httpserver):
    path = tmp_path / "prices-2026-11.json"
    path.write_text(json.dumps(sample.envelope(SVC, list(wire_rows())), ensure_ascii=False), "utf-8")
    proc = cli("import", "prices", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = out_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("prices: ok")
    assert "file:prices-2026-11.json" in lines[0]
    assert published_rows(isolated_env) == expected_rows()
    assert datadir.read_pointer(isolated_env, "prices")["source"] == "file:prices-2026-11.json"
    assert httpserver.log == []


def test_import_cp949_csv_with_wire_headers(cli, isolated_env, tmp_path):
    rows = [dict(r) for r in wire_rows()]
    rows[0]["ADD_COL"] = "똠양꿍용 수입산"  # 똠 exists in CP949 but not in EUC-KR
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    raw = buf.getvalue().encode("cp949")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    path = tmp_path / "prices.csv"
    path.write_bytes(raw)

    proc = cli("import", "prices", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out_lines(proc)[0].startswith("prices: ok")
    expected = expected_rows()
    first_id = int(float(rows[0]["P_SEQ"]))
    if rows[0]["A_PRICE"] != "0":
        expected = [(*e[:-1], "똠양꿍용 수입산") if e[0] == first_id else e for e in expected]
    got = published_rows(isolated_env)
    assert got == expected
    assert any(r[-1] == "똠양꿍용 수입산" for r in got)


def test_import_refuses_an_error_envelope_and_keeps_serving(cli, isolated_env, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(sample.envelope(SVC, list(wire_rows())), ensure_ascii=False), "utf-8")
    assert cli("import", "prices", str(good)).returncode == 0
    before = serving_state(isolated_env)
    bad = tmp_path / "bad.xml"
    bad.write_text(INFO_100_XML, "utf-8")
    proc = cli("import", "prices", str(bad))
    assert proc.returncode == 1
    lines = out_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("prices: failed") and "INFO-100" in lines[0]
    assert serving_state(isolated_env) == before


def test_concurrent_refresh_of_the_same_feed_is_skipped(server, cli, isolated_env, httpserver):
    with store.feed_lock(isolated_env, "prices"):
        proc = cli("refresh", "prices")
    lines = out_lines(proc)
    assert len(lines) == 1
    assert lines[0].startswith("prices: skipped")
    assert "another refresh of prices is running" in lines[0]
    assert proc.returncode == 0
    assert httpserver.log == []  # the waiting run never fetched
    assert datadir.read_pointer(isolated_env, "prices") is None
    assert run_log(isolated_env)[-1]["outcome"] == "skipped"


def test_echoed_key_in_an_api_message_is_redacted_in_output_and_run_log(httpserver, cli, isolated_env):
    def handler(request: Request) -> Response:
        doc = {"RESULT": {"CODE": "INFO-100", "MESSAGE": f"invalid request {request.path}"}}
        return Response(json.dumps(doc), content_type="application/json")

    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(handler)
    proc = cli("refresh", "prices")
    assert proc.returncode == 1
    assert "INFO-100" in proc.stdout
    assert KEY not in proc.stdout + proc.stderr
    assert "***" in proc.stdout
    assert KEY not in datadir.runs_log_path(isolated_env).read_text("utf-8")
