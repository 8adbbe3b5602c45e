"""Pure builders for the organisation pages: the unit tree (局 → 党委/党总支 → 党支部) and the 各局对比 bars.

Plain dicts in (as ``data.org.unit_tree`` returns them), components out; no data imports.
"""
from __future__ import annotations

from html import escape

import plotly.graph_objects as go
from dash import dcc, html

KIND_CLASSES = {"党委": "bg-danger", "党总支": "bg-warning text-dark", "党支部": "bg-secondary"}


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _unit_html(u: dict) -> str:
    members = f"正式党员 {int(u.get('members_full') or 0)} 人"
    if int(u.get("members_probationary") or 0):
        members += f"、预备 {int(u['members_probationary'])} 人"
    facts = " · ".join(x for x in (u.get("category") or "", f"书记 {u['secretary']}" if u.get("secretary") else "",
                                   members) if x)
    line = (f'<span class="badge {KIND_CLASSES.get(u["kind"], "bg-secondary")} me-2">{_e(u["kind"])}</span>'
            f'<span class="fw-semibold org-unit-name">{_e(u["name"])}</span>'
            f'<span class="text-muted ms-2 small org-unit-code">{_e(u["code"])}</span>'
            f'<span class="small-muted ms-2">{_e(facts)}</span>'
            + ('<span class="badge bg-light text-dark ms-2">不参加考核</span>' if not u.get("assessed", True) else ""))
    kids = u.get("children") or []
    sub = f'<ul class="org-children">{"".join(_unit_html(k) for k in kids)}</ul>' if kids else ""
    return f'<li data-code="{_e(u["code"])}"><div class="org-unit">{line}</div>{sub}</li>'


def make_unit_tree(bureaus: list[dict], open_all: bool = False):
    """One collapsible block per 局, its units nested under their parents.

    Written as one escaped HTML fragment in a single ``dcc.Markdown``: hundreds of units as Dash
    components take the browser tens of seconds to re-render after a callback; one component
    takes milliseconds. Every value is HTML-escaped (names come from uploaded files).
    """
    if not bureaus:
        return html.Div("还没有单位：请先导入单位名单，或在下方逐个新增。", className="empty-state", id="org-tree-empty")
    blocks = []
    for i, b in enumerate(bureaus):
        units = "".join(_unit_html(u) for u in b["units"])
        blocks.append(f'<details class="org-bureau-block" data-bureau="{_e(b["bureau"])}"'
                      f'{" open" if open_all or i == 0 else ""}><summary class="org-bureau">'
                      f'<span class="fw-semibold">{_e(b["bureau"])}</span>'
                      f'<span class="small-muted ms-2">{int(b["count"])} 个单位</span></summary>'
                      f'<ul class="org-children org-root">{units}</ul></details>')
    return dcc.Markdown("".join(blocks), dangerously_allow_html=True, className="org-tree")


def make_bureau_bars(bureaus: list[str], averages: list[float], deltas: list[float | None]) -> go.Figure:
    text = [f"{a:.2f}" + ("" if d is None else f"（{'+' if d >= 0 else ''}{d:.2f}）") for a, d in zip(averages, deltas)]
    fig = go.Figure(go.Bar(x=averages, y=bureaus, orientation="h", marker_color="#c0392b", text=text,
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}：平均 %{x:.2f} 分<extra></extra>"))
    fig.update_layout(height=max(260, 34 * len(bureaus) + 80), margin=dict(l=10, r=60, t=10, b=30),
                      yaxis=dict(autorange="reversed"), xaxis=dict(title="平均总分", range=[0, 110]),
                      plot_bgcolor="#fff", font=dict(family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"))
    return fig
