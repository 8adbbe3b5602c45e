"""The database schema (SQLAlchemy 2 declarative models).

Owns table definitions only. Queries live in ``data/services.py`` and
``data/repo.py``; schema changes go through Alembic (``data/migrations``), and a
test checks the migrations produce exactly these models.

History is never overwritten: evidence values, inspector adjustments and unit
names are superseded (``superseded_at``/``valid_to`` set) instead of updated.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


PERIOD_STATUSES = ("填报中", "考核中", "已发布")
LATE_POLICIES = {"warn": "逾期上传给出警告，仍可提交", "refuse": "逾期不再接收上传"}
RECTIFICATION_STATUSES = ("整改中", "已销号", "回头看通过", "已重开", "已撤回")
OPEN_RECTIFICATION = ("整改中", "已重开")
ADJUSTMENT_KINDS = ("judgement", "deduction", "not_applicable")
RECORD_SOURCES = {"typed": "以填报数为准（活动记录仅作对照）",
                  "records": "以活动记录为准",
                  "records_if_any": "有活动记录的以记录为准，否则以填报数为准"}
REVIEW_STATUSES = ("已核实", "不符合")


class OrgUnit(Base):
    """An assessed party organisation (党支部 / 党总支); ``code`` is its stable identity."""

    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # current name; history in unit_names
    kind: Mapped[str] = mapped_column(String(16), default="党支部")  # 党委 / 党总支 / 党支部
    level: Mapped[str] = mapped_column(String(4))  # 市 / 县
    category: Mapped[str] = mapped_column(String(32))  # 分类排名 group
    bureau: Mapped[str] = mapped_column(String(64))  # 市局机关 / XX县局
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    members_full: Mapped[int] = mapped_column(Integer, default=0)
    members_probationary: Mapped[int] = mapped_column(Integer, default=0)
    secretary: Mapped[str | None] = mapped_column(String(32))
    last_election: Mapped[dt.date | None] = mapped_column(Date)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)  # closed or merged
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # 支部委员会 set up (True), not set up (False), not stated (None): ≥7 full members need one.
    has_committee: Mapped[bool | None] = mapped_column(Boolean)
    # 是否参加考核 = 否 from this date: left out of every period ending on or after it.
    excluded_from: Mapped[dt.date | None] = mapped_column(Date)

    names: Mapped[list["UnitName"]] = relationship(back_populates="unit", order_by="UnitName.valid_from")


class UnitName(Base):
    """The name a unit carried over a date range, so old periods show the old name."""

    __tablename__ = "unit_names"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    unit: Mapped[OrgUnit] = relationship(back_populates="names")


class TableVersion(Base):
    """One version of the indicator table, stored as the dict ``scoring.indicators`` parses."""

    __tablename__ = "table_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # Read only when the table itself is needed: listing periods (every page) asks only its version name,
    # and parsing the whole table's JSON there cost 5 ms a branch-page view.
    content: Mapped[dict] = mapped_column(JSON, deferred=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Period(Base):
    __tablename__ = "periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # 2026H1 / 2026
    kind: Mapped[str] = mapped_column(String(8))  # H1 / year
    year: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="填报中")
    table_version_id: Mapped[int] = mapped_column(ForeignKey("table_versions.id"))
    # Bumped by every write that can move a score: the score cache key.
    data_version: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # 填报截止日期 (inclusive)
    # Uploads after the deadline: "warn" (accepted with a warning) or "refuse" (LATE_POLICIES).
    late_policy: Mapped[str] = mapped_column(String(8), default="warn", server_default="warn")
    # Fields the table derives from activity records (``from_records``): which value counts when a unit
    # has both a typed value and records — RECORD_SOURCES.
    record_source: Mapped[str] = mapped_column(String(16), default="typed", server_default="typed")
    # Bumped (with data_version) whenever the units assessed in the period may change: an org change,
    # or new period dates. Evidence commits leave it alone, so each worker keeps its units frame.
    units_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    table_version: Mapped[TableVersion] = relationship()


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Set for new accounts and after an admin reset: the next sign-in must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Bumped to end every session of the user (disable, password change/reset); sessions carry the value.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    units: Mapped[list[OrgUnit]] = relationship(secondary="user_units")


class UserUnit(Base):
    """Units a user answers for (staff) — the unit-level access scope."""

    __tablename__ = "user_units"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)


class UploadBatch(Base):
    __tablename__ = "upload_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_hash: Mapped[str] = mapped_column(String(64), index=True)
    file_format: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16))  # committed / rejected / duplicate / seed
    n_units: Mapped[int] = mapped_column(Integer, default=0)
    n_values: Mapped[int] = mapped_column(Integer, default=0)
    n_changed: Mapped[int] = mapped_column(Integer, default=0)
    n_errors: Mapped[int] = mapped_column(Integer, default=0)
    n_warnings: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    user: Mapped["User | None"] = relationship()


class EvidenceValue(Base):
    """One reported value with its provenance. Current = ``superseded_at IS NULL``."""

    __tablename__ = "evidence_values"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    raw: Mapped[str | None] = mapped_column(String(255))  # as written in the file
    batch_id: Mapped[int] = mapped_column(ForeignKey("upload_batches.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(64))
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(80))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The row that replaced this one. No FOREIGN KEY (0009): it made SQLite's supersede UPDATE twice as
    # slow, and the one writer (evidence_service._insert_and_supersede) sets it to a row of the same
    # transaction; evidence rows are never deleted.
    superseded_by_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_evidence_current", "period_id", "unit_id", "field"),  # a unit's history
                      # Covers the scoring read (a period's current values, by unit, field, id) without touching
                      # the table rows; partial, so superseding a value only deletes its entry (0008).
                      Index("ix_evidence_period_values", "period_id", "unit_id", "field", "id", "value",
                            "superseded_at", sqlite_where=text("superseded_at IS NULL"),
                            postgresql_where=text("superseded_at IS NULL")))


class Adjustment(Base):
    """An inspector's judgement score, deduction or 不适用 mark on one item of one unit."""

    __tablename__ = "adjustments"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    item_code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # ADJUSTMENT_KINDS
    points: Mapped[float] = mapped_column(Float, default=0)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    author: Mapped["User | None"] = relationship()

    __table_args__ = (Index("ix_adjustment_current", "period_id", "unit_id", "superseded_at"),)


