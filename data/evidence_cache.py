"""A worker's copy of a period's current values, brought up to date with the rows added since.

Evidence rows are only ever added: a new value, or a NULL that clears one, supersedes the row before
it; nothing else is updated but that mark, nothing is deleted. The current values are therefore
the last full read plus, in id order, every row the period's later upload batches added: the last
row per unit × field wins, a NULL removes the value. At 10,000 units a full read is ~470,000 rows (0.2 s
through ADBC on PostgreSQL, 0.35 s on SQLite), and what was added since the last read is usually a
few rows. Every scoring read of a period's evidence comes here (``services.scoring_inputs``); the
commit that scores its own version (``data/commit_score.py``) gains most.

Why batches and rows are in commit order within a period: every writer of evidence bumps the
period's data version first (``services.bump``: the period row's lock on PostgreSQL, the write lock
on SQLite) and inserts its batch and rows after, so one period's batches get their ids from one
transaction at a time. A batch that has not committed is not seen, and not skipped: the copy
remembers the newest batch with values it has seen (read before a full read, from the small
upload_batches table with one index probe per batch: about 1 ms, where the largest evidence id of a
period costs a scan of its index, 85 ms at 10,000 units), and a later read starts after it, through
ix_evidence_values_batch_id. Batches without values (rejected uploads, activity-record imports) are
created without the period's lock, so on PostgreSQL their ids may run ahead of a commit in progress:
they are not counted. Applying a row twice is harmless: the last row of a key still wins.

Kept per period and ``units_version`` (unit codes are read from org_units: an org change reads
everything again). Frames handed out are never changed in place.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import repo
from data.db import Database
from data.models import EvidenceValue, OrgUnit, UploadBatch


@dataclass
class _Copy:
    units_version: int
    last_batch: int
    frame: pd.DataFrame


@dataclass
class Stats:
    full_reads: int = 0
    delta_reads: int = 0


STATS = Stats()
_copies: weakref.WeakKeyDictionary[Database, dict[int, _Copy]] = weakref.WeakKeyDictionary()
_locks: dict[tuple[int, int], threading.Lock] = {}
_guard = threading.Lock()


def with_values(evidence: pd.DataFrame, new_values: pd.DataFrame | None) -> pd.DataFrame:
    """``evidence`` (unit, field, value) with the cells of ``new_values`` put in place of theirs;
    a NaN value clears the cell (no row, as ``repo.evidence_frame`` reads a cleared value)."""
    if new_values is None or new_values.empty:
        return evidence
    nv = new_values[["unit", "field", "value"]].astype({"value": float})
    touched = evidence["unit"].isin(set(nv["unit"])).to_numpy()  # compare keys only on these units
    keys = pd.MultiIndex.from_frame(nv[["unit", "field"]])
    keep = np.ones(len(evidence), dtype=bool)
    keep[touched] = ~pd.MultiIndex.from_frame(evidence.loc[touched, ["unit", "field"]]).isin(keys)
    return pd.concat([evidence[keep], nv[nv["value"].notna()]], ignore_index=True)


def current_values(db: Database, s: Session, period_id: int, units_version: int) -> pd.DataFrame:
    """The period's current (unit, field, value), as ``repo.evidence_frame`` reads them (row order aside)."""
    with _guard:
        lock = _locks.setdefault((id(db), period_id), threading.Lock())
    with lock:
        copies = _copies.setdefault(db, {})
        copy = copies.get(period_id)
        if copy is None or copy.units_version != units_version:
            # Batches that wrote values only: a rejected upload or an activity-records import adds a batch
            # row without taking the period's lock first, so its id says nothing about the order of commits.
            wrote = select(EvidenceValue.id).where(EvidenceValue.batch_id == UploadBatch.id).exists()
            last_batch = s.scalar(select(func.max(UploadBatch.id)).where(UploadBatch.period_id == period_id, wrote)) or 0
            frame = repo.evidence_frame(s, period_id, columnar=True)
            copies[period_id] = _Copy(units_version, int(last_batch), frame)
            STATS.full_reads += 1
            return frame
        # By batch only, sorted here: with the period in the WHERE clause, or ORDER BY id, SQLite's planner
        # walks the period's whole index range or the table (0.14–0.19 s at 10,000 units) instead of
        # ix_evidence_values_batch_id.
        found = s.execute(select(EvidenceValue.id, EvidenceValue.period_id, EvidenceValue.batch_id,
                                 EvidenceValue.unit_id, EvidenceValue.field, EvidenceValue.value)
                          .where(EvidenceValue.batch_id > copy.last_batch)).all()
        rows = [r[2:] for r in sorted(found) if r[1] == period_id]
        STATS.delta_reads += 1
        if rows:
            batches, unit_ids, fields, values = zip(*rows)
            code_of = dict(s.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(set(unit_ids)))).all())
            codes = [code_of[u] for u in unit_ids]
            added = pd.DataFrame({"unit": pd.array(codes, dtype="str"), "field": pd.array(fields, dtype="str"),
                                  "value": np.array([np.nan if v is None else v for v in values], dtype=float)})
            added = added.drop_duplicates(["unit", "field"], keep="last")  # the newest row of a key wins
            copy.frame = with_values(copy.frame, added)
            copy.last_batch = max(copy.last_batch, int(max(batches)))
        return copy.frame


def forget(db: Database | None = None) -> None:
    """Drop the copies (of one Database, or all): the next read is a full one (tests, benchmarks)."""
    if db is None:
        _copies.clear()
    else:
        _copies.pop(db, None)
