"""Callback × role, with the expected roles written here from the README's role table (not read
from the declarations the decorator enforces), and real inputs that reach the service.

README「角色」table (and the page table where a page names its roles), as used below:
- 局领导: 排名总览、各局对比、支部详情、差距分析、先进推荐、整改台账、指标体系（含模拟测算），只读
- 考核组: 以上全部 + 数据上传、填报进度；在支部详情录入评定分/扣分/不适用、登记和销号整改、回头看、直接定级；
  先进推荐意见；更新考核期状态
- 党务干事: 仅本人负责单位的排名、支部详情、差距、整改台账、填报进度；数据上传（本人单位）；指标体系；本单位自评分
- 系统管理员: 全部页面（不录入评分）+ 数据上传、填报进度、审计日志、系统管理（含重新开放已发布的考核期）、
  组织管理、上传指标体系新版本

On the allowed side a callback must answer 200 with output (204 would mean it returned early)
and, for a write, change the database; on the forbidden side 403 and nothing written. Signed
out, every callback gets 401.
"""
from __future__ import annotations

import datetime as dt

import base64
import json

import pytest
from sqlalchemy import func, select

from data import table_xlsx
from data.models import Adjustment, AuditLog, OrgUnit, Period
from tests.conftest import login
from tests.test_callback_matrix import DASH_INTERNAL, _callbacks, _split_output

