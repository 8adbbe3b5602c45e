"""Use cases of assessment periods: open one, edit its dates, deadline and table version, and
follow the reporting (填报进度) up to its deadline.

Owns the period rules the rest of the app asks about: whether the table version may still
change (only while nothing has been committed for the period), whether an upload is late and
what the period's ``late_policy`` says to do with it, and which units have not reported.
Every write checks the caller's ``Principal`` and is audited in the same transaction.
It must not score anything or read upload files; pages and the CLI call it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from data import repo
from data.db import Database, get_db
from data.models import (LATE_POLICIES, PERIOD_STATUSES, RECORD_SOURCES, EvidenceValue, Period, TableVersion,
                         UploadBatch, User)
from data.permissions import NotFound, Principal, require, unit_scope
from scoring.glossary import PERIOD_H1, period_kind, period_label
from scoring.indicators import PERIOD_ANNUAL, IndicatorTable

# 填报进度 per unit
SUBMITTED, PARTIAL, NOT_YET = "已报送", "有数据项未填", "未报送"
PROGRESS_COLUMNS = ["unit", "name", "bureau", "category", "status", "n_filled", "n_due", "blank_fields",
                    "last_upload", "uploader"]


def _invalid(message: str) -> Exception:
    """``services.InvalidInput``: the one user-correctable write error pages and the CLI catch."""
    from data.services import InvalidInput as ServiceInvalid

    return ServiceInvalid(message)


def _audit(s, principal, action, **kw) -> None:
    from data.services import audit

    audit(s, principal, action, **kw)


def _period(s, code: str) -> Period:
    p = repo.get_period(s, code) if isinstance(code, str) else None
    if p is None:
        raise NotFound(f"考核期 {code} 不存在")
    return p


def _as_date(value, what: str) -> dt.date | None:
    """A date from a date, an ISO text 「2026-07-15」 or None/'' (no date)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise _invalid(f"{what}「{value}」不是有效日期，请按 YYYY-MM-DD 填写（如 2026-07-15）") from None


def _committed(s, period_id: int) -> bool:
    """Has anything been committed for the period (an evidence value, from any batch)?"""
    return bool(s.scalar(select(func.count()).select_from(EvidenceValue)
                         .where(EvidenceValue.period_id == period_id)))


# --------------------------------------------------------------------------- writes

def _record_source(value) -> str:
    if value not in RECORD_SOURCES:
        raise _invalid("计分依据应为 " + "、".join(f"{k}（{v}）" for k, v in RECORD_SOURCES.items()))
    return value


def create_period(principal: Principal, code: str, table_version: str, db: Database | None = None,
                  deadline=None, late_policy: str = "warn", record_source: str = "typed") -> str:
    """Open a new assessment period (``2027H1`` / ``2027``) on a stored indicator-table version,
    optionally with a reporting deadline (填报截止日期), what to do with later uploads and which
    value counts for fields the table derives from activity records (``record_source``)."""
    require(principal, "manage_tables")
    record_source = _record_source(record_source)
    code = (code or "").strip().upper()
    kind = period_kind(code)
    if kind is None:
        raise _invalid("考核期编码应为年份（年度，如 2027）或年份加 H1（上半年，如 2027H1）")
    if late_policy not in LATE_POLICIES:
        raise _invalid("逾期上传的处理方式应为 warn（警告）或 refuse（拒绝）")
    year = int(code[:4])
    start = dt.date(year, 1, 1)
    end = dt.date(year, 6, 30) if kind == PERIOD_H1 else dt.date(year, 12, 31)
    deadline = _as_date(deadline, "填报截止日期")
    if deadline is not None and deadline < start:
        raise _invalid(f"填报截止日期 {deadline} 早于考核期开始日期 {start}")
    db = db or get_db()
    with db.session() as s:
        if repo.get_period(s, code) is not None:
            raise _invalid(f"考核期 {code} 已存在")
        tv = s.scalar(select(TableVersion).where(TableVersion.version == (table_version or "")))
        if tv is None:
            raise _invalid(f"指标体系版本 {table_version} 不存在")
        p = Period(code=code, kind=kind, year=year, start_date=start, end_date=end, status=PERIOD_STATUSES[0],
                   table_version_id=tv.id, data_version=1, deadline=deadline, late_policy=late_policy,
                   record_source=record_source)
        s.add(p)
        s.flush()
        _audit(s, principal, "period_create", entity="period", entity_id=code, period_code=code,
               after={"code": code, "table_version": tv.version, "deadline": deadline, "late_policy": late_policy,
                      "record_source": record_source})
    return code


