"""Rostering services: teams and continuity, replacements, pairing, suggestions, offers, auto-roster."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from rj.audit.models import AuditEvent
from rj.core.errors import DomainError, NotAllowed
from rj.core.time import to_local
from rj.rostering import services as rs
from rj.rostering.models import CaseTeam, Offer, OfferStatus, RosterRunStatus, TeamChange, TeamRole
from tests.factories import make_case
from tests.rostering.conftest import NOW


def actions(db, action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


# --------------------------------------------------------------------------- teams

def test_allocated_team_stays_on_every_future_meeting_of_the_case(db, case, coordinator, make_facilitator,
                                                                   make_party, book):
    a, b = make_facilitator(experienced=True), make_facilitator()
    p1, p2 = make_party(case, "Alex One"), make_party(case, "Blair Two")
    team = rs.allocate_team(case, lead=a, co=b, actor=coordinator, now=NOW)
    m1 = book(case, parties=[p1], day=date(2027, 3, 9))
    m2 = book(case, parties=[p2], day=date(2027, 3, 10))
    for m in (m1, m2):
        assert {mf.facilitator_id for mf in m.facilitators} == {a.id, b.id}
        assert m.lead.id == a.id
    assert rs.current_team(case) == (a, b)
    assert team.changes[0].kind == "formed"
    assert actions(db, "case_team.formed") == 1


def test_a_case_has_only_one_active_team(db, case, coordinator, make_facilitator):
    a, b, c = make_facilitator(experienced=True), make_facilitator(), make_facilitator()
    rs.allocate_team(case, lead=a, co=b, actor=coordinator, now=NOW)
    with pytest.raises(DomainError, match="already has a team"):
        rs.allocate_team(case, lead=a, co=c, actor=coordinator, now=NOW)


def test_facilitators_are_allocated_only_after_the_case_is_risk_assessed(db, coordinator, make_facilitator):
    unassessed = make_case(level=2)
    a, b = make_facilitator(experienced=True), make_facilitator()
    with pytest.raises(DomainError, match="risk assessment"):
        rs.allocate_team(unassessed, lead=a, co=b, actor=coordinator, now=NOW)
    with pytest.raises(DomainError, match="risk assessment"):
        rs.make_offer(a, unassessed, "lead", actor=coordinator, now=NOW)
    start = to_local(NOW).date()
    run = rs.auto_roster(start, start + timedelta(days=27), actor=coordinator, now=NOW, time_limit=2)
    assert unassessed.id not in {item.case_id for item in run.items}


def test_two_new_facilitators_are_refused_as_a_team(db, case, coordinator, make_facilitator):
    a, b = make_facilitator(), make_facilitator()
    with pytest.raises(DomainError, match="both new"):
        rs.allocate_team(case, lead=a, co=b, actor=coordinator, now=NOW)
    assert rs.current_team(case) is None


def test_an_ineligible_facilitator_cannot_join_a_team(db, case, coordinator, make_facilitator):
    a, b = make_facilitator(experienced=True), make_facilitator(eligible=False)
    with pytest.raises(DomainError) as err:
        rs.allocate_team(case, lead=a, co=b, actor=coordinator, now=NOW)
    assert err.value.field == "co_facilitator_id"
    assert any("DBS" in r for r in err.value.reasons)


def test_replacement_is_recorded_with_its_reason_and_moves_future_meetings(db, case, coordinator, make_facilitator,
                                                                           make_party, book):
    a, b, c = make_facilitator(experienced=True), make_facilitator(), make_facilitator()
    p = make_party(case)
    rs.allocate_team(case, lead=a, co=b, actor=coordinator, now=NOW)
    meeting = book(case, parties=[p])
    rs.replace_team_member(case, role=TeamRole.CO, new=c, reason="unwell", actor=coordinator, now=NOW)
    assert rs.current_team(case) == (a, c)
    assert {mf.facilitator_id for mf in meeting.facilitators} == {a.id, c.id}
    change = db.session.scalar(select(TeamChange).where(TeamChange.kind == "replaced"))
    assert (change.old_facilitator_id, change.new_facilitator_id, change.reason) == (b.id, c.id, "unwell")
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case_team.member_replaced"))
    assert event_.case_id == case.id and event_.detail["reason"] == "unwell"


def test_replacement_needs_a_reason_and_keeps_an_experienced_member(db, case, coordinator, make_facilitator):
    a, b, c = make_facilitator(experienced=True), make_facilitator(), make_facilitator()
    rs.allocate_team(case, lead=a, co=b, actor=coordinator, now=NOW)
    with pytest.raises(DomainError) as err:
        rs.replace_team_member(case, role=TeamRole.CO, new=c, reason="", actor=coordinator, now=NOW)
    assert err.value.field == "reason"
    with pytest.raises(DomainError, match="both new"):
        rs.replace_team_member(case, role=TeamRole.LEAD, new=c, reason="unwell", actor=coordinator, now=NOW)
    assert rs.current_team(case) == (a, b)


# --------------------------------------------------------------------------- suggestions

def test_suggestions_rank_eligible_people_and_explain_exclusions(db, case, coordinator, make_facilitator):
    light = make_facilitator("Ann Light", experienced=True)
    newer = make_facilitator("Bo Newer")
    blocked = make_facilitator("Cy Blocked", eligible=False)
    ranked, excluded = rs.suggest_facilitators(case, now=NOW)
    assert [s.facilitator.id for s in ranked] == [light.id, newer.id]
    assert "Experienced" in ranked[0].reasons
    assert any(r.startswith("New") for r in ranked[1].reasons)
    assert any("0 of 8 meetings" in r for r in ranked[0].reasons)
    (ex,) = excluded
    assert ex.facilitator.id == blocked.id and any("DBS" in r for r in ex.reasons)


def test_co_facilitator_for_a_new_lead_must_be_experienced(db, case, coordinator, make_facilitator):
    lead = make_facilitator("Ann New")
    exp = make_facilitator("Bea Experienced", experienced=True)
    new = make_facilitator("Cal New")
    ranked, excluded = rs.suggest_facilitators(case, now=NOW, partner=lead)
    assert [s.facilitator.id for s in ranked] == [exp.id]
    reasons = {e.facilitator.id: e.reasons for e in excluded}
    assert any("paired with an experienced" in r for r in reasons[new.id])
    assert reasons[lead.id] == ["Already on this case's team"]


def test_suggestions_for_a_meeting_exclude_the_unavailable_and_the_double_booked(
        db, coordinator, make_facilitator, make_party, book):
    case, other = make_case(risk_assessed=True, level=2), make_case(risk_assessed=True, level=2)
    free = make_facilitator("Ann Free", experienced=True)
    away = make_facilitator("Bo Away", windows=False)
    busy = make_facilitator("Cy Busy", experienced=True)
    partner = make_facilitator("Di Partner", experienced=True)
    meeting = book(case, parties=[make_party(case)], lead=free, co=partner, day=date(2027, 3, 9), start="18:00")
    book(other, parties=[make_party(other, "Eve Other")], lead=busy, day=date(2027, 3, 9), start="18:30")
    ranked, excluded = rs.suggest_facilitators(case, meeting=meeting, now=NOW)
    reasons = {e.facilitator.id: " ".join(e.reasons) for e in excluded}
    assert "Not available on Tuesdays" in reasons[away.id]
    assert "already booked" in reasons[busy.id]
    assert {s.facilitator.id for s in ranked} >= {free.id, partner.id}


def test_monthly_maximum_excludes_with_the_count(db, coordinator, make_facilitator, make_party, book):
    case, other = make_case(risk_assessed=True, level=2), make_case(risk_assessed=True, level=2)
    full = make_facilitator("Ann Full", experienced=True, max_meetings=1)
    book(other, parties=[make_party(other)], lead=full, day=date(2027, 3, 9))
    _, excluded = rs.suggest_facilitators(case, now=NOW)
    (ex,) = [e for e in excluded if e.facilitator.id == full.id]
    assert "1 of 1 meetings in March" in ex.reasons[0]


def test_level3_case_needs_level3_training(db, coordinator, make_facilitator):
    case = make_case(risk_assessed=True, level=3)
    l3 = make_facilitator(experienced=True, level3=True)
    l2 = make_facilitator(experienced=True)
    ranked, excluded = rs.suggest_facilitators(case, now=NOW)
    assert [s.facilitator.id for s in ranked] == [l3.id]
    assert any("Level 3" in r for r in excluded[0].reasons)


def count_queries(db):
    counter = {"n": 0}

    def before(*args, **kwargs):
        counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", before)
    return counter, lambda: event.remove(db.engine, "before_cursor_execute", before)


def test_suggestions_run_a_fixed_number_of_queries(db, coordinator, make_facilitator, make_party, book):
    case = make_case(risk_assessed=True, level=2)
    first = make_facilitator(experienced=True)
    meeting = book(case, parties=[make_party(case)], lead=first)
    for _ in range(2):
        make_facilitator()
    db.session.commit()

    def measure():
        db.session.expire_all()
        counter, stop = count_queries(db)
        try:
            rs.suggest_facilitators(case, meeting=meeting, now=NOW)
        finally:
            stop()
        return counter["n"]

    few = measure()
    for i in range(6):
        make_facilitator(experienced=i % 2 == 0)
    db.session.commit()
    assert measure() == few


# --------------------------------------------------------------------------- offers

@pytest.fixture
def fac_user(make_user):
    from rj.core.permissions import Role

    return make_user(Role.FACILITATOR, name="Sam Facilitator")


def test_offers_accepted_by_lead_and_co_form_the_team(db, case, coordinator, make_facilitator, make_user):
    from rj.core.permissions import Role

    a = make_facilitator(experienced=True, user=make_user(Role.FACILITATOR))
    b = make_facilitator(user=make_user(Role.FACILITATOR))
    o1 = rs.make_offer(a, case, TeamRole.LEAD, actor=coordinator, now=NOW)
    o2 = rs.make_offer(b, case, TeamRole.CO, actor=coordinator, now=NOW)
    assert o1.status is OfferStatus.PENDING and o1.expires_at == NOW + timedelta(hours=48)
    rs.accept_offer(o1, actor=a.user, now=NOW + timedelta(hours=1))
    assert rs.current_team(case) is None
    rs.accept_offer(o2, actor=b.user, now=NOW + timedelta(hours=2))
    assert rs.current_team(case) == (a, b)
    assert actions(db, "offer.accepted") == 2


def test_only_the_facilitator_offered_can_answer(db, case, coordinator, make_facilitator, make_user):
    from rj.core.permissions import Role

    a = make_facilitator(experienced=True, user=make_user(Role.FACILITATOR))
    b = make_facilitator(user=make_user(Role.FACILITATOR))
    offer = rs.make_offer(a, case, TeamRole.LEAD, actor=coordinator, now=NOW)
    with pytest.raises(NotAllowed):
        rs.accept_offer(offer, actor=b.user, now=NOW)
    with pytest.raises(NotAllowed):
        rs.decline_offer(offer, actor=coordinator, now=NOW)
    assert offer.status is OfferStatus.PENDING


def test_offer_cannot_be_answered_after_it_expires(db, case, coordinator, make_facilitator, make_user):
    from rj.core.permissions import Role

    a = make_facilitator(experienced=True, user=make_user(Role.FACILITATOR))
    offer = rs.make_offer(a, case, TeamRole.LEAD, actor=coordinator, now=NOW, expires_in=1)
    with pytest.raises(DomainError, match="expired"):
        rs.accept_offer(offer, actor=a.user, now=NOW + timedelta(hours=2))


def test_a_new_facilitator_is_not_offered_beside_another_new_one(db, case, coordinator, make_facilitator):
    a, b = make_facilitator(), make_facilitator()
    rs.make_offer(a, case, TeamRole.LEAD, actor=coordinator, now=NOW)
    with pytest.raises(DomainError, match="experienced"):
        rs.make_offer(b, case, TeamRole.CO, actor=coordinator, now=NOW)


def test_expired_offers_are_released_to_the_next_suggestion_once(db, case, coordinator, make_facilitator):
    a = make_facilitator("Ann First", experienced=True)
    b = make_facilitator("Bo Second", experienced=True)
    offer = rs.make_offer(a, case, TeamRole.LEAD, actor=coordinator, now=NOW, expires_in=1)
    assert rs.release_expired_offers(NOW + timedelta(minutes=30)) == []
    released = rs.release_expired_offers(NOW + timedelta(hours=2))
    assert released == [offer] and offer.status is OfferStatus.RELEASED
    pending = db.session.scalars(select(Offer).where(Offer.status == OfferStatus.PENDING)).all()
    assert [(o.facilitator_id, o.role) for o in pending] == [(b.id, TeamRole.LEAD)]
    assert rs.release_expired_offers(NOW + timedelta(hours=2)) == []
    assert db.session.scalar(select(func.count(Offer.id))) == 2
    assert actions(db, "offer.released") == 1


def test_declined_offer_goes_to_the_next_suggestion(db, case, coordinator, make_facilitator, make_user):
    from rj.core.permissions import Role

    a = make_facilitator("Ann First", experienced=True, user=make_user(Role.FACILITATOR))
    b = make_facilitator("Bo Second", experienced=True)
    offer = rs.make_offer(a, case, TeamRole.LEAD, actor=coordinator, now=NOW)
    rs.decline_offer(offer, actor=a.user, now=NOW)
    nxt = db.session.scalar(select(Offer).where(Offer.status == OfferStatus.PENDING))
    assert nxt.facilitator_id == b.id


# --------------------------------------------------------------------------- auto-roster

def test_auto_roster_proposes_valid_teams_and_confirming_makes_offers(db, coordinator, make_facilitator, make_party,
                                                                       book):
    cases = [make_case(risk_assessed=True, level=2) for _ in range(3)]
    facs = [make_facilitator(experienced=i < 3) for i in range(6)]
    lead = facs[0]
    for i, c in enumerate(cases):
        book(c, parties=[make_party(c, f"Pat Party{i}")], lead=lead, day=date(2027, 3, 9 + i))
    # The meetings were booked with a placeholder lead; rostering proposes the real teams.
    run = rs.auto_roster(date(2027, 3, 1), date(2027, 3, 31), actor=coordinator, now=NOW, time_limit=5)
    assert run.status is RosterRunStatus.DRAFT
    assert len(run.items) == 3 and all(item.filled for item in run.items)
    for item in run.items:
        assert item.lead_facilitator_id != item.co_facilitator_id
        assert item.lead_facilitator.experienced
    assert db.session.scalar(select(func.count(Offer.id))) == 0
    offers = rs.confirm_roster_run(run, actor=coordinator, now=NOW)
    assert len(offers) == 6 and run.status is RosterRunStatus.CONFIRMED
    with pytest.raises(DomainError):
        rs.confirm_roster_run(run, actor=coordinator, now=NOW)


def test_auto_roster_leaves_a_case_unfilled_when_only_new_people_are_free(db, coordinator, make_facilitator):
    make_case(risk_assessed=True, level=2)
    make_facilitator(), make_facilitator()
    run = rs.auto_roster(date(2027, 3, 1), date(2027, 3, 31), actor=coordinator, now=NOW, time_limit=2)
    (item,) = run.items
    assert not item.filled and item.unfilled_reason == "no_experienced_candidate"
    assert db.session.scalar(select(func.count(CaseTeam.id))) == 0


# --------------------------------------------------------------------------- availability in bulk

@pytest.mark.parametrize("day,start,minutes", [
    (date(2027, 3, 9), "18:00", 90),     # inside the Tuesday window
    (date(2027, 3, 9), "20:00", 90),     # runs past the window
    (date(2027, 3, 10), "10:00", 60),    # Wednesday: no window
    (date(2027, 3, 28), "18:00", 60),    # last Sunday of March (clocks go forward)
    (date(2027, 10, 31), "18:00", 60),   # last Sunday of October (clocks go back)
    (date(2027, 3, 16), "18:00", 60),    # on leave
    (date(2027, 3, 9), "23:30", 60),     # past midnight
])
def test_bulk_availability_agrees_with_scheduling(db, coordinator, make_facilitator, day, start, minutes):
    from datetime import time

    from rj.rostering.queries import AvailabilityBook
    from rj.scheduling import services as ss
    from rj.scheduling.models import ExceptionKind
    from tests.rostering.conftest import at

    f = make_facilitator(windows=False)
    for wd in (1, 6):  # Tuesdays and Sundays 17:00-21:00 local
        ss.add_availability_window(f, weekday=wd, start_time=time(17), end_time=time(21), actor=coordinator)
    ss.add_availability_exception(f, kind=ExceptionKind.LEAVE, starts_on=date(2027, 3, 15), ends_on=date(2027, 3, 17),
                                  actor=coordinator)
    s = at(day, start)
    e = s + timedelta(minutes=minutes)
    book = AvailabilityBook.load([f.id])
    assert (book.reason(f.id, s, e) is None) == ss.facilitator_available(f, s, e)


def test_auto_roster_never_proposes_someone_busy_or_unavailable_at_the_case_meetings(
        db, coordinator, make_facilitator, make_party, book):
    from rj.rostering.models import RosterProposal

    case, other = make_case(risk_assessed=True, level=2), make_case(risk_assessed=True, level=2)
    placeholder = make_facilitator("Zed Placeholder", experienced=True)
    busy = make_facilitator("Ann Busy", experienced=True)
    away = make_facilitator("Bo Away", experienced=True, windows=False)
    free_exp = make_facilitator("Cy Free", experienced=True)
    free_new = make_facilitator("Di Free")
    book(case, parties=[make_party(case)], lead=placeholder, day=date(2027, 3, 9), start="18:00")
    book(other, parties=[make_party(other, "Eve Other")], lead=busy, co=free_new, day=date(2027, 3, 9), start="10:00")
    book(other, parties=[make_party(other, "Fay Other")], lead=busy, co=free_new, day=date(2027, 3, 9), start="18:30")
    rs.allocate_team(other, lead=busy, co=free_new, actor=coordinator, now=NOW)
    run = rs.auto_roster(date(2027, 3, 1), date(2027, 3, 31), actor=coordinator, now=NOW, time_limit=3)
    (item,) = [i for i in run.items if i.case_id == case.id]
    assert isinstance(item, RosterProposal) and item.filled
    assert {item.lead_facilitator_id, item.co_facilitator_id} <= {placeholder.id, free_exp.id}
    assert busy.id not in (item.lead_facilitator_id, item.co_facilitator_id)
    assert away.id not in (item.lead_facilitator_id, item.co_facilitator_id)
