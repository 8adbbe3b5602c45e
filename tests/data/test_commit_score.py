"""A small commit stores its new version's score, gap lists and page frames in its own transaction
(data/commit_score.py): equal, frame by frame, to what a fresh read of the committed rows gives."""
from __future__ import annotations

import pandas as pd

import numpy as np

from data import evidence_service, results_store, services, view_frames
from data.accounts import principal_by_name
from data.db import Database
from scoring.gaps import grade_gaps

P = "2026H1"


def _frames(result) -> dict[str, pd.DataFrame]:
    return {name: getattr(result, name) for name in ("units", "items", "areas", "values", "components",
                                                     "record_counts")}


def test_a_small_commit_stores_the_new_version_as_a_fresh_read_scores_it(seeded):
    services.clear_cache(seeded, stored=True)
    before = services.score_period(P, seeded)  # version N scored; its inputs read in this "worker"
    u1, u2 = before.units["unit"].iloc[3], before.units["unit"].iloc[7]
    text = f"单位编码,支委会次数,集中学习次数,读书心得提交率\n{u1},0,1,清除\n{u2},9,,55\n"
    runs = results_store.STATS.engine_runs
    res = evidence_service.commit_upload(seeded, text.encode(), "fix.csv", P, principal_by_name("inspector", db=seeded))
    assert res.status == "committed" and res.n_changed >= 4, evidence_service.format_commit(res)
    assert results_store.STATS.engine_runs == runs + 1  # scored inside the commit, once
    v = results_store.version(seeded, P)
    assert {(k, dv) for k, dv, _ in results_store.stored_versions(seeded, P)} == {
        ("score", v.data_version), ("gaps", v.data_version), ("views", v.data_version), ("means", v.data_version)}
    other, fresh_db = Database(seeded.url), Database(seeded.url)
    try:
        stored = services.score_period(P, other)  # another worker: loads what the commit stored
        assert results_store.STATS.engine_runs == runs + 1
        fresh = services.compute_score(services.scoring_inputs(P, fresh_db))  # every row read again
        for name, frame in _frames(fresh).items():
            pd.testing.assert_frame_equal(_frames(stored)[name], frame, check_exact=True, obj=name)
        assert stored.notes == fresh.notes
        assert stored.units.set_index("unit").loc[u1, "total"] != before.units.set_index("unit").loc[u1, "total"]
        inp = services.scoring_inputs(P, fresh_db)
        pd.testing.assert_frame_equal(services.period_gaps(P, other), grade_gaps(inp.table, fresh, inp.period.kind),
                                      check_exact=True)
        fresh_views = view_frames.build(inp, fresh, grade_gaps(inp.table, fresh, inp.period.kind))
        assert_views_equal(view_frames.view_frames(P, other), fresh_views)
        assert_means_equal(view_frames.category_means(P, other), view_frames.build_means(fresh))
        # The committing worker has all three in memory: nothing to load or compute.
        counts = (results_store.STATS.engine_runs, results_store.STATS.loaded)
        services.score_period(P, seeded), services.period_gaps(P, seeded), view_frames.view_frames(P, seeded)
        view_frames.category_means(P, seeded)
        assert (results_store.STATS.engine_runs, results_store.STATS.loaded) == counts
    finally:
        other.dispose()
        fresh_db.dispose()


def assert_views_equal(got: view_frames.ViewFrames, want: view_frames.ViewFrames) -> None:
    g, w = got.gap, want.gap
    pd.testing.assert_frame_equal(g.units, w.units, check_exact=True)
    np.testing.assert_array_equal(g.pct, w.pct)
    np.testing.assert_array_equal(g.failed, w.failed)
    assert (g.areas, g.area_names) == (w.areas, w.area_names)
    pd.testing.assert_frame_equal(g.failed_items, w.failed_items, check_exact=True)
    pd.testing.assert_frame_equal(g.gap_units, w.gap_units, check_exact=True)
    pd.testing.assert_frame_equal(got.regularity, want.regularity, check_exact=True)


def assert_means_equal(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for c, frame in want.items():
        pd.testing.assert_frame_equal(got[c], frame, check_exact=True, obj=c)


def test_page_frames_come_back_from_the_store_exactly_as_built(seeded):
    """Another worker loads the views the first one built (no build of its own), equal to a fresh build."""
    services.clear_cache(seeded, stored=True)
    built, means = view_frames.view_frames(P, seeded), view_frames.category_means(P, seeded)
    assert len(built.gap.units) and len(built.regularity) and means
    results_store.wait_stored()
    other = Database(seeded.url)
    try:
        computed = results_store.STATS.computed
        loaded = view_frames.view_frames(P, other)
        assert_means_equal(view_frames.category_means(P, other), means)
        assert results_store.STATS.computed == computed, "the second worker derived the views again"
        assert_views_equal(loaded, built)
    finally:
        other.dispose()
