"""PDF through LibreOffice headless: the .docx the reader would open in Word, converted by an existing engine.

Each conversion runs ``soffice --headless --convert-to pdf`` with a private, throwaway user
profile (concurrent conversions never share LibreOffice's lock) and a fontconfig file that maps
the official font names (仿宋_GB2312, 方正小标宋简体, 黑体…) to the CJK fonts installed here
(Noto CJK from Debian's fonts-noto-cjk). Several documents convert in one LibreOffice start.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from reports.fonts import fontconfig_xml

TIMEOUT_S = 600


class PdfUnavailable(RuntimeError):
    """LibreOffice is not installed (or failed); the message is Chinese and shown as is."""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf_many(docs: dict[str, bytes]) -> dict[str, bytes]:
    """{name.docx: bytes} → {name.pdf: bytes}, in one LibreOffice run."""
    exe = soffice_path()
    if exe is None:
        raise PdfUnavailable("服务器未安装 LibreOffice（Debian 软件包 libreoffice-writer-nogui），无法生成 PDF，"
                             "请下载 Word 版本")
    with tempfile.TemporaryDirectory(prefix="dangjian-pdf-") as tmp:
        root = Path(tmp)
        src, out, profile = root / "in", root / "out", root / "profile"
        src.mkdir()
        names = {}
        for i, (name, data) in enumerate(docs.items()):
            path = src / f"d{i:05d}.docx"  # ASCII names: no surprises from the shell's locale
            path.write_bytes(data)
            names[path.stem] = Path(name).stem + ".pdf"
        (root / "fonts.conf").write_text(fontconfig_xml(), encoding="utf-8")
        env = {**os.environ, "FONTCONFIG_FILE": str(root / "fonts.conf"), "HOME": str(root),
               "SAL_USE_VCLPLUGIN": "svp"}
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nologo",
               "--convert-to", "pdf", "--outdir", str(out)] + [str(p) for p in sorted(src.iterdir())]
        try:
            proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable("生成 PDF 超时，请稍后重试或下载 Word 版本") from None
        result = {}
        for stem, pdf_name in names.items():
            pdf = out / f"{stem}.pdf"
            if not pdf.exists():
                raise PdfUnavailable("LibreOffice 未能生成 PDF：" + proc.stdout.decode("utf-8", "replace")[-300:])
            result[pdf_name] = pdf.read_bytes()
        return result


def docx_to_pdf(data: bytes) -> bytes:
    return next(iter(docx_to_pdf_many({"document.docx": data}).values()))
