"""Exports show the numbers the pages show: two decimals rounded half up (四舍五入)."""
from __future__ import annotations

import pandas as pd

from components.formats import fmt_points
from data.exports import round2


def test_round2_is_half_up_like_every_page():
    values = pd.Series([82.125, 0.005, 81.0, 89.995, None, -1.125])
    assert round2(values).tolist()[:4] == [82.13, 0.01, 81.0, 90.0]
    assert pd.isna(round2(values).tolist()[4])
    assert round2(values).tolist()[5] == -1.13
    # The same figure the detail page prints.
    assert fmt_points(82.125) == "82.13" and f"{round2(pd.Series([82.125]))[0]:.2f}" == "82.13"
    # pandas' own rounding would disagree (half to even on the binary value): the reason round2 exists.
    assert pd.Series([82.125]).round(2)[0] == 82.12
