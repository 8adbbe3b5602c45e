"""「无佐证」: an item scored 达标 with no live file on the unit × item and, for items counted from
records, no current record of that type in the period. Expected sets are built here from the
rows this test writes, not read back from the flag code."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from data import attachments, evidence_flags, services
from data.attachment_store import DiskStore
from data.models import ActivityRecord, OrgUnit
from data.permissions import AccessDenied
from scoring.glossary import MET
from tests.data.test_attachments import PNG, principal

UNIT = "X0042"  # no demo files on it
_MISSING = object()


def _drop_demo_records(db) -> None:
    """The flags here follow the records these tests write: the demo's own (data/demo_records.py) go,
    with a new data version so no stored score still counts them."""
    from sqlalchemy import delete, update

    from data.models import Attachment, Period

    with db.session() as s:
        s.execute(delete(Attachment).where(Attachment.record_id.isnot(None)))  # the demo's files on records
        s.execute(delete(ActivityRecord))
        s.execute(update(Period).values(data_version=Period.data_version + 1))
    services.clear_cache()


@pytest.fixture(autouse=True)
def _without_demo_records(request):
    for name in ("seeded", "seeded_sqlite"):
        if name in request.fixturenames:
            _drop_demo_records(request.getfixturevalue(name))


def _met(db, unit: str) -> list[str]:
    items = services.score_period("2026H1", db).items_for(unit)
    return [str(i) for i, st in zip(items["item"], items["status"].astype(str)) if st == MET]


def test_flags_follow_files_reviews_and_deletes(seeded, tmp_path):
    db = seeded
    store = DiskStore(tmp_path / "files")
    insp = principal(db, "inspector")
    met = _met(db, UNIT)
    assert len(met) >= 3
    assert evidence_flags.unit_flags(insp, UNIT, "2026H1", db) == set(met)
    a = attachments.attach_to_item(insp, "2026H1", UNIT, met[0], "a.png", PNG(), db=db, store=store)
    b = attachments.attach_to_item(insp, "2026H1", UNIT, met[1], "b.png", PNG(), db=db, store=store)
    assert evidence_flags.unit_flags(insp, UNIT, "2026H1", db) == set(met) - {met[0], met[1]}
    attachments.review_attachment(insp, a, "不符合", "与本项无关", db=db)  # a rejected file is no evidence
    attachments.delete_attachment(insp, b, db=db)
    assert evidence_flags.unit_flags(insp, UNIT, "2026H1", db) == set(met)
    attachments.review_attachment(insp, a, "已核实", "补充说明后核实", db=db)
    assert evidence_flags.unit_flags(insp, UNIT, "2026H1", db) == set(met) - {met[0]}
    # The list for inspectors holds the same rows, with the unit's 局.
    frame = evidence_flags.no_evidence_frame("2026H1", db)
    assert set(frame.loc[frame["unit"] == UNIT, "item"]) == set(met) - {met[0]}
    not_met = {str(i) for i in services.score_period("2026H1", db).items["item"]} - set(met)
    assert not (set(frame.loc[frame["unit"] == UNIT, "item"]) & not_met)


def test_items_counted_from_records_need_a_current_record_of_that_type(seeded_sqlite):
    db = seeded_sqlite
    insp = principal(db, "inspector")
    table = services.scoring_inputs("2026H1", db).table
    met = _met(db, UNIT)
    item = next(i for i in table.items if i.code in met and i.fields)
    field = table.fields[item.fields[0]]
    old = getattr(field, "from_records", _MISSING)
    object.__setattr__(field, "from_records", "支委会")  # as the table would say: {from_records: 支委会}
    try:
        assert evidence_flags.record_types(table)[item.code] == ("支委会",)
        assert item.code in evidence_flags.unit_flags(insp, UNIT, "2026H1", db)
        with db.session() as s:
            uid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == UNIT))
            outside = ActivityRecord(unit_id=uid, activity_type="支委会", held_on=dt.date(2026, 7, 1))  # after H1
            other = ActivityRecord(unit_id=uid, activity_type="党课", held_on=dt.date(2026, 3, 1))
            gone = ActivityRecord(unit_id=uid, activity_type="支委会", held_on=dt.date(2026, 3, 1),
                                  withdrawn_at=dt.datetime(2026, 3, 2))
            s.add_all([outside, other, gone])
        assert item.code in evidence_flags.unit_flags(insp, UNIT, "2026H1", db)
        with db.session() as s:
            s.add(ActivityRecord(unit_id=uid, activity_type="支委会", held_on=dt.date(2026, 6, 30)))
        assert item.code not in evidence_flags.unit_flags(insp, UNIT, "2026H1", db)
    finally:
        if old is _MISSING:
            object.__delattr__(field, "from_records")
        else:
            object.__setattr__(field, "from_records", old)


def test_review_list_is_scoped_filtered_sorted_and_paged(seeded_sqlite):
    db = seeded_sqlite
    leader = principal(db, "leader")
    full = evidence_flags.no_evidence_frame("2026H1", db)
    ov = evidence_flags.review_overview(leader, "2026H1", bureau="临河县局", flag_sort="item", page_size=7, db=db)
    expected = full[full["bureau"] == "临河县局"].sort_values(["item", "unit"])
    assert ov["n_flags"] == len(expected) and ov["flag_pages"] == -(-len(expected) // 7)
    assert list(zip(ov["flags"]["item"], ov["flags"]["unit"])) == list(zip(expected["item"], expected["unit"]))[:7]
    last = evidence_flags.review_overview(leader, "2026H1", bureau="临河县局", flag_sort="item", page_size=7,
                                          flag_page=99, db=db)
    assert last["flag_page"] == ov["flag_pages"]
    # Demo files awaiting review: every live, unreviewed one of the period.
    assert ov["n_pending"] == 0 or set(ov["pending"]["bureau"]) == {"临河县局"}
    everything = evidence_flags.review_overview(leader, "2026H1", page_size=1000, db=db)
    assert everything["n_pending"] >= 10 and everything["pending"]["uploaded_at"].is_monotonic_increasing
    with pytest.raises(AccessDenied):
        evidence_flags.review_overview(principal(db, "staff"), "2026H1", db=db)


def test_one_units_flags_agree_with_the_period_frame_for_every_unit(seeded_sqlite):
    """``unit_flags`` (branch page) and ``no_evidence_frame`` (佐证核查) apply the rule separately; here with
    every field counted from 支委会 records and a record for some units, so that units are covered by
    records, by files and by neither."""
    db = seeded_sqlite
    insp = principal(db, "inspector")
    units = services.score_period("2026H1", db).units["unit"].tolist()
    with db.session() as s:
        ids = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        s.add_all([ActivityRecord(unit_id=ids[u], activity_type="支委会", held_on=dt.date(2026, 3, 1))
                   for u in units[::3]])
    table = services.scoring_inputs("2026H1", db).table
    without_records = len(evidence_flags.no_evidence_frame("2026H1", db))
    saved = {name: getattr(f, "from_records", _MISSING) for name, f in table.fields.items()}
    for f in table.fields.values():
        object.__setattr__(f, "from_records", "支委会")
    try:
        frame = evidence_flags.no_evidence_frame("2026H1", db)
        flagged = {u: evidence_flags.unit_flags(insp, u, "2026H1", db) for u in units}
        assert 0 < len(frame) < without_records  # records now cover some items, and not all
        for unit in units:
            assert flagged[unit] == set(frame.loc[frame["unit"] == unit, "item"]), unit
    finally:
        for name, old in saved.items():
            if old is _MISSING:
                object.__delattr__(table.fields[name], "from_records")
            else:
                object.__setattr__(table.fields[name], "from_records", old)
