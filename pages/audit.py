"""审计日志 (admin): every change that can move a score, sign-ins and failures, user changes."""
from __future__ import annotations

import dash
from dash import html

from components.formats import fmt_datetime
from components.grids import make_grid, number_col, text_col
from components.shell import make_empty, make_page_header
from data import evidence_service, services
from pages._access import guard
from scoring.glossary import period_label

dash.register_page(__name__, path="/audit", name="审计日志", title="审计日志 · 党建工作考核系统",
                   nav=True, nav_key="audit", nav_order=9)

ACTION_LABELS = {"login": "登录", "login_failed": "登录失败", "logout": "退出", "upload": "上传数据",
                 "judgement": "评定分", "deduction": "扣分", "not_applicable": "认定不适用",
                 "withdraw_judgement": "撤回评定分", "withdraw_deduction": "撤回扣分",
                 "rectification_open": "登记整改", "rectification_close": "整改销号",
                 "rectification_recheck_pass": "回头看通过", "rectification_reopen": "回头看重开",
                 "candidate_decision": "评先意见", "period_status": "考核期状态", "table_version": "指标体系版本",
                 "user_create": "创建用户", "user_update": "修改用户", "period_create": "新建考核期", "self_assessment": "自评分", "upload_rejected": "上传未通过",
                 "withdraw_not_applicable": "撤回不适用", "rectification_correct": "更正整改事项",
                 "rectification_withdraw": "撤回整改事项", "login_throttled": "登录被限制",
                 "password_change": "修改密码", "users_import": "批量导入用户"}
ACTION_LABELS.update({"units_import": "导入单位名单", "unit_save": "新增/修改单位", "unit_rename": "单位更名",
                      "unit_move": "调整上级", "unit_merge": "单位合并", "unit_close": "撤销单位",
                      "category_rename": "类别改名"})

# The keys written into audit rows (services, intake, accounts), in the words the pages use.
FIELD_LABELS = {
    "item": "指标", "points": "分值", "reason": "理由", "problem": "问题", "source": "来源", "responsible": "责任人",
    "deadline": "整改期限", "status": "状态", "closed_at": "销号日期", "closed_evidence": "销号依据",
    "recheck_at": "回头看日期", "recheck_result": "回头看结果", "overdue": "逾期", "id": "编号",
    "decision": "意见", "note": "说明", "file": "文件", "file_name": "文件", "file_hash": "文件指纹",
    "format": "格式", "units": "单位数", "values": "数值数", "changed": "变化数", "warnings": "警告数",
    "errors": "错误数", "code": "编码", "table_version": "指标体系版本", "version": "版本", "title": "名称",
    "items": "指标数", "username": "用户名", "role": "角色", "active": "启用", "password": "密码",
    "display_name": "姓名",
}
HIDDEN_KEYS = {"file_hash", "id"}
ENTITY_LABELS = {"adjustment": "评分记录", "rectification": "整改事项", "upload_batch": "上传批次", "user": "用户",
                 "period": "考核期", "table_version": "指标体系版本", "candidate": "评先", "self_assessment": "自评分"}
ROLE_NAMES = {"leader": "局领导", "inspector": "考核组", "staff": "党务干事", "admin": "系统管理员"}


def _num(v) -> str:
    return "空" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _value(key: str, v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list):
        return "、".join(map(str, v)) or "—"
    if key == "role":
        return ROLE_NAMES.get(str(v), str(v))
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _field_labels() -> dict[str, str]:
    """Evidence field key → its Chinese label, from every stored table version (newest wins)."""
    labels: dict[str, str] = {}
    for v in services.table_versions():
        table = services.get_table_version(v["version"])
        if table is not None:
            labels.update({k: f.label for k, f in table.fields.items()})
    return labels


_DESCRIBE_CHARS = 4000


def describe(d, field_labels: dict[str, str] | None = None) -> str:
    """An audit row's before/after as 「分值：1；理由：…」 (no JSON, no internal keys)."""
    if not d or not isinstance(d, dict):
        return ""
    changes = evidence_service.upload_changes(d)
    d = {k: v for k, v in d.items() if k != "changes"}
    parts = [f"{FIELD_LABELS.get(k, k)}：{_value(k, v)}" for k, v in d.items()
             if k not in HIDDEN_KEYS and v not in (None, "")]
    text = "；".join(parts)[:300]
    # Upload rows: each changed value, unit and field, old → new (as many as the cell shows).
    labels = field_labels or {}
    for unit, field, old, new in changes:
        if len(text) >= _DESCRIBE_CHARS:
            break
        text += f"；{unit} {labels.get(field, field)}：{_num(old)} → {_num(new)}"
    return text[:_DESCRIBE_CHARS]


def _text(v) -> str:
    """A cell's text: '' for None / NaN (pandas turns missing codes into NaN)."""
    return "" if v is None or (isinstance(v, float) and v != v) else str(v)


def _who(name, code) -> str:
    name, code = _text(name), _text(code)
    if not code:
        return ""
    return f"{name}（{code}）" if name and name != code else code


def layout(**_):
    principal, denied = guard("audit")
    if denied:
        return denied
    df = services.audit_entries(principal, limit=2000)
    labels = _field_labels()
    rows = [{"id": int(r.id), "at": fmt_datetime(r.at), "user": _who(r.user_name, r.username), "action":
             ACTION_LABELS.get(r.action, r.action), "period": period_label(_text(r.period)),
             "unit": _who(r.unit_name, r.unit), "before": describe(r.before, labels), "after": describe(r.after, labels),
             "object": f"{ENTITY_LABELS.get(_text(r.entity), _text(r.entity))} {_text(r.entity_id)}".strip(),
             "ip": _text(r.ip)} for r in df.itertuples()]
    return html.Div([
        make_page_header("审计日志", "只追加、不可修改：登录、上传、评分、扣分、整改、评先、指标体系和用户变更（最近 2000 条）"),
        make_grid("audit-grid", rows, [
            number_col("id", "序号", 76, places=0, sort="desc"), text_col("at", "时间", 150),
            text_col("user", "用户", 150, tooltipField="user"), text_col("action", "操作", 100),
            text_col("period", "考核期", 110), text_col("unit", "单位", 190, tooltipField="unit"),
            text_col("object", "对象", 120, tooltipField="object"),
            text_col("before", "变更前", 180, flex=2, tooltipField="before"),
            text_col("after", "变更后", 240, flex=2, tooltipField="after"), text_col("ip", "IP", 110)],
            height=640, pagination=True, page_size=50, row_id="id") if rows else make_empty("暂无审计记录"),
    ])
