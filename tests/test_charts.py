"""FigureSpec: a plain figure spec is sent as plotly would send it, and a wrong one is caught by
the check the page tests run on every figure they build."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

from tests.charts_check import assert_spec_is_plotlys_own
from ui.charts import FigureSpec


def test_numbers_travel_as_typed_arrays_like_plotlys_and_the_spec_is_not_changed():
    z = np.arange(6, dtype=np.int64).reshape(2, 3)
    fig = FigureSpec([{"type": "heatmap", "z": z, "x": ["a", "b", "c"]}], {"height": 200, "title": {"text": "t"}})
    sent = json.loads(pio.to_json(fig.to_dict(), validate=False))
    assert sent["data"][0]["z"]["dtype"] == "i1" and "bdata" in sent["data"][0]["z"]
    assert sent["data"][0]["x"] == ["a", "b", "c"] and sent["layout"] == {"height": 200, "title": {"text": "t"}}
    assert fig.spec["data"][0]["z"] is z  # sending twice sends the same
    assert_spec_is_plotlys_own(fig)


def test_a_wrong_property_is_caught_by_the_check():
    with pytest.raises(ValueError, match="colour"):
        assert_spec_is_plotlys_own(FigureSpec([{"type": "bar", "x": [1], "colour": "red"}], {}))


def test_a_form_plotly_would_rewrite_is_caught_by_the_check():
    # plotly.js 3 reads titles only as {"text": ...}; plotly.py rewrites a bare string, a spec must not use one
    with pytest.raises(AssertionError):
        assert_spec_is_plotlys_own(FigureSpec([{"type": "bar", "x": [1]}], {"xaxis": {"title": "hours"}}))
