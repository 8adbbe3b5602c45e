"""The organisation tree: importing a 单位名单, reading the tree, export; the dated history primitives.

One-unit edits (add/edit, rename, move, merge, close, categories) are in ``data/org_edit.py``.

Owns every write to ``org_units`` and ``unit_names`` after the demo seed. History is
kept by dates, never by overwriting: a rename closes the old ``UnitName`` the day
before the new one starts (so old periods show the old name, see ``repo.units_frame``);
a close or merge sets ``valid_to`` (the unit leaves every period starting after it);
是否参加考核 = 否 sets ``excluded_from`` (left out of periods ending on or after it).

Every change takes an *effective date* (生效日期); the default is 1 January of the
current year, i.e. the change applies to this year's periods and not to last year's.

Each write is one transaction with one audit row; admin only (``manage_org``), the
CLI operator (principal ``None``) being trusted shell access. Category and 所属局 are
current attributes (not dated): periods already published keep their frozen results.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.db import Database, get_db
from data.intake.issues import Limits
from data.intake.units import COLUMNS, HEADERS, KIND_RANK, UnitsReport, parse_units
from data.models import PERIOD_STATUSES, OrgUnit, Period, UnitName
from data.permissions import Principal, require
from data.services import InvalidInput, audit, clear_cache

CHANGE_LABELS = {"new": "新增", "rename": "更名", "move": "调整上级", "update": "信息变更", "close": "撤销"}
_FIELD_LABELS = {c.name: c.header for c in COLUMNS}
_ATTRS = ("kind", "bureau", "level", "category", "secretary", "members_full", "members_probationary",
          "last_election", "assessed", "has_committee")


def default_effective_date(today: dt.date | None = None) -> dt.date:
    return dt.date((today or dt.date.today()).year, 1, 1)


def _org_changed(s: Session) -> None:
    """Names, categories, parents and who takes part feed every period's ranking: each period not yet
    published gets a new data version, so no worker keeps serving a stored result with the old tree
    (a published period is served from its snapshot and never moves)."""
    s.execute(update(Period).where(Period.status != PERIOD_STATUSES[-1])
              .values(data_version=Period.data_version + 1, units_version=Period.units_version + 1))


def _check(principal: Principal | None) -> None:
    if principal is not None:
        require(principal, "manage_org")


def _who(principal: Principal | None) -> dict:
    return {} if principal is not None else {"username": "cli"}


# --------------------------------------------------------------------------- reading

def _units(s: Session) -> pd.DataFrame:
    """Every stored unit, open or closed, with its parent's code and 是否参加考核 today."""
    rows = s.execute(select(OrgUnit)).scalars().all()
    codes = {u.id: u.code for u in rows}
    out = [dict(id=u.id, code=u.code, name=u.name, kind=u.kind, bureau=u.bureau, level=u.level,
                category=u.category or "", secretary=u.secretary or "", members_full=u.members_full,
                members_probationary=u.members_probationary, last_election=u.last_election,
                assessed=u.excluded_from is None, has_committee=u.has_committee,
                parent=codes.get(u.parent_id, "") if u.parent_id else "", valid_from=u.valid_from,
                valid_to=u.valid_to, merged_into=codes.get(u.merged_into_id, "") if u.merged_into_id else "",
                closed=u.valid_to is not None) for u in rows]
    return pd.DataFrame(out, columns=["id", "code", "name", "kind", "bureau", "level", "category", "secretary",
                                      "members_full", "members_probationary", "last_election", "assessed",
                                      "has_committee", "parent", "valid_from", "valid_to", "merged_into", "closed"])


def units_table(principal: Principal | None, include_closed: bool = False, db: Database | None = None) -> pd.DataFrame:
    _check(principal)
    db = db or get_db()
    with db.session() as s:
        df = _units(s)
    if not include_closed:
        df = df[~df["closed"].astype(bool)]
    return df.sort_values(["bureau", "code"]).reset_index(drop=True)


