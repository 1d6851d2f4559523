"""Colours, labels and the bike map of the air-and-bikes page.

Station names are feed text: they reach the map only through pydeck's text tooltips, never HTML.
The bike map sends as little as it can (pydeck serialises every record with two-space indents and
\\u escapes for Korean): one-letter keys, coordinates to 5 decimals (about a metre), and the colour
computed in the browser from a 0-2 level instead of three numbers per point.
"""

from __future__ import annotations

import pandas as pd
import pydeck as pdk

from ui.i18n import t
from ui.maps import SEOUL_VIEW, CompactDeck

GRADES = ("좋음", "보통", "나쁨", "매우나쁨")
# The colours Seoul's and AirKorea's dust maps use for the four grades.
GRADE_RGB = {"좋음": (50, 120, 220), "보통": (26, 152, 80), "나쁨": (240, 150, 30), "매우나쁨": (215, 48, 39)}
GRADE_BADGE = {"좋음": "blue", "보통": "green", "나쁨": "orange", "매우나쁨": "red"}
# Locale keys of each grade: its name and its advice in plain words.
GRADE_TEXT = {
    "좋음": ("airbikes.grade_good", "airbikes.advice_good"),
    "보통": ("airbikes.grade_moderate", "airbikes.advice_moderate"),
    "나쁨": ("airbikes.grade_bad", "airbikes.advice_bad"),
    "매우나쁨": ("airbikes.grade_very_bad", "airbikes.advice_very_bad"),
}
# Level 0: no bike; 1: one or two (under three a station, for a map cell); 2: more.
LEVEL_COLOUR = "l == 0 ? [215, 48, 39, 230] : l == 1 ? [245, 150, 30, 230] : [26, 152, 80, 230]"


def grade_label(grade) -> str:
    if not isinstance(grade, str) or grade not in GRADE_TEXT:
        return t("airbikes.no_reading")
    return t(GRADE_TEXT[grade][0])


def grade_hex(grade) -> str:
    r, g, b = GRADE_RGB.get(grade, (200, 200, 200))
    return f"#{r:02x}{g:02x}{b:02x}"


def grade_rgb(grades: pd.Series) -> pd.DataFrame:
    """r, g, b per row (NaN where there is no grade), the colour columns ui.maps understands."""
    rows = [GRADE_RGB.get(g, (None, None, None)) if isinstance(g, str) else (None, None, None) for g in grades]
    return pd.DataFrame(rows, columns=["r", "g", "b"], index=grades.index, dtype="float")


def _records(frame: pd.DataFrame, fields: dict[str, str]) -> list[dict]:
    """Records with short keys: p = [lon, lat], then fields {short key: column}."""
    out = []
    columns = {short: frame[col].tolist() for short, col in fields.items()}
    for i, (lon, lat) in enumerate(zip(frame["lon"].tolist(), frame["lat"].tolist(), strict=True)):
        record = {"p": [round(float(lon), 5), round(float(lat), 5)]}
        for short, values in columns.items():
            value = values[i]
            record[short] = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        out.append(record)
    return out


def bike_deck(points: pd.DataFrame, per_station: bool) -> pdk.Deck:
    """Stations of one district (per_station) or the city in ~1 km cells, coloured by bikes.
    No district outlines: their GeoJSON would weigh more than the stations, on every refresh."""
    if per_station:
        data = _records(points, {"n": "station_name", "b": "bikes_parked", "k": "racks", "l": "level"})
        tooltip = "{n}\n" + t("airbikes.tip_station", bikes="{b}", racks="{k}")
        radius, view = 40, _view_of(points, zoom=13.2)
    else:
        data = _records(points, {"s": "stations", "b": "bikes", "e": "empty_stations", "l": "level"})
        tooltip = t("airbikes.tip_cell", stations="{s}", bikes="{b}", empty="{e}")
        radius, view = 350, SEOUL_VIEW
    dots = pdk.Layer(
        "ScatterplotLayer",
        data,
        get_position="p",
        get_fill_color=LEVEL_COLOUR,
        get_radius=radius,
        radius_min_pixels=3,
        radius_max_pixels=12,
        pickable=True,
    )
    return CompactDeck(layers=[dots], initial_view_state=view, tooltip={"text": tooltip}, map_style=None)


def _view_of(points: pd.DataFrame, zoom: float) -> pdk.ViewState:
    if points.empty:
        return SEOUL_VIEW
    return pdk.ViewState(latitude=float(points["lat"].mean()), longitude=float(points["lon"].mean()), zoom=zoom)


def payload_bytes(deck: pdk.Deck) -> int:
    """Bytes of the deck's JSON, which is what st.pydeck_chart sends to the browser."""
    return len(deck.to_json().encode("utf-8"))