L, I, S, A = "leader", "inspector", "staff", "admin"
EVERYONE = {L, I, S, A}
ROW_ACT = '{"item":["ALL"],"type":"branch-row-act"}.n_clicks'  # an item row's action buttons (pattern-matching)
EXPECTED = {  # "module:function" -> roles allowed (from the README), is it a write
    # 排名总览 (every role; staff see their own units): navigation, the grid's server-side blocks, export
    "pages.rankings:_navigate": (EVERYONE, False),
    "pages.rankings:_rows_block": (EVERYONE, False),
    "pages.rankings:_summary": (EVERYONE, False),
    "pages.rankings:_export": (EVERYONE, False),
    "pages.rankings:_publish": ({I}, True),  # 考核组: 更新考核期状态
    # 整改台账 (every role; staff see their own units' items): the grid's server-side blocks
    "pages.rectifications:_rows_block": (EVERYONE, False),
    # Documents are downloads on pages every role sees (排名总览, 支部详情, 整改台账); the services
    # scope them to the staff member's own units, so the role table gives them to every role.
    "pages._documents:_rankings_documents": (EVERYONE, False),
    "pages._documents:_branch_documents": (EVERYONE, False),
    "pages._documents:_rectification_documents": (EVERYONE, False),
    # 各局对比: 局领导、考核组、管理员 (page table and 角色 table; not listed for 党务干事)
    "pages.bureaus:_navigate": ({L, I, A}, False),
    # 组织管理: 系统管理员 only (page table; domain README: admin owns the organisation tree)
    "pages.org:_download": ({A}, False),
    "pages.org:_preview": ({A}, False),
    "pages.org:_commit": ({A}, True),
    "pages.org:_load": ({A}, False),
    "pages.org:_save": ({A}, True),
    "pages.org:_operate": ({A}, True),
    # 填报进度: 考核组、管理员 (all units), 党务干事 (own units); not 局领导
    "pages.progress:_navigate": ({I, S, A}, False),
    "pages.progress:_export": ({I, S, A}, False),
    # 工作量统计 is not named in the 角色 table; the page table gives it no role limit, the same
    # figures are on 排名总览 (every role), and its 反馈单 zip is 「按局或全部单位」 within what the user
    # sees: every role, staff scoped to their units. The zip job writes a file, not the database.
    "pages.summary:_navigate": (EVERYONE, False),
    "pages.summary:_download": (EVERYONE, False),
    "pages.summary:_start_zip": (EVERYONE, False),
    "pages.summary:_poll": (EVERYONE, False),
    # 支部详情: every role reads; 考核组 writes judgements/deductions/整改 (also from an item's own row)
    # and 直接定级 (allow_override: 「考核组可在支部详情页直接定级」); 党务干事 enters 自评分.
    "pages.branch:_change_period": (EVERYONE, False),
    "pages.branch:_withdraw_adjustment": ({I}, True),
    "pages.branch:_save_adjustment": ({I}, True),
    "pages.branch:_rectify": ({I}, True),
    "pages.branch:_save_self": ({S}, True),
    "pages._grade_override:_override": ({I}, True),
    # The in-place refresh after a write re-draws the writer's own forms: it only follows a 考核组
    # write (judgement, 整改, 直接定级) or a 党务干事 自评分, so only that role has one (管理员「不录入评分」).
    "pages.branch:_rerender_for_inspector": ({I}, False),
    "pages.branch:_rerender_for_staff": ({S}, False),
    # An item row's action button opens the 考核组's entry dialog (评定分/扣分/不适用/整改) for that item.
    "pages.branch:_open_row": ({I}, False),
    "pages.branch:_row_save": ({I}, True),
    # 支部详情 · 活动记录: every role reads a unit's records (staff: own units); 党务干事 (own units) and
    # 系统管理员 add, correct and withdraw them (issue 16: 「staff only for their own units, admin any;
    # leaders/inspectors read-only」); loading a record into the form is the first step of a correction.
    "pages._records:_view": (EVERYONE, False),
    "pages._records:_open": (EVERYONE, False),
    "pages._records:_save": ({S, A}, True),
    "pages._records:_withdraw": ({S, A}, True),
    "pages._records:_load_for_edit": ({S, A}, False),
    "pages._records:_after_attachment": (EVERYONE, False),  # re-draws file counts after a 佐证材料 change
    # 数据上传 · 活动记录导入: the same writers as above
    "pages._records_import:_preview": ({S, A}, False),
    "pages._records_import:_commit": ({S, A}, True),
    "pages._records_import:_template": ({S, A}, False),
    # 佐证材料 on 支部详情: whoever uploads data (党务干事 own units, 考核组, 管理员) adds and removes files;
    # 考核组 marks them 已核实 / 不符合 (issue 16: 「an inspector marks an attachment」).
    "pages._attachments:_upload": ({S, I, A}, True),
    "pages._attachments:_delete": ({S, I, A}, True),
    "pages._attachments:_open_review": ({I}, False),
    "pages._attachments:_save_review": ({I}, True),
    # 佐证核查 (无佐证 list, files awaiting review): the inspectors' list, also for 局领导 and 管理员
    "pages.evidence:_navigate": ({L, I, A}, False),
    # 差距分析: every role (staff: own units)
    "pages.gaps:_navigate": (EVERYONE, False),
    "pages.gaps:_turn_page": (EVERYONE, False),
    "pages.gaps:_open": (EVERYONE, False),
    # 先进推荐: 局领导、考核组、管理员 see it; 考核组 gives the 推荐意见
    "pages.candidates:_navigate": ({L, I, A}, False),
    "pages.candidates:_export": ({L, I, A}, False),
    "pages.candidates:_decide": ({I}, True),
    # 数据上传: 党务干事 (own units), 考核组, 管理员
    "pages.upload:_template": ({S, I, A}, False),
    "pages.upload:_navigate": ({S, I, A}, False),
    "pages.upload:_preview": ({S, I, A}, False),
    "pages.upload:_commit": ({S, I, A}, True),
    # 指标体系: every role reads and downloads; 模拟测算 局领导、考核组、管理员; 管理员 uploads a version
    "pages.indicators:_navigate": (EVERYONE, False),
    "pages.indicators:_download": (EVERYONE, False),
    "pages.indicators:_check_upload": ({A}, False),
    "pages.indicators:_save": ({A}, True),
    "pages.indicators:_edit_changes": ({L, I, A}, False),
    "pages.indicators:_what_if": ({L, I, A}, False),
    # 系统管理: 管理员 (users, user import, periods: create, edit dates/deadline/late policy/version);
    # re-opening a published period is 「仅系统管理员，理由必填」 (README, reopen-period).
    "pages.admin:_users": ({A}, True),
    "pages.admin:_periods": ({A}, True),
    "pages.admin:_load_period": ({A}, False),
    "pages.admin:_edit_period": ({A}, True),
    "pages.admin:_reopen": ({A}, True),
    "pages.admin:_users_import_preview": ({A}, False),
    "pages.admin:_users_import_commit": ({A}, True),
}


