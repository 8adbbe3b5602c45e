"""组织管理 (admin): import a 单位名单 (preview → 确认导入), the tree 局 → 党委/党总支 → 党支部, and
one-unit changes (add/edit, rename, move, merge, close, categories). Every write goes through
``data/org.py`` (one transaction, one audit row); every callback is declared ``manage_org``.
"""
from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.grids import make_grid, text_col
from components.org import make_unit_tree
from components.shell import make_empty, make_page_header
from data import org, org_edit
from data.intake.units import KINDS, LEVELS
from data.services import InvalidInput
from pages._access import decode_upload, guard

dash.register_page(__name__, path="/org", name="组织管理", title="组织管理 · 党建工作考核系统",
                   nav=True, nav_key="org", nav_order=10)

YES_NO = [{"label": "是", "value": "是"}, {"label": "否", "value": "否"}]


def _tree():
    p = current_principal()
    closed = org.units_table(p, include_closed=True)
    closed = closed[closed["closed"].astype(bool)].sort_values("valid_to", ascending=False)
    rows = [{"code": r.code, "name": r.name, "bureau": r.bureau,
             "how": f"并入 {r.merged_into}" if r.merged_into else "撤销",
             "from": (r.valid_to + dt.timedelta(days=1)).isoformat()} for r in closed.itertuples()]
    gone = html.Details([html.Summary(f"已撤销或合并的单位（{len(rows)} 个）", className="small-muted"),
                         make_grid("org-closed-grid", rows, [
                             text_col("code", "单位编码", 100), text_col("name", "单位名称", 200, flex=2),
                             text_col("bureau", "所属局", 120), text_col("how", "变动", 120),
                             text_col("from", "自", 110)], height=220)], className="mt-2") if rows else None
    return html.Div([make_unit_tree(org.unit_tree(p)), gone])



def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _safe_name(name: str | None) -> str:
    name = (name or "单位名单").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "单位名单"


def _form_row(label: str, control, md: int = 3):
    return dbc.Col([dbc.Label(label, className="small mb-0"), control], md=md)