class GradeOverride(Base):
    """An inspector's 直接定级 of one unit in one period (only when the table allows it), with a reason.

    Superseded, never updated; ``grade`` None records a withdrawal.
    """

    __tablename__ = "grade_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    grade: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_grade_override_current", "period_id", "unit_id", "superseded_at"),)


class SelfAssessment(Base):
    """A unit's own score for an item (自评分), compared with the engine's score."""

    __tablename__ = "self_assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    item_code: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("period_id", "unit_id", "item_code", name="uq_self_assessment"),)


class Rectification(Base):
    """整改 item: a problem found in an inspection, closed (销号) with evidence, rechecked (回头看)."""

    __tablename__ = "rectifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    item_code: Mapped[str | None] = mapped_column(String(16))
    problem: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(120))  # e.g. 2026 年上半年台账资料检查
    responsible: Mapped[str | None] = mapped_column(String(32))
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="整改中")
    closed_at: Mapped[dt.date | None] = mapped_column(Date)
    closed_evidence: Mapped[str | None] = mapped_column(Text)
    recheck_at: Mapped[dt.date | None] = mapped_column(Date)
    recheck_result: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CandidateDecision(Base):
    """An inspector's 推荐 / 不推荐 on a 先进基层党组织 candidate; latest row wins."""

    __tablename__ = "candidate_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    decision: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditLog(Base):
    """Append-only record of every change that can move a score, and of sign-ins."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    period_code: Mapped[str | None] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))


class ServerSession(Base):
    """A server-side sign-in session (Flask-Session's store, see ``data/sessions.py``).

    The browser holds only a signed random id; deleting the row ends the session.
    """

    __tablename__ = "server_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expiry: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class LoginThrottle(Base):
    """Failed sign-in counters shared by every worker and host (``data/throttle.py``)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    last_failure: Mapped[dt.datetime] = mapped_column(DateTime)



class StoredResult(Base):
    """A period's computed results (ScoreResult frames, gap lists) for one data and table version,
    shared by every worker: computed once per data change (see ``data/results_store.py``)."""

    __tablename__ = "stored_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # score / gaps
    data_version: Mapped[int] = mapped_column(Integer)
    table_version_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # data/frames.py container
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("period_id", "kind", "data_version", "table_version_id",
                                       name="uq_stored_result"),)


class Publication(Base):
    """One publication of a period: the complete results frozen as they were published.

    Written once, never updated: re-opening is an audit entry and the period's status;
    publishing again adds the next ``number`` (「第 2 次发布」)."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    data_version: Mapped[int] = mapped_column(Integer)
    table_version: Mapped[str] = mapped_column(String(32))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_name: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)  # date time-dependent conditions were evaluated at
    summary: Mapped[dict] = mapped_column(JSON)  # counts, and what changed since the previous publication
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # data/frames.py container

    __table_args__ = (UniqueConstraint("period_id", "number", name="uq_publication_number"),)


class ActivityRecord(Base):
    """One 三会一课 (or other) activity a unit held, with attendance and provenance.

    Dated, not tied to a period: a record counts in every period whose span holds ``held_on``.
    Never updated: an edit supersedes the row (``superseded_at``/``superseded_by_id``); a withdrawal
    sets ``withdrawn_at`` with a reason.
    """

    __tablename__ = "activity_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    activity_type: Mapped[str] = mapped_column(String(32))  # 支委会 / 支部党员大会 / 党课 … (table's from_records)
    held_on: Mapped[dt.date] = mapped_column(Date)
    topic: Mapped[str | None] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(120))
    expected: Mapped[int | None] = mapped_column(Integer)  # 应到人数
    attended: Mapped[int | None] = mapped_column(Integer)  # 实到人数
    host: Mapped[str | None] = mapped_column(String(64))  # 主持人 / 主讲人
    secretary_lectured: Mapped[bool | None] = mapped_column(Boolean)  # 党课: 书记讲党课
    note: Mapped[str | None] = mapped_column(Text)
    # Provenance: a spreadsheet import (batch, file, sheet, row) or entry on the branch page (no batch).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("upload_batches.id"), index=True)
    file_name: Mapped[str | None] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(64))
    row: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("activity_records.id"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_activity_current", "unit_id", "superseded_at", "withdrawn_at", "held_on"),
                      Index("ix_activity_held_on", "held_on"))


class Attachment(Base):
    """A 佐证材料 file attached to an activity record or to a unit × item of a period.

    The bytes live in the attachment store (instance folder or S3-compatible storage) under
    ``storage_key``; the row holds the type detected from the content, never the one the browser sent.
    """

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    period_id: Mapped[int | None] = mapped_column(ForeignKey("periods.id"))  # unit × item attachments
    item_code: Mapped[str | None] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("activity_records.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))  # as uploaded (display only)
    content_type: Mapped[str] = mapped_column(String(80))  # detected from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    review_status: Mapped[str | None] = mapped_column(String(8))  # REVIEW_STATUSES; None = 未核查
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (Index("ix_attachment_unit_period", "unit_id", "period_id", "item_code"),)


from data import textlimits  # noqa: E402,F401  (registers the text-length check on every flush)
