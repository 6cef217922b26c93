"""check_eligibility: every rule of domain rule 4, each with its boundary days.

Chosen rule for boundaries: an item is valid through its expiry (or renewal) day, so on the day it
expires the facilitator is still eligible, and from the next day they are not.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from rj.core.time import now_utc
from rj.facilitators import services
from rj.facilitators.models import (
    ConflictKind, CourseCategory, DbsLevel, FacilitatorStatus, add_months,
)
from tests.facilitators.factories import make_course, make_eligible, make_facilitator

ON = date(2026, 6, 15)


@pytest.fixture
def fac(db):
    return make_eligible(make_facilitator(), on=ON)


def codes(f, day=ON, level=2, case=None):
    return services.check_eligibility(f, level=level, on=day, case=case).codes


def test_a_trained_checked_supervised_facilitator_is_eligible(fac):
    result = services.check_eligibility(fac, level=2, on=ON)
    assert result.eligible and result.reasons == []


def test_paused_and_left_facilitators_are_not_eligible(db, fac):
    fac.status = FacilitatorStatus.PAUSED
    result = services.check_eligibility(fac, level=2, on=ON)
    assert not result.eligible and result.codes == ["paused"]
    assert "Paused" in result.reasons[0]
    fac.status = FacilitatorStatus.LEFT
    assert codes(fac) == ["left"]


def test_training_for_level_2_does_not_qualify_for_level_3(fac):
    result = services.check_eligibility(fac, level=3, on=ON)
    assert result.codes == ["training_missing"]
    assert result.reasons == ["No qualifying training for Level 3 on record"]


def test_supplementary_courses_do_not_count_as_qualifying(db):
    f = make_facilitator()
    make_eligible(f, on=ON)
    services.add_training_record(f, course=make_course(category=CourseCategory.DATA_PROTECTION, months=12),
                                 completed_on=ON - timedelta(days=3), actor=None, now=now_utc())
    assert services.check_eligibility(f, level=3, on=ON).codes == ["training_missing"]


def _qualifying_record(f):
    return next(r for r in f.training_records if r.course.category is CourseCategory.QUALIFYING)


def test_qualifying_training_is_valid_through_its_expiry_day(db, fac):
    _qualifying_record(fac).expires_on = ON
    assert codes(fac, ON) == []
    tomorrow = ON + timedelta(days=1)
    result = services.check_eligibility(fac, level=2, on=tomorrow)
    assert result.codes == ["training_expired"]
    assert result.reasons == ["Qualifying training for Level 2 expired on 15 June 2026"]


def test_training_completed_after_the_day_does_not_count_yet(db):
    f = make_facilitator()
    make_eligible(f, on=ON)
    day_before_qualifying = _qualifying_record(f).completed_on - timedelta(days=1)
    assert "training_missing" in codes(f, day_before_qualifying)


def test_a_course_that_does_not_expire_stays_valid(db):
    f = make_facilitator()
    make_eligible(f, on=ON)
    rec = _qualifying_record(f)
    rec.expires_on = None
    assert "training_expired" not in codes(f, ON + timedelta(days=3650))


def test_safeguarding_is_required_and_valid_through_its_expiry_day(db, fac):
    safe = next(r for r in fac.training_records if r.course.category is CourseCategory.SAFEGUARDING)
    safe.expires_on = ON
    assert codes(fac, ON) == []
    assert codes(fac, ON + timedelta(days=1)) == ["safeguarding_expired"]


def test_safeguarding_missing_is_a_reason(db):
    f = make_facilitator()
    make_eligible(f, on=ON)
    safe = next(r for r in f.training_records if r.course.category is CourseCategory.SAFEGUARDING)
    f.training_records.remove(safe)
    db.session.delete(safe)
    db.session.flush()
    assert codes(f) == ["safeguarding_missing"]


def test_dbs_missing_is_a_reason(db):
    f = make_facilitator()
    make_eligible(f, on=ON)
    for check in list(f.dbs_checks):
        db.session.delete(check)
    db.session.flush()
    db.session.expire(f, ["dbs_checks"])
    result = services.check_eligibility(f, level=2, on=ON)
    assert result.codes == ["dbs_missing"] and result.reasons == ["No DBS check on record"]


def test_dbs_is_valid_through_its_renewal_day_three_years_after_issue(db, fac):
    check = fac.dbs_checks[0]
    check.issued_on = add_months(ON, -36)
    assert check.renewal_due(3) == ON
    assert codes(fac, ON) == []
    result = services.check_eligibility(fac, level=2, on=ON + timedelta(days=1))
    assert result.codes == ["dbs_due"]
    assert result.reasons == ["DBS check was due for renewal on 15 June 2026"]


@pytest.mark.config(DBS_RENEWAL_YEARS=1)
def test_dbs_renewal_period_is_a_setting(db, fac):
    fac.dbs_checks[0].issued_on = add_months(ON, -12)
    assert codes(fac, ON) == []
    assert codes(fac, ON + timedelta(days=1)) == ["dbs_due"]


def test_the_newest_dbs_check_counts(db, fac):
    services.add_dbs_check(fac, level=DbsLevel.ENHANCED, certificate_number="009999999999",
                           issued_on=ON - timedelta(days=1), update_service=False, actor=None, now=now_utc())
    fac.dbs_checks[1].issued_on = add_months(ON, -40)
    assert services.current_dbs(fac, ON).certificate_number == "009999999999"
    assert codes(fac) == []


def test_supervision_exactly_12_weeks_ago_is_in_time_and_a_day_more_is_overdue(db, fac):
    fac.supervision_sessions[0].held_on = ON - timedelta(days=84)
    assert codes(fac, ON) == []
    result = services.check_eligibility(fac, level=2, on=ON + timedelta(days=1))
    assert result.codes == ["supervision_overdue"]
    assert "15 June 2026" in result.reasons[0]


def test_a_newly_trained_facilitator_is_not_overdue_for_12_weeks_after_qualifying(db):
    f = make_facilitator()
    make_eligible(f, on=ON, qualified_days_ago=84)
    for s in list(f.supervision_sessions):
        db.session.delete(s)
    db.session.flush()
    db.session.expire(f, ["supervision_sessions"])
    assert codes(f, ON) == []
    assert codes(f, ON + timedelta(days=1)) == ["supervision_overdue"]


def test_no_supervision_and_no_training_says_supervision_is_missing(db):
    f = make_facilitator()
    assert set(codes(f)) == {"training_missing", "safeguarding_missing", "dbs_missing", "supervision_missing"}


def test_every_reason_is_given_at_once(db, fac):
    fac.status = FacilitatorStatus.PAUSED
    fac.dbs_checks[0].issued_on = add_months(ON, -48)
    fac.supervision_sessions[0].held_on = ON - timedelta(days=200)
    result = services.check_eligibility(fac, level=3, on=ON)
    assert result.codes == ["paused", "training_missing", "dbs_due", "supervision_overdue"]
    assert len(result.reasons) == 4 and not result.eligible


def test_a_datetime_is_read_as_the_local_day(fac):
    assert services.check_eligibility(fac, level=2, on=now_utc()).eligible in (True, False)


# --------------------------------------------------------------------------- conflicts of interest

def _case_with(db, *, name="Jordan Smith", address="12 Hillside Road, Edgeley", postcode="SK3 9AB",
               organisation="Stockport Homes Group"):
    pytest.importorskip("rj.consent.models")
    pytest.importorskip("rj.referrals.models")
    from rj.consent.models import Party, PartyRole
    from rj.referrals.models import Referral
    from tests.factories import make_case

    case = make_case(commit=False)
    db.session.add(Party(case_id=case.id, role=list(PartyRole)[0], name=name, address_line=address,
                         postcode=postcode, created_at=now_utc()))
    referral_columns = {c.name for c in Referral.__table__.columns}
    referral = Referral(case_id=case.id, referrer_name="Pat Referrer", referrer_organisation=organisation,
                        incident_date=ON, location="Edgeley", description="x", consent_to_share=True,
                        submitted_at=now_utc(), risk_flags=[])
    for column in ("category", "parties_aware", "parties_willing"):
        if column in referral_columns:
            enum_cls = Referral.__table__.c[column].type.enum_class
            setattr(referral, column, list(enum_cls)[0])
    db.session.add(referral)
    db.session.flush()
    db.session.expire(case)
    return case


@pytest.mark.parametrize("kind,value", [
    (ConflictKind.PERSON, "JORDAN smith"),
    (ConflictKind.ADDRESS, "hillside road"),
    (ConflictKind.ADDRESS, "sk39ab"),
    (ConflictKind.ORGANISATION, "stockport homes"),
])
def test_a_declared_conflict_matching_the_case_makes_them_ineligible_for_it(db, fac, kind, value):
    case = _case_with(db)
    conflict = services.add_conflict(fac, kind=kind, value=value, private_note="my cousin", actor=None)
    result = services.check_eligibility(fac, level=2, on=ON, case=case)
    assert result.codes == [f"conflict_{kind.value}"]
    assert result.reasons == [f"Declared conflict of interest ({kind.label.lower()})"]
    assert conflict.private_note not in " ".join(result.reasons)
    assert value.lower() not in " ".join(result.reasons).lower()
    assert services.check_eligibility(fac, level=2, on=ON).eligible  # no case, no conflict check


def test_a_conflict_that_does_not_match_is_not_a_reason(db, fac):
    case = _case_with(db)
    services.add_conflict(fac, kind=ConflictKind.PERSON, value="Jordan Smithson", actor=None)
    services.add_conflict(fac, kind=ConflictKind.ADDRESS, value="Hill Road", actor=None)
    assert services.check_eligibility(fac, level=2, on=ON, case=case).eligible


def test_removed_parties_are_not_matched(db, fac):
    case = _case_with(db)
    from rj.consent.models import Party

    for party in db.session.scalars(db.select(Party).where(Party.case_id == case.id)):
        party.removed_at = now_utc()
    db.session.flush()
    services.add_conflict(fac, kind=ConflictKind.PERSON, value="Jordan Smith", actor=None)
    assert services.check_eligibility(fac, level=2, on=ON, case=case).eligible


def test_check_eligibility_many_reads_the_case_once_and_agrees(db, fac):
    case = _case_with(db)
    other = make_eligible(make_facilitator(), on=ON)
    services.add_conflict(other, kind=ConflictKind.PERSON, value="jordan smith", actor=None)
    results = services.check_eligibility_many([fac, other], level=2, on=ON, case=case)
    assert results[fac.id].eligible and results[other.id].codes == ["conflict_person"]


def test_conflict_terms_with_no_case_are_empty():
    assert all(v == [] for v in services.conflict_terms_for_case(None).values())
