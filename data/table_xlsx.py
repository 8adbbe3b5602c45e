"""The indicator table as the Excel sheet Chinese offices edit, and back.

Sheet 「指标明细」: 序号 / 一级指标 / 二级指标 / 考核内容 / 评分标准 / 分值 / 数据项 / 类型, then
考评方式 / 考核部门 and the parameters in readable columns (目标值, 每少一次扣分, 分档
「95→3；85→2；70→1」, 每处扣分 …), then the machine columns (编码 / ★ / 周期 …) so a round
trip loses nothing. Sheet 「数据项」 lists the fields; sheet 「等次与评先」 holds the settings, a
grades block (等次 / 分数线 / 最多占比 / 最少占比 / 定级条件) and the candidate rules, in Chinese.

Reading returns (dict, problems, warnings) for ``scoring.indicators.parse_table``; problems name
the sheet, row and column as Excel shows them; a column the reader does not know is a warning,
never silently dropped. Never raises on a bad file. Workbooks written by the earlier layout
(parameters as JSON, English keys on 「等次与评先」) are still read.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from data.xlsx_safe import restore, workbook_bytes

from scoring.glossary import RULE_LABELS
from scoring.indicators import (AREA_BONUS, AREA_PENALTY, AREA_VETO, IndicatorTable, TableProblem,
                                table_to_dict)

ITEM_SHEET, FIELD_SHEET, META_SHEET = "指标明细", "数据项", "等次与评先"
RULE_BY_LABEL = {v: k for k, v in RULE_LABELS.items()}
PERIOD_LABELS = {"prorate": "半年折算", "annual": "仅年度"}
PERIOD_BY_LABEL = {v: k for k, v in PERIOD_LABELS.items()}
ROUND_LABELS = {"up": "不足一处按一处", "none": "按实际数值"}
MODE_LABELS = {"set": "定为", "cap": "最高定为"}
PROPORTIONAL = "按第一名比例"

# Readable parameter columns: header → params key.
PARAM_HEADERS = {"目标值": "target", "每少一次扣分": "per_miss", "满分线": "full_at", "每档宽度": "step",
                 "每档扣分": "per_step", "分档": "tiers", "每处扣分": "per_item", "扣分取整": "round",
                 "每项加减分": "per_unit", "检查项": "checks", "名次得分": "points_by_place",
                 "评定范围": "min_max", "扣分范围": "deduct_range"}
PARAM_KEYS = {"target", "per_miss", "full_at", "step", "per_step", "tiers", "per_item", "round", "per_unit",
              "checks", "points_by_place", "proportional", "min", "max", "deduct_range"}
ITEM_HEADERS = (["序号", "一级指标", "二级指标", "考核内容", "评分标准", "分值", "数据项", "类型", "考评方式", "考核部门"]
                + list(PARAM_HEADERS) + ["其他参数", "单项上限", "编码", "核心指标", "周期", "折算参数", "不适用条件",
                                         "适用范围", "组成部分", "否决等次", "否决方式", "一级指标编码",
                                         "一级指标适用范围", "分组编码", "分组名称", "分组分值"])
FIELD_HEADERS = ["数据项", "名称", "计量单位", "类型", "年度上限", "未报处理", "活动记录类型", "规律性", "最低出席率（%）"]
REGULAR_LABELS = {"monthly": "每月", "quarterly": "每季度"}
MISSING_LABELS = {"zero": "按 0 计", "report": "按缺报计"}
SETTINGS = [("version", "版本号"), ("title", "标题"), ("total", "基础分总分"), ("scale", "折算分制"),
            ("bonus_cap", "加分上限"), ("penalty_cap", "减分上限"), ("veto_grade", "一票否决等次"),
            ("default_missing", "未报数据"), ("quota_scope", "名额范围"), ("allow_override", "允许直接定级"),
            ("tie_break", "同分排序"), ("weights", "组成部分权重"), ("activity_types", "活动类型")]
GRADE_HEADERS = ["等次", "分数线", "最多占比（%）", "最少占比（%）", "定级条件"]
CANDIDATE_LABELS = [("title", "评先名称"), ("annual_only", "仅年度考核推荐"), ("grade", "评先等次"),
                    ("quota_pct", "名额比例（%）"), ("quota_min", "最少名额"), ("require_core", "★指标须全部达标"),
                    ("no_overdue_rectification", "无逾期未销号整改"), ("previous_min_grade", "上年度最低等次")]
SCOPE_LABELS = {"category": "按类别", "all": "全部单位"}
CORE_TEXT = "★指标全部达标"
SEP = "；"


@dataclass
class XlsxRead:
    content: dict | None
    problems: list[TableProblem] = field(default_factory=list)
    warnings: list[TableProblem] = field(default_factory=list)


# ---------------------------------------------------------------- small text forms
def _num(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _pairs(d: dict) -> str:
    return SEP.join(f"{k}:{_num(v)}" for k, v in d.items())


def _j(v) -> str:
    return json.dumps(v, ensure_ascii=False) if v not in (None, {}, [], ()) else ""


def _bool_text(v) -> str:
    return "是" if v else "否"


def _param_cells(params: dict) -> tuple[dict[str, str], dict]:
    """(readable column → text, the params left for 其他参数)."""
    p = dict(params)
    out: dict[str, str] = {}
    for key in ("target", "per_miss", "full_at", "step", "per_step"):
        if key in p and isinstance(p[key], (int, float)) and not isinstance(p[key], bool):
            v = p.pop(key)  # a number stays a number in the cell
            out[next(h for h, k in PARAM_HEADERS.items() if k == key)] = int(v) if float(v).is_integer() else v
    if isinstance(p.get("tiers"), list):
        out["分档"] = SEP.join(f"{_num(t)}→{_num(s)}" for t, s in p.pop("tiers"))
    for key, header in (("per_item", "每处扣分"), ("per_unit", "每项加减分")):
        if key in p:
            v = p.pop(key)
            out[header] = _pairs(v) if isinstance(v, dict) else (int(v) if float(v).is_integer() else v)
    if p.get("round") in ROUND_LABELS:
        out["扣分取整"] = ROUND_LABELS[p.pop("round")]
    if isinstance(p.get("checks"), list):
        out["检查项"] = SEP.join(f"{c['field']}:{_num(c['points'])}" for c in p.pop("checks"))
    if isinstance(p.get("points_by_place"), list):
        out["名次得分"] = SEP.join(_num(v) for v in p.pop("points_by_place"))
    elif p.get("proportional") is True:
        p.pop("proportional")
        out["名次得分"] = PROPORTIONAL
    if "min" in p or "max" in p:
        out["评定范围"] = f"{_num(p.pop('min', 0))}–{_num(p.pop('max'))}" if "max" in p else f"{_num(p.pop('min'))}–"
    if isinstance(p.get("deduct_range"), list):
        a, b = p.pop("deduct_range")
        out["扣分范围"] = f"{_num(a)}–{_num(b)}"
    return out, p


def _applies_text(spec: dict | None) -> str:
    if not spec:
        return ""
    parts = []
    if spec.get("categories"):
        parts.append("类别:" + "、".join(map(str, spec["categories"])))
    if spec.get("kinds"):
        parts.append("类型:" + "、".join(map(str, spec["kinds"])))
    return SEP.join(parts)


def _na_text(na: dict | None, fields: dict) -> str:
    """{field: has_groups, equals: 0} → 「has_groups=否」 (plus 「；理由」); anything else stays JSON."""
    if not na:
        return ""
    if set(na) - {"field", "equals", "reason"} or "field" not in na:
        return _j(na)
    eq = na.get("equals", 0)
    kind = (fields.get(na["field"]) or {}).get("kind")
    shown = ("是" if eq else "否") if kind == "bool" and eq in (0, 1) else _num(eq)
    return f"{na['field']}={shown}" + (f"{SEP}{na['reason']}" if na.get("reason") else "")


def _requires_text(req: tuple, table: IndicatorTable) -> str:
    out = []
    for c in req:
        if "core" in c:
            out.append(CORE_TEXT)
        elif "component" in c:
            out.append(f"{c['component']}≥{_num(c['min'])}")
        elif "equals" in c:
            out.append(f"{c['field']}={_num(c['equals']) if not isinstance(c['equals'], str) else c['equals']}")
        else:
            if "min" in c:
                out.append(f"{c['field']}≥{_num(c['min'])}")
            if "max" in c:
                out.append(f"{c['field']}≤{_num(c['max'])}")
    return SEP.join(out)


# ---------------------------------------------------------------- writing
def table_to_xlsx(table: IndicatorTable) -> bytes:
    d = table_to_dict(table)
    wb = Workbook()
    ws = wb.active
    ws.title = ITEM_SHEET
    ws.append([d["title"]])
    ws.append(ITEM_HEADERS)
    head_fill = PatternFill("solid", fgColor="F2DCDB")
    for c in ws[2]:
        c.font, c.fill = Font(bold=True), head_fill
    col = {h: k for k, h in enumerate(ITEM_HEADERS)}
    n = 0

    def row(i: dict, area_label: str, acode: str, area: dict | None, group: dict | None) -> list:
        r = [""] * len(ITEM_HEADERS)
        cells, rest = _param_cells(i.get("params") or {})
        values = {"序号": n, "一级指标": area_label, "二级指标": i.get("name"), "考核内容": i.get("content", ""),
                  "评分标准": i.get("standard", ""), "分值": i.get("points", 0) if acode != AREA_VETO else "",
                  "数据项": "、".join(i.get("fields", [])), "类型": RULE_LABELS.get(i["rule"], i["rule"]),
                  "考评方式": i.get("method", ""), "考核部门": i.get("owner", ""), "其他参数": _j(rest),
                  "单项上限": i.get("cap", ""), "编码": i["code"], "核心指标": "★" if i.get("core") else "",
                  "周期": PERIOD_LABELS.get(i.get("period", ""), ""), "折算参数": "、".join(i.get("prorate", [])),
                  "不适用条件": _na_text(i.get("not_applicable_when"), d["fields"]), "适用范围": _applies_text(i.get("applies_to")),
                  "组成部分": i.get("component") or (area or {}).get("component", ""),
                  "否决等次": i.get("grade", ""), "否决方式": MODE_LABELS.get(i.get("mode", ""), "")
                  if acode == AREA_VETO else "", "一级指标编码": acode,
                  "一级指标适用范围": _applies_text((area or {}).get("applies_to")),
                  "分组编码": (group or {}).get("code", ""), "分组名称": (group or {}).get("name", ""),
                  "分组分值": (group or {}).get("points", ""), **cells}
        for h, v in values.items():
            r[col[h]] = v
        return r

    for a in d["areas"]:
        label = f"{a['name']}（{a['points']:g}分）"
        for i in a["items"]:
            n += 1
            ws.append(row(i, label, a["code"], a, None))
        for gr in a.get("groups", []):
            for i in gr["items"]:
                n += 1
                ws.append(row(i, label, a["code"], a, gr))
    for acode, label, items in ((AREA_BONUS, f"加分项（{d['bonus_cap']:g}分）", d["bonus"]),
                                (AREA_PENALTY, "减分项", d.get("penalty", [])), (AREA_VETO, "一票否决", d["veto"])):
        for i in items:
            n += 1
            ws.append(row(i, label, acode, None, None))
    widths = {"序号": 6, "一级指标": 22, "二级指标": 22, "考核内容": 30, "评分标准": 50, "分值": 7, "数据项": 28,
              "类型": 12, "分档": 20, "每处扣分": 24, "检查项": 24, "其他参数": 20, "不适用条件": 24}
    for h, k in col.items():
        ws.column_dimensions[get_column_letter(k + 1)].width = widths.get(h, 12)
    for r in ws.iter_rows(min_row=3):
        for c in r:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "C3"

    fs = wb.create_sheet(FIELD_SHEET)
    fs.append(FIELD_HEADERS)
    for name, f in d["fields"].items():
        fs.append([name, f.get("label", name), f.get("unit", ""), f.get("kind", "number"), f.get("max_per_year", ""),
                   MISSING_LABELS.get(f.get("missing", ""), ""), f.get("from_records", ""),
                   REGULAR_LABELS.get(f.get("regular", ""), f.get("regular", "")),
                   "" if f.get("min_attendance_pct") is None else (int(f["min_attendance_pct"])
                                                                   if float(f["min_attendance_pct"]).is_integer()
                                                                   else f["min_attendance_pct"])])

    ms = wb.create_sheet(META_SHEET)
    ms.append(["项目", "内容"])
    for key, label in SETTINGS:
        v = d.get(key)
        if key == "default_missing":
            v = MISSING_LABELS[v or "report"]
        elif key == "quota_scope":
            v = SCOPE_LABELS[v or "category"]
        elif key == "allow_override":
            v = _bool_text(v)
        elif key == "tie_break":
            v = "、".join(v)
        elif key == "weights":
            v = _pairs(v) if v else ""
        elif key == "activity_types":
            v = "、".join(table.activity_types)
        ms.append([label, "" if v is None else v])
    ms.append([])
    ms.append(GRADE_HEADERS)
    for g in table.grades:
        ms.append([g.label, g.min, "" if g.max_pct is None else g.max_pct, "" if g.min_pct is None else g.min_pct,
                   _requires_text(g.requires, table)])
    ms.append([])
    ms.append(["评先条件", "内容"])
    for key, label in CANDIDATE_LABELS:
        v = getattr(table.candidates, key)
        ms.append([label, _bool_text(v) if isinstance(v, bool) else ("" if v is None else v)])
    for sheet in (ms, fs):
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 40
        for c in sheet[1]:
            c.font, c.fill = Font(bold=True), head_fill
    return workbook_bytes(wb)


# ---------------------------------------------------------------- reading
def _rows(ws):
    """Cell values row by row, with our writer's formula neutralisation undone."""
    for r in ws.iter_rows(values_only=True):
        yield tuple(restore(v) for v in r)


