"""A published period in the browser: the ranking page says which publication it shows, by whom,
and what changed since the previous one (issue 12 item 5)."""
from __future__ import annotations

from data import publication, services
from data.accounts import principal_by_name
from tests.pages.conftest import shot

P = "2026H1"


def test_rankings201_republished_period_shows_its_label_and_what_changed(page_for, app_db):
    insp, admin = principal_by_name("inspector", db=app_db), principal_by_name("admin", db=app_db)
    first = publication.publish(insp, P, db=app_db)
    publication.reopen(admin, P, "C02 扣分有误", db=app_db)
    items = first.result.items_for("C02")
    item = str(items[(items["kind"] == "base") & (items["points"] >= 1)]["item"].iloc[0])
    services.set_adjustment(insp, P, "C02", item, "deduction", 1, "记录缺页", db=app_db)
    publication.publish(insp, P, db=app_db)

    page = page_for("leader")
    page.goto(page.base_url + f"/?period={P}")
    note = page.wait_for_selector("#rankings-publication")
    text = note.inner_text()
    assert "第 2 次发布" in text and "考核组李明" in text
    assert "与第 1 次发布相比" in text and "C02" in text
    shot(page, "rankings201_republished")
