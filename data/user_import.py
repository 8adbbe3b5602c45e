"""Accounts in bulk (issue 12 item 3): a spreadsheet of users → checked, previewed, created in one transaction.

Columns (header row found in the first rows; Chinese or English headers): 用户名 (username),
姓名, 角色 (role: leader/inspector/staff/admin or 局领导/考核组/党务干事/系统管理员) and
负责单位编码 (several allowed, separated by 、 , ， ; or spaces; required for 党务干事).
Same discipline as the evidence intake: xlsx/xls/csv (GBK too) read by ``data/intake/readers``,
every problem named by row and column with a Chinese remedy, nothing written when any row
is wrong. Initial passwords are generated (``data/passwords.generate``), returned once to the
caller and never stored or audited; every new account must change it at first sign-in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from data import passwords
from data.accounts import USERNAME_RE, hash_password
from data.db import Database, get_db
from data.intake.issues import Limits
from data.intake.normalise import column_letter
from data.intake.readers import open_source
from data.models import OrgUnit, User
from data.permissions import ALL_ROLES, ROLE_LABELS, STAFF, Principal, require
from data.services import audit

HEADERS = {
    "username": ("用户名", "username", "账号", "登录名"),
    "name": ("姓名", "name", "显示姓名"),
    "role": ("角色", "role"),
    "units": ("负责单位编码", "负责单位", "units", "单位编码"),
}
ROLE_BY_TEXT = {**{r: r for r in ALL_ROLES}, **{v: k for k, v in ROLE_LABELS.items()}}
SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass(frozen=True)
class UserIssue:
    row: int          # as Excel shows it
    column: str       # letter
    header: str
    value: str
    message: str      # Chinese, says what to do
    error: bool = True


@dataclass
class UserImport:
    file_name: str
    users: list[dict] = field(default_factory=list)     # username, name, role, units
    issues: list[UserIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.users) and not any(i.error for i in self.issues)

    def format_issues(self) -> str:
        return "\n".join(("错误：" if i.error else "提示：") + i.message for i in self.issues)


def _header_map(row: list) -> dict[str, int]:
    found = {}
    for k, cell in enumerate(row):
        text = re.sub(r"\s+", "", str(cell or "")).lower()
        for key, names in HEADERS.items():
            if key not in found and text in {n.lower() for n in names}:
                found[key] = k
    return found


def parse_users(data: bytes, file_name: str, db: Database | None = None) -> UserImport:
    """Read and check a users file against the database; never raises on bad content."""
    db = db or get_db()
    out = UserImport(file_name=file_name)

    def issue(row, col, value, message, error=True):
        letter = column_letter(col) if col is not None else ""
        header = HEADERS_LABEL.get(col_key.get(col, ""), "") if col is not None else ""
        where = f"{file_name} 第 {row} 行" + (f" {letter} 列「{header}」" if letter else "")
        out.issues.append(UserIssue(row, letter, header, str(value or "")[:100], f"{where}{message}", error))

    col_key: dict[int, str] = {}
    source, problems = open_source(data, file_name, Limits())
    if source is None:
        out.issues += [UserIssue(0, "", "", "", p.message) for p in problems]
        return out
    try:
        sheet = next((s.name for s in source.sheets if s.visible), None)
        grid, problems = source.grid(sheet) if sheet is not None else (None, [])
    finally:
        source.close()
    if grid is None:
        out.issues += [UserIssue(0, "", "", "", p.message) for p in problems] or [
            UserIssue(0, "", "", "", f"{file_name}：没有可读取的工作表")]
        return out
    header_at, cols = None, {}
    for i, row in enumerate(grid.rows[:30]):
        cols = _header_map(row)
        if "username" in cols and "role" in cols:
            header_at = i
            break
    if header_at is None:
        out.issues.append(UserIssue(0, "", "", "", f"{file_name}：前 30 行中找不到表头；"
                                    "请使用含「用户名」「姓名」「角色」「负责单位编码」列的表格"))
        return out
    col_key.update({v: k for k, v in cols.items()})
    with db.session() as s:
        existing = {u.lower() for u in s.scalars(select(User.username)).all()}
        unit_codes = set(s.scalars(select(OrgUnit.code)).all())
    seen: dict[str, int] = {}
    for i, row in enumerate(grid.rows[header_at + 1:], start=header_at + 2):
        def cell(key):
            k = cols.get(key)
            v = row[k] if k is not None and k < len(row) else None
            return "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).strip()
        username, name, role_text, units_text = cell("username"), cell("name"), cell("role"), cell("units")
        if not any((username, name, role_text, units_text)):
            continue
        bad = False
        if not username:
            issue(i, cols["username"], "", "为空；请填写用户名（字母、数字、下划线、点或连字符）")
            bad = True
        elif not USERNAME_RE.match(username):
            issue(i, cols["username"], username, f"为「{username[:64]}」，用户名只能包含字母、数字、下划线、点和连字符，"
                  "长度 2–64；请修改")
            bad = True
        elif username.lower() in existing:
            issue(i, cols["username"], username, f"为「{username}」，系统中已有该用户；请换一个用户名或删除该行")
            bad = True
        elif username.lower() in seen:
            issue(i, cols["username"], username, f"为「{username}」，与第 {seen[username.lower()]} 行重复；"
                  "每个用户名只能出现一次")
            bad = True
        else:
            seen[username.lower()] = i
        if len(name) > 64:
            issue(i, cols.get("name"), name, "超过 64 个字符；请缩短")
            bad = True
        role = ROLE_BY_TEXT.get(role_text.lower() if role_text.isascii() else role_text)
        if role is None:
            issue(i, cols["role"], role_text, f"为「{role_text[:20]}」，角色应为 "
                  f"{'、'.join(ROLE_LABELS[r] + '（' + r + '）' for r in ALL_ROLES)} 之一")
            bad = True
        codes = [c for c in SPLIT.split(units_text) if c]
        unknown = [c for c in codes if c not in unit_codes]
        if unknown:
            issue(i, cols.get("units"), units_text, f"中的单位编码「{'、'.join(unknown)[:100]}」不存在；"
                  "请按「组织管理」或填报模板中的单位编码填写")
            bad = True
        if role == STAFF and not codes:
            issue(i, cols.get("units"), "", "为空；党务干事须填写负责的单位编码（可填多个，用顿号分隔）")
            bad = True
        if role and role != STAFF and codes:
            issue(i, cols.get("units"), units_text, "：该角色可查看全部单位，填写的负责单位不影响权限", error=False)
        if not bad:
            out.users.append({"row": i, "username": username, "name": name or username, "role": role,
                              "units": codes})
    if not out.users and not out.issues:
        out.issues.append(UserIssue(0, "", "", "", f"{file_name}：表头下没有用户行"))
    return out


HEADERS_LABEL = {k: v[0] for k, v in HEADERS.items()}


def commit_users(actor: Principal | None, data: bytes, file_name: str,
                 db: Database | None = None) -> tuple[UserImport, list[tuple[str, str]]]:
    """Check again and create every user in one transaction; returns (report, [(username, password)]).

    ``actor`` None is the CLI operator. Nothing is written when any row has an error.
    """
    if actor is not None:
        require(actor, "manage_users")
    db = db or get_db()
    report = parse_users(data, file_name, db)
    if not report.ok:
        return report, []
    created = []
    with db.session() as s:
        units = {u.code: u for u in s.scalars(select(OrgUnit)).all()}
        for u in report.users:
            pw = passwords.generate()
            s.add(User(username=u["username"], display_name=u["name"], password_hash=hash_password(pw),
                       role=u["role"], units=[units[c] for c in u["units"]], must_change_password=True))
            created.append((u["username"], pw))
            audit(s, actor, "user_create", entity="user", entity_id=u["username"], username=None if actor else "cli",
                  after={"username": u["username"], "role": u["role"], "units": u["units"], "source": file_name})
        audit(s, actor, "users_import", entity="file", entity_id=file_name[:64], username=None if actor else "cli",
              after={"file_name": file_name, "users": [u["username"] for u in report.users]})
    return report, created
