"""Accounts in bulk (issue 12 item 3): problems by row and column, preview vs commit, atomicity,
generated passwords that meet the policy, forced change at first sign-in, audit."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from data import accounts, passwords, user_import
from data.accounts import principal_by_name
from data.models import AuditLog, User
from tests.cli_helpers import app_database, flask_cli, real_flask
from tests.fixtures.intake_files import csv_bytes, xlsx_bytes

HEAD = ["用户名", "姓名", "角色", "负责单位编码"]


def _users(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(User))


def test_a_good_file_creates_every_account_with_a_generated_password_to_change(seeded):
    admin = principal_by_name("admin", db=seeded)
    data = xlsx_bytes([["2026 年账号"], HEAD, ["zhang.san", "张三", "党务干事", "C02、C03"],
                       ["li_si", "李四", "inspector", ""], ["wang-wu", "王五", "局领导", None]])
    preview = user_import.parse_users(data, "u.xlsx", db=seeded)
    assert preview.ok and [u["username"] for u in preview.users] == ["zhang.san", "li_si", "wang-wu"]
    assert preview.users[0]["units"] == ["C02", "C03"] and preview.users[0]["role"] == "staff"
    n = _users(seeded)
    report, created = user_import.commit_users(admin, data, "u.xlsx", db=seeded)
    assert _users(seeded) == n + 3 and [u for u, _ in created] == ["zhang.san", "li_si", "wang-wu"]
    for username, pw in created:
        assert passwords.check(pw, username) == []
        p = accounts.authenticate(username, pw, db=seeded)
        assert p is not None and p.must_change_password
    assert accounts.principal_by_name("zhang.san", db=seeded).unit_codes == {"C02", "C03"}
    with seeded.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action.in_(["users_import", "user_create"]))).all()
        hashes = s.scalars(select(User.password_hash)).all()
    assert {r.action for r in rows} == {"users_import", "user_create"}
    assert not any(pw in str(r.after) for r in rows for _, pw in created)
    assert all(h.startswith("$argon2") for h in hashes)


@pytest.mark.parametrize("row, column, message", [
    (["admin", "重名", "局领导", ""], "A", "已有该用户"),
    (["bad name!", "某某", "局领导", ""], "A", "只能包含"),
    (["", "无名", "局领导", ""], "A", "为空"),
    (["zhao", "赵", "书记", ""], "C", "角色应为"),
    (["qian", "钱", "党务干事", ""], "D", "党务干事须填写"),
    (["sun", "孙", "党务干事", "C02、ZZ99"], "D", "ZZ99"),
    (["zhou", "周" * 70, "局领导", ""], "B", "64"),
])
def test_each_problem_is_named_by_row_and_column_and_nothing_is_written(seeded_sqlite, row, column, message):
    seeded = seeded_sqlite
    admin = principal_by_name("admin", db=seeded)
    data = csv_bytes([HEAD, ["fine_user", "好", "局领导", ""], row])
    n = _users(seeded)
    report, created = user_import.commit_users(admin, data, "u.csv", db=seeded)
    errors = [i for i in report.issues if i.error]
    assert created == [] and _users(seeded) == n
    assert [(i.row, i.column) for i in errors] == [(3, column)]
    assert message in errors[0].message and "第 3 行" in errors[0].message


def test_duplicate_usernames_in_the_file_and_gbk_csv(seeded_sqlite):
    seeded = seeded_sqlite
    data = csv_bytes([HEAD, ["dup", "甲", "局领导", ""], ["DUP", "乙", "局领导", ""]], encoding="gbk")
    report = user_import.parse_users(data, "u.csv", db=seeded)
    assert not report.ok and "与第 2 行重复" in report.issues[0].message


def test_only_admins_import_users(seeded_sqlite):
    seeded = seeded_sqlite
    from data.permissions import AccessDenied

    with pytest.raises(AccessDenied):
        user_import.commit_users(principal_by_name("inspector", db=seeded), csv_bytes([HEAD]), "u.csv", db=seeded)


def test_cli_import_users_writes_passwords_only_when_asked(flask_app, tmp_path, demo_file):
    """``flask --app app import-users`` in-process (tests/cli_helpers.py) on a copy of the demo."""
    db_path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, db_path)
    f = tmp_path / "users.csv"
    f.write_bytes(csv_bytes([HEAD, ["cli_user", "命令行", "党务干事", "C05"]]))
    out_file = tmp_path / "pw.csv"

    def run(*args):
        return flask_cli(flask_app, "import-users", *args)

    with app_database(flask_app, db_path):
        dry = run(str(f), "--dry-run")
        assert dry.returncode == 0 and "试运行" in dry.stdout and not out_file.exists()
        res = run(str(f), "--passwords-out", str(out_file))
        assert res.returncode == 0, res.stderr
        lines = out_file.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "用户名,初始密码" and lines[1].startswith("cli_user,")
        assert oct(out_file.stat().st_mode & 0o777) == "0o600"
        assert lines[1].split(",")[1] not in res.stdout  # written to the file, not shown
        again = run(str(f))
        assert again.returncode == 2 and "已有该用户" in again.stdout


def test_real_flask_process_import_users_dry_run(tmp_path, demo_file):
    """The real ``python -m flask --app app import-users`` entry point: a file with a problem is refused
    (exit status 2, the problem by row and column, nothing created)."""
    db_path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, db_path)
    f = tmp_path / "users.csv"
    f.write_bytes(csv_bytes([HEAD, ["admin", "重名", "局领导", ""]]))
    res = real_flask(f"sqlite:///{db_path}", "import-users", str(f), "--dry-run")
    assert res.returncode == 2 and "第 2 行" in res.stdout and "已有该用户" in res.stdout
    assert "未创建任何账号" in res.stderr and "Traceback" not in res.stderr
