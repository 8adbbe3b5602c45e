"""``flask --app app import-records FILE --period P [--dry-run]``: exit codes and Chinese problems with row and
column, in-process against a private copy of the demo database."""
from __future__ import annotations

from sqlalchemy import func, select

from data.models import ActivityRecord
from tests.cli_helpers import run

GOOD = "单位编码,会议类型,召开时间,会议主题,应到人数,实到人数\nC02,支部委员会会议,2026年2月9日,命令行导入,7,7\n" \
       "C02,谈心谈话,2026/3/9,命令行导入,2,2\n"
BAD = "单位编码,会议类型,召开时间,会议主题,应到人数,实到人数\nC02,支委会,2026年2月30日,坏日期,7,7\n" \
      "C02,茶话会,2026-03-01,坏类型,7,9\n"


def _imported(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(ActivityRecord).where(ActivityRecord.topic == "命令行导入"))


def test_rejected_file_exits_non_zero_with_row_and_column(flask_app, app_db, tmp_path):
    f = tmp_path / "坏.csv"
    f.write_bytes(BAD.encode("gbk"))
    for extra in ((), ("--dry-run",)):
        res = run(flask_app, "import-records", str(f), "--period", "2026H1", *extra)
        assert res.exit_code == 2
        assert "坏.csv 第 2 行 C 列「召开时间」为「2026年2月30日」，无法识别为日期" in res.output
        assert "第 3 行 B 列「会议类型」为「茶话会」" in res.output
        assert "第 3 行 F 列「实到人数」为「9」，实到人数多于应到人数（7）" in res.output
        assert "未写入任何记录" in res.output
    assert _imported(app_db) == 0


def test_dry_run_writes_nothing_then_import_writes_once(flask_app, app_db, tmp_path):
    f = tmp_path / "app.csv"
    f.write_bytes(GOOD.encode("gbk"))
    res = run(flask_app, "import-records", str(f), "--period", "2026H1", "--dry-run")
    assert res.exit_code == 0 and "校验通过（试运行，未写入）：2 条新记录" in res.output
    assert _imported(app_db) == 0
    res = run(flask_app, "import-records", str(f), "--period", "2026H1")
    assert res.exit_code == 0 and "已导入 2 条活动记录" in res.output
    assert _imported(app_db) == 2
    res = run(flask_app, "import-records", str(f), "--period", "2026H1")  # the same export again
    assert res.exit_code == 0 and "没有新的活动记录" in res.output and _imported(app_db) == 2


def test_staff_user_is_refused_other_units_and_published_period_is_refused(flask_app, app_db, tmp_path):
    f = tmp_path / "app.csv"
    f.write_bytes(GOOD.encode("gbk"))
    res = run(flask_app, "import-records", str(f), "--period", "2026H1", "--user", "staff")
    assert res.exit_code == 2 and "第 2 行 A 列「单位编码」为「C02」，不是您负责的单位" in res.output
    res = run(flask_app, "import-records", str(f), "--period", "2025")
    assert res.exit_code == 2 and "考核结果已发布" in res.output
    res = run(flask_app, "import-records", str(f), "--period", "2031")
    assert res.exit_code == 2 and "考核期「2031」不存在" in res.output
    assert _imported(app_db) == 0
