"""A worker's copy of a period's current values, brought up to date with the rows added since
(data/evidence_cache.py): after changes, clears and an earlier file put back, it holds exactly what a
full read of the rows gives, on SQLite and PostgreSQL."""
from __future__ import annotations

import pandas as pd

from data import evidence_cache, evidence_service, repo, results_store
from data.accounts import principal_by_name
from data.db import Database

P = "2026H1"


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["unit", "field"], kind="stable").reset_index(drop=True)


def _read(db: Database) -> pd.DataFrame:
    v = results_store.version(db, P)
    with db.session() as s:
        return evidence_cache.current_values(db, s, v.period_id, v.units_version)


def _fresh(db: Database) -> pd.DataFrame:
    with db.session() as s:
        return repo.evidence_frame(s, repo.get_period(s, P).id)


def test_a_worker_copy_follows_changes_clears_and_an_earlier_file_put_back(seeded):
    worker, other = Database(seeded.url), Database(seeded.url)
    try:
        full = evidence_cache.STATS.full_reads
        first = _read(worker)
        assert evidence_cache.STATS.full_reads == full + 1
        pd.testing.assert_frame_equal(_sorted(first), _sorted(_fresh(seeded)), check_exact=True)
        inspector = principal_by_name("inspector", db=other)
        a = "单位编码,支委会次数,集中学习次数\nC03,0,1\nC04,9,9\n".encode()
        b = "单位编码,支委会次数,读书心得提交率\nC03,5,清除\nC05,7,66\n".encode()
        c = "单位编码,支委会次数\nC03,8\n".encode()
        for data, name in ((a, "a.csv"), (b, "b.csv"), (a, "a.csv"), (c, "c.csv")):  # another worker commits
            assert evidence_service.commit_upload(other, data, name, P, inspector).status == "committed"
        full, delta = evidence_cache.STATS.full_reads, evidence_cache.STATS.delta_reads
        now = _read(worker)
        assert (evidence_cache.STATS.full_reads, evidence_cache.STATS.delta_reads) == (full, delta + 1)
        fresh = _fresh(seeded)
        pd.testing.assert_frame_equal(_sorted(now), _sorted(fresh), check_exact=True)
        assert len(now) == len(first) - 1  # C03's 读书心得提交率 was cleared
        assert _read(worker) is now  # nothing added since: the same frame
        assert first is not now and len(first) == len(_fresh(seeded)) + 1  # handed-out frames never change
    finally:
        worker.dispose()
        other.dispose()


def test_new_unit_codes_read_everything_again(seeded):
    worker = Database(seeded.url)
    try:
        v = results_store.version(worker, P)
        with worker.session() as s:
            evidence_cache.current_values(worker, s, v.period_id, v.units_version)
            full = evidence_cache.STATS.full_reads
            evidence_cache.current_values(worker, s, v.period_id, v.units_version + 1)
        assert evidence_cache.STATS.full_reads == full + 1
    finally:
        worker.dispose()
