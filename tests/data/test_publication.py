"""Publication is a frozen snapshot (issue 12 item 5), at service level on SQLite and PostgreSQL:
every write path refused on a published period with nothing written, candidates judged as of the
period's end, re-opening admin-only and audited, re-publishing labelled with what changed."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select

from data import evidence_service, publication, services
from data.accounts import principal_by_name
from data.models import (
    Adjustment, AuditLog, Base, CandidateDecision, Period, Rectification, SelfAssessment, TableVersion, utcnow,
)
from data.permissions import AccessDenied

P = "2026H1"
REFUSED = "考核结果已发布"


def _who(db, name):
    return principal_by_name(name, db=db)


def state(db) -> dict:
    """Everything a refused write could have touched: row counts of every table (but the shared
    results store, which reads may fill), versions and statuses of periods, current adjustments,
    整改 statuses."""
    with db.session() as s:
        out = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
               if t.name != "stored_results"}
        out["periods"] = s.execute(select(Period.code, Period.data_version, Period.status, Period.table_version_id)
                                   .order_by(Period.code)).all()
        out["current_adjustments"] = s.scalar(select(func.count()).where(Adjustment.superseded_at.is_(None)))
        out["rect_status"] = s.execute(select(Rectification.id, Rectification.status).order_by(Rectification.id)).all()
        out["self"] = s.execute(select(SelfAssessment.id, SelfAssessment.points).order_by(SelfAssessment.id)).all()
    return out


@pytest.fixture
def published(seeded):
    publication.publish(_who(seeded, "inspector"), P, db=seeded)
    return seeded


def _ids(db):
    with db.session() as s:
        p = s.scalar(select(Period).where(Period.code == P))
        adj = s.scalar(select(Adjustment.id).where(Adjustment.period_id == p.id, Adjustment.superseded_at.is_(None))
                       .order_by(Adjustment.id).limit(1))
        rect = s.scalar(select(Rectification.id).where(Rectification.period_id == p.id,
                                                       Rectification.status == "整改中").limit(1))
    return adj, rect


WRITES = {
    "judgement": lambda db, ids: services.set_adjustment(_who(db, "inspector"), P, "C02", "F2", "judgement", 2,
                                                         "现场评定", db=db),
    "deduction": lambda db, ids: services.set_adjustment(_who(db, "inspector"), P, "C02", "C1", "deduction", 1,
                                                         "记录缺页", db=db),
    "not_applicable": lambda db, ids: services.set_adjustment(_who(db, "inspector"), P, "C02", "C3",
                                                              "not_applicable", None, "未设党小组", db=db),
    "withdraw": lambda db, ids: services.withdraw_adjustment(_who(db, "inspector"), ids[0], db=db),
    "self_assessment": lambda db, ids: services.set_self_assessment(_who(db, "staff_sj"), P, "C01", "A1", 3, "",
                                                                    db=db),
    "rectification_add": lambda db, ids: services.add_rectification(_who(db, "inspector"), P, "C02", "台账不全",
                                                                    dt.date.today() + dt.timedelta(days=30), db=db),
    "rectification_close": lambda db, ids: services.update_rectification(_who(db, "inspector"), ids[1], "close",
                                                                         "已补齐", db=db),
    "candidate_decision": lambda db, ids: services.decide_candidate(_who(db, "inspector"), P, "C02", "推荐", "",
                                                                    db=db),
    "table_version": lambda db, ids: services.set_period_table_version(_who(db, "admin"), P, "2025", db=db),
    "status_back": lambda db, ids: services.set_period_status(_who(db, "inspector"), P, "考核中", db=db),
    "publish_again": lambda db, ids: publication.publish(_who(db, "inspector"), P, db=db),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_path_is_refused_on_a_published_period_and_writes_nothing(published, write):
    ids = _ids(published)
    assert ids[0] is not None and ids[1] is not None
    before = state(published)
    with pytest.raises(services.InvalidInput, match=REFUSED):
        WRITES[write](published, ids)
    assert state(published) == before


@pytest.mark.parametrize("step", ["preview", "commit"])
def test_evidence_upload_is_refused_on_a_published_period(published, step):
    before = state(published)
    data = "单位编码,支委会次数\nC02,6\n".encode("utf-8")
    fn = evidence_service.preview_upload if step == "preview" else evidence_service.commit_upload
    out = fn(published, data, "a.csv", P, _who(published, "inspector"))
    report = out.report
    assert not report.ok and REFUSED in report.errors[0].message
    assert state(published) == before


def test_the_same_writes_go_through_once_reopened(published):
    """The refusals above are the publication's doing: re-opened, the same calls write."""
    ids = _ids(published)
    publication.reopen(_who(published, "admin"), P, "更正 C02 的评定", db=published)
    before = state(published)
    WRITES["judgement"](published, ids)
    WRITES["rectification_close"](published, ids)
    WRITES["candidate_decision"](published, ids)
    after = state(published)
    assert after["adjustments"] == before["adjustments"] + 1
    assert after["candidate_decisions"] == before["candidate_decisions"] + 1
    assert after["rect_status"] != before["rect_status"]


