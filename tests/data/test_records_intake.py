"""The activity-record import: every problem class by row and column, formats and aliases, duplicates,
scope, and one atomic commit with provenance (demo: 2025 已发布, 2026H1 考核中)."""
from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from data import activity_records as ar
from data import records_intake as ri
from data.accounts import principal_by_name
from data.intake.records import RecordIssueCode, parse_date
from data.models import ActivityRecord, AuditLog, Period, UploadBatch

OURS = ["单位编码", "单位名称", "活动类型", "日期", "主题", "地点", "应到人数", "实到人数", "主持人/主讲人",
        "是否书记讲党课", "备注"]
# A typical 智慧党建 app export: a title line, no unit column, its own header words.
APP = ["序号", "会议类型", "召开时间", "会议主题", "会议地点", "主持人", "应参会人数", "参会人数", "备注"]


def xlsx(headers, rows, title=None, sheet="活动记录") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(headers, rows, encoding="gbk") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding)


def xls(headers, rows) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    for c, h in enumerate(headers):
        ws.write(0, c, h)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write(r, c, v, date_style)
            elif v is not None:
                ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _n(db, model=ActivityRecord) -> int:
    """Rows written by these tests (the demo's own seed batches and records left out)."""
    with db.session() as s:
        if model is ActivityRecord:
            return s.scalar(select(func.count()).select_from(ActivityRecord).where(ActivityRecord.created_at
                                                                                   > dt.datetime(2026, 8, 1)))
        return s.scalar(select(func.count()).select_from(model).where(model.status != "seed"))


def _codes(report):
    return {(i.code, i.row, i.column) for i in report.issues}


@pytest.mark.parametrize("raw, expected", [
    ("2026-03-05", dt.date(2026, 3, 5)), ("2026/3/5", dt.date(2026, 3, 5)), ("2026年3月5日", dt.date(2026, 3, 5)),
    ("2026.3.5", dt.date(2026, 3, 5)), ("2026-03-05 14:30", dt.date(2026, 3, 5)), ("２０２６年３月５日", dt.date(2026, 3, 5)),
    ("20260305", dt.date(2026, 3, 5)), (46086, dt.date(2026, 3, 5)), (dt.datetime(2026, 3, 5, 9), dt.date(2026, 3, 5)),
    ("2026年3月5日下午", dt.date(2026, 3, 5)),
    ("2026-02-30", None), ("3月5日", None), ("下周一", None), (3.5, None), ("26-3-5", None),
])
def test_date_formats(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("2023年6月", dt.date(2023, 6, 1)), ("2023-06", dt.date(2023, 6, 1)), ("2023/6", dt.date(2023, 6, 1)),
    ("2024-05-10", dt.date(2024, 5, 10)), ("2024年5月10日", dt.date(2024, 5, 10)), (45422, dt.date(2024, 5, 10)),
    ("2023年13月", None), ("6月", None),
])
def test_a_month_alone_is_a_date_only_where_dates_are_kept_by_month(raw, expected):
    """The unit list's 换届时间 (data/intake/units.py) takes 「2023年6月」; an activity record needs its day."""
    assert parse_date(raw, month=True) == expected
    if raw in ("2023年6月", "2023-06", "2023/6"):
        assert parse_date(raw) is None


