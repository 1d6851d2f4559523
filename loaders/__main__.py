"""python -m loaders {refresh,sample,sample-complaints,status,import,panel-draw,watch} — see README "Loaders"."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import datadir
import settings
from loaders import feeds
from loaders.store import RunRecord

FAILED = {"failed", "rejected"}


class RedactingFilter(logging.Filter):
    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        if self.key:
            record.msg = settings.redact(record.getMessage(), self.key)
            record.args = ()
        return True


def _setup_logging(verbose: bool, key: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(key))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its debug lines carry URLs


def _line(r: RunRecord) -> str:
    detail = f"{r.rows_loaded} rows loaded, {r.rows_quarantined} quarantined"
    if r.as_of:
        detail += f", as of {r.as_of}"
    text = f"{r.feed}: {r.outcome}"
    if r.outcome in ("ok", "unchanged"):
        text += f" ({r.source}; {detail})"
    if r.api_code and r.api_code != "INFO-000" and r.outcome not in ("ok", "unchanged"):
        text += f" [{r.api_code}]"
    if r.message and r.outcome not in ("ok",):
        text += f" — {r.message}"
    return text


def _report(records: list[RunRecord]) -> int:
    for r in records:
        print(_line(r))
    return 1 if any(r.outcome in FAILED for r in records) else 0


def cmd_refresh(args, cfg) -> int:
    names = args.feeds or list(feeds.FEEDS)
    unknown = [n for n in names if n not in feeds.FEEDS]
    if unknown:
        print(f"unknown feed(s): {', '.join(unknown)}; known: {', '.join(feeds.FEEDS)}", file=sys.stderr)
        return 2
    return _report([feeds.refresh(feeds.FEEDS[n], cfg) for n in names])


def cmd_sample(args, cfg) -> int:
    if args.if_empty and datadir.published_feeds(cfg.data_dir):
        print("warehouse already published; leaving it as it is")
        return 0
    feeds.ensure_sample(cfg)
    return _report([feeds.refresh(feeds.FEEDS[n], cfg, use_sample=True) for n in feeds.SAMPLE_FEEDS])


def cmd_import(args, cfg) -> int:
    feed = feeds.FEEDS.get(args.feed)
    if feed is None or feed.kind not in feeds.IMPORTABLE_KINDS:
        importable = [f.name for f in feeds.FEEDS.values() if f.kind in feeds.IMPORTABLE_KINDS]
        print(f"cannot import into {args.feed!r}; importable feeds: {', '.join(importable)}", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    return _report([feeds.import_file(feed, cfg, path)])


def cmd_panel_draw(args, cfg) -> int:
    from loaders import participation_sample

    seed = cfg.panel_seed if args.seed is None else args.seed
    size = cfg.panel_size if args.size is None else args.size
    if seed < 0 or size < 1 or args.round < 1:
        print("--seed must be 0 or more, --size and --round 1 or more", file=sys.stderr)
        return 2
    pool = Path(args.pool) if args.pool else None
    if pool is not None and not pool.is_file():
        print(f"no such file: {pool}", file=sys.stderr)
        return 2
    feed = feeds.FEEDS["panel_draw"]
    record, members, summary = participation_sample.draw(
        cfg, pool, lambda p: feeds.read_file_rows(feed, p), seed=seed, size=size, draw_round=args.round
    )
    status = sys.stderr if args.out == "-" else sys.stdout  # stdout may carry the panel itself
    print(_line(record), file=status)
    if members is None:
        return 1
    if summary["seats_short"]:
        print(
            f"warning: {summary['seats_short']} seats unfilled in {summary['strata_short']} strata "
            "(fewer applicants than the quota)",
            file=sys.stderr,
        )
    text = members.to_csv(index=False, lineterminator="\n")
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, "utf-8")
    print(f"seed {seed}: {len(members)} members drawn, fingerprint {summary['drawn_sha256']}", file=status)
    return 0


def cmd_sample_complaints(args, cfg) -> int:
    from datetime import date

    from loaders import complaints, complaints_sample

    if not 1 <= args.rows <= complaints_sample.MAX_ROWS:
        print(f"--rows must be between 1 and {complaints_sample.MAX_ROWS:,}", file=sys.stderr)
        return 2
    end = date.fromisoformat(cfg.sample_end_date)
    if args.out:
        path = complaints_sample.write(Path(args.out), args.rows, end, args.format)
        print(f"{path}: {args.rows:,} complaints ({complaints_sample.span_days(args.rows)} days to {end})")
        return 0
    path = datadir.sample_dir(cfg.data_dir) / f"complaints-{args.rows}.parquet"
    complaints_sample.write(path, args.rows, end)
    try:
        return _report([complaints.run_import(cfg, path, source="sample", is_sample=True)])
    finally:
        path.unlink(missing_ok=True)


def cmd_status(args, cfg) -> int:
    import queries  # the read side answers status, so the CLI and the Data page agree

    frame = queries.run("feed_status")
    if frame.empty:
        print("nothing loaded yet: run `python -m loaders sample` or `python -m loaders refresh`")
        return 1
    cols = ["feed", "state", "last_success", "as_of", "row_count", "is_sample", "last_outcome", "last_message"]
    print(frame[cols].to_string(index=False))
    return 0


def cmd_watch(args, cfg) -> int:
    from loaders import watch

    logging.getLogger("loaders.watch").setLevel(logging.INFO)  # one line per run, even without -v
    try:
        return watch.main(cfg, args.feeds, force_replay=args.replay, once=args.once, parent_pid=args.exit_with_parent)
    except watch.WatchError as e:
        print(str(e), file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log each request (never the key)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("refresh", help="live when SEOUL_API_KEY is set, otherwise the bundled sample")
    p.add_argument("feeds", nargs="*", help=f"feeds to refresh (default: all of {', '.join(feeds.FEEDS)})")
    p.set_defaults(func=cmd_refresh)
    p = sub.add_parser("sample", help="rebuild everything from the bundled sample")
    p.add_argument("--if-empty", action="store_true", help="only when nothing is published yet")
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("sample-complaints", help="generate N sample complaints: write a file, or load them")
    p.add_argument("--rows", type=int, required=True, help="how many (up to 16,000,000)")
    p.add_argument("--out", default=None, help="write this file (.csv, .parquet, .xlsx) instead of loading")
    p.add_argument("--format", choices=["csv", "cp949", "parquet", "xlsx"], default=None, help="default: by suffix")
    p.set_defaults(func=cmd_sample_complaints)
    sub.add_parser("status", help="per feed: state, last success, as-of, rows").set_defaults(func=cmd_status)
    p = sub.add_parser("import", help="load a local file (wire-format JSON/XML, or CSV)")
    p.add_argument("feed")
    p.add_argument("file")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("panel-draw", help="draw the citizen panel: stratified by district, gender and age band")
    p.add_argument("--seed", type=int, default=None, help="default: MAYOR_PANEL_SEED")
    p.add_argument("--size", type=int, default=None, help="seats (default: MAYOR_PANEL_SIZE)")
    p.add_argument("--pool", default=None, help="applicants CSV (default: the sample pool)")
    p.add_argument("--round", type=int, default=1, help="draw round written into the panel (default 1)")
    p.add_argument("--out", default="-", help="where to write the panel CSV (default: stdout)")
    p.set_defaults(func=cmd_panel_draw)
    p = sub.add_parser("watch", help="refresh each feed on its cadence; without a key, replay the sample's day")
    p.add_argument("feeds", nargs="*", help="only these feeds (default: every feed with a cadence)")
    p.add_argument("--replay", action="store_true", help="replay the sample's recorded day (even with a key)")
    p.add_argument("--once", action="store_true", help="run each due feed once and exit (replay: one step)")
    p.add_argument(
        "--exit-with-parent", type=int, default=None, metavar="PID", help="stop when PID is no longer the parent"
    )
    p.set_defaults(func=cmd_watch)
    args = parser.parse_args(argv)
    try:
        cfg = settings.get()
    except settings.SettingError as e:
        print(f"setting error: {e}", file=sys.stderr)
        return 2
    _setup_logging(args.verbose, cfg.api_key)
    return args.func(args, cfg)


if __name__ == "__main__":
    sys.exit(main())
