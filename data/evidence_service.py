"""Use cases of evidence intake: template download, preview, atomic commit, history.

Owns the path from uploaded bytes to the database: it looks up the period, its
indicator-table version, the units, the uploader's scope and last period's
values, calls ``data.intake.parse_upload``, and either previews (nothing is
written) or commits in one transaction. Scores shown in a preview come from
``services.score_with_changes`` — the one scoring engine — without saving.

Every function checks the caller's ``Principal`` (action ``upload``, unit scope
for staff). Bad files and refused uploads come back as issues in the report,
never as exceptions; only ``template_bytes`` raises ``AccessDenied`` / ``NotFound``
(a download: HTTP 403 / 404 for the page, a message for the CLI).

Commit protocol (also what makes concurrent uploads safe): the transaction
first bumps the period's ``data_version`` — on SQLite that takes the write lock,
on PostgreSQL the period row is additionally locked ``FOR UPDATE`` — and only
then reads the duplicate check and the current values, so two commits for the
same period run one after the other. The later one supersedes field by field;
both batches stay in the history.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select

from data import commit_score, periods, preview_score, repo, results_store, services
from data.db import Database
from data.intake import Limits, UploadReport, build_template, format_issues, parse_upload
from data.intake.issues import IssueCode, Severity, UploadIssue
from data.models import PERIOD_STATUSES, OrgUnit, Period, UploadBatch, utcnow
from data.permissions import NotFound, Principal, require, unit_scope
from scoring.glossary import period_label

CHANGE_COLUMNS = ["unit", "unit_name", "field", "field_label", "old", "new", "sheet", "row", "column"]
SCORE_CHANGE_COLUMNS = ["unit", "name", "total_before", "total_after", "delta", "rank_before", "rank_after",
                        "grade_before", "grade_after"]
# Field kinds whose values grow with the length of the period (compared across H1 / year at half / double).
_PRORATED_KINDS = ("count", "hours", "people")
_EPS = 1e-9


@dataclass
class Preview:
    report: UploadReport
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))
    score_changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCORE_CHANGE_COLUMNS))
    duplicate_of: int | None = None
    file_hash: str = ""
    period_code: str = ""

    @property
    def ok(self) -> bool:
        return self.report.ok


@dataclass
class CommitResult:
    status: str  # committed / duplicate / rejected
    batch_id: int | None
    n_values: int
    n_changed: int
    n_units: int
    report: UploadReport
    period_code: str = ""
    file_name: str = ""


@dataclass(frozen=True)
class _Context:
    period_id: int
    period_code: str
    period_kind: str
    table_version: str
    table: object
    units: pd.DataFrame
    current: pd.DataFrame
    previous: pd.DataFrame
    period_dates: tuple = (None, None)  # (start, end): caps are prorated to the period's days


# --------------------------------------------------------------------------- helpers

PUBLISHED = PERIOD_STATUSES[-1]  # 已发布


def _principal(db: Database, who) -> Principal | None:
    if who is None or isinstance(who, Principal):
        return who
    from data.accounts import get_principal

    return get_principal(int(who), db=db)


def _refused(data: bytes, file_name: str, code: IssueCode, message: str) -> UploadReport:
    report = UploadReport(file_name=file_name, file_hash=hashlib.sha256(data or b"").hexdigest())
    report.issues.append(UploadIssue(code=code, sheet="", row=0, column="", value="", message=message,
                                     severity=Severity.ERROR))
    return report


def _check_access(db: Database, data: bytes, file_name: str, period_code: str,
                  principal: Principal | None) -> UploadReport | None:
    """A report holding the one refusal, or None when the upload may proceed."""
    if principal is None or not principal.can("upload"):
        return _refused(data, file_name, IssueCode.UPLOAD_NOT_ALLOWED,
                        f"{file_name}：当前账号没有上传填报数据的权限；请由党务干事、考核组或管理员上传")
    scope = unit_scope(principal)
    if scope is not None and not scope:
        return _refused(data, file_name, IssueCode.UPLOAD_NOT_ALLOWED,
                        f"{file_name}：当前账号未分配负责的单位，不能上传；请联系管理员分配单位")
    with db.session() as s:
        p = repo.get_period(s, period_code)
        if p is None:
            return _refused(data, file_name, IssueCode.UNKNOWN_PERIOD,
                            f"{file_name}：考核期「{period_code}」不存在；请选择系统中已有的考核期")
        if p.status == PUBLISHED:
            # Published results must not move under the leaders' feet; an admin reopens the period
            # (reopen-period, with a reason, audited) when a correction is really needed.
            return _refused(data, file_name, IssueCode.PERIOD_PUBLISHED, _published_message(file_name, period_code))
    late = periods.late_upload(db, period_code)
    if late is not None and late.refuse:
        return _refused(data, file_name, IssueCode.LATE_UPLOAD, f"{file_name}：{late.message}")
    return None


def _late_warning(db: Database, report: UploadReport, period_code: str) -> None:
    """After the deadline with the ``warn`` policy: the upload goes on, with a WARNING saying so."""
    late = periods.late_upload(db, period_code)
    if late is not None and not late.refuse:
        report.issues.insert(0, UploadIssue(code=IssueCode.LATE_UPLOAD, sheet="", row=0, column="", value="",
                                            message=f"{report.file_name}：{late.message}",
                                            severity=Severity.WARNING))


def _published_message(file_name: str, period_code: str) -> str:
    return (f"{file_name}：{period_label(period_code)}的考核结果已发布，不再接收填报数据；"
            "如需更正，请联系系统管理员重新开放该考核期")


def _previous_values(db: Database, s, p: Period, table, scope: frozenset | None = None) -> pd.DataFrame:
    """Last period's values to compare with: the previous same-kind period, else the previous one rescaled.
    ``scope``: a staff user's unit codes: only theirs are read. Otherwise built once per (previous
    period's data version, this period's table) in each process: a preview at 10,000 units must not
    re-read and rescale half a million values."""
    prev = repo.previous_period(s, p, same_kind=True)
    scale = 1.0
    if prev is None:
        prev = repo.previous_period(s, p, same_kind=False)
        if prev is not None and prev.kind != p.kind:
            scale = 0.5 if p.kind == "H1" else 2.0
    if prev is None:
        return pd.DataFrame(columns=["unit", "field", "value"])
    prev_id, prev_code, prev_kind = prev.id, prev.code, prev.kind

    def build() -> pd.DataFrame:
        with db.session() as s2:
            ids = None if scope is None else list(s2.scalars(select(OrgUnit.id).where(OrgUnit.code.in_(scope))))
            ev = repo.evidence_frame(s2, prev_id, ids)
        label = period_label(prev_code)
        if prev_kind != p.kind and len(ev):
            # A half year against a year: only what can be put on one scale is compared — counts,
            # hours and people rescaled, rates as they are; anything else would be noise.
            kind = ev["field"].map({n: f.kind for n, f in table.fields.items()})
            ev = ev[kind.isin(_PRORATED_KINDS + ("percent",))].copy()
            mask = kind[ev.index].isin(_PRORATED_KINDS).to_numpy()
            ev.loc[mask, "value"] = ev.loc[mask, "value"] * scale
            label += "，次数和学时按" + ("半年折算" if scale < 1 else "全年折算")
        return ev.assign(source=label)

    if scope is not None:
        return build()
    key = ("previous_values", prev_id, prev.data_version, p.id, p.table_version_id)
    return results_store.memoised(db, key, build, family=("previous_values", p.id))


def _period_table_units(s, period_code: str):
    """(period row, its indicator table, its units) or NotFound."""
    p = repo.get_period(s, period_code)
    if p is None:
        raise NotFound(f"考核期 {period_code} 不存在")
    return p, repo.table_for(p), repo.units_frame(s, p)


def _context(db: Database, period_code: str, for_commit: bool = False, scope: frozenset | None = None) -> _Context:
    """What parsing needs. A commit reads the current values itself, under the period lock, and
    skips last period's values: FAR_FROM_LAST is a preview warning and never blocks a commit.
    ``current`` is left empty: a preview reads the current values of the file's units once parsed."""
    empty = pd.DataFrame(columns=["unit", "field", "value"])
    with db.session() as s:
        p, table, units = _period_table_units(s, period_code)
        return _Context(p.id, p.code, p.kind, p.table_version.version, table, units, empty,
                        empty if for_commit else _previous_values(db, s, p, table, scope),
                        (p.start_date, p.end_date))


