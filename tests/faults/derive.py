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

from loaders import participation_sample, reference, sample

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

    def variant(name: str, change, total: int | None = None) -> None:
        rows = copy.deepcopy(good)
        rows = change(rows) or rows
        write_json(f"prices/{name}.json", env(PRICES, rows, total=total))

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

    def variant(name: str, change) -> None:
        rows = copy.deepcopy(good)
        change(rows)
        write_json(f"proposals/{name}.json", env(PROPOSALS, rows))

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


if __name__ == "__main__":
    prices_variants(good_prices())
    proposals_variants(good_proposals())
    boundaries()
    forums()
    panel()
