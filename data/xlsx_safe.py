"""The one formula-neutralising writer behind every workbook the app produces.

Template, indicator table, rankings, candidates and any later report save their openpyxl
workbook through ``workbook_bytes``: every cell holding text that a spreadsheet would run as a
formula (starting with = + - @, a tab or a CR), or already stored as a formula, is written as
text with a leading apostrophe. Readers of our own files undo it with ``restore``.
"""
from __future__ import annotations

import io

from openpyxl import Workbook

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text a spreadsheet would evaluate gets a leading apostrophe; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def restore(value):
    """Undo ``neutralise`` when reading one of our own workbooks back."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(DANGEROUS):
        return value[1:]
    return value


def neutralise_workbook(wb: Workbook) -> int:
    """Neutralise every cell of every sheet in place; returns how many cells were changed."""
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, str) and (c.data_type == "f" or v.startswith(DANGEROUS)):
                    c.value = neutralise(v) if v.startswith(DANGEROUS) else v
                    c.data_type = "s"
                    changed += 1
    return changed


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes, with no formula and no formula-looking text in any cell."""
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
