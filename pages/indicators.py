"""指标体系: the period's indicator table as a tree (areas → items) with points, 评分标准,
rule type, ★ flags, bonus cap, veto items and grade bands; download as xlsx; admins upload
a new version (validated by the engine's loader, diff shown before saving)."""
from __future__ import annotations

import base64
import binascii

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_grade_badge, make_section
from components.formats import round_half_up
from components.grids import make_grid, number_col, text_col
from components.shell import make_page_header, make_period_select
from data import services, table_io, table_xlsx
from pages._access import open_page, period_options, period_search
from scoring.glossary import period_label, rule_label
from scoring.rules import fmt_number

dash.register_page(__name__, path="/indicators", name="指标体系", title="指标体系 · 党建工作考核系统",
                   nav=True, nav_key="indicators", nav_order=5)

PERIOD_TEXT = {"prorate": "上半年按半数考核", "annual": "仅年度考核"}


def _item_row(i, table) -> html.Tr:
    fields = "、".join(f"{table.fields[f].label}（{table.fields[f].unit}）" if f in table.fields else f
                      for f in i.fields) or "考核组评定"
    extra = [html.Div(f"{label}：{text}", className="small-muted") for label, text in
             (("考核内容", i.content), ("考评方式", i.method), ("考核部门", i.owner)) if text]
    if i.applies_to:
        extra.append(html.Div("适用范围：" + table_xlsx._applies_text(i.applies_to), className="small-muted"))
    if i.rule == "veto" and (i.grade or i.mode != "set"):
        extra.append(html.Div(f"{'最高定为' if i.mode == 'cap' else '定为'}{i.grade or table.veto_grade}",
                              className="small-muted"))
    return html.Tr([
        html.Td(("★ " if i.core else "") + i.code, className="nowrap"),
        html.Td([html.Div(i.name)] + ([html.Div(f"（{_group_name(table, i)}）", className="small-muted")]
                                       if i.group else [])),
        html.Td([html.Div(i.standard)] + extra, className="explain"),
        html.Td(fmt_number(i.points) if i.rule != "veto" else "—", className="text-end"),
        html.Td(rule_label(i.rule), className="nowrap"), html.Td(fields, className="small-muted"),
        html.Td(PERIOD_TEXT.get(i.period, "") if i.area not in ("加分项", "减分项", "一票否决") else
                (f"单项上限 {fmt_number(i.cap)} 分" if i.cap else ""), className="small-muted"),
    ])


def _group_name(table, i) -> str:
    area = table.area_of(i)
    gr = next((g for g in area.groups if g.code == i.group), None) if area else None
    return f"{gr.name} {fmt_number(gr.points)} 分" if gr else str(i.group)


def _grade_text(g) -> str:
    parts = [f" ≥ {fmt_number(g.min)} 分"]
    if g.max_pct is not None:
        parts.append(f"，不超过 {fmt_number(g.max_pct)}%")
    if g.min_pct is not None:
        parts.append(f"，不少于 {fmt_number(g.min_pct)}%")
    return "".join(parts)


def _tree(table) -> html.Div:
    head = html.Thead(html.Tr([html.Th("编码", style={"width": "70px"}), html.Th("二级指标", style={"width": "16%"}),
                               html.Th("评分标准"), html.Th("分值", style={"width": "56px"}),
                               html.Th("类型", style={"width": "92px"}), html.Th("数据项", style={"width": "18%"}),
                               html.Th("周期", style={"width": "136px"})]))
    items = [dbc.AccordionItem(dbc.Table([head, html.Tbody([_item_row(i, table) for i in a.items])], size="sm",
                                         className="mb-0", responsive=True),
                               title=f"{a.code} {a.name}（{fmt_number(a.points)} 分，{len(a.items)} 项）",
                               item_id=a.code) for a in table.areas]
    items.append(dbc.AccordionItem(dbc.Table([head, html.Tbody([_item_row(i, table) for i in table.bonus])],
                                             size="sm", className="mb-0", responsive=True),
                                   title=f"加分项（合计不超过 {fmt_number(table.bonus_cap)} 分）", item_id="bonus"))
    if table.penalty:
        items.append(dbc.AccordionItem(dbc.Table([head, html.Tbody([_item_row(i, table) for i in table.penalty])],
                                                 size="sm", className="mb-0", responsive=True),
                                       title="减分项（折算后扣除，总分最低 0 分）", item_id="penalty"))
    items.append(dbc.AccordionItem(dbc.Table([head, html.Tbody([_item_row(i, table) for i in table.veto])],
                                             size="sm", className="mb-0", responsive=True),
                                   title=f"一票否决（{len(table.veto)} 项，触发即定为「{table.veto_grade}」）",
                                   item_id="veto"))
    return dbc.Accordion(items, always_open=True, active_item=[a.code for a in table.areas[:1]],
                         id="indicators-tree")


