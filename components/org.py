"""Pure builders for the organisation pages: the unit tree (局 → 党委/党总支 → 党支部) and the 各局对比 bars.

Plain dicts in (as ``data.org.unit_tree`` returns them), components out; no data imports.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

KIND_COLORS = {"党委": "danger", "党总支": "warning", "党支部": "secondary"}


def _unit_line(u: dict) -> list:
    members = f"正式党员 {int(u.get('members_full') or 0)} 人"
    if int(u.get("members_probationary") or 0):
        members += f"、预备 {int(u['members_probationary'])} 人"
    facts = [x for x in (u.get("category") or "", f"书记 {u['secretary']}" if u.get("secretary") else "", members) if x]
    return [dbc.Badge(u["kind"], color=KIND_COLORS.get(u["kind"], "secondary"), className="me-2",
                      text_color="dark" if u["kind"] == "党总支" else None),
            html.Span(u["name"], className="fw-semibold org-unit-name"),
            html.Span(u["code"], className="text-muted ms-2 small org-unit-code"),
            html.Span(" · ".join(facts), className="small-muted ms-2"),
            html.Span("不参加考核", className="badge bg-light text-dark ms-2") if not u.get("assessed", True) else None]


def _unit_item(u: dict) -> html.Li:
    kids = u.get("children") or []
    return html.Li([html.Div(_unit_line(u), className="org-unit"),
                    html.Ul([_unit_item(k) for k in kids], className="org-children") if kids else None],
                   **{"data-code": u["code"]})


def make_unit_tree(bureaus: list[dict], open_all: bool = False) -> html.Div:
    """One collapsible block per 局, its units nested under their parents."""
    if not bureaus:
        return html.Div("还没有单位：请先导入单位名单，或在下方逐个新增。", className="empty-state", id="org-tree-empty")
    blocks = []
    for i, b in enumerate(bureaus):
        blocks.append(html.Details([
            html.Summary([html.Span(b["bureau"], className="fw-semibold"),
                          html.Span(f"{b['count']} 个单位", className="small-muted ms-2")], className="org-bureau"),
            html.Ul([_unit_item(u) for u in b["units"]], className="org-children org-root"),
        ], open=open_all or i == 0, className="org-bureau-block", **{"data-bureau": b["bureau"]}))
    return html.Div(blocks, className="org-tree")


def make_bureau_bars(bureaus: list[str], averages: list[float], deltas: list[float | None]) -> go.Figure:
    text = [f"{a:.2f}" + ("" if d is None else f"（{'+' if d >= 0 else ''}{d:.2f}）") for a, d in zip(averages, deltas)]
    fig = go.Figure(go.Bar(x=averages, y=bureaus, orientation="h", marker_color="#c0392b", text=text,
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}：平均 %{x:.2f} 分<extra></extra>"))
    fig.update_layout(height=max(260, 34 * len(bureaus) + 80), margin=dict(l=10, r=60, t=10, b=30),
                      yaxis=dict(autorange="reversed"), xaxis=dict(title="平均总分", range=[0, 110]),
                      plot_bgcolor="#fff", font=dict(family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"))
    return fig
