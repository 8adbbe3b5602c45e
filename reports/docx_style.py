"""The look of a Chinese official document (党政机关公文格式, GB/T 9704) in python-docx.

A4; margins 37 / 35 / 28 / 26 mm; title in 方正小标宋简体 二号 centred; body in 仿宋_GB2312
三号 with a fixed 28 pt line and a two-character first-line indent; first-level headings in
黑体, second-level in 楷体_GB2312; page numbers 「— N —」 in 宋体 四号 at the foot. Every run
names its East Asian font (``w:eastAsia``) and the document's East Asian language is zh-CN,
so Word, WPS and LibreOffice pick Chinese glyphs (not Japanese variants) for the text.
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from xml.sax.saxutils import escape

from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt, RGBColor

from reports import fonts

SIZE = {"二号": 22, "三号": 16, "四号": 14, "小四": 12, "五号": 10.5, "小五": 9}
TABLE_STYLE = "表格文字"


def set_east_asian(element_rpr_owner, name: str) -> None:
    """Name ``name`` for every script of a run or style (ascii/hAnsi are also set by python-docx)."""
    rfonts = element_rpr_owner.get_or_add_rPr().get_or_add_rFonts()  # schema order kept by python-docx
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), name if attr == "w:eastAsia" else (fonts.LATIN if name == fonts.BODY else name))


def font(run, name: str = fonts.BODY, size: float | None = None, bold: bool | None = None,
         color: str | None = None) -> None:
    set_east_asian(run._element, name)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def _style_font(style, name: str, size: float, bold: bool = False) -> None:
    style.font.size = Pt(size)
    style.font.bold = bold
    set_east_asian(style.element, name)


def _zh_cn(doc) -> None:
    """East Asian language zh-CN in the defaults and theme settings (python-docx's template says ja-JP)."""
    styles = doc.styles.element
    lang = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")  # w:val stays en-US: digits and Latin words are not broken mid-word
    tfl = doc.settings.element.find(qn("w:themeFontLang"))
    if tfl is not None:
        tfl.set(qn("w:eastAsia"), "zh-CN")


def new_document(title: str, landscape: bool = False) -> Document:
    doc = Document()
    _zh_cn(doc)
    props = doc.core_properties
    props.title, props.author, props.language = title, "党建工作考核系统", "zh-CN"
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    if landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.footer_distance = Mm(20)
    normal = doc.styles["Normal"]
    _style_font(normal, fonts.BODY, SIZE["三号"])
    pf = normal.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
    pf.space_before, pf.space_after = Pt(0), Pt(0)
    pf.first_line_indent = Pt(SIZE["三号"] * 2)
    pf.widow_control = True
    cell = doc.styles.add_style(TABLE_STYLE, 1)  # 1 = paragraph style
    cell.style_id = "TableText"  # an ASCII id, as Word writes them; the Chinese name is what users see
    cell.base_style = normal
    _style_font(cell, fonts.BODY, SIZE["五号"])
    cpf = cell.paragraph_format
    cpf.first_line_indent = Pt(0)
    cpf.line_spacing = 1.0
    cpf.space_before, cpf.space_after = Pt(2), Pt(2)
    _page_numbers(sec)
    return doc


def _field(paragraph, instr: str) -> None:
    run = paragraph.add_run()
    font(run, "宋体", SIZE["四号"])
    for kind, text in (("begin", None), (None, instr), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._element.append(el)
        elif text == instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instr} "
            run._element.append(el)
        else:
            el = OxmlElement("w:t")
            el.text = text
            run._element.append(el)


def _page_numbers(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    font(p.add_run("— "), "宋体", SIZE["四号"])
    _field(p, "PAGE")
    font(p.add_run(" —"), "宋体", SIZE["四号"])


def title(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pf = p.paragraph_format
    pf.first_line_indent = Pt(0)
    pf.line_spacing = Pt(36)
    pf.space_after = Pt(28)
    font(p.add_run(text), fonts.TITLE, SIZE["二号"])


def subtitle(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.space_after = Pt(14)
    font(p.add_run(text), fonts.SUBHEADING, SIZE["三号"])


def heading1(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    font(p.add_run(text), fonts.HEADING, SIZE["三号"])


def heading2(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    font(p.add_run(text), fonts.SUBHEADING, SIZE["三号"])


def para(doc, *parts, indent: bool = True, align=None, placeholder: bool = False):
    """A body paragraph; ``parts`` are text or (text, {"bold": True, "color": "C00000", "highlight": True})."""
    p = doc.add_paragraph()
    if not indent:
        p.paragraph_format.first_line_indent = Pt(0)
    if align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in parts:
        text, opts = (part, {}) if isinstance(part, str) else part
        run = p.add_run(text)
        font(run, opts.get("font", fonts.BODY), opts.get("size"), opts.get("bold"), opts.get("color"))
        if placeholder or opts.get("highlight"):
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return p


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def table(doc, headers: list[str], rows: list[list], widths_cm: list[float] | None = None,
          align: list[str] | None = None, fills: list[str | None] | None = None):
    """A bordered table, header row repeated on every page; ``align`` per column: l / c / r."""
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    align = align or ["c"] * len(headers)
    sid = doc.styles[TABLE_STYLE].style_id  # looked up once: python-docx resolves names per paragraph slowly
    hdr = t.rows[0]
    _repeat_header(hdr)
    hdr_cells = hdr.cells
    for i, h in enumerate(headers):
        c = hdr_cells[i]
        p = c.paragraphs[0]
        p._p.style = sid
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        font(p.add_run(str(h)), fonts.HEADING, SIZE["五号"])
        _shade(c, "F2F2F2")
    widths = [Cm(w) for w in widths_cm] if widths_cm else None
    if widths:
        t.autofit = False
        for i, w in enumerate(widths):
            t.columns[i].width = w  # add_row() copies these grid widths into each new cell
            hdr_cells[i].width = w
    # Data rows as one XML fragment: python-docx's per-cell API costs ~1 ms a cell, which a zip of
    # 10,000 feedback sheets (≈300 cells each) cannot afford. Same elements as python-docx writes.
    jc = {"l": "left", "c": "center", "r": "right"}
    tw = [int(w / 635) for w in widths] if widths else None  # EMU → twentieths of a point
    parts = []
    for k, values in enumerate(rows):
        fill = fills[k] if fills else None
        parts.append("<w:tr>")
        for i, v in enumerate(values):
            pr = (f'<w:tcW w:w="{tw[i]}" w:type="dxa"/>' if tw else "") + (
                f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else "")
            text = escape("" if v is None else str(v))
            parts.append(f"<w:tc>{f'<w:tcPr>{pr}</w:tcPr>' if pr else ''}<w:p><w:pPr><w:pStyle w:val=\"{sid}\"/>"
                         f'<w:jc w:val="{jc[align[i]]}"/></w:pPr><w:r><w:t xml:space="preserve">{text}</w:t></w:r>'
                         "</w:p></w:tc>")
        parts.append("</w:tr>")
    if parts:
        frag = parse_xml(f'<w:tbl {nsdecls("w")}>{"".join(parts)}</w:tbl>')
        for tr in list(frag):
            t._tbl.append(tr)
    return t


def picture(doc, png: bytes, width_cm: float = 15.0) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(width_cm))
    p = doc.paragraphs[-1]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE


def caption(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.space_after = Pt(6)
    font(p.add_run(text), fonts.HEADING, SIZE["五号"])


def page_break(doc) -> None:
    from docx.enum.text import WD_BREAK

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def to_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def signature(doc, org: str, date_text: str) -> None:
    doc.add_paragraph()
    para(doc, org, indent=False, align="right")
    para(doc, date_text, indent=False, align="right")


def fixed2(x) -> str:
    """Two decimals rounded half up (四舍五入), as every page shows them: 83.615 → 83.62."""
    import math
    from decimal import ROUND_HALF_UP, Decimal

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return str(Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def short(x) -> str:
    """Half-up to two decimals, trailing zeros dropped (item points: 3, 2.5, 1.88)."""
    t = fixed2(x)
    return t if t == "—" else (t.rstrip("0").rstrip(".") if "." in t else t)


def cn_date(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