def layout(period: str | None = None, **_):
    principal, period_code, error = open_page("indicators", period)
    if error:
        return error
    table = services.table_for_period(period_code)
    grades = html.Div([html.Span([make_grade_badge(g.label, k), html.Span(_grade_text(g), className="me-3")])
                       for k, g in enumerate(table.grades)] +
                      [html.Span(f"一票否决 → {table.veto_grade}", className="small-muted")], id="indicators-grades")
    core = "、".join(table.core_codes)
    summary = make_section("概况", [
        html.Div(f"基础分 {fmt_number(table.total)} 分，{len(table.areas)} 个一级指标、{len(table.items)} 个二级指标；"
                 f"加分上限 {fmt_number(table.bonus_cap)} 分；一票否决 {len(table.veto)} 项。", className="mb-2"),
        html.Div(["等次：", grades], className="mb-2"),
        html.Div(f"★核心指标：{core}", className="small-muted"),
        *[html.Div(f"{g.label}的条件：{table_xlsx._requires_text(g.requires, table)}", className="small-muted")
          for g in table.grades if g.requires],
        *([html.Div("组成部分权重：" + "、".join(f"{c} {fmt_number(w * 100)}%" for c, w in table.weights.items()),
                    className="small-muted")] if table.weights else []),
        *([html.Div("等次名额按" + ("全部单位" if table.quota_scope == "all" else "类别") + "计算；"
                    "超出名额的按排名顺序降入下一等次", className="small-muted")]
          if any(g.max_pct is not None or g.min_pct is not None for g in table.grades) else []),
        *([html.Div("允许考核组直接定级（须写明依据，记入审计日志）", className="small-muted")]
          if table.allow_override else []),
        html.Div("不适用的指标不计入应得分，基础分按适用且到期的指标折算为百分制；缺报计 0 分并标出。",
                 className="small-muted"),
    ])
    admin = None
    if principal.can("manage_tables"):
        admin = make_section("上传新版本（管理员）", [
            dcc.Upload(id="indicators-upload", className="upload-drop", multiple=False, max_size=2 * 1024 * 1024,
                       children=html.Div(["将修改后的指标体系 .xlsx（或 .yaml）拖到此处，或点击选择文件"])),
            html.Div(id="indicators-upload-result", className="mt-2 upload-resets"),
            dbc.Input(id="indicators-note", placeholder="版本说明（可选）", className="mt-2", size="sm"),
            dbc.Button("保存为新版本", id="indicators-save", color="danger", size="sm", className="mt-2", disabled=True),
            html.Div(id="indicators-save-result", className="mt-2"),
        ])
    whatif = None
    if principal.can("what_if"):
        whatif = make_section("模拟测算（调整分值或等次线，看谁的名次和等次会变化；不保存任何数据）", [
            dcc.Store(id="indicators-whatif-changes", data=[]),
            dbc.Row([
                dbc.Col(dbc.Select(id="indicators-whatif-item", placeholder="选择指标",
                                   options=[{"label": f"{i.code} {i.name}（现 {fmt_number(i.points)} 分）",
                                             "value": i.code} for i in table.items]), md=4),
                dbc.Col(dbc.Input(id="indicators-whatif-points", type="number", min=0, max=100, step=0.5,
                                  placeholder="新分值"), md=2),
                dbc.Col(dbc.Select(id="indicators-whatif-grade", placeholder="或选择等次",
                                   options=[{"label": f"{g.label}（现 ≥ {fmt_number(g.min)}）", "value": g.label}
                                            for g in table.grades]), md=2),
                dbc.Col(dbc.Input(id="indicators-whatif-min", type="number", min=0, max=200, step=0.5,
                                  placeholder="新分数线"), md=2),
                dbc.Col(dbc.Button("加入调整", id="indicators-whatif-add", color="danger", outline=True,
                                   className="w-100"), md=2),
            ], className="g-2"),
            html.Div(html.Span("尚未加入调整：可逐项「加入调整」后一起测算，也可填好一项直接测算。",
                               className="small-muted"), id="indicators-whatif-pending", className="mt-2"),
            html.Div([dbc.Button("测算", id="indicators-whatif-run", color="danger", className="me-2"),
                      dbc.Button("重置", id="indicators-whatif-reset", color="secondary", outline=True)],
                     className="mt-2"),
            html.Div(id="indicators-whatif-result", className="mt-2"),
        ])
    versions = services.table_versions()
    return html.Div([
        dcc.Location(id="indicators-url", refresh="callback-nav"),
        dcc.Store(id="indicators-period-store", data=period_code),
        make_page_header(table.title, f"{period_label(period_code)} 使用 {table.version} 版 · 系统中共 {len(versions)} 个版本："
                         + "、".join(v["version"] for v in versions),
                         right=[make_period_select("indicators-period", period_options(), period_code),
                                dbc.Button("下载 Excel", id="indicators-download-btn", color="danger", outline=True,
                                           size="sm"), dcc.Download(id="indicators-download")]),
        summary, _tree(table), html.Div(whatif, className="mt-3"), html.Div(admin, className="mt-3"),
    ])


