"""Meeting invites by email: RFC 6047 MIME shape, RFC 5545/5546 content, one person per invite,
and the full book -> move -> move -> remove -> cancel sequence parsed back by independent parsers."""
from __future__ import annotations

import email
import re
from datetime import date, datetime, time, timedelta
from email import policy

import pytest
import recurring_ical_events
import vobject
from icalendar import Calendar

from rj.core.time import LONDON, UTC, from_local
from rj.notifications import services
from rj.notifications.jobs import send_outbox
from rj.notifications.models import Delivery, InviteResponse
from tests.notifications.conftest import NOW, outbox


def calendar_part(mail):
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


def parse(ics_text: str):
    """Parse with vobject (validating) and icalendar; return the icalendar VEVENT and METHOD."""
    vcal = vobject.readOne(ics_text)
    vcal.validate()
    cal = Calendar.from_ical(ics_text)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1
    return cal, events[0]


def invites_for(address):
    return [m for m in outbox(recipient=address) if m.ics]


def test_an_invite_email_is_mixed_holding_alternative_text_html_calendar_and_an_ics_attachment(
        db, smtp_server, make_facilitator, make_meeting, coordinator):
    f = make_facilitator()
    meeting = make_meeting(facilitators=[f])
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()
    send_outbox()

    [(_, _, raw)] = smtp_server.inbox.messages
    mail = email.message_from_bytes(raw)            # the compat32 parser: what most mail code sees
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = mail.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    cal = alternative.get_payload()[2]
    assert cal.get_param("method") == "REQUEST"
    assert cal.get_param("charset") == "utf-8"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_payload(decode=True) == cal.get_payload(decode=True)
    assert b"METHOD:REQUEST" in cal.get_payload(decode=True)


def test_the_invite_carries_everything_calendar_clients_need_and_nothing_identifying(
        app, db, make_facilitator, make_party, make_meeting, coordinator):
    from rj.consent.models import PartyRole

    f = make_facilitator("Sam Facilitator")
    meeting = make_meeting(facilitators=[f])
    party = make_party(meeting.case, PartyRole.HARMED, name="Alex Harmed")
    meeting.parties.append(__import__("rj.scheduling.models", fromlist=["MeetingParty"]).MeetingParty(party_id=party.id))
    db.session.commit()
    services.meeting_changed(meeting, change="booked", actor=coordinator, now=NOW)
    db.session.commit()

    [msg] = invites_for(f.user.email)
    cal, event = parse(msg.ics)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == meeting.ical_uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTART") == meeting.starts_at and event.decoded("DTEND") == meeting.ends_at
    assert re.search(r"^DTSTART:\d{8}T\d{6}Z\r?$", msg.ics, re.M)          # UTC, no TZID needed
    assert str(event["ORGANIZER"]) == "mailto:rj-bookings@stockport.example"
    assert event["ORGANIZER"].params["CN"] == app.config["SERVICE_NAME"]
    attendees = event.get("ATTENDEE")
    assert not isinstance(attendees, list)                                 # the recipient only
    assert str(attendees) == f"mailto:{f.user.email}"
    assert attendees.params["RSVP"] == "TRUE" and attendees.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees.params["ROLE"] == "REQ-PARTICIPANT"
    assert str(event["STATUS"]) == "CONFIRMED" and str(event["CLASS"]) == "PRIVATE"
    assert str(event["SUMMARY"]) == f"Restorative meeting: {meeting.case.reference}"
    assert str(event["LOCATION"]).startswith("Edgeley Community Centre, Meeting room 1")
    everything = "\n".join(m.ics + m.subject + m.text_body for m in outbox())
    assert "Alex" not in everything and "Sam Facilitator" not in everything
    assert msg.subject == f"Invitation: Restorative meeting: {meeting.case.reference}"


def test_people_on_different_sides_each_get_their_own_invite_and_only_if_they_chose_email(
        db, make_facilitator, make_party, make_meeting, coordinator):
    from rj.consent.models import ContactMethod, PartyRole

    f1, f2 = make_facilitator(), make_facilitator()
    meeting = make_meeting(facilitators=[f1, f2])
    harmed = make_party(meeting.case, PartyRole.HARMED)
    responsible = make_party(meeting.case, PartyRole.RESPONSIBLE)
    by_phone = make_party(meeting.case, PartyRole.SUPPORTER, contact=ContactMethod.PHONE)
    meeting = make_meeting(facilitators=[f1, f2], parties=[harmed, responsible, by_phone], case=meeting.case,
                           starts_at=NOW + timedelta(days=20))
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()

    messages = outbox()
    assert sorted(m.recipient for m in messages) == sorted([f1.user.email, f2.user.email, harmed.email,
                                                            responsible.email])
    for m in messages:
        _, event = parse(m.ics)
        assert str(event["ATTENDEE"]) == f"mailto:{m.recipient}"
        assert m.ics.count("ATTENDEE") == 1
    # Only facilitators get Accept/Decline links (they answer an offer; parties do not)
    assert all("/invites/" in m.text_body for m in messages if m.recipient in (f1.user.email, f2.user.email))
    assert not any("/invites/" in m.text_body for m in messages if m.recipient in (harmed.email, responsible.email))


