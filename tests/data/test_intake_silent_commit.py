"""Issue 13 items 1–7 and issue 18 (column letters past Z) through preview and commit on the demo:
what the database holds afterwards is what the file says, or nothing is written and the user is told."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from data import evidence_service as es
from data import periods, repo, services
from data.accounts import principal_by_name
from data.intake.normalise import column_letter
from data.models import EvidenceValue, OrgUnit, Period
from scoring.indicators import default_table
from tests.fixtures.intake_files import with_cells_xml, xlsx_bytes

HEAD = ["单位编码", "单位名称", "支委会次数（次）", "专题研究意识形态工作（是/否）", "考学参考率（%）"]
TABLE = default_table()
FIELDS = list(TABLE.evidence_fields)


def _p(db, name):
    return principal_by_name(name, db=db)


def _current(db, period="2026H1") -> dict[tuple[str, str], float]:
    with db.session() as s:
        ev = repo.evidence_frame(s, repo.get_period(s, period).id)
    return {(u, f): v for u, f, v in zip(ev["unit"], ev["field"], ev["value"])}


def _n_evidence(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(EvidenceValue))


def _template_filled_with_current(db, edit=None) -> bytes:
    """The period's template, filled with the values the system holds now (a clean, correct file)."""
    cur = _current(db)
    wb = openpyxl.load_workbook(io.BytesIO(es.template_bytes(db, "2026H1")))
    ws = wb["填报表"]
    for r in range(3, ws.max_row + 1):
        code = ws.cell(r, 1).value
        for j, f in enumerate(FIELDS):
            v = cur.get((code, f))
            if v is not None:
                ws.cell(r, 3 + j, v)
    if edit:
        edit(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- 5. warnings

def test_a_clean_filled_template_of_the_demo_gives_three_warnings(seeded_sqlite):
    db = seeded_sqlite
    pv = es.preview_upload(db, _template_filled_with_current(db), "干净的模板.xlsx", "2026H1", _p(db, "admin"))
    assert pv.report.errors == []
    # Compared with 2025 (annual, counts halved): 集中学习次数 1 against 6 (C08), 党员信息差错 and 台账问题
    # 8/6 and 5/10 against 0.5/3. Each field is one warning naming its units; small counts (both
    # under 5) and fields that cannot be put on one scale across a half year and a year are not compared.
    assert len(pv.report.warnings) == 3
    assert {w.code.name for w in pv.report.warnings} == {"FAR_FROM_LAST"}
    labels = sorted(w.message.split("：", 1)[0] for w in pv.report.warnings)
    assert labels == sorted(["集中学习次数", "党员信息差错", "台账问题"])
    assert all("个单位与上期（2025 年度，次数和学时按半年折算）差异较大" in w.message for w in pv.report.warnings)


# --------------------------------------------------------------------------- 6. clearing a value

def test_a_clear_supersedes_the_old_value_with_a_stored_clear_and_provenance(seeded):
    db = seeded
    staff_sj = _p(db, "staff_sj")  # answers for C01
    assert _current(db)[("C01", "committee_meetings")] == 6.0
    exam = _current(db)[("C01", "exam_rate")]
    data = xlsx_bytes([HEAD, ["C01", "市局机关第一党支部", "清除", None, exam]])
    pv = es.preview_upload(db, data, "撤回.xlsx", "2026H1", staff_sj)
    assert pv.report.ok
    change = pv.changes.set_index("field").loc["committee_meetings"]
    assert change["old"] == 6.0 and change["new"] != change["new"]  # NaN: shown as 「（清除）」
    # The preview's score is the one the commit will give: C1 becomes 缺报.
    c01 = pv.score_changes.set_index("unit").loc["C01"]
    assert c01["total_after"] < c01["total_before"]
    before = _n_evidence(db)
    res = es.commit_upload(db, data, "撤回.xlsx", "2026H1", staff_sj)
    assert res.status == "committed" and res.n_changed == 1  # the rate was already the value
    assert _n_evidence(db) == before + 1
    with db.session() as s:
        rows = s.scalars(select(EvidenceValue).join(OrgUnit, OrgUnit.id == EvidenceValue.unit_id).where(
            OrgUnit.code == "C01", EvidenceValue.field == "committee_meetings",
            EvidenceValue.period_id == select(Period.id).where(Period.code == "2026H1").scalar_subquery())
            .order_by(EvidenceValue.id)).all()
        current = [r for r in rows if r.superseded_at is None]
        assert len(current) == 1
        clear = current[0]
        assert (clear.value, clear.raw, clear.file_name, clear.sheet, clear.row, clear.column, clear.uploaded_by) == (
            None, "清除", "撤回.xlsx", "填报表", 2, "C 支委会次数（次）", staff_sj.id)
        old = [r for r in rows if r.superseded_by_id == clear.id]
        assert len(old) == 1 and old[0].value == 6.0  # history kept
    assert ("C01", "committee_meetings") not in _current(db)
    score = services.score_period("2026H1", db)
    assert score.units.set_index("unit").loc["C01", "total"] == pytest.approx(c01["total_after"])
    # Clearing again changes nothing and writes nothing.
    again = es.commit_upload(db, xlsx_bytes([HEAD[:3], ["C01", "", "/"]]), "再撤回.xlsx", "2026H1", staff_sj)
    assert again.n_changed == 0 and _n_evidence(db) == before + 1
    # A blank cell keeps a value: the upload page says so.
    assert "空白单元格保持原值" in es.format_commit(res)


# --------------------------------------------------------------------------- 2, 3, 4 through the service

def test_an_error_value_is_refused_and_the_old_value_stays(seeded_sqlite):
    db = seeded_sqlite
    data = with_cells_xml(xlsx_bytes([HEAD[:3], ["C01", "", 9]]),
                          {"C2": '<c r="C2" t="e"><f>C9/0</f><v>#DIV/0!</v></c>'})
    res = es.commit_upload(db, data, "错误值.xlsx", "2026H1", _p(db, "admin"))
    assert res.status == "rejected" and [i.code.name for i in res.report.errors] == ["EXCEL_ERROR"]
    assert _current(db)[("C01", "committee_meetings")] == 6.0


def test_a_merged_yes_over_two_units_is_stored_for_both(seeded_sqlite):
    db = seeded_sqlite
    rows = [HEAD[:4], ["C01", "", None, "否"], ["C02", "", None, None]]
    for unit in ("C01", "C02"):  # make the merged value a change for both
        assert _current(db).get((unit, "ideology_review")) is not None
    res = es.commit_upload(db, xlsx_bytes(rows, merged=("D2:D3",)), "合并.xlsx", "2026H1", _p(db, "admin"))
    assert res.status == "committed"
    cur = _current(db)
    assert cur[("C01", "ideology_review")] == 0.0 and cur[("C02", "ideology_review")] == 0.0


def test_a_blank_template_sent_back_is_not_a_success(seeded_sqlite):
    db = seeded_sqlite
    blank = es.template_bytes(db, "2026H1")
    res = es.commit_upload(db, blank, "空模板.xlsx", "2026H1", _p(db, "admin"))
    assert res.status == "rejected" and [i.code.name for i in res.report.errors] == ["NO_DATA"]


# --------------------------------------------------------------------------- deadline (issue 12 item 4)

def test_an_upload_after_the_deadline_is_warned_or_refused_as_the_period_says(seeded_sqlite):
    db = seeded_sqlite
    admin = _p(db, "admin")
    yesterday = dt.date.today() - dt.timedelta(days=1)
    periods.update_period(admin, "2026H1", deadline=yesterday, late_policy="warn", db=db)
    data = xlsx_bytes([HEAD[:3], ["C01", "", 7]])
    pv = es.preview_upload(db, data, "晚了.xlsx", "2026H1", admin)
    late = [(i.code.name, i.severity.name) for i in pv.report.issues if i.code.name != "MISSING_COLUMN"]
    assert late == [("LATE_UPLOAD", "WARNING")] and pv.report.ok
    assert f"已于 {yesterday.isoformat()} 截止" in pv.report.issues[0].message
    assert es.commit_upload(db, data, "晚了.xlsx", "2026H1", admin).status == "committed"
    periods.update_period(admin, "2026H1", late_policy="refuse", db=db)
    before = _n_evidence(db)
    res = es.commit_upload(db, xlsx_bytes([HEAD[:3], ["C01", "", 8]]), "更晚.xlsx", "2026H1", admin)
    assert res.status == "rejected" and [i.code.name for i in res.report.errors] == ["LATE_UPLOAD"]
    assert "不再接收上传" in res.report.errors[0].message and _n_evidence(db) == before
    periods.update_period(admin, "2026H1", deadline=dt.date.today(), db=db)  # the deadline day itself is on time
    assert all(i.code.name == "MISSING_COLUMN" for i in es.preview_upload(db, data, "准时.xlsx", "2026H1",
                                                                         admin).report.issues)


# --------------------------------------------------------------------------- issue 18: columns past Z

def test_an_error_past_column_z_names_its_letter_and_the_stored_provenance_keeps_it(seeded_sqlite):
    db = seeded_sqlite
    admin = _p(db, "admin")
    last = FIELDS[-1]                      # the template's 49th column
    letter = column_letter(2 + len(FIELDS) - 1)
    assert (len(FIELDS) + 2, letter) == (49, "AW")
    header = TABLE.fields[last].header
    col_aa = FIELDS[24]                    # the 27th column: AA (an off-by-one gives BA or Z)
    assert column_letter(2 + 24) == "AA"

    def bad(ws):
        assert ws.cell(1, 49).value == header and ws.cell(1, 27).value == TABLE.fields[col_aa].header
        ws.cell(3, 49, "十二")
        ws.cell(4, 27, "很多")

    pv = es.preview_upload(db, _template_filled_with_current(db, bad), "坏.xlsx", "2026H1", admin)
    errs = [(i.row, i.column, i.header) for i in pv.report.errors]
    assert errs == [(3, "AW", header), (4, "AA", TABLE.fields[col_aa].header)]
    assert f"第 3 行 AW 列「{header}」为「十二」" in pv.report.errors[0].message

    def good(ws):  # fix the cells: a changed value in AW, one in AA
        ws.cell(3, 49, "是")
        ws.cell(4, 27, 1)

    res = es.commit_upload(db, _template_filled_with_current(db, good), "好.xlsx", "2026H1", admin)
    assert res.status == "committed"
    with db.session() as s:
        stored = {(r.field, r.row): r.column for r in s.scalars(
            select(EvidenceValue).where(EvidenceValue.batch_id == res.batch_id))}
    assert stored[(last, 3)] == f"AW {header}"
    assert stored[(col_aa, 4)] == f"AA {TABLE.fields[col_aa].header}"


# --------------------------------------------------------------------------- 7. a judgement not due

def test_an_entry_on_an_item_not_due_in_the_period_is_kept_and_warned(seeded_sqlite):
    db = seeded_sqlite
    inspector = _p(db, "inspector")
    before = services.score_period("2026H1", db).units.set_index("unit").loc["C02", "total"]
    services.set_adjustment(inspector, "2026H1", "C02", "G2", "judgement", 4, "现场评定", db=db)
    msg = periods.not_due_warning("2026H1", "G2", db=db)
    assert "G2 业务工作实绩" in msg and "年度考核指标" in msg and "不会计入" in msg
    assert services.score_period("2026H1", db).units.set_index("unit").loc["C02", "total"] == before
    assert periods.not_due_warning("2026", "G2", db=db) is None
    assert periods.not_due_warning("2026H1", "C1", db=db) is None