@secure_callback(Output("indicators-url", "search"), Input("indicators-period", "value"),
                 prevent_initial_call=True, action="view_indicators")
def _navigate(period_code):
    return period_search(period_code)


@secure_callback(Output("indicators-download", "data"), Input("indicators-download-btn", "n_clicks"),
                 State("indicators-period-store", "data"), prevent_initial_call=True, action="view_indicators")
def _download(n_clicks, period_code):
    if not n_clicks or not services.period_exists(period_code):
        return no_update
    table = services.table_for_period(str(period_code))
    return dcc.send_bytes(table_xlsx.table_to_xlsx(table), f"指标体系_{table.version}.xlsx")


def _parse_upload(contents: str | None, filename: str | None) -> table_io.TableFile:
    if not contents or "," not in contents:
        return table_io.TableFile(filename or "", problems=["请上传文件"])
    try:
        data = base64.b64decode(contents.split(",", 1)[1])
    except (binascii.Error, ValueError):
        return table_io.TableFile(filename or "", problems=["文件无法读取"])
    name = filename or "指标体系.xlsx"
    return table_io.read_table_file(name if name.lower().endswith((".yaml", ".yml", ".json", ".xlsx"))
                                    else name + ".xlsx", data)


@secure_callback(Output("indicators-upload-result", "children"), Output("indicators-save", "disabled"),
                 Input("indicators-upload", "contents"), State("indicators-upload", "filename"),
                 State("indicators-period-store", "data"), prevent_initial_call=True, action="manage_tables")
