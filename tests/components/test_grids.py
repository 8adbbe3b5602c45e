"""``components.grids.frame_rows`` gives what ``DataFrame.to_dict("records")`` gives, value and type."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from components.grids import frame_rows


def _same(a: list[dict], b: list[dict]) -> bool:
    def norm(v):
        if isinstance(v, float) and math.isnan(v):
            return ("nan",)
        return (type(v).__name__, v)
    return [{k: norm(v) for k, v in r.items()} for r in a] == [{k: norm(v) for k, v in r.items()} for r in b]


def test_every_kind_of_column():
    df = pd.DataFrame({
        "text": pd.array(["甲", None, "丙"], dtype="str"),
        "obj": np.array(["a", 1, None], dtype=object),
        "int": np.array([1, 2, 3], dtype=np.int64),
        "float": [1.5, np.nan, -0.0],
        "bool": [True, False, True],
        "cat": pd.Categorical(["x", None, "x"]),
        "when": pd.to_datetime(["2026-01-02", None, "2026-12-31"]),
        "nullable": pd.array([1, None, 3], dtype="Int64"),
        "text_na": pd.array(["a", None, "c"], dtype=pd.StringDtype(na_value=pd.NA)),
    })
    assert _same(frame_rows(df), df.to_dict("records"))
    assert _same(frame_rows(df.iloc[0:0]), [])
    assert frame_rows(pd.DataFrame(index=range(2))) == df.iloc[:2, 0:0].to_dict("records")


def test_the_regularity_rows_of_the_demo(app_db):
    from data import record_views
    from data.accounts import principal_by_name

    df = record_views.regularity(principal_by_name("leader", db=app_db), "2026H1", db=app_db)
    assert len(df) > 0
    assert _same(frame_rows(df), df.to_dict("records"))
