"""差距分析 · 活动规律性: units with months (or quarters) without a valid activity record, as the table's
``regular`` rules check them. Rows come from ``data.record_views.regularity`` (the period's score, the
user's scope and the page's 局 filter); the grid sorts on any column. No callbacks of its own: the
page's 局 selector re-renders the page.
"""
from __future__ import annotations

from dash import html

from components.cards import make_section
from components.grids import frame_rows, make_grid, number_col, text_col
from components.records import RHYTHM_LABELS, make_regularity_grid_rows
from data import record_views

LIMIT = 500  # grid rows; the 局 filter reaches the rest


def regularity_section(principal, period_code: str, bureau: str | None):
    df = record_views.regularity(principal, period_code, bureau=bureau)
    n_units = df["unit"].nunique()
    if df.empty:
        body = html.Div("没有缺少月份（季度）活动记录的单位；或本期指标体系未设定按月、按季度开展的要求。",
                        className="text-muted small", id="gaps-regularity-empty")
        note = ""
    else:
        rows = df.head(LIMIT).assign(rhythm=lambda d: d["rhythm"].map(lambda r: RHYTHM_LABELS.get(r, r)))
        body = make_grid("gaps-regularity-grid", make_regularity_grid_rows(frame_rows(rows), period_code), [
            text_col("name_link", "单位", 200, cellRenderer="markdown", tooltipField="name",
                     filterValueGetter={"function": "params.data.name"}),
            text_col("bureau", "所属局", 110), text_col("activity_type", "活动", 100),
            text_col("rhythm", "要求", 70),
            number_col("n_missing", "缺失月（季）数", 110, places=0, sort="desc"),
            text_col("missing", "未开展的月份/季度", 220, flex=2, wrapText=True, autoHeight=True),
            number_col("records", "有效记录", 90, places=0), number_col("typed", "填报数", 80, places=0),
            number_col("below", "出席不足未计", 110, places=0),
        ], height=420, row_id=None, pagination=True, page_size=20)
        note = f"{n_units} 个单位、{len(df)} 项活动未按规律开展" + (f"，显示前 {LIMIT} 项（请按局筛选）" if len(df) > LIMIT else "")
    return make_section("活动规律性（按月、按季度应开展而未开展）", body,
                        right=html.Span(note, className="small-muted", id="gaps-regularity-note"),
                        id_="gaps-regularity")
