"""``flask --app app report ...``: the documents of a period written to files (same code as the page buttons).

    report rankings --period P --out F.xlsx
    report bulletin --period P --out F.docx|F.pdf
    report feedback --period P [--unit CODE] [--bureau B] --out F.docx|F.pdf|F.zip
    report notice   --period P --unit CODE --out F.docx|F.pdf
    report rectifications --out F.xlsx
    report summary  --period P [--bureau B] --out F.docx|F.xlsx|F.pdf

``--user NAME`` reads as that user (staff: only their units); by default a read-only
局领导 view of every unit.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

CLI_PRINCIPAL_NAME = "cli"


def _principal(username: str | None):
    from data.permissions import LEADER, Principal

    if not username:
        return Principal(id=0, username=CLI_PRINCIPAL_NAME, display_name="命令行", role=LEADER)
    from data.accounts import principal_by_name

    p = principal_by_name(username)
    if p is None:
        raise click.ClickException(f"用户 {username} 不存在或已停用")
    return p


def _run(build, out: str) -> None:
    from data import services
    from data.document_files import UnsupportedFormat
    from data.permissions import AccessDenied, NotFound
    from reports.pdf import PdfUnavailable

    try:
        name, data = build(Path(out).suffix.lower().lstrip("."))
    except (NotFound, UnsupportedFormat, PdfUnavailable, services.InvalidInput) as exc:
        raise click.ClickException(str(exc)) from None
    except AccessDenied:
        raise click.ClickException("该用户无权导出这些单位的文件") from None
    Path(out).write_bytes(data)
    click.echo(f"已写出 {out}（{len(data) / 1024:.0f} KB）")


def _period(code: str) -> str:
    from data import services

    if not services.period_exists(code):
        raise click.ClickException(f"考核期 {code} 不存在")
    return code


def register(app: Flask) -> None:
    report = AppGroup("report", help="生成考核文件：排名工作簿、通报、反馈单、整改通知书、整改台账、工作总结。")
    period_opt = click.option("--period", "period_code", required=True, help="考核期，如 2026H1 或 2026")
    out_opt = click.option("--out", required=True, type=click.Path(dir_okay=False), help="输出文件，格式由扩展名决定")
    user_opt = click.option("--user", "username", default=None, help="以该用户的权限导出（默认：全部单位、只读）")

    @report.command("rankings")
    @period_opt
    @out_opt
    @user_opt
    def rankings(period_code, out, username):
        """考核排名工作簿（.xlsx）：总排名、分类排名、逐项得分、说明。"""
        from data import document_files as files

        p, code = _principal(username), _period(period_code)

        def build(fmt):
            if fmt != "xlsx":
                raise files.UnsupportedFormat("排名工作簿须为 .xlsx")
            return files.ranking_workbook(p, code)
        _run(build, out)

    @report.command("bulletin")
    @period_opt
    @out_opt
    @user_opt
    def bulletin(period_code, out, username):
        """考核结果通报（.docx 或 .pdf）。"""
        from data import document_files as files

        p, code = _principal(username), _period(period_code)
        _run(lambda fmt: files.bulletin(p, code, fmt), out)

    @report.command("feedback")
    @period_opt
    @click.option("--unit", "unit_code", default=None, help="单位编码；省略则打包全部（或 --bureau 指定局的）单位")
    @click.option("--bureau", default=None, help="只打包该局的单位，如「临河县局」")
    @click.option("--format", "inner", type=click.Choice(["docx", "pdf"]), default="docx",
                  help="zip 中文件的格式（默认 docx）")
    @out_opt
    @user_opt
    def feedback(period_code, unit_code, bureau, inner, out, username):
        """单位反馈单：一个单位（.docx/.pdf），或全部/一个局的单位打包（.zip）。"""
        from data import document_files as files

        p, code = _principal(username), _period(period_code)

        def build(fmt):
            if unit_code and fmt == "zip":
                raise files.UnsupportedFormat("指定 --unit 时输出 .docx 或 .pdf")
            if not unit_code and fmt != "zip":
                raise files.UnsupportedFormat("未指定 --unit 时输出 .zip（每个单位一份）")
            return files.feedback(p, code, inner if fmt == "zip" else fmt, unit_code=unit_code, bureau=bureau)
        _run(build, out)

    @report.command("notice")
    @period_opt
    @click.option("--unit", "unit_code", required=True, help="单位编码")
    @out_opt
    @user_opt
    def notice(period_code, unit_code, out, username):
        """整改通知书（.docx 或 .pdf），附整改情况回执。"""
        from data import document_files as files

        p, code = _principal(username), _period(period_code)
        _run(lambda fmt: files.notice(p, code, unit_code, fmt), out)

    @report.command("rectifications")
    @out_opt
    @user_opt
    def rectifications(out, username):
        """整改台账（.xlsx）。"""
        from data import document_files as files

        p = _principal(username)

        def build(fmt):
            if fmt != "xlsx":
                raise files.UnsupportedFormat("整改台账须为 .xlsx")
            return files.rectification_workbook(p)
        _run(build, out)

    @report.command("summary")
    @period_opt
    @click.option("--bureau", default=None, help="只统计该局的单位")
    @out_opt
    @user_opt
    def summary(period_code, bureau, out, username):
        """工作总结框架（.docx，数字已填入）或工作量统计表（.xlsx）。"""
        from data import document_files as files

        p, code = _principal(username), _period(period_code)
        _run(lambda fmt: files.summary(p, code, fmt, bureau=bureau), out)

    app.cli.add_command(report)
