"""The prices page's figures, as plain specs (ui/charts.py). No data access here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.charts import FigureSpec
from ui.i18n import item_label, market_type_label, t

MARGIN = {"l": 0, "r": 0, "t": 10, "b": 0}


def trend_figure(trend: pd.DataFrame) -> FigureSpec:
    """Weekly median price, one line per market type."""
    weeks = pd.to_datetime(trend["week"]).dt.strftime("%Y-%m-%d").to_numpy()
    types = trend["market_type"].to_numpy(dtype=object)
    prices = trend["median_krw"].to_numpy(dtype=float)
    lines = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": weeks[types == kind],
            "y": prices[types == kind],
            "name": market_type_label(kind),
        }
        for kind in sorted(set(types))
    ]
    layout = {
        "height": 320,
        "margin": MARGIN,
        "yaxis": {"title": {"text": t("prices.col_price")}},
        "xaxis": {"tickformat": "%Y-%m"},  # plotly month names are English in either UI language
        "legend": {"orientation": "h", "y": 1.1},
        "hovermode": "x unified",
    }
    return FigureSpec(lines, layout)


def gap_figure(gap: pd.DataFrame) -> FigureSpec:
    """How much more each item costs at a large mart than at a traditional market, in percent
    (`gap` sorted, without missing values)."""
    premium = gap["mart_premium_pct"].to_numpy(dtype=float)
    bars = {
        "type": "bar",
        "x": premium,
        "y": np.array([item_label(name) for name in gap["item_name"]], dtype=object),
        "orientation": "h",
        "marker": {"color": np.where(premium > 0, "#d73027", "#1a9850").astype(object)},
        "hovertemplate": "%{y}: %{x:+.1f}%<extra></extra>",
    }
    layout = {"height": max(320, 22 * len(gap)), "margin": MARGIN, "xaxis": {"title": {"text": t("prices.col_gap")}}}
    return FigureSpec([bars], layout)