def test_a_published_period_serves_its_snapshot_not_the_live_rows(published):
    snap = publication.snapshot(P, db=published)
    assert snap.number == 1 and snap.label == "第 1 次发布"
    assert snap.published_by.startswith("考核组李明")
    with published.session() as s:
        p = s.scalar(select(Period).where(Period.code == P))
        assert (snap.data_version, snap.table_version) == (p.data_version, p.table_version.version)
    served = services.score_period(P, published)
    pd.testing.assert_frame_equal(served.units, snap.result.units)
    # Rows changed behind the services' back (a rename in the unit table) do not reach the published view.
    from data.models import OrgUnit, UnitName
    with published.session() as s:
        uid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "C03"))
        s.query(OrgUnit).filter(OrgUnit.id == uid).update({"name": "改名后的支部"})
        s.query(UnitName).filter(UnitName.unit_id == uid).update({"name": "改名后的支部"})
    services.clear_cache(published, stored=True)
    assert "改名后的支部" not in services.score_period(P, published).units["name"].tolist()
    assert "改名后的支部" not in services.rankings(_who(published, "leader"), P, db=published)["name"].tolist()


def _rect_due(db, who, period: str, unit: str, problem: str, deadline: dt.date) -> int:
    """A 整改 item with ``deadline``: entered with today's date (a past deadline is refused at entry),
    then dated back in the table as if it had been entered back then."""
    rid = services.add_rectification(who, period, unit, problem, dt.date.today(), db=db)
    with db.session() as s:
        s.get(Rectification, rid).deadline = deadline
    return rid


def _candidate(db, period: str) -> str:
    df = services.candidate_list(_who(db, "inspector"), period, db=db)
    return df.loc[df["status"] == "候选", "unit"].iloc[0]


def test_overdue_rectifications_are_judged_as_of_the_period_end_not_today(seeded):
    """2025 (published in the demo) re-opened so its shortlist is computed live."""
    publication.reopen(_who(seeded, "admin"), "2025", "核对先进条件", db=seeded)
    unit = _candidate(seeded, "2025")
    insp = _who(seeded, "inspector")
    # Overdue today, but its deadline is after 2025's last day: not overdue as of 2025-12-31.
    _rect_due(seeded, insp, P, unit, "2026 年发现的问题", dt.date(2026, 1, 15))
    assert dt.date(2026, 1, 15) < dt.date.today()
    df = services.candidate_list(insp, "2025", db=seeded).set_index("unit")
    assert df.loc[unit, "status"] == "候选"
    assert df.attrs["as_of"] == "2025-12-31"
    # Past its deadline on 2025-12-31 and still open: the unit is no longer a candidate.
    rid = _rect_due(seeded, insp, P, unit, "2025 年的问题", dt.date(2025, 11, 30))
    df = services.candidate_list(insp, "2025", db=seeded).set_index("unit")
    assert df.loc[unit, "status"] != "候选" and "整改逾期未销号" in df.loc[unit, "failed"]
    # Closed today, i.e. after the period's end: on 2025-12-31 it was still open and overdue.
    services.update_rectification(insp, rid, "close", "已整改", db=seeded)
    df = services.candidate_list(insp, "2025", db=seeded).set_index("unit")
    assert df.loc[unit, "status"] != "候选"


