"""The organisation tree in the database: preview vs commit, atomicity, rename/merge/close history by
period, participation, moves, export round trip, and the 各局对比 and 局 filter views."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from data import bureaus, org, org_edit, services
from data.models import AuditLog, EvidenceValue, OrgUnit, UnitName, User, UserUnit
from data.permissions import AccessDenied, Principal
from data.services import InvalidInput
from tests.fixtures.org_files import BUREAUS, unit_rows, xlsx

LEADER = Principal(id=0, username="leader", display_name="局领导", role="leader")
JAN1 = dt.date(2026, 1, 1)


def _admin(db) -> Principal:
    """The demo's admin, or a new one in an empty database (audit rows name a real user)."""
    from data.accounts import create_user, principal_by_name

    p = principal_by_name("admin", db)
    if p is None:
        create_user("admin", "Zhuguan@2026-xy", "admin", db=db)
        p = principal_by_name("admin", db)
    return p


def _n(db, model, *where) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _export_rows(db, **changes) -> list[list]:
    """The stored units as 单位名单 rows (via export-units), with ``changes[code] = {header: value}``."""
    wb = openpyxl.load_workbook(io.BytesIO(org.export_bytes(None, db=db)))
    ws = wb.active
    head = [c.value for c in ws[1]]
    rows = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        rec = dict(zip(head, row))
        rec.update(changes.get(rec["单位编码"], {}))
        rows.append([rec[h] if rec[h] is not None else "" for h in head])
    return rows


# --------------------------------------------------------------------------- import

def test_preview_writes_nothing_and_commit_writes_everything_with_one_audit_row(db):
    ADMIN = _admin(db)
    rows = unit_rows()
    data = xlsx(rows)
    pv = org.preview_units(ADMIN, data, "单位名单.xlsx", db=db, effective=JAN1)
    assert pv.ok and pv.counts["new"] == len(rows) >= 100
    assert _n(db, OrgUnit) == 0 and _n(db, AuditLog, AuditLog.action == "units_import") == 0
    done = org.commit_units(ADMIN, data, "单位名单.xlsx", db=db, effective=JAN1)
    assert done.counts == pv.counts
    assert _n(db, OrgUnit) == len(rows) and _n(db, UnitName) == len(rows)
    with db.session() as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "units_import")).all()
        assert len(audits) == 1 and audits[0].after["counts"]["new"] == len(rows)
        # Three levels: a 党支部 under a 党总支 under a 党委, in the 局 of the file.
        leaf = s.scalar(select(OrgUnit).where(OrgUnit.code == "B02Z103"))
        mid = s.get(OrgUnit, leaf.parent_id)
        top = s.get(OrgUnit, mid.parent_id)
        assert (leaf.kind, mid.kind, top.kind, top.parent_id) == ("党支部", "党总支", "党委", None)
        assert leaf.bureau == mid.bureau == top.bureau == "临河县局"
    # The same file again changes nothing and writes no second audit row.
    again = org.commit_units(ADMIN, data, "单位名单.xlsx", db=db, effective=JAN1)
    assert again.changes.empty and again.unchanged == len(rows)
    assert _n(db, AuditLog, AuditLog.action == "units_import") == 1


def test_one_bad_row_means_nothing_is_written(sqlite_db):
    ADMIN = _admin(sqlite_db)
    rows = unit_rows()
    rows[57][8] = "十二"  # one non-integer member count among 126 good rows
    pv = org.commit_units(ADMIN, xlsx(rows), "单位名单.xlsx", db=sqlite_db, effective=JAN1)
    assert not pv.ok
    assert [(i.code.name, i.row, i.column) for i in pv.report.errors] == [("NOT_INTEGER", 57 + 4, "I")]
    assert _n(sqlite_db, OrgUnit) == 0 and _n(sqlite_db, UnitName) == 0
    assert _n(sqlite_db, AuditLog, AuditLog.action == "units_import") == 0


def test_only_an_admin_imports(sqlite_db):
    with pytest.raises(AccessDenied):
        org.preview_units(LEADER, xlsx(unit_rows()), "u.xlsx", db=sqlite_db)
    with pytest.raises(AccessDenied):
        org_edit.rename_unit(LEADER, "C01", "x", db=sqlite_db)
    assert _n(sqlite_db, OrgUnit) == 0