_AREA_POINTS = re.compile(r"（\s*[\d.]+\s*分\s*）\s*$")
_RANGE = re.compile(r"^\s*([\d.]+)?\s*[–—\-~～至]\s*([\d.]+)?\s*$")


def _split(text) -> list[str]:
    return [p.strip() for p in re.split(r"[；;]", str(text)) if p.strip()]


def _number(text, where: str, problems: list[TableProblem]):
    if text in (None, ""):
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text
    try:
        v = float(str(text).strip())
    except ValueError:
        problems.append(TableProblem(where, f"「{text}」不是数字"))
        return None
    return int(v) if v.is_integer() else v


def _read_pairs(text, where: str, problems: list[TableProblem]) -> dict | None:
    out = {}
    for part in _split(text):
        k, sep, v = part.partition(":") if ":" in part else part.partition("：")
        if not sep:
            problems.append(TableProblem(where, f"「{part}」应写成 数据项:分值，多个用「；」隔开"))
            return None
        num = _number(v, where, problems)
        if num is None:
            return None
        out[k.strip()] = num
    return out


def _read_params(get, where_of, problems: list[TableProblem]) -> dict:
    p: dict = {}
    for header, key in PARAM_HEADERS.items():
        text = get(header)
        if text in (None, ""):
            continue
        where = where_of(header)
        if key in ("target", "per_miss", "full_at", "step", "per_step"):
            v = _number(text, where, problems)
            if v is not None:
                p[key] = v
        elif key == "tiers":
            tiers = []
            for part in _split(text):
                t, arrow, s = part.replace("->", "→").partition("→")
                tv, sv = _number(t, where, problems), _number(s, where, problems) if arrow else None
                if not arrow or tv is None or sv is None:
                    problems.append(TableProblem(where, f"分档「{part}」应写成 阈值→得分，如「95→3；85→2；70→1」"))
                    tiers = None
                    break
                tiers.append([tv, sv])
            if tiers:
                p["tiers"] = tiers
        elif key in ("per_item", "per_unit"):
            text_s = str(text)
            if ":" in text_s or "：" in text_s:
                v = _read_pairs(text_s, where, problems)
            else:
                v = _number(text, where, problems)
            if v is not None:
                p[key] = v
        elif key == "round":
            by = {v: k for k, v in ROUND_LABELS.items()}
            v = by.get(str(text).strip(), str(text).strip())
            if v not in ROUND_LABELS:
                problems.append(TableProblem(where, f"「{text}」应为「不足一处按一处」或「按实际数值」"))
            else:
                p["round"] = v
        elif key == "checks":
            pairs = _read_pairs(text, where, problems)
            if pairs is not None:
                p["checks"] = [{"field": k, "points": v} for k, v in pairs.items()]
        elif key == "points_by_place":
            if str(text).strip() == PROPORTIONAL:
                p["proportional"] = True
            else:
                vals = [_number(v, where, problems) for v in _split(text)]
                if all(v is not None for v in vals):
                    p["points_by_place"] = vals
        elif key in ("min_max", "deduct_range"):
            m = _RANGE.match(str(text))
            if not m:
                problems.append(TableProblem(where, f"「{text}」应写成 最小–最大，如「1–3」"))
                continue
            lo = _number(m.group(1), where, problems) if m.group(1) else None
            hi = _number(m.group(2), where, problems) if m.group(2) else None
            if key == "deduct_range":
                p["deduct_range"] = [lo or 0, hi if hi is not None else lo]
            else:
                if lo is not None:
                    p["min"] = lo
                if hi is not None:
                    p["max"] = hi
    return p


