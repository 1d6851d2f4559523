"""Every answer shape of Seoul's Open API reduced to one Envelope, and every result code classified
(../shared/seoul-open-api.md section 1)."""

from __future__ import annotations

import json

import pytest

from loaders.envelope import Envelope, MalformedBody, Outcome, classify, describe, parse

SVC = "ListNecessariesPricesService"
OK_RESULT = {"CODE": "INFO-000", "MESSAGE": "정상 처리되었습니다"}
ROW_A = {"P_SEQ": "1660111.0", "A_NAME": "사과(부사, 300g)", "A_PRICE": "2600", "ADD_COL": "국내산"}
ROW_B = {"P_SEQ": "1660110.0", "A_NAME": "배(신고, 600g)", "A_PRICE": "4300", "ADD_COL": ""}
BIKE = {"stationName": "102. 망원역 1번출구 앞", "rackTotCnt": "15", "parkingBikeTotCnt": "7", "stationId": "ST-4"}


def js(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


XML_ROWS = f"""<?xml version="1.0" encoding="UTF-8"?>
<{SVC}>
  <list_total_count>2</list_total_count>
  <RESULT><CODE>INFO-000</CODE><MESSAGE>정상 처리되었습니다</MESSAGE></RESULT>
  <row><P_SEQ>1660111.0</P_SEQ><A_NAME>사과(부사, 300g)</A_NAME><A_PRICE>2600</A_PRICE><ADD_COL/></row>
  <row><P_SEQ>1660110.0</P_SEQ><A_NAME>배(신고, 600g)</A_NAME><A_PRICE></A_PRICE><ADD_COL>국내산</ADD_COL></row>
</{SVC}>""".encode()

XML_ONE_ROW = f"""<{SVC}><list_total_count>1</list_total_count>
<RESULT><CODE>INFO-000</CODE><MESSAGE>정상 처리되었습니다</MESSAGE></RESULT>
<row><P_SEQ>7.0</P_SEQ><M_NAME>망원시장</M_NAME></row></{SVC}>""".encode()

XML_INFO_100 = "<RESULT><CODE>INFO-100</CODE><MESSAGE>인증키가 유효하지 않습니다.</MESSAGE></RESULT>".encode()

# (id, raw body, service asked, expected code, message, total, rows, top_key)
PARSE_CASES = [
    (
        "standard-json",
        js({SVC: {"list_total_count": 2, "RESULT": OK_RESULT, "row": [ROW_A, ROW_B]}}),
        SVC,
        "INFO-000",
        "정상 처리되었습니다",
        2,
        [ROW_A, ROW_B],
        SVC,
    ),
    (
        "top-key-differs-bikeList",
        js({"rentBikeStatus": {"list_total_count": 1, "RESULT": OK_RESULT, "row": [BIKE]}}),
        "bikeList",
        "INFO-000",
        "정상 처리되었습니다",
        1,
        [BIKE],
        "rentBikeStatus",
    ),
    (
        "bare-result-info-200",
        js({"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}),
        SVC,
        "INFO-200",
        "해당하는 데이터가 없습니다.",
        None,
        [],
        None,
    ),
    (
        "dotted-result-keys",
        js({"list_total_count": 1, "RESULT": {"RESULT.CODE": "INFO-000", "RESULT.MESSAGE": "정상 처리되었습니다."}}),
        "citydata",
        "INFO-000",
        "정상 처리되었습니다.",
        1,
        [],
        None,
    ),
    (
        "flat-dotted-error-500",
        js({"RESULT.CODE": "ERROR-500", "RESULT.MESSAGE": "서버 오류입니다."}),
        "citydata",
        "ERROR-500",
        "서버 오류입니다.",
        None,
        [],
        None,
    ),
    (
        "xml-rows-self-closing-is-empty-string",
        XML_ROWS,
        SVC,
        "INFO-000",
        "정상 처리되었습니다",
        2,
        [
            {"P_SEQ": "1660111.0", "A_NAME": "사과(부사, 300g)", "A_PRICE": "2600", "ADD_COL": ""},
            {"P_SEQ": "1660110.0", "A_NAME": "배(신고, 600g)", "A_PRICE": "", "ADD_COL": "국내산"},
        ],
        SVC,
    ),
    (
        "xml-single-row-is-list-of-one",
        XML_ONE_ROW,
        SVC,
        "INFO-000",
        "정상 처리되었습니다",
        1,
        [{"P_SEQ": "7.0", "M_NAME": "망원시장"}],
        SVC,
    ),
    (
        "xml-info-100-without-wrapper",
        XML_INFO_100,
        SVC,
        "INFO-100",
        "인증키가 유효하지 않습니다.",
        None,
        [],
        "RESULT",
    ),
    (
        "xml-info-100-with-declaration",
        b'<?xml version="1.0" encoding="UTF-8"?>\n' + XML_INFO_100,
        SVC,
        "INFO-100",
        "인증키가 유효하지 않습니다.",
        None,
        [],
        "RESULT",
    ),
    (
        "utf8-bom-before-json",
        b"\xef\xbb\xbf" + js({SVC: {"list_total_count": "1", "RESULT": OK_RESULT, "row": [ROW_A]}}),
        SVC,
        "INFO-000",
        "정상 처리되었습니다",
        1,
        [ROW_A],
        SVC,
    ),
    (
        "single-row-object-not-list",
        js({SVC: {"list_total_count": 1, "RESULT": OK_RESULT, "row": ROW_B}}),
        SVC,
        "INFO-000",
        "정상 처리되었습니다",
        1,
        [ROW_B],
        SVC,
    ),
    (
        "wrapped-info-200-without-rows",
        js({SVC: {"list_total_count": 0, "RESULT": {"CODE": "INFO-200", "MESSAGE": "없음"}}}),
        SVC,
        "INFO-200",
        "없음",
        0,
        [],
        SVC,
    ),
    (
        "result-outside-the-data-block",
        js({"RESULT": OK_RESULT, SVC: {"list_total_count": 1, "row": [ROW_A]}}),
        SVC,
        "INFO-000",
        "정상 처리되었습니다",
        1,
        [ROW_A],
        SVC,
    ),
    (
        "surrounding-whitespace",
        b"\r\n  " + js({"RESULT": {"CODE": "ERROR-336", "MESSAGE": "최대 1000건"}}) + b"\n\n",
        SVC,
        "ERROR-336",
        "최대 1000건",
        None,
        [],
        None,
    ),
]


@pytest.mark.parametrize(
    ("raw", "service", "code", "message", "total", "rows", "top_key"),
    [c[1:] for c in PARSE_CASES],
    ids=[c[0] for c in PARSE_CASES],
)
def test_parse_known_envelopes(raw, service, code, message, total, rows, top_key):
    env = parse(raw, service)
    assert isinstance(env, Envelope)
    assert env.code == code
    assert env.message == message
    assert env.total == total
    assert env.rows == rows
    assert env.top_key == top_key
    assert env.outcome is classify(code)


def test_parse_keeps_the_whole_json_document_in_body():
    doc = {"list_total_count": 1, "RESULT": {"RESULT.CODE": "INFO-000"}, "CITYDATA": {"AREA_NM": "강남역"}}
    env = parse(js(doc), "citydata")
    assert env.body == doc
    assert env.body["CITYDATA"]["AREA_NM"] == "강남역"


def test_parse_cp949_error_body():
    raw = "<RESULT><CODE>ERROR-500</CODE><MESSAGE>서버 오류입니다.</MESSAGE></RESULT>".encode("cp949")
    env = parse(raw, SVC)
    assert (env.code, env.message, env.outcome) == ("ERROR-500", "서버 오류입니다.", Outcome.TRANSIENT)


MALFORMED_CASES = [
    ("html-page", "<html><head><title>Maintenance</title></head><body>점검중입니다</body></html>".encode(), "HTML"),
    (
        "html-doctype",
        b"<!DOCTYPE html>\n<html lang='ko'><body><h1>\xec\xa0\x90\xea\xb2\x80</h1></body></html>",
        "HTML",
    ),
    ("html-upper-case", b"  <HTML><BODY>Service Unavailable</BODY></HTML>", "HTML"),
    (
        "truncated-json",
        js({SVC: {"list_total_count": 2, "RESULT": OK_RESULT, "row": [ROW_A, ROW_B]}})[:-30],
        "does not parse",
    ),
    ("truncated-xml", XML_ROWS[:-40], "XML"),
    ("empty-body", b"", "empty"),
    ("whitespace-body", b" \r\n\t ", "empty"),
    ("bom-only", b"\xef\xbb\xbf", "empty"),
    ("garbage-text", b"Service Temporarily Unavailable", "neither JSON nor XML"),
    ("garbage-bytes", b"\xff\xfe\x00\x01\x80\x81", "neither UTF-8 nor CP949"),
    ("json-array-top-level", b"[1, 2, 3]", "not an object"),
    ("json-without-result", js({"foo": {"bar": 1}}), "RESULT"),
    ("row-not-records", js({SVC: {"list_total_count": 2, "RESULT": OK_RESULT, "row": ["a", "b"]}}), "row"),
    ("xml-without-result", f"<{SVC}><row><A>1</A></row></{SVC}>".encode(), "RESULT"),
    ("xml-result-without-code", b"<RESULT><MESSAGE>?</MESSAGE></RESULT>", "CODE"),
]


@pytest.mark.parametrize(("raw", "fragment"), [c[1:] for c in MALFORMED_CASES], ids=[c[0] for c in MALFORMED_CASES])
def test_parse_rejects_malformed_bodies(raw, fragment):
    with pytest.raises(MalformedBody) as info:
        parse(raw, SVC)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_refuses_xml_entity_expansion():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<RESULT><CODE>&b;</CODE></RESULT>"
    )
    with pytest.raises(MalformedBody):
        parse(bomb, SVC)


CLASSIFY_CASES = [
    ("INFO-000", Outcome.OK),
    ("INFO-200", Outcome.NO_DATA),
    ("INFO-100", Outcome.PERMANENT),
    ("ERROR-300", Outcome.PERMANENT),
    ("ERROR-301", Outcome.PERMANENT),
    ("ERROR-310", Outcome.PERMANENT),
    ("ERROR-331", Outcome.PERMANENT),
    ("ERROR-332", Outcome.PERMANENT),
    ("ERROR-333", Outcome.PERMANENT),
    ("ERROR-334", Outcome.PERMANENT),
    ("ERROR-335", Outcome.PERMANENT),
    ("ERROR-336", Outcome.PERMANENT),
    ("ERROR-500", Outcome.TRANSIENT),
    ("ERROR-600", Outcome.TRANSIENT),
    ("ERROR-601", Outcome.TRANSIENT),
    ("ERROR-337", Outcome.UNKNOWN),
    ("INFO-300", Outcome.UNKNOWN),
    ("", Outcome.UNKNOWN),
    ("info-000", Outcome.UNKNOWN),
]


@pytest.mark.parametrize(("code", "outcome"), CLASSIFY_CASES, ids=[c[0] or "empty" for c in CLASSIFY_CASES])
def test_classify(code, outcome):
    assert classify(code) is outcome


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("INFO-100", "API key is not valid"),
        ("ERROR-335", "SEOUL_API_KEY"),
        ("ERROR-336", "1,000 rows"),
        ("ERROR-500", "server error"),
        ("ERROR-337", "unrecognised"),
    ],
)
def test_describe(code, fragment):
    assert fragment in describe(code)


def test_non_ok_codes_never_classify_as_success():
    for code in ("ERROR-337", "INFO-300", "ERROR-999", "OK", "INFO-0000"):
        assert classify(code) not in (Outcome.OK, Outcome.NO_DATA)
