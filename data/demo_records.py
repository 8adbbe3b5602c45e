"""Demo 三会一课 activity records: one record per activity the demo's typed counts report, plus irregularities.

``generate_records(data, seed)`` is pure and deterministic; ``seed_records`` writes its rows (one seed
``UploadBatch`` per period, file_format ``records``, provenance row by row) inside the demo's transaction.

What the records show, and where they deliberately differ from the typed counts (``IRREGULAR``):

* every (unit, period, counted field) gets as many records as its typed value, spread over the
  period's months (several in a month when the count exceeds the months) — so records reproduce
  the typed counts everywhere except the units listed below;
* 2025 (year): C06 holds all its 支委会 in December (「年底突击」: the count agrees, the rhythm does
  not); C07 skips July and August (summer gap) for 支委会 and 主题党日;
* 2026H1: C08 holds all its 支委会 in June; C09 has no 主题党日 in March–April; C10 and X0031 have
  one 支委会 with low attendance (50 %), which a table's ``min_attendance_pct`` would not count;
  C11 and X0032 typed one 支委会 more than they recorded (the typed-vs-records difference an
  inspector checks).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import insert

from data.models import ActivityRecord, UploadBatch

# The default table's fields and the activity type each one counts (from_records); a 是/否 field gets
# one record when typed 是.
RECORD_FIELDS = {"committee_meetings": "支委会", "general_meetings": "支部党员大会", "group_meetings": "党小组会",
                 "party_lectures": "党课", "theme_days": "主题党日", "study_sessions": "集中学习",
                 "seminar_sessions": "专题研讨", "spirit_activities": "党性锤炼活动",
                 "benchmarking_visits": "对标共建", "org_life_meeting": "组织生活会",
                 "special_org_life": "专题组织生活会", "member_appraisal": "民主评议党员"}
# Units with a deliberate pattern: (period, unit code) -> what (X003x are 临河县局, the demo staff's units).
IRREGULAR = {("2025", "C06"): "december_cluster", ("2025", "C07"): "summer_gap", ("2026H1", "C08"): "june_cluster",
             ("2026H1", "C09"): "spring_gap", ("2026H1", "C10"): "low_attendance",
             ("2026H1", "X0031"): "low_attendance", ("2026H1", "C11"): "one_missing",
             ("2026H1", "X0032"): "one_missing"}
DAY_OF = {"支委会": 6, "支部党员大会": 25, "党小组会": 12, "党课": 20, "主题党日": 10, "集中学习": 15, "专题研讨": 18,
          "党性锤炼活动": 22, "对标共建": 27,
          "组织生活会": 16, "专题组织生活会": 23, "民主评议党员": 26}
TOPICS = {"支委会": "研究{m}月份党建工作", "支部党员大会": "{m}月党员大会：通报支部工作", "党小组会": "{m}月党小组学习",
          "党课": "{m}月专题党课", "主题党日": "{m}月主题党日活动", "集中学习": "{m}月集中学习", "专题研讨": "专题学习研讨交流",
          "党性锤炼活动": "红色教育基地实地研学", "对标共建": "跨部门对标共建交流",
          "组织生活会": "年度组织生活会", "专题组织生活会": "作风转变专题组织生活会", "民主评议党员": "年度民主评议党员"}
RECORD_COLUMNS = ["period", "unit", "activity_type", "held_on", "topic", "expected", "attended", "host",
                  "secretary_lectured"]


def _months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    out, (y, m) = [], (start.year, start.month)
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _spread(n: int, months: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """n activities over the months, evenly; with fewer activities than months each falls in the last month
    of its share (4 in a year: March, June, September, December)."""
    k = len(months)
    if n <= 0 or k == 0:
        return []
    if n < k:
        return [months[((i + 1) * k) // n - 1] for i in range(n)]
    return [months[(i * k) // n] for i in range(n)]


def generate_records(units: pd.DataFrame, evidence: pd.DataFrame, periods: list[tuple], seed: int) -> pd.DataFrame:
    """Record rows for ``periods`` [(code, start, end)] from the typed ``evidence`` (period, unit, field, value)."""
    rng = np.random.default_rng(seed + 7)
    members = dict(zip(units["code"], units["members_full"] + units["members_probationary"]))
    secretary = dict(zip(units["code"], units["secretary"]))
    rows = []
    for code, start, end in periods:
        months = _months(start, end)
        ev = evidence[(evidence["period"] == code) & evidence["field"].isin(RECORD_FIELDS)]
        for r in ev.sort_values(["unit", "field"]).itertuples(index=False):
            t = RECORD_FIELDS[r.field]
            n = int(r.value)
            pattern = IRREGULAR.get((code, r.unit))
            use = months
            if t == "支委会" and pattern in ("december_cluster", "june_cluster"):
                use = months[-1:]
            elif pattern == "summer_gap" and t in ("支委会", "主题党日"):
                use = [m for m in months if m[1] not in (7, 8)]
            elif pattern == "spring_gap" and t == "主题党日":
                use = [m for m in months if m[1] not in (3, 4)]
            if t == "支委会" and pattern == "one_missing":
                n = max(0, n - 1)
            expected = int(min(7, members[r.unit])) if t == "支委会" else int(members[r.unit])
            in_month: dict[tuple[int, int], int] = {}
            for i, (y, m) in enumerate(_spread(n, use)):
                k = in_month[(y, m)] = in_month.get((y, m), 0) + 1
                day = min(28, DAY_OF[t] + (k - 1) * 2)
                attended = expected - int(rng.binomial(max(1, expected // 6), 0.4))
                if pattern == "low_attendance" and t == "支委会" and i == 0:
                    attended = expected // 2
                rows.append(dict(period=code, unit=r.unit, activity_type=t, held_on=dt.date(y, m, day),
                                 topic=TOPICS[t].format(m=m) + (f"（第 {k} 次）" if k > 1 else ""), expected=expected, attended=max(0, attended),
                                 host=secretary[r.unit], secretary_lectured=(t == "党课" and i == 0) or None))
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def seed_records(s, records: pd.DataFrame, ids: dict, periods: dict, seeded_at: dt.datetime) -> int:
    """Write ``records`` (one seed batch per period, rows numbered as in a 活动记录 sheet); returns the count."""
    n = 0
    for code, p in periods.items():
        part = records[records["period"] == code]
        if part.empty:
            continue
        batch = UploadBatch(period_id=p.id, user_id=None, file_name=f"{code} 活动记录（系统生成）.xlsx",
                            file_hash=f"seed-records-{code}", file_format="records", status="seed",
                            n_units=part["unit"].nunique(), n_values=len(part), created_at=seeded_at,
                            committed_at=seeded_at)
        s.add(batch)
        s.flush()
        s.execute(insert(ActivityRecord), [
            dict(unit_id=ids[r.unit], activity_type=r.activity_type, held_on=r.held_on, topic=r.topic,
                 expected=r.expected, attended=r.attended, host=r.host,
                 secretary_lectured=bool(r.secretary_lectured) if r.secretary_lectured else None,
                 batch_id=batch.id, file_name=batch.file_name, sheet="活动记录", row=i + 2, created_at=seeded_at)
            for i, r in enumerate(part.itertuples(index=False))])
        n += len(part)
    return n
