"""`flask --app app create-period CODE --table VERSION [--deadline YYYY-MM-DD]` as an operator runs it,
on its own database (no test depends on another having created it).

In-process (tests/cli_helpers.py); one test runs the real ``python -m flask --app app`` process."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import select

from data.db import Database
from data.models import AuditLog, Period
from tests.cli_helpers import app_database, flask_cli, real_flask


@pytest.fixture
def cli(flask_app, tmp_path):
    """A path where no database exists yet, plugged into the shared app."""
    path = tmp_path / "cli.sqlite3"
    with app_database(flask_app, path):
        yield path


def _flask(flask_app, *args):
    return flask_cli(flask_app, *args)


def test_create_period_from_the_command_line(flask_app, cli):
    path = cli
    assert _flask(flask_app, "init-db", "--demo", "--units", "12").returncode == 0
    res = _flask(flask_app, "create-period", "2027H1", "--table", "2026", "--deadline", "2027-07-10",
                 "--late", "refuse")
    assert res.returncode == 0, res.stderr
    assert "已新建考核期 2027H1（指标体系 2026 版，状态：填报中，填报截止日期 2027-07-10（截止后拒绝））" in res.stdout
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            p = s.scalar(select(Period).where(Period.code == "2027H1"))
            assert (p.deadline, p.late_policy, p.table_version.version) == (dt.date(2027, 7, 10), "refuse", "2026")
            log = s.scalar(select(AuditLog).where(AuditLog.action == "period_create"))
            assert (log.user_id, log.username) == (None, "命令行")
    finally:
        db.dispose()
    again = _flask(flask_app, "create-period", "2027H1", "--table", "2026")
    assert again.returncode != 0 and "考核期 2027H1 已存在" in again.stderr
    bad = _flask(flask_app, "create-period", "2028", "--table", "1999")
    assert bad.returncode != 0 and "指标体系版本 1999 不存在" in bad.stderr
    bad_date = _flask(flask_app, "create-period", "2028", "--table", "2026", "--deadline", "明天")
    assert bad_date.returncode != 0 and "不是有效日期" in bad_date.stderr and "Traceback" not in bad_date.stderr
    annual = _flask(flask_app, "create-period", "2028", "--table", "2026", "--user", "admin")
    assert annual.returncode == 0 and "已新建考核期 2028" in annual.stdout
    refused = _flask(flask_app, "create-period", "2029", "--table", "2026", "--user", "inspector")
    assert refused.returncode != 0 and "不是系统管理员" in refused.stderr


def test_real_flask_process_create_period_with_a_bad_deadline(tmp_path, demo_file):
    """The real ``python -m flask --app app`` entry point: a bad date is a Chinese message, exit status 1."""
    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    bad_date = real_flask(f"sqlite:///{path}", "create-period", "2028", "--table", "2026", "--deadline", "明天")
    assert bad_date.returncode == 1 and "不是有效日期" in bad_date.stderr and "Traceback" not in bad_date.stderr


def test_create_period_with_a_record_source(flask_app, cli):
    path = cli
    assert _flask(flask_app, "init-db", "--demo", "--units", "12").returncode == 0
    res = _flask(flask_app, "create-period", "2027", "--table", "2026", "--record-source", "records_if_any")
    assert res.returncode == 0, res.stderr
    assert "计分依据：有活动记录的以记录为准，否则以填报数为准" in res.stdout
    bad = _flask(flask_app, "create-period", "2028", "--table", "2026", "--record-source", "both")
    assert bad.returncode != 0
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            assert s.scalar(select(Period.record_source).where(Period.code == "2027")) == "records_if_any"
            assert s.scalar(select(Period).where(Period.code == "2028")) is None
    finally:
        db.dispose()