def _limits(limits: Limits | None) -> Limits:
    """The caller's limits, else the running app's MAX_UPLOAD_BYTES (enforced here, on the server)."""
    if limits is not None:
        return limits
    try:
        from flask import current_app, has_app_context

        if has_app_context() and current_app.config.get("MAX_UPLOAD_BYTES"):
            return Limits(max_bytes=int(current_app.config["MAX_UPLOAD_BYTES"]))
    except ImportError:  # pragma: no cover
        pass
    return Limits()


def _parse(db: Database, data: bytes, file_name: str, ctx: _Context, principal: Principal,
           limits: Limits | None) -> UploadReport:
    scope = unit_scope(principal)
    return parse_upload(data, file_name, ctx.table, ctx.units[["unit", "name"]] if len(ctx.units)
                        else pd.DataFrame(columns=["unit", "name"]), ctx.period_code, ctx.period_kind,
                        ctx.table_version, allowed_units=None if scope is None else set(scope),
                        previous_values=ctx.previous, limits=_limits(limits), period_dates=ctx.period_dates)


def _committed_batch(s, period_id: int, file_hash: str) -> int | None:
    return s.scalar(select(UploadBatch.id).where(UploadBatch.period_id == period_id,
                                                 UploadBatch.file_hash == file_hash,
                                                 UploadBatch.status == "committed")
                    .order_by(UploadBatch.id).limit(1))


