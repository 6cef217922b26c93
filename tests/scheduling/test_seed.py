"""Demo data: venues, availability and meetings that keep the no-double-booking rule."""
from __future__ import annotations

import random
from itertools import combinations

from sqlalchemy import select

from rj.cli import SeedContext
from rj.core.time import now_utc
from rj.scheduling import seed
from rj.scheduling.models import Meeting, MeetingFacilitator, MeetingParty, Venue


def test_demo_venues_availability_and_meetings_never_double_book(db):
    from rj.cli import seed_demo

    seed_demo(cases=60, seed=7)
    db.session.flush()
    names = set(db.session.scalars(select(Venue.name)))
    assert {"Edgeley Community Centre", "Brinnington Library", "Stockport Town Hall", "HMP Forest Bank"} <= names
    meetings = db.session.scalars(select(Meeting)).all()
    for kind, col in (("facilitator", MeetingFacilitator.facilitator_id), ("party", MeetingParty.party_id)):
        model = col.class_
        by: dict[int, list[Meeting]] = {}
        for mid, rid in db.session.execute(select(model.meeting_id, col)):
            by.setdefault(rid, []).append(db.session.get(Meeting, mid))
        for ms in by.values():
            for a, b in combinations(ms, 2):
                assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), kind
    rooms: dict[int, list[Meeting]] = {}
    for m in meetings:
        if m.room_id:
            rooms.setdefault(m.room_id, []).append(m)
    for ms in rooms.values():
        for a, b in combinations(ms, 2):
            assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at)


def test_seeding_twice_adds_no_more_venues(db):
    ctx = SeedContext(rng=random.Random(1), now=now_utc(), cases=0)
    seed.seed_demo(ctx)
    seed.seed_demo(ctx)
    assert db.session.query(Venue).count() == len(seed.VENUES)
