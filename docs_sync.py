"""Regenerate the README's settings table and table reference from settings.py and
data/dictionary.toml (`make docs`). Tests fail when the README drifts from them."""

import re
from pathlib import Path

import settings
from queries import warehouse

README = Path(__file__).resolve().parent / "README.md"


def sync(text: str) -> str:
    for name, body in (("settings", settings.markdown_table()), ("tables", warehouse.dictionary_markdown())):
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m, b=body: m.group(1) + b + m.group(2), text)
    return text


if __name__ == "__main__":
    README.write_text(sync(README.read_text("utf-8")), "utf-8")
