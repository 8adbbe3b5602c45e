"""Plotly figure builders (pure): grade distribution, score spread, radar, trend, heat map.

Every figure uses the app's font stack and the zh-CN plotly locale (served from
assets/vendor); colours for grades come from the caller so they match badges.

Figures are plain dicts in plotly's figure schema (``{"data": [...], "layout": {...}}``), with the
template ``go.Figure`` applies by default, so they look the same. Building a ``go.Figure`` validates
every property through plotly's class tree: 11–12 ms for the branch page's radar or trend, 0.2 ms as
a dict, on every view. tests/components/test_charts.py is the check a ``go.Figure`` would make:
each builder's dict must pass through ``go.Figure`` unchanged.
"""
from __future__ import annotations

import numpy as np
import plotly.io as pio

FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
GRAPH_CONFIG = {"locale": "zh-CN", "displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}
TEMPLATE = pio.templates[pio.templates.default].to_plotly_json()  # what go.Figure() puts in layout.template


def _trace(kind: str, **props) -> dict:
    """A trace of type ``kind``; None values are left out (as go.Figure leaves out unset properties)."""
    return {"type": kind, **{k: v for k, v in props.items() if v is not None}}


def _figure(traces: list[dict], height: int, **layout) -> dict:
    layout.setdefault("margin", dict(l=40, r=16, t=30, b=40))
    return {"data": traces, "layout": {"template": TEMPLATE, "height": height, "font": dict(family=FONT, size=12),
                                       "paper_bgcolor": "white", "plot_bgcolor": "white", "separators": ".,",
                                       **layout}}


def make_grade_bar(labels: list[str], counts: list[int], colors: list[str], height: int = 260) -> dict:
    bar = _trace("bar", x=list(labels), y=list(counts), marker=dict(color=list(colors)), text=[str(c) for c in counts],
                 textposition="outside", hovertemplate="%{x}：%{y} 个单位<extra></extra>", cliponaxis=False)
    return _figure([bar], height, showlegend=False,
                   yaxis=dict(title=dict(text="单位数"), gridcolor="#eee", rangemode="tozero"))


ALL_POINTS_UP_TO = 400  # units per category drawn as points; beyond, the box is computed here


def make_score_spread(groups: dict, names: dict, height: int = 300) -> dict:
    """Box per category; every unit drawn as a point up to a few hundred. Beyond that the quartiles and
    fences are computed here (as plotly would: linear quartiles, 1.5 × IQR whiskers) and only the
    outliers are sent as points, so 10,000 units do not ship 10,000 numbers to draw one box."""
    traces = []
    style = dict(line=dict(width=1.2, color="#a93226"), fillcolor="rgba(192,57,43,0.08)")
    for cat, values in groups.items():
        if len(values) <= ALL_POINTS_UP_TO:
            text = names.get(cat)
            traces.append(_trace("box", y=np.asarray(values, dtype=float).tolist(), name=cat, boxpoints="all",
                                 jitter=0.4, pointpos=0, marker=dict(size=5, color="#c0392b"),
                                 text=None if text is None else list(text),
                                 hovertemplate="%{text}<br>总分 %{y:.2f}<extra></extra>", **style))
            continue
        v = np.asarray(values, dtype=float)
        labels = np.asarray(names.get(cat) if names.get(cat) is not None else [""] * len(v), dtype=object)
        ok = ~np.isnan(v)
        v, labels = v[ok], labels[ok]
        if not len(v):
            continue
        q1, med, q3 = (float(q) for q in np.quantile(v, [0.25, 0.5, 0.75]))
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = (v >= lo) & (v <= hi)
        traces.append(_trace("box", x=[cat], name=cat, q1=[q1], median=[med], q3=[q3],
                             lowerfence=[float(v[inside].min())], upperfence=[float(v[inside].max())],
                             boxpoints=False, hoverinfo="y", marker=dict(color="#c0392b"), **style))
        if (~inside).any():
            traces.append(_trace("scatter", x=[cat] * int((~inside).sum()), y=v[~inside].tolist(), mode="markers",
                                 name=cat, text=labels[~inside].tolist(), marker=dict(size=5, color="#c0392b"),
                                 hovertemplate="%{text}<br>总分 %{y:.2f}<extra></extra>"))
    return _figure(traces, height, showlegend=False, yaxis=dict(title=dict(text="总分"), gridcolor="#eee"))


def make_radar(areas: list[str], unit_pct: list[float], avg_pct: list[float], unit_label: str,
               avg_label: str = "同类平均", height: int = 340) -> dict:
    closed = list(areas) + list(areas[:1])
    average = _trace("scatterpolar", r=[v * 100 for v in avg_pct + avg_pct[:1]], theta=closed, name=avg_label,
                     line=dict(color="#7f8c8d", dash="dot"), hovertemplate="%{theta}：%{r:.1f}%")
    unit = _trace("scatterpolar", r=[v * 100 for v in unit_pct + unit_pct[:1]], theta=closed, name=unit_label,
                  fill="toself", fillcolor="rgba(192,57,43,0.15)", line=dict(color="#c0392b"),
                  hovertemplate="%{theta}：%{r:.1f}%")
    axis = dict(range=[0, 100], ticksuffix="%", angle=67.5, tickfont=dict(size=9, color="#8a929a"))
    return _figure([average, unit], height, polar=dict(radialaxis=axis), legend=dict(orientation="h", y=-0.12),
                   margin=dict(l=60, r=60, t=30, b=30))


def make_trend(periods: list[str], totals: list[float], grades: list[str], colors: list[str],
               height: int = 260) -> dict:
    line = _trace("scatter", x=list(periods), y=list(totals), mode="lines+markers+text", text=list(grades),
                  textposition="top center", marker=dict(size=10, color=list(colors)), line=dict(color="#a93226"),
                  hovertemplate="%{x}<br>总分 %{y:.2f}<extra></extra>", cliponaxis=False)
    return _figure([line], height, showlegend=False, xaxis=dict(type="category"),
                   yaxis=dict(title=dict(text="总分"), gridcolor="#eee", range=[0, 108]))


def make_heatmap(z: list[list[float]], x: list[str], y: list[str], customdata: list[list[str]],
                 height: int | None = None, hover_note: str = "点击查看该单位") -> dict:
    """Score rates (0–100) as coloured cells with the number written in each cell (「92.5」, blank when
    the area has no maximum)."""
    text = [["" if v is None else f"{v:.1f}" for v in row] for row in z]
    heat = _trace("heatmap", z=z, x=list(x), y=list(y), customdata=customdata, text=text, texttemplate="%{text}",
                  textfont=dict(size=11), zmin=0, zmax=100, xgap=2, ygap=1,
                  colorscale=[[0, "#7b241c"], [0.6, "#f5b7b1"], [0.85, "#fdebd0"], [1, "#d5f5e3"]],
                  colorbar=dict(title=dict(text="得分率%"), ticksuffix="%"),
                  hovertemplate="%{y}<br>%{x}：得分率 %{z:.1f}%<br>" + hover_note + "<extra></extra>")
    return _figure([heat], height or max(320, 26 * len(y) + 110), margin=dict(l=200, r=20, t=80, b=20),
                   yaxis=dict(autorange="reversed", tickfont=dict(size=11)),
                   xaxis=dict(side="top", tickangle=0, tickfont=dict(size=11)))
