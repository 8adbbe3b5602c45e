"""publish-period / reopen-period / score --publication as an operator runs them (issue 12 item 5).

Each test works on its own copy of the demo database, with the commands run in-process
(tests/cli_helpers.py); one test runs the real ``python -m flask --app app`` process."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from data import evidence_service, services
from data.accounts import principal_by_name
from data.db import Database
from data.models import Rectification, OrgUnit, UnitName
from tests.cli_helpers import app_database, flask_cli, real_flask

P = "2026H1"
ENV = {"RESULTS_REDIS_URL": None}  # results in the database's own store


@pytest.fixture
def cli(flask_app, tmp_path, demo_file):
    """(the app on a copy of the demo, another Database on the same file for the test's own changes)"""
    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    with app_database(flask_app, path):
        db = Database(f"sqlite:///{path}")
        yield flask_app, db
        db.dispose()


def _flask(app, *args):
    return flask_cli(app, *args, env=ENV)


def _ok(app, *args) -> str:
    out = _flask(app, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _later_changes(db: Database) -> None:
    """Evidence, 整改 and a unit rename in another period, and an overdue date passing."""
    admin, insp = principal_by_name("admin", db=db), principal_by_name("inspector", db=db)
    services.create_period(admin, "2026", "2026", db=db)
    res = evidence_service.commit_upload(db, "单位编码,支委会次数,党课次数\nC02,1,0\nC03,12,4\n".encode(), "y.csv",
                                         "2026", insp)
    assert res.status == "committed"
    rid = services.add_rectification(insp, "2026", "C04", "已逾期的问题", dt.date.today(), db=db)
    with db.session() as s:  # dated back as if entered earlier (a past deadline is refused at entry)
        s.get(Rectification, rid).deadline = dt.date.today() - dt.timedelta(days=3)
    with db.session() as s:
        uid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "C03"))
        s.execute(update(OrgUnit).where(OrgUnit.id == uid).values(name="新名称党支部"))
        s.execute(update(UnitName).where(UnitName.unit_id == uid).values(name="新名称党支部"))


def test_score_of_a_published_period_is_byte_identical_after_later_changes(cli, tmp_path):
    app, db = cli
    published = _ok(app, "publish-period", P, "--user", "inspector")
    assert "第 1 次发布" in published and "考核组李明" in published
    before = _ok(app, "score", "--period", P)
    _ok(app, "score", "--period", P, "--out", str(tmp_path / "a.csv"))
    _later_changes(db)
    refused = _flask(app, "import-evidence", str(_csv(tmp_path)), "--period", P, "--user", "inspector")
    assert refused.returncode != 0 and "考核结果已发布" in (refused.stdout + refused.stderr)
    after = _ok(app, "score", "--period", P)
    _ok(app, "score", "--period", P, "--out", str(tmp_path / "b.csv"))
    assert after.encode() == before.encode()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    # The changes are real: the open period shows the new name.
    assert "新名称党支部" in _ok(app, "score", "--period", "2026")
    assert "新名称党支部" not in after


def _csv(tmp_path) -> Path:
    f = tmp_path / "x.csv"
    f.write_text("单位编码,支委会次数\nC02,6\n", encoding="utf-8")
    return f


def test_reopen_is_admin_only_with_a_reason_and_republishing_shows_what_changed(cli):
    app, db = cli
    _ok(app, "publish-period", P)
    first = _ok(app, "score", "--period", P)
    assert _flask(app, "reopen-period", P).returncode != 0  # --reason is required
    denied = _flask(app, "reopen-period", P, "--reason", "想改", "--user", "inspector")
    assert denied.returncode != 0 and "不是系统管理员" in denied.stderr
    reopened = _ok(app, "reopen-period", P, "--reason", "C02 扣分有误")
    assert "第 2 次发布" in reopened
    items = services.score_period(P, db).items_for("C02")
    item = str(items[(items["kind"] == "base") & (items["points"] >= 1)]["item"].iloc[0])
    services.set_adjustment(principal_by_name("inspector", db=db), P, "C02", item, "deduction", 1, "记录缺页", db=db)
    again = _ok(app, "publish-period", P, "--user", "inspector")
    assert "第 2 次发布" in again and "与第 1 次发布相比" in again and "C02" in again
    assert _ok(app, "score", "--period", P, "--publication", "1") == first
    assert _ok(app, "score", "--period", P) != first
    listed = _ok(app, "publications", P)
    assert "第 1 次发布" in listed and "第 2 次发布" in listed
    missing = _flask(app, "score", "--period", P, "--publication", "9")
    assert missing.returncode != 0 and "第 9 次发布" in missing.stderr


def test_real_flask_process_publishes_a_period(tmp_path, demo_file):
    """The real ``python -m flask --app app`` entry point (the other tests run the commands in-process)."""
    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    published = real_flask(f"sqlite:///{path}", "publish-period", P, "--user", "inspector", env=ENV)
    assert published.returncode == 0, published.stderr
    assert "第 1 次发布" in published.stdout and "考核组李明" in published.stdout
