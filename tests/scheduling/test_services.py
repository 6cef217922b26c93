"""Scheduling rules at service level: booking, refusals and warnings, no double-booking,
availability across the clock changes, the meeting lifecycle, and finding a time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from rj.audit.models import AuditEvent
from rj.cases.models import CaseStatus
from rj.core.errors import DomainError
from rj.core.time import UTC, LocalTimeError, from_local
from rj.scheduling import services
from rj.scheduling.models import (
    ExceptionKind, FacilitatorRole, Meeting, MeetingKind, MeetingMode, MeetingStatus, SlotPollStatus, VenueKind,
)
from tests.factories import make_case
from tests.scheduling.conftest import NOW, at


@pytest.fixture
def team(make_facilitator):
    return make_facilitator("Sam Facilitator"), make_facilitator("Alex Co")


@pytest.fixture
def jordan(case, make_party):
    return make_party(case, "Jordan Example")


def test_booking_a_meeting_records_people_place_and_a_calendar_identity(db, case, jordan, team, room, book):
    lead, co = team
    m = book(case, parties=[jordan], lead=lead, co=co, room=room)
    assert m.status is MeetingStatus.BOOKED and m.mode is MeetingMode.IN_PERSON
    assert m.venue_id == room.venue_id and m.room_id == room.id
    assert m.ical_uid.endswith("@rj") and len(m.ical_uid) == 35 and m.ical_sequence == 0
    assert [(mf.facilitator_id, mf.role) for mf in m.facilitators] == [(lead.id, FacilitatorRole.LEAD),
                                                                      (co.id, FacilitatorRole.CO)]
    assert [mp.party_id for mp in m.parties] == [jordan.id]
    ev = db.session.query(AuditEvent).filter_by(action="meeting.booked").one()
    assert ev.case_id == case.id and ev.object_id == m.id
    assert case.status is CaseStatus.PREPARATION


def test_a_restorative_meeting_moves_the_case_to_meeting_booked(db, case, make_party, team, room, book):
    a, b = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    book(case, parties=[a, b], lead=team[0], co=team[1], room=room, kind=MeetingKind.RESTORATIVE)
    assert case.status is CaseStatus.MEETING_BOOKED


def test_the_consent_gate_refuses_a_party_without_consent(db, case, make_party, team, book):
    nobody = make_party(case, "Riley Noconsent", consent=None)
    with pytest.raises(DomainError) as err:
        book(case, parties=[nobody], lead=team[0])
    assert any("Riley Noconsent" in r and "consent" in r for r in err.value.reasons)
    assert db.session.query(Meeting).count() == 0


def test_a_restorative_meeting_needs_face_to_face_consent(db, case, make_party, team, book):
    a = make_party(case, "Jordan Example")
    b = make_party(case, "Casey Example", consent=("take_part",))
    with pytest.raises(DomainError) as err:
        book(case, parties=[a, b], lead=team[0], kind=MeetingKind.RESTORATIVE)
    assert any("Casey Example" in r and "face to face" in r for r in err.value.reasons)


def test_an_ineligible_facilitator_is_refused_with_the_reasons(db, case, jordan, make_facilitator, book):
    untrained = make_facilitator("Drew Untrained", eligible=False)
    with pytest.raises(DomainError) as err:
        book(case, parties=[jordan], lead=untrained)
    assert err.value.reasons and all(r.startswith("Drew Untrained:") for r in err.value.reasons)


def test_every_reason_is_given_at_once(db, case, make_party, make_facilitator, book):
    nobody = make_party(case, "Riley Noconsent", consent=None)
    untrained = make_facilitator("Drew Untrained", eligible=False)
    with pytest.raises(DomainError) as err:
        book(case, parties=[nobody], lead=untrained, co=untrained, day=date(2027, 3, 1))
    text = " | ".join(err.value.reasons)
    assert "in the past" in text and "two different people" in text and "Drew Untrained:" in text
    assert "Riley Noconsent" in text


def test_a_meeting_must_end_after_it_starts(db, case, jordan, team):
    s = at(date(2027, 3, 23), "18:00")
    with pytest.raises(DomainError, match="end after it starts"):
        services.book_meeting(case, kind=MeetingKind.PREPARATION, starts_at=s, ends_at=s, mode=MeetingMode.PHONE,
                              parties=[jordan], lead=team[0], actor=None, now=NOW)


def test_a_meeting_in_the_past_is_refused(db, case, jordan, team, book):
    with pytest.raises(DomainError, match="in the past"):
        book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 12))


def test_an_in_person_meeting_needs_a_room(db, case, jordan, team, book):
    with pytest.raises(DomainError, match="Choose a room"):
        book(case, parties=[jordan], lead=team[0], mode=MeetingMode.IN_PERSON)


def test_a_room_too_small_for_the_people_invited_is_refused(db, case, make_party, team, venue, coordinator, book):
    cupboard = services.create_room(venue, name="Small room", capacity=3, actor=coordinator)
    a, b = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    with pytest.raises(DomainError, match="Small room holds 3 people but this meeting invites 4"):
        book(case, parties=[a, b], lead=team[0], co=team[1], room=cupboard, kind=MeetingKind.RESTORATIVE)


def test_outside_the_venues_opening_hours_is_refused(db, case, jordan, team, room, book):
    with pytest.raises(DomainError, match="Edgeley Community Centre is not open 20:00-21:30 on Tuesdays"):
        book(case, parties=[jordan], lead=team[0], room=room, start="20:00")


def test_a_prison_can_only_be_booked_in_visiting_times(db, case, jordan, team, coordinator, book):
    prison = services.create_venue(name="HMP Forest Bank", kind=VenueKind.PRISON, actor=coordinator,
                                   opening_hours={"1": [["14:00", "16:00"]]})
    visits = services.create_room(prison, name="Legal visits room", capacity=6, actor=coordinator)
    with pytest.raises(DomainError, match=r"visiting times: 14:00-16:00"):
        book(case, parties=[jordan], lead=team[0], room=visits, start="10:00")
    assert book(case, parties=[jordan], lead=team[0], room=visits, start="14:00", minutes=120).id


def test_weekends_need_explicit_confirmation(db, case, jordan, team, book):
    with pytest.raises(services.NeedsConfirmation, match="Saturday 20 March 2027 is at the weekend"):
        book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 20))
    assert db.session.query(Meeting).count() == 0
    assert book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 20), confirm_warnings=True).id


def test_bank_holidays_need_explicit_confirmation(db, case, jordan, team, book):
    with pytest.raises(services.NeedsConfirmation, match="Friday 26 March 2027 is a bank holiday"):
        book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 26))
    assert book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 26), confirm_warnings=True).id


def test_a_meeting_on_the_last_sunday_of_march_is_at_local_time(db, case, jordan, team, book):
    m = book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 28), start="10:00", confirm_warnings=True)
    assert m.starts_at == datetime(2027, 3, 28, 9, 0, tzinfo=UTC)   # BST from 01:00 UTC


def test_a_meeting_on_the_last_sunday_of_october_is_at_local_time(db, case, jordan, make_facilitator, book):
    now = datetime(2027, 10, 20, 9, 0, tzinfo=UTC)
    lead = make_facilitator("Sam Facilitator", now=now)
    m = book(case, parties=[jordan], lead=lead, day=date(2027, 10, 31), start="10:00", confirm_warnings=True, now=now)
    assert m.starts_at == datetime(2027, 10, 31, 10, 0, tzinfo=UTC)  # GMT again


def test_the_skipped_and_repeated_hours_are_refused_with_a_clear_message():
    with pytest.raises(LocalTimeError, match="does not exist"):
        from_local(date(2027, 3, 28), time(1, 30))
    with pytest.raises(LocalTimeError, match="happens twice"):
        from_local(date(2027, 10, 31), time(1, 30))


# ----------------------------------------------------------------- availability

def test_tuesday_evening_availability_holds_across_the_spring_clock_change(db, make_facilitator, coordinator):
    f = make_facilitator("Sam Facilitator", windows=False)
    services.add_availability_window(f, weekday=1, start_time=time(18), end_time=time(20), actor=coordinator)
    before, after = date(2027, 3, 23), date(2027, 3, 30)   # either side of Sunday 28 March
    assert services.facilitator_available(f, at(before, "18:00"), at(before, "19:30"))
    assert services.facilitator_available(f, at(after, "18:00"), at(after, "19:30"))
    # 18:00 local is 18:00 UTC before and 17:00 UTC after: the window moves with the clock.
    assert at(after, "18:00").hour == 17
    assert not services.facilitator_available(f, at(after, "17:00"), at(after, "18:30"))
    assert not services.facilitator_available(f, at(after, "19:00"), at(after, "20:30"))
    assert not services.facilitator_available(f, at(date(2027, 3, 24), "18:00"), at(date(2027, 3, 24), "19:00"))


def test_tuesday_evening_availability_holds_across_the_autumn_clock_change(db, make_facilitator, coordinator):
    f = make_facilitator("Sam Facilitator", windows=False)
    services.add_availability_window(f, weekday=1, start_time=time(18), end_time=time(20), actor=coordinator)
    before, after = date(2027, 10, 26), date(2027, 11, 2)  # either side of Sunday 31 October
    assert at(before, "18:00").hour == 17 and at(after, "18:00").hour == 18
    assert services.facilitator_available(f, at(before, "18:00"), at(before, "20:00"))
    assert services.facilitator_available(f, at(after, "18:00"), at(after, "20:00"))
    assert not services.facilitator_available(f, at(after, "17:30"), at(after, "19:00"))


def test_a_sunday_window_on_the_clock_change_day_itself_is_local(db, make_facilitator, coordinator):
    f = make_facilitator("Sam Facilitator", windows=False)
    services.add_availability_window(f, weekday=6, start_time=time(10), end_time=time(12), actor=coordinator)
    for sunday in (date(2027, 3, 28), date(2027, 10, 31)):
        assert services.facilitator_available(f, at(sunday, "10:00"), at(sunday, "12:00"))
        assert not services.facilitator_available(f, at(sunday, "09:00"), at(sunday, "10:30"))


def test_leave_and_one_off_days_override_weekly_windows(db, make_facilitator, coordinator):
    f = make_facilitator("Sam Facilitator")
    services.add_availability_exception(f, kind=ExceptionKind.LEAVE, starts_on=date(2027, 3, 22),
                                        ends_on=date(2027, 3, 24), actor=coordinator)
    services.add_availability_exception(f, kind=ExceptionKind.UNAVAILABLE, starts_on=date(2027, 3, 30),
                                        actor=coordinator)
    day = lambda d: (at(d, "18:00"), at(d, "19:00"))  # noqa: E731
    assert not services.facilitator_available(f, *day(date(2027, 3, 22)))
    assert not services.facilitator_available(f, *day(date(2027, 3, 24)))
    assert services.facilitator_available(f, *day(date(2027, 3, 25)))
    assert not services.facilitator_available(f, *day(date(2027, 3, 30)))
    assert "on leave on Tuesday 23 March 2027" in services.unavailability_reason(f, *day(date(2027, 3, 23)))


def test_overlapping_windows_and_back_to_front_times_are_refused(db, make_facilitator, coordinator):
    f = make_facilitator("Sam Facilitator", windows=False)
    services.add_availability_window(f, weekday=1, start_time=time(18), end_time=time(20), actor=coordinator)
    with pytest.raises(DomainError, match="overlaps Tuesdays 18:00-20:00"):
        services.add_availability_window(f, weekday=1, start_time=time(19), end_time=time(21), actor=coordinator)
    with pytest.raises(DomainError, match="end time must be after"):
        services.add_availability_window(f, weekday=2, start_time=time(19), end_time=time(18), actor=coordinator)
    with pytest.raises(DomainError, match="last day"):
        services.add_availability_exception(f, kind=ExceptionKind.LEAVE, starts_on=date(2027, 4, 2),
                                            ends_on=date(2027, 4, 1), actor=coordinator)


def test_booking_an_unavailable_facilitator_is_refused(db, case, jordan, make_facilitator, coordinator, book):
    f = make_facilitator("Sam Facilitator", windows=False)
    services.add_availability_window(f, weekday=1, start_time=time(18), end_time=time(20), actor=coordinator)
    with pytest.raises(DomainError, match=r"Sam Facilitator is not available 17:00-18:30 on Tuesdays \(available 18:00-20:00\)"):
        book(case, parties=[jordan], lead=f, start="17:00")
    assert book(case, parties=[jordan], lead=f, start="18:00").id


# ----------------------------------------------------------------- double-booking

def test_a_facilitator_is_never_in_two_meetings_at_once(db, case, make_party, team, book):
    lead = team[0]
    book(case, parties=[make_party(case, "Jordan Example")], lead=lead)
    other = make_case()
    with pytest.raises(services.DoubleBooking,
                       match="Sam Facilitator is already booked 18:00-19:30 on Tuesday 23 March 2027"):
        book(other, parties=[make_party(other, "Casey Example")], lead=lead, start="19:00")


def test_a_facilitator_needs_the_travel_gap_between_meetings(db, case, make_party, team, book):
    lead = team[0]
    book(case, parties=[make_party(case, "Jordan Example")], lead=lead)   # ends 19:30
    other = make_case()
    p = make_party(other, "Casey Example")
    with pytest.raises(services.DoubleBooking, match="30 minutes between meetings"):
        book(other, parties=[p], lead=lead, start="19:45", minutes=60)
    assert book(other, parties=[p], lead=lead, start="20:00", minutes=60).id


@pytest.mark.config(TRAVEL_GAP_MINUTES=0)
def test_the_travel_gap_is_configurable(db, case, make_party, team, book):
    book(case, parties=[make_party(case, "Jordan Example")], lead=team[0])
    other = make_case()
    assert book(other, parties=[make_party(other, "Casey Example")], lead=team[0], start="19:30", minutes=60).id


def test_a_party_is_never_in_two_meetings_at_once(db, case, jordan, team, book):
    book(case, parties=[jordan], lead=team[0])
    with pytest.raises(services.DoubleBooking, match="Jordan Example is already in a meeting 18:00-19:30"):
        book(case, parties=[jordan], lead=team[1], start="19:00")


def test_a_room_is_never_in_two_meetings_at_once(db, case, make_party, team, room, book):
    book(case, parties=[make_party(case, "Jordan Example")], lead=team[0], room=room)
    other = make_case()
    with pytest.raises(services.DoubleBooking, match="Meeting room 1 is already booked 18:00-19:30"):
        book(other, parties=[make_party(other, "Casey Example")], lead=team[1], room=room, start="18:30")


def test_cancelled_meetings_free_everyone(db, case, jordan, team, room, book, coordinator):
    m = book(case, parties=[jordan], lead=team[0], room=room)
    services.cancel_meeting(m, actor=coordinator, reason="party_request", now=NOW)
    assert book(case, parties=[jordan], lead=team[0], room=room).id


def test_is_facilitator_free_answers_for_rostering(db, case, jordan, team, book):
    m = book(case, parties=[jordan], lead=team[0])
    assert not services.is_facilitator_free(team[0], m.starts_at, m.ends_at)
    assert services.is_facilitator_free(team[0], m.starts_at, m.ends_at, exclude_meeting_id=m.id)
    assert services.is_facilitator_free(team[1], m.starts_at, m.ends_at)


# ----------------------------------------------------------------- lifecycle

def test_rescheduling_keeps_the_uid_and_bumps_the_sequence_once_per_move(db, case, jordan, team, room, book,
                                                                        coordinator):
    m = book(case, parties=[jordan], lead=team[0], room=room)
    uid = m.ical_uid
    new = at(date(2027, 3, 24), "18:00")
    services.reschedule_meeting(m, starts_at=new, ends_at=new + timedelta(minutes=90), actor=coordinator, now=NOW)
    assert (m.ical_uid, m.ical_sequence, m.starts_at) == (uid, 1, new)
    services.reschedule_meeting(m, joining_notes="Ring the bell at the side door", actor=coordinator, now=NOW)
    assert m.ical_sequence == 1       # not a change of time or place
    services.reschedule_meeting(m, mode=MeetingMode.VIDEO, actor=coordinator, now=NOW)
    assert m.ical_sequence == 2 and m.room_id is None
    assert {e.action for e in db.session.query(AuditEvent).filter_by(case_id=case.id)} >= {
        "meeting.rescheduled", "meeting.updated"}


def test_rescheduling_obeys_the_same_rules(db, case, make_party, team, book, coordinator):
    jordan = make_party(case, "Jordan Example")
    m1 = book(case, parties=[jordan], lead=team[0])
    m2 = book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 24))
    with pytest.raises(services.DoubleBooking, match="already"):
        services.reschedule_meeting(m2, starts_at=m1.starts_at, ends_at=m1.ends_at, actor=coordinator, now=NOW)
    with pytest.raises(DomainError, match="in the past"):
        services.reschedule_meeting(m2, starts_at=NOW - timedelta(days=1), ends_at=NOW, actor=coordinator, now=NOW)


def test_a_stale_form_cannot_reschedule(db, case, jordan, team, book, coordinator):
    from rj.core.errors import ConcurrentEdit

    m = book(case, parties=[jordan], lead=team[0])
    with pytest.raises(ConcurrentEdit):
        services.reschedule_meeting(m, joining_notes="x", version=m.version + 5, actor=coordinator, now=NOW)


def test_changing_people_tells_notifications_who_was_removed(db, case, make_party, team, book, coordinator,
                                                             monkeypatch, make_facilitator):
    calls = []
    import rj.notifications.services as ns

    monkeypatch.setattr(ns, "meeting_changed", lambda m, **kw: calls.append(kw), raising=False)
    jordan = make_party(case, "Jordan Example")
    m = book(case, parties=[jordan], lead=team[0], co=team[1])
    third = make_facilitator("Taylor Third")
    services.reschedule_meeting(m, lead=team[0], co=third, actor=coordinator, now=NOW)
    assert calls[0]["change"] == "booked"
    assert calls[1]["change"] == "updated" and calls[1]["removed_facilitator_ids"] == (team[1].id,)
    assert m.co_facilitator.id == third.id


def test_cancelling_bumps_the_sequence_and_puts_the_case_back(db, case, make_party, team, book, coordinator):
    a, b = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    m = book(case, parties=[a, b], lead=team[0], kind=MeetingKind.RESTORATIVE)
    services.cancel_meeting(m, actor=coordinator, reason="party_request", now=NOW)
    assert m.status is MeetingStatus.CANCELLED and m.ical_sequence == 1 and m.cancel_reason == "party_request"
    assert case.status is CaseStatus.READY_TO_MEET
    with pytest.raises(DomainError, match="can no longer be changed"):
        services.cancel_meeting(m, actor=coordinator, reason="x", now=NOW)


def test_postponing_frees_the_time_until_a_new_one_is_given(db, case, jordan, team, book, coordinator):
    m = book(case, parties=[jordan], lead=team[0])
    services.postpone_meeting(m, actor=coordinator, reason="facilitator_unwell", now=NOW)
    assert m.status is MeetingStatus.RESCHEDULED and not m.is_active
    assert services.is_facilitator_free(team[0], m.starts_at, m.ends_at)
    new = at(date(2027, 3, 25), "18:00")
    services.reschedule_meeting(m, starts_at=new, ends_at=new + timedelta(hours=1), actor=coordinator, now=NOW)
    assert m.status is MeetingStatus.BOOKED and m.ical_sequence == 2


def test_removing_the_lead_makes_the_co_facilitator_lead(db, case, jordan, team, book, coordinator):
    m = book(case, parties=[jordan], lead=team[0], co=team[1])
    services.remove_facilitator_from_meeting(m, team[0], actor=coordinator, reason="unwell", now=NOW)
    assert [(mf.facilitator_id, mf.role) for mf in m.facilitators] == [(team[1].id, FacilitatorRole.LEAD)]
    assert services.is_facilitator_free(team[0], m.starts_at, m.ends_at)


def test_future_meetings_of_a_party_are_cancelled_and_past_ones_kept(db, case, make_party, team, book, coordinator):
    jordan, casey = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    early = book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 16))
    later = book(case, parties=[jordan], lead=team[0], day=date(2027, 3, 24))
    other = book(case, parties=[casey], lead=team[1], day=date(2027, 3, 24))
    cancelled = services.cancel_future_meetings_for_party(jordan, actor=coordinator, reason="consent_withdrawn",
                                                          now=datetime(2027, 3, 20, tzinfo=UTC))
    assert cancelled == [later]
    assert early.status is MeetingStatus.BOOKED and other.status is MeetingStatus.BOOKED
    assert later.cancel_reason == "consent_withdrawn"


def test_withdrawing_consent_cancels_future_meetings(db, case, jordan, team, book, coordinator):
    from rj.consent.services import withdraw_consent

    m = book(case, parties=[jordan], lead=team[0])
    withdraw_consent(jordan, method="verbally", actor=coordinator, now=NOW + timedelta(hours=1))
    assert m.status is MeetingStatus.CANCELLED and m.cancel_reason == "consent_withdrawn"


def test_held_and_did_not_go_ahead_record_who_attended(db, case, make_party, team, book, coordinator):
    a, b = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    m = book(case, parties=[a, b], lead=team[0], co=team[1], kind=MeetingKind.RESTORATIVE)
    with pytest.raises(DomainError, match="once it has started"):
        services.mark_meeting_held(m, actor=coordinator, now=NOW)
    after = m.ends_at + timedelta(hours=1)
    services.mark_meeting_held(m, actor=coordinator, now=after)
    assert m.status is MeetingStatus.HELD and case.status is CaseStatus.MEETING_HELD
    assert all(mp.attended for mp in m.parties)

    m2 = book(case, parties=[a], lead=team[0], day=date(2027, 3, 24))
    services.mark_meeting_did_not_go_ahead(m2, actor=coordinator, reason="party_did_not_attend",
                                           absent_party_ids=[a.id], now=m2.ends_at)
    assert m2.status is MeetingStatus.DID_NOT_GO_AHEAD and m2.parties[0].attended is False
    assert all(mf.attended for mf in m2.facilitators)


def test_default_team_comes_from_rostering_when_there_is_one(db, case, jordan, team, book, monkeypatch):
    import types

    import rj.rostering

    fake = types.SimpleNamespace(current_team=lambda c: types.SimpleNamespace(
        lead_facilitator=team[0], co_facilitator=team[1]))
    monkeypatch.setitem(__import__("sys").modules, "rj.rostering.services", fake)
    monkeypatch.setattr(rj.rostering, "services", fake, raising=False)
    m = book(case, parties=[jordan], lead=None)
    assert m.lead.id == team[0].id and m.co_facilitator.id == team[1].id


# ----------------------------------------------------------------- finding a time

def test_finding_a_time_gives_each_person_a_hashed_expiring_link(db, case, make_party, team, book, coordinator):
    from rj.core.tokens import hash_token

    a, b = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    slots = [at(date(2027, 3, 23), "18:00"), at(date(2027, 3, 24), "18:00"), at(date(2027, 3, 25), "18:00")]
    poll, links = services.create_slot_poll(case, kind=MeetingKind.RESTORATIVE, starts=slots, duration_minutes=90,
                                            mode=MeetingMode.PHONE, parties=[a, b], lead=team[0], co=team[1],
                                            actor=coordinator, now=NOW)
    assert len(links) == 4
    for response, token in links:
        assert response.token_hash == hash_token(token) and token not in response.token_hash
    o1, o2, o3 = poll.options
    answers = {0: [o1.id, o2.id], 1: [o2.id], 2: [o2.id, o3.id], 3: [o1.id, o2.id, o3.id]}
    for i, (_, token) in enumerate(links):
        r = services.slot_response_for_token(token, now=NOW)
        services.answer_slot_poll(r, option_ids=answers[i], now=NOW)
    rows, counts, best = services.poll_table(poll)
    assert counts == {o1.id: 2, o2.id: 4, o3.id: 2} and best is o2
    assert services.slot_response_for_token(links[0][1], now=poll.expires_at + timedelta(seconds=1)) is None
    assert services.slot_response_for_token("not-a-token", now=NOW) is None
    m = services.book_from_poll(poll, best, actor=coordinator, now=NOW)
    assert m.starts_at == o2.starts_at and poll.status is SlotPollStatus.BOOKED and poll.meeting_id == m.id
    assert services.slot_response_for_token(links[0][1], now=NOW) is None   # closed once booked
    with pytest.raises(DomainError, match="closed"):
        services.book_from_poll(poll, o3, actor=coordinator, now=NOW)


def test_a_poll_refuses_past_times(db, case, jordan, team, coordinator):
    with pytest.raises(DomainError, match="future"):
        services.create_slot_poll(case, kind=MeetingKind.PREPARATION, starts=[NOW - timedelta(hours=1)],
                                  duration_minutes=60, parties=[jordan], lead=team[0], actor=coordinator, now=NOW)


# ----------------------------------------------------------------- venues

def test_venue_hours_and_rooms_are_validated_and_audited(db, coordinator, venue):
    with pytest.raises(DomainError, match="Closing time on Monday"):
        services.create_venue(name="Bad", opening_hours={"0": [["17:00", "09:00"]]}, actor=coordinator)
    with pytest.raises(DomainError, match="Capacity"):
        services.create_room(venue, name="None", capacity=0, actor=coordinator)
    services.update_venue(venue, name="Edgeley Centre", version=venue.version, actor=coordinator)
    assert db.session.query(AuditEvent).filter_by(action="venue.updated").one().fields == ["name"]
