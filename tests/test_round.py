"""One whole assessment round through the CLI on an empty database, step by step, in the order an
office works: init-db → import-units → (create-period) → export-template → import-evidence → score.

Each step is a function over one ``Round`` (the app, the database, a work directory and what earlier
steps produced), run in the order of ``STEPS``. To extend the round (import-users, create-period
with a deadline, publish-period and the checks after it), write a step and put it in ``STEPS``.

Until ``create-period`` exists on the CLI, ``step_create_period`` opens the period through the
service the admin page uses (marked below); replace it with the command when merging.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd

from data import services
from data.accounts import principal_by_name
from data.intake.units import parse_units
from data.models import OrgUnit
from tests.cli_helpers import empty_database, run
from tests.fixtures.org_files import unit_rows, xlsx

PERIOD = "2026"
ADMIN_PASSWORD = "Round@2026-zhuguan"


@dataclass
class Round:
    app: object
    db: object
    work: Path
    units_file: Path | None = None
    assessed: list[str] = field(default_factory=list)   # codes of the units that take part
    template: Path | None = None
    evidence: Path | None = None
    committee: dict[str, int] = field(default_factory=dict)  # code -> 支委会次数 written in the file

    def cli(self, *args: str, env: dict | None = None):
        res = run(self.app, *args, env=env)
        assert res.exit_code == 0, f"flask {' '.join(args)} failed:\n{res.output}"
        return res.output


def step_init_db(r: Round) -> None:
    out = r.cli("init-db", env={"DANGJIAN_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert "已创建管理员账号 admin" in out and "已写入默认指标体系" in out


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


def step_create_period(r: Round) -> None:
    # STAND-IN until the CLI has it: flask --app app create-period 2026 --table 2026 --deadline 2027-01-15
    services.create_period(principal_by_name("admin", r.db), PERIOD, "2026", db=r.db)


def step_export_template(r: Round) -> None:
    r.template = r.work / "填报模板.xlsx"
    r.cli("export-template", "--period", PERIOD, str(r.template))
    ws = openpyxl.load_workbook(r.template)["填报表"]
    codes = [ws.cell(row, 1).value for row in range(3, ws.max_row + 1) if ws.cell(row, 1).value]
    assert sorted(codes) == r.assessed  # every unit that takes part, and no 党委 that does not


def step_import_evidence(r: Round) -> None:
    """Fill 支委会次数 only, differently per unit (4–12); every other field stays blank for everyone."""
    table = services.table_for_period(PERIOD, r.db)
    header = table.fields["committee_meetings"].header
    wb = openpyxl.load_workbook(r.template)
    ws = wb["填报表"]
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value == header)
    for row in range(3, ws.max_row + 1):
        code = ws.cell(row, 1).value
        if code:
            r.committee[code] = 4 + 2 * (len(r.committee) % 5)
            ws.cell(row, col, r.committee[code])
    r.evidence = r.work / "填报表.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    r.evidence.write_bytes(buf.getvalue())
    out = r.cli("import-evidence", str(r.evidence), "--period", PERIOD)
    assert f"{len(r.assessed)} 个单位" in out


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


STEPS = [step_init_db, step_import_units, step_create_period, step_export_template, step_import_evidence,
         step_score]


def test_a_whole_round_from_an_empty_database(flask_app, tmp_path):
    with empty_database(flask_app, tmp_path / "round.sqlite3") as db:
        r = Round(flask_app, db, tmp_path)
        for step in STEPS:
            step(r)
