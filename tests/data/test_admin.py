"""Administration use cases: accounts and periods, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from data import accounts, services
from data.accounts import principal_by_name
from data.models import AuditLog, User
from data.permissions import AccessDenied
from tests.conftest import PASSWORDS


def test_disabled_user_cannot_sign_in_and_is_audited(seeded):
    admin = principal_by_name("admin", db=seeded)
    assert accounts.authenticate("leader", PASSWORDS["leader"], db=seeded) is not None
    accounts.set_user_active(admin, "leader", False, db=seeded)
    assert accounts.authenticate("leader", PASSWORDS["leader"], db=seeded) is None
    accounts.set_user_active(admin, "leader", True, db=seeded)
    assert accounts.authenticate("leader", PASSWORDS["leader"], db=seeded) is not None
    with seeded.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "user_update")).all()
    assert [r.after["active"] for r in rows] == [False, True]
    with pytest.raises(services.InvalidInput, match="不能停用自己"):
        accounts.set_user_active(admin, "admin", False, db=seeded)


def test_password_reset_stores_a_new_hash_and_never_the_value(seeded):
    admin = principal_by_name("admin", db=seeded)
    accounts.set_user_password(admin, "staff", "New-Secret-2026", db=seeded)
    assert accounts.authenticate("staff", PASSWORDS["staff"], db=seeded) is None
    assert accounts.authenticate("staff", "New-Secret-2026", db=seeded) is not None
    with seeded.session() as s:
        assert s.scalar(select(User.password_hash).where(User.username == "staff")).startswith("$argon2")
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "user_update")).all()
    assert all("New-Secret-2026" not in str(a.after) for a in audit)
    with pytest.raises(services.InvalidInput, match="至少"):
        accounts.set_user_password(admin, "staff", "short", db=seeded)


def test_only_admins_manage_users_and_periods(seeded):
    inspector = principal_by_name("inspector", db=seeded)
    with pytest.raises(AccessDenied):
        accounts.list_users(inspector, db=seeded)
    with pytest.raises(AccessDenied):
        accounts.set_user_active(inspector, "leader", False, db=seeded)
    with pytest.raises(AccessDenied):
        services.create_period(inspector, "2026", "2026", db=seeded)


def test_new_period_on_its_table_version_without_evidence_is_not_scored(seeded):
    admin = principal_by_name("admin", db=seeded)
    # 2027: a year no demo activity record falls in (records count as data in every period holding them).
    assert services.create_period(admin, "2027", "2026", db=seeded) == "2027"
    info = services.get_period_info("2027", seeded)
    assert (info.kind, info.status, info.table_version) == ("year", "填报中", "2026")
    res = services.score_period("2027", seeded)
    # Nothing reported yet: every unit is 「尚无数据」, not scored at 0 points as 「不合格」 (issue 13.11).
    assert len(res.units) == 0
    assert len(services.units_without_data(admin, "2027", seeded)) == 40
    # Pages keep opening on the period with results until the new one has evidence.
    assert services.default_period_code(seeded) == "2026H1"
    for code, version, message in [("2027", "2026", "已存在"), ("2027Q1", "2026", "考核期编码"),
                                   ("2028", "1999", "不存在")]:
        with pytest.raises(services.InvalidInput, match=message):
            services.create_period(admin, code, version, db=seeded)
