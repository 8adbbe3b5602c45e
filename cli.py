"""Flask CLI commands (``flask --app app <command>``): init-db, import-evidence, score, export-template, create-user,
import-table, export-table, create-period, import-units, export-units, import-users, report,
publish-period, reopen-period, publications, import-records.

Thin wrappers over ``data/services.py`` and ``data/evidence_service.py``; the same
use cases and the same scoring function as the web pages.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import pandas as pd
from flask import Flask

from data.db import get_db


def register_cli(app: Flask) -> None:
    register_org_cli(app)
    register_records_cli(app)
    @app.cli.command("init-db")
    @click.option("--demo", is_flag=True, help="同时写入演示数据（仅当数据库为空时）")
    @click.option("--units", default=40, show_default=True, help="演示数据的单位数")
    @click.option("--star-period", is_flag=True, help="演示数据另含 2026 年度评星定级考核期（五星级…一星级，带名额比例）")
    def init_db(demo: bool, units: int, star_period: bool):
        """创建或升级数据库结构（Alembic）；首次运行时写入默认指标体系并创建管理员。可重复执行。

        管理员密码取自环境变量 DANGJIAN_ADMIN_PASSWORD，否则在终端中交互输入（不接受命令行参数）。
        """
        from data import setup

        db = get_db()
        db.upgrade()
        click.echo(f"数据库已是最新结构：{_safe_url(db.url)}")
        if demo:
            from data.demo import seed_database

            if setup.state(db)["units"] == 0 and setup.state(db)["table_versions"] > 0:
                raise click.ClickException("该数据库已按正式环境初始化（已有指标体系版本），不能再写入演示数据；"
                                           "演示请使用一个新的空数据库")
            counts = seed_database(db, n_units=units, star_period=star_period)
            if counts.get("skipped"):
                click.echo("数据库中已有数据，未重复写入演示数据。")
            else:
                click.echo(f"已写入演示数据：{counts['units']} 个单位，{counts['evidence']} 条填报数据。")
            return
        version = setup.ensure_default_table(db)
        if version:
            click.echo(f"已写入默认指标体系（{version} 版，scoring/tables/{version}.yaml）。")
        else:
            click.echo("已有指标体系版本，未重复写入。")
        if setup.admin_exists(db):
            click.echo("已有管理员账号，未重复创建。")
        else:
            password = os.environ.get("DANGJIAN_ADMIN_PASSWORD")
            if not password:
                if not sys.stdin or not sys.stdin.isatty():
                    raise click.ClickException(
                        "系统中还没有管理员账号：请设置环境变量 DANGJIAN_ADMIN_PASSWORD（至少 12 位）后重新运行 "
                        "init-db，或在终端中直接运行以交互输入密码")
                password = click.prompt("请设置管理员 admin 的密码（至少 12 位，输入时不显示）", hide_input=True,
                                        confirmation_prompt="再次输入密码")
            from data.services import InvalidInput

            try:
                name = setup.create_admin(password, db=db)
            except InvalidInput as exc:
                raise click.ClickException(f"未能创建管理员：{exc}") from None
            click.echo(f"已创建管理员账号 {name}（密码为您设置的密码，请妥善保管）。")
        st = setup.state(db)
        version = st["versions"][-1] if st["versions"] else "2026"
        click.echo("\n".join([
            "", "下一步：",
            f"  1. 导入组织机构{'（已有 %d 个单位）' % st['units'] if st['units'] else ''}："
            "flask --app app export-units --template 单位名单模板.xlsx 下载模板，填好后 "
            "flask --app app import-units 单位名单.xlsx --dry-run 预览，确认无误后去掉 --dry-run 导入",
            "  2. 批量创建账号：flask --app app import-users 用户名单.xlsx",
            f"  3. 新建考核期：flask --app app create-period 2026 --table {version} --deadline 2027-01-15",
            "  4. 导出填报模板：flask --app app export-template --period 2026 填报模板.xlsx",
            "  5. 导入填报数据：flask --app app import-evidence 填报表.xlsx --period 2026（或在「数据上传」页上传）",
            "  6. 计分与发布：flask --app app score --period 2026；flask --app app publish-period 2026",
            "  启动服务：make serve（或 gunicorn app:server），用 admin 登录后在「组织管理」「系统管理」页继续设置。",
        ]))

    @app.cli.command("score")
    @click.option("--period", "period_code", required=True, help="考核期，如 2026H1 或 2026")
    @click.option("--out", type=click.Path(dir_okay=False), help="输出 .csv 或 .xlsx 文件；省略则打印")
    @click.option("--publication", "publication_no", type=int, default=None,
                  help="输出该考核期第 N 次发布时冻结的结果（已发布的考核期默认输出最新一次发布）")
    def score_cmd(period_code: str, out: str | None, publication_no: int | None):
        """按指标体系计算并输出一个考核期的全部结果（已发布的考核期输出发布时的快照）。"""
        from data import exports, publication, services
        from data.permissions import NotFound

        if not services.period_exists(period_code):
            raise click.ClickException(f"考核期 {period_code} 不存在")
        res = None
        if publication_no is not None:
            try:
                res = publication.snapshot(period_code, publication_no).result
            except NotFound as exc:
                raise click.ClickException(str(exc)) from None
        df = exports.score_table(period_code, res)
        if out:
            path = Path(out)
            if path.suffix.lower() == ".xlsx":
                path.write_bytes(exports.to_xlsx({"考核结果": df}))
            elif path.suffix.lower() == ".csv":
                path.write_bytes(exports.to_csv(df))
            else:
                raise click.ClickException("输出文件须为 .csv 或 .xlsx")
            click.echo(f"已写出 {len(df)} 个单位的考核结果：{path}")
        else:
            with pd.option_context("display.max_rows", None, "display.max_columns", 12, "display.width", 200):
                click.echo(df.iloc[:, :10].to_string(index=False))

    @app.cli.command("export-template")
    @click.option("--period", "period_code", required=True)
    @click.option("--user", "username", default=None, help="只包含该用户负责的单位")
    @click.argument("out", type=click.Path(dir_okay=False))
    def export_template(period_code: str, out: str, username: str | None):
        """导出该考核期的填报模板（.xlsx）。"""
        from data import evidence_service
        from data.permissions import AccessDenied, NotFound

        principal = _principal(username) if username else None
        try:
            data = evidence_service.template_bytes(get_db(), period_code, principal)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
        except AccessDenied:
            raise click.ClickException(f"用户 {username} 没有下载填报模板的权限") from None
        Path(out).write_bytes(data)
        scope = f"（{username} 负责的单位）" if username else ""
        click.echo(f"已导出考核期 {period_code} 的填报模板{scope}：{out}")

    @app.cli.command("import-evidence")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--period", "period_code", required=True)
    @click.option("--dry-run", is_flag=True, help="只校验和预览，不写入")
    @click.option("--user", "username", default=None, help="以该用户身份导入（按其负责的单位校验），默认 admin")
    def import_evidence(file: str, period_code: str, dry_run: bool, username: str | None):
        """导入填报表：校验、预览，并一次性提交（有错误则全部不写入）。"""
        from data import evidence_service

        db = get_db()
        principal = _principal(username or "admin")
        data = Path(file).read_bytes()
        name = Path(file).name
        preview = evidence_service.preview_upload(db, data, name, period_code, principal.id)
        report = preview.report
        if report.issues:
            click.echo(evidence_service.format_issues(report))
        if not report.ok:
            click.echo(f"文件「{name}」未通过校验，未写入任何数据。", err=True)
            sys.exit(2)
        if preview.duplicate_of is not None:
            click.echo(f"文件「{name}」与已提交的批次 #{preview.duplicate_of} 完全相同，未重复写入。")
            return
        if dry_run:
            click.echo(f"校验通过（试运行）：{report.counts['units']} 个单位、{len(report.values)} 个数值，"
                       f"其中 {len(preview.changes)} 个有变化。未写入。")
            return
        result = evidence_service.commit_upload(db, data, name, period_code, principal)
        click.echo(evidence_service.format_commit(result))
        if result.status not in ("committed", "duplicate"):
            sys.exit(2)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["leader", "inspector", "staff", "admin"]), required=True)
    @click.option("--units", default="", help="负责的单位编码，逗号分隔（党务干事必填）")
    @click.option("--name", "display_name", default=None, help="显示姓名")
    def create_user(username: str, role: str, units: str, display_name: str | None):
        """创建用户。密码取自环境变量 DANGJIAN_PASSWORD，否则交互输入（不接受命令行参数）。"""
        from data import accounts
        from data.services import InvalidInput

        password = os.environ.get("DANGJIAN_PASSWORD")
        if not password:
            if not sys.stdin.isatty():
                raise click.ClickException("请设置环境变量 DANGJIAN_PASSWORD 或在终端中交互输入密码")
            password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
        codes = [c.strip() for c in units.split(",") if c.strip()]
        if role == "staff" and not codes:
            raise click.ClickException("党务干事须用 --units 指定负责的单位")
        try:
            accounts.create_user(username, password, role, display_name=display_name, unit_codes=codes)
        except InvalidInput as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"已创建用户 {username}（{role}）")

    @app.cli.command("import-table")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="只校验并显示差异和对本期结果的影响，不保存")
    @click.option("--note", default="", help="版本说明（记入审计日志）")
    @click.option("--period", "period_code", default=None, help="显示对该考核期结果的影响（默认当前考核期）")
    @click.option("--user", "username", default="admin", show_default=True, help="以该管理员身份保存")
    def import_table(file: str, dry_run: bool, note: str, period_code: str | None, username: str):
        """导入指标体系（.yaml 或 .xlsx）：校验、显示与最新版本的差异和对本期结果的影响，保存为新版本。"""
        from data import services, table_io

        read = table_io.read_table_file(Path(file).name, Path(file).read_bytes())
        for w in read.warnings:
            click.echo(f"提示：{w}")
        if read.table is None:
            for p in read.problems:
                click.echo(p, err=True)
            click.echo("指标体系未通过校验，未保存。", err=True)
            sys.exit(2)
        t = read.table
        click.echo(f"校验通过：{t.title}（{t.version} 版）")
        latest = table_io.latest_table()
        click.echo("与最新版本" + (f" {latest.version} " if latest else "") + "的差异：")
        for line in table_io.table_xlsx.diff_tables(latest, t):
            click.echo(f"  {line}")
        period_code = period_code or services.default_period_code()
        if period_code and services.period_exists(period_code):
            effect = table_io.period_effect(period_code, t)
            click.echo(f"按新版本重算 {period_code}：{table_io.effect_summary(effect)}")
            for r in effect.head(20).itertuples():
                click.echo(f"  {r.unit} {r.name}：{r.grade_before} → {r.grade_after}，"
                           f"排名 {r.rank_before} → {r.rank_after}")
        if dry_run:
            click.echo("试运行，未保存。")
            return
        try:
            version = services.save_table_version(_principal(username), read.content, note)
        except (services.InvalidInput, services.AccessDenied) as exc:
            raise click.ClickException(str(exc) or "没有管理指标体系的权限") from None
        click.echo(f"已保存为 {version} 版（已记入审计日志）。")

    @app.cli.command("export-table")
    @click.argument("version")
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="输出 .yaml 或 .xlsx 文件")
    def export_table(version: str, out: str):
        """导出已保存的指标体系版本为 .yaml 或 .xlsx。"""
        from data import table_io

        if not out.lower().endswith((".yaml", ".yml", ".xlsx")):
            raise click.ClickException("输出文件应为 .yaml 或 .xlsx")
        try:
            table_io.export_table(version, out)
        except KeyError:
            raise click.ClickException(f"指标体系版本 {version} 不存在") from None
        click.echo(f"已导出指标体系 {version} 版：{out}")
    @app.cli.command("create-period")
    @click.argument("code")
    @click.option("--table", "table_version", required=True, help="指标体系版本，如 2026")
    @click.option("--deadline", default=None, help="填报截止日期 YYYY-MM-DD（含当天）")
    @click.option("--late", "late_policy", type=click.Choice(["warn", "refuse"]), default="warn", show_default=True,
                  help="截止后上传：warn 给出警告仍可提交，refuse 拒绝")
    @click.option("--record-source", "record_source", type=click.Choice(["typed", "records", "records_if_any"]),
                  default="typed", show_default=True,
                  help="可由活动记录得出的数据项的计分依据：typed 以填报数为准，records 以活动记录为准，"
                       "records_if_any 有记录时以记录为准")
    @click.option("--user", "username", default=None, help="以该管理员身份记入审计日志，默认记为「命令行」")
    def create_period_cmd(code: str, table_version: str, deadline: str | None, late_policy: str,
                          username: str | None, record_source: str = "typed"):
        """新建考核期（CODE 如 2027H1 上半年、2027 年度），指定指标体系版本和填报截止日期。"""
        from data import periods
        from data.permissions import AccessDenied, Principal
        from data.services import InvalidInput

        principal = _principal(username) if username else Principal(None, "命令行", "命令行", "admin")
        try:
            created = periods.create_period(principal, code, table_version, get_db(), deadline=deadline,
                                            late_policy=late_policy, record_source=record_source)
        except InvalidInput as exc:
            raise click.ClickException(str(exc)) from None
        except AccessDenied:
            raise click.ClickException(f"用户 {username} 不是系统管理员，不能新建考核期") from None
        info = f"，填报截止日期 {deadline}（截止后{'拒绝' if late_policy == 'refuse' else '警告'}）" if deadline else ""
        if record_source != "typed":
            from data.models import RECORD_SOURCES

            info += f"，计分依据：{RECORD_SOURCES[record_source]}"
        click.echo(f"已新建考核期 {created}（指标体系 {table_version} 版，状态：填报中{info}）")
    from report_cli import register as register_report_cli

    register_report_cli(app)
    @app.cli.command("import-users")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--passwords-out", type=click.Path(dir_okay=False),
                  help="把生成的初始密码写入该文件（CSV，仅本人可读）；省略则只在终端显示一次")
    @click.option("--dry-run", is_flag=True, help="只校验和预览，不写入")
    def import_users(file: str, passwords_out: str | None, dry_run: bool):
        """批量导入账号：列为 用户名、姓名、角色、负责单位编码；生成初始密码，首次登录须修改。"""
        from data import user_import

        data, name = Path(file).read_bytes(), Path(file).name
        report = user_import.parse_users(data, name)
        if report.issues:
            click.echo(report.format_issues())
        if not report.ok:
            click.echo(f"文件「{name}」未通过校验，未创建任何账号。", err=True)
            sys.exit(2)
        if dry_run:
            click.echo(f"校验通过（试运行）：将创建 {len(report.users)} 个账号。未写入。")
            return
        report, created = user_import.commit_users(None, data, name)
        if not created:
            click.echo(report.format_issues(), err=True)
            sys.exit(2)
        if passwords_out:
            out = Path(passwords_out)
            out.touch(mode=0o600)
            out.chmod(0o600)
            out.write_text("用户名,初始密码\n" + "".join(f"{u},{pw}\n" for u, pw in created), encoding="utf-8-sig")
            click.echo(f"已创建 {len(created)} 个账号；初始密码已写入 {out}（首次登录须修改密码）")
        else:
            click.echo(f"已创建 {len(created)} 个账号（首次登录须修改密码）。初始密码只显示这一次：")
            for u, pw in created:
                click.echo(f"  {u}\t{pw}")


    @app.cli.command("publish-period")
    @click.argument("period_code")
    @click.option("--user", "username", default=None,
                  help="以该用户（考核组）身份发布；省略则记为命令行操作员")
    def publish_period(period_code: str, username: str | None):
        """发布考核结果：冻结为不可更改的快照（单位、指标、得分说明、排名、等次、先进候选与意见）。"""
        from data import publication, services
        from data.permissions import AccessDenied, NotFound

        principal = _principal(username) if username else None
        try:
            snap = publication.publish(principal, period_code)
        except (services.InvalidInput, NotFound) as exc:
            raise click.ClickException(str(exc)) from None
        except AccessDenied:
            raise click.ClickException(f"用户 {username} 没有发布考核结果的权限（须为考核组）") from None
        click.echo(f"已发布 {period_code}（{publication.describe(snap)}）："
                   f"{snap.summary.get('units', 0)} 个单位，先进候选 {snap.summary.get('candidates', 0)} 个。")
        for line in publication.describe_changes(snap.summary):
            click.echo(line)

    @app.cli.command("reopen-period")
    @click.argument("period_code")
    @click.option("--reason", required=True, help="重新开放的理由（必填，记入审计日志）")
    @click.option("--user", "username", default="admin", show_default=True, help="执行的系统管理员账号")
    def reopen_period(period_code: str, reason: str, username: str):
        """重新开放已发布的考核期（仅系统管理员，须填写理由）；已发布的快照保留可查。"""
        from data import publication, services
        from data.permissions import AccessDenied, NotFound

        principal = _principal(username)
        try:
            n = publication.reopen(principal, period_code, reason)
        except (services.InvalidInput, NotFound) as exc:
            raise click.ClickException(str(exc)) from None
        except AccessDenied:
            raise click.ClickException(f"用户 {username} 不是系统管理员，不能重新开放已发布的考核期") from None
        click.echo(f"已重新开放 {period_code}（状态：考核中）；{publication.label(n)}的结果仍可用 "
                   f"score --period {period_code} --publication {n} 查看。再次发布将记为"
                   f"{publication.label(n + 1)}。")

    @app.cli.command("publications")
    @click.argument("period_code")
    def publications_cmd(period_code: str):
        """列出考核期的历次发布及与上一次发布相比的变化。"""
        from data import publication

        rows = publication.publications(period_code)
        if not rows:
            click.echo(f"考核期 {period_code} 没有发布记录。")
        for r in rows:
            at = r["published_at"].strftime("%Y-%m-%d %H:%M")
            click.echo(f"{r['label']}：{at}，{r['published_by']}；数据版本 {r['data_version']}，"
                       f"指标体系 {r['table_version']} 版，{r['summary'].get('units', 0)} 个单位")
            for line in publication.describe_changes(r["summary"], limit=5):
                click.echo("  " + line)


def _principal(username: str):
    from data.accounts import principal_by_name

    p = principal_by_name(username)
    if p is None:
        raise click.ClickException(f"用户 {username} 不存在或已停用")
    return p


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _date_option(value: str | None):
    import datetime as dt

    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"日期「{value}」格式不对，应为 YYYY-MM-DD") from None


def register_org_cli(app: Flask) -> None:
    """import-units / export-units (data/org.py)."""

    @app.cli.command("import-units")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="只校验并列出将要发生的变化，不写入")
    @click.option("--close-missing", is_flag=True, help="文件是完整名单：系统中有、文件中没有的单位将被撤销")
    @click.option("--effective", default=None, help="生效日期 YYYY-MM-DD（更名、撤销、不参加考核自该日起），默认当年 1 月 1 日")
    def import_units(file: str, dry_run: bool, close_missing: bool, effective: str | None):
        """导入单位名单（xlsx / xls / csv）：校验、预览变化，并一次性写入（有错误则全部不写入）。"""
        from data import org
        from data.intake.units import format_unit_issues

        eff = _date_option(effective)
        data, name = Path(file).read_bytes(), Path(file).name
        run = org.preview_units if dry_run else org.commit_units
        pv = run(None, data, name, close_missing=close_missing, effective=eff)
        if pv.report.issues:
            click.echo(format_unit_issues(pv.report))
        if not pv.ok:
            click.echo(f"文件「{name}」未通过校验，未写入任何数据。", err=True)
            sys.exit(2)
        for r in pv.changes.head(60).itertuples():
            click.echo(f"  [{r.label}] {r.code} {r.name}：{r.detail}")
        if len(pv.changes) > 60:
            click.echo(f"  ……共 {len(pv.changes)} 项变化")
        verb = "校验通过（试运行，未写入）" if dry_run else ("已导入" if len(pv.changes) else "无变化，未写入")
        click.echo(f"{verb}：{len(pv.report.rows)} 个单位；{org.summary(pv)}。")

    @app.cli.command("export-units")
    @click.argument("out", type=click.Path(dir_okay=False))
    @click.option("--template", is_flag=True, help="导出空白模板（含示例行和填写说明），而不是现有单位")
    def export_units(out: str, template: bool):
        """导出现有单位名单（.xlsx 或 .csv，列与 import-units 相同），或导出模板。"""
        from data import org

        path = Path(out)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            raise click.ClickException("输出文件须为 .xlsx 或 .csv")
        if template:
            path.write_bytes(org.template_bytes())
            click.echo(f"已导出单位名单模板：{path}")
            return
        path.write_bytes(org.export_bytes(None, "csv" if path.suffix.lower() == ".csv" else "xlsx"))
        click.echo(f"已导出 {len(org.units_table(None))} 个单位：{path}")


def register_records_cli(app: Flask) -> None:
    """import-records (data/records_intake.py)."""

    @app.cli.command("import-records")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--period", "period_code", required=True, help="考核期，如 2026H1；记录日期须在该考核期内")
    @click.option("--unit", "unit_code", default=None, help="文件没有单位列时，这些记录所属的单位编码")
    @click.option("--dry-run", is_flag=True, help="只校验和预览，不写入")
    @click.option("--user", "username", default=None, help="以该用户身份导入（按其负责的单位校验），默认不限单位")
    def import_records(file: str, period_code: str, unit_code: str | None, dry_run: bool, username: str | None):
        """导入三会一课等活动记录（一行一次活动；xlsx / xls / csv）：校验、预览，并一次性写入（有错误则全部不写入）。"""
        from data import records_intake
        from data.intake.records import format_record_issues

        principal = _principal(username) if username else None
        data, name = Path(file).read_bytes(), Path(file).name
        if dry_run:
            report, batch = records_intake.preview_records(principal, data, name, period_code, unit_code), None
        else:
            report, batch = records_intake.commit_records(principal, data, name, period_code, unit_code)
        click.echo(format_record_issues(report))
        if not report.ok:
            click.echo(f"文件「{name}」未通过校验，未写入任何记录。", err=True)
            sys.exit(2)
        if dry_run:
            click.echo(f"校验通过（试运行，未写入）：{len(report.rows)} 条新记录。")
        elif batch is None:
            click.echo("没有新的活动记录，未写入。")
        else:
            click.echo(f"已导入 {len(report.rows)} 条活动记录（批次 #{batch}）。")