def _read_applies(text, where: str, problems: list[TableProblem]) -> dict | None:
    if text in (None, ""):
        return None
    out = {}
    for part in _split(text):
        k, sep, v = part.partition(":") if ":" in part else part.partition("：")
        key = {"类别": "categories", "类型": "kinds"}.get(k.strip())
        if not sep or key is None:
            problems.append(TableProblem(where, f"「{part}」应写成「类别:县局支部、市局机关支部」或「类型:党总支」"))
            return None
        out[key] = [x.strip() for x in re.split(r"[、,，]", v) if x.strip()]
    return out


def _read_requires(text, fields: dict, weights: dict, where: str, problems: list[TableProblem]) -> list:
    out = []
    for part in _split(text or ""):
        if part == CORE_TEXT:
            out.append({"core": True})
            continue
        m = re.match(r"^(.+?)\s*(=|≥|>=|≤|<=)\s*(.+)$", part)
        if not m:
            problems.append(TableProblem(where, f"定级条件「{part}」无法识别（可写 {CORE_TEXT}、数据项=是、数据项≥90、组成部分≥80）"))
            continue
        name, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if op == "=":
            out.append({"field": name, "equals": val if val in ("是", "否") else _number(val, where, problems)})
            continue
        num = _number(val, where, problems)
        key = "min" if op in ("≥", ">=") else "max"
        out.append({"component": name, key: num} if name in weights and name not in fields else {"field": name, key: num})
    return out


