"""Periods (issue 12 item 4): open with a deadline, edit dates / deadline / table version with the
version locked once data is committed, and 填报进度 per unit with the 催报 list."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from data import evidence_service as es
from data import periods, services
from data.accounts import principal_by_name
from data.models import AuditLog, Period
from data.permissions import AccessDenied
from scoring.indicators import default_table, table_to_dict
from tests.fixtures.intake_files import xlsx_bytes

TABLE = default_table()


def _p(db, name):
    return principal_by_name(name, db=db)


def _period(db, code) -> Period:
    with db.session() as s:
        p = s.scalar(select(Period).where(Period.code == code))
        s.expunge(p)
        return p


def test_create_period_with_a_deadline_and_policy_is_audited(seeded):
    admin = _p(seeded, "admin")
    assert periods.create_period(admin, "2027h1", "2026", seeded, deadline="2027-07-10",
                                 late_policy="refuse") == "2027H1"
    p = _period(seeded, "2027H1")
    assert (p.kind, p.start_date, p.end_date, p.deadline, p.late_policy, p.status) == (
        "H1", dt.date(2027, 1, 1), dt.date(2027, 6, 30), dt.date(2027, 7, 10), "refuse", "填报中")
    with seeded.session() as s:
        log = s.scalar(select(AuditLog).where(AuditLog.action == "period_create").order_by(AuditLog.id.desc()))
    assert log.after == {"code": "2027H1", "table_version": "2026", "deadline": "2027-07-10", "late_policy": "refuse",
                         "record_source": "typed"}
    # services.create_period stays for its callers and is the same use case
    assert services.create_period(admin, "2028", "2026", seeded) == "2028"
    assert _period(seeded, "2028").deadline is None and _period(seeded, "2028").late_policy == "warn"


@pytest.mark.parametrize("code, version, deadline, message", [
    ("27H1", "2026", None, "考核期编码应为年份"),
    ("2026H1", "2026", None, "已存在"),
    ("2027", "1999", None, "指标体系版本 1999 不存在"),
    ("2027", "2026", "2027/13/01", "不是有效日期"),
    ("2027", "2026", "2026-12-31", "早于考核期开始日期"),
])
def test_create_period_refusals(seeded_sqlite, code, version, deadline, message):
    with pytest.raises(services.InvalidInput, match=message):
        periods.create_period(_p(seeded_sqlite, "admin"), code, version, seeded_sqlite, deadline=deadline)
    with pytest.raises(AccessDenied):
        periods.create_period(_p(seeded_sqlite, "inspector"), "2030", "2026", seeded_sqlite)


def test_update_dates_deadline_and_policy_with_before_and_after(seeded_sqlite):
    db = seeded_sqlite
    admin = _p(db, "admin")
    version_before = _period(db, "2026H1").data_version
    changes = periods.update_period(admin, "2026H1", end_date="2026-07-05", deadline="2026-07-15",
                                    late_policy="refuse", db=db)
    assert changes == {"end_date": (dt.date(2026, 6, 30), dt.date(2026, 7, 5)),
                       "deadline": (None, dt.date(2026, 7, 15)), "late_policy": ("warn", "refuse")}
    p = _period(db, "2026H1")
    assert (p.end_date, p.deadline, p.late_policy) == (dt.date(2026, 7, 5), dt.date(2026, 7, 15), "refuse")
    assert p.data_version == version_before + 1  # caps follow the days: cached scores are stale
    with db.session() as s:
        log = s.scalar(select(AuditLog).where(AuditLog.action == "period_update"))
    assert log.before == {"end_date": "2026-06-30", "deadline": None, "late_policy": "warn"}
    assert log.after == {"end_date": "2026-07-05", "deadline": "2026-07-15", "late_policy": "refuse"}
    assert periods.update_period(admin, "2026H1", deadline="2026-07-15", db=db) == {}  # nothing new
    with pytest.raises(services.InvalidInput, match="早于开始日期"):
        periods.update_period(admin, "2026H1", end_date="2025-12-31", db=db)
    # The template and the intake use the edited days: 1 January – 5 July is 186 days.
    wb = openpyxl.load_workbook(io.BytesIO(es.template_bytes(db, "2026H1")))
    assert wb["填报表"]["C2"].value == "次；0–186 的整数"


def test_table_version_changes_only_while_nothing_is_committed(seeded_sqlite):
    db = seeded_sqlite
    admin = _p(db, "admin")
    content = table_to_dict(TABLE)
    content["version"] = "2027"
    services.save_table_version(admin, content, db=db)
    with pytest.raises(services.InvalidInput, match="已有提交的填报数据"):
        periods.update_period(admin, "2026H1", table_version="2027", db=db)  # the demo has data
    periods.create_period(admin, "2027H1", "2026", db)
    assert periods.update_period(admin, "2027H1", table_version="2027", db=db) == {"table_version": ("2026", "2027")}
    res = es.commit_upload(db, xlsx_bytes([["单位编码", "支委会次数"], ["C01", 3]]), "a.xlsx", "2027H1", admin)
    assert res.status == "committed"
    with pytest.raises(services.InvalidInput, match="不能再更换指标体系版本"):
        periods.update_period(admin, "2027H1", table_version="2026", db=db)
    services.set_period_status(_p(db, "inspector"), "2027H1", "已发布", db=db)
    with pytest.raises(services.InvalidInput, match="已发布"):
        periods.update_period(admin, "2027H1", deadline="2027-07-01", db=db)


def _fill(db, period, fill) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(es.template_bytes(db, period)))
    ws = wb["填报表"]
    fields = list(TABLE.evidence_fields)
    for r in range(3, ws.max_row + 1):
        code = ws.cell(r, 1).value
        for j, f in enumerate(fields):
            v = fill(code, f, TABLE.fields[f].kind)
            if v is not None:
                ws.cell(r, 3 + j, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_progress_per_unit_and_the_reminder_list(seeded_sqlite):
    db = seeded_sqlite
    admin = _p(db, "admin")
    periods.create_period(admin, "2027H1", "2026", db, deadline="2027-07-10")

    def fill(code, field, kind):
        value = {"bool": "是", "percent": 90}.get(kind, 2)
        if code == "C01":                                   # one field only
            return 3 if field == "committee_meetings" else None
        if code == "C02":                                   # everything
            return value
        if code == "C03":                                   # everything but an annual item's field (C7)
            return None if field == "org_life_meeting" else value
        if code == "C04":                                   # everything, one withdrawn with 「清除」 later
            return value
        return None

    assert es.commit_upload(db, _fill(db, "2027H1", fill), "部分.xlsx", "2027H1", admin).status == "committed"
    clear = xlsx_bytes([["单位编码", "主题党日次数（次）"], ["C04", "清除"]])
    assert es.commit_upload(db, clear, "撤回.xlsx", "2027H1", admin).status == "committed"

    prog = periods.progress(_p(db, "inspector"), "2027H1", db=db, today=dt.date(2027, 7, 3))
    st = prog.units.set_index("unit")
    n_units = len(services.visible_units(admin, "2027H1", db=db))
    assert len(st) == n_units
    assert st.loc["C02", "status"] == st.loc["C03", "status"] == periods.SUBMITTED  # C7 is not due in H1
    assert st.loc["C01", "status"] == periods.PARTIAL and "主题党日次数" in st.loc["C01", "blank_fields"]
    assert "支委会次数" not in st.loc["C01", "blank_fields"]
    assert st.loc["C04", "status"] == periods.PARTIAL and st.loc["C04", "blank_fields"] == "主题党日次数"
    assert st.loc["X0011", "status"] == periods.NOT_YET and st.loc["X0011", "n_filled"] == 0
    assert list(prog.units["status"].iloc[:2]) == [periods.NOT_YET] * 2  # not yet first
    assert (prog.days_left, prog.counts[periods.SUBMITTED], prog.counts[periods.PARTIAL]) == (7, 2, 2)
    assert prog.counts[periods.NOT_YET] == n_units - 4
    assert prog.deadline_text == "距填报截止还有 7 天（2027-07-10）"
    assert "已逾期 2 天" in periods.progress(admin, "2027H1", db=db, today=dt.date(2027, 7, 12)).deadline_text

    # Staff see their own units only; a leader has no 填报进度.
    staff = _p(db, "staff")
    own = periods.progress(staff, "2027H1", db=db)
    assert set(own.units["unit"]) == set(staff.unit_codes) and len(own.units) > 0
    with pytest.raises(AccessDenied):
        periods.progress(_p(db, "leader"), "2027H1", db=db)

    # The 催报 list: every unit not yet done, nothing else, written formula-safe.
    data = periods.reminder_xlsx(_p(db, "inspector"), "2027H1", db=db, today=dt.date(2027, 7, 3))
    ws = openpyxl.load_workbook(io.BytesIO(data))["催报名单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("单位编码", "单位名称", "所属局", "填报状态")
    listed = {r[0] for r in rows[1:]}
    assert listed == set(st.index) - {"C02", "C03"}
    assert all(r[7] == "2027-07-10" and r[8] == 7 for r in rows[1:])
