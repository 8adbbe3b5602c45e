"""Preview then commit, on SQLite and PostgreSQL: atomic, idempotent per file, history kept, provenance complete."""
from __future__ import annotations

import datetime as dt
import io
import threading

import openpyxl
import pytest
from sqlalchemy import func, insert, select

from data import evidence_service as es
from data import repo, services
from data.accounts import principal_by_name
from data.models import AuditLog, EvidenceValue, OrgUnit, Period, TableVersion, UploadBatch, User
from data.permissions import AccessDenied, NotFound, Principal
from scoring.indicators import default_table, table_to_dict
from tests.fixtures.intake_files import csv_bytes, xlsx_bytes

HEAD5 = ["单位编码", "单位名称", "支委会次数（次）", "读书心得提交率（%）", "专题研究意识形态工作（是/否）",
         "人均培训学时（学时）", "主题党日次数（次）"]


def _p(db, name) -> Principal:
    return principal_by_name(name, db=db)


def _counts(db) -> dict:
    with db.session() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (EvidenceValue, UploadBatch, AuditLog)} | {
            "data_version": s.scalar(select(Period.data_version).where(Period.code == "2026H1"))}


def _current(db, period="2026H1") -> dict[tuple[str, str], float]:
    with db.session() as s:
        p = repo.get_period(s, period)
        ev = repo.evidence_frame(s, p.id)
    return {(u, f): v for u, f, v in zip(ev["unit"], ev["field"], ev["value"])}


def bare_period(db, n_units: int) -> Principal:
    """A 2026H1 period on the default table with ``n_units`` units and one admin; no evidence."""
    table = default_table()
    with db.session() as s:
        tv = TableVersion(version="2026", title=table.title, content=table_to_dict(table))
        s.add(tv)
        s.flush()
        s.add(Period(code="2026H1", kind="H1", year=2026, start_date=dt.date(2026, 1, 1),
                     end_date=dt.date(2026, 6, 30), status="填报中", table_version_id=tv.id, data_version=1))
        s.execute(insert(OrgUnit), [dict(code=f"U{i:04d}", name=f"测试县局第{i}党支部", kind="党支部", level="县",
                                         category="县局支部", bureau="测试县局", valid_from=dt.date(2020, 1, 1))
                                    for i in range(1, n_units + 1)])
        u = User(username="admin", display_name="管理员", password_hash="-", role="admin")
        s.add(u)
        s.flush()
        return Principal(u.id, "admin", "管理员", "admin")


