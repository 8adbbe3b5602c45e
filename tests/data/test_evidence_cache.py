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


def test_a_batch_without_values_does_not_hide_an_earlier_numbered_batch_committed_later(seeded):
    """On PostgreSQL a rejected upload (or a records import) takes a batch id without the period's lock,
    so a commit still in progress can hold a lower one: the copy must not skip that commit's rows."""
    import datetime as dt

    from sqlalchemy import func, select, update

    from data import services
    from data.models import EvidenceValue, OrgUnit, UploadBatch

    worker = Database(seeded.url)
    try:
        with seeded.session() as s:
            pid = repo.get_period(s, P).id
            top = s.scalar(select(func.max(UploadBatch.id)))
            s.add(UploadBatch(id=top + 100, period_id=pid, file_name="坏文件.xlsx", file_hash="x", file_format="xlsx",
                              status="rejected", n_units=0, n_values=0, n_changed=0, n_errors=1, n_warnings=0))
        _read(worker)  # the full read sees the rejected batch, not the commit below
        now = dt.datetime(2026, 7, 1, 9, 0)
        with seeded.session() as s:  # a commit that took its batch id before the rejected one
            services.bump(s, pid)
            unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "C06"))
            s.add(UploadBatch(id=top + 50, period_id=pid, file_name="先开始的.csv", file_hash="y", file_format="csv",
                              status="committed", n_units=1, n_values=1, n_changed=1, n_errors=0, n_warnings=0))
            s.flush()
            s.execute(update(EvidenceValue).where(EvidenceValue.period_id == pid, EvidenceValue.unit_id == unit_id,
                                                  EvidenceValue.field == "committee_meetings",
                                                  EvidenceValue.superseded_at.is_(None)).values(superseded_at=now))
            s.add(EvidenceValue(period_id=pid, unit_id=unit_id, field="committee_meetings", value=77.0, raw="77",
                                batch_id=top + 50, file_name="先开始的.csv", uploaded_at=now))
        now_frame = _read(worker)
        got = now_frame[(now_frame["unit"] == "C06") & (now_frame["field"] == "committee_meetings")]["value"].tolist()
        assert got == [77.0]
        pd.testing.assert_frame_equal(_sorted(now_frame), _sorted(_fresh(seeded)), check_exact=True)
    finally:
        worker.dispose()
