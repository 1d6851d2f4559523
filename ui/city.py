"""Words and colours of the real-time city: crowd levels, road levels, hotspot names, times.

The feeds publish levels in Korean (여유 … 붐빔, 원활 / 서행 / 정체); they stay Korean in the data
and are translated here."""

from __future__ import annotations

import pandas as pd

from ui.i18n import current, t

CONGESTION = {"여유": 1, "보통": 2, "약간 붐빔": 3, "붐빔": 4}
_CONGESTION_KEYS = {1: "relaxed", 2: "normal", 3: "slightly_busy", 4: "busy"}
# Seoul's own colours for the four levels: green, yellow, orange, red (darkened for a light map).
CONGESTION_RGB = {1: (26, 152, 80), 2: (230, 171, 2), 3: (245, 110, 20), 4: (204, 28, 28)}
ROAD_LEVELS = ("원활", "서행", "정체")
_ROAD_KEYS = {"원활": "free", "서행": "slow", "정체": "jammed"}
ROAD_RGB = {"원활": (34, 150, 70), "서행": (240, 160, 20), "정체": (210, 30, 30)}
UNKNOWN_RGB = (150, 150, 150)
SOURCE = "citydata (서울시 실시간 도시데이터)"


def congestion_label(level) -> str:
    """'붐빔' → '붐빔' in Korean, 'Busy' in English; unknown text as it came."""
    if not isinstance(level, str):
        return "—"
    rank = CONGESTION.get(level)
    return t(f"levels.{_CONGESTION_KEYS[rank]}") if rank else level


def rank_label(rank) -> str:
    if rank is None or pd.isna(rank) or int(rank) not in _CONGESTION_KEYS:
        return "—"
    return t(f"levels.{_CONGESTION_KEYS[int(rank)]}")


def road_label(level) -> str:
    if not isinstance(level, str):
        return "—"
    key = _ROAD_KEYS.get(level)
    return t(f"levels.{key}") if key else level


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def congestion_hex(rank) -> str:
    return _hex(CONGESTION_RGB.get(int(rank), UNKNOWN_RGB) if rank is not None and pd.notna(rank) else UNKNOWN_RGB)


def road_hex(level) -> str:
    return _hex(ROAD_RGB.get(level, UNKNOWN_RGB))


def hotspot_name(row) -> str:
    """A hotspot's name in the session's language (English names come from the reference list)."""
    if current() == "en":
        en = row.get("area_name_en")
        if isinstance(en, str) and en:
            return en
    name = row.get("area_name")
    return name if isinstance(name, str) and name else str(row.get("area_code", ""))


def people(low, high) -> str:
    """'30,000–38,000명' / '30,000–38,000 people'."""
    if low is None or pd.isna(low):
        return "—"
    if high is None or pd.isna(high) or int(high) == int(low):
        return t("crowds.people", n=f"{int(low):,}")
    return t("crowds.people", n=f"{int(low):,}–{int(high):,}")


def speed(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f} km/h"


def hhmm(value) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%H:%M")


def clearance(expected, minutes) -> str:
    """Expected clearance in words: 'at 19:34 (in 94 min)', 'expected by 17:30 (overdue)', 'unknown'."""
    if expected is None or pd.isna(expected):
        return t("traffic.clear_unknown")
    if minutes is None or pd.isna(minutes):
        return hhmm(expected)
    if minutes < 0:
        return t("traffic.clear_overdue", time=hhmm(expected))
    return t("traffic.clear_in", time=hhmm(expected), minutes=int(minutes))


CATEGORY_KEYS = {
    "관광특구": "tourist_zone",
    "고궁·문화유산": "heritage",
    "인구밀집지역": "busy_area",
    "발달상권": "shopping",
    "공원": "park",
}


def category_label(category) -> str:
    if not isinstance(category, str) or not category:
        return "—"
    key = CATEGORY_KEYS.get(category)
    return t(f"categories.{key}") if key else category


def level_cell(rank) -> str:
    """'4 · 붐빔': a list column that sorts in level order and reads without colour."""
    if rank is None or pd.isna(rank):
        return "—"
    return f"{int(rank)} · {rank_label(rank)}"