def test_every_problem_class_is_named_by_row_and_column(seeded_sqlite):
    db = seeded_sqlite
    rows = [
        ["C01", "市局机关第一党支部", "支委会", "2026-03-05", "正常", "", 7, 6, "", "", ""],          # 3 ok
        ["C01", "市局机关第一党支部", "茶话会", "2026-03-06", "", "", 7, 6, "", "", ""],              # 4 type
        ["C01", "市局机关第一党支部", "支委会", "2026-13-01", "", "", 7, 6, "", "", ""],              # 5 date
        ["C01", "市局机关第一党支部", "支委会", "2026-08-01", "", "", 7, 6, "", "", ""],              # 6 outside
        ["C01", "市局机关第一党支部", "支委会", "2026-03-07", "", "", "七", 6, "", "", ""],           # 7 people
        ["C01", "市局机关第一党支部", "支委会", "2026-03-08", "", "", 7, 9, "", "", ""],              # 8 over
        ["ZZ9", "", "支委会", "2026-03-09", "", "", 7, 6, "", "", ""],                              # 9 unit
        ["C01", "市局机关第二党支部", "支委会", "2026-03-10", "", "", 7, 6, "", "", ""],              # 10 mismatch
        ["C01", "市局机关第一党支部", "", "", "", "", 7, 6, "", "", ""],                              # 11 blanks
        ["C01", "市局机关第一党支部", "支委会", "2026-03-05", "正常", "", 7, 6, "", "", ""],          # 12 dup of 3
        ["C01", "市局机关第一党支部", "党课", "2026-03-11", "", "", 7, 6, "", "也许", ""],            # 13 bool
        ["C01", "市局机关第一党支部", "党课", "2026-03-12", "题" * 201, "", 7, 6, "", "", ""],         # 14 long
        ["C01", "市局机关第一党支部", "党课", "2026-03-13", "", "", None, 6, "", "", ""],             # 15 no 应到
        ["C01", "市局机关第一党支部", "支委会", "2027-01-01", "", "", 7, 6, "", "", ""],              # 16 future
    ]
    report = ri.preview_records(None, xlsx(OURS, rows, title="2026 年活动记录"), "记录.xlsx", "2026H1", db=db)
    C = RecordIssueCode
    expected = {(C.BAD_TYPE, 4, "C"), (C.BAD_DATE, 5, "D"), (C.OUT_OF_PERIOD, 6, "D"), (C.NOT_INTEGER, 7, "G"),
                (C.ATTENDED_OVER, 8, "H"), (C.UNKNOWN_UNIT, 9, "A"), (C.UNIT_MISMATCH, 10, "B"),
                (C.MISSING_VALUE, 11, "C"), (C.MISSING_VALUE, 11, "D"), (C.DUPLICATE_ROW, 12, "D"),
                (C.NOT_A_BOOL, 13, "J"), (C.TOO_LONG, 14, "E"), (C.ATTENDED_WITHOUT_EXPECTED, 15, "H"),
                (C.FUTURE_DATE, 16, "D")}
    assert _codes(report) == expected
    msgs = {(i.row, i.column): i.message for i in report.issues}
    assert msgs[(4, "C")].startswith("记录.xlsx · 活动记录 第 4 行 C 列「活动类型」为「茶话会」")
    assert "2026-01-01 至 2026-06-30" in msgs[(6, "D")]
    assert "与第 3 行" in msgs[(12, "D")]
    assert not report.ok and len(report.rows) == 1  # only row 3 was clean
    before = _n(db)
    report, batch = ri.commit_records(None, xlsx(OURS, rows), "记录.xlsx", "2026H1", db=db)
    assert batch is None and not report.ok and _n(db) == before and _n(db, UploadBatch) == 0


def test_app_export_with_aliases_gbk_csv_and_default_unit(seeded_sqlite):
    db = seeded_sqlite
    rows = [[1, "支部委员会会议", "2026年1月8日", "研究一月工作", "302 会议室", "王建国", 7, 7, ""],
            [2, "党员大会", "2026/3/26", "一季度党员大会", "大会议室", "王建国", 25, 21, ""],
            [3, "主题党日活动", "2026.4.10", "清明祭扫", "烈士陵园", "李海燕", 25, 24, ""],
            [4, "讲党课", "2026-05-20 15:00", "党的二十大精神", "大会议室", "王建国", 25, 23, "书记讲"]]
    data = csv_bytes(APP, rows, "gbk")
    refused = ri.preview_records(None, data, "app.csv", "2026H1", db=db)
    assert _codes(refused) == {(RecordIssueCode.MISSING_COLUMN, 0, "")}
    assert "单位编码" in refused.issues[0].message
    report, batch = ri.commit_records(None, data, "app.csv", "2026H1", default_unit="C02", db=db)
    assert report.ok and batch is not None, [i.message for i in report.issues]
    with db.session() as s:
        got = s.execute(select(ActivityRecord.activity_type, ActivityRecord.held_on, ActivityRecord.attended,
                               ActivityRecord.row, ActivityRecord.file_name, ActivityRecord.batch_id)
                        .where(ActivityRecord.batch_id == batch).order_by(ActivityRecord.row)).all()
    assert [(t, d, a) for t, d, a, *_ in got] == [
        ("支委会", dt.date(2026, 1, 8), 7), ("支部党员大会", dt.date(2026, 3, 26), 21),
        ("主题党日", dt.date(2026, 4, 10), 24), ("党课", dt.date(2026, 5, 20), 23)]
    assert [r for _t, _d, _a, r, _f, _b in got] == [2, 3, 4, 5]
    assert {(f, b) for *_x, f, b in got} == {("app.csv", batch)}


def test_xls_with_excel_dates(seeded_sqlite):
    db = seeded_sqlite
    data = xls(["单位名称", "类型", "活动日期", "实到人数", "应到人数"],
               [["市局机关第二党支部", "支委会", dt.date(2026, 2, 3), 6, 7],
                ["市局机关第二党支部", "党小组会", dt.date(2026, 2, 4), 5, 5]])
    report = ri.preview_records(None, data, "旧格式.xls", "2026H1", db=db)
    assert report.ok, [i.message for i in report.issues]
    assert list(report.rows["held_on"]) == [dt.date(2026, 2, 3), dt.date(2026, 2, 4)]
    assert list(report.rows["unit"]) == ["C02", "C02"]


def test_reimporting_the_same_export_skips_what_is_recorded(seeded_sqlite):
    db = seeded_sqlite
    rows = [["C03", "", "支委会", "2026-01-09", "一月", "", 7, 7, "", "", ""]]
    assert ri.commit_records(None, xlsx(OURS, rows), "a.xlsx", "2026H1", db=db)[1] is not None
    more = rows + [["C03", "", "支委会", "2026-02-09", "二月", "", 7, 7, "", "", ""]]
    report, batch = ri.commit_records(None, xlsx(OURS, more), "b.xlsx", "2026H1", db=db)
    assert batch is not None and len(report.rows) == 1 and report.n_skipped == 1
    assert [i.code for i in report.warnings] == [RecordIssueCode.ALREADY_RECORDED]
    assert _n(db) == 2
    report, batch = ri.commit_records(None, xlsx(OURS, more), "c.xlsx", "2026H1", db=db)
    assert batch is None and report.ok and report.n_skipped == 2 and _n(db) == 2


