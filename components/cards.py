"""Small pure builders: grade badges, KPI cards, status badges, labelled values.

No data or scoring imports: callers pass plain values.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.formats import STATUS_COLORS, grade_color
from components.lite import el


def make_grade_badge(label: str | None, order: int | None = None, id_: str | None = None) -> html.Span:
    kwargs = {"id": id_} if id_ else {}
    return html.Span(label or "—", className="grade-badge",
                     style={"backgroundColor": grade_color(label, order)}, **kwargs)


def make_status_badge(status: str) -> dict:
    """An item's 达标/部分/未达标… badge (``el``: one per item row of the branch page)."""
    color = STATUS_COLORS.get(status, "secondary")
    return el(dbc.Badge, status, color=color, text_color="dark" if color in ("light", "warning") else None,
              className="nowrap")


def make_kpi_card(label: str, value: str, note: str | None = None, id_: str | None = None,
                  accent: str | None = None) -> dbc.Card:
    kwargs = {"id": id_} if id_ else {}
    return dbc.Card(dbc.CardBody([
        html.Div(label, className="kpi-label"),
        html.Div(value, className="kpi-value", style={"color": accent} if accent else None),
        html.Div(note, className="kpi-note") if note else None,
    ]), className="kpi-card h-100", **kwargs)


def make_veto_mark(reason: str | None = None) -> html.Span:
    return html.Span("否决", className="veto-mark", title=reason or "一票否决")


def make_section(title: str, body, right=None, id_: str | None = None, class_name: str = "mb-3") -> dbc.Card:
    kwargs = {"id": id_} if id_ else {}
    header = html.Div([html.Span(title), html.Span(right) if right is not None else None],
                      className="d-flex justify-content-between align-items-center")
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className=class_name, **kwargs)


def make_alert(message: str, color: str = "info", id_: str | None = None) -> dbc.Alert:
    kwargs = {"id": id_} if id_ else {}
    return dbc.Alert(message, color=color, className="py-2 mb-2", **kwargs)
