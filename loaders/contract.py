"""Declared contracts: which wire fields become which columns, how they parse, what they must hold.

A contract turns a list of wire records (all strings, sometimes numbers or missing) into a clean
DataFrame and a frame of rejected rows, each with its reason. Parsing is vectorised with pandas,
so a few hundred thousand rows validate in well under a second.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Values the feeds use for "nothing here" in numeric fields ("점검중" = under maintenance).
MISSING_MARKERS = {"", "-", "점검중", "null", "None", "NaN", "nan"}

Check = Callable[[pd.Series], pd.Series]


@dataclass(frozen=True)
class Column:
    name: str
    sources: tuple[str, ...]  # wire names, first present wins (tolerates renamed fields)
    kind: str  # text | int | number | date | datetime | month | flag (Y/N)
    sql_type: str
    required: bool = True
    check: Check | None = None
    check_reason: str = ""


def _rejections(records: list[dict], row_numbers, reasons) -> pd.DataFrame:
    row_numbers = [int(n) for n in row_numbers]
    return pd.DataFrame(
        {
            "row_number": pd.Series(row_numbers, dtype="int64"),
            "reason": pd.Series(list(reasons), dtype="object"),
            "record": pd.Series(
                [json.dumps(records[n - 1], ensure_ascii=False, default=str) for n in row_numbers], dtype="object"
            ),
        }
    )


@dataclass
class ContractResult:
    clean: pd.DataFrame  # parsed columns plus `_row`, the 1-based position on the wire
    rejected: pd.DataFrame  # row_number, reason, record (JSON of the wire record)
    received: int
    records: list[dict]
    sources: dict[str, str | None] = field(default_factory=dict)  # column -> the wire field read, if any

    @property
    def invalid_share(self) -> float:
        return len(self.rejected) / self.received if self.received else 0.0

    def reject(self, mask: pd.Series, reasons: pd.Series | str) -> None:
        """Move rows that fail a check made after parsing (e.g. a lookup) into `rejected`."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        if isinstance(reasons, str):
            reasons = pd.Series(reasons, index=self.clean.index)
        extra = _rejections(self.records, self.clean.loc[mask, "_row"], reasons[mask].astype(str))
        self.rejected = pd.concat([self.rejected, extra], ignore_index=True)
        self.clean = self.clean[~mask].reset_index(drop=True)


def _text(raw: pd.Series) -> pd.Series:
    s = raw.astype("string").str.strip()
    s = s.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v).astype("string")
    return s.mask(s.isin(MISSING_MARKERS))


def _number(raw: pd.Series) -> pd.Series:
    s = _text(raw).str.replace(",", "", regex=False)
    return pd.to_numeric(s, errors="coerce")


# Year-first forms only: 2026-11-19, 2026.11.19, "2026. 11. 19.", 2026/11/19, 20261119, each with an
# optional time (14:05, 14:05:09, 1405 in the compact form). "03/04/2026" or "Nov 19 2026" would
# otherwise be guessed (pandas' "mixed" read 03/04 as March 4), and a bare "1119" read as the year
# 1119: such values are quarantined as not a valid date instead (docs/faults.md).
_SEPARATED = (
    r"(?P<y>\d{4})[-./]\s*(?P<m>\d{1,2})[-./]\s*(?P<d>\d{1,2})\.?"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
)
_COMPACT = r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?"


_PLAIN = (
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M"),
)


