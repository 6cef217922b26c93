"""Training records, CPD, DBS, conflicts and profiles: bad input refused on the right field,
rolling CPD totals, masking, versions and the audit trail."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from rj.audit.models import AuditEvent
from rj.core.errors import ConcurrentEdit, DomainError, NotAllowed
from rj.core.time import local_today, now_utc
from rj.facilitators import services
from rj.facilitators.models import (
    ConflictKind, CourseCategory, DbsLevel, FacilitatorKind, GoalStatus, PractitionerLevel, add_months,
    mask_certificate,
)
from tests.facilitators.factories import make_course, make_facilitator

TODAY = local_today()


def events(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_expiry_is_derived_from_the_course_validity(db):
    f = make_facilitator()
    rec = services.add_training_record(f, course=make_course(months=24), completed_on=date(2024, 2, 29), actor=None)
    assert rec.expires_on == date(2026, 2, 28)
    assert services.add_training_record(f, course=make_course(months=None), completed_on=date(2024, 1, 1),
                                        actor=None).expires_on is None


def test_expiry_may_be_set_by_hand_but_not_before_completion(db):
    f = make_facilitator()
    course = make_course()
    rec = services.add_training_record(f, course=course, completed_on=date(2025, 1, 10),
                                       expires_on=date(2025, 6, 30), actor=None)
    assert rec.expires_on == date(2025, 6, 30)
    with pytest.raises(DomainError) as err:
        services.add_training_record(f, course=course, completed_on=date(2025, 3, 1), expires_on=date(2025, 2, 28),
                                     actor=None)
    assert err.value.field == "expires_on"


def test_future_completion_dates_are_refused(db):
    f = make_facilitator()
    with pytest.raises(DomainError) as err:
        services.add_training_record(f, course=make_course(), completed_on=TODAY + timedelta(days=1), actor=None)
    assert err.value.field == "completed_on" and "today or in the past" in err.value.message


def test_the_same_course_on_the_same_day_is_recorded_once(db):
    f = make_facilitator()
    course = make_course()
    services.add_training_record(f, course=course, completed_on=date(2025, 1, 10), actor=None)
    with pytest.raises(DomainError) as err:
        services.add_training_record(f, course=course, completed_on=date(2025, 1, 10), actor=None)
    assert err.value.field == "completed_on" and "already recorded" in err.value.message


def test_editing_a_verified_record_needs_verifying_again_and_is_audited(db, make_user):
    coordinator = make_user("coordinator")
    f = make_facilitator()
    course = make_course()
    rec = services.add_training_record(f, course=course, completed_on=date(2025, 1, 10), actor=coordinator)
    services.verify_training_record(rec, actor=coordinator)
    db.session.flush()
    fields = services.update_training_record(rec, version=rec.version, course=course, completed_on=date(2025, 1, 11),
                                             expires_on=None, evidence_reference="CERT-1", actor=coordinator)
    assert rec.verified_at is None
    assert {"completed_on", "evidence_reference", "verified_at"} <= set(fields)
    event = events(db, "training_record.updated")[0]
    assert event.object_id == rec.id and event.actor_id == coordinator.id and "completed_on" in event.fields
    assert "CERT-1" not in str(event.detail)


def test_a_stale_version_is_refused(db):
    f = make_facilitator()
    goal = services.add_plan_goal(f, title="Observed practice", target_date=None, status=GoalStatus.PLANNED,
                                  progress_notes=None, actor=None)
    db.session.flush()
    with pytest.raises(ConcurrentEdit):
        services.update_plan_goal(goal, version=goal.version + 1, title="x", target_date=None,
                                  status=GoalStatus.ACHIEVED, progress_notes=None, actor=None)


# --------------------------------------------------------------------------- CPD

@pytest.mark.parametrize("hours,message", [("0", "more than 0"), ("-2", "more than 0"), ("24.5", "24 or fewer"),
                                           ("lots", "as a number")])
def test_cpd_hours_must_be_sensible(db, hours, message):
    f = make_facilitator()
    with pytest.raises(DomainError) as err:
        services.add_cpd_entry(f, done_on=TODAY, hours=hours, activity="Webinar", rjc_approved=True, actor=None)
    assert err.value.field == "hours" and message in err.value.message


def test_cpd_cannot_be_in_the_future_or_logged_twice(db):
    f = make_facilitator()
    with pytest.raises(DomainError) as err:
        services.add_cpd_entry(f, done_on=TODAY + timedelta(days=1), hours=1, activity="Webinar", rjc_approved=True,
                               actor=None)
    assert err.value.field == "done_on"
    services.add_cpd_entry(f, done_on=TODAY, hours=24, activity="Webinar", rjc_approved=True, actor=None)
    with pytest.raises(DomainError) as err:
        services.add_cpd_entry(f, done_on=TODAY, hours=1, activity="webinar", rjc_approved=False, actor=None)
    assert err.value.field == "activity"


def test_cpd_totals_roll_over_twelve_months_ending_on_the_day(db):
    f = make_facilitator(level=PractitionerLevel.INTERMEDIATE)
    on = date(2026, 3, 31)
    for day, hours, approved in [(date(2025, 3, 31), 5, True),   # exactly a year before: outside
                                 (date(2025, 4, 1), 4, True),    # first day inside
                                 (date(2026, 3, 31), 2.5, False),
                                 (date(2026, 1, 10), 3, False)]:
        services.add_cpd_entry(f, done_on=day, hours=hours, activity=f"Activity {day}", rjc_approved=approved,
                               actor=None, now=now_utc())
    totals = services.cpd_totals(f, on=on)
    assert totals.total == Decimal("9.5") and totals.approved == Decimal("4")
    assert totals.target == 12 and not totals.met and totals.hours_short == Decimal("2.5")
    services.add_cpd_entry(f, done_on=date(2026, 2, 1), hours=3, activity="RJC course", rjc_approved=True,
                           actor=None)
    totals = services.cpd_totals(f, on=on)
    assert totals.total == Decimal("12.5") and totals.approved == Decimal("7") and totals.met
    # Next day the April entry is still in; a year after it, it drops out.
    assert services.cpd_totals(f, on=date(2026, 4, 1)).total == Decimal("8.5")


def test_cpd_target_needs_half_rjc_approved(db):
    f = make_facilitator(level=PractitionerLevel.FOUNDATION)
    services.add_cpd_entry(f, done_on=TODAY, hours=6, activity="Reading", rjc_approved=False, actor=None)
    totals = services.cpd_totals(f, on=TODAY)
    assert totals.total == 6 and totals.target == 6 and not totals.met
    services.add_cpd_entry(f, done_on=TODAY, hours=3, activity="RJC webinar", rjc_approved=True, actor=None)
    assert services.cpd_totals(f, on=TODAY).met


def test_targets_by_practitioner_level():
    assert [lvl.cpd_target_hours for lvl in PractitionerLevel] == [6, 12, 16]


def test_the_facilitator_cannot_change_a_verified_cpd_entry(db, make_user):
    coordinator = make_user("coordinator")
    f = make_facilitator()
    entry = services.add_cpd_entry(f, done_on=TODAY, hours=2, activity="Webinar", rjc_approved=True, actor=f.user)
    services.verify_cpd_entry(entry, actor=coordinator)
    db.session.flush()
    with pytest.raises(NotAllowed):
        services.update_cpd_entry(entry, version=entry.version, done_on=TODAY, hours=20, activity="Webinar",
                                  rjc_approved=True, actor=f.user, by_owner=True)
    assert entry.hours == 2


# --------------------------------------------------------------------------- DBS

def test_certificate_numbers_are_shown_masked():
    assert mask_certificate("001234561234") == "********1234"
    assert mask_certificate(None) == ""


@pytest.mark.parametrize("number", ["12345", "00123456123A", "0012345612345", ""])
def test_a_certificate_number_in_the_wrong_shape_is_refused(db, number):
    f = make_facilitator()
    with pytest.raises(DomainError) as err:
        services.add_dbs_check(f, level=DbsLevel.ENHANCED, certificate_number=number, issued_on=TODAY,
                               update_service=False, actor=None)
    assert err.value.field == "certificate_number" and "12-digit" in err.value.message


def test_certificate_numbers_may_be_typed_with_spaces_and_renewal_follows_the_setting(db, make_user):
    coordinator = make_user("coordinator")
    f = make_facilitator()
    check = services.add_dbs_check(f, level=DbsLevel.ENHANCED_BARRED_CHILDREN, certificate_number="0012 3456 1234",
                                   issued_on=date(2024, 5, 1), update_service=True, actor=coordinator)
    assert check.certificate_number == "001234561234" and check.masked_number == "********1234"
    assert check.renewal_due(3) == date(2027, 5, 1)
    assert check.verified_by_id == coordinator.id
    event = events(db, "dbs_check.added")[0]
    assert "001234561234" not in str(event.detail) and event.object_id == check.id


def test_editing_a_dbs_check_with_a_blank_number_keeps_it(db):
    f = make_facilitator()
    check = services.add_dbs_check(f, level=DbsLevel.ENHANCED, certificate_number="001234561234",
                                   issued_on=date(2024, 5, 1), update_service=False, actor=None)
    db.session.flush()
    services.update_dbs_check(check, version=check.version, level=DbsLevel.ENHANCED_BARRED_BOTH,
                              certificate_number="", issued_on=date(2024, 5, 2), update_service=True, actor=None)
    assert check.certificate_number == "001234561234" and check.issued_on == date(2024, 5, 2)


# --------------------------------------------------------------------------- profiles and conflicts

def test_creating_a_facilitator_creates_the_account_and_an_invitation(db, make_user):
    from rj.auth.models import AccountToken

    coordinator = make_user("coordinator")
    f, token = services.create_facilitator(name="Rosa Quinn", email="Rosa.Quinn@rj-test.org.uk",
                                           kind=FacilitatorKind.VOLUNTEER, languages=["English", "Polish"],
                                           areas=["Edgeley"], actor=coordinator)
    assert f.user.role.value == "facilitator" and f.user.email == "rosa.quinn@rj-test.org.uk"
    assert token and db.session.scalar(select(AccountToken).where(AccountToken.user_id == f.user_id)) is not None
    assert services.facilitator_for_user(f.user) is f
    assert services.facilitator_for_user(coordinator) is None
    assert events(db, "facilitator.created")[0].actor_id == coordinator.id


def test_unknown_areas_and_languages_are_refused(db, make_user):
    with pytest.raises(DomainError) as err:
        services.create_facilitator(name="A B", email="ab@rj-test.org.uk", kind=FacilitatorKind.STAFF,
                                    areas=["Narnia"], actor=None)
    assert err.value.field == "areas"
    f = make_facilitator()
    with pytest.raises(DomainError) as err:
        services.update_own_details(f, version=f.version, phone=None, languages=["Klingon"], areas=[], actor=None)
    assert err.value.field == "languages"


def test_own_details_change_only_contact_languages_and_areas_and_are_audited(db):
    f = make_facilitator()
    fields = services.update_own_details(f, version=f.version, phone="07700 900 001", languages=["Urdu"],
                                         areas=["Marple"], actor=f.user)
    assert sorted(fields) == ["areas", "languages", "phone"]
    assert events(db, "facilitator.updated")[0].fields == ["areas", "languages", "phone"]


def test_the_same_conflict_cannot_be_declared_twice(db):
    f = make_facilitator()
    services.add_conflict(f, kind=ConflictKind.ORGANISATION, value="Stockport Homes", actor=None)
    with pytest.raises(DomainError) as err:
        services.add_conflict(f, kind=ConflictKind.ORGANISATION, value="stockport  homes", actor=None)
    assert err.value.field == "value"


def test_experienced_by_override_or_by_cases_facilitated(db):
    f = make_facilitator()
    assert not services.is_experienced(f)
    assert services.is_experienced(f, cases=3)
    f.experienced = True
    assert services.is_experienced(f)


def test_cases_facilitated_counts_distinct_cases_with_held_meetings(db):
    pytest.importorskip("rj.scheduling.models")
    import secrets

    from rj.scheduling.models import Meeting, MeetingFacilitator, MeetingKind, MeetingStatus
    from tests.factories import make_case

    f = make_facilitator()
    start = now_utc() - timedelta(days=10)
    cases = [make_case(commit=False) for _ in range(3)]
    for case, status in [(cases[0], MeetingStatus.HELD), (cases[0], MeetingStatus.HELD),
                         (cases[1], MeetingStatus.HELD), (cases[2], MeetingStatus.CANCELLED)]:
        meeting = Meeting(case_id=case.id, kind=list(MeetingKind)[0], status=status, starts_at=start,
                          ends_at=start + timedelta(hours=1), ical_uid=secrets.token_hex(16), created_at=start)
        db.session.add(meeting)
        db.session.flush()
        db.session.add(MeetingFacilitator(meeting_id=meeting.id, facilitator_id=f.id))
    db.session.flush()
    assert services.cases_facilitated(f) == 2


def test_courses_qualifying_need_levels_and_supplementary_ones_carry_none(db):
    with pytest.raises(DomainError) as err:
        services.add_course(name="Qualifying", provider="P", category=CourseCategory.QUALIFYING, levels=[],
                            validity_months=36, actor=None)
    assert err.value.field == "levels"
    course = services.add_course(name="Safeguarding", provider="P", category=CourseCategory.SAFEGUARDING,
                                 levels=[2], validity_months=None, actor=None)
    assert course.levels == [] and course.expiry_for(date(2025, 1, 1)) is None
    with pytest.raises(DomainError) as err:
        services.add_course(name="safeguarding", provider="P", category=CourseCategory.OTHER, levels=[],
                            validity_months=None, actor=None)
    assert err.value.field == "name"
    with pytest.raises(DomainError) as err:
        services.add_course(name="Other", provider="P", category=CourseCategory.OTHER, levels=[],
                            validity_months=0, actor=None)
    assert err.value.field == "validity_months"


def test_add_months_clips_to_the_end_of_the_month():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 3, 31), -12) == date(2025, 3, 31)