def test_a_facilitator_who_chose_the_calendar_feed_gets_no_invite_email(
        db, make_facilitator, make_meeting, coordinator):
    f1, f2 = make_facilitator(), make_facilitator()
    services.set_delivery(f2.user, Delivery.FEED, actor=f2.user)
    meeting = make_meeting(facilitators=[f1, f2])
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()
    assert [m.recipient for m in outbox()] == [f1.user.email]


def test_a_newline_typed_into_a_venue_name_cannot_inject_a_property_or_a_second_event(
        db, make_facilitator, make_meeting, coordinator, venue_room):
    venue, room = venue_room
    venue.name = "Hall\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nATTENDEE:mailto:x@rj-test.org.uk"
    room.name = "Room; with, odd\\chars"
    db.session.commit()
    f = make_facilitator()
    meeting = make_meeting(facilitators=[f])
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()
    [msg] = outbox()
    cal, event = parse(msg.ics)                                 # exactly one VEVENT
    assert str(event["UID"]) == meeting.ical_uid
    assert "END:VEVENT" in str(event["LOCATION"])               # kept as text inside LOCATION
    lines = msg.ics.splitlines()
    assert lines.count("BEGIN:VEVENT") == 1 and sum(line.startswith("ATTENDEE") for line in lines) == 1
    assert not any(line.startswith("UID:evil") for line in lines)
    assert all(len(line.encode()) <= 75 for line in msg.ics.splitlines())   # folded


def sent_invites(smtp_server, address):
    out = []
    for mail in smtp_server.inbox.parsed():
        if mail["To"] == address:
            part = calendar_part(mail)
            ics = part.get_content()
            cal, event = parse(ics)
            assert part.get_param("method") == str(cal["METHOD"])
            out.append((str(cal["METHOD"]), int(event["SEQUENCE"]), str(event["UID"]), event, ics))
    return out


def test_book_move_move_remove_cancel_sends_requests_then_cancels_with_rising_sequences(
        db, smtp_server, make_facilitator, make_party, make_meeting, coordinator):
    """The whole life of one meeting, mirroring what rj.scheduling.services does at each step."""
    from rj.consent.models import PartyRole

    lead, co = make_facilitator(), make_facilitator()
    meeting = make_meeting(facilitators=[lead, co])
    party = make_party(meeting.case, PartyRole.PARTY)
    from rj.scheduling.models import MeetingParty, MeetingStatus

    meeting.parties.append(MeetingParty(party_id=party.id))
    db.session.commit()

    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()
    for days in (1, 2):                                             # move, move again
        meeting.starts_at += timedelta(days=days)
        meeting.ends_at += timedelta(days=days)
        meeting.ical_sequence += 1
        services.meeting_changed(meeting, change="updated", actor=coordinator)
        db.session.commit()
    co_link = next(mf for mf in meeting.facilitators if mf.facilitator_id == co.id)
    meeting.facilitators.remove(co_link)                            # remove a facilitator
    db.session.flush()
    services.meeting_changed(meeting, change="updated", actor=coordinator, removed_facilitator_ids=[co.id])
    db.session.commit()
    meeting.status = MeetingStatus.CANCELLED                        # cancel
    meeting.ical_sequence += 1
    services.meeting_changed(meeting, change="cancelled", actor=coordinator)
    db.session.commit()
    send_outbox()

    lead_seq = sent_invites(smtp_server, lead.user.email)
    assert [(m, s) for m, s, *_ in lead_seq] == [("REQUEST", 0), ("REQUEST", 1), ("REQUEST", 2),
                                                 ("REQUEST", 2), ("CANCEL", 3)]
    co_seq = sent_invites(smtp_server, co.user.email)
    assert [(m, s) for m, s, *_ in co_seq] == [("REQUEST", 0), ("REQUEST", 1), ("REQUEST", 2), ("CANCEL", 3)]
    party_seq = sent_invites(smtp_server, party.email)
    assert [m for m, *_ in party_seq] == ["REQUEST", "REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    for seq in (lead_seq, co_seq, party_seq):
        assert {uid for _, _, uid, _, _ in seq} == {meeting.ical_uid}
        numbers = [s for _, s, *_ in seq]
        assert numbers == sorted(numbers)                             # never goes down
        # each later message wins: a higher SEQUENCE, or the same one with a later DTSTAMP
        stamps = [(s, e.decoded("DTSTAMP")) for _, s, _, e, _ in seq]
        assert stamps == sorted(stamps)
    assert str(lead_seq[-1][3]["STATUS"]) == "CANCELLED" and str(co_seq[-1][3]["STATUS"]) == "CANCELLED"
    # the REQUESTs carry the moved times
    starts = [e.decoded("DTSTART") for m, _, _, e, _ in lead_seq[:3]]
    assert starts[1] - starts[0] == timedelta(days=1) and starts[2] - starts[1] == timedelta(days=2)
    assert "PUBLISH" not in "".join(ics for *_, ics in lead_seq + co_seq + party_seq)


CLOCK_CHANGE_DAYS = [
    date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30),      # clocks go forward Sunday 29 March 2026
    date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26),   # back Sunday 25 October 2026
    date(2027, 3, 27), date(2027, 3, 28), date(2027, 3, 29),
    date(2027, 10, 30), date(2027, 10, 31), date(2027, 11, 1),
]


