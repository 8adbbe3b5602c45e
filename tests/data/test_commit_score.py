"""A small commit stores its new version's score and gap lists in its own transaction
(data/commit_score.py): equal, frame by frame, to what a fresh read of the committed rows scores."""
from __future__ import annotations

import pandas as pd

from data import evidence_service, results_store, services
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
    assert {(k, dv) for k, dv, _ in results_store.stored_versions(seeded, P)} == {("score", v.data_version),
                                                                                  ("gaps", v.data_version)}
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
        # The committing worker has both in memory: nothing to load or compute.
        counts = (results_store.STATS.engine_runs, results_store.STATS.loaded)
        services.score_period(P, seeded), services.period_gaps(P, seeded)
        assert (results_store.STATS.engine_runs, results_store.STATS.loaded) == counts
    finally:
        other.dispose()
        fresh_db.dispose()