def layout(**_):
    principal, denied = guard("org")
    if denied:
        return denied
    eff = org.default_effective_date().isoformat()
    cats = org_edit.categories_in_use()
    importer = make_section("导入单位名单", [
        dbc.Row([
            dbc.Col(dcc.Upload(id="org-upload", multiple=False, className="upload-drop", children=html.Div([
                html.Div("将单位名单拖到此处，或点击选择文件", className="fw-semibold"),
                html.Div("支持 .xlsx、.xls、.csv（UTF-8 或 GBK）；列见模板和「填写说明」", className="small-muted")])),
                md=6),
            dbc.Col([
                _form_row("生效日期（更名、撤销、不参加考核自该日起）",
                          dbc.Input(id="org-effective", type="date", value=eff), md=12),
                dbc.Checkbox(id="org-close-missing", value=False, className="mt-2",
                             label="文件是完整名单：系统中有、文件中没有的单位视为撤销"),
            ], md=6),
        ], className="g-3"),
        html.Div(id="org-file-name", className="small-muted mt-2"),
        dcc.Loading(html.Div(id="org-preview", className="mt-2"), delay_show=200, color="#c0392b"),
        html.Div([dbc.Button("确认导入", id="org-commit", color="danger", size="sm", className="me-2", disabled=True),
                  dbc.Button("取消", id="org-cancel", color="secondary", outline=True, size="sm", disabled=True)],
                 className="mt-2"),
        html.Div(id="org-import-result", className="mt-2"),
    ])
    unit_form = make_section("新增或修改单位", [
        html.Div("填写单位编码后点「载入」可带出现有信息；编码不存在则为新增。修改时留空的项保持原值。"
                 "保存前按导入的同一套规则校验。",
                 className="small-muted mb-2"),
        dbc.Row([
            _form_row("单位编码", dbc.InputGroup([dbc.Input(id="org-f-code"),
                                               dbc.Button("载入", id="org-load", color="secondary", outline=True)]), 3),
            _form_row("单位名称", dbc.Input(id="org-f-name"), 3),
            _form_row("组织类型", dbc.Select(id="org-f-kind", value="", options=[{"label": "请选择", "value": ""}]
                                          + [{"label": k, "value": k} for k in KINDS]), 2),
            _form_row("上级单位编码", dbc.Input(id="org-f-parent"), 2),
            _form_row("层级", dbc.Select(id="org-f-level", value="", options=[{"label": "请选择", "value": ""}]
                                       + [{"label": v, "value": v} for v in LEVELS]), 2),
            _form_row("所属局", dbc.Input(id="org-f-bureau"), 3),
            _form_row("考核类别", dbc.Input(id="org-f-category", list="org-category-list"), 3),
            _form_row("书记", dbc.Input(id="org-f-secretary"), 2),
            _form_row("正式党员数", dbc.Input(id="org-f-full", type="number", min=0, step=1), 2),
            _form_row("预备党员数", dbc.Input(id="org-f-prob", type="number", min=0, step=1), 2),
            _form_row("上次换届日期", dbc.Input(id="org-f-election", type="date"), 3),
            _form_row("是否参加考核", dbc.Select(id="org-f-assessed", value="",
                                            options=[{"label": "未填（新单位为是）", "value": ""}] + YES_NO), 2),
            _form_row("支部委员会", dbc.Select(id="org-f-committee", options=[{"label": "未填", "value": ""}] + YES_NO,
                                          value=""), 2),
            dbc.Col(dbc.Button("保存", id="org-unit-save", color="danger", className="w-100 mt-3"), md=2),
        ], className="g-2"),
        html.Datalist(id="org-category-list", children=[html.Option(value=c) for c in cats]),
        html.Div(id="org-unit-msg", className="mt-2"),
    ])
    ops = make_section("更名、调整上级、合并、撤销、类别", [
        dbc.Row([
            _form_row("单位编码", dbc.Input(id="org-op-code"), 2),
            _form_row("操作", dbc.Select(id="org-op", value="rename", options=[
                {"label": "更名（保留历史名称）", "value": "rename"}, {"label": "调整上级", "value": "move"},
                {"label": "合并到另一单位", "value": "merge"}, {"label": "撤销", "value": "close"},
                {"label": "类别改名（该类别全部单位）", "value": "category"}]), 3),
            _form_row("新名称 / 新上级编码 / 并入单位编码 / 新类别名称", dbc.Input(id="org-op-value"), 4),
            _form_row("生效日期", dbc.Input(id="org-op-date", type="date", value=eff), 2),
            dbc.Col(dbc.Button("执行", id="org-op-save", color="secondary", outline=True, className="w-100 mt-3"),
                    md=1),
        ], className="g-2"),
        html.Div("类别改名时「单位编码」一栏填原类别名称。更名自生效日期起，以前的考核期仍显示原名称；合并、撤销的单位"
                 "不参加生效日期以后开始的考核期，以前的得分和填报数据都保留。", className="small-muted mt-2"),
        html.Div(id="org-op-msg", className="mt-2"),
    ])
    header = make_page_header("组织管理", "局 → 党委 / 党总支 → 党支部；所有变更记入审计日志", right=[
        dbc.Button("下载单位名单模板", id="org-template", color="danger", outline=True, size="sm"),
        dbc.Button("导出单位名单", id="org-export", color="danger", outline=True, size="sm"),
        dcc.Download(id="org-download")])
    return html.Div([header, importer,
                     make_section("组织机构", html.Div(_tree(), id="org-tree")),
                     unit_form, ops])


def _preview_body(pv) -> html.Div:
    rep = pv.report
    parts = []
    ok = rep.ok
    head = (f"读取 {len(rep.rows)} 个单位；{len(rep.errors)} 个错误，{len(rep.warnings)} 个警告。"
            + (f"将要：{org.summary(pv)}。" if ok else "有错误，不能导入，请修改后重新上传。"))
    parts.append(make_alert(head, "success" if ok else "danger", id_="org-summary"))
    if rep.issues:
        rows = [{"severity": i.severity.label, "row": i.row or "", "column": f"{i.column} {i.header}".strip() or "—",
                 "value": i.value, "message": i.message} for i in rep.errors + rep.warnings]
        parts.append(make_grid("org-issues-grid", rows, [
            text_col("severity", "级别", 70), text_col("row", "行", 60), text_col("column", "列", 130),
            text_col("value", "原值", 100),
            text_col("message", "说明", 420, flex=3, wrapText=True, autoHeight=True)], height=260))
    if ok and len(pv.changes):
        rows = pv.changes[["label", "code", "name", "detail"]].to_dict("records")
        parts.append(make_grid("org-changes-grid", rows, [
            text_col("label", "变化", 90), text_col("code", "单位编码", 110), text_col("name", "单位名称", 200),
            text_col("detail", "说明", 300, flex=2)], height=300))
    elif ok:
        parts.append(make_empty("文件中的单位与系统中的完全一致，导入后不会有变化。"))
    return html.Div(parts)