_UNSET = object()


def update_period(principal: Principal, code: str, *, start_date=_UNSET, end_date=_UNSET, deadline=_UNSET,
                  table_version=_UNSET, late_policy=_UNSET, record_source=_UNSET,
                  db: Database | None = None) -> dict:
    """Edit a period's dates, 填报截止日期, late policy, table version and record source (计分依据:
    typed / records / records_if_any); returns {field: (old, new)}.

    The table version may change only while nothing has been committed for the period (the
    values would otherwise have been checked against another table). A published period is
    not edited. Every change is audited with before and after.
    """
    require(principal, "manage_tables")
    db = db or get_db()
    with db.session() as s:
        p = _period(s, code)
        if p.status == PERIOD_STATUSES[-1]:
            raise _invalid(f"{p.code} 考核结果已发布，不能再修改考核期设置；如需更正，请由系统管理员重新开放该考核期（须填写理由）")
        changes: dict[str, tuple] = {}
        start = p.start_date if start_date is _UNSET else _as_date(start_date, "开始日期") or p.start_date
        end = p.end_date if end_date is _UNSET else _as_date(end_date, "结束日期") or p.end_date
        if end < start:
            raise _invalid(f"结束日期 {end} 早于开始日期 {start}")
        for name, new in (("start_date", start), ("end_date", end)):
            if getattr(p, name) != new:
                changes[name] = (getattr(p, name), new)
        if deadline is not _UNSET:
            new_deadline = _as_date(deadline, "填报截止日期")
            if new_deadline is not None and new_deadline < start:
                raise _invalid(f"填报截止日期 {new_deadline} 早于考核期开始日期 {start}")
            if new_deadline != p.deadline:
                changes["deadline"] = (p.deadline, new_deadline)
        if late_policy is not _UNSET and late_policy != p.late_policy:
            if late_policy not in LATE_POLICIES:
                raise _invalid("逾期上传的处理方式应为 warn（警告）或 refuse（拒绝）")
            changes["late_policy"] = (p.late_policy, late_policy)
        if record_source is not _UNSET and record_source != (p.record_source or "typed"):
            changes["record_source"] = (p.record_source or "typed", _record_source(record_source))
        if table_version is not _UNSET and table_version and table_version != p.table_version.version:
            tv = s.scalar(select(TableVersion).where(TableVersion.version == table_version))
            if tv is None:
                raise _invalid(f"指标体系版本 {table_version} 不存在")
            if _committed(s, p.id):
                raise _invalid(f"{p.code} 已有提交的填报数据，不能再更换指标体系版本（数据是按 "
                               f"{p.table_version.version} 版校验的）；如确需更换，请新建考核期")
            changes["table_version"] = (p.table_version.version, tv.version)
            p.table_version_id = tv.id
        if not changes:
            return {}
        for name in ("start_date", "end_date", "deadline", "late_policy", "record_source"):
            if name in changes:
                setattr(p, name, changes[name][1])
        # Dates and the table move scores (caps, due items): a new cache key; dates also move which
        # units take part.
        p.data_version = (p.data_version or 0) + 1
        p.units_version = (p.units_version or 0) + 1
        _audit(s, principal, "period_update", entity="period", entity_id=p.code, period_code=p.code,
               before={k: v[0] for k, v in changes.items()}, after={k: v[1] for k, v in changes.items()})
    return changes


def bump_for_dates(s, unit_id: int | None, dates) -> list[str]:
    """Give every unpublished period whose span holds one of ``dates`` a new data version; returns their codes.

    Call it in the same transaction as any write of activity records (add, supersede, withdraw,
    import): a record counts in every period whose [start_date, end_date] holds its ``held_on``, so
    those periods' cached scores must go. ``unit_id`` is accepted for the callers' symmetry (and a
    future per-unit key) — the data version is per period. A published period is not touched: its
    results are a frozen snapshot (writes to it are refused elsewhere).
    """
    days = sorted({_as_date(d, "活动日期") for d in dates if d not in (None, "")})
    if not days:
        return []
    rows = s.scalars(select(Period).where(Period.start_date <= days[-1], Period.end_date >= days[0],
                                          Period.status != PERIOD_STATUSES[-1])).all()
    bumped = []
    for p in rows:
        if any(p.start_date <= d <= p.end_date for d in days):
            p.data_version = (p.data_version or 0) + 1
            bumped.append(p.code)
    if bumped:
        s.flush()
    return sorted(bumped)


