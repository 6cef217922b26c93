"""Rostering test helpers: eligible facilitators (through the facilitators domain), parties with
consent, a room, meetings booked through the scheduling domain, and a fixed 'now'."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from rj.core.permissions import Role
from rj.core.time import UTC, from_local
from tests.factories import make_case, make_consenting_party

# Monday 1 March 2027, 10:00 GMT.
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def at(day: date, hhmm: str) -> datetime:
    return from_local(day, time.fromisoformat(hhmm))


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR, name="Priya Coordinator")


@pytest.fixture
def courses(db, coordinator):
    from rj.facilitators import services as fs
    from rj.facilitators.models import CourseCategory

    q = fs.add_course(name="SoRT-IT facilitator training", provider="RJ Council", category=CourseCategory.QUALIFYING,
                      levels=[2], validity_months=36, actor=coordinator)
    q3 = fs.add_course(name="Post-sentence RJ practitioner", provider="RJ Council", category=CourseCategory.QUALIFYING,
                       levels=[3], validity_months=36, actor=coordinator)
    s = fs.add_course(name="Safeguarding adults and children", provider="Stockport",
                      category=CourseCategory.SAFEGUARDING, levels=[], validity_months=36, actor=coordinator)
    return {"l2": q, "l3": q3, "safe": s}


@pytest.fixture
def make_facilitator(db, coordinator, courses):
    """An eligible facilitator (Level 2; Level 3 too with level3=True) available every day 08:00-21:00."""
    from rj.facilitators import services as fs
    from rj.facilitators.models import DbsLevel, FacilitatorKind
    from rj.scheduling import services as ss

    counter = {"n": 0}

    def make(name=None, *, experienced=False, level3=False, windows=True, eligible=True, max_meetings=8,
             user=None, now=NOW):
        counter["n"] += 1
        n = counter["n"]
        f, _ = fs.create_facilitator(name=name or f"Facilitator {n:03d}", email=f"rfac{n}@rj-test.org.uk",
                                     kind=FacilitatorKind.VOLUNTEER, actor=coordinator, invite=False, now=now)
        if user is not None:
            f.user_id, f.user = user.id, user
        f.experienced = experienced
        f.max_meetings_per_month = max_meetings
        if eligible:
            today = now.date()
            for key in ("l2", "safe") + (("l3",) if level3 else ()):
                fs.add_training_record(f, course=courses[key], completed_on=today - timedelta(days=100),
                                       actor=coordinator, now=now)
            fs.add_dbs_check(f, level=DbsLevel.ENHANCED, certificate_number=f"0098765432{n:02d}",
                             issued_on=today - timedelta(days=200), update_service=False, actor=coordinator, now=now)
            fs.add_supervision_session(f, held_on=today - timedelta(days=7), supervisor_name="Morgan Manager",
                                       actor=coordinator, now=now)
        if windows:
            for wd in range(7):
                ss.add_availability_window(f, weekday=wd, start_time=time(8), end_time=time(21), actor=coordinator)
        db.session.flush()
        return f

    return make


@pytest.fixture
def case(db):
    return make_case(risk_assessed=True, level=2)


@pytest.fixture
def make_party(db, coordinator):
    def make(case, name="Jordan Example", *, consent=("take_part", "face_to_face")):
        return make_consenting_party(case, name, actor=coordinator, now=NOW, consent=consent)

    return make


@pytest.fixture
def book(db, coordinator):
    """A phone preparation meeting through the scheduling domain (Tuesday 9 March 2027 18:00 by default)."""
    from rj.scheduling import services as ss
    from rj.scheduling.models import MeetingKind, MeetingMode

    def do(case, *, parties, lead=None, co=None, day=date(2027, 3, 9), start="18:00", minutes=90,
           kind=MeetingKind.PREPARATION, now=NOW):
        s = at(day, start)
        return ss.book_meeting(case, kind=kind, starts_at=s, ends_at=s + timedelta(minutes=minutes),
                               mode=MeetingMode.PHONE, parties=parties, lead=lead, co=co, actor=coordinator,
                               confirm_warnings=True, now=now)

    return do
