"""One whole assessment round through the CLI on an empty database, step by step, in the order an
office works (issue 12, 'Done means', first bullet):

init-db → import-units → import-users → create-period (with a deadline) → export-template →
import-evidence → score → publish-period; then every write path is refused on the published period,
and ``score --period P`` stays byte-identical while another period gets evidence and 整改 items.

Each step is a function over one ``Round`` (the app, the database, a work directory and what earlier
steps produced), run in the order of ``STEPS``. To extend the round, write a step and put it in ``STEPS``.

Service calls appear only where the CLI has no command for the action (the inspectors' 整改 items and
the write paths checked after publication); everything the issue names as a command runs as one.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from data import periods, services
from data.accounts import principal_by_name
from data.intake.units import parse_units
from data.models import (Adjustment, AuditLog, CandidateDecision, EvidenceValue, OrgUnit, Period, Publication,
                         Rectification, SelfAssessment, TableVersion, UploadBatch, User)
from data.passwords import check as password_problems
from scoring.indicators import table_to_dict
from scoring.rules import manual_range
from tests.cli_helpers import empty_database, run
from tests.fixtures.org_files import unit_rows, xlsx

PERIOD = "2026"
LATER = "2027"            # the next period, whose changes must not move PERIOD once it is published
TABLE = "2026"            # the shipped default indicator table, stored by init-db
ADMIN_PASSWORD = "Round@2026-zhuguan"
PUBLISHED_TEXT = "考核结果已发布"
# The accounts of the round: username -> (姓名, 角色 as the office writes it, 负责单位编码)
USERS = {
    "zhang.wei": ("张伟", "党务干事", ["B02Z101", "B02Z102"]),
    "li.na": ("李娜", "考核组", []),
    "wang.qiang": ("王强", "局领导", []),
}
STAFF, INSPECTOR = "zhang.wei", "li.na"
WRITE_TABLES = (EvidenceValue, UploadBatch, Adjustment, SelfAssessment, Rectification, CandidateDecision,
                AuditLog, Publication, TableVersion)


@dataclass
class Round:
    app: object
    db: object
    work: Path
    units_file: Path | None = None
    assessed: list[str] = field(default_factory=list)   # codes of the units that take part
    passwords: dict[str, str] = field(default_factory=dict)  # username -> current password
    deadline: dt.date | None = None
    template: Path | None = None
    evidence: Path | None = None
    committee: dict[str, int] = field(default_factory=dict)  # code -> 支委会次数 written in the file
    rect_open: int | None = None      # a 整改 item of PERIOD still open at publication
    rect_closed: int | None = None    # one 已销号 before publication
    published_score: bytes = b""      # `score --period P` printed, then the --out csv, right after publishing

    def cli(self, *args: str, env: dict | None = None):
        res = run(self.app, *args, env=env)
        assert res.exit_code == 0, f"flask {' '.join(args)} failed:\n{res.output}"
        return res.output

    def principal(self, username: str):
        return principal_by_name(username, self.db)


def _counts(db) -> dict:
    """Rows of every table a write path could touch, plus the period rows themselves."""
    out = {m.__tablename__: services.count_rows(m, db) for m in WRITE_TABLES}
    with db.session() as s:
        out["periods"] = [(p.code, p.status, p.data_version, p.table_version_id, p.deadline)
                          for p in s.scalars(select(Period).order_by(Period.code))]
    return out


def _score_bytes(r: Round, period: str) -> bytes:
    """What `score --period P` gives: the printed table and the written csv, byte for byte."""
    printed = run(r.app, "score", "--period", period)
    assert printed.exit_code == 0, printed.output
    out_file = r.work / f"score-{period}-{len(list(r.work.glob('score-*')))}.csv"
    r.cli("score", "--period", period, "--out", str(out_file))
    return printed.output.encode("utf-8") + b"\n--csv--\n" + out_file.read_bytes()


def _fill_committee(template: Path, header: str, value_of) -> tuple[bytes, dict[str, int]]:
    """The template with 支委会次数 filled in for every unit row; returns the xlsx bytes and what was written."""
    wb = openpyxl.load_workbook(template)
    ws = wb["填报表"]
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value == header)
    written = {}
    for row in range(3, ws.max_row + 1):
        code = ws.cell(row, 1).value
        if code:
            written[code] = value_of(len(written))
            ws.cell(row, col, written[code])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), written


def _csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


# --------------------------------------------------------------------------- the round

def step_init_db(r: Round) -> None:
    out = r.cli("init-db", env={"DANGJIAN_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert "已创建管理员账号 admin" in out and "已写入默认指标体系" in out
    assert [v["version"] for v in services.table_versions(r.db)] == [TABLE]
    assert services.periods(r.db) == []


def step_import_units(r: Round) -> None:
    rows = unit_rows()
    r.units_file = r.work / "单位名单.xlsx"
    r.units_file.write_bytes(xlsx(rows))
    report = parse_units(r.units_file.read_bytes(), r.units_file.name)
    r.assessed = sorted(report.rows.loc[report.rows["assessed"].astype(bool), "code"])
    assert len(report.rows) >= 100 and set(report.rows["kind"]) == {"党委", "党总支", "党支部"}
    dry = r.cli("import-units", str(r.units_file), "--dry-run", "--effective", "2026-01-01")
    assert "试运行" in dry and services.count_rows(OrgUnit, r.db) == 0
    out = r.cli("import-units", str(r.units_file), "--effective", "2026-01-01")
    assert f"已导入：{len(rows)} 个单位；新增 {len(rows)} 个" in out
    assert services.count_rows(OrgUnit, r.db) == len(rows)


def step_import_users(r: Round) -> None:
    """Accounts in bulk; initial passwords to a file; a new user must change it at first sign-in."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["用户名", "姓名", "角色", "负责单位编码"])
    for username, (name, role, codes) in USERS.items():
        ws.append([username, name, role, "、".join(codes)])
    users_file = r.work / "账号.xlsx"
    wb.save(users_file)
    pw_file = r.work / "初始密码.csv"
    out = r.cli("import-users", str(users_file), "--passwords-out", str(pw_file))
    assert f"已创建 {len(USERS)} 个账号" in out
    assert pw_file.stat().st_mode & 0o077 == 0  # only the owner can read it
    r.passwords = dict(csv.reader(io.StringIO(pw_file.read_text(encoding="utf-8-sig"))))
    assert r.passwords.pop("用户名") == "初始密码" and set(r.passwords) == set(USERS)
    for username, pw in r.passwords.items():
        assert pw not in out                                   # shown in the file only, not on the screen
        assert password_problems(pw, username) == []
        p = r.principal(username)
        assert p.must_change_password and p.unit_codes == frozenset(USERS[username][2])
    roles = {u: r.principal(u).role for u in USERS}
    assert roles == {STAFF: "staff", INSPECTOR: "inspector", "wang.qiang": "leader"}

    # First sign-in of the 党务干事 through the web: straight to /password, nothing else until changed.
    client = r.app.test_client()
    resp = client.post("/login", data={"username": STAFF, "password": r.passwords[STAFF],
                                       "csrf_token": _csrf(client, "/login")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/password")
    assert client.get("/").headers.get("Location", "").endswith("/password")
    assert client.get("/rankings").headers.get("Location", "").endswith("/password")
    new_pw = "西城 支部 二〇二六 填报 用"
    assert password_problems(new_pw, STAFF) == []
    resp = client.post("/password", data={"current": r.passwords[STAFF], "new": new_pw, "confirm": new_pw,
                                          "csrf_token": _csrf(client, "/password")})
    assert resp.status_code == 200 and "密码已修改" in resp.get_data(as_text=True)
    r.passwords[STAFF] = new_pw
    assert not r.principal(STAFF).must_change_password
    assert client.get("/").status_code == 200   # two units: the ranking, no longer /password


def step_create_period(r: Round) -> None:
    r.deadline = dt.date.today() + dt.timedelta(days=30)
    out = r.cli("create-period", PERIOD, "--table", TABLE, "--deadline", r.deadline.isoformat())
    assert f"已新建考核期 {PERIOD}" in out and r.deadline.isoformat() in out
    info = services.get_period_info(PERIOD, r.db)
    assert info.table_version == TABLE and info.status == "填报中"
    with r.db.session() as s:
        assert s.scalar(select(Period.deadline).where(Period.code == PERIOD)) == r.deadline
    # The staff member's scope is their own units only, in the period as on the account.
    staff = r.principal(STAFF)
    assert set(services.visible_units(staff, PERIOD, r.db)["unit"]) == set(USERS[STAFF][2])
    assert len(services.visible_units(r.principal(INSPECTOR), PERIOD, r.db)) == len(r.assessed)


def step_export_template(r: Round) -> None:
    r.template = r.work / "填报模板.xlsx"
    r.cli("export-template", "--period", PERIOD, str(r.template))
    ws = openpyxl.load_workbook(r.template)["填报表"]
    codes = [ws.cell(row, 1).value for row in range(3, ws.max_row + 1) if ws.cell(row, 1).value]
    assert sorted(codes) == r.assessed  # every unit that takes part, and no 党委 that does not
    own = r.work / "填报模板-张伟.xlsx"
    r.cli("export-template", "--period", PERIOD, "--user", STAFF, str(own))
    ws = openpyxl.load_workbook(own)["填报表"]
    mine = [ws.cell(row, 1).value for row in range(3, ws.max_row + 1) if ws.cell(row, 1).value]
    assert sorted(mine) == sorted(USERS[STAFF][2])


def step_import_evidence(r: Round) -> None:
    """Fill 支委会次数 only, differently per unit (4–12); every other field stays blank for everyone."""
    header = services.table_for_period(PERIOD, r.db).fields["committee_meetings"].header
    data, r.committee = _fill_committee(r.template, header, lambda i: 4 + 2 * (i % 5))
    r.evidence = r.work / "填报表.xlsx"
    r.evidence.write_bytes(data)
    out = r.cli("import-evidence", str(r.evidence), "--period", PERIOD)
    assert f"{len(r.assessed)} 个单位" in out
    # The inspectors' 整改 items of the period (no CLI for them): one stays open, one is 已销号.
    inspector = r.principal(INSPECTOR)
    due = dt.date.today() + dt.timedelta(days=30)
    r.rect_open = services.add_rectification(inspector, PERIOD, r.assessed[0], "组织生活会记录不全", due, db=r.db)
    r.rect_closed = services.add_rectification(inspector, PERIOD, r.assessed[1], "党费收缴台账缺页", due, db=r.db)
    services.update_rectification(inspector, r.rect_closed, "close", "已补齐台账", db=r.db)


def step_score(r: Round) -> None:
    out_file = r.work / "结果.csv"
    r.cli("score", "--period", PERIOD, "--out", str(out_file))
    df = pd.read_csv(out_file, encoding="utf-8-sig", dtype={"单位编码": str})
    assert sorted(df["单位编码"]) == r.assessed
    # Everything but 支委会次数 is the same for every unit, so the total can only rise with it:
    # equal counts → equal totals, more meetings → a total at least as high.
    df["meetings"] = df["单位编码"].map(r.committee)
    by = df.groupby("meetings")["总分"]
    assert (by.nunique() == 1).all()
    totals = by.first().sort_index()
    assert totals.is_monotonic_increasing and totals.iloc[-1] > totals.iloc[0]
    engine = services.score_period(PERIOD, r.db).units.set_index("unit")
    for row in df.itertuples(index=False):
        assert abs(row.总分 - round(engine.loc[row.单位编码, "total"], 2)) < 1e-9


def step_publish_period(r: Round) -> None:
    live = _score_bytes(r, PERIOD)
    out = r.cli("publish-period", PERIOD)
    assert f"已发布 {PERIOD}（第 1 次发布" in out and f"{len(r.assessed)} 个单位" in out
    assert services.get_period_info(PERIOD, r.db).status == "已发布"
    assert services.count_rows(Publication, r.db) == 1
    r.published_score = _score_bytes(r, PERIOD)
    assert r.published_score == live  # the snapshot is the result that was scored


def step_published_refuses_writes(r: Round) -> None:
    """Every write path on the published period: refused with 「考核结果已发布」, nothing written."""
    table = services.table_for_period(PERIOD, r.db)
    inspector, staff, admin = r.principal(INSPECTOR), r.principal(STAFF), r.principal("admin")
    unit, own_unit = r.assessed[0], USERS[STAFF][2][0]
    manual = next(i for i in table.items if i.rule == "manual")
    lo, hi = manual_range(manual)
    scored = next(i for i in table.items if i.rule != "manual")
    # A second stored table version, so a table change would otherwise be possible.
    content = table_to_dict(table)
    content["version"] = "2026修订"
    services.save_table_version(admin, content, "发布后测试", db=r.db)

    # Evidence through the CLI: a changed file (not a duplicate of the committed one).
    header = table.fields["committee_meetings"].header
    data, _ = _fill_committee(r.template, header, lambda i: 15)
    changed = r.work / "填报表-更正.xlsx"
    changed.write_bytes(data)
    before = _counts(r.db)
    res = run(r.app, "import-evidence", str(changed), "--period", PERIOD)
    assert res.exit_code != 0 and PUBLISHED_TEXT in res.output, res.output
    assert _counts(r.db) == before

    writes = {
        "judgement": lambda: services.set_adjustment(inspector, PERIOD, unit, manual.code, "judgement", hi,
                                                     "复核后评定", db=r.db),
        "deduction": lambda: services.set_adjustment(inspector, PERIOD, unit, scored.code, "deduction",
                                                     min(1.0, scored.points), "检查发现问题扣分", db=r.db),
        "not_applicable": lambda: services.set_adjustment(inspector, PERIOD, unit, scored.code, "not_applicable",
                                                          None, "本单位不涉及", db=r.db),
        "self_assessment": lambda: services.set_self_assessment(staff, PERIOD, own_unit, manual.code, lo,
                                                                "自评", db=r.db),
        "add_rectification": lambda: services.add_rectification(
            inspector, PERIOD, unit, "发布后发现的问题", dt.date.today() + dt.timedelta(days=10), db=r.db),
        "rectification_close": lambda: services.update_rectification(inspector, r.rect_open, "close", "已整改",
                                                                     db=r.db),
        "rectification_recheck_pass": lambda: services.update_rectification(inspector, r.rect_closed,
                                                                            "recheck_pass", "回头看通过", db=r.db),
        "rectification_reopen": lambda: services.update_rectification(inspector, r.rect_closed, "reopen",
                                                                      "回头看发现反弹", db=r.db),
        "candidate_decision": lambda: services.decide_candidate(inspector, PERIOD, unit, "推荐", "表现突出",
                                                                db=r.db),
        "table_version": lambda: services.set_period_table_version(admin, PERIOD, "2026修订", db=r.db),
        "period_update_table_version": lambda: periods.update_period(admin, PERIOD, table_version="2026修订",
                                                                     db=r.db),
    }
    for name, write in writes.items():
        before = _counts(r.db)
        with pytest.raises(services.InvalidInput, match=PUBLISHED_TEXT):
            write()
        assert _counts(r.db) == before, name
    assert _score_bytes(r, PERIOD) == r.published_score


def step_later_period_leaves_published_alone(r: Round) -> None:
    """Evidence and 整改 items in the next period; `score --period P` stays byte-identical."""
    out = r.cli("create-period", LATER, "--table", TABLE, "--deadline", f"{LATER}-03-31")
    assert f"已新建考核期 {LATER}" in out
    template = r.work / f"填报模板-{LATER}.xlsx"
    r.cli("export-template", "--period", LATER, str(template))
    header = services.table_for_period(LATER, r.db).fields["committee_meetings"].header
    data, _ = _fill_committee(template, header, lambda i: 12 - i % 7)
    evidence = r.work / f"填报表-{LATER}.xlsx"
    evidence.write_bytes(data)
    out = r.cli("import-evidence", str(evidence), "--period", LATER)
    assert f"{len(r.assessed)} 个单位" in out
    inspector = r.principal(INSPECTOR)
    rect = services.add_rectification(inspector, LATER, r.assessed[0], "支委会记录不规范",
                                      dt.date.today() + dt.timedelta(days=5), db=r.db)
    services.update_rectification(inspector, rect, "close", "已规范", db=r.db)
    services.add_rectification(inspector, LATER, r.assessed[2], "谈心谈话未覆盖全体党员",
                               dt.date.today() + dt.timedelta(days=5), db=r.db)
    # The organisation as it is from December: one unit renamed, one no longer assessed. Live, that
    # would change the published year's names and ranking; the snapshot must not move.
    rows = unit_rows()
    by_code = {row[0]: row for row in rows}
    renamed, dropped = r.assessed[3], r.assessed[4]
    by_code[renamed][1] += "（更名）"
    by_code[dropped][11] = "否"
    units_file = r.work / "单位名单-12月.xlsx"
    units_file.write_bytes(xlsx(rows))
    out = r.cli("import-units", str(units_file), "--effective", f"{PERIOD}-12-01")
    assert "更名" in out, out
    later = pd.read_csv(io.BytesIO(_score_bytes(r, LATER).split(b"\n--csv--\n")[1]), encoding="utf-8-sig",
                        dtype={"单位编码": str})
    assert sorted(later["单位编码"]) == sorted(set(r.assessed) - {dropped})  # the later period moved on
    assert later.set_index("单位编码").loc[renamed, "单位名称"].endswith("（更名）")
    assert _score_bytes(r, PERIOD) == r.published_score
    with r.db.session() as s:
        assert s.scalar(select(User.must_change_password).where(User.username == STAFF)) is False


STEPS = [step_init_db, step_import_units, step_import_users, step_create_period, step_export_template,
         step_import_evidence, step_score, step_publish_period, step_published_refuses_writes,
         step_later_period_leaves_published_alone]


def test_a_whole_round_from_an_empty_database(flask_app, tmp_path):
    with empty_database(flask_app, tmp_path / "round.sqlite3") as db:
        r = Round(flask_app, db, tmp_path)
        for step in STEPS:
            step(r)
