"""Scheduling: venues and rooms, facilitators' availability, meetings and finding a time.

Instants are UTC; availability and opening hours are local Stockport wall-clock times,
expanded in Europe/London when checked, so "Tuesdays 18:00-20:00" survives the clock change.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import StatusMixin, UTCDateTime, enum_column
from rj.core.permissions import Perm, has_perm
from rj.extensions import db

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class VenueKind(str, enum.Enum):
    COMMUNITY = "community"
    PRISON = "prison"        # opening hours are its visiting times
    OFFICE = "office"

    @property
    def label(self) -> str:
        return {"community": "Community venue", "prison": "Prison (visiting times)", "office": "Office"}[self.value]


class Venue(db.Model):
    """A place meetings are held. Opening hours are local wall-clock times per weekday."""

    __tablename__ = "venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[VenueKind] = mapped_column(enum_column(VenueKind), default=VenueKind.COMMUNITY)
    address_line: Mapped[str] = mapped_column(String(200), default="")
    town: Mapped[str] = mapped_column(String(80), default="Stockport")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str | None] = mapped_column(String(30))
    accessibility_notes: Mapped[str | None] = mapped_column(Text)
    step_free_access: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_loop: Mapped[bool] = mapped_column(Boolean, default=False)
    # People harmed and people responsible should not have to wait together.
    separate_waiting_areas: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"0": [["09:00", "17:00"]], ...}: weekday (0 = Monday) to local wall-clock ranges. Prisons: visiting times.
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    rooms: Mapped[list[Room]] = relationship(back_populates="venue", order_by="Room.name")

    def hours_on(self, weekday: int) -> list[tuple[time, time]]:
        return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in (self.opening_hours or {}).get(str(weekday), [])]

    def is_open(self, weekday: int, start: time, end: time) -> bool:
        return any(a <= start and end <= b for a, b in self.hours_on(weekday))


class Room(db.Model):
    """A bookable room at a venue: never in two active meetings at once."""

    __tablename__ = "venue_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int] = mapped_column(Integer, default=6)
    step_free_access: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_loop: Mapped[bool] = mapped_column(Boolean, default=False)
    # A second room or area nearby where one party can wait apart from the other.
    separate_waiting_area: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)

    venue: Mapped[Venue] = relationship(back_populates="rooms")


class AvailabilityWindow(db.Model):
    """A facilitator's weekly recurring availability in local wall-clock time (weekday 0 = Monday)."""

    __tablename__ = "availability_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="window_order"),
    )

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]


class ExceptionKind(str, enum.Enum):
    LEAVE = "leave"
    UNAVAILABLE = "unavailable"   # a one-off unavailable day

    @property
    def label(self) -> str:
        return "Leave" if self is ExceptionKind.LEAVE else "Unavailable"


class AvailabilityException(db.Model):
    """Whole local days (inclusive) when a facilitator cannot be booked, whatever their weekly windows say."""

    __tablename__ = "availability_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"), index=True)
    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind), default=ExceptionKind.UNAVAILABLE)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="exception_order"),)


class MeetingKind(str, enum.Enum):
    PREPARATION = "preparation"    # one party with the facilitators
    RESTORATIVE = "restorative"    # parties together (conference)
    INDIRECT = "indirect"          # shuttle or letters
    FOLLOW_UP = "follow_up"

    @property
    def label(self) -> str:
        return {"preparation": "Preparation meeting", "restorative": "Restorative meeting",
                "indirect": "Indirect contact session", "follow_up": "Follow-up"}[self.value]


class MeetingStatus(str, enum.Enum):
    PROPOSED = "proposed"
    BOOKED = "booked"
    HELD = "held"
    DID_NOT_GO_AHEAD = "did_not_go_ahead"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"     # postponed: holds no one's time until given a new one

    @property
    def label(self) -> str:
        return {"did_not_go_ahead": "Did not go ahead"}.get(self.value, self.value.capitalize())


class MeetingMode(str, enum.Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "phone": "Phone", "video": "Video"}[self.value]


class FacilitatorRole(str, enum.Enum):
    LEAD = "lead"
    CO = "co"

    @property
    def label(self) -> str:
        return "Lead facilitator" if self is FacilitatorRole.LEAD else "Co-facilitator"


M = MeetingStatus
ACTIVE_MEETING_STATUSES = (M.PROPOSED, M.BOOKED)


