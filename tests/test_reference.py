"""District reference data and the boundaries loader."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import datadir
import settings
from loaders import feeds, prices, reference

SHARED_GEO = Path(__file__).resolve().parents[2] / "shared" / "geo" / "seoul_districts.geojson"


def test_district_table_is_sound():
    frame = reference.districts()
    assert reference.check_districts(frame) == []
    assert len(frame) == 25
    for col in ("sig_cd", "adm_cd10", "kostat_cd", "prices_gu_cd", "name_ko", "name_en"):
        assert frame[col].is_unique, col
    assert (frame["adm_cd10"] == frame["sig_cd"] + "00000").all()


def test_kostat_codes_collide_with_sig_cd_and_mean_other_districts():
    frame = reference.districts()
    by_sig = dict(zip(frame["sig_cd"], frame["name_ko"], strict=True))
    by_kostat = dict(zip(frame["kostat_cd"], frame["name_ko"], strict=True))
    collisions = set(by_sig) & set(by_kostat)
    assert "11110" in collisions
    assert (by_sig["11110"], by_kostat["11110"]) == ("종로구", "노원구")
    assert all(by_sig[c] != by_kostat[c] for c in collisions)


@pytest.mark.parametrize(
    ("gu_name", "gu_code", "expected"),
    [
        ("도봉구", "320000", "11320"),  # the documented example
        ("도봉구", "", "11320"),
        (None, "320000", "11320"),
        (None, "320000.0", "11320"),
        (None, "11680", "11680"),  # a standard SIG_CD in the code field
        ("강남구", "320000", "11680"),  # name wins when they disagree
        ("없는구", "999999", None),
        (None, None, None),
    ],
)
def test_prices_district_resolution(gu_name, gu_code, expected):
    got = prices.resolve_districts(pd.Series([gu_name], dtype="string"), pd.Series([gu_code], dtype="string"))
    assert (None if pd.isna(got.iloc[0]) else got.iloc[0]) == expected


def test_tile_grid_places_every_district_once():
    frame = reference.districts()
    assert not frame[["tile_row", "tile_col"]].duplicated().any()
    # geography kept: 도봉구 in the top row, 서초구 below 용산구 (across the river), 송파구 east of 강남구
    rows = frame.set_index("name_ko")["tile_row"]
    cols = frame.set_index("name_ko")["tile_col"]
    assert rows["도봉구"] == 0 and rows["서초구"] > rows["용산구"] and cols["송파구"] > cols["강남구"]


def synthetic_boundaries() -> dict:
    frame = reference.districts()
    features = []
    for _, d in frame.iterrows():
        x, y, r = d["lon"], d["lat"], 0.01
        ring = [[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r], [x - r, y - r]]
        features.append(
            {
                "type": "Feature",
                "properties": {"SIG_CD": d["sig_cd"], "SIG_KOR_NM": d["name_ko"]},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _geojson_payloads():
    yield "synthetic", json.dumps(synthetic_boundaries()).encode()
    if SHARED_GEO.is_file():
        yield "shared", SHARED_GEO.read_bytes()


@pytest.mark.parametrize(("label", "payload"), list(_geojson_payloads()))
def test_boundaries_load_from_a_local_server(httpserver, monkeypatch, label, payload):
    httpserver.expect_request("/seoul.geojson").respond_with_data(payload, content_type="application/json")
    monkeypatch.setenv("MAYOR_BOUNDARIES_URL", httpserver.url_for("/seoul.geojson"))
    cfg = settings.get()
    record = feeds.refresh(feeds.FEEDS["boundaries"], cfg)
    assert record.outcome == "ok", record.message
    assert datadir.read_pointer(cfg.data_dir, "boundaries")["rows"] == {"district_boundaries": 25}


def test_boundaries_missing_a_district_are_rejected(httpserver, monkeypatch):
    doc = synthetic_boundaries()
    doc["features"] = doc["features"][:24]
    httpserver.expect_request("/seoul.geojson").respond_with_json(doc)
    monkeypatch.setenv("MAYOR_BOUNDARIES_URL", httpserver.url_for("/seoul.geojson"))
    cfg = settings.get()
    record = feeds.refresh(feeds.FEEDS["boundaries"], cfg)
    assert record.outcome == "rejected"
    assert "missing 1" in record.message
    assert datadir.read_pointer(cfg.data_dir, "boundaries") is None


def test_boundaries_outside_seoul_are_quarantined(httpserver, monkeypatch):
    doc = synthetic_boundaries()
    doc["features"][0]["geometry"]["coordinates"][0][0] = [0.0, 0.0]
    httpserver.expect_request("/seoul.geojson").respond_with_json(doc)
    monkeypatch.setenv("MAYOR_BOUNDARIES_URL", httpserver.url_for("/seoul.geojson"))
    record = feeds.refresh(feeds.FEEDS["boundaries"], settings.get())
    assert record.outcome == "rejected"
    assert record.rows_quarantined == 1


def test_boundaries_unreachable_is_a_clear_failure(monkeypatch):
    monkeypatch.setenv("MAYOR_BOUNDARIES_URL", "http://127.0.0.1:9/none.geojson")
    monkeypatch.setenv("MAYOR_RETRY_ATTEMPTS", "1")
    record = feeds.refresh(feeds.FEEDS["boundaries"], settings.get())
    assert record.outcome == "failed"
    assert record.message.startswith("district boundaries: connection failed")
