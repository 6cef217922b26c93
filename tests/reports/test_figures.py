"""The figures themselves: each report counts what it says it counts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from rj.cases.models import Case, CaseStatus, CloseReason
from rj.reports import queries, services
from tests.reports.conftest import (
    add_consent, add_feedback, add_meeting, add_party, make_facilitator, make_referred_case,
)


def at(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=timezone.utc)


START, END = date(2025, 1, 1), date(2025, 12, 31)


def test_referrals_by_month_lists_every_month_with_zeros(db):
    make_referred_case(referred_at=at(2025, 3, 10))
    make_referred_case(referred_at=at(2025, 3, 20))
    make_referred_case(referred_at=at(2025, 5, 15))
    make_referred_case(referred_at=at(2024, 12, 15))  # before the period
    rows = dict(queries.referrals_by_month(date(2025, 2, 1), date(2025, 5, 31)))
    assert rows == {"2025-02": 0, "2025-03": 2, "2025-04": 0, "2025-05": 1}


def test_referrals_by_source_groups_members_of_the_public_and_trims_organisations(db):
    make_referred_case(referred_at=at(2025, 3, 1), public=True)
    make_referred_case(referred_at=at(2025, 3, 1), public=True)
    make_referred_case(referred_at=at(2025, 3, 1), organisation="Police")
    make_referred_case(referred_at=at(2025, 3, 1), organisation="Police ")
    make_referred_case(referred_at=at(2025, 3, 1), organisation=None)
    rows = dict(queries.referrals_by_source(START, END))
    assert rows == {"Member of the public": 2, "Police": 2, "Organisation not given": 1}


def test_referrals_by_category_lists_every_category(db):
    make_referred_case(referred_at=at(2025, 3, 1), category="bullying")
    rows = dict(queries.referrals_by_category(START, END))
    assert rows["Bullying"] == 1 and rows["Criminal damage"] == 0


def test_cases_by_level_counts_level_1_records_which_have_no_referral(db):
    db.session.add(Case(reference="RJ-2025-L1AAA", status=CaseStatus.CLOSED, level=1, referred_at=at(2025, 4, 1)))
    make_referred_case(referred_at=at(2025, 4, 1), level=3)
    make_referred_case(referred_at=at(2025, 4, 1), level=None)
    db.session.flush()
    assert dict(queries.cases_by_level(START, END)) == {
        "Level 1": 1, "Level 2": 0, "Level 3": 1, "Level not decided": 1}


def test_conversion_counts_accepted_referrals_and_held_restorative_meetings(db):
    a = make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.MEETING_HELD)
    b = make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.ACCEPTED)
    make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.REFERRED)
    add_meeting(a, starts_at=at(2025, 4, 1), status="held")
    add_meeting(b, starts_at=at(2025, 4, 1), status="held", kind="preparation")
    assert queries.conversion(START, END) == {"referred": 3, "accepted": 2, "conference": 1}


def test_median_days_to_first_contact_and_to_conference(db):
    for days in (1, 2, 10):
        case = make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.MEETING_HELD)
        add_party(case, first_contact_at=at(2025, 3, 1) + timedelta(days=days))
        add_party(case, first_contact_at=at(2025, 3, 1) + timedelta(days=days + 5))  # later contact: ignored
        add_meeting(case, starts_at=at(2025, 3, 1) + timedelta(days=days * 10), status="held")
    d = queries.durations(START, END)
    assert d["first_contact"] == {"n": 3, "median": 2.0}
    assert d["conference"]["n"] == 3 and round(d["conference"]["median"], 3) == 20.0


def test_consent_rates_count_people_once_per_answer(db):
    case = make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.ACCEPTED)
    p1, p2, p3 = add_party(case), add_party(case), add_party(case)
    add_consent(p1, "consent_given", at=at(2025, 3, 2))
    add_consent(p1, "consent_given", at=at(2025, 3, 2), scope="face_to_face")
    add_consent(p2, "consent_given", at=at(2025, 3, 2))
    add_consent(p2, "consent_withdrawn", at=at(2025, 3, 5))
    add_consent(p3, "consent_declined", at=at(2025, 3, 2))
    assert queries.consent_rates(START, END) == {"given": 2, "declined": 1, "withdrawn": 1}
    report = services.build_report("consent", services.Period(START, END))
    assert report.rows[0][2] == "67%"  # 2 of the 3 who answered


def test_victims_code_compliance_separates_on_time_late_and_overdue(db):
    # Referred Monday 3 March 2025: first contact due Wednesday 5 March.
    referred = at(2025, 3, 3, 10)
    on_time = make_referred_case(referred_at=referred)
    add_party(on_time, victims_code=True, first_contact_at=at(2025, 3, 5, 15))
    late = make_referred_case(referred_at=referred)
    add_party(late, victims_code=True, first_contact_at=at(2025, 3, 6, 9))
    never = make_referred_case(referred_at=referred)
    add_party(never, victims_code=True)
    add_party(never)  # not a Victims' Code party: no clock
    v = queries.victims_code(START, END)
    assert v["first_contact"] == {"on_time": 1, "late": 1, "overdue": 1, "due": 0, "total": 3}


def test_facilitator_activity_sums_held_meeting_hours(db, make_user):
    f = make_facilitator(make_user("facilitator", name="Robin Facilitator"))
    case = make_referred_case(referred_at=at(2025, 3, 1))
    add_meeting(case, starts_at=at(2025, 3, 10), hours=2, status="held", facilitators=[f])
    add_meeting(case, starts_at=at(2025, 3, 11), hours=1.5, status="held", facilitators=[f])
    add_meeting(case, starts_at=at(2025, 3, 12), hours=3, status="cancelled", facilitators=[f])
    assert queries.facilitator_activity(START, END) == [
        {"facilitator_id": f.id, "name": "Robin Facilitator", "meetings": 2, "hours": 3.5}]


def test_satisfaction_comes_from_the_survey_answers(db):
    case = make_referred_case(referred_at=at(2025, 3, 1))
    party = add_party(case)
    for score in (5, 4, 2):
        add_feedback(case, party, satisfaction=score, at=at(2025, 6, 1))
    report = services.build_report("satisfaction", services.Period(START, END))
    assert [r[1] for r in report.rows] == [0, 1, 0, 1, 1]
    assert report.notes[0].startswith("67% satisfied")


def test_the_victim_initiated_rule_is_the_referrer_being_a_member_of_the_public(db):
    make_referred_case(referred_at=at(2025, 5, 1), public=True, level=2)
    make_referred_case(referred_at=at(2025, 5, 1), public=False, level=2)
    db.session.add(Case(reference="RJ-2025-L1BBB", status=CaseStatus.CLOSED, level=1, referred_at=at(2025, 5, 1)))
    db.session.flush()
    got = queries.received_by_level_and_initiator(date(2025, 4, 1), date(2025, 6, 30))
    assert got == {2: {"victim": 1, "agency": 1}, 1: {"agency": 1}}


def test_concluded_cases_are_counted_by_level_and_outcome(db):
    c1 = make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.CLOSED)
    c1.closed_at, c1.close_reason = at(2025, 5, 1), CloseReason.AGREEMENT_COMPLETED
    c2 = make_referred_case(referred_at=at(2025, 4, 20), status=CaseStatus.DECLINED, level=None)
    c2.triaged_at = at(2025, 4, 21)
    c3 = make_referred_case(referred_at=at(2025, 3, 1), status=CaseStatus.CLOSED, level=3)
    c3.closed_at, c3.close_reason = at(2025, 8, 1), CloseReason.NO_CONTACT  # next quarter
    db.session.flush()
    got = queries.concluded_by_level_and_outcome(date(2025, 4, 1), date(2025, 6, 30))
    assert got == {2: {"agreement_completed": 1}, None: {"declined": 1}}


def test_every_report_builds_on_an_empty_database(db):
    for report in services.build_all(services.Period(START, END)):
        header, rows = report.exported()
        assert header[0] and isinstance(rows, list)


def test_the_victims_code_report_agrees_with_the_consent_domains_clock_rule(db):
    from sqlalchemy import select

    from rj.consent.services import victims_code_clocks

    for i, day in enumerate((3, 4, 5, 6, 7, 14, 21)):
        case = make_referred_case(referred_at=at(2025, 3, day, 8 + i))
        p = add_party(case, victims_code=True, first_contact_at=at(2025, 3, day + i % 4, 17) if i % 3 else None)
        p.enhanced_rights = bool(i % 2)
        if i % 2:
            add_consent(p, "information_given", at=at(2025, 3, day + i % 3, 9))
    db.session.flush()
    cases = list(db.session.scalars(select(Case)))
    items = victims_code_clocks(cases, include_done=True)
    from rj.core.time import to_local

    expected = {}
    for clock in ("first_contact", "rj_information"):
        mine = [i for i in items if i.clock == clock]
        expected[clock] = {
            "on_time": sum(1 for i in mine if i.done_at and to_local(i.done_at).date() <= i.due),
            "late": sum(1 for i in mine if i.done_at and to_local(i.done_at).date() > i.due),
            "overdue": sum(1 for i in mine if not i.done_at and i.status == "overdue"),
            "due": sum(1 for i in mine if not i.done_at and i.status == "due"),
            "total": len(mine),
        }
    assert queries.victims_code(START, END) == expected