def set_period_status(principal: Principal, period_code: str, status: str, db: Database | None = None) -> None:
    from data import services

    services.set_period_status(principal, period_code, status, db=db)


# --------------------------------------------------------------------------- deadline

def days_left(deadline: dt.date | None, today: dt.date | None = None) -> int | None:
    """Days from today to the deadline (0 on the day itself, negative once past); None without one."""
    if deadline is None:
        return None
    return (deadline - (today or dt.date.today())).days


def deadline_text(deadline: dt.date | None, today: dt.date | None = None) -> str:
    """「距填报截止还有 5 天（2026-07-15）」 / 「今天截止」 / 「已逾期 3 天」 / 「未设截止日期」."""
    n = days_left(deadline, today)
    if n is None:
        return "未设填报截止日期"
    if n > 0:
        return f"距填报截止还有 {n} 天（{deadline.isoformat()}）"
    if n == 0:
        return f"今天（{deadline.isoformat()}）填报截止"
    return f"填报已于 {deadline.isoformat()} 截止，已逾期 {-n} 天"


@dataclass(frozen=True)
class LateUpload:
    """An upload after the deadline: refused (``refuse``) or accepted with a warning."""

    refuse: bool
    message: str


def late_upload(db: Database, period_code: str, today: dt.date | None = None) -> LateUpload | None:
    """None when the period has no deadline or it has not passed; else what the period says to do."""
    with db.session() as s:
        p = repo.get_period(s, period_code)
        if p is None or p.deadline is None:
            return None
        deadline, policy = p.deadline, p.late_policy
    n = days_left(deadline, today)
    if n is None or n >= 0:
        return None
    label = period_label(period_code)
    if policy == "refuse":
        return LateUpload(True, f"{label}的填报已于 {deadline.isoformat()} 截止（已逾期 {-n} 天），不再接收上传；"
                                "如确需补报，请联系管理员延长填报截止日期")
    return LateUpload(False, f"{label}的填报已于 {deadline.isoformat()} 截止（已逾期 {-n} 天）；本次上传仍可提交，"
                             "但将记为逾期报送")


def not_due_warning(period_code: str, item_code: str, db: Database | None = None) -> str | None:
    """Why an inspector's entry on an item will not count, when the item is not due in the period
    (a 年度 item in a half year); None when it is due. The entry is kept (the annual period may
    take it up) — the inspector is told, rather than the score silently ignoring it."""
    db = db or get_db()
    with db.session() as s:
        p = repo.get_period(s, period_code) if isinstance(period_code, str) else None
        if p is None:
            return None
        table = repo.table_for(p)
        kind = p.kind
    try:
        item = table.item(item_code)
    except KeyError:
        return None
    if kind == PERIOD_H1 and item.period == PERIOD_ANNUAL:
        return (f"「{item.code} {item.name}」是年度考核指标，{period_label(period_code)}不到期（不计入满分），"
                "本次录入已保存，但不会计入该考核期的得分；请在年度考核期录入")
    return None


# --------------------------------------------------------------------------- progress

def due_fields(table: IndicatorTable, kind: str) -> list[str]:
    """Fields a unit is expected to report in a period: those of the base items due in it.

    Bonus and veto fields are optional (unreported counts as 0 / 否), gate fields only decide
    whether an item applies, and a 年度 item's fields are not due in a half year.
    """
    out: dict[str, None] = {}
    for item in table.items:
        if kind == PERIOD_H1 and item.period == PERIOD_ANNUAL:
            continue
        if item.rule == "manual":
            continue
        for f in item.fields:
            out.setdefault(f, None)
    return list(out)


