"""How the data fixtures of the fault corpus were derived (run once: `python -m tests.faults.derive`).

The files it writes are the corpus: bodies exactly as they would arrive on the wire. Each variant
is the feed's `good` body with one fault in it, so a case can say what should change and what must
not. Rerun only to change a fixture on purpose, and review the diff.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import unicodedata
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from loaders import airbike_sample, participation_sample, reference, sample
from tests import city_wire

HERE = Path(__file__).resolve().parent
END = date(2026, 11, 19)
PRICES = "ListNecessariesPricesService"
PROPOSALS = "ChunmanFreeSuggestions"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def write_json(path: str, doc, encoding: str = "utf-8", bom: bool = False) -> None:
    raw = json.dumps(doc, ensure_ascii=False, indent=1).encode(encoding)
    (HERE / path).write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)


def write_csv(path: str, rows: list[dict], encoding: str = "utf-8", fields: list[str] | None = None) -> None:
    buf = io.StringIO()
    fields = fields or list(rows[0])
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([list(r.values()) for r in rows])
    (HERE / path).write_bytes(buf.getvalue().encode(encoding))


def variants_of(folder: str, service: str, good: list[dict]):
    """`variant(name, change)`: the good rows with one change (in place, or returning new rows),
    written as `folder/name.json` in the service's envelope (`total`: a list_total_count of its own)."""

    def variant(name: str, change, total: int | None = None) -> None:
        rows = copy.deepcopy(good)
        rows = change(rows) or rows
        write_json(f"{folder}/{name}.json", sample.envelope(service, rows, total=total))

    return variant


