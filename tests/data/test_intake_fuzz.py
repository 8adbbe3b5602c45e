"""Property-based: whatever people type into cells, the intake answers with issues, never a traceback,
and every value it accepts is in range for its field."""
from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.intake.parse import parse_upload
from tests.fixtures.intake_files import TABLE, UNITS

FIELDS = ["committee_meetings", "reading_rate", "ideology_review", "member_training_hours", "dues_rate"]
HEADERS = [TABLE.fields[f].header for f in FIELDS]
cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["１２", "12次", "8学时", "95%", "0.95", "是", "否", "√", "×", "有", "无", "十二", "-3", "1e9",
                     "NaN", "inf", "=1+1", " 6 ", "1,200", "3.5", "", "合计", "100%", "101"]),
    st.integers(-10, 10_000).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
units = st.sampled_from(list(UNITS["unit"]) + list(UNITS["name"]) + ["", "第一支部", "X9999", "合计"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(units, st.lists(cell, min_size=len(FIELDS), max_size=len(FIELDS))), max_size=12),
       st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_any_cells_give_issues_not_exceptions_and_accepted_values_are_in_range(rows, encoding):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["单位编码"] + HEADERS)
    for unit, cells in rows:
        w.writerow([unit] + cells)
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    report = parse_upload(data, "随机.csv", TABLE, UNITS, "2026H1", "H1", TABLE.version)
    for issue in report.issues:
        assert issue.message and "随机.csv" in issue.message
        if issue.row:
            assert 1 <= issue.row <= len(rows) + 1
    for v in report.values.itertuples():
        f = TABLE.fields[v.field]
        assert v.value >= 0
        if f.kind == "percent":
            assert v.value <= 100
        if f.kind == "bool":
            assert v.value in (0.0, 1.0)
        if f.kind in ("count", "people"):
            assert float(v.value).is_integer()
