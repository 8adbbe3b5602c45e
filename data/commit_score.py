"""A small upload commit carries its period's new results: scored in its transaction, stored with it.

Every commit makes a new data version, and every view needs that version scored. Scored after the
commit (``pages/upload.py``), it kept the viewers of every other worker waiting on the store's
compute lock until it was stored: in `make loadtest` (10,000 units, a commit every two seconds)
that wait was most of the slowest page views on PostgreSQL (p95 0.5–0.7 s of waiting).

For a file of a few units the commit's own transaction computes the new version instead: the
period's inputs at the version before, read by other connections (they see the committed state;
the commit holds the period's lock, so nothing else changes it meanwhile), with this batch's values
put in place (``evidence_cache.with_values``), scored by the one ``services.compute_score``; the score,
its gap lists and the frames the pages derive from them (``data/view_frames.py``) are stored in the
same transaction (``results_store.store_in_session``). The new
data version and its results become visible together: no viewer waits for them.

Left to the after-commit path (as before): files of many units (their commit is long enough), the
Redis store (not part of the database transaction), and anything unexpected about the version
(for instance an in-memory SQLite database, whose one connection sees the uncommitted bump).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data import evidence_cache, frames, results_store, services, view_frames
from data.db import Database
from data.models import PERIOD_STATUSES, Period
from scoring.gaps import grade_gaps

log = logging.getLogger(__name__)


def score_in_transaction(s: Session, db: Database, period_code: str, period_id: int,
                         cells: pd.DataFrame) -> Callable[[], None] | None:
    """Score and store the version ``s`` is making; call the returned function once ``s`` has committed.

    ``cells``: (unit, field, value) of every value the batch changed, NaN for a cleared one. ``s`` has
    bumped the period's data version once and holds its lock. None: nothing stored (the after-commit
    path scores the version).
    """
    if results_store.redis_url():
        return None
    try:
        before = results_store.version(db, period_code)  # another connection: the committed version
        made = s.scalar(select(Period.data_version).where(Period.id == period_id))
        if before is None or before.status == PERIOD_STATUSES[-1] or made != before.data_version + 1:
            return None
        after = dataclasses.replace(before, data_version=int(made))
        inp = services.scoring_inputs(period_code, db)
        evidence = evidence_cache.with_values(inp.evidence, cells)
        result = services.compute_score(services.with_evidence(inp, evidence))
        gaps = grade_gaps(inp.table, result, inp.period.kind)
        views, means = view_frames.build(inp, result, gaps), view_frames.build_means(result)
        score_payload, gaps_payload = frames.pack_result(result), services.pack_gaps(gaps)
        views_payload, means_payload = view_frames.pack(views), view_frames.pack_means(means)
    except Exception:  # never fails a commit: the after-commit path computes the version instead
        log.exception("scoring period %s inside its commit failed", period_code)
        return None
    results_store.store_in_session(s, after, "score", score_payload)
    results_store.store_in_session(s, after, "gaps", gaps_payload)
    results_store.store_in_session(s, after, "views", views_payload)
    results_store.store_in_session(s, after, "means", means_payload)

    def remember() -> None:
        results_store.remember(db, after, "score", result)
        results_store.remember(db, after, "gaps", gaps)
        results_store.remember(db, after, "views", views)
        results_store.remember(db, after, "means", means)
    return remember
