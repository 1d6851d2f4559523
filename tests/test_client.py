"""SeoulApi against a local server: URL contract, paging, retries, deadlines, body cap, redirects,
count checks, and the key never leaking into errors or logs."""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

import settings
from loaders.envelope import Outcome
from loaders.seoul_api import (
    FetchError,
    FetchResult,
    IncompleteSnapshot,
    SeoulApi,
    TransientFetchError,
    _retry_after_seconds,
)

KEY = "TESTKEY123"
SVC = "ListNecessariesPricesService"


def make_rows(n: int, first: int = 1) -> list[dict]:
    return [{"P_SEQ": f"{i}.0", "A_NAME": f"item {i}", "A_PRICE": str(100 + i)} for i in range(first, first + n)]


def envelope(rows: list[dict], total: int, service: str = SVC) -> dict:
    return {service: {"list_total_count": total, "RESULT": {"CODE": "INFO-000", "MESSAGE": "정상"}, "row": rows}}


def json_response(doc, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False), status=status, headers=headers, content_type="application/json"
    )


def page_path(start: int, end: int, service: str = SVC, key: str = KEY) -> str:
    return f"/{key}/json/{service}/{start}/{end}/"


def requested(httpserver) -> list[str]:
    return [req.path for req, _resp in httpserver.log]


def sequence(*responses):
    """A handler answering with each response in turn, then repeating the last one."""
    calls = []

    def handler(request: Request) -> Response:
        calls.append(request.path)
        r = responses[min(len(calls) - 1, len(responses) - 1)]
        return r if isinstance(r, Response) else r()

    return handler


@pytest.fixture
def api_for(httpserver, monkeypatch):
    """Build a client for the local server after setting any MAYOR_* overrides."""

    def make(**env) -> SeoulApi:
        monkeypatch.setenv("SEOUL_API_KEY", KEY)
        monkeypatch.setenv("SEOUL_API_BASE_URL", httpserver.url_for("").rstrip("/"))
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        cfg = settings.get()
        return SeoulApi(cfg, key=KEY, base_url=httpserver.url_for("").rstrip("/"))

    return make


def test_url_contract(api_for):
    api = api_for()
    base = api.base_url
    assert api.url(SVC, 1, 1000) == f"{base}/{KEY}/json/{SVC}/1/1000/"
    assert api.url(SVC, 1, 1000, params=("", "", "2024-03")) == f"{base}/{KEY}/json/{SVC}/1/1000///2024-03/"
    assert api.url("citydata", 1, 5, params=("광화문·덕수궁",)).endswith(
        "/citydata/1/5/%EA%B4%91%ED%99%94%EB%AC%B8%C2%B7%EB%8D%95%EC%88%98%EA%B6%81/"
    )
    assert api.url("TrafficInfo", 1, 5, fmt="xml").endswith(f"/{KEY}/xml/TrafficInfo/1/5/")


def test_paging_over_three_pages(httpserver, api_for):
    total = 2345
    rows = make_rows(total)
    for start, end in [(1, 1000), (1001, 2000), (2001, 2345)]:
        httpserver.expect_request(page_path(start, end)).respond_with_json(envelope(rows[start - 1 : end], total))
    result = api_for().fetch_all(SVC)
    assert isinstance(result, FetchResult)
    assert requested(httpserver) == [page_path(1, 1000), page_path(1001, 2000), page_path(2001, 2345)]
    assert (result.code, result.total, result.requests, result.outcome) == ("INFO-000", total, 3, Outcome.OK)
    assert [r["P_SEQ"] for r in result.rows] == [f"{i}.0" for i in range(1, total + 1)]
    assert result.rows == rows


def test_single_page_exactly_1000_rows_makes_one_request(httpserver, api_for):
    rows = make_rows(1000)
    httpserver.expect_request(page_path(1, 1000)).respond_with_json(envelope(rows, 1000))
    result = api_for().fetch_all(SVC)
    assert requested(httpserver) == [page_path(1, 1000)]
    assert len(result.rows) == 1000


