"""AG Grid builders with the zh-CN locale text, shared by every page.

Pure: rows and column definitions in, a ``dag.AgGrid`` out. The locale file is
AG Grid's own Simplified Chinese text (vendored JSON, served with the app).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import dash_ag_grid as dag
import pandas as pd

LOCALE_FILE = Path(__file__).with_name("aggrid_locale_zh_cn.json")


@lru_cache(maxsize=1)
def locale_text() -> dict:
    return json.loads(LOCALE_FILE.read_text(encoding="utf-8"))


# Header text needs this much room besides the words themselves: cell padding, sort and menu icons.
_HEADER_CHROME_PX = 76


def header_min_width(header: str) -> int:
    """The width at which a header's text shows whole on one line (CJK ~13 px a character, ASCII ~7.5 px)."""
    text = sum(13 if ord(ch) > 255 else 7.5 for ch in header or "")
    return int(text + _HEADER_CHROME_PX)


def _flexible(col: dict) -> dict:
    """A column that fills its share of the grid and never gets narrower than its header.

    Flex widths are recomputed by AG Grid whenever the grid resizes, so a grid first drawn in a
    hidden or half-built container (after navigating back, or changing period) lays out the same as
    on first load; ``sizeColumnsToFit`` at that moment used to squeeze the first columns below their
    headers (「总…」「类别…」).
    """
    col = dict(col)
    # A stated width is the column's share; on a narrow screen it may give up a fifth of it, never its header.
    given = int(col.get("minWidth") or 0)
    if col.get("width"):
        given = min(given or int(col["width"]), int(col["width"] * 0.8))
    col["minWidth"] = max(given, header_min_width(str(col.get("headerName", ""))))
    if "flex" not in col:
        col["flex"] = max(float(col.get("width") or 100), col["minWidth"]) / 100
    col.pop("width", None)
    return col


def frame_rows(df) -> list[dict]:
    """``df.to_dict("records")``, column by column: pandas boxes each cell of a text (extension array)
    column one call at a time, 9 ms for the 500 rows of the gap page's 活动规律性 grid."""
    def values(col):
        out = col.to_numpy(object)
        if getattr(col.dtype, "na_value", None) is pd.NA:  # nullable columns: to_dict gives None for NA
            out = out.copy()
            out[col.isna().to_numpy()] = None
        return out

    cols = list(df.columns)
    if not cols:
        return [{} for _ in range(len(df))]
    return [dict(zip(cols, row)) for row in zip(*(values(df[c]) for c in cols))]


def make_grid(id_: str, rows: list[dict], columns: list[dict], height: int | str = 480,
              pagination: bool = False, page_size: int = 50, row_id: str | None = None,
              extra_options: dict | None = None, class_name: str = "",
              row_class_rules: dict | None = None, keep_sort: bool = False) -> dag.AgGrid:
    options = {"localeText": locale_text(), "animateRows": False, "tooltipShowDelay": 300,
               "enableCellTextSelection": True, "ensureDomOrder": True}
    if pagination:
        options.update({"pagination": True, "paginationPageSize": page_size,
                        "paginationPageSizeSelector": [20, 50, 100, 200]})
    options.update(extra_options or {})
    kwargs = {"getRowId": f"params.data.{row_id}"} if row_id else {}
    if row_class_rules:
        kwargs["rowClassRules"] = row_class_rules
    if keep_sort:  # the user's sort (and column state) survives the back button, per browser tab
        kwargs.update(persistence=True, persisted_props=["columnState"], persistence_type="session")
    return dag.AgGrid(
        id=id_, rowData=rows, columnDefs=[_flexible(c) for c in columns],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 70,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions=options, className=f"ag-theme-quartz {class_name}".strip(),
        style={"height": height if isinstance(height, str) else f"{height}px", "width": "100%"}, **kwargs)


def make_server_grid(id_: str, columns: list[dict], height: int | str = 480, row_id: str | None = None,
                     block_size: int = 100) -> dag.AgGrid:
    """A grid whose rows stay on the server (AG Grid's infinite row model): it asks for blocks of
    ``block_size`` rows through ``getRowsRequest`` (with its sort and filter models) as the user
    scrolls, and a callback answers in ``getRowsResponse``. For grids of thousands of rows."""
    grid = make_grid(id_, [], columns, height=height, row_id=row_id, extra_options={
        "rowBuffer": 0, "cacheBlockSize": block_size, "maxBlocksInCache": 20, "infiniteInitialRowCount": block_size,
        "maxConcurrentDatasourceRequests": 2})
    grid.rowModelType = "infinite"
    grid.rowData = None
    return grid


def number_col(field: str, header: str, width: int | None = None, places: int = 2, **extra) -> dict:
    """A right-aligned number column shown with ``places`` decimals (display only)."""
    col = {"field": field, "headerName": header, "type": "rightAligned", "filter": "agNumberColumnFilter",
           "valueFormatter": {"function": f"params.value == null ? '—' : d3.format('.{places}f')(params.value)"}}
    if width:
        col["width"] = width
        col["minWidth"] = width
    col.update(extra)
    return col


def text_col(field: str, header: str, width: int | None = None, **extra) -> dict:
    col = {"field": field, "headerName": header, "filter": "agTextColumnFilter"}
    if width:
        col["width"] = width
        col["minWidth"] = width
    col.update(extra)
    return col


def grade_col(field: str, header: str, colors: dict[str, str], width: int = 90) -> dict:
    """Grade shown as a coloured pill, the same colours as every chart."""
    conditions = [{"condition": f"params.value === {json.dumps(label)}",
                   "style": {"color": color, "fontWeight": "600"}} for label, color in colors.items()]
    return {"field": field, "headerName": header, "width": width, "minWidth": width,
            "filter": "agTextColumnFilter", "cellStyle": {"styleConditions": conditions}}