def _check_upload(contents, filename, period_code):
    read = _parse_upload(contents, filename)
    warnings = ([make_alert("请注意：", "warning"), html.Ul([html.Li(w) for w in read.warnings],
                                                          id="indicators-warnings")] if read.warnings else [])
    if read.table is None:
        return html.Div([make_alert("指标体系未通过校验，未保存：", "danger"),
                         html.Ul([html.Li(p) for p in read.problems], id="indicators-problems"), *warnings]), True
    new = read.table
    current = services.table_for_period(str(period_code)) if services.period_exists(period_code) else None
    diff = table_xlsx.diff_tables(current, new)
    exists = any(v["version"] == new.version for v in services.table_versions())
    msg = (make_alert(f"版本 {new.version} 已存在，请在「等次与评先」工作表中修改版本号后重新上传。", "warning")
           if exists else make_alert(f"校验通过：{new.title}（{new.version} 版）。与当前版本的差异：", "success"))
    effect = []
    if current is not None:
        eff = table_io.period_effect(str(period_code), new)
        rows = [{"name": r.name, "category": r.category, "total": f"{fmt_number(round_half_up(float(r.total_before)))}"
                 f" → {fmt_number(round_half_up(float(r.total_after)))}",
                 "grade": f"{r.grade_before} → {r.grade_after}", "rank": f"{int(r.rank_before)} → {int(r.rank_after)}",
                 "why": r.grade_reason} for r in eff.itertuples()]
        effect = [make_alert(f"按新版本重算{period_label(str(period_code))}：{table_io.effect_summary(eff)}", "info",
                             id_="indicators-effect-summary")]
        if rows:
            effect.append(make_grid("indicators-effect-grid", rows, [
                text_col("name", "单位", 180), text_col("category", "类别", 110), text_col("total", "总分", 130),
                text_col("grade", "等次", 130), text_col("rank", "总排名", 100), text_col("why", "定级依据", 260)],
                height=300))
    return html.Div([msg, html.Ul([html.Li(t) for t in diff[:200]], id="indicators-diff"), *warnings,
                     *effect]), exists


@secure_callback(Output("indicators-save-result", "children"), Input("indicators-save", "n_clicks"),
                 State("indicators-upload", "contents"), State("indicators-upload", "filename"),
                 State("indicators-note", "value"), prevent_initial_call=True, action="manage_tables")
