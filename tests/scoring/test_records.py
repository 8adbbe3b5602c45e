"""Counts derived from activity records: the derivation, the ``regular`` rule, attendance, record sources.

Expected values are computed here independently: plain Python over the records with ``datetime``
(which calendar month/quarter a date is in, which months lie wholly inside a span), never with the
module's own vectorised arithmetic.
"""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine import RECORD_COUNT_COLUMNS, score
from scoring.indicators import (DEFAULT_ACTIVITY_TYPES, FieldDef, default_table, parse_table, parse_table_yaml,
                                table_to_dict)
from scoring.records import RECORD_COLUMNS, derive

EXAMPLE = Path(__file__).resolve().parents[2] / "scoring" / "tables" / "examples" / "records_regular.yaml"
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
H1 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


def frame(rows) -> pd.DataFrame:
    """Records as plain rows (unit, type, date, expected, attended) → the engine's records frame."""
    df = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    df["held_on"] = pd.to_datetime(df["held_on"])
    return df


def example():
    t, problems = parse_table_yaml(EXAMPLE.read_text(encoding="utf-8"))
    assert not problems, [str(p) for p in problems]
    return t


UNITS = pd.DataFrame({"unit": ["U1", "U2", "U3"], "name": ["一支部", "二支部", "三支部"], "category": "机关"})
NO_EVIDENCE = pd.DataFrame(columns=["unit", "field", "value"])


def monthly(unit, kind, months, day=15, year=2026, expected=None, attended=None):
    return [(unit, kind, dt.date(year, m, day), expected, attended) for m in months]