def _b64(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _principal(db, username: str):
    from data.accounts import get_principal
    from data.models import User

    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
    return get_principal(uid, db)


def _override_period(db) -> str:
    """A period whose table allows 直接定级 (the demo's star-rating scheme, as ``--star-period`` adds it),
    created through the services once per database; the demo's own tables do not allow it."""
    from data import services
    from data.demo import STAR_VERSION, table_star_2026

    if not services.period_exists("2026", db):
        admin = _principal(db, A)
        if not any(v["version"] == STAR_VERSION for v in services.table_versions(db)):
            services.save_table_version(admin, table_xlsx.table_to_dict(table_star_2026()), "矩阵", db=db)
        services.create_period(admin, "2026", STAR_VERSION, db=db)
    return "2026"


def _inputs(name: str, role: str, db, n: int) -> dict:
    """Real values for each ``id.property`` of the callback, as the page would send them."""
    unit = "X0031" if role == S else "C02"  # staff (临河县局) answers for X0031
    key = {"unit": unit, "period": "2026H1"}
    today = dt.date.today().isoformat()
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    if name == "pages._grade_override:_override":
        return {"branch-override-save.n_clicks": 1, "branch-key.data": {"unit": unit, "period": _override_period(db)},
                "branch-override-grade.value": "五星级", "branch-override-reason.value": "年度荣获区级及以上先进基层党组织",
                "branch-refresh.data": 0}
    if name == "pages.summary:_poll":
        # A job of this user's own (the zip's builder replaced by a small file): the poll reads its state.
        from data import jobs

        job = jobs.start(_principal(db, role), "矩阵", lambda progress: ("矩阵.txt", b"ok"))
        return {"summary-job-poll.n_intervals": 1, "summary-job-id.data": job}
    if name.startswith("pages._records"):
        return _record_inputs(name, role, db, n, unit, key)
    if name.startswith("pages._attachments:"):
        return _attachment_inputs(name, unit, key, db)
    with db.session() as s:
        adj = s.scalar(select(Adjustment.id).join(OrgUnit, OrgUnit.id == Adjustment.unit_id)
                       .join(Period, Period.id == Adjustment.period_id)
                       .where(Adjustment.superseded_at.is_(None), Period.code == "2026H1"))
    evidence = _b64(f"单位编码,支委会次数\n{unit},{3 + n % 3}\n".encode())
    from data import services

    table = services.table_for_period("2026H1", db)
    content = table_xlsx.table_to_dict(table)
    content["version"] = f"m{n}"
    from scoring.indicators import parse_table

    xlsx = _b64(table_xlsx.table_to_xlsx(parse_table(content)[0]), "application/octet-stream")
    users = _b64(f"用户名,姓名,角色,负责单位编码\nmatrix{n},矩阵,党务干事,C05\n".encode())
    units = _b64(("单位编码,单位名称,组织类型,上级单位编码,所属局,层级,考核类别,书记,正式党员数,预备党员数,上次换届日期,是否参加考核\n"
                  f"ZM{n},矩阵导入第{n}党支部,党支部,,市局机关,市,市局机关支部,张明,5,0,2024-05-10,否\n").encode())
    h1 = services.get_period_info("2026H1", db)
    return {
        "pages.rankings:_navigate": {"rankings-period.value": "2025", "rankings-tabs.active_tab": "all",
                                     "rankings-bureau.value": "临河县局"},
        "pages.rankings:_rows_block": {"rankings-grid.getRowsRequest": {"startRow": 0, "endRow": 100, "sortModel": [],
                                                                        "filterModel": {}},
                                       "rankings-view.data": {"period": "2026H1", "category": None, "server": True}},
        "pages.rankings:_summary": {"rankings-summary.active_item": "summary", "rankings-period.value": "2026H1"},
        "pages.rectifications:_rows_block": {"rect-grid.getRowsRequest": {"startRow": 0, "endRow": 100, "sortModel": [],
                                                                          "filterModel": {}}},
        "pages.rankings:_export": {"rankings-export.n_clicks": 1, "rankings-grid.virtualRowData": [{"unit": unit}],
                                   "rankings-period.value": "2026H1",
                                   "rankings-view.data": {"period": "2026H1", "category": None, "server": False}},
        "pages.rankings:_publish": {"rankings-status-save.n_clicks": 1, "rankings-period.value": "2026H1",
                                    "rankings-status.value": "考核中"},
        "pages._documents:_rankings_documents": {"rankings-doc-workbook.n_clicks": 1, "rankings-period.value": "2026H1"},
        "pages._documents:_branch_documents": {"branch-doc-feedback-docx.n_clicks": 1, "branch-key.data": key},
        "pages._documents:_rectification_documents": {"rect-doc-register.n_clicks": 1},
        "pages.bureaus:_navigate": {"bureaus-period.value": "2025"},
        "pages.org:_download": {"org-export.n_clicks": 1},
        "pages.org:_preview": {"org-upload.contents": units, "org-upload.filename": "单位名单.csv",
                               "org-close-missing.value": [], "org-effective.value": today},
        "pages.org:_commit": {"org-commit.n_clicks": 1, "org-upload.contents": units, "org-upload.filename": "单位名单.csv",
                              "org-close-missing.value": [], "org-effective.value": today},
        "pages.org:_load": {"org-load.n_clicks": 1, "org-f-code.value": "C02"},
        "pages.org:_save": {"org-unit-save.n_clicks": 1, "org-f-code.value": f"ZS{n}", "org-f-name.value": f"矩阵新增第{n}党支部",
                            "org-f-kind.value": "党支部", "org-f-parent.value": "", "org-f-level.value": "市",
                            "org-f-bureau.value": "市局机关", "org-f-category.value": "市局机关支部",
                            "org-f-secretary.value": "李明", "org-f-full.value": 5, "org-f-prob.value": 0,
                            "org-f-election.value": "2024-05-10", "org-f-assessed.value": "否",
                            "org-f-committee.value": "", "org-effective.value": today},
        "pages.org:_operate": {"org-op-save.n_clicks": 1, "org-op-code.value": "C09", "org-op.value": "rename",
                               "org-op-value.value": f"离退休干部第{n}党支部", "org-op-date.value": today},
        "pages.progress:_navigate": {"progress-period.value": "2025"},
        "pages.progress:_export": {"progress-export.n_clicks": 1, "progress-period-store.data": "2026H1"},
        "pages.summary:_navigate": {"summary-period.value": "2025", "summary-bureau.value": "临河县局"},
        "pages.summary:_download": {"summary-doc-xlsx.n_clicks": 1, "summary-key.data": {"period": "2026H1"}},
        "pages.summary:_start_zip": {"summary-zip-start.n_clicks": 1, "summary-zip-format.value": "docx",
                                     "summary-key.data": {"period": "2026H1", "bureau": "临河县局"}},
        "pages.branch:_change_period": {"branch-period.value": "2025", "branch-key.data": key},
        "pages.branch:_rerender_for_inspector": {"branch-refresh.data": 1, "branch-key.data": key},
        "pages.branch:_rerender_for_staff": {"branch-self-msg.children": "已保存自评分", "branch-key.data": key},
        "pages.branch:_withdraw_adjustment": {"branch-adj-withdraw.n_clicks": 1, "branch-key.data": key,
                                              "branch-adj-withdraw-id.value": str(adj)},
        "pages.branch:_save_adjustment": {"branch-adj-save.n_clicks": 1, "branch-key.data": key,
                                          "branch-adj-item.value": "C1", "branch-adj-kind.value": "deduction",
                                          "branch-adj-points.value": 0.5, "branch-adj-reason.value": "记录缺页"},
        "pages.branch:_rectify": {"branch-rect-add.n_clicks": 1, "branch-key.data": key,
                                  "branch-rect-problem.value": "台账不全", "branch-rect-item.value": "E1",
                                  "branch-rect-deadline.value": due},
        "pages.branch:_open_row": {ROW_ACT: [{"id": {"type": "branch-row-act", "item": "C1"}, "property": "n_clicks",
                                              "value": 1}], "branch-key.data": key},
        "pages.branch:_row_save": {"branch-row-save.n_clicks": 1, "branch-key.data": key, "branch-row-item.data": "C2",
                                   "branch-row-kind.value": "deduction", "branch-row-points.value": 0.5,
                                   "branch-row-reason.value": "会议记录不全"},
        "pages.branch:_save_self": {"branch-self-save.n_clicks": 1, "branch-key.data": key,
                                    "branch-self-item.value": "C1", "branch-self-points.value": 3,
                                    "branch-self-note.value": "自评"},
        "pages.evidence:_navigate": {"evidence-period.value": "2026H1", "evidence-bureau.value": "临河县局"},
        "pages.gaps:_navigate": {"gaps-period.value": "2025", "gaps-by.value": "bureau", "gaps-sort.value": "gap"},
        "pages.gaps:_turn_page": {"gaps-page.active_page": 2, "gaps-period-store.data": "2026H1",
                                  "gaps-view-store.data": {"by": "unit"}},
        "pages.gaps:_open": {"gaps-heatmap.clickData": {"points": [{"customdata": unit, "x": "A"}]},
                             "gaps-period-store.data": "2026H1"},
        "pages.candidates:_navigate": {"candidates-period.value": "2025"},
        "pages.candidates:_export": {"candidates-export.n_clicks": 1, "candidates-period-store.data": "2025"},
        "pages.candidates:_decide": {"candidates-save.n_clicks": 1, "candidates-period-store.data": "2026H1",
                                     "candidates-unit.value": "C02", "candidates-decision.value": "推荐",
                                     "candidates-note-input.value": "表现突出"},
        "pages.upload:_template": {"upload-template.n_clicks": 1, "upload-period-store.data": "2026H1"},
        "pages.upload:_navigate": {"upload-period.value": "2025"},
        "pages.upload:_preview": {"upload-file.contents": evidence, "upload-file.filename": "a.csv",
                                  "upload-period-store.data": "2026H1"},
        "pages.upload:_commit": {"upload-commit.n_clicks": 1, "upload-file.contents": evidence,
                                 "upload-file.filename": "a.csv", "upload-period-store.data": "2026H1"},
        "pages.indicators:_navigate": {"indicators-period.value": "2025"},
        "pages.indicators:_download": {"indicators-download-btn.n_clicks": 1, "indicators-period-store.data": "2026H1"},
        "pages.indicators:_check_upload": {"indicators-upload.contents": xlsx, "indicators-upload.filename": "t.xlsx",
                                           "indicators-period-store.data": "2026H1"},
        "pages.indicators:_save": {"indicators-save.n_clicks": 1, "indicators-upload.contents": xlsx,
                                   "indicators-upload.filename": "t.xlsx", "indicators-note.value": "矩阵"},
        "pages.indicators:_edit_changes": {"indicators-whatif-add.n_clicks": 1, "indicators-whatif-changes.data": [],
                                           "indicators-whatif-grade.value": "优秀", "indicators-whatif-min.value": 95},
        "pages.indicators:_what_if": {"indicators-whatif-run.n_clicks": 1, "indicators-period-store.data": "2026H1",
                                      "indicators-whatif-grade.value": "优秀", "indicators-whatif-min.value": 95},
        "pages.admin:_users": {"admin-new-save.n_clicks": 1, "admin-new-username.value": f"matrix_u{n}",
                               "admin-new-name.value": "矩阵", "admin-new-role.value": "leader",
                               "admin-new-units.value": "", "admin-new-password.value": "Matrix-User-Pass-1"},
        "pages.admin:_periods": {"admin-period-save.n_clicks": 1, "admin-period-code.value": f"20{30 + n}",
                                 "admin-period-version.value": "2026"},
        "pages.admin:_load_period": {"admin-edit-period.value": "2026H1"},
        # A deadline that differs per call, so each allowed call really changes the period.
        "pages.admin:_edit_period": {"admin-edit-save.n_clicks": 1, "admin-edit-period.value": "2026H1",
                                     "admin-edit-start.value": h1.start_date.isoformat(),
                                     "admin-edit-end.value": h1.end_date.isoformat(),
                                     "admin-edit-deadline.value": (h1.end_date + dt.timedelta(days=1 + n)).isoformat(),
                                     "admin-edit-version.value": h1.table_version, "admin-edit-late.value": "warn"},
        "pages.admin:_reopen": {"admin-reopen-save.n_clicks": 1, "admin-reopen-period.value": "2025",
                                "admin-reopen-reason.value": "C02 扣分有误"},
        "pages.admin:_users_import_preview": {"admin-users-upload.contents": users,
                                             "admin-users-upload.filename": "u.csv"},
        "pages.admin:_users_import_commit": {"admin-users-import-commit.n_clicks": 1,
                                            "admin-users-upload.contents": users, "admin-users-upload.filename": "u.csv"},
    }[name]


def _record_inputs(name: str, role: str, db, n: int, unit: str, key: dict) -> dict:
    """A record of the unit to open, correct or withdraw (added by the CLI operator, before the count)."""
    from data import activity_records as ar

    rid = ar.add_record(None, unit, ar.RecordInput("谈心谈话", dt.date(2026, 3, 1 + n % 28), f"矩阵准备{n}"), db=db)
    records = _b64(f"单位编码,活动类型,日期,主题\n{unit},支委会,2026-02-{1 + n % 28:02d},矩阵导入{n}\n".encode())
    return {
        "pages._records:_view": {"records-refresh.data": 1, "branch-key.data": key},
        "pages._records:_after_attachment": {"branch-attach-msg.children": "已上传「照片.png」",
                                             "records-refresh.data": 1, "branch-key.data": key},
        "pages._records:_open": {'{"id":["ALL"],"type":"records-open"}.n_clicks': [
            {"id": {"type": "records-open", "id": rid}, "property": "n_clicks", "value": 1}], "branch-key.data": key},
        "pages._records:_save": {"records-save.n_clicks": 1, "branch-key.data": key, "records-f-type.value": "党课",
                                 "records-f-date.value": f"2026-04-{1 + n % 28:02d}", "records-f-topic.value": f"矩阵{n}",
                                 "records-f-expected.value": 10, "records-f-attended.value": 9,
                                 "records-f-lectured.value": ["yes"]},
        "pages._records:_withdraw": {"records-withdraw.n_clicks": 1, "records-detail-id.data": rid,
                                     "records-withdraw-reason.value": "矩阵误录", "branch-key.data": key},
        "pages._records:_load_for_edit": {"records-edit.n_clicks": 1, "records-detail-id.data": rid,
                                          "branch-key.data": key},
        "pages._records_import:_preview": {"records-import-file.contents": records,
                                           "records-import-file.filename": "r.csv",
                                           "upload-period-store.data": "2026H1"},
        "pages._records_import:_commit": {"records-import-commit.n_clicks": 1, "records-import-file.contents": records,
                                          "records-import-file.filename": "r.csv", "upload-period-store.data": "2026H1"},
        "pages._records_import:_template": {"records-import-template.n_clicks": 1},
    }[name]


ATTACH_DEL = '{"id":["ALL"],"type":"branch-attach-del"}.n_clicks'
ATTACH_REVIEW = '{"id":["ALL"],"type":"branch-attach-review"}.n_clicks'


def _attachment_inputs(name: str, unit: str, key: dict, db) -> dict:
    """A fresh file on the role's unit (made by 考核组 through the service) for delete and review."""
    from PIL import Image

    from data import attachments

    buf = __import__("io").BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(buf, "PNG")
    png = buf.getvalue()
    if name == "pages._attachments:_upload":
        return {"branch-attach-upload.contents": _b64(png, "image/png"), "branch-attach-upload.filename": "照片.png",
                "branch-attach-target.value": "item:C1", "branch-key.data": key}
    aid = attachments.attach_to_item(_principal(db, I), "2026H1", unit, "C1", "矩阵.png", png, db=db)
    if name == "pages._attachments:_delete":
        return {ATTACH_DEL: [{"id": {"type": "branch-attach-del", "id": aid}, "property": "n_clicks", "value": 1}],
                "branch-key.data": key}
    if name == "pages._attachments:_open_review":
        return {ATTACH_REVIEW: [{"id": {"type": "branch-attach-review", "id": aid}, "property": "n_clicks",
                                 "value": 1}], "branch-key.data": key}
    return {"branch-attach-review-bad.n_clicks": 1, "branch-attach-review-id.data": aid,
            "branch-attach-review-note.value": "签到表缺少签名", "branch-key.data": key}


def _name(cb) -> str:
    fn = cb["callback"]
    fn = getattr(fn, "__wrapped__", fn)
    return f"{fn.__module__}:{fn.__name__}"


def _payload(key, cb, values: dict) -> dict:
    def spec(items):
        out = []
        for i in items:
            name = f"{i['id']}.{i['property']}"
            if i["id"].startswith("{"):  # a pattern-matching (ALL) input: the list of matched components
                out.append(values.get(name) or [])
            else:
                out.append({"id": i["id"], "property": i["property"], "value": values.get(name)})
        return out
    inputs = spec(cb["inputs"])
    changed = []
    for i in inputs:  # the first input given a value is the one that changed (a click, an upload...)
        if isinstance(i, list) and i:
            changed = [json.dumps(i[0]["id"], sort_keys=True, separators=(",", ":")) + "." + i[0]["property"]]
        elif isinstance(i, dict) and i["value"] is not None:
            changed = [f"{i['id']}.{i['property']}"]
        if changed:
            break
    return {"output": key, "outputs": _split_output(key), "inputs": inputs, "state": spec(cb.get("state", [])),
            "changedPropIds": changed}


def _ours(flask_app):
    return {key: cb for key, cb in _callbacks(flask_app).items()
            if "callback" in cb and not any(m in key for m in DASH_INTERNAL)}


def _writes(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditLog))