def test_a_published_shortlist_does_not_move_when_later_rectifications_become_overdue(seeded):
    insp = _who(seeded, "inspector")
    frozen = services.candidate_list(insp, "2025", db=seeded)
    unit = frozen.loc[frozen["status"] == "候选", "unit"].iloc[0]
    _rect_due(seeded, insp, P, unit, "逾期问题", dt.date(2025, 10, 1))
    with seeded.session() as s:  # and one that went overdue long ago, written straight into the table
        r = s.scalar(select(Rectification).where(Rectification.status == "整改中").limit(1))
        r.deadline = dt.date(2025, 6, 1)
    services.clear_cache(seeded, stored=True)
    pd.testing.assert_frame_equal(services.candidate_list(insp, "2025", db=seeded), frozen)
    kpi = services.kpis(_who(seeded, "leader"), "2025", db=seeded)
    assert kpi["overdue_rectifications"] == sum(publication.snapshot("2025", db=seeded).overdue.values())


def test_reopen_is_admin_only_needs_a_reason_and_is_audited(published):
    with pytest.raises(AccessDenied):
        publication.reopen(_who(published, "inspector"), P, "想改", db=published)
    with pytest.raises(AccessDenied):
        publication.reopen(None, P, "想改", db=published)
    with pytest.raises(services.InvalidInput):
        publication.reopen(_who(published, "admin"), P, "  ", db=published)
    assert services.get_period_info(P, published).status == "已发布"
    assert publication.reopen(_who(published, "admin"), P, "C02 评定有误，更正后重新发布", db=published) == 1
    assert services.get_period_info(P, published).status == "考核中"
    with published.session() as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "period_reopen"))
    assert row.username == "admin" and row.period_code == P
    assert row.after["reason"] == "C02 评定有误，更正后重新发布" and row.before["publication"] == 1


def test_publishing_again_is_labelled_and_says_what_changed(published):
    first = publication.snapshot(P, db=published)
    publication.reopen(_who(published, "admin"), P, "更正", db=published)
    items = first.result.items_for("C02")
    item = items[(items["kind"] == "base") & (items["points"] >= 1)]["item"].iloc[0]
    services.set_adjustment(_who(published, "inspector"), P, "C02", str(item), "deduction", 1, "记录缺页",
                            db=published)
    second = publication.publish(_who(published, "inspector"), P, db=published)
    assert second.number == 2 and second.label == "第 2 次发布"
    ch = second.summary["changes"]
    assert ch["previous"] == 1 and ch["total_changed"] >= 1
    row = next(r for r in ch["units"] if r["unit"] == "C02")
    t1 = first.result.units.set_index("unit").loc["C02", "total"]
    t2 = second.result.units.set_index("unit").loc["C02", "total"]
    assert t2 < t1 and (row["total_before"], row["total_after"]) == (t1, t2)
    lines = publication.describe_changes(second.summary)
    assert lines[0].startswith("与第 1 次发布相比") and any("C02" in line for line in lines)
    # The earlier snapshot stays retrievable as it was; the services serve the newest.
    again = publication.snapshot(P, 1, db=published)
    pd.testing.assert_frame_equal(again.result.units, first.result.units)
    assert services.score_period(P, published).units.set_index("unit").loc["C02", "total"] == t2
    assert [p["label"] for p in publication.publications(P, db=published)] == ["第 1 次发布", "第 2 次发布"]


def test_a_period_published_before_snapshots_existed_is_frozen_on_first_read(seeded):
    with seeded.session() as s:
        p = s.scalar(select(Period).where(Period.code == P))
        p.status = "已发布"  # as an older version of the app left it: no snapshot
    services.clear_cache(seeded)
    res = services.score_period(P, seeded)
    snap = publication.snapshot(P, db=seeded)
    assert snap.published_by == publication.LEGACY_PUBLISHER
    pd.testing.assert_frame_equal(res.units, snap.result.units)


def test_table_version_change_goes_through_on_an_open_period_without_evidence(seeded):
    admin = _who(seeded, "admin")
    services.create_period(admin, "2027H1", "2026", db=seeded)
    services.set_period_table_version(admin, "2027H1", "2025", db=seeded)
    assert services.get_period_info("2027H1", seeded).table_version == "2025"
    with pytest.raises(services.InvalidInput, match="已有提交的填报数据"):
        services.set_period_table_version(admin, P, "2025", db=seeded)
    with seeded.session() as s:
        assert s.scalar(select(func.count()).select_from(TableVersion)) >= 2
        assert s.scalar(select(func.count()).select_from(CandidateDecision)) >= 0
    assert utcnow()  # models import kept honest