def _truthy(v) -> bool:
    return str(v).strip() in ("是", "★", "1", "true", "True", "TRUE")


def _read_meta(rows: list, problems: list[TableProblem]) -> dict:
    """The settings, grades block and candidate rules of 「等次与评先」 (new layout or the earlier JSON one)."""
    d: dict = {}
    first = {str(r[0]).strip(): (r[1] if len(r) > 1 else None) for r in rows if r and r[0] not in (None, "")}
    if "version" in first:  # the earlier layout: English keys and JSON cells
        for k in ("version", "title", "total", "bonus_cap", "veto_grade"):
            d[k] = first.get(k)
        for k in ("grades", "tie_break", "candidates"):
            text = first.get(k)
            if text not in (None, ""):
                try:
                    d[k] = json.loads(str(text))
                except ValueError:
                    problems.append(TableProblem(f"{META_SHEET} {k}", f"「{text}」不是有效的 JSON"))
        return d
    by_label = {label: key for key, label in SETTINGS}
    cand_by_label = {label: key for key, label in CANDIDATE_LABELS}
    section = "settings"
    grades, cand = [], {}
    for n, r in enumerate(rows, start=1):
        cells = [c for c in (r or ())]
        head = str(cells[0]).strip() if cells and cells[0] not in (None, "") else ""
        if not head:
            continue
        if head == GRADE_HEADERS[0]:
            section = "grades"
            continue
        if head == "评先条件":
            section = "candidates"
            continue
        val = cells[1] if len(cells) > 1 else None
        where = f"{META_SHEET} 第 {n} 行"
        if section == "settings":
            key = by_label.get(head)
            if key is None:
                if head != "项目":
                    problems.append(TableProblem(where, f"未知的设置「{head}」"))
                continue
            d[key] = val
        elif section == "grades":
            g = {"label": head, "min": _number(val, f"{where} B 列「分数线」", problems)}
            if len(cells) > 2 and cells[2] not in (None, ""):
                g["max_pct"] = _number(cells[2], f"{where} C 列「最多占比（%）」", problems)
            if len(cells) > 3 and cells[3] not in (None, ""):
                g["min_pct"] = _number(cells[3], f"{where} D 列「最少占比（%）」", problems)
            g["_requires"] = (cells[4] if len(cells) > 4 else None, f"{where} E 列「定级条件」")
            grades.append(g)
        else:
            key = cand_by_label.get(head)
            if key is None:
                problems.append(TableProblem(where, f"未知的评先条件「{head}」"))
                continue
            if key in ("annual_only", "require_core", "no_overdue_rectification"):
                cand[key] = _truthy(val)
            elif key in ("quota_pct", "quota_min"):
                cand[key] = _number(val, where, problems)
            else:
                cand[key] = None if val in (None, "") else str(val)
    d["version"] = "" if d.get("version") is None else str(d["version"])
    if d.get("default_missing") is not None:
        d["default_missing"] = {v: k for k, v in MISSING_LABELS.items()}.get(str(d["default_missing"]).strip(),
                                                                             str(d["default_missing"]).strip())
    if d.get("quota_scope") is not None:
        d["quota_scope"] = {v: k for k, v in SCOPE_LABELS.items()}.get(str(d["quota_scope"]).strip(),
                                                                       str(d["quota_scope"]).strip())
    if d.get("allow_override") is not None:
        d["allow_override"] = _truthy(d["allow_override"])
    if d.get("tie_break"):
        d["tie_break"] = [t.strip() for t in re.split(r"[、,，]", str(d["tie_break"])) if t.strip()]
    if d.get("weights"):
        d["weights"] = _read_pairs(d["weights"], f"{META_SHEET}「组成部分权重」", problems) or {}
    if d.get("activity_types") not in (None, ""):
        d["activity_types"] = [t.strip() for t in re.split(r"[、,，;；]", str(d["activity_types"])) if t.strip()]
    else:
        d.pop("activity_types", None)
    for k in ("total", "scale", "bonus_cap", "penalty_cap"):
        if d.get(k) in ("", None):
            d.pop(k, None)
    d["grades"] = grades
    d["candidates"] = cand
    return d