def _save(n_clicks, contents, filename, note):
    if not n_clicks:
        return no_update
    read = _parse_upload(contents, filename)
    if read.table is None:
        return make_alert("；".join(read.problems), "danger")
    try:
        version = services.save_table_version(current_principal(), read.content, note or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning")
    return make_alert(f"已保存为 {version} 版（已记入审计日志）。新建考核期时可选用该版本。", "success")


def _typed_changes(item, points, grade, grade_min) -> tuple[list, str | None]:
    """The change(s) typed into the inputs, or a message naming what is missing."""
    out = []
    if item:
        if points in (None, ""):
            return [], f"请填写「{item}」的新分值，或点「重置」清除所选指标"
        out.append(["points", str(item), float(points)])
    if grade:
        if grade_min in (None, ""):
            return [], f"请填写「{grade}」的新分数线，或点「重置」清除所选等次"
        out.append(["grade", str(grade), float(grade_min)])
    return out, None


def _valid_changes(changes) -> list:
    """Changes from the browser's store, kept only when well-formed (a direct POST may send anything)."""
    ok = []
    for c in changes if isinstance(changes, list) else []:
        if (isinstance(c, list) and len(c) == 3 and c[0] in ("points", "grade") and isinstance(c[1], str)
                and isinstance(c[2], (int, float))):
            ok.append([c[0], c[1], float(c[2])])
    return ok[:50]


def _pending(changes: list):
    if not changes:
        return html.Span("尚未加入调整：可逐项「加入调整」后一起测算，也可填好一项直接测算。", className="small-muted")
    words = [f"{code} 分值改为 {fmt_number(v)}" if kind == "points" else f"「{code}」分数线改为 {fmt_number(v)}"
             for kind, code, v in changes]
    return html.Div(["待测算的调整：", html.Span("；".join(words), className="fw-semibold")], className="small")


@secure_callback(Output("indicators-whatif-changes", "data"), Output("indicators-whatif-item", "value"),
                 Output("indicators-whatif-points", "value"), Output("indicators-whatif-grade", "value"),
                 Output("indicators-whatif-min", "value"), Output("indicators-whatif-pending", "children"),
                 Output("indicators-whatif-result", "children", allow_duplicate=True),
                 Input("indicators-whatif-add", "n_clicks"), Input("indicators-whatif-reset", "n_clicks"),
                 State("indicators-whatif-changes", "data"), State("indicators-whatif-item", "value"),
                 State("indicators-whatif-points", "value"), State("indicators-whatif-grade", "value"),
                 State("indicators-whatif-min", "value"), prevent_initial_call=True, action="what_if")
def _edit_changes(add_clicks, reset_clicks, changes, item, points, grade, grade_min):
    trigger = dash.ctx.triggered_id
    cleared = ("", None, "", None)
    if trigger == "indicators-whatif-reset" and reset_clicks:
        return [], *cleared, _pending([]), None
    if trigger != "indicators-whatif-add" or not add_clicks:
        return (no_update,) * 7
    typed, problem = _typed_changes(item, points, grade, grade_min)
    if problem or not typed:
        return (no_update,) * 6 + (make_alert(problem or "请先选择要调整的指标或等次", "warning"),)
    # A later change of the same item or grade replaces the earlier one.
    kept = [c for c in _valid_changes(changes) if not any(c[:2] == t[:2] for t in typed)]
    new = kept + typed
    return new, *cleared, _pending(new), None


@secure_callback(Output("indicators-whatif-result", "children"), Input("indicators-whatif-run", "n_clicks"),
                 State("indicators-period-store", "data"), State("indicators-whatif-changes", "data"),
                 State("indicators-whatif-item", "value"), State("indicators-whatif-points", "value"),
                 State("indicators-whatif-grade", "value"), State("indicators-whatif-min", "value"),
                 prevent_initial_call=True, action="what_if")
def _what_if(n_clicks, period_code, changes, item, points, grade, grade_min):
    if not n_clicks or not services.period_exists(period_code):
        return no_update
    try:
        typed, problem = _typed_changes(item, points, grade, grade_min)
    except (TypeError, ValueError):
        return make_alert("请填写数字", "warning")
    if problem:
        return make_alert(problem, "warning")
    todo = [c for c in _valid_changes(changes) if not any(c[:2] == t[:2] for t in typed)] + typed
    if not todo:
        return make_alert("请选择要调整的指标或等次", "warning")
    try:
        w = services.what_if_changes(current_principal(), str(period_code), [tuple(c) for c in todo])
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning")
    if not w.ok:
        return make_alert("调整后的指标体系有问题：" + "；".join(map(str, w.problems)), "warning")
    movers = w.movers
    changed = movers["grade_before"] != movers["grade_after"]
    movers = movers.assign(grade_changed=changed).sort_values("grade_changed", ascending=False, kind="stable")
    counts = "；".join(f"{k} {v} 个" for k, v in w.grade_changes.items()) or "没有单位的等次变化"
    head = make_alert(f"共 {len(todo)} 项调整。名次或分数变化的单位 {len(movers)} 个；等次变化：{counts}。"
                      + ("等次变化的单位排在最前并以底色标出。" if changed.any() else ""), "info",
                      id_="indicators-whatif-summary")
    rows = [{"unit": r.unit, "name": r.name, "before": round_half_up(float(r.total_before)),
             "after": round_half_up(float(r.total_after)), "delta": round_half_up(float(r.delta)),
             "rank": f"{int(r.rank_before)} → {int(r.rank_after)}", "move": int(r.rank_change),
             "grade": f"{r.grade_before} → {r.grade_after}", "grade_changed": bool(r.grade_changed)}
            for r in movers.itertuples()]
    if not rows:
        return head
    return html.Div([head, make_grid("indicators-whatif-grid", rows, [
        text_col("name", "单位", 180), number_col("before", "原总分", 86), number_col("after", "测算总分", 90),
        number_col("delta", "变化", 80), text_col("rank", "总排名", 100),
        number_col("move", "名次升降", 90, places=0), text_col("grade", "等次", 130)], height=360, row_id="unit",
        row_class_rules={"whatif-grade-changed": "params.data.grade_changed"})])
