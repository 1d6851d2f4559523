"""Plotly figures as plain specs: built once per rerun as dicts, sent to the browser unvalidated.

st.plotly_chart turns a dict into a validated go.Figure and a go.Figure back into a dict (a deep
copy), and building the go.Figure in the first place validates every property once more. For this
app's figures that was about half of a page's Python time per rerun (the complaints page: 4 figures,
~45 ms of 250; see README, "Performance"). The specs here are fixed in shape, so plotly's schema
checks them in the tests instead of on every rerun of every session: tests/charts_check.py compares
each spec with plotly's own validated output, for the complaints and prices figures and the tile grid.
"""

from __future__ import annotations

import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64


class FigureSpec(go.Figure):
    """A figure given as `data` (a list of trace dicts, each with its `type`) and `layout` dicts.

    It is a go.Figure only so that st.plotly_chart takes it as an already validated figure and asks
    it for `to_dict()`; none of go.Figure's machinery is set up (its __init__ is the validation being
    skipped). `validated()` gives the real go.Figure, for tests and for anything that edits a figure."""

    def __init__(self, data: list[dict], layout: dict) -> None:  # no super().__init__(): the cost avoided
        self._spec = {"data": data, "layout": layout}

    def to_dict(self) -> dict:
        # As go.Figure.to_dict does: numeric arrays travel as typed arrays (base64), not JSON lists.
        spec = {"data": [dict(trace) for trace in self._spec["data"]], "layout": dict(self._spec["layout"])}
        convert_to_base64(spec)
        return spec

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    @property
    def spec(self) -> dict:
        return self._spec

    def validated(self) -> go.Figure:
        """The same figure through plotly's validation (raises ValueError on a wrong property)."""
        return go.Figure(data=self._spec["data"], layout=self._spec["layout"])

    def __repr__(self) -> str:
        return f"FigureSpec({[t.get('type') for t in self._spec['data']]})"