def _changes(values: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Values of the file that are new or differ from the current ones, with the old value."""
    if values.empty:
        return values.assign(old=pd.Series(dtype=float)).iloc[0:0]
    cur = current.rename(columns={"value": "old"})[["unit", "field", "old"]]
    merged = values.merge(cur, on=["unit", "field"], how="left")
    differs = merged["old"].isna() | ((merged["value"] - merged["old"]).abs() > _EPS)
    return merged[differs].reset_index(drop=True)


def _cleared(clears: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """「清除」 cells whose unit has a current value for the field (clearing nothing changes nothing)."""
    if clears.empty or current.empty:
        return clears.assign(old=pd.Series(dtype=float)).iloc[0:0]
    cur = current.rename(columns={"value": "old"})[["unit", "field", "old"]]
    merged = clears.merge(cur, on=["unit", "field"], how="inner")
    return merged[merged["old"].notna()].reset_index(drop=True)


def _all_changes(report: UploadReport, current: pd.DataFrame) -> pd.DataFrame:
    """New or different values and effective clears (``value`` NaN), in file order."""
    parts = [_changes(report.values, current), _cleared(report.clears, current)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _changes(report.values, current)
    return pd.concat(parts, ignore_index=True).sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _change_frame(ctx: _Context, changed: pd.DataFrame) -> pd.DataFrame:
    if changed.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    names = dict(zip(ctx.units["unit"], ctx.units["name"]))
    labels = {n: f.label for n, f in ctx.table.fields.items()}
    out = pd.DataFrame({
        "unit": changed["unit"], "unit_name": changed["unit"].map(names), "field": changed["field"],
        "field_label": changed["field"].map(labels), "old": changed["old"].astype(float),
        "new": changed["value"].astype(float), "sheet": changed["sheet"], "row": changed["row"].astype(int),
        "column": changed["column"] + " " + changed["header"],
    }, columns=CHANGE_COLUMNS)
    return out.reset_index(drop=True)


def _score_changes(db: Database, ctx: _Context, report: UploadReport, changed: pd.DataFrame,
                   principal: Principal, current: pd.DataFrame) -> pd.DataFrame:
    if changed.empty:
        return pd.DataFrame(columns=SCORE_CHANGE_COLUMNS)
    before = services.score_period(ctx.period_code, db).units
    new_values = report.values[["unit", "field", "value"]]
    if len(report.clears):  # a NaN row replaces the current value: 缺报, as after the commit
        new_values = pd.concat([new_values, report.clears[["unit", "field", "value"]]], ignore_index=True)
    after = preview_score.units_after(ctx.period_code, ctx.period_id, new_values, current, db)
    b = before.set_index("unit")[["name", "total", "rank", "grade"]]
    a = after.set_index("unit")[["name", "total", "rank", "grade"]]
    # Outer: a unit 「尚无数据」 before this upload is scored for the first time after it.
    df = b.join(a, how="outer", lsuffix="_before", rsuffix="_after").reset_index()
    df["name"] = df["name_before"].fillna(df["name_after"])
    touched = set(changed["unit"])
    moved = (df["unit"].isin(touched) | (df["rank_before"] != df["rank_after"])
             | ((df["total_before"] - df["total_after"]).abs() > _EPS))
    df = df[moved]
    scope = unit_scope(principal)
    if scope is not None:
        df = df[df["unit"].isin(scope)]
    df = df.assign(delta=df["total_after"] - df["total_before"])
    df = df.sort_values(["delta", "unit"], key=lambda s: s.abs() if s.name == "delta" else s,
                        ascending=[False, True])
    return df[SCORE_CHANGE_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- use cases

def template_bytes(db: Database, period_code: str, principal: Principal | None = None) -> bytes:
    """The period's template (.xlsx); ``principal`` None = every unit (CLI operator), staff: their units."""
    if principal is not None:
        require(principal, "upload")
    with db.session() as s:
        p, table, units = _period_table_units(s, period_code)
        kind, code, dates = p.kind, p.code, (p.start_date, p.end_date)
    scope = unit_scope(principal) if principal is not None else None
    if scope is not None and len(units):
        units = units[units["unit"].isin(scope)]
    if units.empty:
        units = pd.DataFrame(columns=["unit", "name"])
    return build_template(table, units[["unit", "name"]], code, kind, period_dates=dates)


def preview_upload(db: Database, data: bytes, file_name: str, period_code: str, user,
                   limits: Limits | None = None) -> Preview:
    """Parse, validate and preview an upload; writes nothing.

    ``user``: a Principal or a user id. Returns a ``Preview`` with the report, the
    changed values (old → new), the score and rank changes and the id of an
    already committed batch with the same file hash (``duplicate_of``).
    """
    principal = _principal(db, user)
    refused = _check_access(db, data, file_name, period_code, principal)
    if refused is not None:
        return Preview(report=refused, file_hash=refused.file_hash, period_code=period_code)
    ctx = _context(db, period_code, scope=unit_scope(principal))
    report = _parse(db, data, file_name, ctx, principal, limits)
    _late_warning(db, report, period_code)
    # The current values of the file's units only: a small file at 10,000 units reads a few rows.
    current = preview_score.current_values(db, ctx.period_id, pd.concat([report.values["unit"],
                                                                         report.clears["unit"]]))
    changed = _all_changes(report, current)
    with db.session() as s:
        # A duplicate only when committing again would change nothing (see _write).
        duplicate_of = _committed_batch(s, ctx.period_id, report.file_hash) if changed.empty else None
    score_changes = (_score_changes(db, ctx, report, changed, principal, current) if report.ok
                     else pd.DataFrame(columns=SCORE_CHANGE_COLUMNS))
    return Preview(report=report, changes=_change_frame(ctx, changed), score_changes=score_changes,
                   duplicate_of=duplicate_of, file_hash=report.file_hash, period_code=period_code)


class _Duplicate(Exception):
    def __init__(self, batch_id: int):
        self.batch_id = batch_id


class _Published(Exception):
    pass


def commit_upload(db: Database, data: bytes, file_name: str, period_code: str, user,
                  limits: Limits | None = None) -> CommitResult:
    """Re-parse the bytes and, when there is no error, write them in one transaction.

    Every check that can block is run again on the bytes (a preview is never trusted);
    the far-from-last-period warnings are the preview's only, so ``report.warnings``
    and the batch's ``n_warnings`` here exclude them.

    Status ``rejected`` (any ERROR; nothing written but a value-less batch row for the
    history), ``duplicate`` (the same file was already committed for the period and
    would change nothing; nothing written) or ``committed``.
    """
    principal = _principal(db, user)
    refused = _check_access(db, data, file_name, period_code, principal)
    if refused is not None:
        return CommitResult("rejected", None, 0, 0, 0, refused, period_code, file_name)
    ctx = _context(db, period_code, for_commit=True)
    report = _parse(db, data, file_name, ctx, principal, limits)
    _late_warning(db, report, period_code)
    values = report.values
    n_units = int(values["unit"].nunique()) if len(values) else 0
    if not report.ok:
        with db.session() as s:
            batch = UploadBatch(period_id=ctx.period_id, user_id=principal.id, file_name=file_name[:255],
                                file_hash=report.file_hash, file_format=report.file_format or "",
                                status="rejected", n_units=0, n_values=0, n_changed=0,
                                n_errors=len(report.errors), n_warnings=len(report.warnings))
            s.add(batch)
            s.flush()
            services.audit(s, principal, "upload_rejected", entity="upload_batch", entity_id=batch.id,
                           period_code=period_code,
                           after={"file_name": file_name, "file_hash": report.file_hash,
                                  "errors": len(report.errors), "warnings": len(report.warnings)})
            batch_id = batch.id
        return CommitResult("rejected", batch_id, 0, 0, 0, report, period_code, file_name)
    try:
        with db.session() as s:
            batch_id, n_changed, after_commit = _write(db, s, ctx, principal, file_name, report)
        if after_commit is not None:
            after_commit()
    except _Duplicate as dup:
        return CommitResult("duplicate", dup.batch_id, len(values), 0, n_units, report, period_code, file_name)
    except _Published:
        refused = _refused(data, file_name, IssueCode.PERIOD_PUBLISHED, _published_message(file_name, period_code))
        return CommitResult("rejected", None, 0, 0, 0, refused, period_code, file_name)
    return CommitResult("committed", batch_id, len(values), n_changed, n_units, report, period_code, file_name)


_FEW_UNITS = 500  # up to this many units in a file, a commit reads only their current values


def _write(db: Database, s, ctx: _Context, principal: Principal, file_name: str,
           report: UploadReport) -> tuple[int, int, Callable[[], None] | None]:
    """Write the batch in ``s``; (batch id, values changed, what to do once ``s`` has committed)."""
    # Lock first, read after: the bump takes SQLite's write lock (and PostgreSQL's row lock)
    # before the duplicate check and the current values are read.
    services.bump(s, ctx.period_id)
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Period.id).where(Period.id == ctx.period_id).with_for_update())
    if s.scalar(select(Period.status).where(Period.id == ctx.period_id)) == PUBLISHED:
        raise _Published()  # published after the access check: refused under the lock, nothing written
    dup = _committed_batch(s, ctx.period_id, report.file_hash)
    values = report.values
    now = utcnow()
    cur, mark = _cursor(s)
    unit_ids = dict(zip(ctx.units["unit"].tolist(), ctx.units["unit_id"].astype(int).tolist()))
    file_units = sorted({unit_ids[u] for u in values["unit"].tolist()} | {unit_ids[u] for u in report.clears["unit"]})
    if len(file_units) <= _FEW_UNITS:  # a small file: its units' current values only (index ix_evidence_current)
        cur.execute(f"SELECT id, unit_id, field, value FROM evidence_values WHERE period_id = {mark} "
                    f"AND unit_id IN ({', '.join([mark] * len(file_units))}) AND superseded_at IS NULL",
                    (ctx.period_id, *file_units))
    else:
        cur.execute(f"SELECT id, unit_id, field, value FROM evidence_values "
                    f"WHERE period_id = {mark} AND superseded_at IS NULL", (ctx.period_id,))
    current = {(u, f): (i, v) for i, u, f, v in cur.fetchall()}
    changed = []
    for u, f, x, raw, sheet, row, col, header in zip(
            values["unit"].tolist(), values["field"].tolist(), values["value"].astype(float).tolist(),
            values["raw"].tolist(), values["sheet"].tolist(), values["row"].astype(int).tolist(),
            values["column"].tolist(), values["header"].tolist()):
        uid = unit_ids[u]
        old = current.get((uid, f))
        if old is not None and old[1] is not None and abs(old[1] - x) <= _EPS:
            continue  # unchanged: the current row and its provenance stay
        changed.append((uid, f, x, raw, sheet, row, col, header, old[0] if old is not None else None))
    # Clears: a NULL row supersedes a current value (history and provenance kept); clearing a
    # field that has no current value, or is already cleared, writes nothing.
    clears = report.clears
    for u, f, raw, sheet, row, col, header in zip(
            clears["unit"].tolist(), clears["field"].tolist(), clears["raw"].tolist(), clears["sheet"].tolist(),
            clears["row"].astype(int).tolist(), clears["column"].tolist(), clears["header"].tolist()):
        old = current.get((unit_ids[u], f))
        if old is None or old[1] is None:
            continue
        changed.append((unit_ids[u], f, None, raw, sheet, row, col, header, old[0]))
    # The same file again is a duplicate only when it would change nothing: re-uploading an earlier
    # file after a later one superseded it is how staff put the earlier values back.
    if dup is not None and not changed:
        raise _Duplicate(dup)
    batch = UploadBatch(period_id=ctx.period_id, user_id=principal.id, file_name=file_name[:255],
                        file_hash=report.file_hash, file_format=report.file_format or "", status="committed",
                        n_units=int(values["unit"].nunique()) if len(values) else 0, n_values=len(values),
                        n_changed=len(changed), n_errors=0, n_warnings=len(report.warnings),
                        created_at=now, committed_at=now)
    s.add(batch)
    s.flush()
    if changed:
        _insert_and_supersede(s, ctx.period_id, batch.id, principal.id, file_name, now, changed)
    code_of = {v: k for k, v in unit_ids.items()}
    # Before → after of every value this batch changed (the audit trail itself, not a pointer into
    # evidence_values, which later batches supersede), as four lists (``upload_changes`` reads it).
    units, fields = [code_of[c[0]] for c in changed], [c[1] for c in changed]
    diff = {"unit": units, "field": fields,
            "old": [current[(c[0], c[1])][1] if (c[0], c[1]) in current else None for c in changed],
            "new": [c[2] for c in changed]}
    services.audit(s, principal, "upload", entity="upload_batch", entity_id=batch.id, period_code=ctx.period_code,
                   after={"file_name": file_name, "file_hash": report.file_hash, "format": report.file_format,
                          "units": batch.n_units, "values": batch.n_values, "changed": batch.n_changed,
                          "cleared": sum(t[2] is None for t in changed), "warnings": batch.n_warnings,
                          "changes": diff})
    after_commit = None
    if len(file_units) <= _FEW_UNITS:  # a few units' file: the new version is scored and stored with it
        cells = pd.DataFrame({"unit": pd.array(units, dtype="str"), "field": pd.array(fields, dtype="str"),
                              "value": pd.array([np.nan if c[2] is None else c[2] for c in changed], dtype=float)})
        after_commit = commit_score.score_in_transaction(s, db, ctx.period_code, ctx.period_id, cells)
    return batch.id, len(changed), after_commit


