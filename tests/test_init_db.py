"""Production start: ``flask --app app init-db`` on an empty database, run twice, via Flask's CliRunner."""
from __future__ import annotations

from sqlalchemy import func, select

from data import accounts
from data.models import AuditLog, OrgUnit, TableVersion, User
from scoring.indicators import default_table
from tests.cli_helpers import empty_database, run

PASSWORD = "Chu-Shi@2026-pw"


def _count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_init_db_on_an_empty_database_twice(flask_app, tmp_path):
    with empty_database(flask_app, tmp_path / "prod.sqlite3") as db:
        first = run(flask_app, "init-db", env={"DANGJIAN_ADMIN_PASSWORD": PASSWORD})
        assert first.exit_code == 0, first.output
        shipped = default_table()
        with db.session() as s:
            versions = s.scalars(select(TableVersion)).all()
            assert [(v.version, v.title) for v in versions] == [(shipped.version, shipped.title)]
            admins = s.scalars(select(User).where(User.role == "admin")).all()
            assert [a.username for a in admins] == ["admin"]
        assert accounts.authenticate("admin", PASSWORD, db=db) is not None
        assert PASSWORD not in first.output
        for words in ("已写入默认指标体系", "已创建管理员账号 admin", "下一步", "import-units", "import-users",
                      "create-period", "export-template", "import-evidence", "publish-period"):
            assert words in first.output
        second = run(flask_app, "init-db", env={"DANGJIAN_ADMIN_PASSWORD": "another-password"})
        assert second.exit_code == 0, second.output
        assert "未重复写入" in second.output and "已有管理员账号" in second.output
        assert _count(db, TableVersion) == 1 and _count(db, User) == 1
        assert accounts.authenticate("admin", PASSWORD, db=db) is not None  # the password did not change
        assert _count(db, OrgUnit) == 0  # no demo data in production


def test_init_db_without_a_password_source_is_a_clear_chinese_error(flask_app, tmp_path):
    with empty_database(flask_app, tmp_path / "prod.sqlite3") as db:
        res = run(flask_app, "init-db", env={"DANGJIAN_ADMIN_PASSWORD": ""})
        assert res.exit_code != 0
        assert "DANGJIAN_ADMIN_PASSWORD" in res.output and "管理员" in res.output
        assert _count(db, User) == 0
        short = run(flask_app, "init-db", env={"DANGJIAN_ADMIN_PASSWORD": "short"})
        assert short.exit_code != 0 and "至少 12 位" in short.output
        assert _count(db, User) == 0
        help_text = run(flask_app, "init-db", "--help").output
        assert "--password" not in help_text


def test_demo_is_refused_on_a_production_database(flask_app, tmp_path):
    with empty_database(flask_app, tmp_path / "prod.sqlite3") as db:
        assert run(flask_app, "init-db", env={"DANGJIAN_ADMIN_PASSWORD": PASSWORD}).exit_code == 0
        res = run(flask_app, "init-db", "--demo")
        assert res.exit_code != 0 and "正式环境" in res.output
        assert _count(db, OrgUnit) == 0
        assert _count(db, AuditLog, AuditLog.action == "table_version") == 1
