"""Test helpers for agreements: parties, facilitators and meetings built directly on the models,
so these tests do not depend on the other domains' services."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from rj.core.time import now_utc
from rj.extensions import db


def make_party(case, name="Jo Party", *, role="party", email=None, phone="07700 900982", commit=False):
    from rj.consent.models import Party, PartyRole

    party = Party(case_id=case.id, role=PartyRole(role), name=name, email=email, phone=phone,
                  address_line="1 Secret Street", postcode="SK1 1AA", safe_contact="Text only after 6pm",
                  created_at=now_utc())
    if email:
        from rj.consent.models import ContactMethod

        party.preferred_contact = ContactMethod.EMAIL
    db.session.add(party)
    db.session.commit() if commit else db.session.flush()
    return party


def make_facilitator(user, commit=False):
    from rj.facilitators.models import Facilitator

    fac = Facilitator(user_id=user.id, created_at=now_utc())
    db.session.add(fac)
    db.session.commit() if commit else db.session.flush()
    return fac


def make_meeting(case, *, parties=(), facilitators=(), kind="restorative", status="booked",
                 starts_at: datetime | None = None, commit=True):
    from rj.scheduling.models import (
        FacilitatorRole, Meeting, MeetingFacilitator, MeetingKind, MeetingParty, MeetingStatus,
    )

    starts_at = starts_at or now_utc() - timedelta(days=1)
    meeting = Meeting(case_id=case.id, kind=MeetingKind(kind), status=MeetingStatus(status), starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=2), ical_uid=secrets.token_hex(16),
                      created_at=now_utc() - timedelta(days=10))
    meeting.parties = [MeetingParty(party_id=p.id) for p in parties]
    meeting.facilitators = [MeetingFacilitator(facilitator_id=f.id, role=FacilitatorRole.LEAD if i == 0 else FacilitatorRole.CO)
                            for i, f in enumerate(facilitators)]
    db.session.add(meeting)
    db.session.commit() if commit else db.session.flush()
    return meeting
