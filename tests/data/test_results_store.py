"""Score once per data change, shared by every worker (issue 15 item 1), and the evidence read
(issue 18: one current row per period × unit × field, deterministic order).

A "worker" is a ``Database`` object of its own (own pool, own in-process cache) on the same
database, as each gunicorn worker has. Engine runs are counted by ``results_store.STATS``, which
``services.compute_score`` increments next to the one call of ``scoring.engine.score``.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from data import evidence_service, repo, results_store, services
from data.accounts import principal_by_name
from data.db import Database
from data.models import EvidenceValue, OrgUnit, Period, UploadBatch
from scoring.engine import score

P = "2026H1"


def _fresh_rescore(db: Database, period: str = P):
    """The period scored straight from the rows, bypassing every cache and the store."""
    with db.session() as s:
        p = repo.get_period(s, period)
        return score(repo.table_for(p), repo.evidence_frame(s, p.id),
                     repo.units_frame(s, p)[["unit", "name", "category"]], p.kind, repo.adjustments_frame(s, p.id))


def _commit(db: Database, text: str, name: str = "fix.csv", user: str = "inspector"):
    res = evidence_service.commit_upload(db, text.encode("utf-8"), name, P, principal_by_name(user, db=db))
    assert res.status == "committed", evidence_service.format_commit(res)
    return res


def test_a_second_worker_loads_the_stored_result_instead_of_scoring(seeded):
    services.clear_cache(seeded, stored=True)
    runs = results_store.STATS.engine_runs
    first = services.score_period(P, seeded)
    assert results_store.STATS.engine_runs == runs + 1
    assert [k for k, *_ in results_store.stored_versions(seeded, P)] == ["score"]

    other = Database(seeded.url)  # another worker: nothing in its memory
    try:
        loaded = results_store.STATS.loaded
        again = services.score_period(P, other)
        assert results_store.STATS.engine_runs == runs + 1, "the second worker scored again"
        assert results_store.STATS.loaded == loaded + 1
        for name in ("items", "areas", "units", "values"):
            pd.testing.assert_frame_equal(getattr(again, name), getattr(first, name), check_exact=True)
        # The previous period's ranking (较上期) is served the same way: no second cold load.
        services.rankings(principal_by_name("leader", db=other), P, db=other)
        assert results_store.STATS.engine_runs == runs + 1
    finally:
        other.dispose()


def test_no_worker_serves_a_stale_result_after_a_commit(seeded):
    a, b = seeded, Database(seeded.url)
    try:
        services.clear_cache(a, stored=True)
        unit = services.score_period(P, a).units["unit"].iloc[5]
        services.score_period(P, b)  # both workers warm on the old version
        old_total = services.score_period(P, b).units.set_index("unit").loc[unit, "total"]
        runs, loaded = results_store.STATS.engine_runs, results_store.STATS.loaded
        _commit(a, f"单位编码,支委会次数,集中学习次数\n{unit},0,0\n")  # scored in its transaction (commit_score)
        seen_b = services.score_period(P, b).units.set_index("unit")
        seen_a = services.score_period(P, a).units.set_index("unit")
        assert results_store.STATS.engine_runs == runs + 1, "scored once for both workers"
        assert results_store.STATS.loaded == loaded + 1, "the other worker loads what the commit stored"
        fresh = _fresh_rescore(a).units.set_index("unit")
        assert seen_b.loc[unit, "total"] == seen_a.loc[unit, "total"] == fresh.loc[unit, "total"]
        assert seen_b.loc[unit, "total"] < old_total
        pd.testing.assert_frame_equal(seen_b, fresh, check_exact=True)
        # Only the current version is kept in the store.
        with a.session() as s:
            dv = s.scalar(select(Period.data_version).where(Period.code == P))
        tv = results_store.version(a, P).table_version_id
        assert results_store.stored_versions(a, P) == [("gaps", dv, tv), ("means", dv, tv), ("score", dv, tv), ("views", dv, tv)]
        # The gap lists follow the same version.
        gaps = services.period_gaps(P, b)
        assert set(gaps["unit"]) <= set(fresh.index)
    finally:
        b.dispose()


def test_every_unit_field_has_one_current_row_after_a_batch_that_replaces_and_adds(seeded):
    admin = principal_by_name("admin", db=seeded)
    services.create_period(admin, "2027H1", "2026", db=seeded)
    units = services.scoring_inputs("2027H1", seeded).units["unit"].tolist()[:3]
    first = "单位编码,支委会次数,党员大会次数\n" + "".join(f"{u},3,1\n" for u in units)
    second = "单位编码,支委会次数,党课次数,主题党日次数\n" + "".join(f"{u},5,2,6\n" for u in units)
    for i, text in enumerate((first, second, first)):
        res = evidence_service.commit_upload(seeded, text.encode(), f"b{i}.csv", "2027H1",
                                             principal_by_name("inspector", db=seeded))
        assert res.status == "committed"
    with seeded.session() as s:
        dupes = s.execute(select(EvidenceValue.period_id, EvidenceValue.unit_id, EvidenceValue.field, func.count())
                          .where(EvidenceValue.superseded_at.is_(None))
                          .group_by(EvidenceValue.period_id, EvidenceValue.unit_id, EvidenceValue.field)
                          .having(func.count() > 1)).all()
        assert dupes == []
        p = repo.get_period(s, "2027H1")
        ev = repo.evidence_frame(s, p.id)
    assert len(ev) == 3 * 4  # committee, general, lectures, theme days per unit
    got = ev.set_index(["unit", "field"])["value"]
    table = services.table_for_period("2027H1", seeded)
    committee = next(n for n, f in table.fields.items() if f.label == "支委会次数")
    assert all(got[(u, committee)] == 3 for u in units)  # the third batch put the first values back


def test_the_evidence_read_has_a_fixed_order_and_the_newest_duplicate_comes_last(seeded):
    """If a unit × field ever had two current rows, the engine (which keeps the last) gets the newest."""
    with seeded.session() as s:
        p = repo.get_period(s, P)
        uid, code = s.execute(select(OrgUnit.id, OrgUnit.code).order_by(OrgUnit.code).limit(1)).one()
        batch = s.scalar(select(UploadBatch.id).where(UploadBatch.period_id == p.id).limit(1))
        field = s.scalar(select(EvidenceValue.field).where(EvidenceValue.period_id == p.id,
                                                           EvidenceValue.unit_id == uid).limit(1))
        for value in (111.0, 7.0):  # inserted in this order: 7 is the newer row
            s.execute(insert(EvidenceValue).values(period_id=p.id, unit_id=uid, field=field, value=value, raw="x",
                                                   batch_id=batch, file_name="dup"))
    with seeded.session() as s:
        one = repo.evidence_frame(s, p.id)
        two = repo.evidence_frame(s, p.id)
    pd.testing.assert_frame_equal(one, two)
    keys = list(zip(one["unit"], one["field"]))
    assert keys == sorted(keys, key=lambda k: (k[0], k[1])) or one["unit"].is_monotonic_increasing
    rows = one[(one["unit"] == code) & (one["field"] == field)]["value"].tolist()
    assert rows[-1] == 7.0


def _redis_server():
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.1)
    proc.kill()
    pytest.skip("redis-server did not start")


def test_with_redis_configured_workers_share_results_through_redis(seeded_sqlite, monkeypatch):
    proc, port = _redis_server()
    try:
        monkeypatch.setenv("RESULTS_REDIS_URL", f"redis://127.0.0.1:{port}/0")
        services.clear_cache(seeded_sqlite, stored=True)
        runs = results_store.STATS.engine_runs
        services.score_period(P, seeded_sqlite)
        assert results_store.stored_versions(seeded_sqlite, P) == []  # not in the database: in Redis
        other = Database(seeded_sqlite.url)
        try:
            services.score_period(P, other)
        finally:
            other.dispose()
        assert results_store.STATS.engine_runs == runs + 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.environ.pop("RESULTS_REDIS_URL", None)


def test_the_viewer_does_not_wait_for_the_store_and_other_workers_wait_for_it(seeded, monkeypatch):
    """The computing worker answers before its result is packed and stored; a second worker meanwhile
    waits on the compute lock and then loads the stored result instead of scoring again."""
    import threading

    from data import frames

    services.clear_cache(seeded, stored=True)
    go, packing = threading.Event(), threading.Event()
    real_pack = frames.pack_result

    def slow_pack(result):
        packing.set()
        assert go.wait(30)
        return real_pack(result)

    monkeypatch.setattr(frames, "pack_result", slow_pack)
    runs = results_store.STATS.engine_runs
    results_store.lock_wait_seconds(reset=True)
    services.score_period(P, seeded)  # returns although packing is held
    assert packing.wait(10) and not go.is_set()
    assert results_store.STATS.engine_runs == runs + 1

    other = Database(seeded.url)
    loaded = results_store.STATS.loaded
    done = threading.Event()
    waited: list[float] = []

    def second_worker():
        results_store.lock_wait_seconds(reset=True)
        services.score_period(P, other)
        waited.append(results_store.lock_wait_seconds())
        done.set()

    worker = threading.Thread(target=second_worker)
    worker.start()
    try:
        assert not done.wait(0.5), "the second worker did not wait for the result being stored"
        go.set()
        assert done.wait(30)
        assert waited[0] >= 0.4  # counted for Server-Timing's wait;dur (make loadtest)
        assert results_store.lock_wait_seconds() < 0.1  # per thread: the first one did not wait
        assert results_store.STATS.engine_runs == runs + 1, "the second worker scored again"
        assert results_store.STATS.loaded == loaded + 1
    finally:
        go.set()
        worker.join(30)
        other.dispose()


def test_a_failed_store_releases_the_lock_and_the_next_worker_computes(seeded, monkeypatch):
    from data import frames

    services.clear_cache(seeded, stored=True)

    def broken(result):
        raise OSError("disk full")

    monkeypatch.setattr(frames, "pack_result", broken)
    runs = results_store.STATS.engine_runs
    services.score_period(P, seeded)
    results_store.wait_stored()
    assert results_store.stored_versions(seeded, P) == []
    monkeypatch.undo()
    other = Database(seeded.url)
    try:
        services.score_period(P, other)  # does not hang on a lock nobody will release
        assert results_store.STATS.engine_runs == runs + 2
        assert [k for k, *_ in results_store.stored_versions(seeded, P)] == ["score"]
    finally:
        other.dispose()


def _hold_score_then_take_gaps(url: str, ready, go, out):
    """A worker whose storing thread holds the score key while its request thread asks for gaps."""
    import threading

    db = Database(url)
    held = threading.Event()

    def storing():
        with results_store._cross_process_lock(db, "score"):
            held.set()
            go.wait(20)
            time.sleep(0.5)

    t = threading.Thread(target=storing)
    t.start()
    held.wait(10)
    ready.set()
    go.wait(20)
    time.sleep(0.2)  # the other worker now holds gaps and waits for score
    try:
        with results_store._cross_process_lock(db, "gaps"):
            out.put("ok")
    except OSError as e:
        out.put(f"error {e.errno}")
    t.join()


def test_two_workers_crossing_keys_do_not_fail_with_edeadlk(tmp_path):
    """Worker A's storing thread holds the score key while A asks for gaps; worker B holds gaps and
    waits for that score. The kernel reports EDEADLK (locks are per process), though A's thread
    releases without waiting: both must get through."""
    import multiprocessing

    url = f"sqlite:///{tmp_path}/locks.sqlite3"
    ctx = multiprocessing.get_context("fork")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    a = ctx.Process(target=_hold_score_then_take_gaps, args=(url, ready, go, out))
    a.start()
    assert ready.wait(10)
    db = Database(url)
    with results_store._cross_process_lock(db, "gaps"):
        go.set()
        time.sleep(0.4)  # A is asking for gaps now
        with results_store._cross_process_lock(db, "score"):
            pass
    a.join(30)
    assert out.get(timeout=5) == "ok"


def test_an_evidence_commit_keeps_the_units_frame_an_org_change_or_new_dates_replace_it(seeded):
    """``periods.units_version``: every worker keeps its units of the period across uploads (they cannot
    change them), and reads them again after a rename or a change of the period's dates."""
    import datetime as dt

    from data import org_edit, periods

    admin = principal_by_name("admin", db=seeded)
    other = Database(seeded.url)  # another worker
    try:
        services.clear_cache(seeded)
        before = services.scoring_inputs(P, other).units
        unit = before["unit"].iloc[3]
        _commit(seeded, f"单位编码,支委会次数\n{unit},7\n")
        after_upload = services.scoring_inputs(P, other)
        assert after_upload.units is before, "an upload made the worker read its units again"
        assert (after_upload.evidence.query("unit == @unit and field == 'committee_meetings'")["value"] == 7).all()

        org_edit.rename_unit(admin, unit, "更名后的支部", dt.date(2026, 1, 1), db=seeded)
        renamed = services.scoring_inputs(P, other).units
        assert renamed is not before
        assert renamed.set_index("unit").loc[unit, "name"] == "更名后的支部"

        info = services.get_period_info(P, seeded)
        periods.update_period(admin, P, end_date=info.end_date - dt.timedelta(days=1), db=seeded)
        assert services.scoring_inputs(P, other).units is not renamed
    finally:
        other.dispose()


