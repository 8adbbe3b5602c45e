"""Spreadsheet intake: bytes in, an ``UploadReport`` (values + Chinese issues) out; and the template.

``readers`` opens files safely, ``normalise`` reads single cells, ``headers`` holds
the words recognised in header rows, ``parse`` applies the rules of one period,
``template`` writes the workbook staff fill in. Nothing here touches a database:
``data/evidence_service.py`` supplies units, scope and last period's values and
does the preview and the commit.
"""
from data.intake.issues import IssueCode, Limits, Severity, UploadIssue, UploadReport, format_issues
from data.intake.parse import parse_upload
from data.intake.template import build_template

__all__ = ["IssueCode", "Limits", "Severity", "UploadIssue", "UploadReport", "format_issues", "parse_upload",
           "build_template"]
