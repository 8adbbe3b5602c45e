"""审计日志 (admin): every change that can move a score, sign-ins and failures, user changes."""
from __future__ import annotations

import json

import dash
from dash import html

from components.formats import fmt_datetime
from components.grids import make_grid, number_col, text_col
from components.shell import make_empty, make_page_header
from data import services
from pages._access import guard

dash.register_page(__name__, path="/audit", name="审计日志", title="审计日志 · 党建工作考核系统",
                   nav=True, nav_key="audit", nav_order=9)

ACTION_LABELS = {"login": "登录", "login_failed": "登录失败", "logout": "退出", "upload": "上传数据",
                 "judgement": "评定分", "deduction": "扣分", "not_applicable": "认定不适用",
                 "withdraw_judgement": "撤回评定分", "withdraw_deduction": "撤回扣分",
                 "rectification_open": "登记整改", "rectification_close": "整改销号",
                 "rectification_recheck_pass": "回头看通过", "rectification_reopen": "回头看重开",
                 "candidate_decision": "评先意见", "period_status": "考核期状态", "table_version": "指标体系版本",
                 "user_create": "创建用户", "user_update": "修改用户", "period_create": "新建考核期", "self_assessment": "自评分", "upload_rejected": "上传未通过",
                 "withdraw_not_applicable": "撤回不适用", "login_throttled": "登录被限制",
                 "password_change": "修改密码", "users_import": "批量导入用户"}
ACTION_LABELS.update({"units_import": "导入单位名单", "unit_save": "新增/修改单位", "unit_rename": "单位更名",
                      "unit_move": "调整上级", "unit_merge": "单位合并", "unit_close": "撤销单位",
                      "category_rename": "类别改名"})


def _num(v) -> str:
    return "空" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _brief(d) -> str:
    if not d:
        return ""
    d = dict(d)
    changes = d.pop("changes", None)
    text = json.dumps(d, ensure_ascii=False, default=str)
    if changes:
        # Upload rows: each changed value, unit and field, old → new.
        text += "；" + "；".join(f"{c['unit']} {c['field']}：{_num(c['old'])} → {_num(c['new'])}" for c in changes)
    return text[:4000]


def layout(**_):
    principal, denied = guard("audit")
    if denied:
        return denied
    df = services.audit_entries(principal, limit=2000)
    rows = [{"id": int(r.id), "at": fmt_datetime(r.at), "user": r.username or "", "action":
             ACTION_LABELS.get(r.action, r.action), "period": r.period or "", "unit": r.unit or "",
             "before": _brief(r.before), "after": _brief(r.after), "ip": r.ip or ""} for r in df.itertuples()]
    return html.Div([
        make_page_header("审计日志", "只追加、不可修改：登录、上传、评分、扣分、整改、评先、指标体系和用户变更（最近 2000 条）"),
        make_grid("audit-grid", rows, [
            number_col("id", "序号", 76, places=0, sort="desc"), text_col("at", "时间", 150),
            text_col("user", "用户", 100), text_col("action", "操作", 110), text_col("period", "考核期", 80),
            text_col("unit", "单位", 80), text_col("before", "变更前", 200, flex=2, tooltipField="before"),
            text_col("after", "变更后", 240, flex=2, tooltipField="after"), text_col("ip", "IP", 110)],
            height=640, pagination=True, page_size=50, row_id="id") if rows else make_empty("暂无审计记录"),
    ])
