"""`flask --app app import-evidence` / `export-template` against a temp SQLite demo database.

The commands run in-process (tests/cli_helpers.py) on one copy of the demo for the module (what
``init-db --demo`` writes); one test runs the real ``python -m flask --app app`` process from another
directory."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.cli_helpers import CliResult, app_database, flask_cli, real_flask


@pytest.fixture(scope="module")
def intake_dir(demo_file, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copy(demo_file, tmp / "cli.sqlite3")
    return tmp


@pytest.fixture
def cli_env(flask_app, intake_dir):
    with app_database(flask_app, intake_dir / "cli.sqlite3"):
        yield flask_app, intake_dir


def _flask(app, *args, cwd_: Path | None = None) -> CliResult:
    """``flask --app app ...``, run from ``cwd_`` when given (file names relative to it)."""
    with contextlib.chdir(cwd_) if cwd_ is not None else contextlib.nullcontext():
        return flask_cli(app, *args)


def _fill(template: Path, out: Path, bad: bool) -> Path:
    wb = openpyxl.load_workbook(template)
    ws = wb["填报表"]
    headers = [ws.cell(1, c).value for c in range(1, ws.max_column + 1)]
    col = headers.index("集中学习次数（次）") + 1
    for r in range(3, ws.max_row + 1):
        ws.cell(r, col, 6)
    if bad:
        ws.cell(4, col, "十二")
    wb.save(out)
    return out


def test_export_template_then_import_bad_and_good_file(cli_env):
    env, tmp = cli_env
    template = tmp / "模板.xlsx"
    done = _flask(env, "export-template", "--period", "2026H1", "--user", "staff", str(template))
    assert done.returncode == 0, done.stderr
    assert "已导出考核期 2026H1 的填报模板" in done.stdout
    ws = openpyxl.load_workbook(template)["填报表"]
    first_unit = ws.cell(4, 1).value
    assert first_unit.startswith("X")  # staff answers for 临河县局 units only

    _fill(template, tmp / "bad.xlsx", bad=True)  # written to tmp/bad.xlsx, run by its relative name
    for who in ((), ("--user", "staff")):  # the default operator (admin) and the staff member
        done = _flask(env, "import-evidence", "bad.xlsx", "--period", "2026H1", *who, cwd_=tmp)
        assert done.returncode != 0
        assert "bad.xlsx · 填报表 第 4 行 C 列「集中学习次数（次）」为「十二」，请填写阿拉伯数字" in done.stdout
        assert "有错误，未入库" in done.stdout
        assert "未写入任何数据" in done.stderr

    good = _fill(template, tmp / "good.xlsx", bad=False)
    done = _flask(env, "import-evidence", str(good), "--period", "2026H1", "--user", "staff", "--dry-run")
    assert done.returncode == 0 and "校验通过（试运行）" in done.stdout
    done = _flask(env, "import-evidence", str(good), "--period", "2026H1", "--user", "staff")
    assert done.returncode == 0, done.stdout + done.stderr
    n_units = ws.max_row - 2
    assert f"{n_units} 个单位、{n_units} 个数值" in done.stdout and "已提交" in done.stdout

    again = _flask(env, "import-evidence", str(good), "--period", "2026H1", "--user", "staff")
    assert again.returncode == 0 and "完全相同" in again.stdout


def test_import_refuses_a_file_of_another_period(cli_env):
    env, tmp = cli_env
    template = tmp / "2025.xlsx"
    assert _flask(env, "export-template", "--period", "2025", str(template)).returncode == 0
    done = _flask(env, "import-evidence", str(template), "--period", "2026H1")
    assert done.returncode != 0
    assert "该文件是「2025」考核期的填报模板" in done.stdout


def test_unknown_period_is_a_message_not_a_traceback(cli_env):
    env, tmp = cli_env
    done = _flask(env, "export-template", "--period", "2031", str(tmp / "x.xlsx"))
    assert done.returncode != 0 and "Traceback" not in done.stderr and "2031" in done.stderr
    csv = tmp / "x.csv"
    csv.write_bytes("单位编码,支委会次数\nC01,6\n".encode("gbk"))
    done = _flask(env, "import-evidence", str(csv), "--period", "2031")
    assert done.returncode != 0 and "考核期「2031」不存在" in done.stdout and "Traceback" not in done.stderr


def test_real_flask_process_from_another_directory_unknown_period(demo_file, tmp_path):
    """The real ``python -m flask --app app`` entry point, run from another directory (the app found through
    PYTHONPATH) with a file named relative to it; the other tests run the commands in-process."""
    shutil.copy(demo_file, tmp_path / "cli.sqlite3")
    (tmp_path / "x.csv").write_bytes("单位编码,支委会次数\nC01,6\n".encode("gbk"))
    done = real_flask(f"sqlite:///{tmp_path / 'cli.sqlite3'}", "import-evidence", "x.csv", "--period", "2031",
                      cwd=tmp_path)
    assert done.returncode == 2 and "考核期「2031」不存在" in done.stdout and "Traceback" not in done.stderr
    assert "x.csv" in done.stderr and "未写入任何数据" in done.stderr
