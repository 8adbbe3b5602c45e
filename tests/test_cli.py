"""The flask CLI as an operator runs it: init-db (twice), score to CSV/XLSX, create-user.

In-process (tests/cli_helpers.py) on each test's own database; one test runs the real
``python -m flask --app app`` process."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from data import services
from data.db import Database
from tests.cli_helpers import app_database, flask_cli, real_flask

ENV = {"DANGJIAN_PASSWORD": None}  # as the operator's shell would have it: no password set


@pytest.fixture
def empty_db(flask_app, tmp_path):
    """A path where no database exists yet, plugged into the shared app."""
    path = tmp_path / "cli.sqlite3"
    with app_database(flask_app, path) as db:
        yield path, db


@pytest.fixture
def cli_db(flask_app, tmp_path, demo_file):
    """Each test's own copy of the demo database (no test depends on another having run)."""
    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    with app_database(flask_app, path) as db:
        yield path, db


def _flask(flask_app, *args, env=None, input_text=None):
    return flask_cli(flask_app, *args, env={**ENV, **(env or {})}, input=input_text)


def test_init_db_demo_is_safe_to_run_twice(flask_app, empty_db):
    first = _flask(flask_app, "init-db", "--demo")
    assert first.returncode == 0, first.stderr
    assert "已写入演示数据：40 个单位" in first.stdout
    second = _flask(flask_app, "init-db", "--demo")
    assert second.returncode == 0 and "未重复写入" in second.stdout


def test_score_writes_the_full_ranking_equal_to_the_dashboard(flask_app, cli_db, tmp_path):
    path, _ = cli_db
    out = tmp_path / "r.csv"
    res = _flask(flask_app, "score", "--period", "2026H1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(out, encoding="utf-8-sig", dtype={"单位编码": str})
    db = Database(f"sqlite:///{path}")
    try:
        engine = services.score_period("2026H1", db).units.set_index("unit")
    finally:
        db.dispose()
    assert len(df) == len(engine) == 40
    for row in df.itertuples(index=False):
        assert abs(row.总分 - round(engine.loc[row.单位编码, "total"], 2)) < 1e-9
        assert row.等次 == engine.loc[row.单位编码, "grade"]
        assert row.总排名 == engine.loc[row.单位编码, "rank"]
    assert list(df.columns[:11]) == ["单位编码", "单位名称", "类别", "总分", "基础得分", "加分", "等次", "一票否决",
                                     "否决原因", "总排名", "类别排名"]
    assert {"A1", "C1", "J1", "V1"} <= set(df.columns)
    xlsx = tmp_path / "r.xlsx"
    assert _flask(flask_app, "score", "--period", "2026H1", "--out", str(xlsx)).returncode == 0
    assert pd.read_excel(io.BytesIO(xlsx.read_bytes()))["总分"].tolist() == df["总分"].tolist()


def test_score_of_an_unknown_period_is_a_chinese_message(flask_app, cli_db):
    res = _flask(flask_app, "score", "--period", "1999")
    assert res.returncode != 0 and "考核期 1999 不存在" in res.stderr


def test_real_flask_process_score_of_an_unknown_period_is_a_chinese_message(tmp_path, demo_file):
    """The real ``python -m flask --app app`` entry point (the other tests run the commands in-process)."""
    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    res = real_flask(f"sqlite:///{path}", "score", "--period", "1999")
    assert res.returncode == 1 and "考核期 1999 不存在" in res.stderr and "Traceback" not in res.stderr


def _database_files(path: Path) -> str:
    """The SQLite file and its WAL, as anyone reading the disk would see them."""
    return "".join(p.read_bytes().decode("latin-1") for p in sorted(path.parent.glob(path.name + "*")))


def test_create_user_takes_the_password_from_the_environment_never_an_argument(flask_app, cli_db):
    path, db = cli_db
    no_pw = _flask(flask_app, "create-user", "zhangsan", "--role", "staff", "--units", "C02", input_text="")
    assert no_pw.returncode != 0 and "DANGJIAN_PASSWORD" in no_pw.stderr
    ok = _flask(flask_app, "create-user", "zhangsan", "--role", "staff", "--units", "C02",
                env={"DANGJIAN_PASSWORD": "Zs@2026-secret"})
    assert ok.returncode == 0, ok.stderr
    db.dispose()  # as at the end of a process: the last connection closed, the WAL checkpointed
    assert "zhangsan" in _database_files(path)  # the account is on disk: the next check looks at it
    assert "Zs@2026-secret" not in _database_files(path)
    help_text = _flask(flask_app, "create-user", "--help").stdout
    assert "--password" not in help_text