def test_the_table_names_every_callback(flask_app):
    assert sorted(_name(cb) for cb in _ours(flask_app).values()) == sorted(EXPECTED)


@pytest.mark.parametrize("role", [L, I, S, A])
def test_callback_role_matrix_from_the_readme(flask_app, client, app_db, role):
    login(client, role)
    problems = []
    for n, (key, cb) in enumerate(_ours(flask_app).items()):
        name = _name(cb)
        allowed, write = EXPECTED[name]
        payload = _payload(key, cb, _inputs(name, role, app_db, n))  # before counting: it may set up data
        before = _writes(app_db)
        resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        after = _writes(app_db)
        if role in allowed:
            if resp.status_code != 200:
                problems.append(f"{name}: {role} allowed but got {resp.status_code}")
            elif write and after == before:
                problems.append(f"{name}: {role} allowed but nothing was written: {resp.get_data(as_text=True)[:200]}")
        else:
            if resp.status_code != 403:
                problems.append(f"{name}: {role} forbidden but got {resp.status_code}")
            if after != before:
                problems.append(f"{name}: forbidden call by {role} wrote to the database")
    assert problems == []


def test_signed_out_every_callback_gets_401(flask_app, client, app_db):
    callbacks = _ours(flask_app)
    for n, (key, cb) in enumerate(callbacks.items()):
        resp = client.post("/_dash-update-component",
                           data=json.dumps(_payload(key, cb, _inputs(_name(cb), A, app_db, n))),
                           content_type="application/json")
        assert resp.status_code == 401, _name(cb)
    assert len(callbacks) == len(EXPECTED)