def test_commit_is_atomic_with_batch_provenance_audit_and_bump(seeded):
    db = seeded
    with db.session() as s:
        v0 = s.scalar(select(Period.data_version).where(Period.code == "2026H1"))
    rows = [["C04", "", "支委会", f"2026-0{m}-15", f"{m} 月支委会", "", 7, 7, "", "", ""] for m in range(1, 7)]
    report, batch = ri.commit_records(principal_by_name("admin", db), xlsx(OURS, rows), "全年.xlsx", "2026H1",
                                      db=db)
    assert report.ok and batch is not None
    with db.session() as s:
        b = s.get(UploadBatch, batch)
        assert (b.file_format, b.status, b.n_values) == ("records", "committed", 6)
        recs = s.scalars(select(ActivityRecord).where(ActivityRecord.batch_id == batch)).all()
        assert sorted(r.row for r in recs) == [2, 3, 4, 5, 6, 7] and {r.sheet for r in recs} == {"活动记录"}
        assert s.scalar(select(Period.data_version).where(Period.code == "2026H1")) == v0 + 1
        a = s.scalars(select(AuditLog).where(AuditLog.action == "records_import")).one()
        assert a.after["records"] == 6 and a.username == "admin"
    # One bad row anywhere: nothing of the file is written.
    rows2 = [r[:] for r in rows]
    rows2 = [["C05"] + r[1:] for r in rows2]
    rows2[4][7] = 99
    report, batch = ri.commit_records(None, xlsx(OURS, rows2), "坏.xlsx", "2026H1", db=db)
    assert batch is None and [(i.row, i.column) for i in report.errors] == [(6, "H")]
    assert _n(db) == 6


def test_scope_published_and_role_refusals(seeded_sqlite):
    db = seeded_sqlite
    staff = principal_by_name("staff", db)
    own = sorted(staff.unit_codes)[0]
    rows = [[own, "", "支委会", "2026-03-05", "", "", 7, 7, "", "", ""],
            ["C01", "", "支委会", "2026-03-05", "", "", 7, 7, "", "", ""]]
    report = ri.preview_records(staff, xlsx(OURS, rows), "s.xlsx", "2026H1", db=db)
    assert _codes(report) == {(RecordIssueCode.UNIT_NOT_ALLOWED, 3, "A")}
    for role in ("leader", "inspector"):
        r = ri.preview_records(principal_by_name(role, db), xlsx(OURS, rows[:1]), "s.xlsx", "2026H1", db=db)
        assert [i.code for i in r.errors] == [RecordIssueCode.REFUSED]
    r, batch = ri.commit_records(None, xlsx(OURS, [["C01", "", "支委会", "2025-03-05", "", "", 7, 7, "", "", ""]]),
                                 "old.xlsx", "2025", db=db)
    assert batch is None and "考核结果已发布" in r.errors[0].message
    r = ri.preview_records(None, xlsx(OURS, rows), "x.xlsx", "2031", db=db)
    assert "不存在" in r.errors[0].message
    assert _n(db) == 0


def test_header_not_found_and_unreadable(seeded_sqlite):
    db = seeded_sqlite
    r = ri.preview_records(None, xlsx(["单位", "数量"], [["a", 1]]), "x.xlsx", "2026H1", db=db)
    assert [i.code for i in r.errors] == [RecordIssueCode.HEADER_NOT_FOUND] and "活动类型" in r.errors[0].message
    r = ri.preview_records(None, b"", "empty.xlsx", "2026H1", db=db)
    assert [i.code for i in r.errors] == [RecordIssueCode.UNREADABLE]


def test_records_counted_after_import_match_the_listing(seeded_sqlite):
    db = seeded_sqlite
    admin = principal_by_name("admin", db)
    def counts():
        c = ar.record_counts_by_unit(admin, "2026H1", db=db)
        return {t: r for u, t, r in c.itertuples(index=False) if u == "C06"}

    before = counts()
    rows = [["C06", "", t, d, "导入", "", 10, 9, "", "", ""]
            for t, d in (("支委会", "2026-01-05"), ("支委会", "2026-02-05"), ("谈心谈话", "2026-02-06"))]
    ri.commit_records(admin, xlsx(OURS, rows), "x.xlsx", "2026H1", db=db)
    after = counts()
    assert after.get("支委会", 0) - before.get("支委会", 0) == 2 and after["谈心谈话"] - before.get("谈心谈话", 0) == 1
    assert {t: after[t] for t in before if t not in ("支委会", "谈心谈话")} == \
        {t: v for t, v in before.items() if t not in ("支委会", "谈心谈话")}
