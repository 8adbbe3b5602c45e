"""Activity records as a use case: scope, freeze by date, validation, supersede/withdraw, data-version bump,
audit. The demo has 2025 (已发布, 2025-01-01..12-31) and 2026H1 (考核中, 2026-01-01..06-30); its records
(data/demo_records.py) hold no 谈心谈话, the type these tests write, so their counts start at 0."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from data import activity_records as ar
from data.accounts import principal_by_name
from data.models import ActivityRecord, AuditLog, Period
from data.permissions import AccessDenied, NotFound
from data.services import InvalidInput

MARCH = dt.date(2026, 3, 5)
T = "谈心谈话"


def _who(db, name):
    return principal_by_name(name, db)


def _version(db, code="2026H1") -> int:
    with db.session() as s:
        return s.scalar(select(Period.data_version).where(Period.code == code))


def _n(db, *where) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(ActivityRecord).where(ActivityRecord.activity_type == T,
                                                                               *where))


def _rec(**kw) -> ar.RecordInput:
    base = dict(activity_type=T, held_on=MARCH, topic="研究三月份党建工作", place="党员活动室",
                expected=7, attended=6, host="王建国")
    base.update(kw)
    return ar.RecordInput(**base)


def test_staff_adds_a_record_for_own_unit_bumps_the_period_and_audits(seeded):
    staff = _who(seeded, "staff")
    unit = sorted(staff.unit_codes)[0]
    v0 = _version(seeded)
    rid = ar.add_record(staff, unit, _rec(), db=seeded)
    assert _version(seeded) == v0 + 1
    rows, total = ar.unit_records(staff, unit, "2026H1", activity_type=T, db=seeded)
    assert total == 1 and rows.iloc[0]["id"] == rid and rows.iloc[0]["activity_type"] == T
    assert rows.iloc[0]["attendance_pct"] == pytest.approx(600 / 7)
    with seeded.session() as s:
        a = s.scalars(select(AuditLog).where(AuditLog.action == "record_add")).one()
    assert a.unit_code == unit and a.entity_id == str(rid) and a.period_code == "2026H1"


def test_scope_staff_other_unit_refused_admin_any_leader_and_inspector_read_only(seeded_sqlite):
    db = seeded_sqlite
    staff, admin = _who(db, "staff"), _who(db, "admin")
    other = "C05"
    assert other not in staff.unit_codes
    with pytest.raises(AccessDenied):
        ar.add_record(staff, other, _rec(), db=db)
    for role in ("leader", "inspector"):
        with pytest.raises(AccessDenied):
            ar.add_record(_who(db, role), other, _rec(), db=db)
    rid = ar.add_record(admin, other, _rec(), db=db)
    # Everyone who sees the unit reads it; staff of another unit do not, nor may they withdraw it.
    assert ar.unit_records(_who(db, "leader"), other, "2026H1", activity_type=T, db=db)[1] == 1
    with pytest.raises(AccessDenied):
        ar.unit_records(staff, other, "2026H1", db=db)
    with pytest.raises(AccessDenied):
        ar.withdraw_record(staff, rid, "误录", db=db)
    with pytest.raises(AccessDenied):
        ar.withdraw_record(_who(db, "inspector"), rid, "误录", db=db)
    assert _n(db) == 1


def test_published_period_refuses_and_no_period_is_named(seeded_sqlite):
    db = seeded_sqlite
    admin = _who(db, "admin")
    v2025 = _version(db, "2025")
    with pytest.raises(InvalidInput, match="考核结果已发布"):
        ar.add_record(admin, "C01", _rec(held_on=dt.date(2025, 11, 3)), db=db)
    with pytest.raises(InvalidInput, match="不在任何考核期内.*2025.*2026H1"):
        ar.add_record(admin, "C01", _rec(held_on=dt.date(2026, 8, 3)), db=db)
    assert _n(db) == 0 and _version(db, "2025") == v2025


def test_a_date_in_an_open_and_a_published_period_bumps_only_the_open_one(seeded_sqlite):
    db = seeded_sqlite
    admin = _who(db, "admin")
    from data import periods

    periods.create_period(admin, "2026", "2026", db=db)  # the year 2026 also holds March
    with db.session() as s:
        s.execute(Period.__table__.update().where(Period.code == "2026H1").values(status="已发布"))
    v_h1, v_year = _version(db, "2026H1"), _version(db, "2026")
    ar.add_record(admin, "C01", _rec(), db=db)
    assert (_version(db, "2026H1"), _version(db, "2026")) == (v_h1, v_year + 1)


@pytest.mark.parametrize("kw, field, words", [
    (dict(activity_type="茶话会"), "activity_type", "不在本考核期指标体系的活动类型中"),
    (dict(activity_type=""), "activity_type", "请选择活动类型"),
    (dict(held_on=None), "held_on", "请填写活动日期"),
    (dict(attended=8, expected=7), "attended", "不能多于应到人数"),
    (dict(attended=-1), "attended", "0 到"),
    (dict(expected=None, attended=3), "expected", "同时填写应到人数"),
    (dict(topic="题" * 201), "topic", "最多 200 个字符"),
    (dict(place="地" * 121), "place", "最多 120 个字符"),
    (dict(secretary_lectured=True), "secretary_lectured", "只适用于党课"),
])
def test_validation_names_the_field_in_chinese(kw, field, words):
    problems = ar.validate(_rec(**kw), ar.DEFAULT_ACTIVITY_TYPES)
    assert any(f == field and words in m for f, m in problems), problems


def test_invalid_record_writes_nothing(seeded_sqlite):
    db = seeded_sqlite
    v0 = _version(db)
    with pytest.raises(InvalidInput, match="实到人数（9）不能多于应到人数（7）"):
        ar.add_record(_who(db, "admin"), "C01", _rec(attended=9), db=db)
    with pytest.raises(InvalidInput, match="茶话会"):
        ar.add_record(_who(db, "admin"), "C01", _rec(activity_type="茶话会"), db=db)
    assert _n(db) == 0 and _version(db) == v0


def test_edit_supersedes_and_withdraw_keeps_the_row(seeded):
    staff = _who(seeded, "staff")
    unit = sorted(staff.unit_codes)[0]
    rid = ar.add_record(staff, unit, _rec(), db=seeded)
    v1 = _version(seeded)
    new = ar.edit_record(staff, rid, _rec(attended=7, topic="更正：研究三月份党建工作"), db=seeded)
    assert new != rid and _version(seeded) == v1 + 1
    with seeded.session() as s:
        old = s.get(ActivityRecord, rid)
        assert old.superseded_by_id == new and old.superseded_at is not None and old.attended == 6
    rows, total = ar.unit_records(staff, unit, "2026H1", activity_type=T, db=seeded)
    assert total == 1 and rows.iloc[0]["id"] == new and rows.iloc[0]["attended"] == 7
    assert [h["id"] for h in ar.record_history(staff, new, db=seeded)] == [new, rid]
    with pytest.raises(InvalidInput, match="已被修改"):
        ar.edit_record(staff, rid, _rec(), db=seeded)
    with pytest.raises(InvalidInput, match="撤回理由"):
        ar.withdraw_record(staff, new, "", db=seeded)
    ar.withdraw_record(staff, new, "重复登记", db=seeded)
    assert ar.unit_records(staff, unit, "2026H1", activity_type=T, db=seeded)[1] == 0
    assert _n(seeded) == 2  # nothing deleted
    with pytest.raises(InvalidInput, match="已撤回"):
        ar.withdraw_record(staff, new, "再撤一次", db=seeded)
    with seeded.session() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity == "activity_record")).all()
    assert sorted(actions) == ["record_add", "record_edit", "record_withdraw"]


def test_edit_moving_the_date_into_a_published_period_is_refused(seeded_sqlite):
    db = seeded_sqlite
    admin = _who(db, "admin")
    rid = ar.add_record(admin, "C01", _rec(), db=db)
    with pytest.raises(InvalidInput, match="考核结果已发布"):
        ar.edit_record(admin, rid, _rec(held_on=dt.date(2025, 12, 1)), db=db)
    assert ar.get_record(admin, rid, db=db)["current"]


def test_unknown_record_is_not_found(seeded_sqlite):
    with pytest.raises(NotFound):
        ar.withdraw_record(_who(seeded_sqlite, "admin"), 999_999, "误录", db=seeded_sqlite)


def test_listing_is_paged_and_calendar_groups_by_month(seeded_sqlite):
    db = seeded_sqlite
    admin = _who(db, "admin")
    for m in (1, 2, 4, 5, 6):
        ar.add_record(admin, "C02", _rec(held_on=dt.date(2026, m, 10), topic=f"{m} 月谈心谈话"), db=db)
    ar.add_record(admin, "C02", _rec(held_on=dt.date(2026, 5, 20), topic="补开", attended=3), db=db)
    page0, total = ar.unit_records(admin, "C02", "2026H1", page=0, page_size=4, activity_type=T, db=db)
    page1, _ = ar.unit_records(admin, "C02", "2026H1", page=1, page_size=4, activity_type=T, db=db)
    assert total == 6 and len(page0) == 4 and len(page1) == 2
    assert not set(page0["id"]) & set(page1["id"])
    cal = ar.unit_calendar(admin, "C02", "2026H1", db=db)
    assert cal["months"] == [(2026, m) for m in range(1, 7)]
    months = cal["cells"][T]
    assert sorted(months) == ["2026-01", "2026-02", "2026-04", "2026-05", "2026-06"]  # March is missing
    assert len(months["2026-05"]) == 2
    assert T in cal["types"] and "主题党日" in cal["types"]


def test_a_correction_keeps_the_records_files(seeded_sqlite, tmp_path):
    """佐证材料 belong to the activity: after 更正 they hang on the current row, and count there."""
    from PIL import Image

    from data import attachments
    from data.attachment_store import DiskStore

    db = seeded_sqlite
    staff = _who(db, "staff")
    unit = sorted(staff.unit_codes)[0]
    rid = ar.add_record(staff, unit, _rec(), db=db)
    buf = __import__("io").BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(buf, "PNG")
    aid = attachments.attach_to_record(staff, rid, "会场.png", buf.getvalue(), db=db, store=DiskStore(tmp_path / "f"))
    assert attachments.attachment_counts(db, [rid]) == {rid: 1}
    new = ar.edit_record(staff, rid, _rec(topic="更正后的主题"), db=db)
    assert attachments.attachment_counts(db, [rid, new]) == {new: 1}
    files = [f for f in attachments.unit_attachments(staff, unit, "2026H1", db=db) if f["id"] == aid]
    assert files and files[0]["record_id"] == new
