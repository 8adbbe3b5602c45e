"""``flask report ...`` as an operator runs it: files written, scoped by --user, bad input as Chinese messages.

Each command starts the app in a subprocess, so the cases are few; the documents themselves are
checked in tests/reports through the same ``data.document_files`` functions.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from data import services
from data.db import Database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cli_env(demo_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("report-cli") / "cli.sqlite3"
    shutil.copy(demo_file, path)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "t"}
    return path, env


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", "report", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_report_commands_write_their_files(cli_env, tmp_path):
    path, env = cli_env
    db = Database(f"sqlite:///{path}")
    try:
        res = services.score_period("2026H1", db)
        units = services.scoring_inputs("2026H1", db).units
    finally:
        db.dispose()
    out = tmp_path / "排名.xlsx"
    r = _flask(env, "rankings", "--period", "2026H1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(openpyxl.load_workbook(out)["总排名"].iter_rows(min_row=4, values_only=True))
    assert {row[2]: row[6] for row in rows} == pytest.approx(res.units.set_index("unit")["total"].to_dict())
    r = _flask(env, "feedback", "--period", "2026H1", "--bureau", "临河县局", "--out", str(tmp_path / "f.zip"))
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(tmp_path / "f.zip") as z:
        assert len(z.namelist()) == int((units["bureau"] == "临河县局").sum())
    # --user staff: only that user's units.
    r = _flask(env, "rankings", "--period", "2026H1", "--user", "staff", "--out", str(tmp_path / "staff.xlsx"))
    assert r.returncode == 0, r.stderr
    rows = list(openpyxl.load_workbook(tmp_path / "staff.xlsx")["总排名"].iter_rows(min_row=4, values_only=True))
    assert {row[2] for row in rows} == set(units.loc[units["bureau"] == "临河县局", "unit"])


def test_report_errors_are_chinese_and_write_nothing(cli_env, tmp_path):
    _, env = cli_env
    cases = [
        (("bulletin", "--period", "2099", "--out", str(tmp_path / "a.docx")), "考核期 2099 不存在"),
        (("bulletin", "--period", "2026H1", "--out", str(tmp_path / "a.odt")), "文件格式"),
        (("feedback", "--period", "2026H1", "--unit", "C01", "--user", "staff", "--out", str(tmp_path / "a.docx")),
         "无权"),
    ]
    for args, message in cases:
        r = _flask(env, *args)
        assert r.returncode != 0 and message in r.stderr, (args, r.stderr)
    assert list(tmp_path.iterdir()) == []
