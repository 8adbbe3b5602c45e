"""Indicator-table files in and out (YAML or the office workbook), and what a new version would change.

Owns reading a table file into a validated table with Chinese problems and warnings, writing a
stored version back to a file, and the effect of a candidate version on a period's results (which
units change grade or rank), shown before an admin saves it. Saving itself is
``services.save_table_version`` (one transaction, audited). Used by the CLI (``import-table``,
``export-table``) and the 指标体系 page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from sqlalchemy import select

from data import services, table_xlsx
from data.db import Database, get_db
from data.models import TableVersion
from scoring.engine import score
from scoring.indicators import IndicatorTable, parse_table, table_to_dict

EFFECT_COLUMNS = ["unit", "name", "category", "total_before", "total_after", "grade_before", "grade_after",
                  "rank_before", "rank_after", "grade_reason"]


@dataclass
class TableFile:
    """A table read from a file: ``table`` is None when ``problems`` block it."""

    name: str
    content: dict | None = None
    table: IndicatorTable | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_table_file(name: str, data: bytes) -> TableFile:
    """Validate a .yaml/.yml/.json or .xlsx table file; never raises on bad content."""
    out = TableFile(name)
    lower = name.lower()
    if lower.endswith((".yaml", ".yml", ".json")):
        try:
            content = yaml.safe_load(data.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            out.problems = [f"{name}：YAML 格式错误：{exc}"]
            return out
    elif lower.endswith(".xlsx"):
        read = table_xlsx.read_table_xlsx(data)
        out.warnings = [str(w) for w in read.warnings]
        if read.content is None:
            out.problems = [f"{name}：{p}" for p in read.problems]
            return out
        content = read.content
    else:
        out.problems = [f"{name}：只支持 .yaml / .yml / .json 或 .xlsx 文件"]
        return out
    table, problems = parse_table(content)
    if table is None:
        out.problems = [f"{name}：{p}" for p in problems]
        return out
    out.content, out.table = content, table
    out.warnings += [f"评分标准与参数不符：{m}" for m in table_xlsx.standard_mismatches(table)]
    return out


def latest_table(db: Database | None = None) -> IndicatorTable | None:
    """The most recently saved version (the one a new file is compared with)."""
    db = db or get_db()
    with db.session() as s:
        tv = s.scalar(select(TableVersion).order_by(TableVersion.created_at.desc(), TableVersion.id.desc()).limit(1))
        return parse_table(tv.content)[0] if tv else None


def export_table(version: str, path: str, db: Database | None = None) -> None:
    """Write a stored version to ``path`` (.yaml or .xlsx); KeyError when the version does not exist."""
    table = services.get_table_version(version, db)
    if table is None:
        raise KeyError(version)
    if path.lower().endswith(".xlsx"):
        Path(path).write_bytes(table_xlsx.table_to_xlsx(table))
    else:
        Path(path).write_text(yaml.safe_dump(table_to_dict(table), allow_unicode=True, sort_keys=False),
                              encoding="utf-8")


def period_effect(period_code: str, new_table: IndicatorTable, db: Database | None = None) -> pd.DataFrame:
    """Units of ``period_code`` whose grade or overall rank would change under ``new_table``.

    Scores the period's stored evidence and adjustments with the same engine; stores nothing.
    """
    db = db or get_db()
    inp = services.scoring_inputs(period_code, db)
    before = services.score_period(period_code, db).units.set_index("unit")
    units = inp.units[[c for c in ("unit", "name", "category", "kind") if c in inp.units.columns]]
    after = score(new_table, inp.evidence, units, inp.period.kind, inp.adjustments,
                  inp.overrides, **inp.score_kwargs(new_table)).units.set_index("unit")
    both = before.join(after, lsuffix="_before", rsuffix="_after", how="inner")
    changed = (both["grade_before"] != both["grade_after"]) | (both["rank_before"] != both["rank_after"])
    out = both[changed].reset_index()
    out = out.rename(columns={"name_before": "name", "category_before": "category",
                              "grade_reason_after": "grade_reason"})
    return out.sort_values("rank_after", kind="stable")[EFFECT_COLUMNS].reset_index(drop=True)


def effect_summary(effect: pd.DataFrame) -> str:
    """「等次变化 3 个单位（良好→优秀 2、合格→良好 1），排名变化 12 个单位」."""
    if effect.empty:
        return "对本期结果没有影响：没有单位的等次或排名变化"
    moved = effect[effect["grade_before"] != effect["grade_after"]]
    pairs = moved.groupby(["grade_before", "grade_after"], sort=False).size()
    detail = "、".join(f"{a}→{b} {n}" for (a, b), n in pairs.items())
    ranks = int((effect["rank_before"] != effect["rank_after"]).sum())
    return (f"等次变化 {len(moved)} 个单位" + (f"（{detail}）" if detail else "")
            + f"，排名变化 {ranks} 个单位")