def unit_tree(principal: Principal | None, db: Database | None = None) -> list[dict]:
    """局 → 党委/党总支 → 党支部: one dict per 局 with its top-level units, each with ``children``."""
    df = units_table(principal, db=db)
    nodes = {r["code"]: {**r, "children": []} for r in df.to_dict("records")}
    roots: dict[str, list] = {}
    for code, n in nodes.items():
        parent = nodes.get(n["parent"]) if n["parent"] else None
        if parent is not None:
            parent["children"].append(n)
        else:
            roots.setdefault(n["bureau"], []).append(n)
    order = lambda n: (-KIND_RANK.get(n["kind"], 0), n["code"])  # noqa: E731
    for n in nodes.values():
        n["children"].sort(key=order)
    return [{"bureau": b, "units": sorted(us, key=order), "count": _count(us)}
            for b, us in sorted(roots.items(), key=lambda kv: (not kv[0].startswith("市"), kv[0]))]


def _count(units: list[dict]) -> int:
    return sum(1 + _count(u["children"]) for u in units)


def name_history(principal: Principal | None, code: str, db: Database | None = None) -> list[dict]:
    _check(principal)
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if u is None:
            raise InvalidInput(f"单位编码 {code} 不存在")
        return [dict(name=n.name, valid_from=n.valid_from, valid_to=n.valid_to) for n in
                s.scalars(select(UnitName).where(UnitName.unit_id == u.id).order_by(UnitName.valid_from)).all()]


def bureaus(db: Database | None = None) -> list[str]:
    db = db or get_db()
    with db.session() as s:
        return sorted(x for x in s.scalars(select(OrgUnit.bureau).where(OrgUnit.valid_to.is_(None)).distinct()) if x)


# --------------------------------------------------------------------------- import

@dataclass
class UnitImportPreview:
    report: UnitsReport
    changes: pd.DataFrame          # code, name, change (new/rename/move/update/close), label, detail
    effective: dt.date
    close_missing: bool
    unchanged: int = 0
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else "否"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v) if v != "" else "—"


def _parse(s: Session, data: bytes, file_name: str, close_missing: bool, limits: Limits | None):
    existing = _units(s)
    report = parse_units(data, file_name, existing, limits)
    if close_missing and len(report.rows):
        # Units absent from a complete list close: they cannot be anyone's parent any more.
        listed = set(report.rows["code"])
        ex = existing.copy()
        ex["closed"] = ex["closed"] | ~ex["code"].isin(listed)
        report = parse_units(data, file_name, ex, limits)
    return existing, report


def _diff(existing: pd.DataFrame, rows: pd.DataFrame, close_missing: bool) -> tuple[pd.DataFrame, int]:
    ex = existing[~existing["closed"].astype(bool)].set_index("code")
    out, unchanged = [], 0
    for r in rows.to_dict("records"):
        code = r["code"]
        if code not in ex.index:
            out.append(dict(code=code, name=r["name"], change="new",
                            detail=f"{r['bureau']} · {r['kind']}" + (f" · 上级 {r['parent']}" if r["parent"] else "")))
            continue
        old = ex.loc[code]
        touched = False
        if old["name"] != r["name"]:
            out.append(dict(code=code, name=r["name"], change="rename", detail=f"原名「{old['name']}」"))
            touched = True
        if (old["parent"] or "") != (r["parent"] or ""):
            out.append(dict(code=code, name=r["name"], change="move",
                            detail=f"上级 {old['parent'] or '（无）'} → {r['parent'] or '（无）'}"))
            touched = True
        diffs = []
        for a in _ATTRS:
            new, before = r[a], old[a]
            if a == "has_committee" and new is None:
                continue  # not stated in the file: keep what is stored
            if _fmt(before) != _fmt(new):
                diffs.append(f"{_FIELD_LABELS[a]} {_fmt(before)} → {_fmt(new)}")
        if diffs:
            out.append(dict(code=code, name=r["name"], change="update", detail="；".join(diffs)))
            touched = True
        unchanged += not touched
    if close_missing:
        listed = set(rows["code"])
        for code, old in ex.iterrows():
            if code not in listed:
                out.append(dict(code=code, name=old["name"], change="close", detail="文件中未列出"))
    df = pd.DataFrame(out, columns=["code", "name", "change", "detail"])
    df["label"] = df["change"].map(CHANGE_LABELS)
    return df, unchanged


