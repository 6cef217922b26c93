"""End to end with the real scheduling services: booking, moving, taking a facilitator off and
cancelling call meeting_changed, and what reaches a real SMTP server parses back right."""
from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar

from rj.notifications.jobs import send_outbox
from rj.scheduling import services as scheduling
from rj.scheduling.models import MeetingKind
from tests.notifications.test_invites import sent_invites
from tests.scheduling.conftest import (  # noqa: F401 - fixtures shared with the scheduling tests
    NOW, at, book, case, coordinator, courses, make_facilitator, make_party, room, venue,
)


def test_the_scheduling_services_drive_the_whole_invite_sequence(
        db, smtp_server, case, make_facilitator, make_party, room, book, coordinator):
    lead, co = make_facilitator(), make_facilitator()
    party = make_party(case)
    party.email, party.preferred_contact = "jordan@rj-test.org.uk", "email"
    db.session.commit()

    meeting = book(case, parties=[party], lead=lead, co=co, room=room, kind=MeetingKind.PREPARATION)
    db.session.commit()
    for day in (date(2027, 3, 24), date(2027, 3, 30)):            # the second move crosses the clock change
        scheduling.reschedule_meeting(meeting, actor=coordinator, starts_at=at(day, "18:00"),
                                      ends_at=at(day, "19:30"), now=NOW)
        db.session.commit()
    scheduling.remove_facilitator_from_meeting(meeting, co, actor=coordinator, reason="unwell", now=NOW)
    db.session.commit()
    scheduling.cancel_meeting(meeting, actor=coordinator, reason="party_request", now=NOW)
    db.session.commit()
    send_outbox()

    lead_seq = sent_invites(smtp_server, lead.user.email)
    co_seq = sent_invites(smtp_server, co.user.email)
    party_seq = sent_invites(smtp_server, party.email)
    assert [m for m, *_ in lead_seq] == ["REQUEST", "REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert [m for m, *_ in co_seq] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert [m for m, *_ in party_seq] == ["REQUEST", "REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    for seq in (lead_seq, co_seq, party_seq):
        assert {uid for _, _, uid, _, _ in seq} == {meeting.ical_uid}
        numbers = [s for _, s, *_ in seq]
        assert numbers == sorted(numbers) and numbers[-1] > numbers[0]
        assert [s for m, s, *_ in seq if m == "REQUEST"][:3] == [0, 1, 2]   # each move: +1
    assert co_seq[-1][1] > co_seq[-2][1]                                    # the removed one's CANCEL outranks
    # 18:00 local before and after the clock change (GMT then BST)
    from rj.core.time import LONDON

    local_times = [e.decoded("DTSTART").astimezone(LONDON).strftime("%d %H:%M") for m, _, _, e, _ in lead_seq[:3]]
    assert local_times == ["23 18:00", "24 18:00", "30 18:00"]
    for *_, ics in party_seq:
        cal = Calendar.from_ical(ics)
        text = ics.replace("\r\n ", "")
        assert lead.user.name not in text and "Jordan" not in text
        assert len(list(cal.walk("VEVENT"))) == 1
