"""iCalendar for meeting invites (RFC 5545 objects, RFC 5546 iTIP methods, RFC 6047 by email)
and for personal subscription feeds.

Times are written in UTC ("Z"): every client converts UTC correctly, whereas TZID=Europe/London
needs a VTIMEZONE that some clients (Outlook) misread when it lists transitions rather than rules.
Nothing identifying goes in: a neutral title with the case reference, a place, a short note.
Text is escaped and folded by the icalendar library, so a newline typed into a venue name
stays inside its property and cannot start a new one or a second event.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vCalAddress

from rj.core.time import UTC, now_utc

PRODID = "-//Stockport Restorative Justice//rj//EN"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

KIND_TITLES = {
    "preparation": "Preparation meeting",
    "restorative": "Restorative meeting",
    "indirect": "Restorative meeting",   # shuttle contact: no more specific wording than needed
    "follow_up": "Follow-up meeting",
}


def one_line(text: str | None, limit: int = 200) -> str:
    """Typed text for a one-line place (header, title, parameter): control characters become spaces."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit]


def _value(x):
    return getattr(x, "value", x)


def meeting_title(meeting) -> str:
    title = KIND_TITLES.get(_value(meeting.kind), "Restorative meeting")
    reference = getattr(getattr(meeting, "case", None), "reference", None)
    return f"{title}: {one_line(reference, 20)}" if reference else title


def meeting_location(meeting) -> str:
    """The venue and room for an in-person meeting, else "Phone call" / "Video call"."""
    mode = _value(meeting.mode)
    if mode == "phone":
        return "Phone call"
    if mode == "video":
        return "Video call"
    parts = []
    venue = getattr(meeting, "venue", None)
    room = getattr(meeting, "room", None)
    if venue is not None:
        parts.append(venue.name)
    if room is not None:
        parts.append(room.name)
    if venue is not None:
        parts.extend(p for p in (getattr(venue, "address_line", None), getattr(venue, "town", None),
                                 getattr(venue, "postcode", None)) if p)
    return ", ".join(p.strip() for p in parts if p and p.strip()) or "To be confirmed"


def meeting_description(meeting, *, service_name: str) -> str:
    """Short and non-identifying: who organises it and what to do if it is not possible."""
    notes = (getattr(meeting, "joining_notes", None) or "").strip()
    text = (f"Organised by {service_name}. If you cannot come, please reply to this email or "
            "contact the coordinator.")
    if notes:
        text += "\n\nJoining details: " + notes[:500]
    return text


def event_status(meeting) -> str:
    """Proposed meetings are tentative; postponed, cancelled or not-held ones hold no time."""
    status = _value(meeting.status)
    if status in ("cancelled", "rescheduled", "did_not_go_ahead"):
        return "CANCELLED"
    return "TENTATIVE" if status == "proposed" else "CONFIRMED"


def _event(meeting, *, status: str, sequence: int, dtstamp: datetime, service_name: str,
           organizer_email: str) -> Event:
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("sequence", sequence)
    event.add("dtstamp", dtstamp.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", meeting_title(meeting))
    event.add("location", meeting_location(meeting))
    event.add("description", meeting_description(meeting, service_name=service_name))
    event.add("status", status)
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["CN"] = one_line(service_name, 80)
    event.add("organizer", organizer)
    return event


def _calendar(method: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def build_invite(meeting, *, method: str, attendee_email: str, service_name: str, organizer_email: str,
                 sequence: int | None = None, now: datetime | None = None) -> str:
    """One person's invite: METHOD:REQUEST (new or changed) or METHOD:CANCEL, with the recipient as
    the only ATTENDEE (people on different sides of the harm never share an invite).

    `sequence` defaults to the meeting's; a CANCEL sent to one removed person while the meeting
    itself goes on is sent with meeting.ical_sequence + 1 so it outranks the REQUEST they hold."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError("invites are REQUEST or CANCEL; never PUBLISH for something that may change")
    cal = _calendar(method)
    seq = meeting.ical_sequence if sequence is None else sequence
    status = "CANCELLED" if method == "CANCEL" else event_status(meeting)
    event = _event(meeting, status=status, sequence=seq, dtstamp=now or now_utc(),
                   service_name=service_name, organizer_email=organizer_email)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "TRUE"
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def build_feed(meetings, *, name: str, service_name: str, organizer_email: str) -> str:
    """A subscription feed. It carries no METHOD: RFC 5545 3.7.2 says that without METHOD no
    scheduling transaction is implied, which is exactly right for a read-only subscribed calendar
    (RFC 5546 iTIP methods are for messages between organiser and attendees). Cancelled meetings
    stay in with STATUS:CANCELLED so clients show them struck through rather than silently gone.
    DTSTAMP is the meeting's last change, not the request time, so the body (and its ETag) only
    changes when a meeting does."""
    cal = _calendar(None)
    cal.add("x-wr-calname", one_line(name, 80))
    cal.add("x-wr-timezone", "Europe/London")
    cal.add("name", one_line(name, 80))
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for meeting in meetings:
        status = event_status(meeting)
        stamp = (getattr(meeting, "cancelled_at", None) or getattr(meeting, "updated_at", None)
                 or getattr(meeting, "created_at", None) or meeting.starts_at)
        cal.add_component(_event(meeting, status=status, sequence=meeting.ical_sequence, dtstamp=stamp,
                                 service_name=service_name, organizer_email=organizer_email))
    return cal.to_ical().decode("utf-8")