@dataclass(frozen=True)
class Progress:
    period_code: str
    deadline: dt.date | None
    days_left: int | None
    deadline_text: str
    late_policy: str
    units: pd.DataFrame  # PROGRESS_COLUMNS, not yet / partial first

    @property
    def counts(self) -> dict[str, int]:
        st = self.units["status"] if len(self.units) else pd.Series(dtype=object)
        return {"units": len(self.units), SUBMITTED: int((st == SUBMITTED).sum()),
                PARTIAL: int((st == PARTIAL).sum()), NOT_YET: int((st == NOT_YET).sum())}


def progress(principal: Principal, period_code: str, db: Database | None = None,
             today: dt.date | None = None) -> Progress:
    """填报进度: per unit (staff: their own), submitted / with fields still blank / not yet."""
    require(principal, "view_progress")
    db = db or get_db()
    scope = unit_scope(principal)
    with db.session() as s:
        p = _period(s, period_code)
        table = repo.table_for(p)
        units = repo.units_frame(s, p)
        due = due_fields(table, p.kind)
        rows = s.execute(
            select(EvidenceValue.unit_id, EvidenceValue.field, EvidenceValue.uploaded_at, User.display_name,
                   UploadBatch.status)
            .join(UploadBatch, UploadBatch.id == EvidenceValue.batch_id)
            .outerjoin(User, User.id == EvidenceValue.uploaded_by)
            .where(EvidenceValue.period_id == p.id, EvidenceValue.superseded_at.is_(None),
                   EvidenceValue.value.is_not(None))
            .order_by(EvidenceValue.unit_id, EvidenceValue.uploaded_at)).all()
        deadline, policy = p.deadline, p.late_policy
    if scope is not None and len(units):
        units = units[units["unit"].isin(scope)]
    labels = {n: f.label for n, f in table.fields.items()}
    filled: dict[int, set[str]] = {}
    last: dict[int, tuple] = {}
    for uid, field, at, who, _status in rows:
        filled.setdefault(uid, set()).add(field)
        last[uid] = (at, who or "")
    out = []
    for u in units.itertuples():
        have = filled.get(int(u.unit_id), set())
        n_filled = sum(f in have for f in due)
        blank = [labels.get(f, f) for f in due if f not in have]
        status = NOT_YET if not have else (SUBMITTED if not blank else PARTIAL)
        at, who = last.get(int(u.unit_id), (None, ""))
        out.append((u.unit, u.name, u.bureau, u.category, status, n_filled, len(due), "、".join(blank), at, who))
    df = pd.DataFrame(out, columns=PROGRESS_COLUMNS)
    order = {NOT_YET: 0, PARTIAL: 1, SUBMITTED: 2}
    if len(df):
        df = (df.assign(_o=df["status"].map(order)).sort_values(["_o", "unit"]).drop(columns="_o")
              .reset_index(drop=True))
    return Progress(period_code, deadline, days_left(deadline, today), deadline_text(deadline, today), policy, df)


def reminder_frame(prog: Progress) -> pd.DataFrame:
    """The 催报 list: units not yet reported or with fields still blank, as the export shows them."""
    df = prog.units[prog.units["status"] != SUBMITTED]
    return pd.DataFrame({
        "单位编码": df["unit"], "单位名称": df["name"], "所属局": df["bureau"], "填报状态": df["status"],
        "已填数据项": df["n_filled"].astype(int), "应填数据项": df["n_due"].astype(int),
        "未填数据项": [f"全部 {int(n)} 项未填" if st == NOT_YET else b
                   for st, n, b in zip(df["status"], df["n_due"], df["blank_fields"])],
        "填报截止日期": prog.deadline.isoformat() if prog.deadline else "未设",
        "剩余天数": prog.days_left if prog.days_left is not None else "",
    }).reset_index(drop=True)


def reminder_xlsx(principal: Principal, period_code: str, db: Database | None = None,
                  today: dt.date | None = None) -> bytes:
    """催报名单 (.xlsx) through the formula-safe writer of ``data.exports``."""
    from data import exports

    prog = progress(principal, period_code, db=db, today=today)
    return exports.to_xlsx({"催报名单": reminder_frame(prog)})


__all__ = ["create_period", "update_period", "not_due_warning", "set_period_status", "late_upload", "LateUpload", "progress",
           "Progress", "reminder_frame", "reminder_xlsx", "due_fields", "days_left", "deadline_text",
           "SUBMITTED", "PARTIAL", "NOT_YET", "PROGRESS_COLUMNS"]