def _timestamps(raw: pd.Series) -> pd.Series:
    s = _text(raw)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    # Most values come in a plain ISO form: parse those directly, the rest through the regexes.
    todo = s.notna()
    for pattern, form in _PLAIN:
        plain = todo & s.str.fullmatch(pattern).fillna(False).astype(bool)
        if plain.any():
            out[plain] = pd.to_datetime(s[plain], format=form, errors="coerce")
            todo &= ~plain
    rest = s[todo]
    if rest.empty:
        return out
    parts = rest.str.extract(f"^{_SEPARATED}$").fillna(rest.str.extract(f"^{_COMPACT}$"))
    iso = (
        parts["y"]
        + "-"
        + parts["m"].str.zfill(2)
        + "-"
        + parts["d"].str.zfill(2)
        + " "
        + parts["H"].fillna("0").str.zfill(2)
        + ":"
        + parts["M"].fillna("00")
        + ":"
        + parts["S"].fillna("00")
    )
    out[rest.index] = pd.to_datetime(iso, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    return out


def _date(raw: pd.Series) -> pd.Series:
    return _timestamps(raw).dt.normalize()


def _datetime(raw: pd.Series) -> pd.Series:
    return _timestamps(raw)


def _flag(raw: pd.Series) -> pd.Series:
    s = _text(raw).str.upper()
    return s.map({"Y": True, "N": False, "TRUE": True, "FALSE": False, "1": True, "0": False}).astype("boolean")


def _month(raw: pd.Series) -> pd.Series:
    s = _text(raw)
    ok = s.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False)
    return s.where(ok)


_PARSERS = {
    "text": _text,
    "number": _number,
    "int": _number,
    "date": _date,
    "datetime": _datetime,
    "month": _month,
    "flag": _flag,
}


class Contract:
    def __init__(self, columns: list[Column], key: tuple[str, ...] = ()):
        self.columns = columns
        self.key = key

    @property
    def sql_types(self) -> dict[str, str]:
        return {c.name: c.sql_type for c in self.columns}

    def apply(self, records: list[dict]) -> ContractResult:
        received = len(records)
        wire = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        # Field names in NFD (files saved on macOS) must still match the declared sources.
        wire.columns = [unicodedata.normalize("NFC", str(c)) for c in wire.columns]
        wire = wire.loc[:, ~wire.columns.duplicated()]
        out = pd.DataFrame(index=wire.index)
        reasons = pd.Series([""] * received, index=wire.index, dtype="object")

        def flag(mask: pd.Series, reason: str) -> None:
            mask = mask.fillna(False).astype(bool)
            reasons[mask] = reasons[mask] + np.where(reasons[mask] == "", "", "; ") + reason

        sources = {}
        for col in self.columns:
            source = next((s for s in col.sources if s in wire.columns), None)
            sources[col.name] = source
            if source is None:
                raw = pd.Series([None] * received, index=wire.index, dtype="object")
                if col.required and received:
                    flag(pd.Series(True, index=wire.index), f"field {'/'.join(col.sources)} is absent")
                    out[col.name] = raw
                    continue
            else:
                raw = wire[source]
            parsed = _PARSERS[col.kind](raw)
            if col.kind == "int":
                parsed = parsed.where(parsed.isna() | (parsed == parsed.round()))
            raw_text = _text(raw)
            unparseable = parsed.isna() & raw_text.notna()
            flag(unparseable, f"{source} is not a valid {col.kind}")
            if col.required:
                flag(raw_text.isna(), f"{source or col.name} is missing")
            if col.check is not None:
                present = parsed.notna()
                bad = present & ~col.check(parsed).fillna(False).astype(bool)
                flag(bad, col.check_reason or f"{col.name} fails its check")
            out[col.name] = parsed

        if self.key and received:
            dup = out.duplicated(subset=list(self.key), keep="first") & (reasons == "")
            flag(dup, f"duplicate {'/'.join(self.key)}")

        out["_row"] = np.arange(1, received + 1)
        bad_rows = (reasons != "").to_numpy()
        rejected = _rejections(records, np.flatnonzero(bad_rows) + 1, reasons[bad_rows].astype(str))
        clean = out[~bad_rows].reset_index(drop=True)
        for col in self.columns:
            if col.kind == "int" and col.name in clean:
                clean[col.name] = clean[col.name].astype("Int64")
        return ContractResult(clean=clean, rejected=rejected, received=received, records=records, sources=sources)
