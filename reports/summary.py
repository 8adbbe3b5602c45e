"""工作总结 skeleton (.docx): the headings of a half-year / annual work summary with the period's figures
filled in and the prose left to the author. A figure the data cannot give stays 「**」 (highlighted),
so nobody mistakes it for a count."""
from __future__ import annotations

from reports import docx_style as d

PROSE = "（此处由撰稿人补充本部分的做法和成效。）"
NEXT = ("二、下一步工作思路", "（此处由撰稿人填写下一步工作思路。）")


def summary_title(s) -> str:
    who = "" if s.bureau is None else s.bureau
    return f"{who}{s.period_label}党建工作总结"


def _sentence(s, rows) -> list:
    parts: list = [f"{'上半年' if s.kind == 'H1' else '全年'}，"]
    for k, r in enumerate(rows):
        sep = "；" if k else ""
        if not r.known:
            parts += [f"{sep}{r.label} ", ("**", {"highlight": True, "bold": True}), f" {r.unit}"]
        else:
            parts += [f"{sep}{r.label} {r.text} {r.unit}"]
    parts.append("。")
    return parts


def summary_docx(s) -> bytes:
    """``s``: data.work_summary.WorkSummary."""
    doc = d.new_document(summary_title(s))
    d.title(doc, summary_title(s))
    d.para(doc, f"（开头：总体情况概述，由撰稿人填写。本稿中的数字由党建工作考核系统根据 {s.n_units} 个单位"
                f"（{s.scope_label}）的填报数据和整改记录统计；「**」为系统数据不能给出的数字，需人工核实填写。）",
           placeholder=True)
    d.heading1(doc, "一、主要工作情况")
    for section in dict.fromkeys(s.figures["section"]):
        rows = list(s.figures[s.figures["section"] == section].itertuples())
        d.heading2(doc, section)
        d.para(doc, PROSE, placeholder=True)
        d.para(doc, *_sentence(s, rows))
    d.heading1(doc, NEXT[0])
    d.para(doc, NEXT[1], placeholder=True)
    d.page_break(doc)
    d.heading1(doc, "附表：工作量统计及口径")
    rows = [[r.label, r.text, r.unit, r.how if r.known else (r.note or "—"), len(r.contributors) if r.known else "—"]
            for r in s.figures.itertuples()]
    d.table(doc, ["事项", "数值", "单位", "统计口径 / 说明", "涉及单位数"], rows, [5.2, 1.8, 1.3, 6.0, 1.9],
            ["l", "r", "c", "l", "r"])
    return d.to_bytes(doc)
