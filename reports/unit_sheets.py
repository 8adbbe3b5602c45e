"""Documents for one unit: 单位反馈单 and 整改通知书 (.docx), and a zip of many.

The 反馈单 gives a unit its total, grade and ranks, its scores by area and item, the
Chinese explanation of every point lost, self-assessment against the inspectors' score,
its open 整改 items and the 提分清单. The 整改通知书 lists the unit's open 整改 items and
ends with a reply section (整改措施 / 完成时限 / 责任人) the unit fills in and returns.
"""
from __future__ import annotations

import io
import math
import re
import zipfile

from reports import docx_style as d
from reports.bulletin import ISSUER

UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def _num(x) -> str:
    return d.fixed2(x)


def _short(x) -> str:
    return d.short(x)


def file_stem(unit: dict, kind: str, period_code: str) -> str:
    return UNSAFE.sub("_", f"{kind}_{period_code}_{unit['unit']}_{unit['name']}")


def feedback_title(f) -> str:
    return f"{f.unit['name']}{f.header.label}党建工作考核反馈单"


def feedback_docx(f) -> bytes:
    """``f``: data.documents.FeedbackData."""
    h, u = f.header, f.unit
    doc = d.new_document(feedback_title(f))
    d.title(doc, f"{h.label}党建工作考核反馈单")
    d.para(doc, f"{u['name']}：", indent=False)
    veto = bool(u.get("veto"))
    d.para(doc, f"根据《{h.table_title}》（{h.table_version} 版），你单位{h.label}党建工作考核总分 {_num(u['total'])} 分"
                f"（基础得分 {_num(u['base'])} 分，加分 {_num(u['bonus'])} 分），等次为「{u['grade']}」"
                + ("（一票否决）" if veto else "")
                + f"，在 {f.n_units} 个单位中排名第 {int(u['rank'])} 位，在「{u['category']}」{f.n_category} 个单位中"
                  f"排名第 {int(u['rank_in_category'])} 位。现将考核情况反馈如下，请对照整改。")
    d.table(doc, ["单位名称", "类别", "总分", "等次", "总排名", "类别排名"],
            [[u["name"], u["category"], _num(u["total"]), u["grade"], f"{int(u['rank'])}/{f.n_units}",
              f"{int(u['rank_in_category'])}/{f.n_category}"]], [4.8, 2.6, 1.8, 1.8, 2.0, 2.0],
            ["l", "c", "r", "c", "c", "c"])
    if veto:
        d.para(doc, (str(u.get("veto_reason") or "一票否决"), {"bold": True}))

    d.heading1(doc, "一、各一级指标得分")
    rows = [[f"{r.area} {r.area_name}", _short(r.points), _short(r.max),
             "—" if math.isnan(r.pct) else f"{r.pct * 100:.1f}%",
             "—" if math.isnan(r.category_pct) else f"{r.category_pct * 100:.1f}%"] for r in f.areas.itertuples()]
    d.table(doc, ["一级指标", "得分", "应得分", "得分率", "同类平均得分率"], rows, [6.0, 2.0, 2.0, 2.4, 3.2],
            ["l", "r", "r", "r", "r"])

    d.heading1(doc, "二、逐项得分")
    has_self = f.has_self_assessment
    heads = ["编码", "指标", "得分/满分", "状态"] + (["自评", "差异"] if has_self else [])
    rows = []
    for r in f.items.itertuples():
        score = f"{_short(r.points)}/{_short(r.max)}" if r.kind == "base" else _short(r.points)
        row = [("★" if r.core else "") + r.item, r.name, score, str(r.status)]
        if has_self:
            row += [_short(r.self_points), "" if isinstance(r.self_diff, float) and math.isnan(r.self_diff)
                    else f"{r.self_diff:+.2f}"]
        rows.append(row)
    widths = [1.6, 7.2, 2.4, 1.8] + ([1.6, 1.6] if has_self else [])
    d.table(doc, heads, rows, widths, ["c", "l", "c", "c"] + (["r", "r"] if has_self else []))

    d.heading1(doc, "三、失分说明")
    if len(f.lost):
        for r in f.lost.itertuples():
            d.para(doc, (f"{r.item} {r.name}（失 {_short(r.max - r.points)} 分）：", {"bold": True}),
                   str(r.explanation))
    else:
        d.para(doc, "各项均达标，没有失分。")

    d.heading1(doc, "四、自评与考核得分对照")
    if has_self:
        diff = f.items[f.items["self_points"].notna()]
        big = diff[diff["self_diff"].abs() >= 0.5]
        d.para(doc, f"你单位自评了 {len(diff)} 项，其中 {len(big)} 项与考核得分相差 0.5 分及以上"
                    + ("：" + "；".join(f"{r.item} {r.name} 自评 {_short(r.self_points)} 分、考核 {_short(r.points)} 分"
                                       for r in big.itertuples()) if len(big) else "")
                    + "。差异项以考核组核定为准，如有异议请于 5 个工作日内提出。")
    else:
        d.para(doc, "你单位本期未录入自评分。")

    d.heading1(doc, "五、未销号的整改事项")
    if len(f.rectifications):
        rows = [[int(r.id), r.problem, f"{r.item} {r.item_name}" if r.item and isinstance(r.item_name, str)
                 else (r.item or "—"), f"{r.deadline:%Y-%m-%d}", r.status + ("（逾期）" if r.overdue else "")]
                for r in f.rectifications.itertuples()]
        d.table(doc, ["编号", "问题", "相关指标", "整改期限", "状态"], rows, [1.4, 6.6, 3.2, 2.4, 2.4],
                ["c", "l", "l", "c", "c"])
    else:
        d.para(doc, "没有未销号的整改事项。")

    d.heading1(doc, "六、提分清单")
    g = f.gaps
    if veto:
        d.para(doc, "你单位被一票否决，提分不改变本期等次；请首先整改否决事项。")
    elif not len(g) or "next_grade" not in g or not isinstance(g.iloc[0].get("next_grade"), str):
        d.para(doc, "你单位已是最高等次，请保持。")
    else:
        g0 = g.iloc[0]
        d.para(doc, f"距「{g0['next_grade']}」还差 {_num(g0['needed_total'])} 分（原始分 {_short(g0['needed_raw'])} 分）"
                    + ("" if bool(g["reaches"].any()) else "，仅靠本期指标无法达到")
                    + "。按★核心指标优先、可得分多的顺序，建议从以下指标提分：")
        for k, r in enumerate(g.itertuples(), start=1):
            if not r.item:
                d.para(doc, f"{k}. {r.need}")
                continue
            d.para(doc, f"{k}. {'★' if r.core else ''}{r.item} {r.item_name}：{r.need}")
    doc.add_paragraph()
    d.para(doc, ("考核组（盖章）", {}), indent=False, align="right")
    d.para(doc, d.cn_date(h.published_at or h.generated_at), indent=False, align="right")
    return d.to_bytes(doc)