def read_table_xlsx(data: bytes) -> XlsxRead:
    problems: list[TableProblem] = []
    warnings: list[TableProblem] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types on non-workbooks
        return XlsxRead(None, [TableProblem("文件", "不是有效的 .xlsx 工作簿")])
    for sheet in (ITEM_SHEET, FIELD_SHEET, META_SHEET):
        if sheet not in wb.sheetnames:
            problems.append(TableProblem("文件", f"缺少工作表「{sheet}」（请在下载的指标体系文件上修改）"))
    if problems:
        return XlsxRead(None, problems)
    d = _read_meta(list(_rows(wb[META_SHEET])), problems)
    d["fields"] = {}
    field_rows = list(_rows(wb[FIELD_SHEET]))
    for n, r in enumerate(field_rows[1:], start=2):
        if not r or not r[0]:
            continue
        spec = {"label": r[1] or r[0], "unit": r[2] or "", "kind": r[3] or "number"}
        if len(r) > 4 and r[4] not in (None, ""):
            spec["max_per_year"] = r[4]
        if len(r) > 5 and r[5] not in (None, ""):
            spec["missing"] = {v: k for k, v in MISSING_LABELS.items()}.get(str(r[5]).strip(), str(r[5]).strip())
        if len(r) > 6 and r[6] not in (None, ""):
            spec["from_records"] = str(r[6]).strip()
        if len(r) > 7 and r[7] not in (None, ""):
            spec["regular"] = {v: k for k, v in REGULAR_LABELS.items()}.get(str(r[7]).strip(), str(r[7]).strip())
        if len(r) > 8 and r[8] not in (None, ""):
            spec["min_attendance_pct"] = _number(r[8], f"{FIELD_SHEET} 第 {n} 行 I 列「最低出席率（%）」", problems)
        d["fields"][str(r[0]).strip()] = spec
    rows = list(_rows(wb[ITEM_SHEET]))
    header_at = next((k for k, r in enumerate(rows[:10]) if r and "编码" in [str(c or "").strip() for c in r]), None)
    if header_at is None:
        return XlsxRead(None, [TableProblem(ITEM_SHEET, "找不到表头行（应含「编码」「二级指标」「分值」等列）")])
    header = [str(c or "").strip() for c in rows[header_at]]
    col = {h: k for k, h in enumerate(header) if h}
    known = set(ITEM_HEADERS) | {"参数"}
    for h, k in col.items():
        if h not in known:
            warnings.append(TableProblem(f"{ITEM_SHEET} {get_column_letter(k + 1)} 列「{h}」",
                                         "不是指标体系的列，已忽略（如需保留说明文字，请写入「考核内容」「考评方式」或「考核部门」）"))
    areas: dict[str, dict] = {}
    d["bonus"], d["veto"], d["penalty"] = [], [], []
    for n, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        def get(h, r=r):
            k = col.get(h)
            return r[k] if k is not None and k < len(r) else None

        def where_of(h, n=n):
            k = col.get(h)
            return f"{ITEM_SHEET} 第 {n} 行 {get_column_letter(k + 1) if k is not None else ''} 列「{h}」"

        code = get("编码")
        if code in (None, ""):
            continue
        rule_text = str(get("类型") or "").strip()
        rule = RULE_BY_LABEL.get(rule_text, rule_text)
        item: dict = {"code": str(code).strip(), "name": str(get("二级指标") or code), "rule": rule,
                      "standard": str(get("评分标准") or ""),
                      "fields": [f.strip() for f in re.split(r"[、,，]", str(get("数据项") or "")) if f.strip()]}
        for h, key in (("考核内容", "content"), ("考评方式", "method"), ("考核部门", "owner")):
            if get(h) not in (None, ""):
                item[key] = str(get(h))
        pts = _number(get("分值"), where_of("分值"), problems)
        item["points"] = float(pts or 0)
        params = _read_params(get, where_of, problems)
        for h in ("其他参数", "参数"):  # 「参数」: JSON of the earlier layout
            text = get(h)
            if text not in (None, ""):
                try:
                    extra = json.loads(str(text))
                except ValueError:
                    problems.append(TableProblem(where_of(h), f"「{text}」不是有效的 JSON"))
                    extra = None
                if isinstance(extra, dict):
                    params.update(extra)
        if params:
            item["params"] = params
        if _truthy(get("核心指标") or ""):
            item["core"] = True
        period = str(get("周期") or "").strip()
        if period:
            item["period"] = PERIOD_BY_LABEL.get(period, period)
        pr = str(get("折算参数") or "").strip()
        if pr:
            item["prorate"] = [p for p in re.split(r"[、,，]", pr) if p]
        na = get("不适用条件")
        if na not in (None, ""):
            text = str(na).strip()
            m = re.match(r"^([A-Za-z_][\w]*)\s*=\s*([^；;]+?)\s*(?:[；;]\s*(.+))?$", text)
            if text.startswith("{"):
                try:
                    item["not_applicable_when"] = json.loads(text)
                except ValueError:
                    problems.append(TableProblem(where_of("不适用条件"), f"「{na}」不是有效的 JSON"))
            elif m:
                v = m.group(2).strip()
                eq = {"是": 1, "否": 0}.get(v)
                eq = eq if eq is not None else _number(v, where_of("不适用条件"), problems)
                item["not_applicable_when"] = {"field": m.group(1), "equals": eq,
                                               **({"reason": m.group(3).strip()} if m.group(3) else {})}
            else:
                problems.append(TableProblem(where_of("不适用条件"), f"「{na}」应写成 数据项=值，如「has_groups=否」"))
        ap = _read_applies(get("适用范围"), where_of("适用范围"), problems)
        if ap:
            item["applies_to"] = ap
        cap = get("单项上限")
        if cap not in (None, ""):
            item["cap"] = _number(cap, where_of("单项上限"), problems)
        acode = str(get("一级指标编码") or "").strip()
        component = str(get("组成部分") or "").strip() or None
        if rule == "bonus" or acode == AREA_BONUS:
            d["bonus"].append(item)
        elif rule == "penalty" or acode == AREA_PENALTY:
            item.pop("points", None)
            if component:
                item["component"] = component
            d["penalty"].append(item)
        elif rule == "veto" or acode == AREA_VETO:
            item.pop("points", None)
            if get("否决等次") not in (None, ""):
                item["grade"] = str(get("否决等次")).strip()
            mode = str(get("否决方式") or "").strip()
            if mode:
                item["mode"] = {v: k for k, v in MODE_LABELS.items()}.get(mode, mode)
            d["veto"].append(item)
        else:
            label = str(get("一级指标") or acode)
            aname = _AREA_POINTS.sub("", label).strip() or acode
            area = areas.setdefault(acode or aname, {"code": acode or aname, "name": aname, "items": []})
            if component:
                area["component"] = component
            aap = _read_applies(get("一级指标适用范围"), where_of("一级指标适用范围"), problems)
            if aap:
                area["applies_to"] = aap
            gcode = str(get("分组编码") or "").strip()
            if gcode:
                groups = area.setdefault("groups", [])
                gr = next((g for g in groups if g["code"] == gcode), None)
                if gr is None:
                    gr = {"code": gcode, "name": str(get("分组名称") or gcode), "items": []}
                    gp = _number(get("分组分值"), where_of("分组分值"), problems)
                    if gp is not None:
                        gr["points"] = gp
                    groups.append(gr)
                gr["items"].append(item)
            else:
                area["items"].append(item)
    d["areas"] = list(areas.values())
    if not d["penalty"]:
        d.pop("penalty")
    for g in d.get("grades", []):
        if isinstance(g, dict) and "_requires" in g:
            text, where = g.pop("_requires")
            req = _read_requires(text, d["fields"], d.get("weights") or {}, where, problems)
            if req:
                g["requires"] = req
    return XlsxRead(None if problems else d, problems, warnings)


