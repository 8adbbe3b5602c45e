"""Fonts of the documents: the names Chinese official documents use, and what stands in for them.

Word and WPS on an office PC have 方正小标宋简体 / 仿宋_GB2312 / 黑体 / 楷体_GB2312, so the .docx
names them. A Linux server usually has only Noto CJK: the PDF converter maps those names to
Noto (a fontconfig file written for LibreOffice, see ``pdf.py``), and matplotlib charts use
the first CJK font the machine has.
"""
from __future__ import annotations

from functools import lru_cache

TITLE = "方正小标宋简体"     # 公文标题
BODY = "仿宋_GB2312"        # 正文
HEADING = "黑体"            # 一级标题
SUBHEADING = "楷体_GB2312"  # 二级标题
LATIN = "Times New Roman"

# Official names (and their common variants) → installed fonts, best first.
SERIF_FALLBACK = ("Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN", "Noto Sans CJK SC")
SANS_FALLBACK = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Serif CJK SC")
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    TITLE: SERIF_FALLBACK, "方正小标宋_GBK": SERIF_FALLBACK, "宋体": SERIF_FALLBACK, "SimSun": SERIF_FALLBACK,
    BODY: SERIF_FALLBACK, "仿宋": SERIF_FALLBACK, "FangSong": SERIF_FALLBACK,
    SUBHEADING: SERIF_FALLBACK, "楷体": SERIF_FALLBACK, "KaiTi": SERIF_FALLBACK,
    HEADING: SANS_FALLBACK, "SimHei": SANS_FALLBACK, "微软雅黑": SANS_FALLBACK, "Microsoft YaHei": SANS_FALLBACK,
}

CHART_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
               "PingFang SC", "Noto Serif CJK SC")


@lru_cache(maxsize=1)
def chart_font() -> str | None:
    """The first CJK font matplotlib can find on this machine (None: none installed)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CHART_FONTS if f in installed), None)


def fontconfig_xml() -> str:
    """A fontconfig file: the system configuration plus the official names as aliases of installed fonts."""
    aliases = "\n".join(
        f'  <alias binding="same"><family>{name}</family><prefer>'
        + "".join(f"<family>{f}</family>" for f in fallbacks) + "</prefer></alias>"
        for name, fallbacks in SUBSTITUTES.items())
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
            '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n' + aliases + "\n</fontconfig>\n")