def preview_units(principal: Principal | None, data: bytes, file_name: str, close_missing: bool = False,
                  effective: dt.date | None = None, db: Database | None = None,
                  limits: Limits | None = None) -> UnitImportPreview:
    """Check a 单位名单 and list what committing it would change. Writes nothing."""
    _check(principal)
    db = db or get_db()
    with db.session() as s:
        existing, report = _parse(s, data, file_name, close_missing, limits)
    return _preview(existing, report, close_missing, effective or default_effective_date())


def _preview(existing, report, close_missing, effective) -> UnitImportPreview:
    if report.ok and len(report.rows):
        changes, unchanged = _diff(existing, report.rows, close_missing)
    else:
        changes, unchanged = pd.DataFrame(columns=["code", "name", "change", "detail", "label"]), 0
    counts = {k: int((changes["change"] == k).sum()) for k in CHANGE_LABELS}
    return UnitImportPreview(report, changes, effective, close_missing, unchanged, counts)


def summary(pv: UnitImportPreview) -> str:
    c = pv.counts
    return (f"新增 {c['new']} 个、更名 {c['rename']} 个、调整上级 {c['move']} 个、信息变更 {c['update']} 个、"
            f"撤销 {c['close']} 个，{pv.unchanged} 个不变（生效日期 {pv.effective.isoformat()}）")


def commit_units(principal: Principal | None, data: bytes, file_name: str, close_missing: bool = False,
                 effective: dt.date | None = None, db: Database | None = None,
                 limits: Limits | None = None, action: str = "units_import") -> UnitImportPreview:
    """Check again and write every change in one transaction (nothing at all when there is an error)."""
    _check(principal)
    db = db or get_db()
    eff = effective or default_effective_date()
    with db.session() as s:
        existing, report = _parse(s, data, file_name, close_missing, limits)
        pv = _preview(existing, report, close_missing, eff)
        if not report.ok or pv.changes.empty:
            return pv
        _apply(s, existing, report.rows, pv.changes, eff)
        _org_changed(s)
        audit(s, principal, action, entity="org_units", entity_id=file_name[:64], **_who(principal),
              after={"file": file_name, "effective": eff.isoformat(), "counts": pv.counts,
                     "codes": {k: pv.changes.loc[pv.changes["change"] == k, "code"].tolist()[:200]
                               for k in CHANGE_LABELS}})
    clear_cache()
    return pv


def _apply(s: Session, existing: pd.DataFrame, rows: pd.DataFrame, changes: pd.DataFrame, eff: dt.date) -> None:
    by_code = {u.code: u for u in s.scalars(select(OrgUnit)).all()}
    kinds = dict(zip(changes["code"] + "|" + changes["change"], [True] * len(changes)))
    records = rows.to_dict("records")
    for r in records:
        u = by_code.get(r["code"])
        new = u is None
        if new:
            u = OrgUnit(code=r["code"], name=r["name"], valid_from=eff)
            by_code[r["code"]] = u
        elif f"{r['code']}|rename" in kinds:
            _rename(s, u, r["name"], eff)
        u.kind, u.bureau, u.level = r["kind"], r["bureau"], r["level"]
        u.category, u.secretary = r["category"] or "", r["secretary"] or None
        u.members_full, u.members_probationary = int(r["members_full"] or 0), int(r["members_probationary"] or 0)
        u.last_election = r["last_election"]
        if r["has_committee"] is not None:
            u.has_committee = bool(r["has_committee"])
        _set_assessed(u, bool(r["assessed"]), eff)
        if new:
            s.add(u)
            s.flush()
            s.add(UnitName(unit_id=u.id, name=r["name"], valid_from=eff))
    s.flush()
    for r in records:
        u = by_code[r["code"]]
        u.parent_id = by_code[r["parent"]].id if r["parent"] else None
    for code in changes.loc[changes["change"] == "close", "code"]:
        _close(s, by_code[code], eff)


