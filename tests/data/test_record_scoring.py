"""Activity records in the scoring inputs (issue 16, data wiring): the set-based read, the period's
record source, 「已有数据」, the cache key (``periods.bump_for_dates``), ``record_counts`` in the
shared results store and in publication snapshots — on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, select, update

from data import frames, periods, publication, repo, services
from data.accounts import principal_by_name
from data.db import Database
from data.models import ActivityRecord, Adjustment, AuditLog, EvidenceValue, OrgUnit, Period, utcnow
from scoring.engine import RECORD_COUNT_COLUMNS

P = "2026H1"


@pytest.fixture(autouse=True)
def _without_demo_records(request):
    """These tests write their own records: start from the demo without the ones it seeds
    (data/demo_records.py), with a new data version so no stored score still counts them."""
    if "seeded" in request.fixturenames:
        db = request.getfixturevalue("seeded")
        from data.models import Attachment

        with db.session() as s:
            s.execute(delete(Attachment).where(Attachment.record_id.isnot(None)))  # the demo's files on records
            s.execute(delete(ActivityRecord))
            s.execute(update(Period).values(data_version=Period.data_version + 1))
        services.clear_cache()


def _who(db, name):
    return principal_by_name(name, db=db)


def _unit_id(s, code: str) -> int:
    return s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def _add(db, code: str, kind: str, days, expected=None, attended=None, **extra) -> list[int]:
    """Records written as the recui code will write them: rows plus bump_for_dates in one transaction."""
    with db.session() as s:
        uid = _unit_id(s, code)
        rows = [ActivityRecord(unit_id=uid, activity_type=kind, held_on=d, expected=expected, attended=attended,
                               **extra) for d in days]
        s.add_all(rows)
        s.flush()
        periods.bump_for_dates(s, uid, days)
        return [r.id for r in rows]


def _h1_months(day=10):
    return [dt.date(2026, m, day) for m in range(1, 7)]


def _version(db, code=P) -> int:
    with db.session() as s:
        return s.scalar(select(Period.data_version).where(Period.code == code))


def test_records_frame_reads_the_current_records_of_the_span(seeded):
    ids = _add(seeded, "C02", "支委会", [dt.date(2026, 1, 1), dt.date(2026, 6, 30), dt.date(2026, 7, 1),
                                       dt.date(2025, 12, 31), dt.date(2026, 3, 3), dt.date(2026, 4, 4)],
               expected=10, attended=7)
    _add(seeded, "C03", "党课", [dt.date(2026, 2, 2)])  # blanks stay NaN
    with seeded.session() as s:
        s.execute(update(ActivityRecord).where(ActivityRecord.id == ids[4]).values(superseded_at=utcnow()))
        s.execute(update(ActivityRecord).where(ActivityRecord.id == ids[5]).values(withdrawn_at=utcnow()))
    with seeded.session() as s:
        df = repo.records_frame(s, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert list(df.columns) == ["unit", "type", "held_on", "expected", "attended"]
    assert isinstance(df["unit"].dtype, pd.CategoricalDtype) and df["held_on"].dtype.kind == "M"
    got = sorted((str(u), str(t), d.date(), e, a) for u, t, d, e, a in
                 zip(df["unit"], df["type"], df["held_on"], df["expected"], df["attended"]) if not np.isnan(e))
    assert got == [("C02", "支委会", dt.date(2026, 1, 1), 10.0, 7.0), ("C02", "支委会", dt.date(2026, 6, 30), 10.0, 7.0)]
    c03 = df[df["unit"] == "C03"]
    assert len(c03) == 1 and np.isnan(c03["expected"].iloc[0]) and np.isnan(c03["attended"].iloc[0])


def test_bump_for_dates_moves_every_unpublished_period_holding_a_date(seeded):
    admin = _who(seeded, "admin")
    periods.create_period(admin, "2026", "2026", seeded)  # the year holds H1's dates as well
    before = {c: _version(seeded, c) for c in ("2025", P, "2026")}
    with seeded.session() as s:
        assert periods.bump_for_dates(s, _unit_id(s, "C02"), [dt.date(2026, 3, 1)]) == ["2026", P]
        assert periods.bump_for_dates(s, None, [dt.date(2026, 9, 30), "2026-09-01"]) == ["2026"]
        # 2025 is published in the demo: its snapshot is frozen and its version stays.
        assert periods.bump_for_dates(s, None, [dt.date(2025, 12, 31), None]) == []
    after = {c: _version(seeded, c) for c in ("2025", P, "2026")}
    assert after == {"2025": before["2025"], P: before[P] + 1, "2026": before["2026"] + 2}
    publication.publish(_who(seeded, "inspector"), P, db=seeded)
    with seeded.session() as s:
        assert periods.bump_for_dates(s, None, [dt.date(2026, 3, 1)]) == ["2026"]


def test_record_source_records_scores_the_records_and_record_counts_are_shared_and_published(seeded):
    admin = _who(seeded, "admin")
    typed = services.score_period(P, seeded)
    c1_typed = typed.items[(typed.items["unit"] == "C02") & (typed.items["item"] == "C1")].iloc[0]
    assert "活动记录" not in str(c1_typed["explanation"])  # no records yet: the explanation is as before
    rc = typed.record_counts
    assert list(rc.columns) == RECORD_COUNT_COLUMNS and set(rc["used"]) <= {"typed"}

    # Four 支委会 meetings in H1 (February and May missing), one of them below 80 % attendance.
    _add(seeded, "C02", "支委会", [dt.date(2026, 1, 10), dt.date(2026, 3, 10), dt.date(2026, 4, 10)],
         expected=10, attended=9)
    _add(seeded, "C02", "支委会", [dt.date(2026, 6, 10)], expected=10, attended=5)
    v = _version(seeded)
    assert periods.update_period(admin, P, record_source="records", db=seeded) == {"record_source": ("typed", "records")}
    assert _version(seeded) == v + 1  # a new cache key
    res = services.score_period(P, seeded)
    row = res.items[(res.items["unit"] == "C02") & (res.items["item"] == "C1")].iloc[0]
    # C1 on H1: target 12 halved to 6, 1 point per meeting short, 4 points; 3 valid meetings → 1 point.
    assert row["points"] == 1.0
    assert str(row["explanation"]).endswith("；依据活动记录：支委会 3 次；1 次出席率低于 80%，不计入；2 月、5 月、6 月未召开")
    cm = res.record_counts[(res.record_counts["unit"] == "C02")
                           & (res.record_counts["field"] == "committee_meetings")].iloc[0]
    assert (cm["records"], cm["below"], cm["n_missing"], cm["periods"], cm["used"]) == (3, 1, 3, 6, "records")
    assert cm["typed"] == c1_typed_value(typed)

    # Another worker loads the stored result: the same record_counts.
    other = Database(seeded.url)
    try:
        again = services.score_period(P, other)
        pd.testing.assert_frame_equal(again.record_counts.reset_index(drop=True),
                                      res.record_counts.reset_index(drop=True), check_dtype=False)
    finally:
        other.dispose()
    # The publication snapshot keeps them too.
    publication.publish(_who(seeded, "inspector"), P, db=seeded)
    services.clear_cache(seeded)
    snap = publication.snapshot(P, db=seeded).result
    pd.testing.assert_frame_equal(snap.record_counts.reset_index(drop=True), res.record_counts.reset_index(drop=True),
                                  check_dtype=False)
    with pytest.raises(services.InvalidInput, match="考核结果已发布"):
        periods.update_period(admin, P, record_source="typed", db=seeded)


def c1_typed_value(res) -> float:
    return float(res.values.loc["C02", "committee_meetings"])


def test_record_source_change_is_audited_and_checked(seeded):
    admin = _who(seeded, "admin")
    with pytest.raises(services.InvalidInput, match="计分依据应为"):
        periods.update_period(admin, P, record_source="both", db=seeded)
    periods.update_period(admin, P, record_source="records_if_any", db=seeded)
    with seeded.session() as s:
        log = s.scalar(select(AuditLog).where(AuditLog.action == "period_update").order_by(AuditLog.id.desc()))
        assert log.before == {"record_source": "typed"} and log.after == {"record_source": "records_if_any"}
    assert services.get_period_info(P, seeded).record_source == "records_if_any"
    assert periods.update_period(admin, P, record_source="records_if_any", db=seeded) == {}
    code = periods.create_period(admin, "2027", "2026", seeded, record_source="records")
    assert services.get_period_info(code, seeded).record_source == "records"
    with pytest.raises(services.InvalidInput, match="计分依据应为"):
        periods.create_period(admin, "2028", "2026", seeded, record_source="x")


def test_a_unit_with_records_but_no_typed_evidence_has_data(seeded):
    with seeded.session() as s:
        uid = _unit_id(s, "C03")
        pid = s.scalar(select(Period.id).where(Period.code == P))
        s.execute(delete(EvidenceValue).where(EvidenceValue.unit_id == uid, EvidenceValue.period_id == pid))
        s.execute(delete(Adjustment).where(Adjustment.unit_id == uid, Adjustment.period_id == pid))
        s.execute(update(Period).where(Period.id == pid).values(data_version=Period.data_version + 1))
    services.clear_cache(seeded, stored=True)
    assert "C03" not in set(services.score_period(P, seeded).units["unit"])
    _add(seeded, "C03", "主题党日", _h1_months())
    res = services.score_period(P, seeded)
    assert "C03" in set(res.units["unit"])
    rc = res.record_counts
    row = rc[(rc["unit"] == "C03") & (rc["field"] == "theme_days")].iloc[0]
    assert np.isnan(row["typed"]) and row["records"] == 6 and row["used"] == "typed"
    assert "C03" not in set(services.units_without_data(_who(seeded, "leader"), P, seeded)["unit"])


def test_units_with_data_counts_records():
    units = pd.DataFrame({"unit": ["A", "B", "C"], "name": list("abc"), "category": "x", "kind": "党支部"})
    ev = pd.DataFrame({"unit": ["A"], "field": ["f"], "value": [1.0]})
    recs = pd.DataFrame({"unit": pd.Categorical(["C"]), "type": ["支委会"], "held_on": pd.to_datetime(["2026-01-01"]),
                         "expected": [np.nan], "attended": [np.nan]})
    assert services.units_with_data(units, ev)["unit"].tolist() == ["A"]
    assert services.units_with_data(units, ev, None, recs)["unit"].tolist() == ["A", "C"]


def test_record_counts_survive_the_columnar_frames():
    from scoring.engine import score
    from scoring.indicators import default_table

    units = pd.DataFrame({"unit": ["A", "B"], "name": ["a", "b"], "category": "x"})
    ev = pd.DataFrame({"unit": ["A"], "field": ["committee_meetings"], "value": [3.0]})
    recs = pd.DataFrame({"unit": ["B", "B"], "type": ["支委会", "党课"],
                         "held_on": pd.to_datetime(["2026-01-31", "2026-02-01"]),
                         "expected": [10.0, np.nan], "attended": [9.0, np.nan]})
    res = score(default_table(), ev, units, "H1", records=recs, span=(dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
                record_source="records_if_any")
    back = frames.unpack_result(frames.pack_result(res))
    pd.testing.assert_frame_equal(back.record_counts, res.record_counts, check_dtype=False)
    assert len(res.record_counts) == 3
    empty = frames.unpack_result(frames.pack_result(score(default_table(), ev, units, "H1")))
    assert empty.record_counts.empty and list(empty.record_counts.columns) == RECORD_COUNT_COLUMNS


def test_work_summary_counts_records_where_a_unit_has_them(seeded):
    from data.work_summary import field_totals, work_summary

    leader = _who(seeded, "leader")
    before = field_totals(leader, P, db=seeded).set_index("field")
    typed_c02 = float(services.score_period(P, seeded).values.loc["C02", "committee_meetings"])
    # Four meetings held, one below the attendance threshold: the summary counts the four (they took place).
    _add(seeded, "C02", "支委会", [dt.date(2026, 1, 10), dt.date(2026, 2, 10), dt.date(2026, 3, 10)],
         expected=10, attended=9)
    _add(seeded, "C02", "支委会", [dt.date(2026, 4, 10)], expected=10, attended=2)
    after = field_totals(leader, P, db=seeded).set_index("field")
    assert after.loc["committee_meetings", "figure"] == before.loc["committee_meetings", "figure"] - typed_c02 + 4
    assert after.loc["committee_meetings", "how"] == "合计（其中 1 个单位按活动记录条数统计）"
    assert after.loc["general_meetings", "how"] == "合计"  # no records of that type: as before
    fig = work_summary(leader, P, db=seeded).figures.set_index("key")
    assert fig.loc["committee_meetings", "value"] == after.loc["committee_meetings", "figure"]
    assert fig.loc["committee_meetings", "how"].endswith("；有活动记录的单位按记录条数统计")