def _cursor(s):
    """A DB-API cursor on the session's connection (same transaction) and its parameter mark.

    The bulk statements of a commit go through plain DB-API calls: SQLAlchemy's per-row
    parameter and Row processing would cost more than SQLite's own work for the
    ~100,000 rows of a full 2,000-unit file.
    """
    conn = s.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return conn.connection.dbapi_connection.cursor(), mark


def _insert_and_supersede(s, period_id: int, batch_id: int, user_id: int, file_name: str, now,
                          changed: list[tuple]) -> None:
    """Insert the batch's rows, then point every row they replace at its successor."""
    # In (unit, field) order: the order of the ix_evidence_current index both statements
    # maintain, which makes SQLite's page accesses sequential (~2× faster than file order).
    changed.sort(key=lambda t: (t[0], t[1]))
    cur, mark = _cursor(s)
    dialect = s.get_bind().dialect
    q = dialect.identifier_preparer.quote
    cols = ["period_id", "unit_id", "field", "value", "raw", "batch_id", "file_name", "sheet", "row", "column",
            "uploaded_by", "uploaded_at"]
    if dialect.name == "sqlite":  # the text form SQLAlchemy's DateTime stores (and reads back) on SQLite
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    fname = file_name[:255]
    cur.executemany(
        f"INSERT INTO evidence_values ({', '.join(q(c) for c in cols)}) VALUES ({', '.join([mark] * len(cols))})",
        [(period_id, uid, f, x, str(raw)[:255], batch_id, fname, str(sheet)[:64] if sheet else None, row,
          f"{col} {header}".strip()[:80], user_id, now)
         for uid, f, x, raw, sheet, row, col, header, _old in changed])
    if all(t[8] is None for t in changed):
        return
    cur.execute(f"SELECT id, unit_id, field FROM evidence_values WHERE batch_id = {mark}", (batch_id,))
    new_ids = {(u, f): i for i, u, f in cur.fetchall()}
    cur.executemany(f"UPDATE evidence_values SET superseded_at = {mark}, superseded_by_id = {mark} WHERE id = {mark}",
                    [(now, new_ids[(t[0], t[1])], t[8]) for t in changed if t[8] is not None])


