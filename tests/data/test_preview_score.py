"""The upload preview's incremental score (data/preview_score.py) against a full re-score of the period.

The expected values come from ``services.score_with_changes`` — the whole period scored again by the
engine with the new values — which is independent of the incremental path (touched units scored
alone, ranks recomputed over the stored result)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from data import preview_score, services
from data.demo import table_star_2026
from scoring.indicators import default_table


def _period_id(db, code="2026H1") -> int:
    return services.scoring_inputs(code, db).period.id


def _compare(db, new_values: pd.DataFrame):
    current = preview_score.current_values(db, _period_id(db), new_values["unit"])
    got = preview_score.units_after("2026H1", _period_id(db), new_values, current, db)
    want = services.score_with_changes("2026H1", new_values, db).units[preview_score.AFTER_COLUMNS]
    got = got.sort_values("unit").reset_index(drop=True)
    want = want.sort_values("unit").reset_index(drop=True)
    assert got["unit"].astype(str).tolist() == want["unit"].astype(str).tolist()
    np.testing.assert_allclose(got["total"].to_numpy(float), want["total"].to_numpy(float), atol=1e-9)
    assert got["rank"].astype(int).tolist() == want["rank"].astype(int).tolist()
    assert got["grade"].astype(str).tolist() == want["grade"].astype(str).tolist()
    return got, want


def test_small_changes_match_a_full_rescore(seeded_sqlite):
    db = seeded_sqlite
    before = services.score_period("2026H1", db).units.sort_values("total")
    low, high = str(before["unit"].iloc[0]), str(before["unit"].iloc[-1])
    table = services.scoring_inputs("2026H1", db).table
    # The lowest unit reports generously on every count field: it climbs past others (ranks move).
    counts = [n for n, f in table.fields.items() if f.kind not in ("bool", "percent")][:12]
    up = pd.DataFrame({"unit": low, "field": counts, "value": 40.0})
    # The highest unit loses two values (NaN: cleared, 缺报 as after a commit) and one count drops.
    down = pd.DataFrame({"unit": high, "field": [counts[0], counts[1], counts[2]],
                         "value": [np.nan, np.nan, 0.0]})
    got, want = _compare(db, pd.concat([up, down], ignore_index=True))
    rank_before = before.set_index("unit")["rank"]
    moved = got.set_index("unit")["rank"] != rank_before.reindex(got["unit"]).to_numpy()
    assert moved.sum() > 2  # the check above covered other units' ranks, not only the touched ones


def test_a_value_equal_to_the_current_one_changes_nothing(seeded_sqlite):
    db = seeded_sqlite
    cur = services.scoring_inputs("2026H1", db).evidence
    row = cur.iloc[5]
    nv = pd.DataFrame({"unit": [row["unit"]], "field": [row["field"]], "value": [row["value"]]})
    got, _ = _compare(db, nv)
    before = services.score_period("2026H1", db).units.sort_values("unit").reset_index(drop=True)
    assert got["rank"].tolist() == before["rank"].astype(int).tolist()


def test_tables_with_cross_unit_rules_are_rescored_whole():
    assert preview_score.unit_local(default_table())
    assert not preview_score.unit_local(table_star_2026())  # grade quotas: one unit's grade depends on others
