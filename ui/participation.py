"""Labels and exports for the listening-forums and citizen-panel pages.

Text from files (forum topics, fields, outcomes) is untrusted: pages show it in tables or with
st.text, never as markdown or HTML. Plotly renders a subset of HTML in labels and hover text,
so any such text that reaches a chart goes through `plain` first.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from ui import export
from ui.i18n import current, strings, t

CELL_EXPORT_COLUMNS = [
    "sig_cd",
    "district_name",
    "gender",
    "age_band",
    "census_population",
    "census_share",
    "members",
    "panel_share",
    "gap_pp",
    "suppressed",
]
QUOTA_EXPORT_COLUMNS = [
    "seed",
    "sig_cd",
    "district_name",
    "gender",
    "age_band",
    "census_population",
    "exact_quota",
    "quota",
    "remainder_seat",
]


def plain(value) -> str:
    """Text for a plotly label: `<b>` shows as the characters, not as bold."""
    return escape(str(value), quote=False)


def field_label(field: str) -> str:
    return strings(current()).get("forum_fields", {}).get(field, field)


def gender_label(gender: str) -> str:
    return {"M": t("panel.gender_m"), "F": t("panel.gender_f")}.get(gender, gender)


def age_label(band: str) -> str:
    if band.endswith("+"):
        return t("panel.age_over", n=band[:-1])
    low, _, high = band.partition("-")
    return t("panel.age_range", low=low, high=high) if high else band


def district_label(frame: pd.DataFrame) -> pd.Series:
    """The district's name in the page's language; its SIG_CD when the reference table is missing,
    so rows stay distinct (a heat map needs one row per district)."""
    names = frame["district_name"]
    if current() == "en":
        names = frame["district_name_en"].fillna(names)
    return names.fillna(frame["sig_cd"]) if "sig_cd" in frame else names


def cells_export(cells: pd.DataFrame) -> bytes:
    """The district × gender × age band view as CSV: the rows `panel_by_cell` returned, already
    suppressed in SQL, so a hidden cell is empty here too."""
    return export.to_csv(cells[CELL_EXPORT_COLUMNS])


def quotas_export(quotas: pd.DataFrame) -> bytes:
    return export.to_csv(quotas[QUOTA_EXPORT_COLUMNS])
