"""Feeds asked one item per call (citydata per hotspot, TrafficInfo and LinkInfo per road link):
bounded concurrency, one client per worker thread, and every item's answer kept, so one hotspot
that fails or answers INFO-200 is recorded as such while the others still load.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import settings
from loaders.envelope import Envelope, Outcome, describe
from loaders.seoul_api import FetchError, SeoulApi

# Codes that concern the request as a whole (the key, the service, our URL), not the item: every
# other call would fail the same way, so the fan-out stops asking.
ABORT_CODES = {"INFO-100", "ERROR-300", "ERROR-301", "ERROR-310", "ERROR-335"}


@dataclass
class Answer:
    item: str
    outcome: str  # ok | no_data | failed
    code: str | None
    message: str
    envelope: Envelope | None = None
    transient: bool = False


@dataclass
class Fanned:
    answers: list[Answer]
    requests: int
    aborted_code: str | None = None

    def count(self, outcome: str) -> int:
        return sum(a.outcome == outcome for a in self.answers)


def ask_each(api: SeoulApi, service: str, items: list[str], fmt: str = "json", deadline: float | None = None) -> Fanned:
    """Ask `service` once per item (`.../{service}/1/5/{item}`), with MAYOR_FETCH_WORKERS calls in
    flight; answers come back in the order of `items`."""
    cfg = api.cfg
    if deadline is None:
        deadline = time.monotonic() + cfg.fetch_deadline_s
    local = threading.local()
    clients: list[SeoulApi] = []
    lock = threading.Lock()
    abort = threading.Event()
    aborted: list[str] = []

    def client() -> SeoulApi:
        c = getattr(local, "api", None)
        if c is None:
            c = local.api = api.clone()
            with lock:
                clients.append(c)
        return c

    def one(item: str) -> Answer:
        if abort.is_set():
            return Answer(item, "failed", aborted[0], f"not asked: the API refused the request ({aborted[0]})")
        try:
            env = client().get(service, 1, 5, (item,), fmt, deadline)
        except FetchError as e:
            return Answer(
                item, "failed", e.code, settings.redact(e.reason, api.key), transient=e.outcome is Outcome.TRANSIENT
            )
        if env.outcome is Outcome.OK:
            return Answer(item, "ok", env.code, settings.redact(env.message, api.key), env)
        if env.outcome is Outcome.NO_DATA:
            return Answer(item, "no_data", env.code, settings.redact(env.message, api.key))
        if env.code in ABORT_CODES:
            with lock:
                aborted.append(env.code)
            abort.set()
        message = f"{env.code} {describe(env.code)}" + (f" ({env.message})" if env.message else "")
        return Answer(item, "failed", env.code, settings.redact(message, api.key))

    workers = max(1, min(cfg.fetch_workers, len(items) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"fetch-{service}") as pool:
        answers = list(pool.map(one, items))
    return Fanned(answers, sum(c.requests_made for c in clients), aborted[0] if aborted else None)


def raise_if_too_many_failed(fanned: Fanned, service: str, what: str, cfg) -> None:
    """The run fails when the API refused the request as a whole, or when more than
    MAYOR_MAX_FAILED_SHARE of the items failed; otherwise what answered is published."""
    if fanned.aborted_code:
        code = fanned.aborted_code
        outcome = Outcome.PERMANENT
        raise FetchError(outcome, f"{service}: {code} {describe(code)}; stopped asking the other {what}", code)
    failed = [a for a in fanned.answers if a.outcome == "failed"]
    total = len(fanned.answers)
    if total and len(failed) / total > cfg.max_failed_share:
        examples = "; ".join(f"{a.item}: {a.message}" for a in failed[:3])
        outcome = Outcome.TRANSIENT if all(a.transient for a in failed) else Outcome.UNKNOWN
        codes = {a.code for a in failed if a.code}
        raise FetchError(
            outcome,
            f"{service}: {len(failed)} of {total} {what} failed (more than MAYOR_MAX_FAILED_SHARE "
            f"{cfg.max_failed_share:.0%}); e.g. {examples}",
            codes.pop() if len(codes) == 1 else None,
        )
