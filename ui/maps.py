"""Maps: markets on a pydeck map, districts as a choropleth or, without boundaries, a tile grid.

Tooltips use pydeck's `text` mode (rendered as text, never HTML): market names are feed text.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

SEOUL_VIEW = pdk.ViewState(latitude=37.5585, longitude=126.9910, zoom=9.6, pitch=0)
NO_DATA_RGB = (200, 200, 200)
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
    return pdk.Deck(
        layers=[*_outline_layer(boundaries), dots],
        initial_view_state=SEOUL_VIEW,
        tooltip={"text": tooltip_text},
        map_style=None,
    )


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
    return pdk.Deck(layers=[layer], initial_view_state=SEOUL_VIEW, tooltip={"text": tooltip_text}, map_style=None)


def district_tile_grid(values: pd.DataFrame, no_data_label: str) -> go.Figure:
    """Every district as one square in a geographic grid: never an empty map.
    `values` has tile_row, tile_col, name and value_label columns, and ratio or r, g, b colours."""
    rows = int(values["tile_row"].max()) + 1
    cols = int(values["tile_col"].max()) + 1
    colours, missing = _fill(values)
    # The squares as one list in one layout update: fig.add_shape copies every shape already there
    # (25 squares cost 0.9 s a run, most of a prices page's time under load).
    shapes = []
    for i, row in values.iterrows():
        r, c = int(row["tile_row"]), int(row["tile_col"])
        rgb = NO_DATA_RGB if missing[i] else tuple(int(v) for v in colours.loc[i])
        shapes.append(
            {
                "type": "rect",
                "x0": c + 0.04,
                "x1": c + 0.96,
                "y0": -r - 0.96,
                "y1": -r - 0.04,
                "fillcolor": f"rgb{tuple(int(v) for v in rgb)}",
                "line": {"color": "white", "width": 1},
                "layer": "below",
            }
        )
    fig = go.Figure(layout={"shapes": shapes})
    labels = [
        f"{n}<br>{v if isinstance(v, str) and v else no_data_label}"
        for n, v in zip(values["name"], values["value_label"], strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=values["tile_col"] + 0.5,
            y=-values["tile_row"] - 0.5,
            mode="text",
            text=labels,
            textfont={"size": 11, "color": "#222"},
            hoverinfo="text",
            hovertext=[lbl.replace("<br>", " ") for lbl in labels],
        )
    )
    fig.update_xaxes(visible=False, range=[0, cols], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-rows, 0], fixedrange=True, scaleanchor="x")
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=360, showlegend=False, plot_bgcolor="rgba(0,0,0,0)"
    )
    return fig


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
    return pdk.Deck(
        layers=[*_outline_layer(boundaries), dots, rings],
        initial_view_state=SEOUL_VIEW,
        tooltip={"text": tooltip_text},
        map_style=None,
    )
