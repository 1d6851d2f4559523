"""The check behind ui/charts.py: a figure spec sent unvalidated must be exactly what plotly's own
validated figure would send (plotly's template aside, which Streamlit's theme replaces)."""

from __future__ import annotations

import json

import plotly.io as pio

from ui.charts import FigureSpec


def assert_spec_is_plotlys_own(fig: FigureSpec) -> None:
    assert isinstance(fig, FigureSpec), type(fig)
    sent = json.loads(pio.to_json(fig.to_dict(), validate=False))
    own = json.loads(pio.to_json(fig.validated().to_dict(), validate=False))  # ValueError on a wrong property
    own["layout"].pop("template", None)
    assert sent == own
