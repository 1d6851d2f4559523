"""House rules that keep the project honest: settings documented, strings complete, layers kept,
hardened Streamlit config, every published column in the data dictionary."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest

import datadir
import settings
from queries import warehouse
from ui import i18n, navigation

READ_SECRETS_FILE = settings._secrets_file_value  # taken before conftest blanks it per test

PROJECT = Path(__file__).resolve().parents[1]
README = (PROJECT / "README.md").read_text("utf-8")


def test_readme_opens_with_the_two_commands():
    code_lines = [ln.strip() for ln in README.split("```")[1].splitlines() if ln.strip()]
    assert code_lines == ["make run", "make test"]


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented_with_help(setting):
    assert setting.help and len(setting.help) > 20
    assert f"`{setting.env}`" in README, f"{setting.env} missing from the README settings table"


def test_api_key_comes_from_secrets_file_when_env_is_empty(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "_secrets_file_value", lambda env: "FROM-SECRETS" if env == "SEOUL_API_KEY" else "")
    assert settings.get().api_key == "FROM-SECRETS"
    monkeypatch.setenv("SEOUL_API_KEY", "FROM-ENV")
    assert settings.get().api_key == "FROM-ENV"


def test_the_key_comes_from_the_secrets_file_and_a_changed_file_is_read_again(tmp_path, monkeypatch):
    """settings.get() runs many times per page run, so the secrets file is parsed only when it
    changes; a changed file must still be seen at once, and the environment still wins."""
    # The real reader (conftest blanks it for every test, so that no developer's key leaks in),
    # pointed at a project folder of this test's own.
    monkeypatch.setattr(settings, "_secrets_file_value", READ_SECRETS_FILE)
    monkeypatch.setattr(settings, "PROJECT_DIR", tmp_path)
    monkeypatch.delenv("SEOUL_API_KEY", raising=False)
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    assert settings.get().api_key == ""
    secrets.parent.mkdir()
    secrets.write_text('SEOUL_API_KEY = "first-key"\n', "utf-8")
    assert settings.get().api_key == "first-key"
    secrets.write_text('SEOUL_API_KEY = "the-second-key"\n', "utf-8")
    assert settings.get().api_key == "the-second-key"
    monkeypatch.setenv("SEOUL_API_KEY", "from-the-environment")
    assert settings.get().api_key == "from-the-environment"
    monkeypatch.delenv("SEOUL_API_KEY")
    secrets.unlink()
    assert settings.get().api_key == ""


def test_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("MAYOR_RETRY_ATTEMPTS", "many")
    with pytest.raises(settings.SettingError, match="MAYOR_RETRY_ATTEMPTS"):
        settings.get()


def test_redact_removes_the_key():
    assert settings.redact("GET http://h/SECRETKEY/json/x", "SECRETKEY") == "GET http://h/***/json/x"


def _keys(tree: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in tree.items():
        out |= _keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}"}
    return out


def test_both_languages_have_the_same_strings():
    ko, en = i18n.strings("ko"), i18n.strings("en")
    en_keys = {k for k in _keys(en) if not k.startswith("items.")}
    assert _keys(ko) == en_keys
    assert all(v.strip() for v in _keys(ko))


def test_every_string_key_used_in_code_exists():
    known = _keys(i18n.strings("ko"))
    used = set()
    for path in [PROJECT / "app.py", *PROJECT.glob("pages/*.py"), *PROJECT.glob("ui/*.py")]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text("utf-8")))
    used |= {p.title_key for p in navigation.PAGES}
    assert used, "the scan should find string keys"
    assert used <= known, used - known


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PROJECT.glob("pages/*.py")), ids=lambda p: p.name)
def test_pages_only_render(path):
    assert not _imports(path) & {"duckdb", "requests", "loaders", "queries"}
    assert not re.search(r"\b(SELECT|INSERT|CREATE)\s", path.read_text("utf-8"))
    assert "unsafe_allow_html" not in path.read_text("utf-8")


def test_url_paths_differ_from_file_stems():
    # A direct link to a url_path equal to its file's stem skips app.py's frame (see ui/navigation.py).
    for page in navigation.PAGES:
        assert page.url_path != Path(page.path).stem, page


def test_every_page_file_is_in_the_navigation():
    listed = {p.path for p in navigation.PAGES}
    on_disk = {f"pages/{p.name}" for p in PROJECT.glob("pages/*.py")}
    assert listed == on_disk


def test_streamlit_config_is_hardened():
    with open(PROJECT / ".streamlit" / "config.toml", "rb") as f:
        cfg = tomllib.load(f)
    assert cfg["client"]["showErrorDetails"] == "none"
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["address"] == "127.0.0.1"


def test_no_full_garbage_collection_after_every_run():
    """Under load a full collection after each run held the GIL for 37% of the time and made one
    process 3–5× slower at 50 sessions (README, "Load"): it stays off, and serve.py freezes the
    libraries' objects out of the way of Python's own collections."""
    with open(PROJECT / ".streamlit" / "config.toml", "rb") as f:
        cfg = tomllib.load(f)
    assert cfg["runner"]["postScriptGC"] is False
    # As Streamlit itself reads it in the project folder (the option is hidden from `config show`).
    read = "from streamlit import config; print(config.get_option('runner.postScriptGC'))"
    done = subprocess.run([sys.executable, "-c", read], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr[-2000:]


def test_every_published_column_is_in_the_dictionary(sample_data_dir):
    documented = warehouse.dictionary()["tables"]
    for feed, pointer in datadir.published_feeds(sample_data_dir).items():
        path = datadir.feed_dir(sample_data_dir, feed) / pointer["file"]
        con = duckdb.connect(str(path), read_only=True)
        for table in pointer["rows"]:
            cols = con.execute(f'DESCRIBE "{table}"').fetchall()
            # An ENUM column is documented as ENUM; its values belong to the published version.
            published = {c[0]: "ENUM" if c[1].startswith("ENUM(") else c[1] for c in cols}
            declared = {c: ty for c, (ty, _m) in documented[table]["columns"].items()}
            assert published == declared, f"{feed}.{table} differs from data/dictionary.toml"
        con.close()


def test_every_dictionary_table_is_in_the_readme():
    for table in warehouse.dictionary()["tables"]:
        assert f"`{table}`" in README, table


def test_readme_table_reference_matches_the_dictionary():
    assert warehouse.dictionary_markdown() in README


def test_readme_settings_table_matches_settings():
    assert settings.markdown_table() in README


def _version(text: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:4])


def test_streamlit_caps_messages_and_uploads():
    with open(PROJECT / ".streamlit" / "config.toml", "rb") as f:
        server = tomllib.load(f)["server"]
    assert server["maxUploadSize"] == 1
    assert 0 < server["maxMessageSize"] <= 50


def test_pinned_versions_carry_the_advisory_fixes():
    with open(PROJECT / "data" / "advisories.toml", "rb") as f:
        minimum = tomllib.load(f)["minimum"]
    pins = {}
    for line in (PROJECT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    checked = 0
    for package, (least, advisory) in minimum.items():
        if package in pins:
            checked += 1
            assert _version(pins[package]) >= _version(least), f"{package}=={pins[package]}: {advisory}"
    assert checked >= 6, "the table should cover the pinned dependencies"


def test_serve_freezes_the_libraries_before_the_server_starts():
    """serve.py moves the libraries' objects out of the collector's sight, so Streamlit's collection
    after every run walks only what runs create (README, "Load")."""
    code = (
        "import gc, serve; frozen = serve.freeze_long_lived(); "
        "import pandas, plotly.graph_objects, pydeck, duckdb; "
        "print(frozen, gc.get_freeze_count(), len(gc.get_objects()))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, count, tracked = (int(x) for x in done.stdout.split())
    assert frozen == count > 50_000  # pandas, plotly, pydeck and DuckDB make well over 100,000
    assert tracked < frozen // 10  # what is left to walk after every run