@secure_callback(Output("org-download", "data"), Input("org-template", "n_clicks"), Input("org-export", "n_clicks"),
                 prevent_initial_call=True, action="manage_org")
def _download(t_clicks, e_clicks):
    trigger = dash.ctx.triggered_id
    if trigger == "org-template" and t_clicks:
        return dcc.send_bytes(org.template_bytes(), "单位名单模板.xlsx")
    if trigger == "org-export" and e_clicks:
        return dcc.send_bytes(org.export_bytes(current_principal()), "单位名单.xlsx")
    return no_update


@secure_callback(Output("org-preview", "children"), Output("org-commit", "disabled"),
                 Output("org-cancel", "disabled"), Output("org-file-name", "children"),
                 Input("org-upload", "contents"), Input("org-close-missing", "value"), Input("org-effective", "value"),
                 State("org-upload", "filename"), prevent_initial_call=True, action="manage_org")
def _preview(contents, close_missing, effective, filename):
    if not contents:
        return no_update, True, True, no_update
    data, name = decode_upload(contents), _safe_name(filename)
    if data is None:
        return make_alert(f"文件「{name}」无法读取，请重新选择。", "danger"), True, False, name
    eff = _date(effective)
    if eff is None:
        return make_alert("请填写生效日期", "warning"), True, False, name
    pv = org.preview_units(current_principal(), data, name, close_missing=bool(close_missing), effective=eff)
    return _preview_body(pv), not (pv.ok and len(pv.changes)), False, f"已选择：{name}"


@secure_callback(Output("org-import-result", "children"), Output("org-tree", "children"),
                 Output("org-upload", "contents"), Output("org-preview", "children", allow_duplicate=True),
                 Output("org-commit", "disabled", allow_duplicate=True),
                 Output("org-cancel", "disabled", allow_duplicate=True),
                 Input("org-commit", "n_clicks"), Input("org-cancel", "n_clicks"),
                 State("org-upload", "contents"), State("org-upload", "filename"),
                 State("org-close-missing", "value"), State("org-effective", "value"),
                 prevent_initial_call=True, action="manage_org")
def _commit(commit_clicks, cancel_clicks, contents, filename, close_missing, effective):
    trigger = dash.ctx.triggered_id
    if trigger == "org-cancel" and cancel_clicks:
        return make_alert("已取消，未写入任何数据。", "secondary"), no_update, None, None, True, True
    if trigger != "org-commit" or not commit_clicks:
        return (no_update,) * 6
    data, eff = decode_upload(contents), _date(effective)
    if data is None or eff is None:
        return make_alert("请先选择文件并填写生效日期", "warning"), no_update, no_update, no_update, True, no_update
    pv = org.commit_units(current_principal(), data, _safe_name(filename), close_missing=bool(close_missing),
                          effective=eff)
    if not pv.ok:
        return _preview_body(pv), no_update, no_update, no_update, True, no_update
    msg = make_alert(f"已导入：{org.summary(pv)}（已记入审计日志）", "success", id_="org-import-done")
    return msg, _tree(), None, None, True, True


_FORM = ["code", "name", "kind", "parent", "level", "bureau", "category", "secretary", "members_full",
         "members_probationary", "last_election", "assessed", "has_committee"]
_FORM_IDS = ["org-f-code", "org-f-name", "org-f-kind", "org-f-parent", "org-f-level", "org-f-bureau", "org-f-category",
             "org-f-secretary", "org-f-full", "org-f-prob", "org-f-election", "org-f-assessed", "org-f-committee"]


@secure_callback(*[Output(i, "value") for i in _FORM_IDS[1:]],
                 Output("org-unit-msg", "children", allow_duplicate=True),
                 Input("org-load", "n_clicks"), State("org-f-code", "value"), prevent_initial_call=True,
                 action="manage_org")
