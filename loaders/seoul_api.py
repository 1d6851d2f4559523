"""Client for Seoul's Open API: URL contract, paging, deadlines, body cap, retries.

`http://openapi.seoul.go.kr:8088/{KEY}/{TYPE}/{SERVICE}/{START}/{END}/{opt1}/...`
The key is part of the path, so no URL is ever logged or put in an error message: logs name the
service and the row window instead, and `settings.redact` scrubs anything else.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

import settings
from loaders.envelope import Envelope, MalformedBody, Outcome, describe, parse

log = logging.getLogger(__name__)

PAGE_SIZE = 1000  # the API refuses more than 1,000 rows per call (ERROR-336)
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


_watch = threading.local()


class _WatchedPoolMixin:
    """Remembers which connection the current request uses, so a watchdog can cut it."""

    def _make_request(self, conn, *args, **kwargs):
        holder = getattr(_watch, "holder", None)
        if holder is not None:
            holder["conn"] = conn
        return super()._make_request(conn, *args, **kwargs)


class _WatchedHTTPPool(_WatchedPoolMixin, urllib3.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPoolMixin, urllib3.HTTPSConnectionPool):
    pass


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def new_session() -> requests.Session:
    """A session whose requests `get_bytes` can cut at their deadline, headers included: a read
    timeout alone does not stop a server that drips a byte at a time."""
    session = requests.Session()
    adapter = _WatchedAdapter(max_retries=0)  # retries are tenacity's job, with our classes
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _cut(holder: dict) -> None:
    holder["cut"] = True
    sock = getattr(holder.get("conn"), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a recv blocked in another thread


class FetchError(Exception):
    """A fetch that produced no usable snapshot. `outcome` says how to treat it."""

    def __init__(self, outcome: Outcome, reason: str, code: str | None = None):
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.code = code


class TransientFetchError(FetchError):
    def __init__(self, reason: str, code: str | None = None, retry_after_s: float | None = None):
        super().__init__(Outcome.TRANSIENT, reason, code)
        self.retry_after_s = retry_after_s


class IncompleteSnapshot(FetchError):
    """Rows received do not add up to the advertised list_total_count: never publish it whole."""

    def __init__(self, reason: str, code: str | None = None):
        super().__init__(Outcome.UNKNOWN, reason, code)


@dataclass
class FetchResult:
    service: str
    code: str
    message: str
    total: int
    rows: list[dict] = field(default_factory=list)
    requests: int = 0

    @property
    def outcome(self) -> Outcome:
        return Outcome.NO_DATA if self.code == "INFO-200" else Outcome.OK


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def get_bytes(session: requests.Session, url: str, label: str, cfg, deadline: float) -> bytes:
    """One GET, its whole body read under a deadline and a size cap. `label` names it in logs."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(Outcome.TRANSIENT, f"{label}: fetch deadline passed")
    request_deadline = time.monotonic() + min(cfg.request_deadline_s, remaining)
    timeout = (cfg.connect_timeout_s, min(cfg.read_timeout_s, remaining))
    log.info("GET %s", label)
    holder: dict = {}
    _watch.holder = holder
    watchdog = threading.Timer(max(0.0, request_deadline - time.monotonic()), _cut, (holder,))
    watchdog.daemon = True
    watchdog.start()
    try:
        body = _get_checked(session, url, label, timeout, request_deadline, cfg.max_body_bytes)
    except TransientFetchError:
        if holder.get("cut"):
            raise TransientFetchError(f"{label}: answer not complete at the request deadline") from None
        raise
    finally:
        watchdog.cancel()
        _watch.holder = None
    if holder.get("cut"):  # a cut body can still look whole to the reader; never trust it
        raise TransientFetchError(f"{label}: answer not complete at the request deadline")
    return body


