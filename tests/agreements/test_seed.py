"""The demo seeder adds agreements to held meetings and Level 1 records, and adds nothing twice."""
from __future__ import annotations

import random

from sqlalchemy import func, select

from rj.agreements.models import Agreement, Level1Record, MeetingOutcome
from rj.agreements.seed import seed_demo
from rj.cli import SeedContext
from rj.core.time import now_utc


def test_seed_adds_agreements_to_held_meetings_and_level1_records_once(db, held_setup):
    meetings = []
    for _ in range(6):
        case, meeting, a, b = held_setup()
        meeting.status = meeting.status.HELD
        meetings.append(meeting.id)
    db.session.commit()
    ctx = SeedContext(rng=random.Random(1), now=now_utc(), cases=10, extra={"held_meeting_ids": meetings})
    seed_demo(ctx)
    db.session.commit()
    assert db.session.scalar(select(func.count(MeetingOutcome.id))) == 6
    assert db.session.scalar(select(func.count(Agreement.id))) >= 1
    assert db.session.scalar(select(func.count(Level1Record.id))) == 20
    seed_demo(ctx)
    db.session.commit()
    assert db.session.scalar(select(func.count(MeetingOutcome.id))) == 6
    assert db.session.scalar(select(func.count(Level1Record.id))) == 20
