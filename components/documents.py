"""Document buttons and the progress bar of a long document job (pure layout builders)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

BUSY_TEXT = "正在生成文件，请稍候…"


def doc_button_id(prefix: str, key: str) -> str:
    return f"{prefix}-doc-{key}"


def make_doc_buttons(prefix: str, items: list[tuple[str, str]], print_button: bool = True) -> html.Div:
    """A row of download buttons (ids ``<prefix>-doc-<key>``), a print button, a busy note and the Download."""
    buttons = [dbc.Button(label, id=doc_button_id(prefix, key), color="secondary", outline=True, size="sm")
               for key, label in items]
    if print_button:
        buttons.append(dbc.Button("打印", id=f"{prefix}-print", color="secondary", outline=True, size="sm",
                                  className="print-button", title="打印本页（A4，隐藏导航和按钮，打印全部行）"))
    return html.Div([
        dbc.ButtonGroup(buttons, size="sm"),
        html.Span(id=f"{prefix}-doc-busy", className="doc-busy small-muted"),
        html.Span(id=f"{prefix}-doc-msg", className="small"),
        dcc.Download(id=f"{prefix}-doc-download"),
    ], className="doc-buttons no-print d-flex align-items-center gap-2 flex-wrap", id=f"{prefix}-doc-buttons")


def make_job_progress(prefix: str) -> html.Div:
    """Progress of a background document job: a bar, a note, a poll timer and the Download."""
    return html.Div([
        dbc.Progress(id=f"{prefix}-job-bar", value=0, label="", striped=True, animated=True,
                     style={"height": "1.2rem", "display": "none"}, className="mb-1"),
        html.Div(id=f"{prefix}-job-note", className="small-muted"),
        dcc.Store(id=f"{prefix}-job-id"),
        dcc.Interval(id=f"{prefix}-job-poll", interval=700, disabled=True),
        dcc.Download(id=f"{prefix}-job-download"),
    ], className="no-print")
