"""The evidence template workbook (.xlsx) of one period, written with openpyxl.

Owns the layout ``parse.py`` reads back: sheet 「填报表」 with the header in row 1
(one column per evidence field, header = 「label（unit）」), row 2 「计量单位及范围」,
one row per unit from row 3 with 单位编码/单位名称 prefilled and locked (the sheet
is protected without a password: it prevents slips, not determined edits);
data validation per field, frozen panes, a comment per header naming the
评分标准 the field feeds; a 「填报说明」 sheet; a hidden ``_meta`` sheet with the
period and the indicator-table version so a file for another period is refused.

It must not read uploads, touch a database or decide which units a user sees
(the caller passes them).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation

from data.xlsx_safe import workbook_bytes

from data.intake import headers as H
from data.intake.normalise import column_letter, format_number
from data.intake.normalise import CLEAR_WORDS
from data.intake.parse import period_days, row_limit
from scoring.glossary import period_label
from scoring.indicators import FieldDef, IndicatorTable

TEMPLATE_FORMAT = "dangjian-evidence-1"
FIRST_DATA_ROW = 3
FIRST_FIELD_COL = 3  # C

_HEAD_FILL = PatternFill("solid", fgColor="C00000")
_UNIT_ROW_FILL = PatternFill("solid", fgColor="FBE5D6")
_LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

KIND_WORDS = {"count": "次数", "hours": "学时", "percent": "百分比", "bool": "是/否", "people": "人数",
              "number": "数值"}


def field_rule_text(f: FieldDef, period_kind: str, days: tuple[int, int] | None = None) -> str:
    """What may be written for a field in this period, in Chinese: 「0–181 的整数」 (2026H1 has 181 days)."""
    limit = row_limit(f, period_kind, days)
    if f.kind == "bool":
        return "填「是」或「否」"
    if f.kind == "percent":
        return "0–100 的数（百分比，如 95 表示 95%）"
    upper = f"–{format_number(limit)}" if limit is not None else " 及以上"
    if f.kind in ("count", "people"):
        return f"0{upper} 的整数"
    return f"0{upper} 的数，可有小数"


def items_for_field(table: IndicatorTable, name: str) -> list:
    """Items whose score reads the field (as evidence or as a 不适用 gate)."""
    return [i for i in table.all_items
            if name in i.fields or (i.not_applicable_when or {}).get("field") == name]


def _standard_lines(table: IndicatorTable, name: str) -> list[str]:
    out = []
    for i in items_for_field(table, name):
        std = i.standard or i.name
        gate = "（判断是否适用）" if name not in i.fields else ""
        out.append(f"{i.code} {i.name}{gate}：{std}")
    return out


def build_template(table: IndicatorTable, units: pd.DataFrame, period_code: str, period_kind: str,
                   generated_at: dt.datetime | None = None, period_dates: tuple | None = None) -> bytes:
    """The template workbook as bytes; ``units`` has columns ``unit`` (code) and ``name``;
    ``period_dates`` (start, end) prorate the caps to the period's days."""
    generated_at = generated_at or dt.datetime.now().replace(microsecond=0)
    days = period_days(period_code, period_kind, period_dates)
    fields = [table.fields[n] for n in table.evidence_fields]
    wb = Workbook()
    ws = wb.active
    ws.title = H.DATA_SHEET
    label = period_label(period_code)

    # -- header rows
    head_font = Font(bold=True, color="FFFFFF")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.cell(1, 1, H.UNIT_CODE_HEADERS[0])
    ws.cell(1, 2, H.UNIT_NAME_HEADERS[0])
    ws.cell(2, 1, H.UNIT_ROW_MARK)
    ws.cell(2, 2, f"{label}（指标体系 {table.version} 版）")
    for j, f in enumerate(fields):
        col = FIRST_FIELD_COL + j
        c = ws.cell(1, col, f.header)
        ws.cell(2, col, f"{f.unit}；{field_rule_text(f, period_kind, days)}")
        lines = [f"{f.label}（{f.unit}）", f"填写：{field_rule_text(f, period_kind, days)}"]
        lines += ["用于评分：", *_standard_lines(table, f.name)]
        comment = Comment("\n".join(lines), "党建考核系统")
        comment.width, comment.height = 360, 60 + 18 * len(lines)
        c.comment = comment
    for col in range(1, FIRST_FIELD_COL + len(fields)):
        h = ws.cell(1, col)
        h.font, h.fill, h.alignment, h.border = head_font, _HEAD_FILL, center, _BORDER
        u = ws.cell(2, col)
        u.font, u.fill, u.alignment, u.border = Font(italic=True, size=9, color="595959"), _UNIT_ROW_FILL, center, _BORDER
    ws.row_dimensions[1].height = 45
    ws.row_dimensions[2].height = 36

    # -- unit rows: code and name locked, value cells unlocked through the column style
    codes = units["unit"].astype(str).tolist()
    names = units["name"].astype(str).tolist()
    for k, (code, name) in enumerate(zip(codes, names)):
        r = FIRST_DATA_ROW + k
        a = ws.cell(r, 1, code)
        b = ws.cell(r, 2, name)
        # Names and codes are text, never formulas: openpyxl would store 「=…」 as one (formula injection).
        a.data_type = b.data_type = "s"
        a.fill = b.fill = _LOCKED_FILL
        a.number_format = "@"
    last = FIRST_DATA_ROW + max(len(codes), 1) - 1
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = max(16, min(40, max((len(n) for n in names), default=8) * 2 + 2))
    unlocked = Protection(locked=False)
    for j, f in enumerate(fields):
        letter = column_letter(FIRST_FIELD_COL - 1 + j)
        dim = ws.column_dimensions[letter]
        dim.width = max(10, min(22, len(f.header) * 2))
        dim.protection = unlocked
        _validation(ws, f, period_kind, days, letter, FIRST_DATA_ROW, last)
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, FIRST_FIELD_COL)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = False

    _guide(wb.create_sheet(H.GUIDE_SHEET), table, fields, period_code, period_kind, label, days)
    meta = wb.create_sheet(H.META_SHEET)
    for row in (("key", "value"), ("template", TEMPLATE_FORMAT), ("period", period_code),
                ("period_kind", period_kind), ("period_label", label), ("table_version", table.version),
                ("table_title", table.title), ("units", str(len(codes))),
                ("generated_at", generated_at.isoformat(sep=" "))):
        meta.append(list(row))
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    wb.active = 0
    return workbook_bytes(wb)


