"""Plotly figure builders (pure): grade distribution, score spread, radar, trend, heat map.

Every figure uses the app's font stack and the zh-CN plotly locale (served from
assets/vendor); colours for grades come from the caller so they match badges.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
GRAPH_CONFIG = {"locale": "zh-CN", "displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}


def _layout(fig: go.Figure, height: int, **extra) -> go.Figure:
    extra.setdefault("margin", dict(l=40, r=16, t=30, b=40))
    fig.update_layout(height=height, font=dict(family=FONT, size=12),
                      paper_bgcolor="white", plot_bgcolor="white", separators=".,", **extra)
    return fig


def make_grade_bar(labels: list[str], counts: list[int], colors: list[str], height: int = 260) -> go.Figure:
    fig = go.Figure(go.Bar(x=labels, y=counts, marker_color=colors, text=counts, textposition="outside",
                           hovertemplate="%{x}：%{y} 个单位<extra></extra>", cliponaxis=False))
    fig.update_yaxes(title_text="单位数", gridcolor="#eee", rangemode="tozero")
    return _layout(fig, height, showlegend=False)


ALL_POINTS_UP_TO = 400  # units per category drawn as points; beyond, the box is computed here


def make_score_spread(groups: dict, names: dict, height: int = 300) -> go.Figure:
    """Box per category; every unit drawn as a point up to a few hundred. Beyond that the quartiles and
    fences are computed here (as plotly would: linear quartiles, 1.5 × IQR whiskers) and only the
    outliers are sent as points, so 10,000 units do not ship 10,000 numbers to draw one box."""
    fig = go.Figure()
    style = dict(line_width=1.2, fillcolor="rgba(192,57,43,0.08)", marker_color="#c0392b", line_color="#a93226")
    for cat, values in groups.items():
        if len(values) <= ALL_POINTS_UP_TO:
            fig.add_trace(go.Box(y=values, name=cat, boxpoints="all", jitter=0.4, pointpos=0, marker_size=5,
                                 text=names.get(cat), hovertemplate="%{text}<br>总分 %{y:.2f}<extra></extra>",
                                 **style))
            continue
        v = np.asarray(values, dtype=float)
        labels = np.asarray(names.get(cat) if names.get(cat) is not None else [""] * len(v), dtype=object)
        ok = ~np.isnan(v)
        v, labels = v[ok], labels[ok]
        if not len(v):
            continue
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = (v >= lo) & (v <= hi)
        fig.add_trace(go.Box(x=[cat], name=cat, q1=[q1], median=[med], q3=[q3], lowerfence=[v[inside].min()],
                             upperfence=[v[inside].max()], boxpoints=False, hoverinfo="y", **style))
        if (~inside).any():
            fig.add_trace(go.Scatter(x=[cat] * int((~inside).sum()), y=v[~inside], mode="markers", name=cat,
                                     text=labels[~inside], marker=dict(size=5, color="#c0392b"),
                                     hovertemplate="%{text}<br>总分 %{y:.2f}<extra></extra>"))
    fig.update_yaxes(title_text="总分", gridcolor="#eee")
    return _layout(fig, height, showlegend=False)


def make_radar(areas: list[str], unit_pct: list[float], avg_pct: list[float], unit_label: str,
               avg_label: str = "同类平均", height: int = 340) -> go.Figure:
    closed = areas + areas[:1]
    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(r=[v * 100 for v in avg_pct + avg_pct[:1]], theta=closed, name=avg_label,
                                  line=dict(color="#7f8c8d", dash="dot"), hovertemplate="%{theta}：%{r:.1f}%"))
    fig.add_trace(go.Scatterpolar(r=[v * 100 for v in unit_pct + unit_pct[:1]], theta=closed, name=unit_label,
                                  fill="toself", fillcolor="rgba(192,57,43,0.15)", line=dict(color="#c0392b"),
                                  hovertemplate="%{theta}：%{r:.1f}%"))
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 100], ticksuffix="%", angle=67.5, tickfont_size=9, tickfont_color="#8a929a")),
                      legend=dict(orientation="h", y=-0.12))
    return _layout(fig, height, margin=dict(l=60, r=60, t=30, b=30))


def make_trend(periods: list[str], totals: list[float], grades: list[str], colors: list[str],
               height: int = 260) -> go.Figure:
    fig = go.Figure(go.Scatter(x=periods, y=totals, mode="lines+markers+text", text=grades,
                               textposition="top center", marker=dict(size=10, color=colors),
                               line=dict(color="#a93226"), hovertemplate="%{x}<br>总分 %{y:.2f}<extra></extra>",
                               cliponaxis=False))
    fig.update_yaxes(title_text="总分", gridcolor="#eee", range=[0, 108])
    fig.update_xaxes(type="category")
    return _layout(fig, height, showlegend=False)


def make_heatmap(z: list[list[float]], x: list[str], y: list[str], customdata: list[list[str]],
                 height: int | None = None, hover_note: str = "点击查看该单位") -> go.Figure:
    """Score rates (0–100) as coloured cells with the number written in each cell (「92.5」, blank when
    the area has no maximum)."""
    text = [["" if v is None else f"{v:.1f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=y, customdata=customdata, text=text, texttemplate="%{text}", textfont=dict(size=11),
        zmin=0, zmax=100, xgap=2, ygap=1,
        colorscale=[[0, "#7b241c"], [0.6, "#f5b7b1"], [0.85, "#fdebd0"], [1, "#d5f5e3"]],
        colorbar=dict(title="得分率%", ticksuffix="%"),
        hovertemplate="%{y}<br>%{x}：得分率 %{z:.1f}%<br>" + hover_note + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", tickfont_size=11)
    fig.update_xaxes(side="top", tickangle=0, tickfont_size=11)
    return _layout(fig, height or max(320, 26 * len(y) + 110), margin=dict(l=200, r=20, t=80, b=20))
