"""Use cases that hand a file to the user: gather (``data.documents`` / ``data.work_summary``), render (``reports``).

The one entry point the pages, the background jobs and the CLI share, so a document
downloaded from the browser and one written by ``flask report ...`` are the same bytes
for the same data. Each function returns ``(file name, bytes)``; the format follows the
requested suffix (.docx / .pdf / .xlsx / .zip).
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from data import documents
from data.db import Database
from data.permissions import Principal
from data.work_summary import work_summary
from reports import bulletin as bulletin_report
from reports import pdf, summary as summary_report, unit_sheets, workbook

Progress = Callable[[int, int], None]


class UnsupportedFormat(ValueError):
    """A format this document does not come in (message in Chinese)."""


def _fmt(fmt: str, allowed: tuple[str, ...]) -> str:
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in allowed:
        raise UnsupportedFormat(f"文件格式须为 {' / '.join('.' + a for a in allowed)}")
    return fmt


def ranking_workbook(principal: Principal, period_code: str, db: Database | None = None) -> tuple[str, bytes]:
    book = documents.ranking_book(principal, period_code, db)
    return f"考核排名_{period_code}.xlsx", workbook.ranking_workbook(book)


def bulletin(principal: Principal, period_code: str, fmt: str = "docx", db: Database | None = None) -> tuple[str, bytes]:
    fmt = _fmt(fmt, ("docx", "pdf"))
    data = bulletin_report.bulletin_docx(documents.bulletin_data(principal, period_code, db))
    name = f"考核结果通报_{period_code}"
    return (f"{name}.pdf", pdf.docx_to_pdf(data)) if fmt == "pdf" else (f"{name}.docx", data)


def feedback(principal: Principal, period_code: str, fmt: str = "docx", unit_code: str | None = None,
             bureau: str | None = None, db: Database | None = None,
             progress: Progress | None = None) -> tuple[str, bytes]:
    """One unit's 反馈单 (.docx / .pdf), or a zip of every unit in scope (all visible units or one 局).

    For a zip, ``fmt`` names the format inside it (``zip`` alone means .docx); PDFs are
    converted in batches of 200 per LibreOffice start.
    """
    fmt = _fmt(fmt, ("docx", "pdf", "zip"))
    codes = documents.feedback_units(principal, period_code, unit_code=unit_code, bureau=bureau, db=db)
    inner = "docx" if fmt == "zip" else fmt
    if unit_code:
        sheet = next(documents.feedback_sheets(principal, period_code, codes, db))
        data = unit_sheets.feedback_docx(sheet)
        stem = unit_sheets.file_stem(sheet.unit, "反馈单", period_code)
        return (f"{stem}.pdf", pdf.docx_to_pdf(data)) if inner == "pdf" else (f"{stem}.docx", data)
    total = len(codes) * (2 if inner == "pdf" else 1)
    files: dict[str, bytes] = {}
    for k, sheet in enumerate(documents.feedback_sheets(principal, period_code, codes, db), start=1):
        files[unit_sheets.file_stem(sheet.unit, "反馈单", period_code) + ".docx"] = unit_sheets.feedback_docx(sheet)
        if progress:
            progress(k, total)
    if inner == "pdf":
        names, done, out = list(files), len(files), {}
        for i in range(0, len(names), 200):
            batch = {n: files[n] for n in names[i:i + 200]}
            out.update(pdf.docx_to_pdf_many(batch))
            done += len(batch)
            if progress:
                progress(done, total)
        files = out
    scope = bureau or "全部单位"
    return f"反馈单_{period_code}_{scope}_{inner}.zip", unit_sheets.zip_bytes(files)


def notice(principal: Principal, period_code: str, unit_code: str, fmt: str = "docx",
           db: Database | None = None) -> tuple[str, bytes]:
    fmt = _fmt(fmt, ("docx", "pdf"))
    n = documents.notice_data(principal, period_code, unit_code, db)
    data = unit_sheets.notice_docx(n)
    stem = unit_sheets.file_stem(n.unit, "整改通知书", period_code)
    return (f"{stem}.pdf", pdf.docx_to_pdf(data)) if fmt == "pdf" else (f"{stem}.docx", data)


def rectification_workbook(principal: Principal, db: Database | None = None) -> tuple[str, bytes]:
    now = dt.datetime.now()
    df = documents.rectification_register(principal, db)
    return f"整改台账_{now:%Y%m%d}.xlsx", workbook.rectification_workbook(df, now)


def summary(principal: Principal, period_code: str, fmt: str = "docx", bureau: str | None = None,
            db: Database | None = None) -> tuple[str, bytes]:
    fmt = _fmt(fmt, ("docx", "xlsx", "pdf"))
    s = work_summary(principal, period_code, bureau, db)
    stem = f"工作总结_{period_code}_{bureau or '全部单位'}"
    if fmt == "xlsx":
        return f"工作量统计_{period_code}_{bureau or '全部单位'}.xlsx", workbook.summary_workbook(s)
    data = summary_report.summary_docx(s)
    return (f"{stem}.pdf", pdf.docx_to_pdf(data)) if fmt == "pdf" else (f"{stem}.docx", data)


__all__ = ["UnsupportedFormat", "ranking_workbook", "bulletin", "feedback", "notice", "rectification_workbook",
           "summary"]
