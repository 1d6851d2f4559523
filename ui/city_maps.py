"""Maps of the real-time city: road links by speed level, hotspots, accidents and closures, crowds.

Everything a pydeck map holds is sent to the browser as JSON, so the road map is built against a
byte budget (MAP_MAX_BYTES): paths come thinned and rounded from the query, the JSON is written
compact, and when the links still do not fit, the freest-flowing ones are left off first.

Basemap: `map_style=None` lets Streamlit draw Carto's token-free basemap (light or dark with the
theme). Offline the tiles never come, so every map also draws the district outlines when the
boundaries are published, or the district names at their centres, and stays readable.
Tooltips use pydeck's `text` mode (shown as text, never HTML): names and messages are feed text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk

from ui import city
from ui.maps import SEOUL_VIEW, CompactDeck, _outline_layer

MAP_MAX_BYTES = 1_500_000  # issue 3: the traffic map sends at most 1.5 MB to the browser
MAP_MAX_LINKS = 6000  # TOPIS covers about 5,000 links; beyond that the byte budget decides anyway
MAP_MAX_POINTS = 8  # points kept per link: enough for a bend at city zoom
TOOLTIP = {"text": "{tip}"}


def payload_bytes(deck: pdk.Deck) -> int:
    """What the browser receives for this map, in bytes (UTF-8)."""
    return len(deck.to_json().encode("utf-8"))


def _compact_size(record: dict) -> int:
    return len(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) + 1


def base_layers(boundaries: pd.DataFrame | None, districts: pd.DataFrame | None, lang: str = "ko") -> list:
    """What keeps a map readable without basemap tiles: district outlines, else district names."""
    outlines = _outline_layer(boundaries)
    if outlines or districts is None or districts.empty:
        return outlines
    name_col = "name_en" if lang == "en" and "name_en" in districts else "name_ko"
    labels = [
        {"position": [round(float(lo), 5), round(float(la), 5)], "name": str(n)}
        for lo, la, n in zip(districts["lon"], districts["lat"], districts[name_col], strict=True)
    ]
    return [
        pdk.Layer(
            "TextLayer",
            labels,
            id="district-names",
            get_position="position",
            get_text="name",
            get_size=12,
            get_color=[110, 110, 110, 200],
            # pydeck turns plain strings into expressions: literal strings go in as String.
            character_set=pdk.types.String("auto"),  # Hangul is not in deck.gl's default (ASCII) glyph set
            font_family=pdk.types.String("'Noto Sans KR', NanumGothic, 'Malgun Gothic', sans-serif"),
        )
    ]


@dataclass
class RoadMap:
    deck: pdk.Deck
    links_shown: int
    links_drawable: int
    bytes: int


def _link_records(links: pd.DataFrame, tip) -> list[tuple[str, dict]]:
    out = []
    for row in links.to_dict("records"):
        try:
            path = json.loads(row["path_json"])
        except (TypeError, ValueError):
            continue
        out.append((row["level"], {"path": path, "tip": tip(row)}))
    return out


def _link_layers(records: list[tuple[str, dict]]) -> list:
    layers = []
    # Free-flowing underneath, jammed on top: the eye should land on the red.
    for level in (None, *city.ROAD_LEVELS):
        if level is None:
            rows = [r for lv, r in records if lv not in city.ROAD_LEVELS]
            rgb = city.UNKNOWN_RGB
        else:
            rows = [r for lv, r in records if lv == level]
            rgb = city.ROAD_RGB[level]
        if not rows:
            continue
        layers.append(
            pdk.Layer(
                "PathLayer",
                rows,
                id=f"links-{city.ROAD_LEVELS.index(level) if level else 'other'}",
                get_path="path",
                get_color=[*rgb, 230],
                get_width=5,
                width_units=pdk.types.String("pixels"),
                width_min_pixels=2,
                cap_rounded=True,
                joint_rounded=True,
                pickable=True,
            )
        )
    return layers


def _point_layer(records: list[dict], layer_id: str, radius_m: float, min_px: int, stroke=(255, 255, 255)) -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer",
        records,
        id=layer_id,
        get_position="position",
        get_fill_color="color",
        get_line_color=[*stroke, 230],
        get_radius=radius_m,
        radius_min_pixels=min_px,
        radius_max_pixels=18,
        stroked=True,
        line_width_min_pixels=1,
        pickable=True,
    )


def road_map(
    links: pd.DataFrame,
    link_tip,
    hotspots: list[dict],
    events: list[dict],
    base: list,
    max_bytes: int = MAP_MAX_BYTES,
) -> RoadMap:
    """Links (rows of traffic_map_links, most congested first) coloured by level, with hotspot and
    event points (records with position, color and tip), cut to fit `max_bytes`."""
    records = _link_records(links, link_tip)
    others = []
    if hotspots:
        others.append(_point_layer(hotspots, "hotspots", 90, 4))
    if events:
        others.append(_point_layer(events, "events", 60, 6, stroke=(20, 20, 20)))

    def build(n: int) -> pdk.Deck:
        return CompactDeck(
            layers=[*base, *_link_layers(records[:n]), *others],
            initial_view_state=SEOUL_VIEW,
            tooltip=TOOLTIP,
            map_style=None,
        )

    overhead = payload_bytes(build(0)) + 64 * 4  # four layer headers at most: generous
    sizes = [_compact_size(r) for _lv, r in records]
    n, total = 0, overhead
    for size in sizes:
        if total + size > max_bytes:
            break
        total += size
        n += 1
    deck = build(n)
    size = payload_bytes(deck)
    while size > max_bytes and n > 0:  # the estimate is generous; this is the guarantee
        n = int(n * 0.95)
        deck = build(n)
        size = payload_bytes(deck)
    drawable = int(links["drawable_links"].iloc[0]) if len(links) else 0
    return RoadMap(deck, n, max(drawable, len(records)), size)


def crowd_map(hotspots: list[dict], base: list) -> pdk.Deck:
    """Hotspots as circles coloured by crowd level and sized by people (records carry radius)."""
    layer = pdk.Layer(
        "ScatterplotLayer",
        hotspots,
        id="crowds",
        get_position="position",
        get_fill_color="color",
        get_line_color=[255, 255, 255, 220],
        get_radius="radius",
        radius_min_pixels=4,
        radius_max_pixels=28,
        stroked=True,
        line_width_min_pixels=1,
        pickable=True,
    )
    return CompactDeck(layers=[*base, layer], initial_view_state=SEOUL_VIEW, tooltip=TOOLTIP, map_style=None)
