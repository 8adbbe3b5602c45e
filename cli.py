"""Flask CLI commands (``flask --app app <command>``): init-db, import-evidence, score, export-template, create-user,
publish-period, reopen-period, publications.

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
