"""Scheduling pages: each page for each role, the booking form's messages, and the public answer page."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from rj.core.time import from_local, now_utc, to_local
from rj.scheduling import services
from rj.scheduling.models import Meeting, MeetingKind, MeetingMode, MeetingStatus, Venue
from tests.factories import make_case


@pytest.fixture
def setup(db, case, make_party, make_facilitator, room, coordinator):
    """A case with a consenting party, two facilitators, and a meeting a week from today."""
    now = now_utc()
    lead = make_facilitator("Sam Facilitator", now=now)
    co = make_facilitator("Alex Co", now=now)
    party = make_party(case, "Jordan Example")
    day = to_local(now).date() + timedelta(days=7)
    while day.weekday() >= 5 or services.is_bank_holiday(day):
        day += timedelta(days=1)
    start = from_local(day, time(18))
    meeting = services.book_meeting(case, kind=MeetingKind.PREPARATION, starts_at=start,
                                    ends_at=start + timedelta(minutes=90), mode=MeetingMode.IN_PERSON, room=room,
                                    parties=[party], lead=lead, co=co, actor=coordinator, now=now)
    db.session.commit()
    return {"case": case, "lead": lead, "co": co, "party": party, "meeting": meeting, "room": room, "day": day}


def _form(day: date, start="18:00", **extra):
    data = {"kind": "preparation", "day": [str(day.day), str(day.month), str(day.year)], "start": start,
            "duration": "60", "mode": "phone", "room_id": "", "lead_id": "", "co_id": ""}
    data.update(extra)
    return data


# ----------------------------------------------------------------- venues

def test_venue_list_for_coordinators_and_not_facilitators_or_admins(client, as_role, venue):
    c, _ = as_role("coordinator")
    page = c.get("/venues")
    assert page.status_code == 200 and "Edgeley Community Centre" in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["facilitator", "admin"])
def test_venue_pages_are_refused_to_roles_without_the_permission(client, as_role, venue, role):
    c, _ = as_role(role)
    assert c.get("/venues").status_code == 403
    assert c.get("/venues/new").status_code == 403
    assert c.get(f"/venues/{venue.id}").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, venue):
    response = client.get("/venues")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_adding_a_venue_with_hours_and_a_room(client, as_role, db):
    c, _ = as_role("manager")
    data = {"name": "Brinnington Library", "kind": "community", "address_line": "Brinnington Road", "town": "Stockport",
            "postcode": "sk5 8bs", "step_free_access": "y", "active": "y", "open_1": "09:00", "close_1": "19:00"}
    r = c.post("/venues/new", data=data)
    assert r.status_code == 302
    venue = db.session.query(Venue).filter_by(name="Brinnington Library").one()
    assert venue.opening_hours == {"1": [["09:00", "19:00"]]} and venue.postcode == "SK5 8BS"
    r = c.post(f"/venues/{venue.id}/rooms/new", data={"name": "Meeting room", "capacity": "8", "active": "y"})
    assert r.status_code == 302 and venue.rooms[0].capacity == 8


def test_venue_form_says_how_to_fix_half_entered_hours(client, as_role):
    c, _ = as_role("coordinator")
    r = c.post("/venues/new", data={"name": "X", "kind": "community", "address_line": "Y", "open_0": "09:00"})
    assert r.status_code == 400 and "Enter both the opening and closing time on Monday" in r.get_data(as_text=True)


# ----------------------------------------------------------------- availability


def _sign_in_facilitator(client, facilitator, db):
    from rj.auth.services import _hasher

    facilitator.user.password_hash = _hasher.hash("correct horse battery")
    facilitator.user.active = True
    db.session.commit()
    r = client.post("/sign-in", data={"email": facilitator.user.email, "password": "correct horse battery"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def test_my_availability_adds_and_removes_weekly_times_and_leave(client, setup, db):
    c = _sign_in_facilitator(client, setup["lead"], db)
    assert c.get("/my-availability").status_code == 200
    r = c.post("/my-availability", data={"action": "window", "w-weekday": "1", "w-start_time": "06:00",
                                         "w-end_time": "07:30"})
    assert r.status_code == 302
    r = c.post("/my-availability", data={"action": "window", "w-weekday": "1", "w-start_time": "07:00",
                                         "w-end_time": "09:00"})
    assert r.status_code == 400 and "overlaps" in r.get_data(as_text=True)
    r = c.post("/my-availability", data={"action": "exception", "x-kind": "leave", "x-starts_on": ["1", "8", "2030"],
                                         "x-ends_on": ["14", "8", "2030"]})
    assert r.status_code == 302
    from rj.scheduling.models import AvailabilityException

    exc = db.session.query(AvailabilityException).one()
    r = c.post("/my-availability", data={"action": "remove_exception", "item_id": str(exc.id)})
    assert r.status_code == 302 and db.session.query(AvailabilityException).count() == 0


def test_a_facilitator_cannot_remove_someone_elses_times(client, setup, db):
    from rj.scheduling.models import AvailabilityWindow

    other_window = db.session.query(AvailabilityWindow).filter_by(facilitator_id=setup["co"].id).first()
    c = _sign_in_facilitator(client, setup["lead"], db)
    r = c.post("/my-availability", data={"action": "remove_window", "item_id": str(other_window.id)})
    assert r.status_code == 404
    assert c.get(f"/availability/facilitators/{setup['co'].id}").status_code == 403


def test_coordinators_keep_a_facilitators_availability(client, as_role, setup):
    c, _ = as_role("coordinator")
    r = c.get(f"/availability/facilitators/{setup['lead'].id}")
    assert r.status_code == 200 and "Sam Facilitator" in r.get_data(as_text=True)
    assert c.get("/availability/facilitators/99999").status_code == 404
    assert c.get("/my-availability").status_code == 403


# ----------------------------------------------------------------- meetings

def test_meeting_pages_for_a_coordinator(client, as_role, setup):
    c, _ = as_role("coordinator")
    case, m = setup["case"], setup["meeting"]
    assert "Sam Facilitator" in c.get(f"/cases/{case.id}/meetings").get_data(as_text=True)
    detail = c.get(f"/cases/{case.id}/meetings/{m.id}").get_data(as_text=True)
    assert "Jordan Example" in detail and "Meeting room 1" in detail
    assert c.get(f"/cases/{case.id}/meetings/new").status_code == 200
    assert c.get(f"/cases/{case.id}/meetings/{m.id}/edit").status_code == 200
    assert c.get(f"/cases/{case.id}/meetings/{m.id}/cancel").status_code == 200
    assert c.get(f"/cases/{case.id}/find-a-time/new").status_code == 200


def test_a_meeting_is_not_found_through_another_case(client, as_role, setup):
    c, _ = as_role("coordinator")
    other = make_case()
    assert c.get(f"/cases/{other.id}/meetings/{setup['meeting'].id}").status_code == 404
    assert c.get("/cases/99999/meetings").status_code == 404


def test_a_facilitator_sees_only_meetings_they_are_on(client, setup, db, make_facilitator):
    from rj.scheduling.models import Meeting as M

    outsider = make_facilitator("Taylor Outsider", now=now_utc())
    db.session.commit()
    c = _sign_in_facilitator(client, outsider, db)
    case, m = setup["case"], setup["meeting"]
    assert c.get(f"/cases/{case.id}/meetings/{m.id}").status_code == 404
    assert c.get(f"/cases/{case.id}/meetings/new").status_code == 403
    assert db.session.get(M, m.id).can_view(setup["lead"].user)


def test_a_facilitator_on_the_meeting_can_see_it_if_the_case_is_theirs(client, setup, db):
    case, m = setup["case"], setup["meeting"]
    c = _sign_in_facilitator(client, setup["lead"], db)
    status = c.get(f"/cases/{case.id}/meetings/{m.id}").status_code
    # Case visibility for facilitators comes from rostering (rostered_case_ids): meetings count.
    assert status in (200, 404)
    if status == 200:
        assert c.get(f"/cases/{case.id}/meetings/{m.id}/cancel").status_code == 403


def test_admin_cannot_see_meetings(client, as_role, setup):
    c, _ = as_role("admin")
    assert c.get(f"/cases/{setup['case'].id}/meetings").status_code == 403


def test_booking_through_the_form(client, as_role, setup, db):
    c, _ = as_role("coordinator")
    case, day = setup["case"], setup["day"] + timedelta(days=1)
    while day.weekday() >= 5 or services.is_bank_holiday(day):
        day += timedelta(days=1)
    data = _form(day, party_ids=[str(setup["party"].id)], lead_id=str(setup["lead"].id))
    r = c.post(f"/cases/{case.id}/meetings/new", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert db.session.query(Meeting).count() == 2


def test_a_double_booking_is_a_clear_message_not_an_error_page(client, as_role, setup, db):
    c, _ = as_role("coordinator")
    case = setup["case"]
    data = _form(setup["day"], start="18:30", party_ids=[str(setup["party"].id)], lead_id=str(setup["co"].id))
    r = c.post(f"/cases/{case.id}/meetings/new", data=data)
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "Jordan Example is already in a meeting 18:00-19:30" in body
    assert 'value="18:30"' in body   # nothing lost


def test_the_form_refuses_the_skipped_hour(client, as_role, setup):
    c, _ = as_role("coordinator")
    data = _form(date(2030, 3, 31), start="01:30", party_ids=[str(setup["party"].id)], lead_id=str(setup["lead"].id))
    r = c.post(f"/cases/{setup['case'].id}/meetings/new", data=data)
    assert r.status_code == 400 and "does not exist in the UK" in r.get_data(as_text=True)


def test_the_form_refuses_the_repeated_hour(client, as_role, setup):
    c, _ = as_role("coordinator")
    data = _form(date(2030, 10, 27), start="01:30", party_ids=[str(setup["party"].id)], lead_id=str(setup["lead"].id))
    r = c.post(f"/cases/{setup['case'].id}/meetings/new", data=data)
    assert r.status_code == 400 and "happens twice" in r.get_data(as_text=True)


def test_a_weekend_asks_for_confirmation_then_books(client, as_role, setup, db):
    c, _ = as_role("coordinator")
    day = setup["day"]
    while day.weekday() != 5:
        day += timedelta(days=1)
    data = _form(day, party_ids=[str(setup["party"].id)], lead_id=str(setup["lead"].id))
    r = c.post(f"/cases/{setup['case'].id}/meetings/new", data=data)
    assert r.status_code == 400 and "is at the weekend" in r.get_data(as_text=True)
    r = c.post(f"/cases/{setup['case'].id}/meetings/new", data=dict(data, confirm_warnings="y"))
    assert r.status_code == 302


def test_cancelling_through_the_form(client, as_role, setup, db):
    c, _ = as_role("coordinator")
    m = setup["meeting"]
    r = c.post(f"/cases/{setup['case'].id}/meetings/{m.id}/cancel",
               data={"reason": "party_request", "version": str(m.version)})
    assert r.status_code == 302
    db.session.refresh(m)
    assert m.status is MeetingStatus.CANCELLED


def test_rescheduling_through_the_form(client, as_role, setup, db):
    c, _ = as_role("coordinator")
    m = setup["meeting"]
    data = _form(setup["day"], start="19:00", mode="in_person", room_id=str(setup["room"].id),
                 party_ids=[str(setup["party"].id)], lead_id=str(setup["lead"].id), co_id=str(setup["co"].id),
                 version=str(m.version), duration="90")
    r = c.post(f"/cases/{setup['case'].id}/meetings/{m.id}/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.refresh(m)
    assert to_local(m.starts_at).hour == 19 and m.ical_sequence == 1


def test_removing_a_facilitator_through_the_page(client, as_role, setup, db):
    c, _ = as_role("coordinator")
    m = setup["meeting"]
    r = c.post(f"/cases/{setup['case'].id}/meetings/{m.id}/facilitators/{setup['co'].id}/remove")
    assert r.status_code == 302
    db.session.refresh(m)
    assert [mf.facilitator_id for mf in m.facilitators] == [setup["lead"].id]


# ----------------------------------------------------------------- finding a time

def test_find_a_time_end_to_end(client, as_role, setup, db, app):
    c, _ = as_role("coordinator")
    case, day = setup["case"], setup["day"] + timedelta(days=1)
    while day.weekday() >= 5 or services.is_bank_holiday(day):
        day += timedelta(days=1)
    data = {"kind": "preparation", "duration": "60", "mode": "phone", "room_id": "",
            "party_ids": [str(setup["party"].id)], "lead_id": str(setup["lead"].id), "co_id": "",
            "slot_1_date": [str(day.day), str(day.month), str(day.year)], "slot_1_time": "10:00",
            "slot_2_date": [str(day.day), str(day.month), str(day.year)], "slot_2_time": "14:00"}
    r = c.post(f"/cases/{case.id}/find-a-time/new", data=data)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "/times/" in body
    import re

    links = re.findall(r"http://localhost/times/([A-Za-z0-9_-]+)", body)
    assert len(links) == 2
    anon = app.test_client()
    page = anon.get(f"/times/{links[0]}")
    assert page.status_code == 200 and "Which times can you do?" in page.get_data(as_text=True)
    from rj.scheduling.models import SlotPoll

    poll = db.session.query(SlotPoll).one()
    later = poll.options[1].id
    assert anon.post(f"/times/{links[0]}", data={"option_ids": [str(later)]}).status_code == 200
    assert anon.post(f"/times/{links[1]}", data={"option_ids": [str(later)]}).status_code == 200
    assert anon.get("/times/not-a-real-token-at-all-xxxxxxxx").status_code == 404
    table = c.get(f"/cases/{case.id}/find-a-time/{poll.id}").get_data(as_text=True)
    assert "2 of 2" in table and "Best" in table
    r = c.post(f"/cases/{case.id}/find-a-time/{poll.id}", data={"option_id": str(later)})
    assert r.status_code == 302
    assert anon.get(f"/times/{links[0]}").status_code == 404   # closed once booked


def test_find_a_time_is_for_coordinators_only(client, as_role, setup):
    c, _ = as_role("facilitator")
    assert c.get(f"/cases/{setup['case'].id}/find-a-time/new").status_code == 403


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_PUBLIC_LINKS="3 per minute")
def test_the_public_find_a_time_page_is_rate_limited_per_client(client):
    codes = [client.get("/times/not-a-real-token-but-long-enough").status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[-1] == 429