# ---------------------------------------------------------------- independent reference
def whole_months(span) -> list[tuple[int, int]]:
    start, end = span
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        first = dt.date(y, m, 1)
        last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))
        if first >= start and last <= end:
            out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def whole_quarters(span) -> list[tuple[int, int]]:
    months = set(whole_months(span))
    qs = sorted({(y, (m - 1) // 3) for y, m in months})
    return [(y, q) for y, q in qs if all((y, 3 * q + r) in months for r in (1, 2, 3))]


def reference(rows, units, f: FieldDef, span):
    """Per unit: (valid, below, any, missing labels) by looping over the rows."""
    start, end = span
    cross = start.year != end.year
    out = {}
    for u in units:
        mine = [r for r in rows if r[0] == u and r[1] == f.from_records and start <= r[2] <= end]
        low = []
        for r in mine:
            e, a = r[3], r[4]
            checkable = e is not None and a is not None and not (isinstance(e, float) and np.isnan(e)) \
                and not (isinstance(a, float) and np.isnan(a)) and e > 0
            low.append(f.min_attendance_pct is not None and checkable and a / e * 100 < f.min_attendance_pct - 1e-9)
        ok = [r for r, lo in zip(mine, low) if not lo]
        labels = []
        if f.regular == "monthly":
            held = {(r[2].year, r[2].month) for r in ok}
            labels = [(f"{y} 年 " if cross else "") + f"{m} 月" for y, m in whole_months(span) if (y, m) not in held]
        elif f.regular == "quarterly":
            held = {(r[2].year, (r[2].month - 1) // 3) for r in ok}
            labels = [(f"{y} 年" if cross else "") + QUARTERS[q] for y, q in whole_quarters(span) if (y, q) not in held]
        out[u] = (len(ok), sum(low), bool(mine), "、".join(labels))
    return out


FIELDS = {
    "cm": FieldDef("cm", "支委会次数", "次", "count", from_records="支委会", regular="monthly", min_attendance_pct=80),
    "pl": FieldDef("pl", "党课次数", "次", "count", from_records="党课", regular="quarterly"),
    "td": FieldDef("td", "主题党日次数", "次", "count", from_records="主题党日", regular="monthly",
                   min_attendance_pct=50),
    "ol": FieldDef("ol", "组织生活会", "是/否", "bool", from_records="组织生活会"),
}

dates = st.dates(min_value=dt.date(2025, 10, 1), max_value=dt.date(2027, 3, 31))
spans = st.sampled_from([YEAR, H1, (dt.date(2026, 2, 1), dt.date(2026, 12, 31)),
                         (dt.date(2026, 2, 15), dt.date(2026, 11, 30)), (dt.date(2025, 11, 1), dt.date(2026, 10, 31)),
                         (dt.date(2026, 3, 31), dt.date(2026, 4, 1))])
people = st.one_of(st.none(), st.integers(0, 30))
record = st.tuples(st.sampled_from(["U1", "U2", "U3", "ZZ"]), st.sampled_from(["支委会", "党课", "主题党日", "组织生活会", "谈心谈话"]),
                   dates, people, people)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(record, max_size=60), span=spans)
def test_derived_counts_equal_a_plain_loop_over_the_records(rows, span):
    units = ["U1", "U2", "U3"]
    got = derive(frame(rows) if rows else None, pd.Index(units), FIELDS, span)
    for name, f in FIELDS.items():
        ref = reference(rows, units, f, span)
        fc = got[name]
        for k, u in enumerate(units):
            assert (int(fc.valid[k]), int(fc.below[k]), bool(fc.any[k]), fc.missing[k]) == ref[u], (name, u)
            n_slots = len(whole_months(span) if f.regular == "monthly" else whole_quarters(span)) if f.regular else 0
            assert fc.periods == n_slots
            assert fc.n_missing[k] == (len(ref[u][3].split("、")) if ref[u][3] else 0)


def test_derivation_reads_text_dates_and_plain_object_columns():
    rows = monthly("U1", "支委会", [1, 2]) + [("U2", " 支委会 ", "2026-03-31", 10, 9)]
    df = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    df["held_on"] = df["held_on"].astype(str)
    got = derive(df, pd.Index(["U1", "U2"]), {"cm": FIELDS["cm"]}, YEAR)["cm"]
    assert got.valid.tolist() == [2, 1]


# ---------------------------------------------------------------- boundaries
def counts(rows, field="cm", span=YEAR, units=("U1",)):
    return derive(frame(rows), pd.Index(list(units)), {field: FIELDS[field]}, span)[field]


def test_a_record_on_the_last_day_of_a_month_belongs_to_that_month():
    rows = [("U1", "支委会", dt.date(2026, m, 1), None, None) for m in range(2, 13)]  # every month but January …
    rows.append(("U1", "支委会", dt.date(2026, 1, 31), None, None))  # … held on 31 January
    c = counts(rows)
    assert (c.valid[0], c.n_missing[0], c.missing[0]) == (12, 0, "")
    rows[-1] = ("U1", "支委会", dt.date(2026, 2, 28), None, None)  # the last day of February is February
    c = counts(rows)
    assert (c.n_missing[0], c.missing[0]) == (1, "1 月")


def test_quarter_edges_31_march_and_1_april():
    c = counts([("U1", "党课", dt.date(2026, 3, 31), None, None), ("U1", "党课", dt.date(2026, 4, 1), None, None)],
               "pl")
    assert c.missing[0] == "第三季度、第四季度" and c.n_missing[0] == 2 and c.periods == 4


def test_span_ends_are_both_included():
    rows = [("U1", "支委会", dt.date(2026, 1, 1), None, None), ("U1", "支委会", dt.date(2026, 6, 30), None, None),
            ("U1", "支委会", dt.date(2025, 12, 31), None, None), ("U1", "支委会", dt.date(2026, 7, 1), None, None)]
    assert counts(rows, span=H1).valid[0] == 2


def test_a_period_starting_mid_quarter_checks_whole_quarters_and_months_only():
    span = (dt.date(2026, 2, 15), dt.date(2026, 12, 31))
    rows = [("U1", "党课", dt.date(2026, 2, 20), None, None), ("U1", "支委会", dt.date(2026, 2, 20), None, None)]
    pl = counts(rows, "pl", span)
    assert pl.periods == 3 and pl.valid[0] == 1  # Q1 only partly inside: not checked, but the lecture counts
    assert pl.missing[0] == "第二季度、第三季度、第四季度"
    cm = counts(rows, "cm", span)
    assert cm.periods == 10 and cm.missing[0].startswith("3 月")  # 15 Feb start: February is not whole
    # Starting on 1 February: February is a whole month, the first quarter is still partial.
    span = (dt.date(2026, 2, 1), dt.date(2026, 12, 31))
    assert counts(rows, "cm", span).periods == 11 and counts(rows, "pl", span).periods == 3


def test_h1_checks_six_months_and_two_quarters_a_year_twelve_and_four():
    rows = monthly("U1", "支委会", range(1, 13)) + [("U1", "党课", dt.date(2026, 2, 1), None, None)]
    assert (counts(rows, "cm", H1).periods, counts(rows, "cm", H1).valid[0]) == (6, 6)
    assert (counts(rows, "pl", H1).periods, counts(rows, "pl", H1).missing[0]) == (2, "第二季度")
    assert (counts(rows, "cm", YEAR).periods, counts(rows, "cm", YEAR).valid[0]) == (12, 12)
    assert (counts(rows, "pl", YEAR).periods, counts(rows, "pl", YEAR).n_missing[0]) == (4, 3)


def test_a_span_across_new_year_names_the_year():
    span = (dt.date(2025, 12, 1), dt.date(2026, 2, 28))
    assert counts(monthly("U1", "支委会", [1]), "cm", span).missing[0] == "2025 年 12 月、2026 年 2 月"


# ---------------------------------------------------------------- attendance
def test_attendance_threshold_79_is_below_80_counts_blanks_and_zero_expected_count():
    rows = [("U1", "支委会", dt.date(2026, 1, 5), 100, 79), ("U1", "支委会", dt.date(2026, 2, 5), 100, 80),
            ("U1", "支委会", dt.date(2026, 3, 5), None, 3), ("U1", "支委会", dt.date(2026, 4, 5), 10, None),
            ("U1", "支委会", dt.date(2026, 5, 5), 0, 0)]
    c = counts(rows)
    assert (c.valid[0], c.below[0], bool(c.any[0])) == (4, 1, True)
    assert c.missing[0].startswith("1 月、6 月")  # January's meeting is below the threshold: January is missing


def test_only_below_threshold_records_give_zero_valid_but_any():
    c = counts([("U1", "支委会", dt.date(2026, 1, 5), 10, 2)])
    assert (c.valid[0], c.below[0], bool(c.any[0])) == (0, 1, True)


# ---------------------------------------------------------------- engine: sources, explanations, record_counts
def records_u1():
    rows = [r for r in monthly("U1", "支委会", range(1, 13), expected=10, attended=9) if r[2].month not in (3, 7)]
    rows.append(("U1", "支委会", dt.date(2026, 5, 20), 10, 5))  # 50 %: not counted
    rows += monthly("U1", "主题党日", range(1, 13))
    rows += [("U2", "党课", dt.date(2026, m, 1), None, None) for m in (1, 4)]
    return frame(rows)


EVIDENCE = pd.DataFrame({"unit": ["U2", "U3", "U1"], "field": ["committee_meetings", "committee_meetings", "committee_meetings"],
                         "value": [10.0, 12.0, 12.0]})


def by(res, item):
    it = res.items[res.items["item"] == item]
    return {u: (p, e) for u, p, e in zip(it["unit"].astype(str), it["points"], it["explanation"].astype(str))}


def test_regular_rule_names_the_missing_months_and_deducts_per_month():
    res = score(example(), EVIDENCE, UNITS, "year", records=records_u1(), span=YEAR, record_source="records_if_any")
    r1 = by(res, "R1")
    assert r1["U1"] == (2.0, "支委会次数 10 次，其中 3 月、7 月未召开，扣 2 分；依据活动记录：支委会 10 次；"
                             "1 次出席率低于 80%，不计入")
    # U2 has no 支委会 records: its typed 10 counts; months cannot be checked, 12 − 10 = 2 counted missing.
    assert r1["U2"] == (2.0, "支委会次数 10 次（填报值，无法核对月份），应召开 12 个月，按少 2 个月计，扣 2 分")
    assert r1["U3"][0] == 4.0 and "不少于 12 个月" in r1["U3"][1]
    r2 = by(res, "R2")
    assert r2["U1"] == (3.0, "主题党日次数 12 次，12 个月均已召开，得满分 3 分；依据活动记录：主题党日 12 次")
    r3 = by(res, "R3")  # U2: 党课 in Q1 and Q2 only → 2 quarters missing × 1 point
    assert r3["U2"] == (1.0, "党课次数 2 次，其中 第三季度、第四季度未召开，扣 2 分；依据活动记录：党课 2 次")


def test_regular_rule_cap_limits_the_deduction():
    rows = frame(monthly("U1", "主题党日", [1]))
    res = score(example(), NO_EVIDENCE, UNITS.iloc[:1], "year", records=rows, span=YEAR, record_source="records")
    assert by(res, "R2")["U1"][0] == 1.0  # 11 months × 0.5 = 5.5, capped at 2 → 3 − 2


def test_regular_rule_in_h1_checks_six_months():
    rows = frame(monthly("U1", "支委会", [1, 2, 3, 4, 5, 6, 7, 8]))
    h1 = score(example(), NO_EVIDENCE, UNITS.iloc[:1], "H1", records=rows, span=H1, record_source="records")
    year = score(example(), NO_EVIDENCE, UNITS.iloc[:1], "year", records=rows, span=YEAR, record_source="records")
    assert by(h1, "R1")["U1"][0] == 4.0 and "6 个月均已召开" in by(h1, "R1")["U1"][1]
    assert by(year, "R1")["U1"][0] == 0.0 and "9 月、10 月、11 月、12 月未召开" in by(year, "R1")["U1"][1]


def test_regular_rule_without_records_uses_the_period_kind():
    ev = pd.DataFrame({"unit": ["U1"], "field": ["committee_meetings"], "value": [5.0]})
    h1 = score(example(), ev, UNITS.iloc[:1], "H1")
    assert by(h1, "R1")["U1"][0] == 3.0  # 6 − 5 = 1 month short
    assert by(score(example(), ev, UNITS.iloc[:1], "year"), "R1")["U1"][0] == 0.0  # 12 − 5 = 7 > 4 points


def test_record_source_decides_which_value_counts():
    t = default_table()
    kw = dict(records=records_u1(), span=YEAR)
    typed = score(t, EVIDENCE, UNITS, "year", record_source="typed", **kw)
    recs = score(t, EVIDENCE, UNITS, "year", record_source="records", **kw)
    either = score(t, EVIDENCE, UNITS, "year", record_source="records_if_any", **kw)
    # C1 支部委员会: target 12, 1 point per meeting short, 4 points.
    assert {u: p for u, (p, _) in by(typed, "C1").items()} == {"U1": 4.0, "U2": 2.0, "U3": 4.0}
    assert {u: p for u, (p, _) in by(recs, "C1").items()} == {"U1": 2.0, "U2": 0.0, "U3": 0.0}
    assert {u: p for u, (p, _) in by(either, "C1").items()} == {"U1": 2.0, "U2": 2.0, "U3": 4.0}
    assert by(typed, "C1")["U1"][1].endswith("；依据填报值（活动记录：支委会 10 次，1 次出席率低于 80%，不计入）")
    assert by(recs, "C1")["U1"][1].endswith("；依据活动记录：支委会 10 次；1 次出席率低于 80%，不计入；3 月、7 月未召开")
    assert by(typed, "C1")["U3"][1] == "支委会次数 12 次，达到标准 12 次，得满分 4 分"  # no records: nothing added
    # The evidence used is the value that counted.
    assert recs.values.loc["U1", "committee_meetings"] == 10 and typed.values.loc["U1", "committee_meetings"] == 12


def test_bool_field_from_records_is_yes_with_one_valid_record():
    t = default_table()
    rows = frame([("U1", "组织生活会", dt.date(2026, 1, 10), None, None)])
    res = score(t, NO_EVIDENCE, UNITS.iloc[:2], "year", records=rows, span=YEAR, record_source="records")
    c7 = by(res, "C7")
    assert c7["U1"][0] == 2.0 and c7["U2"][0] == 0.0


def test_record_counts_show_typed_records_and_their_difference():
    res = score(default_table(), EVIDENCE, UNITS, "year", records=records_u1(), span=YEAR, record_source="typed")
    rc = res.record_counts
    assert list(rc.columns) == RECORD_COUNT_COLUMNS
    cm = rc[rc["field"] == "committee_meetings"].set_index("unit")
    assert set(cm.index) == {"U1", "U2", "U3"}  # typed values or records
    assert cm.loc["U1", ["typed", "records", "below", "n_missing", "periods", "used"]].tolist() == [12, 10, 1, 2, 12,
                                                                                                     "typed"]
    assert cm.loc["U1", "missing"] == "3 月、7 月" and cm.loc["U1", "activity_type"] == "支委会"
    assert cm.loc["U1", "typed"] - cm.loc["U1", "records"] == 2
    assert np.isnan(rc[(rc["field"] == "party_lectures")].set_index("unit").loc["U2", "typed"])
    # One row per unit × from_records field with a typed value or ≥ 1 record, nothing else.
    t = default_table()
    assert set(rc["field"]) <= set(t.record_fields)
    assert not ((rc["field"] == "party_lectures") & (rc["unit"] == "U1")).any()
    recs = score(t, EVIDENCE, UNITS, "year", records=records_u1(), span=YEAR, record_source="records").record_counts
    assert set(recs["used"]) == {"records"}


def test_without_records_the_result_is_unchanged():
    t = default_table()
    plain = score(t, EVIDENCE, UNITS, "year")
    again = score(t, EVIDENCE, UNITS, "year", records=None, span=YEAR, record_source="records")
    assert plain.items.equals(again.items) and plain.units.equals(again.units)
    assert plain.record_counts.empty and list(plain.record_counts.columns) == RECORD_COUNT_COLUMNS
    # Typed source with records: units without records score and read exactly as before.
    typed = score(t, EVIDENCE, UNITS, "year", records=records_u1(), span=YEAR)
    a = plain.items[plain.items["unit"] == "U3"].reset_index(drop=True)
    b = typed.items[typed.items["unit"] == "U3"].reset_index(drop=True)
    assert a[["points", "status"]].equals(b[["points", "status"]])
    assert a["explanation"].astype(str).tolist() == b["explanation"].astype(str).tolist()
    assert plain.units["total"].tolist() == typed.units["total"].tolist()


def test_records_without_a_span_are_not_used_and_say_so():
    res = score(default_table(), EVIDENCE, UNITS, "year", records=records_u1(), record_source="records")
    assert "未给出考核期起止日期，活动记录未使用" in res.notes and res.record_counts.empty


def test_odd_records_are_ignored_not_raised():
    odd = pd.DataFrame({"unit": ["U1", None, "U9", "U1"], "type": ["支委会", "支委会", "支委会", None],
                        "held_on": ["2026-01-05", "2026-02-05", "2026-03-05", "不是日期"],
                        "expected": ["十", 10, 10, 10], "attended": [None, 9, 9, 9]})
    res = score(default_table(), EVIDENCE, UNITS, "year", records=odd, span=YEAR, record_source="records")
    cm = res.record_counts.set_index(["unit", "field"])
    assert cm.loc[("U1", "committee_meetings"), "records"] == 1  # only the first row is a known unit, type and date
    res = score(default_table(), EVIDENCE, UNITS, "year", records=odd.drop(columns="attended"), span=YEAR)
    assert "活动记录缺少列 attended，未使用" in res.notes and res.record_counts.empty


def test_unknown_record_source_is_a_programming_error():
    with pytest.raises(ValueError):
        score(default_table(), EVIDENCE, UNITS, "year", record_source="both")


# ---------------------------------------------------------------- table language
def _problems(change) -> list[str]:
    d = copy.deepcopy(table_to_dict(example()))
    change(d)
    t, problems = parse_table(d)
    assert t is None
    return [str(p) for p in problems]


def test_default_activity_types_are_the_thirteen_of_the_issue():
    assert len(DEFAULT_ACTIVITY_TYPES) == 13 and default_table().activity_types == DEFAULT_ACTIVITY_TYPES
    assert example().activity_types == ("支委会", "主题党日", "党课")
    f = default_table().fields["committee_meetings"]
    assert (f.from_records, f.regular, f.min_attendance_pct) == ("支委会", "monthly", 80)
    assert default_table().fields["study_sessions"].regular is None


@pytest.mark.parametrize("change, message", [
    (lambda d: d["fields"]["committee_meetings"].update(from_records="支部大会"),
     "数据项 committee_meetings：from_records「支部大会」不在活动类型中"),
    (lambda d: d["fields"]["committee_meetings"].update(regular="weekly"),
     "数据项 committee_meetings：regular「weekly」未知，应为 monthly（每月）或 quarterly（每季度）"),
    (lambda d: d["fields"]["committee_meetings"].update(min_attendance_pct=120),
     "数据项 committee_meetings：min_attendance_pct 应在 0 到 100 之间（出席率百分比）"),
    (lambda d: d["fields"]["committee_meetings"].update(min_attendance_pct="八十"),
     "数据项 committee_meetings：min_attendance_pct「八十」应为 0 到 100 之间的数字（出席率百分比）"),
    (lambda d: d["fields"]["committee_meetings"].pop("from_records"),
     "数据项 committee_meetings：regular 须与 from_records 同时使用（规律性按活动记录核对）"),
    (lambda d: d["fields"]["committee_meetings"].update(kind="percent"),
     "数据项 committee_meetings：from_records 只能用于次数（count）或是/否（bool）类数据项，本数据项类型为 percent"),
    (lambda d: d["fields"]["committee_meetings"].pop("regular"),
     "指标 R1：评分类型「按月/季度规律性」要求数据项「committee_meetings」写明 regular: monthly 或 quarterly"),
    (lambda d: d["areas"][0]["items"][0]["params"].pop("per_miss_period"), "指标 R1：参数 per_miss_period 缺失或不是数字"),
    (lambda d: d["areas"][0]["items"][1]["params"].update(cap=0), "指标 R2：参数 cap 应为正数"),
    (lambda d: d.update(activity_types="支委会"), "activity_types：应为活动类型的列表"),
    (lambda d: d.update(activity_types=["支委会", "支委会", "主题党日", "党课"]), "activity_types：活动类型「支委会」重复"),
])
def test_table_validation_names_the_record_attribute_at_fault(change, message):
    problems = _problems(change)
    assert any(p.startswith(message) for p in problems), problems


def test_record_attributes_round_trip_through_a_dict():
    t = example()
    again, problems = parse_table(table_to_dict(t))
    assert problems == [] and again.fields == t.fields and again.activity_types == t.activity_types
    d = table_to_dict(default_table())
    assert "activity_types" not in d  # the default list is not written out
