"""A local HTTP server on 127.0.0.1 that answers the way a misbehaving feed does, for the fault
corpus (tests/faults/manifest.toml).

It speaks at the socket level where the faults live (a reset, an answer that never comes, a body
dripped a byte at a time), so it is a small threaded `http.server` rather than a WSGI app. Each
request is answered by the first matching entry of the case's `serve` list:

    service     only requests for this service (TrafficInfo or LinkInfo of the traffic feed)
    item        only requests for this item (a hotspot's name, a road link's id: one call of a fan-out)
    status, headers, content_type   the status line and headers
    body        "good" (the baseline, windowed like the API), a file under tests/faults/, or "" (none)
    start       only requests for the window starting at this row (one page of a paged fetch)
    times       only this many times, then the next entry answers
    hold        wait before answering until the test calls `srv.release.set()`
    action      reset (RST after reading the request) | hang (never answer) | drip (a byte at a time)
                | redirect (302 to the other host, the key in the path)
    template    substitute {path} in the body (a server that echoes the request, key included)
    no_length   send no Content-Length (the body ends when the connection closes)
    total_delta add this to list_total_count of a "good" page
    single_row_object  a "good" page of one row carries it as an object, not a list of one

It stops by itself: a hanging or dripping answer waits on the server's stop event, and every wait
is bounded, so no thread outlives the test by more than a moment.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

FAULTS = Path(__file__).resolve().parent / "faults"
MAX_WAIT_S = 15  # no answer ever waits longer than this, whatever the manifest says


class Baseline:
    """The good answer of a feed: rows windowed like the Seoul API, or a whole document, or one
    answer per item for feeds asked one item per call (`items[(service, item)]`, the body as it
    arrives). `top_key` and `count_is_page` describe bikeList: its rows under `rentBikeStatus`, its
    count that of the page alone."""

    def __init__(
        self,
        service: str | None,
        rows: list[dict] | None = None,
        raw: bytes | None = None,
        items: dict[tuple[str, str], bytes] | None = None,
        top_key: str | None = None,
        count_is_page: bool = False,
    ):
        self.service = service
        self.rows = rows
        self.raw = raw
        self.items = items
        self.top_key = top_key or service
        self.count_is_page = count_is_page

    def page(self, path: str, total_delta: int = 0, single_row_object: bool = False) -> bytes:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if self.items is not None:
            answer = self.items.get((parts[2], parts[5] if len(parts) > 5 else ""))
            if answer is not None:
                return answer
            if parts[1] == "xml":
                return "<RESULT><CODE>INFO-200</CODE><MESSAGE>해당하는 데이터가 없습니다.</MESSAGE></RESULT>".encode()
            return json.dumps({"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}).encode()
        if self.rows is None:
            return self.raw or b""
        start, end = int(parts[3]), int(parts[4])
        window = self.rows[start - 1 : end]
        if not window:
            doc = {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
        else:
            count = len(window) if self.count_is_page else len(self.rows)
            doc = {
                self.top_key: {
                    "list_total_count": count + total_delta,
                    "RESULT": {"CODE": "INFO-000", "MESSAGE": "정상 처리되었습니다"},
                    "row": window[0] if single_row_object and len(window) == 1 else window,
                }
            }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _window_start(path: str) -> int | None:
    parts = path.strip("/").split("/")
    return int(parts[3]) if len(parts) >= 5 and parts[3].isdigit() else None


def _service_and_item(path: str) -> tuple[str, str]:
    parts = [unquote(p) for p in path.strip("/").split("/")]
    return (parts[2] if len(parts) > 2 else ""), (parts[5] if len(parts) > 5 else "")


class FaultServer:
    """`with FaultServer(baseline) as srv:` — answers with the baseline while `srv.serve` is empty,
    else with the fault entries; `srv.requests` lists the paths asked, in order."""

    def __init__(self, baseline: Baseline, other_url: str = ""):
        self.baseline = baseline
        self.other_url = other_url.rstrip("/")
        self.serve: list[dict] = []
        self.requests: list[str] = []
        self._used: dict[int, int] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fault(self, entries: list[dict]) -> None:
        with self._lock:
            self.serve = list(entries)
            self.requests = []
            self._used = {}

    def answer_for(self, path: str) -> dict:
        with self._lock:
            self.requests.append(path)
            start = _window_start(path)
            service, item = _service_and_item(path)
            for i, entry in enumerate(self.serve):
                if "start" in entry and entry["start"] != start:
                    continue
                if "service" in entry and entry["service"] != service:
                    continue
                if "item" in entry and entry["item"] != item:
                    continue
                if "times" in entry and self._used.get(i, 0) >= entry["times"]:
                    continue
                self._used[i] = self._used.get(i, 0) + 1
                return entry
            return {"body": "good"}

    def body(self, entry: dict, path: str) -> bytes:
        name = entry.get("body", "good")
        if name == "good":
            return self.baseline.page(path, entry.get("total_delta", 0), entry.get("single_row_object", False))
        raw = (FAULTS / name).read_bytes() if name else b""
        if entry.get("template"):
            raw = raw.replace(b"{path}", path.encode("utf-8"))
        return raw

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one answer per connection, as the API's front end does

    def log_message(self, format, *args):  # quiet: the test reads srv.requests instead
        pass

    def do_GET(self):
        owner: FaultServer = self.server.owner
        entry = owner.answer_for(self.path)
        if entry.get("hold"):
            owner.release.wait(MAX_WAIT_S)
        action = entry.get("action")
        if action == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if action == "hang":
            owner.stopping.wait(min(entry.get("hang_s", MAX_WAIT_S), MAX_WAIT_S))
            self.close_connection = True
            return
        if action == "redirect":
            self.send_response(entry.get("status", 302))
            self.send_header("Location", owner.other_url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = owner.body(entry, self.path)
        self.send_response(entry.get("status", 200))
        self.send_header("Content-Type", entry.get("content_type", "application/json;charset=UTF-8"))
        for name, value in entry.get("headers", {}).items():
            self.send_header(name, value)
        if action != "drip" and not entry.get("no_length"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if action == "drip":
                self._drip(owner, body, entry)
            else:
                self.wfile.write(body)
        except OSError:
            pass  # the client gave up, which is the point of several faults

    def _drip(self, owner: FaultServer, body: bytes, entry: dict) -> None:
        stop = time.monotonic() + min(entry.get("drip_s", 5), MAX_WAIT_S)
        every = entry.get("drip_every_s", 0.2)
        for i in range(len(body)):
            if time.monotonic() > stop or owner.stopping.is_set():
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            owner.stopping.wait(every)