def _set_assessed(u: OrgUnit, assessed: bool, eff: dt.date) -> None:
    if assessed:
        u.excluded_from = None
    elif u.excluded_from is None:
        u.excluded_from = max(eff, u.valid_from) if u.valid_from else eff


def _rename(s: Session, u: OrgUnit, name: str, eff: dt.date) -> None:
    """A new name from ``eff``; the old one stays valid until the day before."""
    current = s.scalars(select(UnitName).where(UnitName.unit_id == u.id, UnitName.valid_to.is_(None))
                        .order_by(UnitName.valid_from)).all()
    for n in current:
        if n.valid_from >= eff:
            s.delete(n)  # a second rename from the same date replaces the first
        else:
            n.valid_to = eff - dt.timedelta(days=1)
    s.flush()
    s.add(UnitName(unit_id=u.id, name=name, valid_from=eff))
    u.name = name


def _close(s: Session, u: OrgUnit, eff: dt.date, merged_into: OrgUnit | None = None) -> None:
    u.valid_to = eff - dt.timedelta(days=1)
    if merged_into is not None:
        u.merged_into_id = merged_into.id


# --------------------------------------------------------------------------- export & template

def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else "否"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)



def export_frame(principal: Principal | None, db: Database | None = None) -> pd.DataFrame:
    """The open units in the import's own columns: export → edit → import is a round trip."""
    df = units_table(principal, db=db)
    out = pd.DataFrame({c.header: df[c.name].map(_cell) if c.name in ("last_election", "assessed", "has_committee")
                        else df[c.name] for c in COLUMNS})
    return out.reset_index(drop=True)


GUIDE = [
    ("单位编码", "必填。单位的唯一编码，导入后不再改变（改名、调整上级都以编码识别单位）。"),
    ("单位名称", "必填。名称变化时按「生效日期」记为更名，以前的考核期仍显示原名称。"),
    ("组织类型", "必填。党委 / 党总支 / 党支部。"),
    ("上级单位编码", "上级党委或党总支的编码；没有上级留空。上级须在同一个局，且层级高于本单位。"),
    ("所属局", "必填。如「市局机关」「临河县局」。各局对比和按局筛选以此为准。"),
    ("层级", "必填。市 / 县。"),
    ("考核类别", "参加考核的单位必填：分类排名的类别，如「市局机关支部」「县局支部」「直属单位支部」。"),
    ("书记", "书记姓名。"),
    ("正式党员数 / 预备党员数", "不小于 0 的整数。党支部正式党员不足 3 人时给出警告。"),
    ("上次换届日期", "如 2024-05-10 或 2024年5月。"),
    ("是否参加考核", "是 / 否；留空视为「是」（党委留空视为「否」）。「否」的单位不进入生效日期以后的考核期排名。"),
    ("支部委员会", "可选。是 / 否：是否已设立支部委员会；正式党员 7 人以上而填「否」时给出警告。"),
]


def template_frame() -> dict[str, pd.DataFrame]:
    example = pd.DataFrame([
        ["X01", "临河县局党委", "党委", "", "临河县局", "县", "", "王建国", 0, 0, "", "否", ""],
        ["X011", "临河县局机关党支部", "党支部", "X01", "临河县局", "县", "县局支部", "李海燕", 12, 1, "2024-05-10", "是",
         "是"],
    ], columns=HEADERS)
    return {"单位名单": example, "填写说明": pd.DataFrame(GUIDE, columns=["列", "说明"])}


def export_bytes(principal: Principal | None, fmt: str = "xlsx", db: Database | None = None) -> bytes:
    from data import exports

    df = export_frame(principal, db)
    return exports.to_csv(df) if fmt == "csv" else exports.to_xlsx({"单位名单": df})


def template_bytes() -> bytes:
    from data import exports

    return exports.to_xlsx(template_frame())


__all__ = ["UnitImportPreview", "preview_units", "commit_units", "unit_tree", "units_table", "name_history",
           "export_bytes", "template_bytes", "default_effective_date", "summary", "CHANGE_LABELS"]
