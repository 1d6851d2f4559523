"""Shared fixtures: an isolated data directory per test, a small sample warehouse built once
through the real loaders, and a local HTTP server on 127.0.0.1 (pytest-httpserver)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.components.v2 import manifest_scanner

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import settings  # noqa: E402
from queries import warehouse  # noqa: E402
from tests.city_fixture import city_data_dir, city_source  # noqa: E402, F401  (the real-time city warehouse)

SMALL_SAMPLE_WEEKS = 8

# Every new AppTest scans the metadata of every installed package for Streamlit components
# (0.7 s each, most of a small page's run); the installed packages do not change during a session.
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)

# Fast, bounded retries for every test; a test that wants others sets its own.
TEST_ENV = {
    "MAYOR_RETRY_ATTEMPTS": "3",
    "MAYOR_RETRY_BACKOFF_MAX_S": "0.05",
    "MAYOR_RETRY_AFTER_CAP_S": "0.2",
    "MAYOR_READ_TIMEOUT_S": "3",
    "MAYOR_CONNECT_TIMEOUT_S": "2",
    "MAYOR_REQUEST_DEADLINE_S": "5",
    "MAYOR_FETCH_DEADLINE_S": "20",
    "MAYOR_SNAPSHOT_CHECK_S": "0",
    "MAYOR_SAMPLE_WEEKS": str(SMALL_SAMPLE_WEEKS),
    "MAYOR_SAMPLE_COMPLAINT_ROWS": "40000",  # a year of complaints, small enough to copy per test
}


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """Every test gets its own data directory and no API key (never the real service)."""
    for key in list(os.environ):
        if key.startswith(("MAYOR_", "SEOUL_")):
            monkeypatch.delenv(key)
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("MAYOR_DATA_DIR", str(data_dir))
    monkeypatch.setattr(settings, "_secrets_file_value", lambda env: "")
    warehouse._warehouses.clear()
    yield data_dir
    warehouse._warehouses.clear()


def build_sample(data_dir: Path) -> None:
    from loaders.__main__ import main

    os.environ["MAYOR_DATA_DIR"] = str(data_dir)
    assert main(["sample"]) == 0


@pytest.fixture(scope="session")
def sample_source(tmp_path_factory) -> Path:
    """A small sample warehouse built once through the real loaders; copy it, never modify it."""
    root = tmp_path_factory.mktemp("sample-warehouse")
    saved = {k: os.environ.get(k) for k in [*TEST_ENV, "MAYOR_DATA_DIR", "SEOUL_API_KEY"]}
    os.environ.update(TEST_ENV)
    os.environ.pop("SEOUL_API_KEY", None)
    try:
        build_sample(root)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root


@pytest.fixture
def fresh_caches():
    """What pages cached, forgotten before and after the test (tests/caches.py). Streamlit's caches
    outlive an AppTest run, and two copies of the sample share a warehouse signature (the caches'
    key): without this, one test would see another's rows. Modules of page tests ask for it with
    `pytestmark = pytest.mark.usefixtures("fresh_caches")`."""
    from tests.caches import clear_page_caches

    clear_page_caches()
    yield
    clear_page_caches()


@pytest.fixture
def sample_data_dir(sample_source, isolated_env) -> Path:
    """This test's data directory, holding a copy of the small sample warehouse."""
    shutil.copytree(sample_source, isolated_env, dirs_exist_ok=True)
    warehouse._warehouses.clear()
    return isolated_env


def run_module(module: str, *args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` in the project folder, as an operator runs it, with `env` as the
    whole environment; output captured as UTF-8 text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT,
        env={**env, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )
