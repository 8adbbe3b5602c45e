"""Demo data: a believable bureau (市局 + 县局 units, two periods, evidence, judgements, 整改) at any size.

``generate(n_units, seed)`` is pure and deterministic (same seed → same frames) and
is what benchmarks and load tests use at 10,000 units; ``seed_database`` writes it
through the models in one transaction. The default 40-unit demo also contains the
worked example of the indicator-table specification (市局机关第一党支部, 2026H1).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import insert, select

from data.bulk import insert_rows
from data.db import Database
from data.models import (
    Adjustment, AuditLog, EvidenceValue, OrgUnit, Period, Rectification, SelfAssessment, TableVersion, UnitName,
    UploadBatch, User, UserUnit,
)
from scoring.indicators import IndicatorTable, default_table, table_to_dict

CITY_UNITS = [
    ("市局机关第一党支部", "市局机关支部"), ("市局机关第二党支部", "市局机关支部"), ("市局机关第三党支部", "市局机关支部"),
    ("办公室党支部", "市局机关支部"), ("人事教育科党支部", "市局机关支部"), ("财务审计科党支部", "市局机关支部"),
    ("政策法规科党支部", "市局机关支部"), ("专卖监督管理科党支部", "市局机关支部"), ("离退休干部党支部", "市局机关支部"),
    ("信息中心党支部", "直属单位支部"), ("物流配送中心党总支", "直属单位支部"), ("稽查支队党支部", "直属单位支部"),
]
COUNTIES = ["城东区局", "城西区局", "临河县局", "青山县局", "石桥县局", "安平县局", "云溪县局", "北塘县局"]
COUNTY_BRANCHES = ["机关党支部", "营销党支部", "专卖党支部", "物流党支部"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "海燕", "志强", "丽华", "文军", "秀英", "国栋", "晓明", "红梅", "卫东", "玉兰", "振华", "静", "磊", "芳"]

WORKED_EXAMPLE = {
    "study_sessions": 5, "seminar_sessions": 1, "reading_rate": 72, "ideology_review": 1, "exam_rate": 88,
    "election_on_time": 1, "cadre_training_hours": 9, "leader_visits": 1, "committee_meetings": 6,
    "general_meetings": 1, "has_groups": 0, "party_lectures": 2, "theme_days": 6, "special_org_life": 1,
    "talk_coverage": 80, "member_training_hours": 12, "dues_rate": 100, "record_errors": 1, "spirit_activities": 0,
    "benchmarking_visits": 1, "ledger_defects": 3, "rectified_rate": 75, "disclosure_issues": 2,
    "collective_review": 1, "service_done_rate": 50, "research_reports": 0, "publicity_items": 1,
    "integration_measures": 1, "care_visits": 1, "mass_activities": 1, "articles_city": 1, "excellent_lectures": 1,
    "serious_violation": 0, "ideology_incident": 0, "major_accident": 0,
}
WORKED_EXAMPLE_JUDGEMENTS = {"F2": 2.5}

DEMO_USERS = [  # username, password, role, display name, unit scope (None = all / not applicable)
    ("admin", "Xitong-Guanli-2026", "admin", "系统管理员", None),
    ("leader", "Juzhang-Kaohe-2026", "leader", "张局长", None),
    ("inspector", "Kaohezu-Jiancha-2026", "inspector", "考核组李明", None),
    ("staff", "Linhe-Dangwu-2026", "staff", "临河县局党务干事", "临河县局"),
    ("staff_sj", "Shiju-Yizhibu-2026", "staff", "市局机关一支部组织委员", "C01"),
]

PERIODS = [  # code, kind, year, start, end, status, table version
    ("2025", "year", 2025, dt.date(2025, 1, 1), dt.date(2025, 12, 31), "已发布", "2025"),
    ("2026H1", "H1", 2026, dt.date(2026, 1, 1), dt.date(2026, 6, 30), "考核中", "2026"),
]
STAR_VERSION = "2026星级"
# Periods that get 三会一课 activity records (data/demo_records.py). Every demo period keeps
# record_source 「typed」: the typed counts score (the worked example and the published 2025 results
# stay as specified) and the records show beside them, with their differences, for inspectors.
RECORD_PERIODS = ("2025", "2026H1")
# The optional 2026 评星定级 period (``init-db --demo --star-period``): a star scheme with quotas.
STAR_PERIOD = ("2026", "year", 2026, dt.date(2026, 1, 1), dt.date(2026, 12, 31), "考核中", STAR_VERSION)


@dataclass(frozen=True)
class DemoData:
    units: pd.DataFrame        # code, name, kind, level, category, bureau, parent_code, members, secretary
    evidence: pd.DataFrame     # period, unit, field, value
    judgements: pd.DataFrame   # period, unit, item, kind, points, reason


def table_2025() -> IndicatorTable:
    """Last year's version: same shape, A3 full marks already at 85 %."""
    from dataclasses import replace

    t = default_table()
    a3 = t.item("A3")
    t = t.with_item("A3", params={**a3.params, "full_at": 85})
    return replace(t, version="2025", title="2025 年度党支部（总支）党建工作考核指标明细表")


def table_star_2026() -> IndicatorTable:
    """The default items graded as stars, as 评星定级 notices do: 五星级 needs every ★ item 达标 and
    is capped at 10 % of a category, 四星级 at 40 %, 三星级 at 30 % (「五星、四星、三星分别占10%、40%、30%」);
    a veto caps the grade at 三星级 instead of fixing the lowest one; inspectors may 直接定级."""
    from dataclasses import replace

    from scoring.indicators import Grade

    t = default_table()
    grades = (Grade("五星级", 90, max_pct=10, requires=({"core": True},)), Grade("四星级", 80, max_pct=40),
              Grade("三星级", 70, max_pct=30), Grade("二星级", 60), Grade("一星级", 0))
    veto = tuple(replace(v, grade="三星级", mode="cap") if v.code == "V2" else v for v in t.veto)
    return replace(t, version=STAR_VERSION, title="2026 年度党支部评星定级", grades=grades, veto=veto,
                   veto_grade="一星级", allow_override=True,
                   candidates=replace(t.candidates, grade="五星级", previous_min_grade=None))


def _units(n_units: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for i, (name, cat) in enumerate(CITY_UNITS[: max(1, min(len(CITY_UNITS), n_units // 3))], start=1):
        rows.append(dict(code=f"C{i:02d}", name=name, kind="党总支" if name.endswith("总支") else "党支部", level="市",
                         category=cat, bureau="市局机关" if cat == "市局机关支部" else "市局直属单位"))
    c = 0
    while len(rows) < n_units:
        county = COUNTIES[c] if c < len(COUNTIES) else f"第{c + 1}县局"
        left, remaining = max(1, len(COUNTIES) - c), n_units - len(rows)
        k = (min(4, max(2, math.ceil(remaining / left) + int(rng.integers(-1, 2)))) if n_units <= 60 else 4)
        if c == len(COUNTIES) - 1 and n_units <= 60:
            k = remaining  # the last county takes the rest, so the demo keeps its eight counties
        for j in range(k):
            if len(rows) >= n_units:
                break
            branch = COUNTY_BRANCHES[j] if j < len(COUNTY_BRANCHES) else f"第{j + 1}党支部"
            rows.append(dict(code=f"X{c + 1:03d}{j + 1}", name=f"{county}{branch}", kind="党支部", level="县",
                             category="县局支部", bureau=county))
        c += 1
    df = pd.DataFrame(rows)
    df["members_full"] = rng.integers(5, 48, len(df))
    df["members_probationary"] = rng.integers(0, 3, len(df))
    df["secretary"] = [SURNAMES[rng.integers(len(SURNAMES))] + GIVEN[rng.integers(len(GIVEN))] for _ in range(len(df))]
    return df


def _values_for(table: IndicatorTable, half: bool, q: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Evidence columns for units of quality q ∈ [0, 1] (1 = model branch)."""
    n = len(q)
    out: dict[str, np.ndarray] = {}

    def shortfall(target: float, scale: float = 1.0) -> np.ndarray:
        miss = rng.binomial(np.maximum(1, math.ceil(target)), np.clip((1 - q) * scale, 0, 1))
        return np.maximum(0, np.ceil(target) - miss + rng.binomial(1, 0.15, n))

    for item in table.items + table.bonus + table.veto:
        p = item.params_for(half)
        f = item.fields
        if item.rule == "count_target":
            out[f[0]] = shortfall(p["target"], 0.6)
        elif item.rule == "ratio" and len(f) == 1:
            tgt = p["target"]
            out[f[0]] = np.round(np.clip(tgt * (0.55 + 0.5 * q + rng.normal(0, 0.08, n)), 0, tgt), 1 if tgt <= 100 else 0)
        elif item.rule == "ratio":  # numerator ÷ denominator (发展党员)
            plan = rng.integers(0, 3, n)
            out[f[1]] = plan
            out[f[0]] = np.minimum(plan, np.round(plan * np.clip(q + 0.2, 0, 1)))
        elif item.rule == "stepped":
            out[f[0]] = np.round(np.clip(p["full_at"] * (0.6 + 0.45 * q + rng.normal(0, 0.06, n)), 0, 100))
        elif item.rule == "tiered":
            top = p["tiers"][0][0]
            v = top * (0.6 + 0.45 * q + rng.normal(0, 0.07, n))
            out[f[0]] = np.round(np.clip(v, 0, 100 if table.fields[f[0]].kind == "percent" else top * 2))
        elif item.rule == "boolean":
            out[f[0]] = (rng.random(n) < 0.55 + 0.45 * q).astype(float)
        elif item.rule == "deduction":
            out[f[0]] = rng.poisson(np.clip((1 - q) * 4, 0.05, None)).astype(float)
        elif item.rule == "bonus":
            for fld in f:
                out[fld] = rng.poisson(0.5 * q ** 2).astype(float)
        elif item.rule == "veto":
            out[f[0]] = np.zeros(n)
        if item.not_applicable_when:
            gate = item.not_applicable_when["field"]
            if gate not in out:
                out[gate] = (rng.random(n) < 0.7).astype(float)
    return out


def _meets(table: IndicatorTable, half: bool) -> dict[str, float]:
    """Evidence values that give every ★ item full points (a model branch's ledger)."""
    out: dict[str, float] = {}
    for item in table.items:
        if not item.core or not item.fields:
            continue
        p, f = item.params_for(half), item.fields[0]
        if item.rule == "count_target":
            out[f] = float(p["target"])
        elif item.rule == "ratio" and "target" in p:
            out[f] = float(p["target"])
        elif item.rule == "tiered":
            out[f] = float(p["tiers"][0][0])
        elif item.rule == "stepped":
            out[f] = float(p["full_at"])
        elif item.rule == "boolean":
            out[f] = 1.0
        elif item.rule == "deduction":
            out[f] = 0.0
    return out


def generate(n_units: int = 40, seed: int = 2026, star_period: bool = False) -> DemoData:
    """The demo at any size; deterministic for a seed. ``star_period`` adds the 2026 评星定级 period."""
    rng = np.random.default_rng(seed)
    units = _units(n_units, rng)
    n = len(units)
    # Latent quality: most units good, a few excellent, a couple weak.
    q = np.clip(rng.beta(10, 3, n) * 0.95, 0, 1)
    if n >= 10:
        q[rng.choice(n, size=max(1, n // 20), replace=False)] = rng.uniform(0.05, 0.2, max(1, n // 20))
    ev_frames, judg_rows = [], []
    for code, kind, year, _s, _e, _st, tv in PERIODS + ([STAR_PERIOD] if star_period else []):
        table = table_2025() if tv == "2025" else default_table()
        half = kind == "H1"
        qq = np.clip(q + rng.normal(0, 0.07, n) - 0.1 * half, 0, 1)  # H1 targets are easier
        cols = _values_for(table, half, qq, rng)
        wide = pd.DataFrame(cols)
        wide["unit"] = units["code"].to_numpy()
        # The best branches keep every ★ item in order, as model branches do (so 评先 has candidates).
        best = np.argsort(-qq, kind="stable")[: max(1, n // 8)]
        for fld, v in _meets(table, half).items():
            if fld in wide.columns:
                wide.loc[wide.index[best], fld] = np.maximum(wide.loc[wide.index[best], fld].fillna(0), v) \
                    if v > 0 else v
        if n >= 20:  # a tie: two county units with identical evidence
            wide.iloc[-1, :-1] = wide.iloc[-2, :-1].to_numpy()
        if n >= 10 and code == "2026H1":  # one veto (an 意识形态 incident) this period
            wide.loc[wide.index[n // 2], "ideology_incident"] = 1
        if code == "2026H1" and units["code"].iloc[0] == "C01":
            wide.loc[0, [c for c in wide.columns if c != "unit"]] = np.nan
            for fld, v in WORKED_EXAMPLE.items():
                wide.loc[0, fld] = v
        # A few units leave fields blank (缺报).
        for r in rng.choice(n, size=max(1, n // 15), replace=False):
            if not (code == "2026H1" and r == 0) and not (n >= 20 and r >= n - 2):
                wide.loc[r, rng.choice([c for c in cols if c not in ("has_groups", "recruit_plan")])] = np.nan
        ev = wide.melt(id_vars="unit", var_name="field", value_name="value").dropna(subset=["value"])
        ev.insert(0, "period", code)
        ev_frames.append(ev)
        for item in table.items:
            if item.rule != "manual" or (half and item.period == "annual"):
                continue
            pts = np.round(np.clip(item.points * (0.45 + 0.6 * qq + rng.normal(0, 0.08, n)), 0, item.points) * 2) / 2
            if n >= 20:
                pts[-1] = pts[-2]  # the tied pair stays tied
            for i, u in enumerate(units["code"]):
                v = WORKED_EXAMPLE_JUDGEMENTS.get(item.code) if (code == "2026H1" and u == "C01") else None
                judg_rows.append(dict(period=code, unit=u, item=item.code, kind="judgement",
                                      points=float(v if v is not None else pts[i]),
                                      reason=_judgement_reason(float(v if v is not None else pts[i]), item.points)))
        if code == "2026H1" and n >= 10:
            for u in units["code"].iloc[[3, 7, n - 3]]:
                judg_rows.append(dict(period=code, unit=u, item="E1", kind="deduction", points=0.5,
                                      reason="现场检查：2026 年 3 月支委会记录缺少参会人员签到"))
    return DemoData(units=units, evidence=pd.concat(ev_frames, ignore_index=True),
                    judgements=pd.DataFrame(judg_rows))


def _judgement_reason(points: float, max_points: float) -> str:
    r = points / max_points if max_points else 0
    if r >= 0.9:
        return "整改措施具体，会议文件精简成效明显"
    if r >= 0.7:
        return "整改总体到位，个别会议材料仍偏多"
    return "文山会海问题整改不到位，需持续跟进"


def seed_database(db: Database, n_units: int = 40, seed: int = 2026, with_users: bool = True,
                  star_period: bool = False) -> dict:
    """Write the demo into an empty, migrated database (one transaction). Returns counts.

    ``star_period`` also stores the star-scheme version and a 2026 评星定级 period scored by it.
    """
    data = generate(n_units, seed, star_period)
    rng = np.random.default_rng(seed + 1)
    with db.session() as s:
        if s.scalar(select(OrgUnit.id).limit(1)) is not None:
            return {"skipped": True}
        versions = {}
        for t in (table_2025(), default_table()) + ((table_star_2026(),) if star_period else ()):
            tv = TableVersion(version=t.version, title=t.title, content=table_to_dict(t), note="系统内置")
            s.add(tv)
            versions[t.version] = tv
        s.flush()
        periods = {}
        for code, kind, year, start, end, status, tv in PERIODS + ([STAR_PERIOD] if star_period else []):
            p = Period(code=code, kind=kind, year=year, start_date=start, end_date=end, status=status,
                       table_version_id=versions[tv].id, data_version=1)
            s.add(p)
            periods[code] = p
        s.flush()
        start = dt.date(2018, 1, 1)
        unit_rows = [dict(code=r.code, name=r.name, kind=r.kind, level=r.level, category=r.category, bureau=r.bureau,
                          members_full=int(r.members_full), members_probationary=int(r.members_probationary),
                          secretary=r.secretary, valid_from=start,
                          last_election=dt.date(2023 + (i % 3), 1 + (i % 12), 10))
                     for i, r in enumerate(data.units.itertuples())]
        s.execute(insert(OrgUnit), unit_rows)
        ids = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        names = [dict(unit_id=ids[r["code"]], name=r["name"], valid_from=start) for r in unit_rows]
        if "C03" in ids:  # a rename keeps history: 2025 still shows the old name
            names = [x for x in names if x["unit_id"] != ids["C03"]]
            names += [dict(unit_id=ids["C03"], name="市局机关综合党支部", valid_from=start,
                           valid_to=dt.date(2025, 12, 31)),
                      dict(unit_id=ids["C03"], name="市局机关第三党支部", valid_from=dt.date(2026, 1, 1))]
        s.execute(insert(UnitName), names)
        users = {}
        if with_users:
            from data.accounts import hash_password

            for username, pw, role, display, scope in DEMO_USERS:
                u = User(username=username, display_name=display, password_hash=hash_password(pw), role=role)
                s.add(u)
                users[username] = u
            s.flush()
            for username, _pw, _r, _d, scope in DEMO_USERS:
                if scope:
                    codes = data.units.loc[(data.units["bureau"] == scope) | (data.units["code"] == scope), "code"]
                    s.execute(insert(UserUnit), [dict(user_id=users[username].id, unit_id=ids[c]) for c in codes])
        inspector_id = users["inspector"].id if users else None
        seeded_at = dt.datetime(2026, 7, 10, 9, 30)
        field_col = {}
        for code, p in periods.items():
            batch = UploadBatch(period_id=p.id, user_id=None, file_name=f"{code} 演示数据（系统生成）.xlsx",
                                file_hash=f"seed-{code}-{seed}", file_format="seed", status="seed",
                                created_at=seeded_at, committed_at=seeded_at)
            s.add(batch)
            s.flush()
            ev = data.evidence[data.evidence["period"] == code]
            fields = list(dict.fromkeys(ev["field"]))
            field_col = {f: _col_letter(i + 3) for i, f in enumerate(fields)}
            row_of = {u: i + 3 for i, u in enumerate(data.units["code"])}
            values = ev["value"].astype(float).tolist()
            unit_codes = ev["unit"].tolist()
            field_names = ev["field"].tolist()
            insert_rows(s, EvidenceValue.__table__, ("unit_id", "field", "value", "raw", "row", "column"), (
                (ids[u], f, v, f"{v:g}", row_of[u], field_col[f]) for u, f, v in zip(unit_codes, field_names, values)),
                constants=dict(period_id=p.id, batch_id=batch.id, file_name=batch.file_name, sheet="填报表",
                               uploaded_at=seeded_at))
            batch.n_values = len(ev)
            batch.n_units = ev["unit"].nunique()
        j = data.judgements
        if len(j):
            s.execute(insert(Adjustment), [
                dict(period_id=periods[r.period].id, unit_id=ids[r.unit], item_code=r.item, kind=r.kind,
                     points=r.points, reason=r.reason, created_by=inspector_id, created_at=seeded_at)
                for r in j.itertuples()])
        if n_units > 200:  # the 整改台账 of a province: one item for about one unit in three
            _bulk_rectifications(s, data, ids, periods, inspector_id)
        if n_units <= 200:
            _seed_rectifications(s, data, ids, periods, inspector_id, rng)
            _seed_self_assessment(s, data, ids, periods["2026H1"], rng)
            _seed_audit(s, j, periods, inspector_id, seeded_at)
            from data.demo_records import generate_records, seed_records

            spans = [(c, p.start_date, p.end_date) for c, p in periods.items() if c in RECORD_PERIODS]
            seed_records(s, generate_records(data.units, data.evidence, spans, seed), ids,
                         {c: periods[c] for c, *_x in spans}, seeded_at)
    from data.publication import freeze_published

    freeze_published(db)  # the demo's published year gets its frozen snapshot, as if published here
    if n_units <= 200:
        from data.demo_attachments import seed_attachments

        seed_attachments(db)  # 佐证材料: generated PDFs/PNGs on some items and records, a couple reviewed
    return {"units": len(data.units), "evidence": len(data.evidence), "judgements": len(data.judgements)}


def _seed_audit(s, judgements: pd.DataFrame, periods, inspector_id, seeded_at) -> None:
    """The audit trail the demo's own history would have left: the two seed batches and the
    inspectors' judgements and deductions (so the 审计日志 page shows a believable log)."""
    rows = [dict(at=seeded_at, user_id=None, username="system", action="upload", entity="batch",
                 entity_id=f"seed-{code}", period_code=code, after={"file": f"{code} 演示数据（系统生成）.xlsx"})
            for code in periods]
    rows += [dict(at=seeded_at + dt.timedelta(minutes=5 + k), user_id=inspector_id, username="inspector",
                  action=r.kind, entity="adjustment", period_code=r.period, unit_code=r.unit,
                  after={"item": r.item, "points": float(r.points), "reason": r.reason})
             for k, r in enumerate(judgements[judgements["kind"] == "deduction"].itertuples())]
    s.execute(insert(AuditLog), rows)


def _col_letter(i: int) -> str:
    s = ""
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_PROBLEMS = [
    ("E1", "支委会会议记录不完整，缺少议题和表决情况"), ("C6", "主题党日活动方案未提前报备"),
    ("D2", "个别党员党费未按月足额缴纳"), ("E3", "党务公开栏更新不及时"), ("C2", "党员大会会议记录未存档"),
    ("A1", "集中学习签到表与会议记录人数不一致"), ("B1", "支委会委员缺额未及时增补"),
]


def _seed_rectifications(s, data: DemoData, ids, periods, inspector_id, rng) -> None:
    problems = _PROBLEMS
    codes = list(data.units["code"])
    today = dt.date.today()
    for k in range(min(14, len(codes))):
        unit = codes[(k * 5 + 2) % len(codes)]
        item, problem = problems[k % len(problems)]
        r = Rectification(period_id=periods["2026H1"].id, unit_id=ids[unit], item_code=item, problem=problem,
                          source="2026 年上半年台账资料检查", responsible="支部书记",
                          deadline=today + dt.timedelta(days=int(rng.integers(-40, 45))), created_by=inspector_id)
        if k % 3 == 0:
            r.status, r.closed_at, r.closed_evidence = "已销号", today - dt.timedelta(days=5), "已补齐会议记录并报备"
        if k % 6 == 0:
            r.status, r.recheck_at, r.recheck_result = "回头看通过", today - dt.timedelta(days=2), "回头看复查已整改到位"
        s.add(r)
    # The demo staff user (临河县局) always has items of their own: one open, one closed. Neither is
    # overdue, so no candidate's eligibility depends on them.
    linhe = data.units.loc[data.units["bureau"] == "临河县局", "code"].tolist()
    for k, unit in enumerate(linhe[:2]):
        r = Rectification(period_id=periods["2026H1"].id, unit_id=ids[unit], item_code="E3",
                          problem="党务公开栏内容未按季度更新", source="2026 年上半年台账资料检查",
                          responsible="支部书记", deadline=today + dt.timedelta(days=30), created_by=inspector_id)
        if k == 1:
            r.status, r.closed_at, r.closed_evidence = "已销号", today - dt.timedelta(days=3), "已更新公开栏并拍照存档"
        s.add(r)


def _bulk_rectifications(s, data: DemoData, ids, periods, inspector_id) -> None:
    """About one 整改 item per three units, one executemany (benchmarks: the 整改台账 at scale)."""
    problems = [p for _, p in _PROBLEMS]
    today = dt.date.today()
    rows = []
    for k, unit in enumerate(list(data.units["code"])[::3]):
        item = _PROBLEMS[k % len(_PROBLEMS)][0]
        row = dict(period_id=periods["2026H1"].id, unit_id=ids[unit], item_code=item, problem=problems[k % len(problems)],
                   source="2026 年上半年台账资料检查", responsible="支部书记", status="整改中",
                   deadline=today + dt.timedelta(days=(k * 37) % 85 - 40), created_by=inspector_id,
                   closed_at=None, closed_evidence=None, recheck_at=None, recheck_result=None)
        if k % 3 == 0:
            row.update(status="已销号", closed_at=today - dt.timedelta(days=5), closed_evidence="已补齐会议记录并报备")
        rows.append(row)
    s.execute(insert(Rectification), rows)


def _seed_self_assessment(s, data: DemoData, ids, period, rng) -> None:
    items = ["A1", "C1", "C2", "C4", "C6", "D1", "E1", "E2"]
    rows = []
    for unit in list(data.units["code"])[:10]:
        for item in items:
            rows.append(dict(period_id=period.id, unit_id=ids[unit], item_code=item,
                             points=float(rng.choice([2, 2.5, 3, 3.5, 4])), note="支部自评"))
    s.execute(insert(SelfAssessment), rows)
