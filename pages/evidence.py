"""佐证核查: items scored 达标 without evidence (「无佐证」) and 佐证材料 awaiting review, for 考核组,
局领导 and 管理员. Filtered by 局, sorted and paged on the server (``data.evidence_flags.review_overview``),
so the page stays the same size at 10,000 units. Reached from 整改台账 (the navbar is full at 1366 px).
"""
from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import secure_callback
from components.attachments import file_url, make_no_evidence_badge
from components.cards import make_kpi_card, make_section
from components.formats import fmt_datetime
from components.shell import make_empty, make_page_header, make_period_select
from data import evidence_flags, services
from pages._access import open_page, period_options
from scoring.glossary import period_label
from scoring.rules import fmt_number

dash.register_page(__name__, path="/evidence", name="佐证核查", title="佐证核查 · 党建工作考核系统",
                   nav=False, nav_key="evidence")

ALL_BUREAUS = "__all__"
AUTO = {"width": "auto"}


def _int(v) -> int:
    try:
        return max(1, int(v))
    except (TypeError, ValueError):
        return 1


def _pager(id_: str, pages: int, page: int):
    # Always drawn (the navigate callback listens to both), hidden when there is one page.
    return dbc.Pagination(id=id_, max_value=pages, active_page=page, size="sm", fully_expanded=False,
                          first_last=True, previous_next=True, className="mb-0 mt-2",
                          style=None if pages > 1 else {"display": "none"})


def _flag_table(ov: dict, period_code: str):
    rows = ov["flags"]
    if rows.empty:
        return make_empty("没有「无佐证」的达标指标")
    body = [html.Tr([html.Td(dcc.Link(r.name, href=f"/branch/{r.unit}?period={period_code}")),
                     html.Td(r.unit), html.Td(r.bureau or "—"),
                     html.Td([f"{r.item} {r.item_name}", make_no_evidence_badge(True)]),
                     html.Td(fmt_number(float(r.points)), className="text-end")])
            for r in rows.itertuples(index=False)]
    return dbc.Table([html.Thead(html.Tr([html.Th("单位"), html.Th("编码"), html.Th("局"), html.Th("指标"),
                                          html.Th("得分", className="text-end")])), html.Tbody(body)],
                     size="sm", hover=True, className="mb-0", id="evidence-flags")


def _pending_table(ov: dict, period_code: str):
    rows = ov["pending"]
    if rows.empty:
        return make_empty("没有待核查的佐证材料")
    body = [html.Tr([html.Td(dcc.Link(r.name, href=f"/branch/{r.unit}?period={period_code}")),
                     html.Td(r.bureau or "—"), html.Td(r.target),
                     html.Td(html.A(r.file_name, href=file_url(r.id))), html.Td(fmt_datetime(r.uploaded_at))])
            for r in rows.itertuples(index=False)]
    return dbc.Table([html.Thead(html.Tr([html.Th("单位"), html.Th("局"), html.Th("对应"), html.Th("文件"),
                                          html.Th("上传时间")])), html.Tbody(body)],
                     size="sm", hover=True, className="mb-0", id="evidence-pending")


def layout(period: str | None = None, bureau: str | None = None, fsort: str | None = None,
           psort: str | None = None, fpage: str | None = None, ppage: str | None = None, **_):
    principal, period_code, error = open_page("evidence", period)
    if error:
        return error
    if bureau == ALL_BUREAUS:
        bureau = None
    ov = evidence_flags.review_overview(principal, period_code, bureau=bureau or None, flag_sort=fsort or "bureau",
                                        pending_sort=psort or "oldest", flag_page=_int(fpage),
                                        pending_page=_int(ppage))
    bureau = ov["bureau"] if ov["bureau"] in ov["bureaus"] else None
    header = make_page_header(
        "佐证核查", f"{period_label(period_code)} · 得分为达标但没有佐证材料或活动记录的指标，以及待核查的佐证材料",
        right=[make_period_select("evidence-period", period_options(), period_code),
               dbc.Select(id="evidence-bureau", value=bureau or ALL_BUREAUS, size="sm", className="period-select",
                          style=AUTO, options=[{"label": "全部局", "value": ALL_BUREAUS}]
                          + [{"label": b, "value": b} for b in ov["bureaus"]])])
    cards = html.Div([make_kpi_card("无佐证的达标指标", f"{ov['n_flags']} 项", note=f"涉及 {ov['flag_units']} 个单位",
                                    id_="evidence-n-flags"),
                      make_kpi_card("待核查的佐证材料", f"{ov['n_pending']} 份", id_="evidence-n-pending")],
                     className="d-grid gap-3 mb-3", style={"gridTemplateColumns": "repeat(2, 1fr)"})
    view = {"period": period_code, "bureau": bureau, "fsort": ov["flag_sort"], "psort": ov["pending_sort"],
            "fpage": ov["flag_page"], "ppage": ov["pending_page"]}
    sort_select = dbc.Select(id="evidence-fsort", value=ov["flag_sort"], size="sm", style=AUTO,
                             options=[{"label": v, "value": k} for k, v in evidence_flags.FLAG_SORTS.items()])
    psort_select = dbc.Select(id="evidence-psort", value=ov["pending_sort"], size="sm", style=AUTO,
                              options=[{"label": v, "value": k} for k, v in evidence_flags.PENDING_SORTS.items()])
    return html.Div([
        dcc.Location(id="evidence-url", refresh="callback-nav"),
        dcc.Store(id="evidence-view", data=view),
        header, cards,
        make_section(f"无佐证（共 {ov['n_flags']} 项）", [_flag_table(ov, period_code),
                                                       _pager("evidence-fpage", ov["flag_pages"], ov["flag_page"])],
                     right=sort_select),
        make_section(f"待核查的佐证材料（共 {ov['n_pending']} 份）",
                     [_pending_table(ov, period_code), _pager("evidence-ppage", ov["pending_pages"], ov["pending_page"])],
                     right=psort_select),
    ])


@secure_callback(Output("evidence-url", "search"), Input("evidence-period", "value"), Input("evidence-bureau", "value"),
                 Input("evidence-fsort", "value"), Input("evidence-psort", "value"),
                 Input("evidence-fpage", "active_page"), Input("evidence-ppage", "active_page"),
                 State("evidence-view", "data"), prevent_initial_call=True, action="view_evidence_review")
def _navigate(period_code, bureau, fsort, psort, fpage, ppage, view):
    """Any selector or page change → the URL (a new period, 局 or sort starts both lists at page 1)."""
    if not services.period_exists(period_code):
        return no_update
    view = view if isinstance(view, dict) else {}
    trigger = dash.ctx.triggered_id
    params = {"period": period_code,
              "bureau": bureau if isinstance(bureau, str) and bureau != ALL_BUREAUS else None,
              "fsort": fsort if fsort in evidence_flags.FLAG_SORTS else None,
              "psort": psort if psort in evidence_flags.PENDING_SORTS else None}
    if trigger == "evidence-fpage":
        params.update(fpage=_int(fpage), ppage=_int(view.get("ppage")))
    elif trigger == "evidence-ppage":
        params.update(fpage=_int(view.get("fpage")), ppage=_int(ppage))
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "", 1)})
