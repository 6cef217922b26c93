"""Notifications test helpers: a real SMTP server on loopback, and meetings built from the real
scheduling, facilitators and consent models (rows made directly, so these tests do not depend
on the booking rules of other domains)."""
from __future__ import annotations

import secrets
import socket
import threading
import time as _time
from datetime import datetime, timedelta

import pytest

from rj.core.permissions import Role
from rj.core.time import UTC
from rj.extensions import db as _db
from tests.factories import make_case


def free_port() -> int:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the loopback SMTP server received: raw bytes of each message and its envelope."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                  or envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self):
        import email
        from email import policy

        return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in self.messages]


class SMTPServer:
    """aiosmtpd on 127.0.0.1 at a fixed free port, which the test can stop and start again."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
            _time.sleep(0.05)


@pytest.fixture
def smtp_server(app):
    server = SMTPServer()
    server.start()
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_USE_TLS=False,
                      SMTP_TIMEOUT_SECONDS=5)
    yield server
    server.stop()


NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)  # Monday 16 March 2026, two weeks before the clocks go forward


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR, name="Priya Coordinator")


@pytest.fixture
def make_facilitator(db, make_user):
    from rj.facilitators.models import Facilitator

    def make(name="Sam Facilitator", *, email=None):
        user = make_user(Role.FACILITATOR, name=name, email=email)
        f = Facilitator(user_id=user.id, created_at=NOW)
        db.session.add(f)
        db.session.commit()
        return f

    return make


@pytest.fixture
def make_party(db):
    from rj.consent.models import ContactMethod, Party, PartyRole

    counter = {"n": 0}

    def make(case, role=PartyRole.PARTY, *, name="Jordan Example", contact=ContactMethod.EMAIL, email=None):
        counter["n"] += 1
        party = Party(case_id=case.id, role=role, name=name, preferred_contact=contact, created_at=NOW,
                      email=email if email is not None else f"party{counter['n']}@rj-test.org.uk")
        db.session.add(party)
        db.session.commit()
        return party

    return make


@pytest.fixture
def venue_room(db):
    from rj.scheduling.models import Room, Venue

    venue = Venue(name="Edgeley Community Centre", address_line="Castle Street", postcode="SK3 9AB")
    room = Room(venue=venue, name="Meeting room 1")
    db.session.add_all([venue, room])
    db.session.commit()
    return venue, room


@pytest.fixture
def make_meeting(db, venue_room):
    """A booked meeting with the given facilitators and parties (rows only; no notifications)."""
    from rj.scheduling.models import (
        FacilitatorRole, Meeting, MeetingFacilitator, MeetingKind, MeetingMode, MeetingParty, MeetingStatus,
    )

    def make(*, facilitators=(), parties=(), starts_at=None, minutes=90, kind=MeetingKind.RESTORATIVE,
             mode=MeetingMode.IN_PERSON, case=None, status=MeetingStatus.BOOKED):
        case = case or make_case()
        starts_at = starts_at or NOW + timedelta(days=10)
        venue, room = venue_room
        meeting = Meeting(case_id=case.id, kind=kind, status=status, starts_at=starts_at,
                          ends_at=starts_at + timedelta(minutes=minutes), mode=mode,
                          venue_id=venue.id if mode is MeetingMode.IN_PERSON else None,
                          room_id=room.id if mode is MeetingMode.IN_PERSON else None,
                          ical_uid=secrets.token_hex(16) + "@rj", ical_sequence=0, created_at=NOW)
        meeting.facilitators = [MeetingFacilitator(facilitator_id=f.id,
                                                   role=FacilitatorRole.LEAD if i == 0 else FacilitatorRole.CO)
                                for i, f in enumerate(facilitators)]
        meeting.parties = [MeetingParty(party_id=p.id) for p in parties]
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return make


def outbox(**where):
    from sqlalchemy import select

    from rj.notifications.models import OutboxMessage

    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, key) == value)
    return list(_db.session.scalars(stmt))