def xlsx_to_dict(data: bytes) -> tuple[dict | None, list[TableProblem]]:
    """(dict for parse_table, blocking problems); warnings: see :func:`read_table_xlsx`."""
    read = read_table_xlsx(data)
    return read.content, read.problems


# ---------------------------------------------------------------- checks and diff
_POINTS_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*分")
_AT_LEAST = re.compile(r"不少于\s*(\d+(?:\.\d+)?)\s*(次|篇|件|项|学时|期)")


def _param_numbers(item) -> set[float]:
    nums = {float(item.points)}
    if item.cap is not None:
        nums.add(float(item.cap))

    def walk(v):
        if isinstance(v, bool):
            return
        if isinstance(v, (int, float)):
            nums.add(float(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    walk(item.params)
    return nums


def standard_mismatches(table: IndicatorTable) -> list[str]:
    """Items whose 评分标准 text names points (「扣 1.5 分」) or a yearly target (「不少于 12 次」)
    that the parameters do not have: the text was not updated when a parameter was."""
    out = []
    for i in table.all_items:
        if not i.standard:
            continue
        nums = _param_numbers(i)
        bad = sorted({m.group(1) for m in _POINTS_IN_TEXT.finditer(i.standard) if float(m.group(1)) not in nums},
                     key=float)
        if bad:
            out.append(f"{i.code} {i.name}：评分标准写的「{'、'.join(b + ' 分' for b in bad)}」与参数不符"
                       f"（分值 {i.points:g}，参数 {_j(i.params) or '无'}），请核对")
        target = i.params.get("target")
        if isinstance(target, (int, float)) and i.rule in ("count_target", "ratio"):
            for m in _AT_LEAST.finditer(i.standard):
                before = i.standard[max(0, m.start() - 8):m.start()]
                if any(w in before for w in ("每月", "每季度", "每半年", "每周")):
                    continue
                if float(m.group(1)) != float(target):
                    out.append(f"{i.code} {i.name}：评分标准写「不少于 {m.group(1)} {m.group(2)}」，参数目标值为 {target:g}，请核对")
    return out


def _show(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "、".join(map(str, v)) or "（无）"
    return "（无）" if v is None else str(v)


def diff_tables(old: IndicatorTable | None, new: IndicatorTable) -> list[str]:
    """Human-readable differences between two versions (Chinese), for review before saving."""
    if old is None:
        return [f"新指标体系 {new.version}：{len(new.items)} 个指标，{len(new.bonus)} 个加分项，{len(new.veto)} 个否决项"]
    out = []
    o, n = {i.code: i for i in old.all_items}, {i.code: i for i in new.all_items}
    for code in n.keys() - o.keys():
        out.append(f"新增 {code} {n[code].name}（{n[code].points:g} 分）")
    for code in o.keys() - n.keys():
        out.append(f"删除 {code} {o[code].name}")
    for code in sorted(n.keys() & o.keys()):
        a, b = o[code], n[code]
        for attr, label in (("name", "名称"), ("points", "分值"), ("rule", "类型"), ("params", "参数"),
                            ("standard", "评分标准"), ("core", "★核心"), ("period", "周期"), ("fields", "数据项"),
                            ("prorate", "半年折算参数"), ("not_applicable_when", "不适用条件"), ("cap", "单项上限"),
                            ("content", "考核内容"), ("method", "考评方式"), ("owner", "考核部门"),
                            ("applies_to", "适用范围"), ("group", "分组"), ("component", "组成部分"),
                            ("grade", "否决等次"), ("mode", "否决方式")):
            va, vb = getattr(a, attr), getattr(b, attr)
            if va != vb:
                out.append(f"{code} {label}：{_show(va)} → {_show(vb)}")
    if [(g.label, g.min) for g in old.grades] != [(g.label, g.min) for g in new.grades]:
        out.append("等次分数线：" + "、".join(f"{g.label}≥{g.min:g}" for g in old.grades) + " → "
                   + "、".join(f"{g.label}≥{g.min:g}" for g in new.grades))
    if [(g.max_pct, g.min_pct, g.requires) for g in old.grades] != [(g.max_pct, g.min_pct, g.requires)
                                                                    for g in new.grades]:
        out.append("等次名额或定级条件有变化")
    for attr, label in (("bonus_cap", "加分上限"), ("total", "基础分总分"), ("scale", "折算分制"),
                        ("penalty_cap", "减分上限"), ("default_missing", "未报数据"), ("quota_scope", "名额范围"),
                        ("allow_override", "允许直接定级"), ("weights", "组成部分权重"), ("activity_types", "活动类型")):
        va, vb = getattr(old, attr), getattr(new, attr)
        if va != vb:
            out.append(f"{label}：{_show(va)} → {_show(vb)}")
    if old.veto_grade != new.veto_grade:
        out.append(f"一票否决等次：{old.veto_grade} → {new.veto_grade}")
    if old.tie_break != new.tie_break:
        out.append(f"同分排序：{'、'.join(old.tie_break)} → {'、'.join(new.tie_break)}")
    for name in sorted(new.fields.keys() - old.fields.keys()):
        out.append(f"新增数据项 {name}（{new.fields[name].label}）")
    for name in sorted(old.fields.keys() - new.fields.keys()):
        out.append(f"删除数据项 {name}（{old.fields[name].label}）")
    for name in sorted(new.fields.keys() & old.fields.keys()):
        a, b = old.fields[name], new.fields[name]
        for attr, label in (("label", "名称"), ("unit", "计量单位"), ("kind", "类型"), ("max_per_year", "年度上限"),
                            ("missing", "未报处理"), ("from_records", "活动记录类型"), ("regular", "规律性"),
                            ("min_attendance_pct", "最低出席率")):
            if getattr(a, attr) != getattr(b, attr):
                out.append(f"数据项 {name} {label}：{getattr(a, attr)} → {getattr(b, attr)}")
    if old.candidates != new.candidates:
        out.append("评先条件有变化")
    return out or ["与当前版本没有差异"]
