"""The flask CLI as an operator runs it: init-db (twice), score to CSV/XLSX, create-user."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data import services
from data.db import Database

ROOT = Path(__file__).resolve().parent.parent


def _env(path: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "t"}
    env.pop("DANGJIAN_PASSWORD", None)
    return env


@pytest.fixture
def empty_db(tmp_path):
    """A path where no database exists yet."""
    path = tmp_path / "cli.sqlite3"
    return path, _env(path)


@pytest.fixture
def cli_db(tmp_path, demo_file):
    """Each test's own copy of the demo database (no test depends on another having run)."""
    import shutil

    path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, path)
    return path, _env(path)


def _flask(env, *args, input_text=None):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, input=input_text)


def test_init_db_demo_is_safe_to_run_twice(empty_db):
    _, env = empty_db
    first = _flask(env, "init-db", "--demo")
    assert first.returncode == 0, first.stderr
    assert "已写入演示数据：40 个单位" in first.stdout
    second = _flask(env, "init-db", "--demo")
    assert second.returncode == 0 and "未重复写入" in second.stdout


def test_score_writes_the_full_ranking_equal_to_the_dashboard(cli_db, tmp_path):
    path, env = cli_db
    out = tmp_path / "r.csv"
    res = _flask(env, "score", "--period", "2026H1", "--out", str(out))
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
    assert _flask(env, "score", "--period", "2026H1", "--out", str(xlsx)).returncode == 0
    assert pd.read_excel(io.BytesIO(xlsx.read_bytes()))["总分"].tolist() == df["总分"].tolist()


def test_score_of_an_unknown_period_is_a_chinese_message(cli_db):
    _, env = cli_db
    res = _flask(env, "score", "--period", "1999")
    assert res.returncode != 0 and "考核期 1999 不存在" in res.stderr


def test_create_user_takes_the_password_from_the_environment_never_an_argument(cli_db):
    path, env = cli_db
    no_pw = _flask(env, "create-user", "zhangsan", "--role", "staff", "--units", "C02", input_text="")
    assert no_pw.returncode != 0 and "DANGJIAN_PASSWORD" in no_pw.stderr
    ok = _flask({**env, "DANGJIAN_PASSWORD": "Zs@2026-secret"}, "create-user", "zhangsan", "--role", "staff",
                "--units", "C02")
    assert ok.returncode == 0, ok.stderr
    assert "Zs@2026-secret" not in path.read_bytes().decode("latin-1")
    help_text = _flask(env, "create-user", "--help").stdout
    assert "--password" not in help_text
