"""``flask report ...`` as an operator runs it: files written, scoped by --user, bad input as Chinese messages.

The commands run in-process (tests/cli_helpers.py) on one copy of the demo for the module; one test runs
the real ``python -m flask --app app report`` process. The documents themselves are checked in tests/reports
through the same ``data.document_files`` functions.
"""
from __future__ import annotations

import shutil
import zipfile

import openpyxl
import pytest

from data import services
from data.db import Database
from tests.cli_helpers import app_database, flask_cli, real_flask


@pytest.fixture(scope="module")
def report_db(demo_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("report-cli") / "cli.sqlite3"
    shutil.copy(demo_file, path)
    return path


@pytest.fixture
def cli_env(flask_app, report_db):
    with app_database(flask_app, report_db):
        yield report_db, flask_app


def _flask(app, *args):
    return flask_cli(app, "report", *args)


def test_report_commands_write_their_files(cli_env, tmp_path):
    path, app = cli_env
    db = Database(f"sqlite:///{path}")
    try:
        res = services.score_period("2026H1", db)
        units = services.scoring_inputs("2026H1", db).units
    finally:
        db.dispose()
    out = tmp_path / "排名.xlsx"
    r = _flask(app, "rankings", "--period", "2026H1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(openpyxl.load_workbook(out)["总排名"].iter_rows(min_row=4, values_only=True))
    assert {row[2]: row[6] for row in rows} == pytest.approx(res.units.set_index("unit")["total"].to_dict())
    r = _flask(app, "feedback", "--period", "2026H1", "--bureau", "临河县局", "--out", str(tmp_path / "f.zip"))
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(tmp_path / "f.zip") as z:
        assert len(z.namelist()) == int((units["bureau"] == "临河县局").sum())
    # --user staff: only that user's units.
    r = _flask(app, "rankings", "--period", "2026H1", "--user", "staff", "--out", str(tmp_path / "staff.xlsx"))
    assert r.returncode == 0, r.stderr
    rows = list(openpyxl.load_workbook(tmp_path / "staff.xlsx")["总排名"].iter_rows(min_row=4, values_only=True))
    assert {row[2] for row in rows} == set(units.loc[units["bureau"] == "临河县局", "unit"])


def test_report_errors_are_chinese_and_write_nothing(cli_env, tmp_path):
    _, app = cli_env
    cases = [
        (("bulletin", "--period", "2099", "--out", str(tmp_path / "a.docx")), "考核期 2099 不存在"),
        (("bulletin", "--period", "2026H1", "--out", str(tmp_path / "a.odt")), "文件格式"),
        (("feedback", "--period", "2026H1", "--unit", "C01", "--user", "staff", "--out", str(tmp_path / "a.docx")),
         "无权"),
    ]
    for args, message in cases:
        r = _flask(app, *args)
        assert r.returncode != 0 and message in r.stderr, (args, r.stderr)
    assert list(tmp_path.iterdir()) == []


def test_real_flask_process_report_of_an_unknown_period_is_a_chinese_message(demo_file, tmp_path):
    """The real ``python -m flask --app app report`` entry point (the other tests run it in-process)."""
    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    out = tmp_path / "out"
    out.mkdir()
    r = real_flask(f"sqlite:///{path}", "report", "bulletin", "--period", "2099", "--out", str(out / "a.docx"))
    assert r.returncode == 1 and "考核期 2099 不存在" in r.stderr, r.stderr
    assert list(out.iterdir()) == []
