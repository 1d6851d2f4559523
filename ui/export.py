"""Exports of a filtered selection: CSV that Excel opens in Korean, Parquet and JSON.

CSV cells that begin with =, +, -, @ (or a tab or carriage return) are prefixed with an apostrophe
so a spreadsheet shows them as text instead of running them as formulas (CSV injection).
"""

from __future__ import annotations

import csv
import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    # utf-8-sig: the BOM tells Excel the file is UTF-8, so Korean text opens readable.
    # Every text field is quoted: pandas leaves a bare carriage return unquoted, which splits the
    # row and can start a new line with an unprotected formula.
    return neutralise(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def to_parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def to_json(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=1).encode("utf-8")