def notice_title(n) -> str:
    return "整改通知书"


def notice_docx(n) -> bytes:
    """``n``: data.documents.NoticeData."""
    h, u = n.header, n.unit
    doc = d.new_document(f"{u['name']}整改通知书")
    d.title(doc, "整改通知书")
    d.para(doc, n.number, indent=False, align="center")
    d.para(doc, f"{u['name']}：", indent=False)
    items = n.items
    if len(items):
        d.para(doc, f"根据{h.label}党建工作考核和日常督导检查情况，你单位存在以下 {len(items)} 个问题尚未整改销号。"
                    "请认真对照问题制定整改措施，明确责任人和完成时限，按期完成整改，"
                    "并于整改期限前填写本通知书所附回执，连同整改佐证材料报送考核组。逾期未整改的，将在考核中扣分，"
                    "并影响评先评优。")
        rows = [[k, r.problem, f"{r.item} {r.item_name}" if r.item and isinstance(r.item_name, str) else (r.item or "—"),
                 r.source, f"{r.deadline:%Y-%m-%d}" + ("（已逾期）" if r.overdue else "")]
                for k, r in enumerate(items.itertuples(), start=1)]
        d.table(doc, ["序号", "存在问题", "相关指标", "来源", "整改期限"], rows, [1.2, 6.0, 3.0, 3.4, 2.6],
                ["c", "l", "l", "l", "c"])
    else:
        d.para(doc, "你单位目前没有未销号的整改事项。")
    doc.add_paragraph()
    d.para(doc, (ISSUER, {"highlight": True}), indent=False, align="right")
    d.para(doc, d.cn_date(h.generated_at), indent=False, align="right")

    d.page_break(doc)
    d.title(doc, "整改情况回执")
    d.para(doc, f"单位：{u['name']}　　通知书编号：{n.number}", indent=False)
    rows = [[k, r.problem, "", "", ""] for k, r in enumerate(items.itertuples(), start=1)] or [["", "", "", "", ""]]
    t = d.table(doc, ["序号", "存在问题", "整改措施", "完成时限", "责任人"], rows, [1.2, 4.6, 6.0, 2.2, 2.2],
                ["c", "l", "l", "c", "c"])
    from docx.shared import Cm

    for row in t.rows[1:]:
        row.height = Cm(2.6)
    doc.add_paragraph()
    for line in ("单位负责人（签字）：", "填报人：　　　　　　　　联系电话：", "报送日期：　　　　年　　月　　日",
                 "（单位盖章）"):
        d.para(doc, line, indent=False)
    return d.to_bytes(doc)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Name → bytes, into one zip (UTF-8 file names, which Windows 10+ and WPS open)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()