def good_prices() -> list[dict]:
    """40 rows of two survey days across markets, districts and items; no zero prices."""
    rows = [r for r in sample.price_rows(END, 2) if r["A_PRICE"] != "0"]
    return [rows[i] for i in range(0, len(rows), len(rows) // 40)][:40]


def good_proposals() -> list[dict]:
    return sample.proposal_rows(END, count=40)


def prices_variants(good: list[dict]) -> None:
    env = sample.envelope
    write_json("prices/good.json", env(PRICES, good))
    write_json("prices/bom.json", env(PRICES, good), bom=True)
    write_json("prices/cp949_body.json", env(PRICES, good), encoding="cp949")
    text = json.dumps(env(PRICES, good), ensure_ascii=False, indent=1)
    (HERE / "prices/truncated.json").write_text(text[: len(text) * 2 // 3], "utf-8")

    xml_rows = "".join("<row>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in r.items()) + "</row>" for r in good)
    (HERE / "prices/xml_rows.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><{PRICES}><list_total_count>{len(good)}</list_total_count>'
        f"<RESULT><CODE>INFO-000</CODE><MESSAGE>정상 처리되었습니다</MESSAGE></RESULT>{xml_rows}</{PRICES}>",
        "utf-8",
    )

    variant = variants_of("prices", PRICES, good)

    def numbers(rows):
        for r in rows:
            r["A_PRICE"] = int(r["A_PRICE"])
            for k in ("P_SEQ", "M_SEQ", "A_SEQ"):
                r[k] = float(r[k])

    variant("numbers_not_strings", numbers)

    def renamed(rows):
        return [
            {("PRDLST_NM" if k == "A_NAME" else "UNIT" if k == "A_UNIT" else k): v for k, v in r.items()} for r in rows
        ]

    variant("renamed_fields", renamed)
    variant("extra_fields", lambda rows: [r | {"A_PRICE_PREV": "1000", "NEW_REMARK": "신규"} for r in rows])
    variant("required_field_absent", lambda rows: [{k: v for k, v in r.items() if k != "A_PRICE"} for r in rows])

    def markers(rows):
        for i, v in zip((2, 9, 20), ("", "-", "점검중"), strict=True):
            rows[i]["A_PRICE"] = v

    variant("missing_markers", markers)

    def out_of_range(rows):
        rows[4]["A_PRICE"] = "-2500"
        rows[11]["A_PRICE"] = "990000000"

    variant("out_of_range", out_of_range)

    def outside(rows):
        rows[6]["M_GU_NAME"], rows[6]["M_GU_CODE"] = "해운대구", "260350"

    variant("district_outside_seoul", outside)

    def duplicate(rows):
        rows[7]["P_SEQ"] = rows[6]["P_SEQ"]

    variant("duplicate_keys", duplicate)

    def mixed_dates(rows):
        for i, r in enumerate(rows):
            iso = r["P_DATE"]
            r["P_DATE"] = [iso, iso.replace("-", ""), iso.replace("-", "."), iso.replace("-", "/")][i % 4]

    variant("mixed_dates", mixed_dates)

    def ambiguous_dates(rows):
        for i, v in zip((1, 5, 9, 13), ("19/11/2026", "11/19/2026", "Nov 19 2026", "1119"), strict=True):
            rows[i]["P_DATE"] = v

    variant("ambiguous_dates", ambiguous_dates)

    def future(rows):
        rows[0]["P_DATE"], rows[0]["P_YEAR_MONTH"] = "2099-01-07", "2099-01"
        rows[3]["P_DATE"], rows[3]["P_YEAR_MONTH"] = "2031-05-01", "2031-05"

    variant("future_dates", future)

    def stale_rows(rows):
        rows[2]["P_DATE"], rows[2]["P_YEAR_MONTH"] = "1999-12-30", "1999-12"
        rows[8]["P_DATE"], rows[8]["P_YEAR_MONTH"] = "1970-01-01", "1970-01"

    variant("stale_rows", stale_rows)

    def stale_snapshot(rows):
        for r in rows:  # the same survey a year earlier: an old snapshot served as current
            r["P_DATE"] = "2025" + r["P_DATE"][4:]
            r["P_YEAR_MONTH"] = "2025" + r["P_YEAR_MONTH"][4:]

    variant("stale_snapshot", stale_snapshot)

    def nfd_text(rows):
        for r in rows:
            r["M_GU_NAME"], r["M_NAME"], r["A_NAME"] = nfd(r["M_GU_NAME"]), nfd(r["M_NAME"]), nfd(r["A_NAME"])

    variant("nfd_hangul", nfd_text)
    variant("collapsed", lambda rows: rows[:10])
    variant("count_mismatch", lambda rows: None, total=len(good) + 5)

    def updated(rows):
        for i in (0, 1, 2):
            rows[i]["A_PRICE"] = str(int(rows[i]["A_PRICE"]) + 100)

    variant("price_update", updated)
    write_json("prices/wrong_service.json", env(PROPOSALS, good_proposals()[:40]))


def proposals_variants(good: list[dict]) -> None:
    env = sample.envelope
    write_json("proposals/good.json", env(PROPOSALS, good))

    variant = variants_of("proposals", PROPOSALS, good)

    def markers(rows):
        rows[1]["VOTE_DIS_CNT"] = "-"
        rows[3]["USER_COMMENT_CNT"] = "점검중"
        rows[5]["VOTE_DIS_CNT"] = ""

    variant("missing_counts", markers)

    def negative(rows):
        rows[2]["VOTE_CNT"] = "-5"

    variant("out_of_range", negative)

    def dup(rows):
        rows[9]["SN"] = rows[8]["SN"]

    variant("duplicate_keys", dup)

    def reg_dates(rows):
        rows[0]["REG_DATE"] = "2099-01-01 10:00:00"
        rows[1]["REG_DATE"] = "1119"
        rows[2]["REG_DATE"] = "03/04/2026 10:00"

    variant("bad_reg_dates", reg_dates)


def boundaries() -> None:
    frame = reference.districts()
    features = []
    for _, d in frame.iterrows():
        x, y, r = round(d["lon"], 4), round(d["lat"], 4), 0.01
        ring = [[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r], [x - r, y - r]]
        ring = [[round(a, 4), round(b, 4)] for a, b in ring]
        features.append(
            {
                "type": "Feature",
                "properties": {"SIG_CD": d["sig_cd"], "SIG_KOR_NM": d["name_ko"], "SIG_ENG_NM": d["name_en"]},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    good = {"type": "FeatureCollection", "features": features}
    write_json("boundaries/good.geojson", good)
    outside = copy.deepcopy(good)
    ring = outside["features"][0]["geometry"]["coordinates"][0]
    outside["features"][0]["geometry"]["coordinates"][0] = [[a + 2.1, b - 2.45] for a, b in ring]  # to Busan
    write_json("boundaries/outside_seoul.geojson", outside)
    kostat = copy.deepcopy(good)
    codes = frame.set_index("sig_cd")["kostat_cd"]
    for f in kostat["features"]:
        p = f["properties"]
        f["properties"] = {"code": codes[p["SIG_CD"]], "name": nfd(p["SIG_KOR_NM"]), "name_eng": p["SIG_ENG_NM"]}
    write_json("boundaries/kostat_nfd.geojson", kostat)


def forums() -> None:
    rows = participation_sample.forum_rows()[:20]
    write_csv("forums/good.csv", rows)
    korean = ["번호", "일자", "주제", "분야", "참여인원", "결과"]
    write_csv("forums/nfd_headers.csv", rows, fields=[nfd(h) for h in korean])
    cp949 = copy.deepcopy(rows)
    cp949[0]["outcome"] = "똠방각하 토론 결과 반영"  # 똠 is in CP949, not in EUC-KR
    write_csv("forums/cp949.csv", cp949, encoding="cp949", fields=korean)
    (HERE / "forums/utf16.csv").write_bytes(
        "\ufeff".encode("utf-16-le") + (HERE / "forums/good.csv").read_text("utf-8").encode("utf-16-le")
    )


def panel() -> None:
    names = reference.districts()["name_ko"].tolist()
    genders, bands = ["M", "F"], ["18-29", "30-39", "40-49", "50-59", "60-69", "70+"]
    rows = [
        {
            "member_id": f"P{n:04d}",
            "gender": genders[n % 2],
            "age_band": bands[n % 6],
            "district": names[n % 25],
            "draw_round": "1",
            "sessions_attended": str(n % 7),
            "votes": str(n % 5 * 3),
        }
        for n in range(1, 31)
    ]
    write_csv("panel/good.csv", rows)
    nfd_rows = [r | {"district": nfd(r["district"])} for r in rows]
    write_csv("panel/nfd_district.csv", nfd_rows)
    missing = copy.deepcopy(rows)
    missing[0]["votes"], missing[1]["votes"], missing[2]["sessions_attended"] = "-", "점검중", ""
    write_csv("panel/missing_counts.csv", missing)


# --- real-time feeds -----------------------------------------------------------------------------

AIR = "RealtimeCityAir"
AIR_STEP = 12 * 12  # 12:00 of the recorded day: no station in maintenance
BIKES_TOP = "rentBikeStatus"
RESULT_OK = {"CODE": "INFO-000", "MESSAGE": "정상 처리되었습니다"}
BIKES_COUNT = 2100  # three pages: 1,000 + 1,000 + 100
SPOTS = [
    ("POI001", "강남 MICE 관광특구"),
    ("POI014", "강남역"),
    ("POI006", "종로·청계 관광특구"),
    ("POI009", "광화문·덕수궁"),
]
AT = "2026-11-19 18:00"
LINKS = {
    "1220003800": ("세종대로", "광화문", "시청앞", "420", "12.5", "96"),
    "1220003900": ("세종대로", "시청앞", "광화문", "418", "22.0", "60"),
    "1170001100": ("올림픽대로", "반포대교남단", "한남대교남단", "1650", "55.3", "107"),
    "1210012300": ("테헤란로", "강남역", "역삼역", "760", "18.4", "149"),
}


def good_air() -> list[dict]:
    return airbike_sample.air_rows(END, AIR_STEP)


def air_variants(good: list[dict]) -> None:
    env = sample.envelope
    write_json("air/good.json", env(AIR, good))

    variant = variants_of("air", AIR, good)

    def old_schema(rows):
        # The older wire schema of the same readings: MSRDT compact, numbers as numbers, grade names.
        names = {"1": "좋음", "2": "보통", "3": "나쁨", "4": "매우나쁨"}
        return [
            {
                "MSRDT": r["MSRMT_DT"].replace("-", "").replace(" ", "").replace(":", ""),
                "MSRRGN_NM": r["SAREA_NM"],
                "MSRSTE_NM": r["MSRSTN_NM"],
                "PM10": float(r["PM"]),
                "PM25": float(r["FPM"]),
                "O3": float(r["OZON"]),
                "NO2": float(r["NTDX"]),
                "CO": float(r["CBMX"]),
                "SO2": float(r["SPDX"]),
                "IDEX_NM": names[r["CAI_GRD"]],
                "IDEX_MVL": float(r["CAI_IDX"]),
                "ARPLT_MAIN": "PM25",
            }
            for r in rows
        ]

    variant("old_schema", old_schema)

    def markers(rows):
        for i, v in zip((3, 11, 19), ("점검중", "-", ""), strict=True):
            rows[i].update(PM=v, FPM=v, CAI_IDX=v, CAI_GRD="")

    variant("maintenance_markers", markers)

    def grade_names(rows):
        names = {"1": "좋음", "2": "보통", "3": "나쁨", "4": "매우나쁨"}
        for r in rows:
            r["CAI_GRD"] = names[r["CAI_GRD"]]

    variant("grade_names", grade_names)

    def future(rows):
        rows[5]["MSRMT_DT"] = "2099-01-01 12:00"

    variant("future_time", future)

    def stale(rows):
        for r in rows:  # the hour before, served again by a cache
            r["MSRMT_DT"] = r["MSRMT_DT"].replace(" 12:00", " 11:00")

    variant("stale_hour", stale)

    def out_of_range(rows):
        rows[2]["PM"] = "-999"
        rows[8]["FPM"] = "99999"

    variant("out_of_range", out_of_range)

    def unknown_station(rows):
        rows[4]["MSRSTN_NM"] = "연산동"  # a station in Busan: no Seoul district

    variant("unknown_station", unknown_station)


def good_bikes() -> list[dict]:
    rows = [r for r in airbike_sample.bike_rows(216) if not r["stationLatitude"].startswith("0")]
    return rows[:BIKES_COUNT]


def bikes_variants(good: list[dict]) -> None:
    """Bodies of the last page (rows 2,001-2,100), as bikeList sends them: the count is the page's."""

    def last_page(name: str, change) -> None:
        rows = copy.deepcopy(good[2000:])
        rows = change(rows) or rows
        write_json(f"bikes/{name}.json", {BIKES_TOP: {"list_total_count": len(rows), "RESULT": RESULT_OK, "row": rows}})

    def outside(rows):
        rows[3]["stationLatitude"], rows[3]["stationLongitude"] = "0.00000000", "0.00000000"  # a test station
        rows[40]["stationLatitude"], rows[40]["stationLongitude"] = "35.15794", "129.05924"  # Busan

    last_page("outside_seoul", outside)

    def counts(rows):
        rows[7]["parkingBikeTotCnt"] = "9999"
        rows[50]["rackTotCnt"] = "-3"

    last_page("impossible_counts", counts)
    first = copy.deepcopy(good[:40])
    write_json("bikes/short_first_page.json", {BIKES_TOP: {"list_total_count": 40, "RESULT": RESULT_OK, "row": first}})


def city_doc(code: str, name: str, at: str = AT, **kw) -> dict:
    n = int(code[3:])
    links = [
        city_wire.link(
            f"{code}-L{k}",
            str(14 + 3 * k + n % 5),
            ((127.0 + n / 1000, 37.5 + k / 1000), (127.001 + n / 1000, 37.501 + k / 1000)),
        )
        for k in range(3)
    ]
    events = kw.pop("events", None)
    if events is None and code == "POI014":
        events = [
            {
                "ACDNT_OCCR_DT": "2026-11-19 17:20",
                "EXP_CLR_DT": "2026-11-19 19:00",
                "ACDNT_TYPE": "공사",
                "ACDNT_DTYPE": "차로 통제",
                "ACDNT_INFO": "강남대로 하위 1개 차로 통제",
                "ACDNT_X": "127.0276",
                "ACDNT_Y": "37.4979",
            }
        ]
    return city_wire.citydata(code, name, at, links=kw.pop("links", links), events=events or (), **kw)


def citydata_variants() -> None:
    for code, name in SPOTS:
        write_json(f"citydata/good/{code}.json", city_doc(code, name))
    write_json("citydata/POI014_road_trffic_time.json", city_doc("POI014", "강남역", time_key="ROAD_TRFFIC_TIME"))
    write_json(
        "citydata/POI014_blocks_as_list_and_dict.json",
        city_doc("POI014", "강남역", road_as_list=True, population_as_dict=True),
    )
    write_json("citydata/POI014_empty_link_list.json", city_doc("POI014", "강남역", links=[]))
    outside = city_doc("POI014", "강남역")
    extra = dict(
        outside["CITYDATA"]["ACDNT_CNTRL_STTS"][0],
        ACDNT_X="129.0592",
        ACDNT_Y="35.1579",
        ACDNT_OCCR_DT="2026-11-19 17:40",
    )
    outside["CITYDATA"]["ACDNT_CNTRL_STTS"].append(extra)
    write_json("citydata/POI014_accident_outside_seoul.json", outside)
    markers = city_doc("POI014", "강남역")
    people = markers["CITYDATA"]["LIVE_PPLTN_STTS"][0]
    people["AREA_PPLTN_MIN"], people["AREA_PPLTN_MAX"] = "점검중", "-"
    markers["CITYDATA"]["ROAD_TRAFFIC_STTS"]["AVG_ROAD_DATA"]["ROAD_TRAFFIC_SPD"] = ""
    write_json("citydata/POI014_missing_markers.json", markers)
    write_json("citydata/POI014_future_time.json", city_doc("POI014", "강남역", at="2099-01-01 18:00"))
    for code, name in SPOTS:  # an hour behind the serving version: an old snapshot served again
        write_json(f"citydata/stale/{code}.json", city_doc(code, name, at="2026-11-19 17:00"))


def traffic_variants() -> None:
    for link_id, (road, start, end, dist, speed, seconds) in LINKS.items():
        speed_row = {"link_id": link_id, "prcs_spd": speed, "prcs_trv_time": seconds}
        names = {"link_id": link_id, "road_name": road, "st_node_nm": start, "ed_node_nm": end, "map_dist": dist}
        (HERE / f"traffic/good/TrafficInfo/{link_id}.xml").write_text(
            city_wire.xml_row("TrafficInfo", speed_row), "utf-8"
        )
        (HERE / f"traffic/good/LinkInfo/{link_id}.xml").write_text(city_wire.xml_row("LinkInfo", names), "utf-8")
    first = next(iter(LINKS))
    for name, speed in (("speed_negative", "-1"), ("speed_999", "999")):
        row = {"link_id": first, "prcs_spd": speed, "prcs_trv_time": "60"}
        (HERE / f"traffic/{name}.xml").write_text(city_wire.xml_row("TrafficInfo", row), "utf-8")
    (HERE / "traffic/error_310.xml").write_text(
        "<RESULT><CODE>ERROR-310</CODE><MESSAGE>해당하는 서비스를 찾을 수 없습니다.</MESSAGE></RESULT>", "utf-8"
    )
    (HERE / "traffic/info_200.xml").write_text(city_wire.xml_row("TrafficInfo", None, "INFO-200"), "utf-8")


if __name__ == "__main__":
    for folder in (
        "air",
        "bikes",
        "citydata/good",
        "citydata/stale",
        "traffic/good/TrafficInfo",
        "traffic/good/LinkInfo",
    ):
        (HERE / folder).mkdir(parents=True, exist_ok=True)
    air_variants(good_air())
    bikes_variants(good_bikes())
    citydata_variants()
    traffic_variants()
    prices_variants(good_prices())
    proposals_variants(good_proposals())
    boundaries()
    forums()
    panel()