def _fill_template(data: bytes, fill) -> bytes:
    """Open a template with openpyxl and write ``fill(row, code, field, kind)`` into every field cell."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["填报表"]
    table = default_table()
    fields = list(table.evidence_fields)
    for r in range(3, ws.max_row + 1):
        code = ws.cell(r, 1).value
        for j, f in enumerate(fields):
            v = fill(r, code, f, table.fields[f].kind)
            if v is not None:
                ws.cell(r, 3 + j, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- preview

def test_preview_writes_nothing_and_shows_changes_and_score_effect(seeded):
    before = _counts(seeded)
    admin = _p(seeded, "admin")
    data = xlsx_bytes([HEAD5[:3], ["C01", "市局机关第一党支部", 3], ["C02", "市局机关第二党支部", None]])
    pv = es.preview_upload(seeded, data, "填报表.xlsx", "2026H1", admin)
    assert _counts(seeded) == before
    assert pv.report.ok and pv.duplicate_of is None and pv.file_hash == pv.report.file_hash
    assert pv.changes.to_dict("records") == [dict(
        unit="C01", unit_name="市局机关第一党支部", field="committee_meetings", field_label="支委会次数",
        old=6.0, new=3.0, sheet="填报表", row=2, column="C 支委会次数（次）")]
    # C1: 6 → 3 meetings against an H1 target of 6 loses 3 raw points of 80 → −3.75 on the total.
    c01 = pv.score_changes.set_index("unit").loc["C01"]
    assert c01["total_before"] == pytest.approx(82.5) and c01["total_after"] == pytest.approx(78.75)
    assert c01["delta"] == pytest.approx(-3.75)
    assert (c01["grade_before"], c01["grade_after"]) == ("良好", "合格")
    assert c01["rank_after"] >= c01["rank_before"]
    assert list(pv.score_changes.columns) == es.SCORE_CHANGE_COLUMNS
    same = services.score_with_changes("2026H1", pv.report.values, seeded).units.set_index("unit")
    assert same.loc["C01", "total"] == pytest.approx(c01["total_after"])
    assert services.score_period("2026H1", seeded).units.set_index("unit").loc["C01", "total"] == pytest.approx(82.5)


def test_preview_of_a_bad_file_reports_and_writes_nothing(seeded):
    before = _counts(seeded)
    data = xlsx_bytes([HEAD5[:3], ["C01", "市局机关第一党支部", "十二"]])
    pv = es.preview_upload(seeded, data, "bad.xlsx", "2026H1", _p(seeded, "admin").id)
    assert [(i.code.name, i.row, i.column) for i in pv.report.errors] == [("NOT_A_NUMBER", 2, "C")]
    assert pv.score_changes.empty
    assert _counts(seeded) == before


def test_access_refusals_are_issues(seeded):
    data = xlsx_bytes([HEAD5[:3], ["C01", "市局机关第一党支部", 3]])
    leader = es.preview_upload(seeded, data, "a.xlsx", "2026H1", _p(seeded, "leader"))
    assert [i.code.name for i in leader.report.errors] == ["UPLOAD_NOT_ALLOWED"]
    nobody = es.commit_upload(seeded, data, "a.xlsx", "2026H1", None)
    assert nobody.status == "rejected" and nobody.batch_id is None
    unknown = es.preview_upload(seeded, data, "a.xlsx", "2030H1", _p(seeded, "admin"))
    assert [i.code.name for i in unknown.report.errors] == ["UNKNOWN_PERIOD"]
    staff = es.preview_upload(seeded, data, "a.xlsx", "2026H1", _p(seeded, "staff"))
    assert [(i.code.name, i.row) for i in staff.report.errors] == [("UNIT_NOT_ALLOWED", 2)]


def test_staff_template_has_only_their_units(seeded):
    staff = _p(seeded, "staff")
    ws = openpyxl.load_workbook(io.BytesIO(es.template_bytes(seeded, "2026H1", staff)))["填报表"]
    codes = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert codes and set(codes) == set(staff.unit_codes)
    everyone = openpyxl.load_workbook(io.BytesIO(es.template_bytes(seeded, "2026H1")))["填报表"]
    assert everyone.max_row - 2 == 40
    with pytest.raises(AccessDenied):
        es.template_bytes(seeded, "2026H1", _p(seeded, "leader"))
    with pytest.raises(NotFound):
        es.template_bytes(seeded, "2030H1")


def test_template_of_another_period_is_refused(seeded):
    admin = _p(seeded, "admin")
    data = _fill_template(es.template_bytes(seeded, "2025"), lambda r, c, f, k: 1 if k != "percent" else 90)
    res = es.commit_upload(seeded, data, "2025模板.xlsx", "2026H1", admin)
    assert res.status == "rejected"
    assert [i.code.name for i in res.report.errors][:2] == ["WRONG_PERIOD", "WRONG_TABLE_VERSION"]


# --------------------------------------------------------------------------- commit

def test_commit_writes_provenance_supersedes_bumps_and_audits(seeded):
    staff_sj = _p(seeded, "staff_sj")  # answers for C01
    before = _counts(seeded)
    with seeded.session() as s:
        old = s.scalar(select(EvidenceValue).join(OrgUnit, OrgUnit.id == EvidenceValue.unit_id)
                       .join(Period, Period.id == EvidenceValue.period_id).where(
            Period.code == "2026H1", OrgUnit.code == "C01", EvidenceValue.field == "committee_meetings",
            EvidenceValue.superseded_at.is_(None)))
    data = xlsx_bytes([HEAD5[:4], ["C01", "市局机关第一党支部", "７次", 72]])
    res = es.commit_upload(seeded, data, "一支部.xlsx", "2026H1", staff_sj.id)
    assert (res.status, res.n_values, res.n_changed, res.n_units) == ("committed", 2, 1, 1)  # 72 is unchanged
    after = _counts(seeded)
    assert after["EvidenceValue"] == before["EvidenceValue"] + 1
    assert after["UploadBatch"] == before["UploadBatch"] + 1
    assert after["data_version"] == before["data_version"] + 1
    with seeded.session() as s:
        new = s.scalar(select(EvidenceValue).where(EvidenceValue.batch_id == res.batch_id))
        was = s.get(EvidenceValue, old.id)
        batch = s.get(UploadBatch, res.batch_id)
        log = s.scalar(select(AuditLog).where(AuditLog.action == "upload").order_by(AuditLog.id.desc()).limit(1))
    assert (new.field, new.value, new.raw, new.file_name, new.sheet, new.row, new.column, new.uploaded_by) == (
        "committee_meetings", 7.0, "７次", "一支部.xlsx", "填报表", 2, "C 支委会次数（次）", staff_sj.id)
    assert new.superseded_at is None and new.uploaded_at is not None
    assert was.superseded_at is not None and was.superseded_by_id == new.id and was.value == 6.0
    assert (batch.status, batch.user_id, batch.n_values, batch.n_changed, batch.file_format) == (
        "committed", staff_sj.id, 2, 1, "xlsx")
    assert batch.file_hash == res.report.file_hash
    assert (log.username, log.entity_id, log.period_code) == ("staff_sj", str(res.batch_id), "2026H1")
    assert log.after["changed"] == 1 and "values" in log.after
    assert _current(seeded)[("C01", "committee_meetings")] == 7.0
    assert services.score_period("2026H1", seeded).units.set_index("unit").loc["C01", "total"] == pytest.approx(
        82.5 + 0)  # 7 ≥ the H1 target of 6: C1 was already full
    assert "已提交" in es.format_commit(res) and "1 个新增、更新或清除" in es.format_commit(res)


def test_one_bad_row_among_500_commits_nothing_then_all_500_commit(db):
    admin = bare_period(db, 500)
    fields = {"committee_meetings": 2, "theme_days": 3, "reading_rate": 4, "ideology_review": 5,
              "member_training_hours": 6}
    table = default_table()
    order = list(table.evidence_fields)

    def fill(bad: bool):
        def f(r, code, field, kind):
            if field not in fields:
                return None
            if bad and r == 252 and field == "theme_days":
                return "六"
            return {"bool": "是", "percent": 90}.get(kind, (r % 5) + fields[field])
        return f

    template = es.template_bytes(db, "2026H1", admin)
    bad = _fill_template(template, fill(True))
    res = es.commit_upload(db, bad, "全县.xlsx", "2026H1", admin)
    col = chr(ord("A") + 2 + order.index("theme_days"))
    assert res.status == "rejected"
    assert [(i.code.name, i.row, i.column) for i in res.report.errors] == [("NOT_A_NUMBER", 252, col)]
    assert "未写入任何数据" in es.format_commit(res)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(EvidenceValue)) == 0
        rejected = s.get(UploadBatch, res.batch_id)
        assert (rejected.status, rejected.n_values, rejected.n_errors) == ("rejected", 0, 1)
        log = s.scalar(select(AuditLog).where(AuditLog.action == "upload_rejected"))
        assert set(log.after) == {"file_name", "file_hash", "errors", "warnings"}  # no values recorded

    good = _fill_template(template, fill(False))
    res = es.commit_upload(db, good, "全县.xlsx", "2026H1", admin)
    assert (res.status, res.n_units, res.n_values, res.n_changed) == ("committed", 500, 2500, 2500)
    cur = _current(db)
    assert len(cur) == 2500
    assert cur[("U0250", "theme_days")] == (252 % 5) + 3
    assert cur[("U0001", "ideology_review")] == 1.0 and cur[("U0500", "reading_rate")] == 90.0


def test_same_file_twice_commits_once(seeded):
    admin = _p(seeded, "admin")
    data = csv_bytes([HEAD5[:3], ["C02", "市局机关第二党支部", 11]], "gbk")
    first = es.commit_upload(seeded, data, "二支部.csv", "2026H1", admin)
    assert first.status == "committed"
    counts = _counts(seeded)
    again = es.commit_upload(seeded, data, "二支部（副本）.csv", "2026H1", admin)
    assert (again.status, again.batch_id) == ("duplicate", first.batch_id)
    assert _counts(seeded) == counts  # nothing written, not even the version bump
    assert "未重复写入" in es.format_commit(again)
    pv = es.preview_upload(seeded, data, "二支部.csv", "2026H1", admin)
    assert pv.duplicate_of == first.batch_id and pv.changes.empty


def test_an_earlier_file_uploaded_again_puts_its_values_back(seeded):
    """A, then B, then A again: A is not a 'duplicate' any more, because it changes something."""
    admin = _p(seeded, "admin")
    a = csv_bytes([HEAD5[:3], ["C02", "市局机关第二党支部", 5]], "utf-8")
    b = csv_bytes([HEAD5[:3], ["C02", "市局机关第二党支部", 6]], "utf-8")
    assert es.commit_upload(seeded, a, "a.csv", "2026H1", admin).status == "committed"
    assert es.commit_upload(seeded, b, "b.csv", "2026H1", admin).status == "committed"
    pv = es.preview_upload(seeded, a, "a.csv", "2026H1", admin)
    assert pv.duplicate_of is None and len(pv.changes) == 1
    again = es.commit_upload(seeded, a, "a.csv", "2026H1", admin)
    assert (again.status, again.n_changed) == ("committed", 1)
    cur = services.scoring_inputs("2026H1", seeded).evidence
    assert cur[(cur["unit"] == "C02") & (cur["field"] == "committee_meetings")]["value"].tolist() == [5.0]


def test_later_commit_supersedes_field_by_field_and_history_keeps_both(seeded):
    admin = _p(seeded, "admin")
    a = xlsx_bytes([HEAD5, ["C04", "办公室党支部", 7, None, None, None, 5]])
    b = xlsx_bytes([HEAD5[:3], ["C04", "办公室党支部", 8]])
    ra = es.commit_upload(seeded, a, "a.xlsx", "2026H1", admin)
    rb = es.commit_upload(seeded, b, "b.xlsx", "2026H1", admin)
    assert (ra.status, rb.status) == ("committed", "committed") and rb.batch_id > ra.batch_id
    cur = _current(seeded)
    assert cur[("C04", "committee_meetings")] == 8 and cur[("C04", "theme_days")] == 5
    hist = services.evidence_provenance(admin, "C04", "2026H1", db=seeded)
    meetings = hist[hist["field"] == "committee_meetings"]
    assert set(meetings["batch_id"]) >= {ra.batch_id, rb.batch_id}
    assert meetings["superseded_at"].isna().sum() == 1
    with seeded.session() as s:
        row_a = s.scalar(select(EvidenceValue).where(EvidenceValue.batch_id == ra.batch_id,
                                                     EvidenceValue.field == "committee_meetings"))
        row_b = s.scalar(select(EvidenceValue).where(EvidenceValue.batch_id == rb.batch_id))
    assert row_a.superseded_by_id == row_b.id and row_b.superseded_at is None
    assert es.batch_history(seeded, admin, "2026H1")["id"].tolist()[:2] == [rb.batch_id, ra.batch_id]


def test_every_supersede_pointer_names_the_same_values_successor(seeded):
    """superseded_by_id has no FOREIGN KEY (migration 0009): what the constraint guarded is checked here,
    over every evidence row after files that change, clear and put values back."""
    admin = _p(seeded, "admin")
    a = xlsx_bytes([HEAD5, ["C04", "办公室党支部", 7, 80, "是", 12, 5], ["C05", "财务党支部", 3, None, None, None, 2]])
    b = xlsx_bytes([HEAD5[:4], ["C04", "办公室党支部", 8, "清空"], ["C05", "财务党支部", 4, 90]])
    for data, name in ((a, "a.xlsx"), (b, "b.xlsx"), (a, "a.xlsx")):
        assert es.commit_upload(seeded, data, name, "2026H1", admin).status == "committed"
    with seeded.session() as s:
        rows = s.execute(select(EvidenceValue.id, EvidenceValue.period_id, EvidenceValue.unit_id, EvidenceValue.field,
                                EvidenceValue.superseded_at, EvidenceValue.superseded_by_id)).all()
    by_id = {r.id: r for r in rows}
    superseded = [r for r in rows if r.superseded_at is not None]
    assert len(superseded) >= 6
    for r in rows:
        if r.superseded_at is None:
            assert r.superseded_by_id is None
            continue
        nxt = by_id[r.superseded_by_id]
        assert (nxt.period_id, nxt.unit_id, nxt.field) == (r.period_id, r.unit_id, r.field) and nxt.id > r.id
    current = [(r.period_id, r.unit_id, r.field) for r in rows if r.superseded_at is None]
    assert len(current) == len(set(current))  # one current row per value


def test_provenance_for_the_page_keeps_the_newest_rows_per_field_however_many_uploads(seeded):
    admin = _p(seeded, "admin")
    batches = [es.commit_upload(seeded, xlsx_bytes([HEAD5[:3], ["C04", "办公室党支部", v]]), f"f{v}.xlsx",
                                "2026H1", admin) for v in (7, 8, 9, 10)]
    assert all(b.status == "committed" for b in batches)
    full = services.evidence_provenance(admin, "C04", "2026H1", db=seeded)
    short = services.evidence_provenance(admin, "C04", "2026H1", db=seeded, keep=2)
    per_field = full.groupby("field").size()
    assert short.groupby("field").size().to_dict() == per_field.clip(upper=2).to_dict()
    assert short.attrs["older"] == len(full) - len(short) and short.attrs["older"] >= 3
    meetings = short[short["field"] == "committee_meetings"]
    assert meetings["value"].tolist() == [10.0, 9.0] and meetings["superseded_at"].isna().tolist() == [True, False]


def test_concurrent_commits_for_the_same_unit_lose_nothing(seeded):
    admin = _p(seeded, "admin")
    files = {9: xlsx_bytes([HEAD5[:3], ["C05", "人事教育科党支部", 9]]),
             10: xlsx_bytes([HEAD5[:3], ["C05", "人事教育科党支部", 10]])}
    barrier = threading.Barrier(2)
    results: dict[int, es.CommitResult] = {}

    def run(v):
        barrier.wait()
        results[v] = es.commit_upload(seeded, files[v], f"{v}.xlsx", "2026H1", admin)

    threads = [threading.Thread(target=run, args=(v,)) for v in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert {r.status for r in results.values()} == {"committed"}
    later = max(results, key=lambda v: results[v].batch_id)
    earlier = min(results, key=lambda v: results[v].batch_id)
    assert _current(seeded)[("C05", "committee_meetings")] == later
    with seeded.session() as s:
        rows = {r.batch_id: r for r in s.scalars(
            select(EvidenceValue).join(OrgUnit, OrgUnit.id == EvidenceValue.unit_id)
            .join(Period, Period.id == EvidenceValue.period_id)
            .where(Period.code == "2026H1", OrgUnit.code == "C05", EvidenceValue.field == "committee_meetings")).all()}
    first, second = rows[results[earlier].batch_id], rows[results[later].batch_id]
    assert first.superseded_by_id == second.id and second.superseded_at is None
    assert sum(r.superseded_at is None for r in rows.values()) == 1


def test_template_round_trip_commits_exactly_the_values_written(seeded):
    admin = _p(seeded, "admin")
    written: dict[tuple[str, str], float] = {}

    def fill(r, code, field, kind):
        v = {"bool": "是" if r % 2 else "否", "percent": 50 + r}.get(kind, r % 7 + (0.5 if kind == "hours" else 0))
        written[(code, field)] = (1.0 if v == "是" else 0.0) if kind == "bool" else float(v)
        return v

    data = _fill_template(es.template_bytes(seeded, "2026H1", admin), fill)
    pv = es.preview_upload(seeded, data, "模板.xlsx", "2026H1", admin)
    assert pv.report.ok, es.format_issues(pv.report)
    res = es.commit_upload(seeded, data, "模板.xlsx", "2026H1", admin)
    assert res.status == "committed" and res.n_values == len(written) == 40 * 47
    cur = _current(seeded)
    assert {k: cur[k] for k in written} == written


def test_format_issues_lists_errors_first(seeded):
    data = xlsx_bytes([HEAD5[:3] + ["不认识的列"], ["C01", "市局机关第一党支部", "x", 1]])
    text = es.format_issues(es.preview_upload(seeded, data, "f.xlsx", "2026H1", _p(seeded, "admin")).report)
    lines = text.splitlines()
    assert lines[0].startswith("文件「f.xlsx」：读取 1 行") and "有错误，未入库" in lines[0]
    assert lines[1].startswith("[错误] f.xlsx · 填报表 第 2 行 C 列「支委会次数（次）」为「x」")
    assert all(line.startswith("[警告]") for line in lines[2:])


def test_server_side_size_limit_comes_from_the_app_config(seeded):
    from flask import Flask

    app = Flask("limit-test")
    app.config["MAX_UPLOAD_BYTES"] = 1024
    data = xlsx_bytes([HEAD5[:3], ["C01", "市局机关第一党支部", 3]])
    assert len(data) > 1024
    with app.app_context():
        pv = es.preview_upload(seeded, data, "big.xlsx", "2026H1", _p(seeded, "admin"))
        res = es.commit_upload(seeded, data, "big.xlsx", "2026H1", _p(seeded, "admin"))
    assert [i.code.name for i in pv.report.errors] == ["FILE_TOO_LARGE"]
    assert res.status == "rejected"
    assert es.preview_upload(seeded, data, "big.xlsx", "2026H1", _p(seeded, "admin")).report.ok


def test_a_published_period_takes_no_more_evidence_until_reopened(seeded):
    inspector = principal_by_name("inspector", db=seeded)
    data = "单位编码,支委会次数\nC02,6\n".encode("utf-8")
    services.set_period_status(inspector, "2026H1", "已发布", db=seeded)
    result = es.commit_upload(seeded, data, "补报.csv", "2026H1", inspector)
    assert result.status == "rejected"
    assert [i.code.name for i in result.report.errors] == ["PERIOD_PUBLISHED"]
    assert "已发布" in result.report.errors[0].message
    with pytest.raises(services.InvalidInput, match="系统管理员"):  # re-opening is the admin's, with a reason
        services.set_period_status(inspector, "2026H1", "考核中", db=seeded)
    from data import publication
    publication.reopen(principal_by_name("admin", db=seeded), "2026H1", "补报遗漏的数据", db=seeded)
    assert es.commit_upload(seeded, data, "补报.csv", "2026H1", inspector).status == "committed"