def _get_checked(session, url: str, label: str, timeout, deadline: float, cap: int) -> bytes:
    try:
        resp = session.get(url, timeout=timeout, stream=True, allow_redirects=False)
    except requests.Timeout:
        raise TransientFetchError(f"{label}: no answer within the timeout") from None
    except requests.ConnectionError as e:
        raise TransientFetchError(f"{label}: connection failed ({type(e).__name__})") from None
    except requests.RequestException as e:
        raise FetchError(Outcome.UNKNOWN, f"{label}: request failed ({type(e).__name__})") from None
    with resp:
        status = resp.status_code
        if 300 <= status < 400:
            # A redirect would carry the key (part of the path) to another host.
            raise FetchError(Outcome.PERMANENT, f"{label}: HTTP {status} redirect refused")
        if status in _TRANSIENT_HTTP or status >= 500:
            raise TransientFetchError(
                f"{label}: HTTP {status}",
                retry_after_s=_retry_after_seconds(resp.headers.get("Retry-After")),
            )
        if status != 200:
            raise FetchError(Outcome.PERMANENT, f"{label}: HTTP {status}")
        return _read_body(resp, deadline, label, cap)


def _read_body(resp: requests.Response, deadline: float, label: str, cap: int) -> bytes:
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(Outcome.UNKNOWN, f"{label}: body of {declared} bytes is over the {cap}-byte cap")
    chunks, size = [], 0
    try:
        while True:
            # read1 returns after one socket read, so a server that drips bytes cannot keep
            # this loop from checking the deadline.
            chunk = resp.raw.read1(65536, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise FetchError(Outcome.UNKNOWN, f"{label}: body over the {cap}-byte cap")
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TransientFetchError(f"{label}: answer still arriving at the deadline (slow body)")
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as e:
        raise TransientFetchError(f"{label}: answer cut off ({type(e).__name__})") from None
    return b"".join(chunks)


def retrying_until(deadline: float, cfg, key: str = "") -> Retrying:
    """Retry transient failures with capped exponential backoff, honouring Retry-After up to a
    cap, and never sleeping past the fetch deadline."""
    backoff = wait_exponential_jitter(initial=0.5, max=cfg.retry_backoff_max_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientFetchError) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, cfg.retry_after_cap_s)
        return backoff(state)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception()
        log.warning("retrying after %s (attempt %d)", settings.redact(str(exc), key), state.attempt_number)

    return Retrying(
        retry=retry_if_exception_type(TransientFetchError),
        stop=stop_after_attempt(max(1, cfg.retry_attempts)) | stop_before_delay(max(0.0, deadline - time.monotonic())),
        wait=wait,
        before_sleep=before_sleep,
        reraise=True,
    )


