"""考核结果通报 (.docx): overview, rankings per category, 优秀 units, vetoed and 不合格 units with reasons,
common problems from the gap analysis, an editable 下一步工作 placeholder, and two charts."""
from __future__ import annotations

import math

from reports import charts
from reports import docx_style as d

ISSUER = "中共××市局机关委员会"   # the signing organisation: an editable placeholder, highlighted
NEXT_STEPS = ("（此处填写下一步工作要求：针对共性问题提出整改要求和完成时限，明确后续督导检查安排。"
              "本段为待编辑内容，定稿前请删除本提示。）")
CHINESE_NUMS = "一二三四五六七八九十"


def _pts(x) -> str:
    return d.fixed2(x)


def bulletin_title(header) -> str:
    return f"关于 {header.label}党建工作考核结果的通报"


def bulletin_docx(b) -> bytes:
    """``b``: data.documents.BulletinData."""
    h = b.header
    doc = d.new_document(bulletin_title(h))
    d.title(doc, bulletin_title(h))
    d.para(doc, "各党（总）支部：", indent=False)
    counts = "，".join(f"「{g}」{n} 个" for g, n in b.grade_counts)
    d.para(doc, f"根据《{h.table_title}》（{h.table_version} 版）和党建工作考核安排，对 {b.n_units} 个党（总）支部"
                f"{h.label}党建工作进行了考核。考核采取填报数据审核、会议现场督导、台账资料检查相结合的方式，"
                f"逐项计分、综合评定。经评定，{counts}；平均得分 {_pts(b.average)} 分"
                + (f"，{len(b.failed_units)} 个单位被评为「{h.grades[-1][0]}」或一票否决。" if h.grades else "。")
                + "现将考核结果通报如下：")
    n = iter(CHINESE_NUMS)
    d.heading1(doc, f"{next(n)}、考核结果")
    d.picture(doc, charts.grade_distribution(list(b.grade_counts)), 14)
    d.caption(doc, "图 1  等次分布")
    for k, cat in enumerate(b.categories):
        df = b.ranking[b.ranking["category"] == cat].sort_values(["rank_in_category", "display_order"])
        d.heading2(doc, f"（{CHINESE_NUMS[k]}）{cat}（{len(df)} 个）")
        rows = [[int(r.rank_in_category), r.name, _pts(r.total), r.grade + ("（否决）" if r.veto else ""),
                 int(r.rank)] for r in df.itertuples()]
        d.table(doc, ["类别排名", "单位名称", "总分", "等次", "总排名"], rows, [2.0, 7.0, 2.2, 2.6, 2.0],
                ["c", "l", "r", "c", "c"])
    top_label = h.grades[0][0] if h.grades else "优秀"
    d.heading1(doc, f"{next(n)}、{top_label}单位")
    if len(b.top_units):
        names = "、".join(b.top_units["name"].tolist())
        d.para(doc, f"以下 {len(b.top_units)} 个单位考核等次为「{top_label}」（按总排名）：{names}。"
                    "希望受到通报的单位珍惜荣誉、再接再厉，发挥示范带动作用。")
    else:
        d.para(doc, f"本期没有考核等次为「{top_label}」的单位。")
    bottom = h.grades[-1][0] if h.grades else "不合格"
    d.heading1(doc, f"{next(n)}、一票否决和「{bottom}」单位")
    if len(b.failed_units):
        d.para(doc, f"以下 {len(b.failed_units)} 个单位被一票否决或考核等次为「{bottom}」，"
                    "请对照失分原因认真整改，并将整改情况书面报送考核组。")
        rows = [[r.name, _pts(r.total), r.grade, r.reason] for r in b.failed_units.itertuples()]
        d.table(doc, ["单位名称", "总分", "等次", "原因"], rows, [4.5, 1.8, 1.8, 7.6], ["l", "r", "c", "l"])
    else:
        d.para(doc, f"本期没有一票否决或「{bottom}」的单位。")
    d.heading1(doc, f"{next(n)}、存在的共性问题")
    if len(b.common_problems):
        d.para(doc, "从考核情况看，以下指标未达标或缺报的单位较多，反映出工作中的共性问题：")
        for k, r in enumerate(b.common_problems.itertuples(), start=1):
            d.para(doc, f"{k}. {r.area_name}「{r.name}」（{r.item}）：{int(r.units_failed)} 个单位未达标或缺报，"
                        f"占参加考核单位的 {r.share * 100:.1f}%。")
    else:
        d.para(doc, "各项指标均已达标。")
    if len(b.area_averages):
        d.picture(doc, charts.area_averages(b.area_averages["area_name"].tolist(),
                                            [0.0 if math.isnan(p) else float(p) * 100 for p in b.area_averages["pct"]]), 14)
        d.caption(doc, "图 2  各一级指标平均得分率")
    d.heading1(doc, f"{next(n)}、下一步工作")
    d.para(doc, NEXT_STEPS, placeholder=True)
    when = h.published_at or h.generated_at
    doc.add_paragraph()
    d.para(doc, (ISSUER, {"highlight": True}), indent=False, align="right")
    d.para(doc, d.cn_date(when), indent=False, align="right")
    return d.to_bytes(doc)
