"""The indicator table as the Excel sheet Chinese offices use, and back.

Layout of sheet 「指标明细」: 序号 / 一级指标 / 二级指标 / 考核内容 / 评分标准 / 分值 / 数据项 / 类型,
plus machine columns (编码 / 参数 / ★ / 周期 / 折算参数 / 不适用条件 / 上限) so a round trip
loses nothing. Sheets 「数据项」 and 「等次与评先」 carry fields, grades and candidate rules.
Reading returns (dict, problems) for ``scoring.indicators.parse_table``; never raises on
a bad file.
"""
from __future__ import annotations

import io
import json

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from data.xlsx_safe import restore, workbook_bytes

from scoring.glossary import RULE_LABELS
from scoring.indicators import IndicatorTable, TableProblem, table_to_dict

ITEM_SHEET, FIELD_SHEET, META_SHEET = "指标明细", "数据项", "等次与评先"
ITEM_HEADERS = ["序号", "一级指标", "二级指标", "考核内容", "评分标准", "分值", "数据项", "类型",
                "编码", "参数", "核心指标", "周期", "折算参数", "不适用条件", "单项上限", "一级指标编码"]
FIELD_HEADERS = ["数据项", "名称", "计量单位", "类型", "年度上限"]
RULE_BY_LABEL = {v: k for k, v in RULE_LABELS.items()}
PERIOD_LABELS = {"prorate": "半年折算", "annual": "仅年度"}
PERIOD_BY_LABEL = {v: k for k, v in PERIOD_LABELS.items()}


def _j(v) -> str:
    return json.dumps(v, ensure_ascii=False) if v not in (None, {}, [], ()) else ""


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
    n = 0
    groups = [(a["code"], a["name"], a["points"], a["items"]) for a in d["areas"]]
    groups += [("加分项", "加分项", d["bonus_cap"], d["bonus"]), ("一票否决", "一票否决", 0, d["veto"])]
    for acode, aname, apoints, items in groups:
        for i in items:
            n += 1
            ws.append([n, f"{aname}（{apoints:g}分）" if acode not in ("一票否决",) else aname, i.get("name"),
                       i.get("name"), i.get("standard", ""), i.get("points", 0), "、".join(i.get("fields", [])),
                       RULE_LABELS.get(i["rule"], i["rule"]), i["code"], _j(i.get("params")),
                       "★" if i.get("core") else "", PERIOD_LABELS.get(i.get("period", ""), ""),
                       "、".join(i.get("prorate", [])), _j(i.get("not_applicable_when")),
                       i.get("cap", ""), acode])
    widths = [6, 22, 22, 22, 50, 7, 28, 12, 8, 28, 8, 10, 12, 24, 8, 10]
    for k, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(k)].width = w
    for row in ws.iter_rows(min_row=3):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "C3"
    fs = wb.create_sheet(FIELD_SHEET)
    fs.append(FIELD_HEADERS)
    for name, f in d["fields"].items():
        fs.append([name, f.get("label", name), f.get("unit", ""), f.get("kind", "number"), f.get("max_per_year", "")])
    ms = wb.create_sheet(META_SHEET)
    for k in ("version", "title", "total", "bonus_cap", "veto_grade"):
        ms.append([k, d[k]])
    ms.append(["grades", _j(d["grades"])])
    ms.append(["tie_break", _j(d["tie_break"])])
    ms.append(["candidates", _j(d["candidates"])])
    return workbook_bytes(wb)


def _json(text, where: str, problems: list[TableProblem]):
    if text in (None, ""):
        return None
    try:
        return json.loads(str(text))
    except ValueError:
        problems.append(TableProblem(where, f"「{text}」不是有效的 JSON"))
        return None


def _rows(ws):
    """Cell values row by row, with our writer's formula neutralisation undone."""
    for r in ws.iter_rows(values_only=True):
        yield tuple(restore(v) for v in r)


