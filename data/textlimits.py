"""No text longer than its column reaches the database (PostgreSQL would refuse it with an error → HTTP 500).

One ``before_flush`` hook over every model: free-text provenance and log columns (the audit
log, upload batches, evidence provenance, sessions) are cut to the column's length; in any
other table an over-long text is a user error, raised as ``InvalidInput`` with a Chinese
message naming the field, so the page shows it and nothing is written. Services still
validate their own inputs first; this is the net under all of them.
"""
from __future__ import annotations

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session

TRUNCATE_TABLES = {"audit_log", "upload_batches", "evidence_values", "server_sessions", "login_throttle"}

FIELD_NAMES = {"username": "用户名", "display_name": "姓名", "code": "编码", "name": "名称", "source": "问题来源",
               "responsible": "责任人", "decision": "推荐意见", "item_code": "指标编码", "title": "标题",
               "version": "版本号", "secretary": "书记", "category": "类别", "bureau": "所属局", "field": "数据项"}


def _limits(mapper) -> list[tuple[str, int]]:
    out = []
    for attr in mapper.column_attrs:
        col = attr.columns[0]
        if isinstance(col.type, String) and col.type.length:
            out.append((attr.key, col.type.length))
    return out


@event.listens_for(Session, "before_flush")
def _check_lengths(session, _ctx, _instances) -> None:
    for obj in list(session.new) + list(session.dirty):
        try:
            mapper = inspect(obj).mapper
        except Exception:  # noqa: BLE001 - not a mapped object
            continue
        table = mapper.local_table.name
        for key, length in _limits(mapper):
            value = getattr(obj, key, None)
            if isinstance(value, str) and len(value) > length:
                if table in TRUNCATE_TABLES:
                    setattr(obj, key, value[:length])
                else:
                    from data.services import InvalidInput

                    label = FIELD_NAMES.get(key, key)
                    raise InvalidInput(f"「{label}」过长：最多 {length} 个字符（现为 {len(value)} 个），请缩短后重试")
