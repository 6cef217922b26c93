"""The compliance view's buckets, the expiring-items query for reminders, and a fixed query count."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from rj.core.time import from_local, local_today
from rj.facilitators import queries, services
from rj.facilitators.models import CourseCategory, FacilitatorStatus, ObservationOutcome
from tests.facilitators.factories import make_eligible, make_facilitator

TODAY = local_today()


@pytest.mark.parametrize("days,bucket", [
    (-1, "expired"), (0, "expiring_7"), (7, "expiring_7"), (8, "expiring_30"), (30, "expiring_30"),
    (31, "expiring_60"), (60, "expiring_60"), (61, "in_date"),
])
def test_buckets_by_days_left(days, bucket):
    assert queries.bucket_for(TODAY + timedelta(days=days), TODAY) == bucket


def test_no_expiry_is_in_date():
    assert queries.bucket_for(None, TODAY) == "in_date"


def test_every_item_for_an_eligible_facilitator(db):
    f = make_eligible(make_facilitator(), on=TODAY)
    items = queries.compliance_for(f, TODAY)
    assert [k for k, _ in queries.ITEMS] == list(items)
    assert items["qualifying_training"].status == "in_date"
    assert items["safeguarding"].status == "in_date"
    assert items["dbs"].status == "in_date"
    assert items["supervision"].status == "in_date"
    assert items["supervision"].due == TODAY - timedelta(days=20) + timedelta(days=84)
    assert items["observed_practice"].status == "missing"
    assert items["cpd"].status == "missing"


def test_expired_and_expiring_items_are_bucketed(db):
    f = make_eligible(make_facilitator(), on=TODAY)
    qual = next(r for r in f.training_records if r.course.category is CourseCategory.QUALIFYING)
    safe = next(r for r in f.training_records if r.course.category is CourseCategory.SAFEGUARDING)
    qual.expires_on = TODAY - timedelta(days=1)
    safe.expires_on = TODAY + timedelta(days=25)
    services.add_observed_practice(f, observed_on=TODAY - timedelta(days=340), observer_name="O",
                                   outcome=ObservationOutcome.MEETS_STANDARD, actor=None)
    services.add_cpd_entry(f, done_on=TODAY, hours=2, activity="Webinar", rjc_approved=True, actor=None)
    db.session.flush()
    items = queries.compliance_for(f, TODAY)
    assert items["qualifying_training"].status == "expired"
    assert items["qualifying_training"].due == TODAY - timedelta(days=1)
    assert items["safeguarding"].status == "expiring_30"
    assert items["observed_practice"].status in ("expiring_30", "expiring_60")
    assert items["cpd"].status == "below_target" and "2 of 6 hours" in items["cpd"].detail


def test_compliance_rows_filter_by_status_and_sort_most_urgent_first(db):
    good = make_eligible(make_facilitator(), on=TODAY)
    bare = make_facilitator()
    paused = make_facilitator(status=FacilitatorStatus.PAUSED)
    all_rows = queries.compliance_rows(on=TODAY)
    assert {r.facilitator.id for r in all_rows} == {good.id, bare.id, paused.id}
    active = queries.compliance_rows(on=TODAY, status=FacilitatorStatus.ACTIVE)
    assert {r.facilitator.id for r in active} == {good.id, bare.id}
    worst = queries.compliance_rows(on=TODAY, status=FacilitatorStatus.ACTIVE, sort="worst")
    assert worst[0].facilitator.id == bare.id


def test_expiring_items_lists_what_runs_out_soon_for_active_facilitators(db):
    f = make_eligible(make_facilitator(), on=TODAY)
    paused = make_eligible(make_facilitator(status=FacilitatorStatus.PAUSED), on=TODAY)
    for fac in (f, paused):
        next(r for r in fac.training_records if r.course.category is CourseCategory.SAFEGUARDING).expires_on = TODAY
    expired = next(r for r in f.training_records if r.course.category is CourseCategory.QUALIFYING)
    expired.expires_on = TODAY - timedelta(days=1)
    db.session.flush()
    now = from_local(TODAY, __import__("datetime").time(9, 0))
    found = queries.expiring_items(now, within_days=7)
    assert [(e.facilitator.id, e.item, e.days_left) for e in found] == [(f.id, "safeguarding", 0)]
    later = queries.expiring_items(now, within_days=90)
    assert (f.id, "supervision") in {(e.facilitator.id, e.item) for e in later}


@contextmanager
def count_queries(db):
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_the_compliance_view_runs_a_fixed_number_of_queries(db):
    for _ in range(2):
        make_eligible(make_facilitator(), on=TODAY)
    db.session.expire_all()
    with count_queries(db) as few:
        queries.compliance_rows(on=TODAY)
    for _ in range(4):
        make_eligible(make_facilitator(), on=TODAY)
    db.session.expire_all()
    with count_queries(db) as many:
        rows = queries.compliance_rows(on=TODAY)
    assert len(rows) == 6
    assert len(many) == len(few)


def test_seeded_demo_facilitator_is_eligible_for_level_2_and_the_demo_has_every_bucket(app, db):
    from rj.cli import seed_demo

    ctx = seed_demo(cases=40, now=from_local(date(2026, 5, 1), __import__("datetime").time(12, 0)))
    db.session.commit()
    demo = services.facilitator_for_user(ctx.users["facilitator@rj.example"])
    assert demo.id in ctx.extra["facilitator_ids"]
    assert services.check_eligibility(demo, level=2, on=date(2026, 5, 1)).eligible
    assert 25 <= len(ctx.extra["facilitator_ids"]) <= 27
    rows = queries.compliance_rows(on=date(2026, 5, 1))
    statuses = {i.status for r in rows for i in r.items.values()}
    assert {"in_date", "expired", "expiring_7", "missing"} <= statuses
    assert {r.facilitator.status for r in rows} == set(FacilitatorStatus)
