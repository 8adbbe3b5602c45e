"""Every workbook the app lets anyone download is formula-safe, even when an admin's table version
and unit names start with = + - @, a tab or a CR (issue 18 finding 4)."""
from __future__ import annotations

import io
import itertools

from openpyxl import load_workbook
from sqlalchemy import update

from data import evidence_service, exports, services, table_xlsx
from data.accounts import principal_by_name
from data.models import OrgUnit, UnitName
from data.xlsx_safe import DANGEROUS

STARTS = ["=", "+", "-", "@", "\t", "\r"]


def _hostile_content(db) -> dict:
    """The demo table with every name, standard, label, unit and title starting with a formula character."""
    content = table_xlsx.table_to_dict(services.table_for_period("2026H1", db))
    start = itertools.cycle(STARTS)
    content["version"] = "2027x"
    content["title"] = '=HYPERLINK("http://evil.example","指标体系")'
    for area in content["areas"]:
        area["name"] = next(start) + area["name"]
        for item in area["items"]:
            item["name"] = next(start) + 'HYPERLINK("http://evil.example")' + item["name"]
            item["standard"] = next(start) + "1+1 " + item.get("standard", "")
    for group in ("bonus", "veto"):
        for item in content[group]:
            item["name"] = next(start) + item["name"]
    for f in content["fields"].values():
        f["label"] = next(start) + f["label"]
        f["unit"] = next(start) + f.get("unit", "")
    return content


def _inspect(xlsx: bytes) -> int:
    """Assert no formula and no formula-looking text; return how many neutralised texts were seen."""
    wb = load_workbook(io.BytesIO(xlsx))
    hits = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    assert not c.value.startswith(DANGEROUS), f"{ws.title}!{c.coordinate}: {c.value!r}"
                    if c.value[:1] == "'" and c.value[1:2] in DANGEROUS:
                        hits += 1
    return hits


def test_every_downloadable_workbook_from_a_hostile_table_version_holds_no_formula(app_db):
    admin = principal_by_name("admin", db=app_db)
    inspector = principal_by_name("inspector", db=app_db)
    staff = principal_by_name("staff", db=app_db)
    version = services.save_table_version(admin, _hostile_content(app_db), "含公式字符的版本", db=app_db)
    services.create_period(admin, "2027", version, db=app_db)
    evil = '=HYPERLINK("http://evil.example","点此")'
    with app_db.session() as s:
        s.execute(update(OrgUnit).where(OrgUnit.code.in_(["C03", "X0031"])).values(name=evil))
        s.execute(update(UnitName).where(UnitName.unit_id.in_(
            [r for r in s.scalars(OrgUnit.__table__.select().with_only_columns(OrgUnit.id)
                                  .where(OrgUnit.code.in_(["C03", "X0031"])))])).values(name=evil))
    from data import publication

    publication.reopen(admin, "2025", "核对导出", db=app_db)
    services.clear_cache(app_db, stored=True)  # names were changed behind the services' back
    from flask import Flask

    app = Flask("t")
    app.extensions["dangjian_db"] = app_db
    with app.app_context():
        books = {
            "指标体系（2027x）": table_xlsx.table_to_xlsx(services.table_for_period("2027", app_db)),
            "填报模板（管理员）": evidence_service.template_bytes(app_db, "2027", admin),
            "填报模板（党务干事）": evidence_service.template_bytes(app_db, "2027", staff),
            "排名导出": exports.rankings_xlsx(admin, "2026H1"),
            # 2025 re-opened above (a published snapshot keeps the names it was published with) and
            # 2026H1 for the score table (2027 has no data yet): both carry the hostile names.
            "先进推荐导出": exports.candidates_xlsx(inspector, "2025"),
            "考核结果（命令行 score）": exports.to_xlsx({"考核结果": exports.score_table("2026H1")}),
        }
    hits = {name: _inspect(data) for name, data in books.items()}
    # Each workbook really carried hostile text that the writer neutralised (the test looked at something).
    assert all(n > 0 for n in hits.values()), list(hits.items())
    assert hits["指标体系（2027x）"] >= 40 and hits["填报模板（管理员）"] >= 40


def test_the_indicator_table_round_trip_keeps_the_original_texts(app_db):
    content = _hostile_content(app_db)
    from scoring.indicators import parse_table

    table, problems = parse_table(content)
    assert table is not None, problems
    back, problems = table_xlsx.xlsx_to_dict(table_xlsx.table_to_xlsx(table))
    assert back is not None, problems
    assert back["title"] == content["title"]
    names = [i["name"] for a in back["areas"] for i in a["items"]]
    assert names == [i["name"] for a in content["areas"] for i in a["items"]]