def test_info_200_is_no_data_with_zero_rows(httpserver, api_for):
    httpserver.expect_request(page_path(1, 1000)).respond_with_json(
        {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
    )
    result = api_for().fetch_all(SVC)
    assert (result.code, result.total, result.rows, result.outcome) == ("INFO-200", 0, [], Outcome.NO_DATA)
    assert len(httpserver.log) == 1


def test_info_100_as_xml_to_a_json_request_is_permanent_and_not_retried(httpserver, api_for):
    xml = "<RESULT><CODE>INFO-100</CODE><MESSAGE>인증키가 유효하지 않습니다.</MESSAGE></RESULT>"
    httpserver.expect_request(page_path(1, 1000)).respond_with_data(xml, content_type="text/xml;charset=UTF-8")
    with pytest.raises(FetchError) as info:
        api_for().fetch_all(SVC)
    assert info.value.outcome is Outcome.PERMANENT
    assert info.value.code == "INFO-100"
    assert "INFO-100" in info.value.reason
    assert not isinstance(info.value, TransientFetchError)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("code", ["ERROR-336", "ERROR-310", "ERROR-300", "ERROR-335"])
def test_permanent_api_codes_are_not_retried(httpserver, api_for, code):
    httpserver.expect_request(page_path(1, 1000)).respond_with_json({"RESULT": {"CODE": code, "MESSAGE": "..."}})
    with pytest.raises(FetchError) as info:
        api_for().fetch_all(SVC)
    assert (info.value.outcome, info.value.code) == (Outcome.PERMANENT, code)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("code", ["ERROR-337", "INFO-300"])
def test_unknown_codes_are_failures_not_success(httpserver, api_for, code):
    httpserver.expect_request(page_path(1, 1000)).respond_with_json({"RESULT": {"CODE": code, "MESSAGE": "?"}})
    with pytest.raises(FetchError) as info:
        api_for().fetch_all(SVC)
    assert (info.value.outcome, info.value.code) == (Outcome.UNKNOWN, code)


def test_error_500_then_success(httpserver, api_for):
    rows = make_rows(3)
    handler = sequence(
        json_response({"RESULT": {"CODE": "ERROR-500", "MESSAGE": "서버 오류입니다."}}),
        json_response(envelope(rows, 3)),
    )
    httpserver.expect_request(page_path(1, 1000)).respond_with_handler(handler)
    result = api_for().fetch_all(SVC)
    assert result.rows == rows
    assert result.requests == 2
    assert requested(httpserver) == [page_path(1, 1000)] * 2


def test_persistent_error_500_gives_up_after_the_configured_attempts(httpserver, api_for):
    httpserver.expect_request(page_path(1, 1000)).respond_with_json({"RESULT": {"CODE": "ERROR-500", "MESSAGE": "x"}})
    with pytest.raises(FetchError) as info:
        api_for(MAYOR_RETRY_ATTEMPTS=2).fetch_all(SVC)
    assert (info.value.outcome, info.value.code) == (Outcome.TRANSIENT, "ERROR-500")
    assert len(httpserver.log) == 2


def test_http_503_then_success(httpserver, api_for):
    rows = make_rows(5)
    handler = sequence(Response("busy", status=503), json_response(envelope(rows, 5)))
    httpserver.expect_request(page_path(1, 1000)).respond_with_handler(handler)
    result = api_for().fetch_all(SVC)
    assert result.rows == rows
    assert len(httpserver.log) == 2
    assert [resp.status_code for _req, resp in httpserver.log] == [503, 200]


def test_http_404_is_permanent(httpserver, api_for):
    httpserver.expect_request(page_path(1, 1000)).respond_with_data("not here", status=404)
    with pytest.raises(FetchError) as info:
        api_for().fetch_all(SVC)
    assert info.value.outcome is Outcome.PERMANENT
    assert "HTTP 404" in info.value.reason
    assert len(httpserver.log) == 1


def test_retry_after_is_honoured_only_up_to_the_cap(httpserver, api_for):
    rows = make_rows(2)
    handler = sequence(
        Response("slow down", status=429, headers={"Retry-After": "3600"}),
        json_response(envelope(rows, 2)),
    )
    httpserver.expect_request(page_path(1, 1000)).respond_with_handler(handler)
    api = api_for(MAYOR_RETRY_AFTER_CAP_S="0.5", MAYOR_RETRY_BACKOFF_MAX_S="0.01")
    started = time.monotonic()
    result = api.fetch_all(SVC)
    elapsed = time.monotonic() - started
    assert result.rows == rows
    assert len(httpserver.log) == 2
    assert 0.45 <= elapsed < 5, f"waited {elapsed:.2f}s; expected the 0.5 s cap, not 3600 s"


def test_html_page_with_200_fails_as_transient_after_the_configured_attempts(httpserver, api_for):
    httpserver.expect_request(page_path(1, 1000)).respond_with_data(
        "<!DOCTYPE html><html><body>서비스 점검중입니다</body></html>", content_type="text/html"
    )
    with pytest.raises(FetchError) as info:
        api_for(MAYOR_RETRY_ATTEMPTS=3).fetch_all(SVC)
    assert info.value.outcome is Outcome.TRANSIENT
    assert "HTML" in info.value.reason
    assert len(httpserver.log) == 3


def test_truncated_json_fails(httpserver, api_for):
    body = json.dumps(envelope(make_rows(50), 50))[:-200]
    httpserver.expect_request(page_path(1, 1000)).respond_with_data(body, content_type="application/json")
    with pytest.raises(FetchError) as info:
        api_for(MAYOR_RETRY_ATTEMPTS=2).fetch_all(SVC)
    assert info.value.outcome is Outcome.TRANSIENT
    assert "does not parse" in info.value.reason
    assert len(httpserver.log) == 2


def test_bom_json_is_ok(httpserver, api_for):
    rows = make_rows(4)
    body = b"\xef\xbb\xbf" + json.dumps(envelope(rows, 4), ensure_ascii=False).encode("utf-8")
    httpserver.expect_request(page_path(1, 1000)).respond_with_data(body, content_type="application/json")
    result = api_for().fetch_all(SVC)
    assert result.rows == rows
    assert result.code == "INFO-000"


def test_count_mismatch_is_an_incomplete_snapshot(httpserver, api_for):
    rows = make_rows(1500)
    httpserver.expect_request(page_path(1, 1000)).respond_with_json(envelope(rows[:1000], 1500))
    httpserver.expect_request(page_path(1001, 1500)).respond_with_json(envelope(rows[1000:1300], 1500))
    with pytest.raises(IncompleteSnapshot) as info:
        api_for().fetch_all(SVC)
    assert "1500" in info.value.reason and "1300" in info.value.reason
    assert requested(httpserver) == [page_path(1, 1000), page_path(1001, 1500)]


def test_later_page_with_no_data_is_an_incomplete_snapshot(httpserver, api_for):
    rows = make_rows(1500)
    httpserver.expect_request(page_path(1, 1000)).respond_with_json(envelope(rows[:1000], 1500))
    httpserver.expect_request(page_path(1001, 1500)).respond_with_json(
        {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
    )
    with pytest.raises(IncompleteSnapshot):
        api_for().fetch_all(SVC)


def test_total_changing_between_pages_is_an_incomplete_snapshot(httpserver, api_for):
    rows = make_rows(1600)
    httpserver.expect_request(page_path(1, 1000)).respond_with_json(envelope(rows[:1000], 1500))
    httpserver.expect_request(page_path(1001, 1500)).respond_with_json(envelope(rows[1000:1500], 1600))
    with pytest.raises(IncompleteSnapshot) as info:
        api_for().fetch_all(SVC)
    assert "1500" in info.value.reason and "1600" in info.value.reason
    assert info.value.outcome is Outcome.UNKNOWN


def _drip(seconds: float = 4.0, step: float = 0.3):
    def gen():
        stop = time.monotonic() + seconds
        yield b"{"
        while time.monotonic() < stop:
            time.sleep(step)
            yield b" "

    return gen


def test_slow_drip_body_is_cut_at_the_request_deadline(httpserver, api_for):
    httpserver.expect_request(page_path(1, 1000)).respond_with_handler(
        lambda request: Response(_drip()(), content_type="application/json")
    )
    api = api_for(MAYOR_REQUEST_DEADLINE_S="1", MAYOR_RETRY_ATTEMPTS="2")
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        api.fetch_all(SVC)
    elapsed = time.monotonic() - started
    assert elapsed < 8, f"a dripping server held the client for {elapsed:.1f}s"
    assert info.value.outcome is Outcome.TRANSIENT
    assert "deadline" in info.value.reason


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_oversized_body_fails_and_names_the_cap(httpserver, api_for, declared):
    body = json.dumps(envelope(make_rows(200), 200)).encode()
    assert len(body) > 5000
    if declared:
        httpserver.expect_request(page_path(1, 1000)).respond_with_data(body, content_type="application/json")
    else:

        def chunks():
            for i in range(0, len(body), 512):
                yield body[i : i + 512]

        httpserver.expect_request(page_path(1, 1000)).respond_with_handler(
            lambda request: Response(chunks(), content_type="application/json")
        )
    with pytest.raises(FetchError) as info:
        api_for(MAYOR_MAX_BODY_BYTES="2000").fetch_all(SVC)
    assert "2000-byte cap" in info.value.reason
    assert info.value.outcome is not Outcome.OK


def test_redirect_to_another_host_is_not_followed(httpserver, api_for):
    other = HTTPServer(host="127.0.0.1", port=0)
    other.expect_request(page_path(1, 1000)).respond_with_json(envelope(make_rows(1), 1))
    other.start()
    try:
        target = other.url_for(page_path(1, 1000))
        httpserver.expect_request(page_path(1, 1000)).respond_with_data("", status=302, headers={"Location": target})
        with pytest.raises(FetchError) as info:
            api_for().fetch_all(SVC)
        assert other.log == []
    finally:
        other.clear()
        other.stop()
    assert info.value.outcome is Outcome.PERMANENT
    assert "302" in info.value.reason
    assert len(httpserver.log) == 1


def test_connection_refused_is_transient(api_for, monkeypatch):
    closed = HTTPServer(host="127.0.0.1", port=0)
    closed.start()
    base = closed.url_for("").rstrip("/")
    closed.stop()
    api = api_for(MAYOR_RETRY_ATTEMPTS="2")
    api.base_url = base
    with pytest.raises(FetchError) as info:
        api.fetch_all(SVC)
    assert info.value.outcome is Outcome.TRANSIENT
    assert "connection failed" in info.value.reason
    assert KEY not in str(info.value)


# Failure cases for the key-leak check: (id, a way to set up the server, extra env)
def _leak_cases():
    def info100(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_data(
            "<RESULT><CODE>INFO-100</CODE><MESSAGE>인증키가 유효하지 않습니다.</MESSAGE></RESULT>"
        )

    def error500(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_json({"RESULT": {"CODE": "ERROR-500", "MESSAGE": "x"}})

    def http503(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_data("down", status=503)

    def html(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_data("<html><body>점검중</body></html>")

    def truncated(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_data(f'{{"{SVC}": {{"list_total_count": 3, "row": [')

    def redirect(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_data(
            "", status=301, headers={"Location": f"http://127.0.0.1:9/{KEY}/json/{SVC}/1/1000/"}
        )

    def oversized(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_data("x" * 5000)

    def mismatch(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_json(envelope(make_rows(1000), 1200))
        hs.expect_request(page_path(1001, 1200)).respond_with_json(envelope(make_rows(10, 1001), 1200))

    def slow(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_handler(lambda r: Response(_drip(2.0)()))

    def echoed_path(hs):
        # Some servers echo the request path in a plain-text error; the path carries the key.
        hs.expect_request(page_path(1, 1000)).respond_with_handler(lambda r: Response(f"{r.path} not found"))

    def echoed_in_message(hs):
        hs.expect_request(page_path(1, 1000)).respond_with_handler(
            lambda r: Response(
                json.dumps({"RESULT": {"CODE": "INFO-100", "MESSAGE": f"invalid key in {r.path}"}}),
                content_type="application/json",
            )
        )

    return [
        ("info-100", info100, {}),
        ("error-500", error500, {}),
        ("http-503", http503, {}),
        ("html", html, {}),
        ("truncated", truncated, {}),
        ("redirect", redirect, {}),
        ("oversized", oversized, {"MAYOR_MAX_BODY_BYTES": "1000"}),
        ("count-mismatch", mismatch, {}),
        ("slow-drip", slow, {"MAYOR_REQUEST_DEADLINE_S": "0.5", "MAYOR_RETRY_ATTEMPTS": "2"}),
        ("echoed-path", echoed_path, {}),
        ("echoed-in-api-message", echoed_in_message, {}),
    ]


LEAK_CASES = _leak_cases()


@pytest.mark.parametrize(
    ("setup", "env"),
    [
        pytest.param(
            c[1],
            c[2],
            id=c[0],
        )
        for c in LEAK_CASES
    ],
)
def test_key_never_appears_in_errors_or_logs(httpserver, api_for, caplog, setup, env):
    setup(httpserver)
    api = api_for(**env)
    caplog.set_level(logging.INFO)
    with pytest.raises(FetchError) as info:
        api.fetch_all(SVC)
    exc = info.value
    assert len(httpserver.log) >= 1
    # The local test server (werkzeug) logs the paths it serves: that is this test's server, not the client.
    client_logs = [r for r in caplog.records if not r.name.startswith("werkzeug")]
    assert any(r.name == "loaders.seoul_api" and SVC in r.getMessage() for r in client_logs)
    texts = [str(exc), exc.reason, repr(exc)]
    texts += [r.getMessage() for r in client_logs]
    texts += [str(r.exc_info[1]) for r in client_logs if r.exc_info]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        texts.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    for text in texts:
        assert KEY not in text


def test_service_without_a_count_is_paged_until_a_short_page(httpserver, api_for):
    rows = [{"stationId": f"ST-{i}", "rackTotCnt": "10"} for i in range(1, 1501)]

    def block(window):
        return {"rentBikeStatus": {"RESULT": {"CODE": "INFO-000", "MESSAGE": "정상"}, "row": window}}

    httpserver.expect_request(page_path(1, 1000, "bikeList")).respond_with_json(block(rows[:1000]))
    httpserver.expect_request(page_path(1001, 2000, "bikeList")).respond_with_json(block(rows[1000:]))
    try:
        result = api_for().fetch_all("bikeList")
    except IncompleteSnapshot:
        result = None  # refusing the snapshot would also be acceptable; publishing 1,000 of 1,500 is not
    if result is not None:
        assert len(result.rows) == 1500
        assert requested(httpserver) == [page_path(1, 1000, "bikeList"), page_path(1001, 2000, "bikeList")]


def _header_drip_server(seconds: float):
    """A raw socket server on 127.0.0.1 that sends a status line, then drips one header byte every
    0.3 s for `seconds` (bounded, so its thread ends)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(seconds + 5)

    def serve():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.0 200 OK\r\nX-Drip: ")
                stop = time.monotonic() + seconds
                while time.monotonic() < stop:
                    conn.sendall(b"a")
                    time.sleep(0.3)
            except OSError:
                pass
        srv.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return srv.getsockname()[1], thread


def test_slow_drip_headers_are_cut_at_the_request_deadline(api_for):
    port, thread = _header_drip_server(6.0)
    api = api_for(MAYOR_REQUEST_DEADLINE_S="1", MAYOR_RETRY_ATTEMPTS="1")
    api.base_url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with pytest.raises(FetchError):
        api.fetch_all(SVC)
    elapsed = time.monotonic() - started
    thread.join(timeout=10)
    assert elapsed < 4, f"a server dripping headers held the client for {elapsed:.1f}s (deadline 1 s)"


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        (None, None, None),
        ("", None, None),
        ("3600", 3600, 3600),
        ("1.5", 1.5, 1.5),
        ("-5", 0, 0),
        ("soon", None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0, 0),  # in the past
    ],
)
def test_retry_after_header_values(value, low, high):
    got = _retry_after_seconds(value)
    if low is None:
        assert got is None
    else:
        assert low <= got <= high


def test_retry_after_http_date_in_the_future():
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    assert 100 <= _retry_after_seconds(when) <= 121
