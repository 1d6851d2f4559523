"""Maps: markets on a pydeck map, districts as a choropleth or, without boundaries, a tile grid.

Tooltips use pydeck's `text` mode (rendered as text, never HTML): market names are feed text.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from ui.charts import FigureSpec
from ui.i18n import current

SEOUL_VIEW = pdk.ViewState(latitude=37.5585, longitude=126.9910, zoom=9.6, pitch=0)
NO_DATA_RGB = (200, 200, 200)


class CompactDeck(pdk.Deck):
    """pydeck writes its JSON with indent=2 and Hangul as \\u escapes, about three times the bytes
    of the same JSON written compact in UTF-8. Streamlit sends exactly what to_json() returns."""

    def to_json(self) -> str:
        # Written once: a map shared by every session (a cached build) is not re-serialised on each
        # run. The attribute is set after the JSON is made, so it never appears in it.
        cached = self.__dict__.get("_json_once")
        if cached is None:
            cached = json.dumps(
                self, sort_keys=True, default=default_serialize, separators=(",", ":"), ensure_ascii=False
            )
            self.__dict__["_json_once"] = cached
        return cached


# Green (cheaper) → yellow → red (dearer), used both for dots and districts.
_STOPS = np.array([[26, 152, 80], [254, 224, 139], [215, 48, 39]], dtype=float)


def ratio_rgb(ratio: pd.Series, spread: float = 0.15) -> pd.DataFrame:
    """Colour for price / median: 1 - spread and below is green, 1 + spread and above red."""
    x = ((ratio.astype(float) - 1) / spread).clip(-1, 1).fillna(0).to_numpy()
    lo = np.where(x[:, None] < 0, _STOPS[1] + (_STOPS[0] - _STOPS[1]) * (-x[:, None]), 0)
    hi = np.where(x[:, None] >= 0, _STOPS[1] + (_STOPS[2] - _STOPS[1]) * x[:, None], 0)
    rgb = (lo + hi).round().astype(int)
    return pd.DataFrame(rgb, columns=["r", "g", "b"], index=ratio.index)


def _outline_layer(boundaries: pd.DataFrame | None) -> list:
    if boundaries is None or boundaries.empty:
        return []
    features = [
        {"type": "Feature", "geometry": json.loads(g), "properties": {"sig_cd": c}}
        for c, g in zip(boundaries["sig_cd"], boundaries["geometry_json"], strict=True)
    ]
    return [
        pdk.Layer(
            "GeoJsonLayer",
            {"type": "FeatureCollection", "features": features},
            stroked=True,
            filled=False,
            get_line_color=[90, 90, 90, 160],
            line_width_min_pixels=1,
        )
    ]


def market_map(markets: pd.DataFrame, tooltip_text: str, boundaries: pd.DataFrame | None = None) -> pdk.Deck:
    frame = markets.join(ratio_rgb(markets["price_vs_median"]))
    dots = pdk.Layer(
        "ScatterplotLayer",
        frame,
        get_position=["lon", "lat"],
        get_fill_color=["r", "g", "b", 220],
        get_line_color=[40, 40, 40, 200],
        stroked=True,
        line_width_min_pixels=1,
        get_radius=350,
        radius_min_pixels=5,
        radius_max_pixels=14,
        pickable=True,
    )
    return CompactDeck(
        layers=[*_outline_layer(boundaries), dots],
        initial_view_state=SEOUL_VIEW,
        tooltip={"text": tooltip_text},
        map_style=None,
    )


def short_names(rows: pd.DataFrame) -> pd.Series:
    """District names for tiles, tooltips and bars, which are small: "Dongdaemun" rather than
    "Dongdaemun-gu" in English; Korean as it is."""
    return rows["name_en"].str.removesuffix("-gu") if current() == "en" else rows["name_ko"]


def _fill(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(r, g, b per row, no-data mask): the frame's own r, g, b columns when it has them (NaN: no
    data), else colours from its `ratio` column."""
    if {"r", "g", "b"} <= set(frame.columns):
        return frame[["r", "g", "b"]], frame["r"].isna()
    return ratio_rgb(frame["ratio"]), frame["ratio"].isna()


def district_choropleth(values: pd.DataFrame, boundaries: pd.DataFrame, tooltip_text: str) -> pdk.Deck:
    """`values` has sig_cd, label columns, and either ratio (value / city median, NaN where no
    data) or its own r, g, b colour columns."""
    frame = values.merge(boundaries[["sig_cd", "geometry_json"]], on="sig_cd")
    colours, missing = _fill(frame)
    features = []
    for i, row in frame.iterrows():
        rgb = NO_DATA_RGB if missing[i] else tuple(int(c) for c in colours.loc[i])
        props = {k: (None if pd.isna(v) else v) for k, v in row.drop(["geometry_json"]).items()}
        props["fill"] = [int(c) for c in rgb] + [170]
        features.append({"type": "Feature", "geometry": json.loads(row["geometry_json"]), "properties": props})
    layer = pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color=[255, 255, 255, 220],
        line_width_min_pixels=1,
        pickable=True,
    )
    return CompactDeck(layers=[layer], initial_view_state=SEOUL_VIEW, tooltip={"text": tooltip_text}, map_style=None)