def xlsx_to_dict(data: bytes) -> tuple[dict | None, list[TableProblem]]:
    problems: list[TableProblem] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types on non-workbooks
        return None, [TableProblem("文件", "不是有效的 .xlsx 工作簿")]
    for sheet in (ITEM_SHEET, FIELD_SHEET, META_SHEET):
        if sheet not in wb.sheetnames:
            problems.append(TableProblem("文件", f"缺少工作表「{sheet}」（请在下载的指标体系文件上修改）"))
    if problems:
        return None, problems
    meta = {str(r[0]): r[1] for r in _rows(wb[META_SHEET]) if r and r[0]}
    d: dict = {k: meta.get(k) for k in ("version", "title", "total", "bonus_cap", "veto_grade")}
    d["version"] = str(d["version"] or "")
    for k in ("grades", "tie_break", "candidates"):
        v = _json(meta.get(k), f"等次与评先 {k}", problems)
        if v is not None:
            d[k] = v
    d["fields"] = {}
    for r in list(_rows(wb[FIELD_SHEET]))[1:]:
        if not r or not r[0]:
            continue
        spec = {"label": r[1] or r[0], "unit": r[2] or "", "kind": r[3] or "number"}
        if len(r) > 4 and r[4] not in (None, ""):
            spec["max_per_year"] = r[4]
        d["fields"][str(r[0]).strip()] = spec
    rows = list(_rows(wb[ITEM_SHEET]))
    header_at = next((k for k, r in enumerate(rows[:10]) if r and "编码" in [str(c or "").strip() for c in r]), None)
    if header_at is None:
        return None, [TableProblem(ITEM_SHEET, "找不到表头行（应含「编码」「二级指标」「分值」等列）")]
    header = [str(c or "").strip() for c in rows[header_at]]
    col = {h: k for k, h in enumerate(header) if h}
    areas: dict[str, dict] = {}
    d["bonus"], d["veto"] = [], []
    for n, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        def get(h):
            k = col.get(h)
            return r[k] if k is not None and k < len(r) else None
        code = get("编码")
        if code in (None, ""):
            continue
        where = f"{ITEM_SHEET} 第 {n} 行（{code}）"
        rule_text = str(get("类型") or "").strip()
        rule = RULE_BY_LABEL.get(rule_text, rule_text)
        item = {"code": str(code).strip(), "name": str(get("二级指标") or code), "rule": rule,
                "standard": str(get("评分标准") or ""),
                "fields": [f for f in str(get("数据项") or "").replace(",", "、").split("、") if f.strip()]}
        try:
            item["points"] = float(get("分值") or 0)
        except (TypeError, ValueError):
            problems.append(TableProblem(where, f"分值「{get('分值')}」不是数字"))
            item["points"] = 0.0
        params = _json(get("参数"), where, problems)
        if params:
            item["params"] = params
        if str(get("核心指标") or "").strip() in ("★", "是", "1", "true", "True"):
            item["core"] = True
        period = str(get("周期") or "").strip()
        if period:
            item["period"] = PERIOD_BY_LABEL.get(period, period)
        pr = str(get("折算参数") or "").strip()
        if pr:
            item["prorate"] = [p for p in pr.replace(",", "、").split("、") if p]
        na = _json(get("不适用条件"), where, problems)
        if na:
            item["not_applicable_when"] = na
        cap = get("单项上限")
        if cap not in (None, ""):
            item["cap"] = cap
        acode = str(get("一级指标编码") or "").strip()
        if rule == "bonus" or acode == "加分项":
            d["bonus"].append(item)
        elif rule == "veto" or acode == "一票否决":
            item.pop("points", None)
            d["veto"].append(item)
        else:
            aname = str(get("一级指标") or acode).split("（")[0]
            areas.setdefault(acode or aname, {"code": acode or aname, "name": aname, "items": []})["items"].append(item)
    d["areas"] = list(areas.values())
    return (None, problems) if problems else (d, [])


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
                            ("prorate", "半年折算参数"), ("not_applicable_when", "不适用条件"), ("cap", "单项上限")):
            va, vb = getattr(a, attr), getattr(b, attr)
            if va != vb:
                out.append(f"{code} {label}：{_show(va)} → {_show(vb)}")
    if [(g.label, g.min) for g in old.grades] != [(g.label, g.min) for g in new.grades]:
        out.append("等次分数线：" + "、".join(f"{g.label}≥{g.min:g}" for g in old.grades) + " → "
                   + "、".join(f"{g.label}≥{g.min:g}" for g in new.grades))
    if old.bonus_cap != new.bonus_cap:
        out.append(f"加分上限：{old.bonus_cap:g} → {new.bonus_cap:g}")
    if old.total != new.total:
        out.append(f"基础分总分：{old.total:g} → {new.total:g}")
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
        for attr, label in (("label", "名称"), ("unit", "计量单位"), ("kind", "类型"), ("max_per_year", "年度上限")):
            if getattr(a, attr) != getattr(b, attr):
                out.append(f"数据项 {name} {label}：{getattr(a, attr)} → {getattr(b, attr)}")
    if old.candidates != new.candidates:
        out.append("评先条件有变化")
    return out or ["与当前版本没有差异"]
