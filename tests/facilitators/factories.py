"""Facilitators with exactly the training a test needs."""
from __future__ import annotations

from datetime import date, timedelta

from rj.core.permissions import Role
from rj.core.time import now_utc
from rj.extensions import db
from rj.facilitators import services
from rj.facilitators.models import (
    Course, CourseCategory, DbsLevel, Facilitator, FacilitatorKind, FacilitatorStatus, PractitionerLevel,
)

_n = {"n": 0}


def make_course(name=None, *, category=CourseCategory.QUALIFYING, levels=(1, 2), months=36) -> Course:
    _n["n"] += 1
    course = Course(name=name or f"Course {_n['n']}", provider="Provider", category=category,
                    levels=list(levels) if category is CourseCategory.QUALIFYING else [],
                    validity_months=months, active=True)
    db.session.add(course)
    db.session.flush()
    return course


def make_facilitator(user=None, *, status=FacilitatorStatus.ACTIVE, level=PractitionerLevel.FOUNDATION,
                     commit=True, **kw) -> Facilitator:
    from rj.auth.services import create_user

    if user is None:
        _n["n"] += 1
        user = create_user(email=f"fac{_n['n']}@rj-test.org.uk", name=f"Facilitator {_n['n']}", role=Role.FACILITATOR)
    f = Facilitator(user=user, kind=kw.pop("kind", FacilitatorKind.VOLUNTEER), status=status,
                    practitioner_level=level, languages=kw.pop("languages", []), areas=kw.pop("areas", []),
                    max_meetings_per_month=4, experienced=kw.pop("experienced", False), created_at=now_utc(), **kw)
    db.session.add(f)
    db.session.flush()
    if commit:
        db.session.commit()
    return f


def make_eligible(f: Facilitator, *, on: date, level: int = 2, actor=None, qualified_days_ago: int = 200,
                  commit: bool = True) -> Facilitator:
    """Qualifying training for `level`, safeguarding, a DBS check and recent supervision, all in date on `on`."""
    now = now_utc()
    qual = make_course(levels=(level,), months=36)
    safe = make_course(category=CourseCategory.SAFEGUARDING, months=24)
    services.add_training_record(f, course=qual, completed_on=on - timedelta(days=qualified_days_ago), actor=actor,
                                 now=now)
    services.add_training_record(f, course=safe, completed_on=on - timedelta(days=100), actor=actor, now=now)
    services.add_dbs_check(f, level=DbsLevel.ENHANCED_BARRED_BOTH, certificate_number="001234561234",
                           issued_on=on - timedelta(days=300), update_service=True, actor=actor, now=now)
    services.add_supervision_session(f, held_on=on - timedelta(days=20), supervisor_name="Sup", actor=actor, now=now)
    if commit:
        db.session.commit()
    return f