def test_a_page_view_reads_each_period_version_once_and_a_write_request_sees_its_own(seeded_sqlite):
    """``pin_versions`` (page layouts): one query per period for the whole view, and a commit elsewhere
    during the view does not change the version it works on; an unpinned request reads it every time."""
    from flask import Flask
    from sqlalchemy import event

    db = seeded_sqlite
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    before = results_store.version(db, P)
    app = Flask(__name__)
    with app.test_request_context():
        services.pin_versions()
        n = len(statements)
        first = results_store.version(db, P)
        for _ in range(5):
            assert results_store.version(db, P) == first
        assert len(statements) == n + 1
        _commit(db, "单位编码,支委会次数\nC01,7\n")  # another worker's commit during the view
        assert results_store.version(db, P) == first
    with app.test_request_context():  # not pinned: a write callback sees the version it made
        _commit(db, "单位编码,支委会次数\nC01,8\n")
        assert results_store.version(db, P).data_version == before.data_version + 2


def test_a_version_stored_after_a_newer_one_is_dropped(seeded):
    """A worker's background store of the version it computed can land after a commit stored the next
    version with its data (data/commit_score.py): the store keeps only the newest."""
    import dataclasses

    v = results_store.version(seeded, P)
    newer = dataclasses.replace(v, data_version=v.data_version + 1)
    services.clear_cache(seeded, stored=True)
    with seeded.session() as s:
        results_store.store_in_session(s, newer, "score", b"newer")
    results_store._DatabaseBackend().put(seeded, v, "score", b"older")  # arrives late
    assert [(k, dv) for k, dv, _ in results_store.stored_versions(seeded, P)] == [("score", newer.data_version)]


def test_a_stored_result_this_release_cannot_read_is_computed_again(seeded):
    """A payload written by an older release in another format: the page does not fail on it; the
    result is computed again and the unreadable row replaced."""
    services.clear_cache(seeded, stored=True)
    services.score_period(P, seeded)  # the score the gap lists are derived from, in memory
    v = results_store.version(seeded, P)
    with seeded.session() as s:
        results_store.store_in_session(s, v, "gaps", b"DJF9 not a container this code knows")
    runs = results_store.STATS.computed
    gaps = services.period_gaps(P, seeded)
    assert results_store.STATS.computed == runs + 1 and len(gaps)
    results_store.wait_stored()
    other = Database(seeded.url)
    try:
        pd.testing.assert_frame_equal(services.period_gaps(P, other), gaps, check_exact=True)  # the new row
    finally:
        other.dispose()