def _validation(ws, f: FieldDef, period_kind: str, days, letter: str, first: int, last: int) -> None:
    """Excel's own check while typing. 「清除」 and 「/」 (withdraw the current value) must pass it,
    so numbers use a custom formula rather than Excel's whole/decimal types."""
    limit = row_limit(f, period_kind, days)
    title = f"{f.label}（{f.unit}）"
    rule = field_rule_text(f, period_kind, days)
    ref = f"{letter}{first}:{letter}{last}"
    cell = f"{letter}{first}"
    clears = ",".join(f'{cell}="{w}"' for w in CLEAR_WORDS)
    if f.kind == "bool":
        dv = DataValidation(type="list", formula1='"是,否,' + ",".join(CLEAR_WORDS) + '"', allow_blank=True)
    else:
        conds = [f"{cell}>=0"]
        if limit is not None:
            conds.append(f"{cell}<={format_number(limit)}")
        if f.kind in ("count", "people"):
            conds.append(f"INT({cell})={cell}")
        if f.kind == "percent":  # 「95%」 typed as text is accepted by the upload too
            clears += f',RIGHT({cell},1)="%"'
        # IF, not OR(AND(...)): INT(「清除」) is #VALUE!, and an error anywhere fails the validation.
        dv = DataValidation(type="custom", formula1=f"IF(ISNUMBER({cell}),AND({','.join(conds)}),OR({clears}))",
                            allow_blank=True)
    dv.error = (f"请{rule.removeprefix('填')}" if f.kind == "bool" else f"请填写 {rule}") + "；清除原值填「清除」或「/」"
    dv.errorTitle = title[:32]
    dv.prompt = rule + "；留空保持原值，填「清除」或「/」清除原值"
    dv.promptTitle = title[:32]
    dv.showErrorMessage = True
    dv.showInputMessage = True
    ws.add_data_validation(dv)
    dv.add(ref)


def _guide(ws, table: IndicatorTable, fields: list[FieldDef], period_code: str, period_kind: str,
           label: str, days=None) -> None:
    ws.append([f"{label}党建工作考核填报说明（指标体系：{table.title}，{table.version} 版）"])
    ws["A1"].font = Font(bold=True, size=14)
    notes = [
        f"1. 在「{H.DATA_SHEET}」工作表中逐行填写，每行一个单位；单位编码、单位名称已预填并锁定，请勿修改或增删单位行。",
        "2. 次数、人数填写整数；学时可有小数；比率填写 0–100 的百分数（如 95 或 95%）；是/否项填写「是」或「否」。"
        "比率不要写成小数：0.95 无法判断是 95% 还是 0.95%，会被退回，请写 95 或 95%（设为百分比格式的单元格按显示的百分数读取）。",
        "3. 没有开展的活动填 0；不清楚或暂不填报的留空：留空的单元格保持系统中的原值（未报送过的按「缺报」计 0 分）。"
        "要撤回已报送的错误数值，在单元格中填「清除」或「/」，提交后该数值被清除（按未报送处理，原值留有历史记录）。",
        "4. 不要合并数据单元格；如一个值纵向合并在几个单位的行上，系统会把它分别记入合并范围内的每个单位并给出提示；"
        "跨几个数据项横向合并的单元格会被退回。",
        "5. 请勿使用公式；如必须使用，请在 Excel 中保存后再上传（系统不计算公式，只读取保存的结果；#N/A、#DIV/0! 等错误值会被退回）。",
        "6. 上传后系统逐行校验并预览新旧数值及对得分、排名的影响；有任何错误时整个文件都不写入，请按提示修改后重新上传。",
        f"7. 本模板仅适用于考核期「{period_code}」（{label}）；用于其他考核期会被拒绝。",
    ]
    for n in notes:
        ws.append([n])
    ws.append([])
    head = ["列", "数据项", "计量单位", "类型", "填写要求", "对应指标及评分标准"]
    ws.append(head)
    hr = ws.max_row
    for j in range(1, len(head) + 1):
        c = ws.cell(hr, j)
        c.font, c.fill, c.alignment = Font(bold=True, color="FFFFFF"), _HEAD_FILL, Alignment(horizontal="center")
    for j, f in enumerate(fields):
        ws.append([column_letter(FIRST_FIELD_COL - 1 + j), f.label, f.unit, KIND_WORDS.get(f.kind, f.kind),
                   field_rule_text(f, period_kind, days), "\n".join(_standard_lines(table, f.name))])
        ws.cell(ws.max_row, 6).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEF", (6, 26, 10, 10, 30, 90)):
        ws.column_dimensions[letter].width = width


__all__ = ["build_template", "field_rule_text", "items_for_field", "TEMPLATE_FORMAT", "FIRST_DATA_ROW",
           "FIRST_FIELD_COL"]
