"""Charts for the documents, drawn on the server with matplotlib (Agg) in a Chinese font: PNG bytes out."""
from __future__ import annotations

import io

from reports.fonts import chart_font


class _Pyplot:
    """matplotlib.pyplot, imported on the first chart (about 0.5 s): not when every worker and every
    command-line run starts, since most never draw one."""

    def __getattr__(self, name: str):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot

        return getattr(matplotlib.pyplot, name)


plt = _Pyplot()

GRADE_COLORS = {"优秀": "#c0392b", "良好": "#d68910", "合格": "#2e86c1", "不合格": "#7f8c8d"}
FALLBACK = ["#c0392b", "#d68910", "#2e86c1", "#7f8c8d", "#5d6d7e"]


def _figure(width_in: float, height_in: float):
    name = chart_font()
    rc = {"font.size": 10, "axes.unicode_minus": False, "axes.spines.top": False, "axes.spines.right": False}
    if name:
        rc["font.family"] = [name]
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=150)
    return fig, ax, rc


def _png(fig, rc) -> bytes:
    buf = io.BytesIO()
    with plt.rc_context(rc):
        fig.tight_layout()
        fig.savefig(buf, format="png", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def grade_distribution(counts: list[tuple[str, int]]) -> bytes:
    """Bar chart: units per grade, each bar labelled with its count."""
    fig, ax, rc = _figure(6.0, 2.8)
    with plt.rc_context(rc):
        labels = [g for g, _ in counts]
        values = [n for _, n in counts]
        colors = [GRADE_COLORS.get(g, FALLBACK[i % len(FALLBACK)]) for i, g in enumerate(labels)]
        bars = ax.bar(labels, values, color=colors, width=0.55)
        ax.bar_label(bars, labels=[f"{v} 个" for v in values], padding=2)
        ax.set_ylabel("单位数")
        ax.set_title("等次分布")
        ax.set_ylim(0, max(values + [1]) * 1.25)
    return _png(fig, rc)


def area_averages(names: list[str], pcts: list[float]) -> bytes:
    """Horizontal bars: average score rate (%) per first-level area."""
    fig, ax, rc = _figure(6.0, 0.42 * len(names) + 1.0)
    with plt.rc_context(rc):
        y = list(range(len(names)))[::-1]
        bars = ax.barh(y, pcts, color="#c0392b", height=0.55)
        ax.set_yticks(y, names)
        ax.bar_label(bars, labels=[f"{p:.1f}%" for p in pcts], padding=3)
        ax.set_xlim(0, 110)
        ax.set_xlabel("平均得分率（%）")
        ax.set_title("各一级指标平均得分率")
    return _png(fig, rc)