def test_preview_lists_new_renamed_moved_updated_and_closed(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    rows = _export_rows(db, C01={"单位名称": "市局机关第一党支部（新）"}, C02={"正式党员数": 99})
    rows = [r for r in rows if r[0] != "C04"]
    rows.append(["C99", "市局机关新党总支", "党总支", "", "市局机关", "市", "市局机关支部", "", 10, 0, "", "是", ""])
    rows = [r if r[0] != "C05" else [*r[:3], "C99", *r[4:]] for r in rows]
    pv = org.preview_units(ADMIN, xlsx(rows), "u.xlsx", close_missing=True, db=db, effective=JAN1)
    assert pv.ok, pv.report.errors
    got = {(r.change, r.code) for r in pv.changes.itertuples()}
    assert got == {("new", "C99"), ("rename", "C01"), ("update", "C02"), ("close", "C04"), ("move", "C05")}
    assert "原名「市局机关第一党支部」" in pv.changes.set_index("code").loc["C01", "detail"]
    # Without the complete-list flag nothing closes.
    pv = org.preview_units(ADMIN, xlsx(rows), "u.xlsx", db=db, effective=JAN1)
    assert "close" not in set(pv.changes["change"])


# --------------------------------------------------------------------------- history by period

def test_a_rename_keeps_the_old_name_in_old_periods(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    old = services.score_period("2025", db).unit("C01")["name"]
    rows = _export_rows(db, C01={"单位名称": "市局机关第一党支部（机关党建示范点）"})
    org.commit_units(ADMIN, xlsx(rows), "u.xlsx", db=db, effective=JAN1)
    assert services.score_period("2025", db).unit("C01")["name"] == old == "市局机关第一党支部"
    assert services.score_period("2026H1", db).unit("C01")["name"] == "市局机关第一党支部（机关党建示范点）"
    ranking = services.rankings(ADMIN, "2025", db=db).set_index("unit")
    assert ranking.loc["C01", "name"] == old
    history = org.name_history(ADMIN, "C01", db=db)
    assert [(h["name"], h["valid_to"]) for h in history] == [
        (old, dt.date(2025, 12, 31)), ("市局机关第一党支部（机关党建示范点）", None)]
    # The page's rename: a second name from mid-2026 leaves 2026H1 (ends 30 June) on the first new name.
    org_edit.rename_unit(ADMIN, "C01", "第一党支部（第三个名字）", dt.date(2026, 7, 1), db=db)
    assert services.score_period("2026H1", db).unit("C01")["name"] == "市局机关第一党支部（机关党建示范点）"
    assert services.score_period("2025", db).unit("C01")["name"] == old


def test_a_rename_reaches_every_worker_of_an_open_period_but_not_a_published_one(seeded_sqlite):
    """Org changes give open periods a new data version: another worker (another Database on the same
    file, with its own memory) must not keep serving the result stored before the rename."""
    from data.db import Database

    db = seeded_sqlite
    ADMIN = _admin(db)
    other = Database(db.url)
    try:
        before_2025 = services.score_period("2025", other).unit("C01")["name"]
        assert services.score_period("2026H1", other).unit("C01")["name"] == "市局机关第一党支部"
        org_edit.rename_unit(ADMIN, "C01", "第一党支部（新名）", dt.date(2026, 1, 1), db=db)
        assert services.score_period("2026H1", other).unit("C01")["name"] == "第一党支部（新名）"
        assert services.score_period("2025", other).unit("C01")["name"] == before_2025  # published: frozen
    finally:
        other.dispose()


def test_a_merge_keeps_both_histories_and_closes_the_merged_unit(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    evidence_before = _n(db, EvidenceValue)
    c02_2025 = services.score_period("2025", db).unit("C02")["total"]
    with db.session() as s:
        staff_sj = s.scalar(select(User).where(User.username == "staff_sj"))
        c02 = s.scalar(select(OrgUnit).where(OrgUnit.code == "C02"))
        s.add(UserUnit(user_id=staff_sj.id, unit_id=c02.id))
    org_edit.merge_units(ADMIN, "C02", "C01", JAN1, db=db)
    # 2025 still has both units with their own evidence and score; 2026H1 has only the unit merged into.
    res_2025 = services.score_period("2025", db)
    assert res_2025.unit("C02")["total"] == c02_2025 and res_2025.unit("C01")
    assert services.score_period("2026H1", db).unit("C02") in (None, {}) and services.score_period("2026H1", db).unit("C01")
    assert _n(db, EvidenceValue) == evidence_before
    with db.session() as s:
        c02 = s.scalar(select(OrgUnit).where(OrgUnit.code == "C02"))
        c01 = s.scalar(select(OrgUnit).where(OrgUnit.code == "C01"))
        assert c02.valid_to == dt.date(2025, 12, 31) and c02.merged_into_id == c01.id
        assert s.scalar(select(AuditLog).where(AuditLog.action == "unit_merge")).after["merged_into"] == "C01"
    with pytest.raises(InvalidInput, match="撤销或合并"):
        org_edit.rename_unit(ADMIN, "C02", "再改名", db=db)


def test_a_unit_that_does_not_take_part_is_not_in_that_periods_ranking(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    rows = _export_rows(db, X0011={"是否参加考核": "否"})
    org.commit_units(ADMIN, xlsx(rows), "u.xlsx", db=db, effective=JAN1)
    assert "X0011" not in set(services.rankings(ADMIN, "2026H1", db=db)["unit"])
    assert "X0011" in set(services.rankings(ADMIN, "2025", db=db)["unit"])
    org_edit.close_unit(ADMIN, "X0012", JAN1, db=db)
    assert "X0012" not in set(services.score_period("2026H1", db).units["unit"])
    assert "X0012" in set(services.score_period("2025", db).units["unit"])


# --------------------------------------------------------------------------- one unit at a time

def test_add_edit_move_and_categories(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    org_edit.save_unit(ADMIN, dict(code="x0900", name="临河县局党委", kind="党委", bureau="临河县局", level="县",
                              assessed=False), db=db)
    org_edit.save_unit(ADMIN, dict(code="X0901", name="临河县局新党支部", kind="党支部", parent="X0900", bureau="临河县局",
                              level="县", category="县局支部", members_full=8, has_committee=True), db=db)
    with pytest.raises(InvalidInput, match="上级单位属于「临河县局」"):
        org_edit.save_unit(ADMIN, dict(code="X0902", name="错挂支部", kind="党支部", parent="X0900", bureau="青山县局",
                                  level="县", category="县局支部"), db=db)
    org_edit.save_unit(ADMIN, dict(code="X0901", secretary="赵六"), db=db)  # an edit keeps the other fields
    table = org.units_table(ADMIN, db=db).set_index("code")
    assert table.loc["X0901", "secretary"] == "赵六" and table.loc["X0901", "parent"] == "X0900"
    assert table.loc["X0901", "members_full"] == 8
    # Moving a 党委 with its 支部 to another 局 takes the 局 along.
    org_edit.save_unit(ADMIN, dict(code="Q0900", name="青山县局党委", kind="党委", bureau="青山县局", level="县",
                              assessed=False), db=db)
    with pytest.raises(InvalidInput, match="循环"):
        org_edit.move_unit(ADMIN, "X0900", "X0900", db=db)
    with pytest.raises(InvalidInput, match="不能管辖"):
        org_edit.move_unit(ADMIN, "X0900", "Q0900", db=db)
    org_edit.move_unit(ADMIN, "X0901", "Q0900", db=db)
    assert org.units_table(ADMIN, db=db).set_index("code").loc["X0901", "bureau"] == "青山县局"
    n = org_edit.rename_category(ADMIN, "县局支部", "县（区）局支部", db=db)
    assert n == int((org.units_table(ADMIN, db=db)["category"] == "县（区）局支部").sum()) > 20
    with pytest.raises(InvalidInput, match="下级单位"):
        org_edit.close_unit(ADMIN, "Q0900", dt.date(2026, 7, 1), db=db)


def test_export_round_trips_and_neutralises_formulas(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    org_edit.rename_unit(ADMIN, "C06", "=HYPERLINK(\"http://x\")", JAN1, db=db)
    data = org.export_bytes(None, db=db)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    names = [c.value for c in ws["B"]]
    assert "'=HYPERLINK(\"http://x\")" in names and not any(str(n).startswith("=") for n in names)
    pv = org.preview_units(ADMIN, xlsx(_export_rows(db)), "u.xlsx", db=db, effective=JAN1)
    assert pv.ok and pv.changes.empty
    assert pv.unchanged == _n(db, OrgUnit, OrgUnit.valid_to.is_(None))
    template = openpyxl.load_workbook(io.BytesIO(org.template_bytes()))
    assert [c.value for c in template["单位名单"][1]][:12] == [
        "单位编码", "单位名称", "组织类型", "上级单位编码", "所属局", "层级", "考核类别", "书记", "正式党员数", "预备党员数",
        "上次换届日期", "是否参加考核"]


def test_unit_tree_nests_局_党委_党总支_党支部(sqlite_db):
    ADMIN = _admin(sqlite_db)
    org.commit_units(ADMIN, xlsx(unit_rows()), "u.xlsx", db=sqlite_db, effective=JAN1)
    tree = org.unit_tree(ADMIN, db=sqlite_db)
    assert [b["bureau"] for b in tree][0] == "市局机关" and {b["bureau"] for b in tree} == set(BUREAUS)
    linhe = next(b for b in tree if b["bureau"] == "临河县局")
    assert linhe["count"] == 14 and [u["code"] for u in linhe["units"]] == ["B02"]
    party = linhe["units"][0]
    assert [c["code"] for c in party["children"]] == ["B02Z1", "B02Z2", "B02D"]
    assert len(party["children"][0]["children"]) == 5


# --------------------------------------------------------------------------- views

def test_bureau_comparison_agrees_with_the_engine(seeded_sqlite):
    db = seeded_sqlite
    out = bureaus.bureau_comparison(LEADER, "2026H1", db=db)
    df = out["rows"].set_index("bureau")
    res = services.score_period("2026H1", db).units
    units = services.scoring_inputs("2026H1", db).units.set_index("unit")["bureau"]
    res = res.assign(bureau=res["unit"].map(units))
    assert set(df.index) == set(res["bureau"])
    for b, g in res.groupby("bureau"):
        assert df.loc[b, "units"] == len(g)
        assert abs(df.loc[b, "average"] - g["total"].mean()) < 1e-9
        for grade in out["grades"]:
            assert df.loc[b, f"grade:{grade}"] == int((g["grade"] == grade).sum())
    with pytest.raises(AccessDenied):
        bureaus.bureau_comparison(Principal(id=0, username="s", display_name="s", role="staff"), "2026H1", db=db)


def test_change_from_the_last_period_of_the_same_kind(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    services.create_period(ADMIN, "2027", "2026", db=db)  # no demo activity record in 2027
    empty = bureaus.bureau_comparison(LEADER, "2027", db=db)
    assert empty["previous"] == "2025" and empty["rows"].empty  # 尚无数据: no 局 row before any upload
    from data import evidence_service
    from data.accounts import principal_by_name

    codes = services.scoring_inputs("2025", db).units["unit"].tolist()
    csv = ("单位编码,支委会次数\n" + "".join(f"{u},{5 + i % 7}\n" for i, u in enumerate(codes))).encode()
    done = evidence_service.commit_upload(db, csv, "2027.csv", "2027", principal_by_name("inspector", db))
    assert done.status == "committed", evidence_service.format_commit(done)
    out = bureaus.bureau_comparison(LEADER, "2027", db=db)
    assert out["previous"] == "2025" and len(out["rows"]) == len(set(services.scoring_inputs("2027", db).units["bureau"]))
    df = out["rows"].set_index("bureau")
    prev = services.score_period("2025", db).units
    units = services.scoring_inputs("2025", db).units.set_index("unit")["bureau"]
    prev_avg = prev.assign(b=prev["unit"].map(units)).groupby("b")["total"].mean()
    for b in df.index:
        assert abs(df.loc[b, "delta"] - (df.loc[b, "average"] - prev_avg[b])) < 1e-9


def test_rankings_filter_by_bureau(seeded_sqlite):
    ADMIN = _admin(seeded_sqlite)
    db = seeded_sqlite
    full = services.rankings(ADMIN, "2026H1", db=db)
    linhe = services.rankings(ADMIN, "2026H1", db=db, bureau="临河县局")
    units = services.scoring_inputs("2026H1", db).units
    assert set(linhe["unit"]) == set(units.loc[units["bureau"] == "临河县局", "unit"]) and 0 < len(linhe) < len(full)
    # Ranks are those of the whole period, not re-numbered within the 局.
    assert (linhe.set_index("unit")["rank"] == full.set_index("unit").loc[linhe["unit"], "rank"]).all()
    assert "临河县局" in services.bureaus_of("2026H1", db)