@pytest.mark.parametrize("day", CLOCK_CHANGE_DAYS, ids=str)
def test_meetings_either_side_of_the_clock_changes_land_at_the_right_local_time(
        db, make_facilitator, make_meeting, coordinator, day):
    f = make_facilitator()
    starts = from_local(day, time(10, 30))
    meeting = make_meeting(facilitators=[f], starts_at=starts, minutes=90)
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()
    [msg] = outbox()
    cal = Calendar.from_ical(msg.ics)
    [occurrence] = recurring_ical_events.of(cal).between(datetime(day.year, 1, 1, tzinfo=UTC),
                                                         datetime(day.year + 1, 1, 1, tzinfo=UTC))
    local = occurrence["DTSTART"].dt.astimezone(LONDON)
    assert (local.date(), local.time()) == (day, time(10, 30))
    assert occurrence["DTEND"].dt.astimezone(LONDON).time() == time(12, 0)
    vevent = vobject.readOne(msg.ics).vevent
    assert vevent.dtstart.value.astimezone(LONDON).time() == time(10, 30)
    assert str(day.day) in msg.text_body and "10:30am to 12:00pm (UK time)" in msg.text_body


def test_accept_and_decline_links_are_signed_record_the_answer_on_post_only(
        db, client, make_facilitator, make_meeting, coordinator):
    f = make_facilitator()
    meeting = make_meeting(facilitators=[f], starts_at=datetime.now(UTC) + timedelta(days=3))
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    db.session.commit()
    [msg] = outbox()
    accept = re.search(r"Accept: (\S+)", msg.text_body).group(1)
    path = accept.split("localhost", 1)[1]

    page = client.get(path)
    assert page.status_code == 200 and "Yes, I can do it" in page.get_data(as_text=True)
    assert db.session.query(InviteResponse).count() == 0          # a mail scanner opening it changes nothing

    assert client.post(path).status_code == 200
    [answer] = db.session.query(InviteResponse).all()
    assert (answer.meeting_id, answer.facilitator_id, answer.response) == (meeting.id, f.id, "accepted")
    assert client.post(path).status_code == 200                    # idempotent
    assert db.session.query(InviteResponse).count() == 1

    tampered = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    assert client.get(tampered).status_code == 404


def test_a_link_for_a_facilitator_taken_off_the_meeting_no_longer_works(
        db, client, make_facilitator, make_meeting, coordinator):
    f = make_facilitator()
    meeting = make_meeting(facilitators=[f], starts_at=datetime.now(UTC) + timedelta(days=3))
    token = services.response_token(meeting, f, "decline")
    meeting.facilitators.clear()
    db.session.commit()
    assert client.get(f"/invites/{token}").status_code == 404


def test_a_proposed_meeting_is_sent_as_tentative(db, make_facilitator, make_meeting, coordinator):
    from rj.scheduling.models import MeetingStatus

    f = make_facilitator()
    meeting = make_meeting(facilitators=[f], status=MeetingStatus.PROPOSED)
    services.meeting_changed(meeting, change="booked", actor=coordinator)
    [msg] = outbox()
    _, event = parse(msg.ics)
    assert str(event["STATUS"]) == "TENTATIVE"


def test_an_offer_email_names_the_meeting_neutrally_and_is_queued_once(db, make_facilitator, make_meeting):
    from types import SimpleNamespace

    f = make_facilitator("Sam Facilitator")
    meeting = make_meeting(facilitators=[])
    offer = SimpleNamespace(id=41, facilitator=f, meeting=meeting, case=meeting.case,
                            expires_at=NOW + timedelta(hours=48))
    assert services.queue_offer(offer) is not None
    assert services.queue_offer(offer) is None
    [msg] = outbox(kind="offer")
    assert msg.recipient == f.user.email
    assert msg.subject == f"Offer: Restorative meeting: {meeting.case.reference}"
    assert "Please answer by" in msg.text_body


def test_a_consent_link_goes_to_the_party_with_the_consent_page_address(db, make_party):
    from tests.factories import make_case

    party = make_party(make_case())
    msg = services.queue_consent_link(party, "tok-abc")
    assert msg.recipient == party.email and "tok-abc" in msg.text_body
    assert party.name not in msg.subject and party.name not in msg.text_body