def upload_changes(after: dict | None) -> list[tuple]:
    """(unit, field, old, new) of every value an ``upload`` audit row records as changed.

    Written as four lists (``{"unit": [...], "field": [...], "old": [...], "new": [...]}``): for the
    75,000 changes of a 2,000-unit file that is 2.4 MB and ~20 ms of JSON, against 5.6 MB and
    ~130 ms as one object per change, which rows written before 2026-12 hold (still read here).
    """
    changes = (after or {}).get("changes")
    if isinstance(changes, dict):
        return list(zip(changes.get("unit", []), changes.get("field", []), changes.get("old", []),
                        changes.get("new", [])))
    if isinstance(changes, list):
        return [(c.get("unit"), c.get("field"), c.get("old"), c.get("new")) for c in changes if isinstance(c, dict)]
    return []


def batch_history(db: Database, principal: Principal, period_code: str | None = None) -> pd.DataFrame:
    """Upload batches (staff: their own), newest first; see ``services.upload_history``."""
    return services.upload_history(principal, period_code, db=db)


# --------------------------------------------------------------------------- text

def format_commit(result: CommitResult) -> str:
    """One Chinese paragraph for the CLI and the upload page."""
    name = result.file_name or result.report.file_name
    if result.status == "committed":
        warn = f"；另有 {len(result.report.warnings)} 个警告，请留意" if result.report.warnings else ""
        n_cleared = len(result.report.clears)
        unchanged = max(result.n_values + n_cleared - result.n_changed, 0)
        cleared = f"、{n_cleared} 个「清除」" if n_cleared else ""
        return (f"文件「{name}」已提交（批次 #{result.batch_id}，考核期 {result.period_code}）："
                f"{result.n_units} 个单位、{result.n_values} 个数值{cleared}，其中 {result.n_changed} 个新增、更新或清除，"
                f"{unchanged} 个与原值相同未改动；空白单元格保持原值{warn}。")
    if result.status == "duplicate":
        return (f"文件「{name}」与已提交的批次 #{result.batch_id} 完全相同（同一文件），"
                f"考核期 {result.period_code} 的数据未重复写入。")
    return format_issues(result.report) + f"\n文件「{name}」未通过校验，未写入任何数据。"


__all__ = ["Preview", "CommitResult", "template_bytes", "preview_upload", "commit_upload", "batch_history",
           "format_issues", "format_commit", "CHANGE_COLUMNS", "SCORE_CHANGE_COLUMNS"]
