"""The words the intake recognises in header rows, shared by the template and the parser.

Owns header synonyms, sheet names and marker texts; nothing else. A change here
changes both what the template writes and what uploads may say.
"""
from __future__ import annotations

from scoring.indicators import FieldDef, IndicatorTable

from data.intake.normalise import key

DATA_SHEET = "填报表"
GUIDE_SHEET = "填报说明"
META_SHEET = "_meta"
# Column A of the template's second header row (unit of measure and allowed range).
UNIT_ROW_MARK = "计量单位及范围"

# The English names are the columns of the CLI's own exports (unit_code, field, value).
UNIT_CODE_HEADERS = ("单位编码", "编码", "单位代码", "组织编码", "党组织编码", "代码", "单位编号", "编号", "unit_code",
                     "unit code", "code")
UNIT_NAME_HEADERS = ("单位名称", "单位", "党组织名称", "支部名称", "党支部名称", "组织名称", "名称", "党组织", "unit_name",
                     "unit name", "name")
LONG_FIELD_HEADERS = ("数据项", "数据项名称", "指标", "指标项", "指标名称", "项目", "字段", "field", "field_label")
LONG_VALUE_HEADERS = ("数值", "值", "数据", "填报值", "填报数", "数量", "value")
# Recognised and ignored without a warning.
IGNORED_HEADERS = ("序号", "计量单位", "备注", "说明", "填报说明", "填写说明", "所属单位", "上级党组织", "类别")

TOTAL_WORDS = ("合计", "总计", "小计", "共计")
FOOTER_PREFIXES = ("填表人", "填报人", "审核人", "联系人", "联系电话", "负责人", "制表人", "填表日期", "注:", "注：",
                   "备注:", "说明:")

CODE_KEYS = {key(h) for h in UNIT_CODE_HEADERS}
NAME_KEYS = {key(h) for h in UNIT_NAME_HEADERS}
LONG_FIELD_KEYS = {key(h) for h in LONG_FIELD_HEADERS}
LONG_VALUE_KEYS = {key(h) for h in LONG_VALUE_HEADERS}
IGNORED_KEYS = {key(h) for h in IGNORED_HEADERS}
TOTAL_KEYS = tuple(key(w) for w in TOTAL_WORDS)
FOOTER_KEYS = tuple(key(w) for w in FOOTER_PREFIXES)


def field_keys(table: IndicatorTable) -> dict[str, str]:
    """Header key → field name: the label, the label with unit 「支委会次数（次）」, or the field name."""
    out: dict[str, str] = {}
    for name in table.evidence_fields:
        f: FieldDef = table.fields[name]
        for k in (key(f.header), key(f"{f.label}({f.unit})"), key(f.label), key(f.name)):
            out.setdefault(k, name)
    return out