def _load(n_clicks, code):
    if not n_clicks or not code:
        return [no_update] * (len(_FORM_IDS) - 1) + [no_update]
    df = org.units_table(current_principal())
    hit = df[df["code"] == str(code).strip().upper()]
    if hit.empty:
        return [no_update] * (len(_FORM_IDS) - 1) + [make_alert(f"单位编码 {code} 不存在，保存时将新增该单位", "info")]
    r = hit.iloc[0]
    names = org.name_history(current_principal(), r["code"])
    history = "；历史名称：" + "、".join(f"{n['name']}（至 {n['valid_to'].isoformat()}）" for n in names
                                   if n["valid_to"] is not None) if len(names) > 1 else ""

    def fmt(k):
        v = r[k]
        if k in ("assessed",):
            return "是" if v else "否"
        if k == "has_committee":
            return "" if v is None or v != v else ("是" if v else "否")
        if k == "last_election":
            return v.isoformat() if v is not None and v == v else None
        return None if v is None or (isinstance(v, float) and v != v) else (int(v) if k.startswith("members") else v)
    return [fmt(k) for k in _FORM[1:]] + [make_alert(f"已载入 {r['code']} {r['name']}{history}", "secondary")]


@secure_callback(Output("org-unit-msg", "children"), Output("org-tree", "children", allow_duplicate=True),
                 Input("org-unit-save", "n_clicks"), *[State(i, "value") for i in _FORM_IDS],
                 State("org-effective", "value"), prevent_initial_call=True, action="manage_org")
def _save(n_clicks, *values):
    if not n_clicks:
        return no_update, no_update
    *form, effective = values
    # A blank field keeps what is stored (for a new unit: the import's default, or its error).
    row = {k: (None if v is None or (isinstance(v, str) and not v.strip()) else v) for k, v in zip(_FORM, form)}
    try:
        pv = org_edit.save_unit(current_principal(), row, effective=_date(effective))
    except InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    warn = "；".join(i.message.split(" 第 2 行 ", 1)[-1] for i in pv.report.warnings
                    if i.code.name != "NO_COMMITTEE_COLUMN")
    text = f"已保存 {row.get('code')}：{org.summary(pv)}" + (f"。提示：{warn}" if warn else "")
    return make_alert(text + "（已记入审计日志）", "success", id_="org-unit-saved"), _tree()


@secure_callback(Output("org-op-msg", "children"), Output("org-tree", "children", allow_duplicate=True),
                 Input("org-op-save", "n_clicks"), State("org-op-code", "value"), State("org-op", "value"),
                 State("org-op-value", "value"), State("org-op-date", "value"), prevent_initial_call=True,
                 action="manage_org")
def _operate(n_clicks, code, op, value, date_value):
    if not n_clicks:
        return no_update, no_update
    p = current_principal()
    code, value, when = (code or "").strip(), (value or "").strip(), _date(date_value)
    try:
        if not code:
            raise InvalidInput("请填写单位编码（类别改名时填写原类别名称）")
        if op in ("rename", "merge", "close") and when is None:
            raise InvalidInput("请填写生效日期")
        if op == "rename":
            org_edit.rename_unit(p, code, value, when)
            msg = f"已将 {code} 更名为「{value}」，自 {when.isoformat()} 起生效"
        elif op == "move":
            org_edit.move_unit(p, code, value or None)
            msg = f"已将 {code} 调整到 {value or '（无上级）'} 之下"
        elif op == "merge":
            if not value:
                raise InvalidInput("请填写并入单位的编码")
            org_edit.merge_units(p, code, value, when)
            msg = f"已将 {code} 合并到 {value}，自 {when.isoformat()} 起不再单独考核"
        elif op == "close":
            org_edit.close_unit(p, code, when)
            msg = f"已撤销 {code}，自 {when.isoformat()} 起不再参加考核"
        elif op == "category":
            n = org_edit.rename_category(p, code, value)
            msg = f"已将类别「{code}」改为「{value}」（{n} 个单位）"
        else:
            raise InvalidInput("未知的操作")
    except InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert(msg + "（已记入审计日志）", "success", id_="org-op-done"), _tree()
