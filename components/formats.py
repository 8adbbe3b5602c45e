"""Chinese number and date formatting used by every page and export (display only)."""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

GRADE_COLORS = {  # one colour per grade label, used everywhere (badges, charts, heat maps)
    "优秀": "#c0392b",
    "良好": "#d68910",
    "合格": "#2e86c1",
    "不合格": "#7f8c8d",
    # star and class schemes (评星定级, 分类定级): the same palette, best first
    "五星级": "#c0392b", "四星级": "#d68910", "三星级": "#2e86c1", "二星级": "#5d6d7e", "一星级": "#7f8c8d",
    "五星": "#c0392b", "四星": "#d68910", "三星": "#2e86c1", "二星": "#5d6d7e", "一星": "#7f8c8d",
    "一类": "#c0392b", "二类": "#2e86c1", "三类": "#7f8c8d",
    "好": "#c0392b", "较好": "#d68910", "一般": "#2e86c1", "差": "#7f8c8d",
}
FALLBACK_GRADE_COLORS = ["#c0392b", "#d68910", "#2e86c1", "#7f8c8d", "#5d6d7e"]
STATUS_COLORS = {"达标": "success", "未达标": "danger", "不适用": "secondary", "缺报": "warning",
                 "未到期": "light", "加分": "success", "否决": "dark"}


def grade_color(label: str | None, order: int | None = None) -> str:
    if label in GRADE_COLORS:
        return GRADE_COLORS[label]
    if order is not None and 0 <= order < len(FALLBACK_GRADE_COLORS):
        return FALLBACK_GRADE_COLORS[order]
    return "#5d6d7e"


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def round_half_up(x: float, places: int = 2) -> float:
    return _round_half_up(float(x), places)


@lru_cache(maxsize=65536)  # a ranking of 10,000 units rounds the same totals on every view
def _round_half_up(x: float, places: int) -> float:
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def fmt_points(x, places: int = 2) -> str:
    """两位小数, half up: 82.5 → 「82.50」; missing → 「—」."""
    if _is_missing(x):
        return "—"
    return f"{round_half_up(x, places):.{places}f}"


def fmt_pct(x, places: int = 1) -> str:
    """A fraction as 百分比: 0.8125 → 「81.3%」."""
    if _is_missing(x):
        return "—"
    return f"{round_half_up(x * 100, places):.{places}f}%"


def fmt_delta(x) -> str:
    if _is_missing(x):
        return "—"
    if abs(x) < 0.005:
        return "持平"
    return ("▲ " if x > 0 else "▼ ") + fmt_points(abs(x))


def fmt_date(d) -> str:
    """2026-07-05 → 「2026年7月5日」."""
    if _is_missing(d) or d is None:
        return "—"
    if isinstance(d, str):
        d = dt.date.fromisoformat(d[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_datetime(t) -> str:
    if _is_missing(t) or t is None:
        return "—"
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"


def fmt_rank(rank, n=None) -> str:
    if _is_missing(rank):
        return "—"
    return f"第 {int(rank)} 名" + (f"（共 {n} 个）" if n else "")
