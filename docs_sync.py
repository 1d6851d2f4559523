"""Regenerate the README's settings table and table reference from settings.py and
data/dictionary.toml, and docs/faults.md's table from the fault corpus (`make docs`). Tests fail
when the README or docs/faults.md drift from their sources."""

import re
import tomllib
from pathlib import Path

import settings
from queries import warehouse

ROOT = Path(__file__).resolve().parent
README = ROOT / "README.md"
FAULTS_DOC = ROOT / "docs" / "faults.md"
FAULTS_MANIFEST = ROOT / "tests" / "faults" / "manifest.toml"
PAGE_STATES = {"ok": "정상 (ok)", "degraded": "일부 오류 (degraded)", "error": "오류 (error)", "no_data": "자료 없음"}


def _between(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def sync(text: str) -> str:
    for name, body in (("settings", settings.markdown_table()), ("tables", warehouse.dictionary_markdown())):
        text = _between(text, name, body)
    return text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _served(case: dict) -> str:
    if "file" in case:
        return f"import `{case['file']}`"
    if case.get("run") == "kill":
        return f"`{case['serve'][0]['body']}`; loader killed at {case['kill_at']}"
    parts = []
    for entry in case.get("serve", []):
        action = entry.get("action")
        if action == "redirect":
            what = f"{entry.get('status', 302)} to another host"
        elif action in ("reset", "hang"):
            what = {"reset": "connection reset", "hang": "no answer"}[action]
        else:
            body = entry.get("body", "good")
            what = "the good rows" if body == "good" else f"`{body}`"
            if entry.get("status", 200) != 200:
                what = f"HTTP {entry['status']}, {what}"
            for header, value in entry.get("headers", {}).items():
                what += f", {header}: {value}"
            if action == "drip":
                what += ", dripped a byte every 0.2 s"
            if entry.get("no_length"):
                what += ", no Content-Length"
            if entry.get("total_delta"):
                what += f", count {entry['total_delta']:+d}"
            if entry.get("single_row_object"):
                what += ", a one-row page as an object"
            if entry.get("hold"):
                what += ", held until the other run ends"
        if "start" in entry:
            what = f"page from row {entry['start']}: {what}"
        if "item" in entry:
            what = f"{entry.get('service', 'the call')} for {entry['item']}: {what}"
        elif "service" in entry:
            what = f"every {entry['service']} call: {what}"
        if "times" in entry:
            what += f" (×{entry['times']})"
        parts.append(what)
    text = "; then ".join(parts)
    if case.get("run") == "concurrent":
        text += "; two refreshes started together"
    return text


def _outcome(case: dict) -> str:
    e = case["expect"]
    text = f"**{e['outcome']}**"
    detail = [x for x in (e.get("failure_kind"), e.get("api_code")) if x and x != "INFO-000"]
    if detail:
        text += f" ({', '.join(detail)})"
    if e.get("message"):
        text += f" “{e['message']}”"
    if e.get("quarantined"):
        text += f"; {e['quarantined']} quarantined"
        if e.get("quarantine_reason"):
            text += f" (“{e['quarantine_reason']}”)"
    for key, value in e.get("extra", {}).items():
        text += f"; {key}: " + ", ".join(f"{v} {k}" for k, v in value.items())
    if "requests" in e:
        text += f"; {e['requests']} request{'s' if e['requests'] != 1 else ''}"
    if "elapsed_min_s" in e:
        text += f"; waits at least {e['elapsed_min_s']} s (the cap)"
    if "elapsed_max_s" in e:
        text += f"; done within {e['elapsed_max_s']} s"
    if e.get("interrupted"):
        text += "; the next run clears the half-written version and records it"
    if case.get("xfail"):
        text += f" — **not yet**: {case['xfail']}"
    return text


def _data(case: dict) -> str:
    e = case["expect"]
    if e["outcome"] == "ok":
        text = "new version" + (f", {e['rows_loaded']} rows" if "rows_loaded" in e else "")
    elif case.get("run") == "concurrent":
        text = "one new version; no torn file or log line"
    elif e["outcome"] == "unchanged":
        text = "identical rows: nothing republished"
    else:
        text = "last good version keeps serving"
    return f"{text}; {case['note']}" if case.get("note") else text


def faults_markdown(manifest: dict | None = None) -> str:
    if manifest is None:
        manifest = tomllib.loads(FAULTS_MANIFEST.read_text("utf-8"))
    lines = [
        "| # | fault | feed | served | run log (`ops/runs.jsonl`) | data | Data page |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, case in enumerate(manifest["fault"], start=1):
        env = ", ".join(f"`{k}={v}`" for k, v in case.get("env", {}).items())
        cells = [
            str(n),
            f"`{case['id']}`: {case['fault']}" + (f" ({env})" if env else ""),
            case["feed"],
            _served(case),
            _outcome(case),
            _data(case),
            PAGE_STATES[case["expect"]["page"]],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def sync_faults(text: str) -> str:
    return _between(text, "faults", faults_markdown())


if __name__ == "__main__":
    README.write_text(sync(README.read_text("utf-8")), "utf-8")
    FAULTS_DOC.write_text(sync_faults(FAULTS_DOC.read_text("utf-8")), "utf-8")
