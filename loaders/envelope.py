"""Every answer shape Seoul's Open API is known to give, reduced to one `Envelope`.

See ../shared/seoul-open-api.md section 1: standard JSON under a top key that is not always the
service name, a bare RESULT, dotted RESULT.CODE keys, XML (also when JSON was asked), a UTF-8 BOM,
HTML maintenance pages with status 200, truncated bodies.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException


class Outcome(enum.Enum):
    OK = "ok"
    NO_DATA = "no_data"
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    UNKNOWN = "unknown"


_PERMANENT_CODES = {
    "INFO-100": "the API key is not valid",
    "ERROR-300": "a required value is missing from the request",
    "ERROR-301": "the file type is missing or invalid",
    "ERROR-310": "the service was not found (renamed or withdrawn)",
    "ERROR-331": "the start index is wrong",
    "ERROR-332": "the end index is wrong",
    "ERROR-333": "the start or end index is not an integer",
    "ERROR-334": "the start index is greater than the end index",
    "ERROR-335": "the key is still the public `sample` key (5 rows at most); set SEOUL_API_KEY",
    "ERROR-336": "more than 1,000 rows were asked in one call",
}
_TRANSIENT_CODES = {
    "ERROR-500": "server error at the API",
    "ERROR-600": "database connection error at the API",
    "ERROR-601": "SQL error at the API",
}


def classify(code: str) -> Outcome:
    if code == "INFO-000":
        return Outcome.OK
    if code == "INFO-200":
        return Outcome.NO_DATA
    if code in _PERMANENT_CODES:
        return Outcome.PERMANENT
    if code in _TRANSIENT_CODES:
        return Outcome.TRANSIENT
    return Outcome.UNKNOWN


def describe(code: str) -> str:
    return _PERMANENT_CODES.get(code) or _TRANSIENT_CODES.get(code) or "unrecognised result code"


class MalformedBody(ValueError):
    """The body is not one of the known envelopes (HTML page, truncated JSON, garbage)."""


@dataclass
class Envelope:
    code: str
    message: str
    total: int | None
    rows: list[dict] = field(default_factory=list)
    body: dict = field(default_factory=dict)  # the parsed document, for feeds that are not row lists
    top_key: str | None = None

    @property
    def outcome(self) -> Outcome:
        return classify(self.code)


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Some Seoul exports are CP949; an API body in it is rare but seen on error pages.
        try:
            return raw.decode("cp949")
        except UnicodeDecodeError:
            raise MalformedBody("body is neither UTF-8 nor CP949 text") from None


def parse(raw: bytes, service: str) -> Envelope:
    text = _decode(raw).strip()
    if not text:
        raise MalformedBody("empty body")
    if text[0] == "<":
        head = text[:200].lower()
        if "<html" in head or "<!doctype html" in head:
            raise MalformedBody("an HTML page instead of data (maintenance or error page)")
        return _parse_xml(text, service)
    if text[0] in "{[":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise MalformedBody(f"JSON that does not parse (truncated?): {e.msg} (char {e.pos})") from None
        if not isinstance(doc, dict):
            raise MalformedBody("JSON whose top level is not an object")
        return _parse_json(doc, service)
    raise MalformedBody(f"a body that is neither JSON nor XML (starts with {text[:20]!r})")


def _result_of(obj: dict) -> tuple[str, str] | None:
    result = obj.get("RESULT")
    if isinstance(result, dict):
        code = result.get("CODE", result.get("RESULT.CODE"))
        if code is not None:
            return str(code), str(result.get("MESSAGE", result.get("RESULT.MESSAGE", "")))
    if "RESULT.CODE" in obj:
        return str(obj["RESULT.CODE"]), str(obj.get("RESULT.MESSAGE", ""))
    if "CODE" in obj and isinstance(obj["CODE"], str):
        return obj["CODE"], str(obj.get("MESSAGE", ""))
    return None


def _as_int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _parse_json(doc: dict, service: str) -> Envelope:
    # The data block sits under the service name, or another key (bikeList answers under
    # rentBikeStatus): take the first object value that carries rows or a result.
    candidates = [service] + [k for k in doc if k != service]
    for key in candidates:
        block = doc.get(key)
        if isinstance(block, dict) and ("row" in block or "list_total_count" in block):
            result = _result_of(block) or _result_of(doc)
            if result is None:
                raise MalformedBody(f"no RESULT code in the {key!r} block")
            rows = block.get("row", [])
            if isinstance(rows, dict):
                rows = [rows]
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise MalformedBody(f"'row' under {key!r} is not a list of records")
            return Envelope(
                code=result[0],
                message=result[1],
                total=_as_int(block.get("list_total_count")),
                rows=rows,
                body=doc,
                top_key=key,
            )
    result = _result_of(doc)
    if result is None:
        raise MalformedBody("JSON with neither a data block nor a RESULT code")
    return Envelope(
        code=result[0],
        message=result[1],
        total=_as_int(doc.get("list_total_count")),
        body=doc,
    )


def _element_to_dict(el: Element) -> dict:
    return {child.tag: (child.text or "").strip() for child in el}


def _parse_xml(text: str, service: str) -> Envelope:
    try:
        root = SafeET.fromstring(text)
    except (SafeET.ParseError, DefusedXmlException) as e:
        raise MalformedBody(f"XML that does not parse: {e}") from None
    result_el = root if root.tag == "RESULT" else root.find("RESULT")
    if result_el is None:
        raise MalformedBody(f"XML <{root.tag}> without a RESULT")
    code = (result_el.findtext("CODE") or "").strip()
    if not code:
        raise MalformedBody("XML RESULT without a CODE")
    return Envelope(
        code=code,
        message=(result_el.findtext("MESSAGE") or "").strip(),
        total=_as_int(root.findtext("list_total_count")),
        rows=[_element_to_dict(r) for r in root.findall("row")],
        top_key=root.tag,
    )