class Meeting(StatusMixin, db.Model):
    """A meeting of a case. Active (proposed/booked) meetings never overlap for a facilitator
    (plus travel gap), a party or a room: enforced by services.book_meeting under a lock.
    ical_uid is made once; ical_sequence only goes up (each change of time or place, and cancelling)."""

    __tablename__ = "meeting"

    TRANSITIONS = {
        M.PROPOSED: (M.BOOKED, M.CANCELLED, M.RESCHEDULED),
        M.BOOKED: (M.HELD, M.DID_NOT_GO_AHEAD, M.CANCELLED, M.RESCHEDULED),
        M.RESCHEDULED: (M.PROPOSED, M.BOOKED, M.CANCELLED),
        M.HELD: (),
        M.DID_NOT_GO_AHEAD: (),
        M.CANCELLED: (),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind))
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus), default=MeetingStatus.BOOKED, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    mode: Mapped[MeetingMode] = mapped_column(enum_column(MeetingMode), default=MeetingMode.IN_PERSON)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("venue_room.id"), index=True)
    # Practical joining details for phone/video (a dial-in, a link) or access notes: no personal details.
    joining_notes: Mapped[str | None] = mapped_column(Text)
    ical_uid: Mapped[str] = mapped_column(String(64), unique=True)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Coded reason (e.g. consent_withdrawn, party_request, facilitator_unwell): never a narrative.
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    did_not_go_ahead_reason: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="meeting_order"),
        Index("ix_meeting_active_time", "status", "starts_at", "ends_at"),
    )

    case = relationship("Case")
    venue: Mapped[Venue | None] = relationship()
    room: Mapped[Room | None] = relationship()
    parties: Mapped[list[MeetingParty]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    facilitators: Mapped[list[MeetingFacilitator]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingFacilitator.role")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_MEETING_STATUSES

    @property
    def lead(self):
        return next((mf.facilitator for mf in self.facilitators if mf.role is FacilitatorRole.LEAD), None)

    @property
    def co_facilitator(self):
        return next((mf.facilitator for mf in self.facilitators if mf.role is FacilitatorRole.CO), None)

    def can_view(self, user) -> bool:
        """Coordinators and managers see every meeting; a facilitator only meetings they are on."""
        if has_perm(user, Perm.MEETINGS_BOOK) or has_perm(user, Perm.ROSTER_VIEW_ALL):
            return True
        if has_perm(user, Perm.ROSTER_OWN):
            return any(getattr(mf.facilitator, "user_id", None) == user.id for mf in self.facilitators)
        return False


class MeetingParty(db.Model):
    """A party invited to a meeting; attended is recorded afterwards (None until then)."""

    __tablename__ = "meeting_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("consent_party.id"), index=True)
    attended: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("meeting_id", "party_id", name="uq_meeting_party_pair"),)

    meeting: Mapped[Meeting] = relationship(back_populates="parties")
    party = relationship("Party")


class MeetingFacilitator(db.Model):
    """A facilitator on a meeting, as lead or co-facilitator; attended is recorded afterwards."""

    __tablename__ = "meeting_facilitator"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"), index=True)
    role: Mapped[FacilitatorRole] = mapped_column(enum_column(FacilitatorRole), default=FacilitatorRole.LEAD)
    attended: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("meeting_id", "facilitator_id", name="uq_meeting_facilitator_pair"),)

    meeting: Mapped[Meeting] = relationship(back_populates="facilitators")
    facilitator = relationship("Facilitator")


class BookingLock(db.Model):
    """One row per bookable resource ('facilitator:12', 'party:3', 'room:5', or 'all' on SQLite).

    Booking locks these rows (in sorted order, so two bookings never deadlock) before checking
    for overlaps, so two coordinators booking at the same moment are serialised by the database."""

    __tablename__ = "booking_lock"

    resource: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Bumped on each lock: on SQLite the write is what takes the database's write lock.
    counter: Mapped[int] = mapped_column(Integer, default=0)


class SlotPollStatus(str, enum.Enum):
    OPEN = "open"
    BOOKED = "booked"
    CLOSED = "closed"


class SlotPoll(db.Model):
    """Finding a time: a few proposed slots for one meeting of a case, answered by each invitee."""

    __tablename__ = "slot_poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind))
    mode: Mapped[MeetingMode] = mapped_column(enum_column(MeetingMode), default=MeetingMode.IN_PERSON)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("venue_room.id"))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    # Who is being asked: the meeting will be booked with these.
    party_ids: Mapped[list] = mapped_column(JSON, default=list)
    lead_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    co_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    status: Mapped[SlotPollStatus] = mapped_column(enum_column(SlotPollStatus), default=SlotPollStatus.OPEN)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    case = relationship("Case")
    venue: Mapped[Venue | None] = relationship()
    room: Mapped[Room | None] = relationship()
    options: Mapped[list[SlotOption]] = relationship(back_populates="poll", order_by="SlotOption.starts_at",
                                                     cascade="all, delete-orphan")
    responses: Mapped[list[SlotResponse]] = relationship(back_populates="poll", cascade="all, delete-orphan")


class SlotOption(db.Model):
    """One proposed time in a poll."""

    __tablename__ = "slot_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("slot_poll.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    poll: Mapped[SlotPoll] = relationship(back_populates="options")


class SlotResponse(db.Model):
    """One invitee's link and answers. The link token is stored hashed; the answer is the option ids they can do."""

    __tablename__ = "slot_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("slot_poll.id"), index=True)
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("consent_party.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Option ids this person can do; None until they answer.
    available_option_ids: Mapped[list | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("(facilitator_id IS NULL) <> (party_id IS NULL)", name="one_invitee"),
    )

    poll: Mapped[SlotPoll] = relationship(back_populates="responses")
    facilitator = relationship("Facilitator")
    party = relationship("Party")

    @property
    def answered(self) -> bool:
        return self.answered_at is not None
