"""Scheduling test helpers: truly eligible facilitators (through the facilitators domain), parties
with consent (through the consent domain), venues and rooms, and a fixed 'now'."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from rj.core.permissions import Role
from rj.core.time import UTC, from_local
from rj.scheduling import services
from rj.scheduling.models import MeetingKind, MeetingMode
from tests.factories import make_case, make_consenting_party

# Monday 15 March 2027, 10:00 GMT: two weeks before the clocks go forward (Sunday 28 March 2027).
NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


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
                      levels=[2, 3], validity_months=36, actor=coordinator)
    s = fs.add_course(name="Safeguarding adults and children", provider="Stockport", category=CourseCategory.SAFEGUARDING,
                      levels=[], validity_months=36, actor=coordinator)
    return q, s


@pytest.fixture
def make_facilitator(db, coordinator, courses):
    """An eligible facilitator (qualified, safeguarding, DBS, supervised) available every day 08:00-21:00."""
    from rj.facilitators import services as fs
    from rj.facilitators.models import DbsLevel, FacilitatorKind

    counter = {"n": 0}

    def make(name=None, *, windows=True, now=NOW, eligible=True):
        counter["n"] += 1
        n = counter["n"]
        f, _ = fs.create_facilitator(name=name or f"Facilitator {n}", email=f"fac{n}@rj-test.org.uk",
                                     kind=FacilitatorKind.VOLUNTEER, actor=coordinator, invite=False, now=now)
        if eligible:
            today = now.date()
            for course in courses:
                fs.add_training_record(f, course=course, completed_on=today - timedelta(days=100), actor=coordinator,
                                       now=now)
            fs.add_dbs_check(f, level=DbsLevel.ENHANCED, certificate_number=f"0012345678{n:02d}",
                             issued_on=today - timedelta(days=200), update_service=False, actor=coordinator, now=now)
            fs.add_supervision_session(f, held_on=today - timedelta(days=7), supervisor_name="Morgan Manager",
                                       actor=coordinator, now=now)
        if windows:
            for wd in range(7):
                services.add_availability_window(f, weekday=wd, start_time=time(8), end_time=time(21),
                                                 actor=coordinator)
        db.session.flush()
        return f

    return make


@pytest.fixture
def case(db):
    return make_case(level=2)


@pytest.fixture
def make_party(db, coordinator):
    def make(case, name="Jordan Example", *, consent=("take_part", "face_to_face")):
        return make_consenting_party(case, name, actor=coordinator, now=NOW, consent=consent)

    return make


@pytest.fixture
def venue(db, coordinator):
    weekdays = {str(d): [["09:00", "21:00"]] for d in range(7)}
    v = services.create_venue(name="Edgeley Community Centre", address_line="Castle Street", postcode="SK3 9AB",
                              step_free_access=True, separate_waiting_areas=True, opening_hours=weekdays,
                              actor=coordinator)
    return v


@pytest.fixture
def room(db, venue, coordinator):
    return services.create_room(venue, name="Meeting room 1", capacity=6, actor=coordinator)


@pytest.fixture
def book(db, coordinator):
    """book_meeting with sensible defaults: Tuesday 23 March 2027 18:00-19:30 local."""

    def do(case, *, parties, lead, co=None, day=date(2027, 3, 23), start="18:00", minutes=90, room=None,
           mode=None, kind=MeetingKind.PREPARATION, now=NOW, **kw):
        s = at(day, start)
        return services.book_meeting(case, kind=kind, starts_at=s, ends_at=s + timedelta(minutes=minutes),
                                     mode=mode or (MeetingMode.IN_PERSON if room else MeetingMode.PHONE), room=room,
                                     parties=parties, lead=lead, co=co, actor=kw.pop("actor", coordinator), now=now, **kw)

    return do