def district_tile_grid(values: pd.DataFrame, no_data_label: str) -> FigureSpec:
    """Every district as one square in a geographic grid: never an empty map.
    `values` has tile_row, tile_col, name and value_label columns, and ratio or r, g, b colours.

    One heatmap trace: cell z is the tile's own number and the colour scale gives each number its
    tile's colour, so the grid costs one trace instead of 25 shapes (each validated by plotly)."""
    # Plain Python over the 25 rows: pandas' own steps cost more than the work (1.1 ms against 0.3).
    r, c = values["tile_row"].to_numpy(dtype=int), values["tile_col"].to_numpy(dtype=int)
    rows, cols = int(r.max()) + 1, int(c.max()) + 1
    colours, missing = _fill(values)
    rgb = colours.to_numpy(dtype=float, na_value=0).round().astype(int)
    rgb[missing.to_numpy()] = NO_DATA_RGB
    n = len(values)
    # Each tile's z is the middle of its own stretch of the colour scale: on a boundary, plotly.js
    # read the scale's stops back as 0.56 × 25 = 14.000000000000002 and gave tile 14 its neighbour's
    # colour (a chosen district drawn grey).
    z = np.full((rows, cols), np.nan)
    z[r, c] = np.arange(n) + 0.5
    text = np.full((rows, cols), "", dtype=object)
    text[r, c] = [
        f"{name}<br>{no_data_label if pd.isna(label) or not label else label}"
        for name, label in zip(values["name"].tolist(), values["value_label"].tolist(), strict=True)
    ]
    scale = []
    for k, (red, green, blue) in enumerate(rgb.tolist()):
        colour = f"rgb({red}, {green}, {blue})"
        scale += [[k / n, colour], [(k + 1) / n, colour]]
    scale[-1][0] = 1.0
    grid = {
        "type": "heatmap",
        "z": z,
        "zmin": 0,
        "zmax": n,
        "colorscale": scale,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 11, "color": "#222"},
        "hovertext": [[v.replace("<br>", " ") for v in line] for line in text],
        "hoverinfo": "text",
    }
    layout = {
        "xaxis": {"visible": False, "fixedrange": True},
        "yaxis": {"visible": False, "fixedrange": True, "autorange": "reversed", "scaleanchor": "x"},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "height": 360,
        "showlegend": False,
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    return FigureSpec([grid], layout)


# Congestion levels 1 (여유) .. 4 (붐빔): green, yellow, orange, red.
CROWD_RGB = {1: (26, 152, 80), 2: (230, 200, 40), 3: (244, 130, 40), 4: (215, 48, 39)}


def hotspot_map(spots: pd.DataFrame, tooltip_text: str, boundaries: pd.DataFrame | None = None) -> pdk.Deck:
    """Hotspots as dots coloured by congestion and sized by population; a red ring marks a hotspot
    forecast to become busy (an alert). `spots` has lat, lon, congestion_rank, population_max, alert."""
    rgb = spots["congestion_rank"].map(lambda r: CROWD_RGB.get(int(r), NO_DATA_RGB) if pd.notna(r) else NO_DATA_RGB)
    frame = spots.assign(
        r=[c[0] for c in rgb],
        g=[c[1] for c in rgb],
        b=[c[2] for c in rgb],
        radius=(spots["population_max"].fillna(0).clip(lower=0) ** 0.5 * 4).clip(150, 900),
    )
    dots = pdk.Layer(
        "ScatterplotLayer",
        frame,
        get_position=["lon", "lat"],
        get_fill_color=["r", "g", "b", 210],
        get_line_color=[40, 40, 40, 200],
        stroked=True,
        line_width_min_pixels=1,
        get_radius="radius",
        radius_min_pixels=5,
        radius_max_pixels=22,
        pickable=True,
    )
    rings = pdk.Layer(
        "ScatterplotLayer",
        frame[frame["alert"]],
        get_position=["lon", "lat"],
        filled=False,
        stroked=True,
        get_line_color=[215, 48, 39, 255],
        line_width_min_pixels=3,
        get_radius="radius",
        radius_min_pixels=12,
        radius_max_pixels=34,
    )
    return CompactDeck(
        layers=[*_outline_layer(boundaries), dots, rings],
        initial_view_state=SEOUL_VIEW,
        tooltip={"text": tooltip_text},
        map_style=None,
    )
