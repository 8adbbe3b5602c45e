"""Flask CLI commands (``flask --app app <command>``): init-db, import-evidence, score, export-template, create-user,
import-users.

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
    @app.cli.command("init-db")
    @click.option("--demo", is_flag=True, help="同时写入演示数据（仅当数据库为空时）")
    @click.option("--units", default=40, show_default=True, help="演示数据的单位数")
    def init_db(demo: bool, units: int):
        """创建或升级数据库结构（Alembic），可选写入演示数据。可重复执行。"""
        db = get_db()
        db.upgrade()
        click.echo(f"数据库已是最新结构：{_safe_url(db.url)}")
        if demo:
            from data.demo import seed_database

            counts = seed_database(db, n_units=units)
            if counts.get("skipped"):
                click.echo("数据库中已有数据，未重复写入演示数据。")
            else:
                click.echo(f"已写入演示数据：{counts['units']} 个单位，{counts['evidence']} 条填报数据。")

    @app.cli.command("score")
    @click.option("--period", "period_code", required=True, help="考核期，如 2026H1 或 2026")
    @click.option("--out", type=click.Path(dir_okay=False), help="输出 .csv 或 .xlsx 文件；省略则打印")
    def score_cmd(period_code: str, out: str | None):
        """按指标体系计算并输出一个考核期的全部结果。"""
        from data import exports, services

        if not services.period_exists(period_code):
            raise click.ClickException(f"考核期 {period_code} 不存在")
        df = exports.score_table(period_code)
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


def _principal(username: str):
    from data.accounts import principal_by_name

    p = principal_by_name(username)
    if p is None:
        raise click.ClickException(f"用户 {username} 不存在或已停用")
    return p


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