class SeoulApi:
    def __init__(
        self,
        cfg=None,
        session: requests.Session | None = None,
        key: str | None = None,
        base_url: str | None = None,
        session_factory: Callable[[], requests.Session] | None = None,
    ):
        self.cfg = cfg or settings.get()
        self.base_url = (base_url or self.cfg.api_base_url).rstrip("/")
        self.key = self.cfg.api_key if key is None else key
        self.session_factory = session_factory or (None if session else new_session)
        self.session = session or self.session_factory()
        self.requests_made = 0

    def clone(self) -> SeoulApi:
        """The same client on a session of its own, for another thread: a requests Session is not
        thread-safe. Without a factory (a session handed in) the clone shares that session."""
        factory = self.session_factory
        return SeoulApi(
            self.cfg,
            session=factory() if factory else self.session,
            key=self.key,
            base_url=self.base_url,
            session_factory=factory,
        )

    def url(self, service: str, start: int, end: int, params=(), fmt: str = "json") -> str:
        parts = [quote(self.key, safe=""), fmt, service, str(start), str(end)]
        parts += [quote(str(p), safe="") for p in params]
        return f"{self.base_url}/{'/'.join(parts)}/"

    def _get_once(self, service: str, start: int, end: int, params, fmt: str, deadline: float) -> Envelope:
        label = f"{service} rows {start}-{end}"
        self.requests_made += 1
        body = get_bytes(self.session, self.url(service, start, end, params, fmt), label, self.cfg, deadline)
        try:
            return parse(body, service)
        except MalformedBody as e:
            problem = str(e)
        # Raised outside the except block so no unredacted context rides along: the body may
        # echo the request path, key included.
        raise TransientFetchError(settings.redact(f"{label}: {problem}", self.key))

    def get(
        self, service: str, start: int, end: int, params=(), fmt: str = "json", deadline: float | None = None
    ) -> Envelope:
        """One window of rows, retrying transient failures (HTTP and API-level) with backoff."""
        if deadline is None:
            deadline = time.monotonic() + self.cfg.fetch_deadline_s
        retrying = retrying_until(deadline, self.cfg, self.key)
        for attempt in retrying:
            with attempt:
                env = self._get_once(service, start, end, params, fmt, deadline)
                if env.outcome is Outcome.TRANSIENT:
                    raise TransientFetchError(
                        f"{service} rows {start}-{end}: {env.code} {describe(env.code)}", env.code
                    )
        return env

    def fetch_all(self, service: str, params=(), fmt: str = "json") -> FetchResult:
        """Every row of a service, in windows of 1,000, checked against list_total_count."""
        deadline = time.monotonic() + self.cfg.fetch_deadline_s
        self.requests_made = 0
        first = self.get(service, 1, PAGE_SIZE, params, fmt, deadline)
        self._raise_unless_ok(first, service)
        if first.outcome is Outcome.NO_DATA:
            return FetchResult(service, first.code, first.message, 0, [], self.requests_made)
        if first.total is None:
            return self._fetch_until_short_page(service, params, fmt, deadline, first)
        total = first.total
        rows = list(first.rows)
        start = PAGE_SIZE + 1
        while start <= total and len(rows) < total:
            end = min(start + PAGE_SIZE - 1, total)
            env = self.get(service, start, end, params, fmt, deadline)
            self._raise_unless_ok(env, service)
            if env.outcome is Outcome.NO_DATA:
                break
            if env.total is not None and env.total != total:
                raise IncompleteSnapshot(
                    f"{service}: list_total_count moved from {total} to {env.total} while paging",
                    env.code,
                )
            if not env.rows:
                break
            rows.extend(env.rows)
            start = end + 1
        if len(rows) != total:
            raise IncompleteSnapshot(f"{service}: list_total_count is {total} but {len(rows)} rows arrived", first.code)
        return FetchResult(service, first.code, first.message, total, rows, self.requests_made)

    def fetch_until_short_page(self, service: str, params=(), fmt: str = "json") -> FetchResult:
        """Every row of a feed whose list_total_count counts only the page it sits in (bikeList):
        windows of 1,000 until a page comes back short, whatever the count says."""
        deadline = time.monotonic() + self.cfg.fetch_deadline_s
        self.requests_made = 0
        first = self.get(service, 1, PAGE_SIZE, params, fmt, deadline)
        self._raise_unless_ok(first, service)
        if first.outcome is Outcome.NO_DATA:
            return FetchResult(service, first.code, first.message, 0, [], self.requests_made)
        return self._fetch_until_short_page(service, params, fmt, deadline, first)

    def _fetch_until_short_page(self, service, params, fmt, deadline, first: Envelope) -> FetchResult:
        """Feeds that send no list_total_count (bikeList): page until a page comes back short."""
        rows = list(first.rows)
        page = first
        while len(page.rows) == PAGE_SIZE:
            start = len(rows) + 1
            page = self.get(service, start, start + PAGE_SIZE - 1, params, fmt, deadline)
            self._raise_unless_ok(page, service)
            if page.outcome is Outcome.NO_DATA:
                break
            rows.extend(page.rows)
        return FetchResult(service, first.code, first.message, len(rows), rows, self.requests_made)

    def _raise_unless_ok(self, env: Envelope, service: str) -> None:
        outcome = env.outcome
        if outcome in (Outcome.OK, Outcome.NO_DATA):
            return
        reason = f"{service}: {env.code} {describe(env.code)}"
        if env.message:
            reason += f" ({env.message})"
        raise FetchError(outcome, settings.redact(reason, self.key), env.code)
