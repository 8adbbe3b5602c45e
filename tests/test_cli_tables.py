"""import-table / export-table as an operator runs them: the shipped examples load, a workbook round trips,
and a bad workbook is refused with its row and column.

The commands run in-process (tests/cli_helpers.py) on one database for the module, a copy of the demo (what
``init-db --demo`` writes, tests/test_cli.py); one test runs the real ``python -m flask --app app`` process."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.cli_helpers import app_database, flask_cli, real_flask

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scoring" / "tables" / "examples"


@pytest.fixture(scope="module")
def tables_db(demo_file, tmp_path_factory):
    """The module's database: the tests below add to it in turn."""
    path = tmp_path_factory.mktemp("cli_tables") / "t.sqlite3"
    shutil.copy(demo_file, path)
    return path


@pytest.fixture
def env(flask_app, tables_db):
    with app_database(flask_app, tables_db):
        yield flask_app


def _flask(app, *args):
    return flask_cli(app, *args)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_each_shipped_example_loads_with_import_table(env, name):
    dry = _flask(env, "import-table", str(EXAMPLES / name), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "校验通过" in dry.stdout and "试运行，未保存" in dry.stdout and "按新版本重算 2026H1" in dry.stdout
    saved = _flask(env, "import-table", str(EXAMPLES / name), "--note", "示例")
    assert saved.returncode == 0, saved.stderr
    assert "已保存为" in saved.stdout
    again = _flask(env, "import-table", str(EXAMPLES / name))
    assert again.returncode != 0 and "已存在" in again.stderr


def test_export_then_import_a_workbook_and_refuse_a_bad_cell(env, tmp_path):
    out = tmp_path / "t.xlsx"
    r = _flask(env, "export-table", "2026", "--out", str(out))
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)
    meta = wb["等次与评先"]
    row = next(r for r in range(1, meta.max_row + 1) if meta.cell(row=r, column=1).value == "版本号")
    meta.cell(row=row, column=2, value="2026-修订")
    ws = wb["指标明细"]
    head = [c.value for c in ws[2]]
    a1 = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=head.index("编码") + 1).value == "A1")
    ws.cell(row=a1, column=head.index("每少一次扣分") + 1, value=2)
    buf = io.BytesIO()
    wb.save(buf)
    (tmp_path / "ok.xlsx").write_bytes(buf.getvalue())
    dry = _flask(env, "import-table", str(tmp_path / "ok.xlsx"), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    # the diff against the latest saved version names A1 (an example table when those ran first)
    assert "与最新版本" in dry.stdout and ("A1 参数：" in dry.stdout or "新增 A1" in dry.stdout)
    assert "评分标准与参数不符：A1" in dry.stdout          # the text still says 少 1 次扣 1 分
    ws.cell(row=a1, column=head.index("每少一次扣分") + 1, value="一分")
    wb.save(tmp_path / "bad.xlsx")
    bad = _flask(env, "import-table", str(tmp_path / "bad.xlsx"))
    col = chr(ord("A") + head.index("每少一次扣分"))
    assert bad.returncode == 2 and f"指标明细 第 {a1} 行 {col} 列「每少一次扣分」" in bad.stderr
    assert "未保存" in bad.stderr
    missing = _flask(env, "export-table", "1999", "--out", str(tmp_path / "x.yaml"))
    assert missing.returncode != 0 and "不存在" in missing.stderr


def test_real_flask_process_export_of_an_unknown_version_is_a_chinese_message(tmp_path, demo_file):
    """The real ``python -m flask --app app`` entry point (the other tests run the commands in-process)."""
    path = tmp_path / "t.sqlite3"
    shutil.copy(demo_file, path)
    missing = real_flask(f"sqlite:///{path}", "export-table", "1999", "--out", str(tmp_path / "x.yaml"))
    assert missing.returncode == 1 and "指标体系版本 1999 不存在" in missing.stderr
    assert not (tmp_path / "x.yaml").exists()
