"""Scheduling rules: venues, availability, booking meetings without double-booking, finding a time.

No facilitator (with a travel gap), party or room is ever in two active (proposed/booked) meetings
at once. book_meeting and reschedule_meeting lock every resource the meeting uses (booking_lock
rows, upserted in sorted order) before checking for overlaps, inside the request's transaction:
on PostgreSQL the row locks serialise two coordinators booking the same person at once; on
SQLite the transaction is begun with BEGIN IMMEDIATE so the whole database is write-locked
before the check. The lock is held until the caller commits (see run_booking).
"""
from __future__ import annotations

import random
import secrets
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import selectinload

from rj.audit.services import record
from rj.cases.models import CaseStatus
from rj.core.errors import DomainError, check_version
from rj.core.time import is_bank_holiday, now_utc, to_local
from rj.core.tokens import new_token
from rj.extensions import db
from rj.scheduling.models import (
    ACTIVE_MEETING_STATUSES, WEEKDAYS, AvailabilityException, AvailabilityWindow, ExceptionKind,
    FacilitatorRole, Meeting, MeetingFacilitator, MeetingKind, MeetingMode, MeetingParty, MeetingStatus, Room,
    SlotOption, SlotPoll, SlotPollStatus, SlotResponse, Venue,
)

DEFAULT_TRAVEL_GAP_MINUTES = 30
POLL_LINK_DAYS = 14


class NeedsConfirmation(DomainError):
    """Only warnings stand in the way (a weekend, a bank holiday): book again with confirm_warnings=True."""


class DoubleBooking(DomainError):
    """Someone or something the meeting needs is already in another active meeting at that time."""


# --------------------------------------------------------------------------- helpers

def _span(starts_at: datetime, ends_at: datetime) -> str:
    s, e = to_local(starts_at), to_local(ends_at)
    return f"{s:%H:%M}-{e:%H:%M} on {s:%A %-d %B %Y}"


def travel_gap() -> timedelta:
    minutes = DEFAULT_TRAVEL_GAP_MINUTES
    if has_app_context():
        minutes = int(current_app.config.get("TRAVEL_GAP_MINUTES", minutes))
    return timedelta(minutes=minutes)


def _notify(meeting: Meeting, change: str, actor, *, removed_facilitator_ids=(), removed_party_ids=()) -> None:
    try:
        from rj.notifications import services as notifications
    except ImportError:
        return
    fn = getattr(notifications, "meeting_changed", None)
    if fn is not None:
        fn(meeting, change=change, actor=actor, removed_facilitator_ids=tuple(removed_facilitator_ids),
           removed_party_ids=tuple(removed_party_ids))


def _move_case(case, new_status: CaseStatus, *, actor, now) -> None:
    """Move the case along its lifecycle when the move is allowed; otherwise leave it where it is."""
    if case.status is new_status or not case.can_transition(new_status):
        return
    old = case.status
    case.transition(new_status)
    record("case.status_changed", case, actor=actor, case_id=case.id, fields=["status"],
           detail={"from": old.value, "to": new_status.value, "by": "scheduling"}, now=now)


def _name(obj) -> str:
    return getattr(obj, "name", None) or f"#{obj.id}"


# --------------------------------------------------------------------------- venues

VENUE_FIELDS = ("name", "kind", "address_line", "town", "postcode", "phone", "accessibility_notes",
                "step_free_access", "hearing_loop", "separate_waiting_areas", "opening_hours", "active")
ROOM_FIELDS = ("name", "capacity", "step_free_access", "hearing_loop", "separate_waiting_area", "notes", "active")


def _check_hours(hours: dict) -> dict:
    clean = {}
    for day, ranges in (hours or {}).items():
        if int(day) not in range(7):
            raise DomainError("Opening hours must be for Monday to Sunday", field="opening_hours")
        for start, end in ranges:
            if time.fromisoformat(end) <= time.fromisoformat(start):
                raise DomainError(f"Closing time on {WEEKDAYS[int(day)]} must be after opening time",
                                  field=f"close_{int(day)}")
        if ranges:
            clean[str(int(day))] = [[a, b] for a, b in ranges]
    return clean


def create_venue(*, actor, now=None, **data) -> Venue:
    """A new venue; opening hours are local wall-clock ranges per weekday."""
    data["opening_hours"] = _check_hours(data.get("opening_hours") or {})
    venue = Venue(**{k: v for k, v in data.items() if k in VENUE_FIELDS})
    db.session.add(venue)
    db.session.flush()
    record("venue.created", venue, actor=actor, now=now)
    return venue


def update_venue(venue: Venue, *, actor, version, now=None, **data) -> Venue:
    check_version(venue, version)
    if "opening_hours" in data:
        data["opening_hours"] = _check_hours(data["opening_hours"])
    changed = [k for k in VENUE_FIELDS if k in data and getattr(venue, k) != data[k]]
    for k in changed:
        setattr(venue, k, data[k])
    db.session.flush()
    if changed:
        record("venue.updated", venue, actor=actor, fields=changed, now=now)
    return venue


def create_room(venue: Venue, *, actor, now=None, **data) -> Room:
    if int(data.get("capacity") or 0) < 1:
        raise DomainError("Capacity must be 1 or more people", field="capacity")
    room = Room(venue=venue, **{k: v for k, v in data.items() if k in ROOM_FIELDS})
    db.session.add(room)
    db.session.flush()
    record("room.created", room, actor=actor, detail={"venue_id": venue.id}, now=now)
    return room


def update_room(room: Room, *, actor, version, now=None, **data) -> Room:
    check_version(room, version)
    if "capacity" in data and int(data["capacity"] or 0) < 1:
        raise DomainError("Capacity must be 1 or more people", field="capacity")
    changed = [k for k in ROOM_FIELDS if k in data and getattr(room, k) != data[k]]
    for k in changed:
        setattr(room, k, data[k])
    db.session.flush()
    if changed:
        record("room.updated", room, actor=actor, fields=changed, now=now)
    return room


# --------------------------------------------------------------------------- availability

def add_availability_window(facilitator, *, weekday: int, start_time: time, end_time: time, actor,
                            now=None) -> AvailabilityWindow:
    """A weekly window in local wall-clock time. Windows on the same day may not overlap."""
    if weekday not in range(7):
        raise DomainError("Choose a day of the week", field="weekday")
    if end_time <= start_time:
        raise DomainError("The end time must be after the start time", field="end_time")
    for w in db.session.scalars(select(AvailabilityWindow).where(
            AvailabilityWindow.facilitator_id == facilitator.id, AvailabilityWindow.weekday == weekday)):
        if w.start_time < end_time and start_time < w.end_time:
            raise DomainError(
                f"This overlaps {WEEKDAYS[weekday]}s {w.start_time:%H:%M}-{w.end_time:%H:%M}: "
                "remove that window first or choose other times", field="start_time")
    window = AvailabilityWindow(facilitator_id=facilitator.id, weekday=weekday, start_time=start_time,
                                end_time=end_time)
    db.session.add(window)
    db.session.flush()
    record("availability.window_added", window, actor=actor, detail={"facilitator_id": facilitator.id}, now=now)
    return window


def remove_availability_window(window: AvailabilityWindow, *, actor, now=None) -> None:
    record("availability.window_removed", window, actor=actor, detail={"facilitator_id": window.facilitator_id},
           now=now)
    db.session.delete(window)
    db.session.flush()


def add_availability_exception(facilitator, *, kind: ExceptionKind, starts_on: date, ends_on: date | None = None,
                               actor, now=None) -> AvailabilityException:
    """Leave between two dates (inclusive) or a one-off unavailable day."""
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise DomainError("The last day must be the same as or after the first day", field="ends_on")
    exc = AvailabilityException(facilitator_id=facilitator.id, kind=kind, starts_on=starts_on, ends_on=ends_on)
    db.session.add(exc)
    db.session.flush()
    record("availability.exception_added", exc, actor=actor, detail={"facilitator_id": facilitator.id}, now=now)
    return exc


def remove_availability_exception(exc: AvailabilityException, *, actor, now=None) -> None:
    record("availability.exception_removed", exc, actor=actor, detail={"facilitator_id": exc.facilitator_id},
           now=now)
    db.session.delete(exc)
    db.session.flush()


def unavailability_reason(facilitator, starts_at: datetime, ends_at: datetime) -> str | None:
    """Why the facilitator's own availability rules this time out, or None if it fits.

    Windows are expanded on the meeting's local Europe/London date, so a Tuesday 18:00-20:00
    window means 18:00-20:00 local on either side of a clock change."""
    start, end = to_local(starts_at), to_local(ends_at)
    name = _name(facilitator)
    if end.date() != start.date():
        return f"{name} cannot be booked for a meeting that runs past midnight"
    day = start.date()
    on_leave = db.session.scalar(select(AvailabilityException).where(
        AvailabilityException.facilitator_id == facilitator.id,
        AvailabilityException.starts_on <= day, AvailabilityException.ends_on >= day).limit(1))
    if on_leave is not None:
        what = "on leave" if on_leave.kind is ExceptionKind.LEAVE else "unavailable"
        return f"{name} is {what} on {day:%A %-d %B %Y}"
    windows = db.session.scalars(select(AvailabilityWindow).where(
        AvailabilityWindow.facilitator_id == facilitator.id, AvailabilityWindow.weekday == day.weekday())).all()
    if any(w.start_time <= start.time() and end.time() <= w.end_time for w in windows):
        return None
    if not windows:
        return f"{name} is not available on {WEEKDAYS[day.weekday()]}s"
    offered = ", ".join(f"{w.start_time:%H:%M}-{w.end_time:%H:%M}" for w in sorted(windows, key=lambda w: w.start_time))
    return (f"{name} is not available {start:%H:%M}-{end:%H:%M} on {WEEKDAYS[day.weekday()]}s "
            f"(available {offered})")


def facilitator_available(facilitator, starts_at: datetime, ends_at: datetime) -> bool:
    """True if the time lies inside one of their weekly windows and on no day of leave or unavailability."""
    return unavailability_reason(facilitator, starts_at, ends_at) is None


# --------------------------------------------------------------------------- double-booking

@dataclass
class Clash:
    kind: str            # facilitator | party | room
    resource_id: int
    meeting: Meeting
    message: str


def find_clashes(*, starts_at, ends_at, facilitators=(), parties=(), room=None,
                 exclude_meeting_id: int | None = None) -> list[Clash]:
    """Active meetings that would overlap: facilitators with the travel gap either side, parties and rooms without."""
    clashes: list[Clash] = []
    active = Meeting.status.in_(ACTIVE_MEETING_STATUSES)
    not_self = (Meeting.id != exclude_meeting_id) if exclude_meeting_id else True
    gap = travel_gap()
    if facilitators:
        by_id = {f.id: f for f in facilitators}
        rows = db.session.execute(
            select(Meeting, MeetingFacilitator.facilitator_id).join(MeetingFacilitator)
            .where(active, not_self, MeetingFacilitator.facilitator_id.in_(by_id),
                   Meeting.starts_at < ends_at + gap, Meeting.ends_at > starts_at - gap)
            .order_by(Meeting.starts_at)).all()
        for meeting, fid in rows:
            gap_note = "" if (meeting.starts_at < ends_at and meeting.ends_at > starts_at) else \
                f" (they need {int(gap.total_seconds() // 60)} minutes between meetings to travel)"
            clashes.append(Clash("facilitator", fid, meeting,
                                 f"{_name(by_id[fid])} is already booked {_span(meeting.starts_at, meeting.ends_at)}{gap_note}"))
    if parties:
        by_id = {p.id: p for p in parties}
        rows = db.session.execute(
            select(Meeting, MeetingParty.party_id).join(MeetingParty)
            .where(active, not_self, MeetingParty.party_id.in_(by_id),
                   Meeting.starts_at < ends_at, Meeting.ends_at > starts_at)
            .order_by(Meeting.starts_at)).all()
        for meeting, pid in rows:
            clashes.append(Clash("party", pid, meeting,
                                 f"{_name(by_id[pid])} is already in a meeting {_span(meeting.starts_at, meeting.ends_at)}"))
    if room is not None:
        rows = db.session.scalars(
            select(Meeting).where(active, not_self, Meeting.room_id == room.id,
                                  Meeting.starts_at < ends_at, Meeting.ends_at > starts_at)
            .order_by(Meeting.starts_at)).all()
        for meeting in rows:
            clashes.append(Clash("room", room.id, meeting,
                                 f"{room.name} is already booked {_span(meeting.starts_at, meeting.ends_at)}"))
    return clashes


def is_facilitator_free(facilitator, starts_at: datetime, ends_at: datetime, *,
                        exclude_meeting_id: int | None = None) -> bool:
    """No active meeting of theirs within the travel gap of this time."""
    return not find_clashes(starts_at=starts_at, ends_at=ends_at, facilitators=[facilitator],
                            exclude_meeting_id=exclude_meeting_id)


def lock_resources(keys: list[str]) -> None:
    """Take the booking locks for these resources, in sorted order, until the transaction ends.

    PostgreSQL: an upsert on each booking_lock row takes its row lock (a second booking of the
    same person waits here until the first commits, then sees its meeting). SQLite has no row
    locks and SELECT ... FOR UPDATE does nothing, so the transaction is opened with BEGIN
    IMMEDIATE, which takes the database's write lock before anything is read."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
        keys = ["all"]
    stmt = text("INSERT INTO booking_lock (resource, counter) VALUES (:r, 1) "
                "ON CONFLICT (resource) DO UPDATE SET counter = booking_lock.counter + 1")
    for key in sorted(set(keys)):
        conn.execute(stmt, {"r": key})


_RETRYABLE = ("40P01", "40001", "55P03")   # deadlock, serialization failure, lock not available


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code in _RETRYABLE:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def run_booking(fn, *, attempts: int = 5):
    """Run a booking service and commit; retry a deadlock, serialization failure or busy SQLite.

    A domain error rolls back (releasing the locks) and is raised for the form to show. If the
    database stays busy, the coordinator gets a message to try again, not an error page."""
    for attempt in range(attempts):
        try:
            result = fn()
            db.session.commit()
            return result
        except DomainError:
            db.session.rollback()
            raise
        except DBAPIError as exc:
            db.session.rollback()
            if not _retryable(exc):
                raise
            _time.sleep(0.05 * (2 ** attempt) + random.random() * 0.05)
    raise DomainError("Lots of bookings are being made at the moment and this one could not be saved. "
                      "Check the times and try again.")


# --------------------------------------------------------------------------- booking

@dataclass
class MeetingPlan:
    kind: MeetingKind
    starts_at: datetime
    ends_at: datetime
    mode: MeetingMode
    room: Room | None = None
    parties: list = field(default_factory=list)
    lead: object | None = None
    co: object | None = None


def default_team(case):
    """The case team (lead, co) from rostering, if rostering has one."""
    try:
        from rj.rostering import services as rostering
    except ImportError:
        return None, None
    fn = getattr(rostering, "current_team", None)
    team = fn(case) if fn else None
    if team is None:
        return None, None
    from rj.facilitators.models import Facilitator

    lead = getattr(team, "lead_facilitator", None) or (
        db.session.get(Facilitator, team.lead_facilitator_id) if getattr(team, "lead_facilitator_id", None) else None)
    co = getattr(team, "co_facilitator", None) or (
        db.session.get(Facilitator, team.co_facilitator_id) if getattr(team, "co_facilitator_id", None) else None)
    return lead, co


def _warnings(plan: MeetingPlan) -> list[str]:
    day = to_local(plan.starts_at).date()
    out = []
    if is_bank_holiday(day):
        out.append(f"{day:%A %-d %B %Y} is a bank holiday")
    elif day.weekday() >= 5:
        out.append(f"{day:%A %-d %B %Y} is at the weekend")
    return out


def _problems(case, plan: MeetingPlan, *, now: datetime, meeting: Meeting | None = None) -> list[str]:
    """Every reason this plan cannot be booked (apart from double-booking, checked under the lock)."""
    reasons: list[str] = []
    s, e = plan.starts_at, plan.ends_at
    if e <= s:
        reasons.append("The meeting must end after it starts: check the duration")
    if s < now:
        reasons.append(f"The meeting would start in the past ({_span(s, e)}): choose a future time")
    if not case.is_open:
        reasons.append("This case is closed: meetings cannot be booked for it")
    start_l, end_l = to_local(s), to_local(e)
    if e > s and end_l.date() != start_l.date():
        reasons.append("A meeting must start and end on the same day")
    # Place
    if plan.mode is MeetingMode.IN_PERSON:
        if plan.room is None:
            reasons.append("Choose a room for an in-person meeting, or make it a phone or video meeting")
        else:
            room, venue = plan.room, plan.room.venue
            if not room.active or not venue.active:
                reasons.append(f"{room.name} at {venue.name} is no longer in use: choose another room")
            people = len(plan.parties) + len([f for f in (plan.lead, plan.co) if f is not None])
            if people > room.capacity:
                reasons.append(f"{room.name} holds {room.capacity} people but this meeting invites {people}: "
                               "choose a bigger room or invite fewer people")
            if venue.opening_hours and e > s and not venue.is_open(start_l.weekday(), start_l.time(), end_l.time()):
                hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in venue.hours_on(start_l.weekday()))
                what = "visiting times" if venue.kind.value == "prison" else "opening hours"
                reasons.append(f"{venue.name} is not open {start_l:%H:%M}-{end_l:%H:%M} on {start_l:%A}s "
                               f"({what}: {hours or 'closed all day'})")
    # People
    if plan.kind is MeetingKind.PREPARATION and len(plan.parties) != 1:
        reasons.append("A preparation meeting is with one party: choose exactly one")
    elif plan.kind is MeetingKind.RESTORATIVE and len(plan.parties) < 2:
        reasons.append("A restorative meeting brings parties together: choose at least two parties")
    elif not plan.parties:
        reasons.append("Choose at least one party")
    for p in plan.parties:
        if p.case_id != case.id or getattr(p, "removed_at", None) is not None:
            reasons.append(f"{_name(p)} is not a party to this case")
    if plan.lead is None:
        reasons.append("Choose a lead facilitator")
    if plan.lead is not None and plan.co is not None and plan.lead.id == plan.co.id:
        reasons.append("The lead and co-facilitator must be two different people")
    facilitators = [f for f in (plan.lead, plan.co) if f is not None]
    if s < e:
        try:
            from rj.facilitators.services import check_eligibility
        except ImportError:
            check_eligibility = None
        for f in facilitators:
            if check_eligibility is not None:
                result = check_eligibility(f, level=case.level or 2, on=start_l.date(), case=case)
                if not result.eligible:
                    reasons.extend(f"{_name(f)}: {r}" for r in result.reasons)
            why = unavailability_reason(f, s, e)
            if why:
                reasons.append(why)
    # Consent
    try:
        from rj.consent.services import check_meeting_gate
    except ImportError:
        check_meeting_gate = None
    if check_meeting_gate is not None and plan.parties:
        gate = check_meeting_gate(case, list(plan.parties), kind=plan.kind.value, now=now)
        if not gate.allowed:
            reasons.extend(gate.reasons)
    return reasons


def _check(case, plan: MeetingPlan, *, now, confirm_warnings: bool, meeting: Meeting | None = None) -> None:
    reasons = _problems(case, plan, now=now, meeting=meeting)
    if reasons:
        raise DomainError(reasons[0], reasons=reasons)
    warnings = _warnings(plan)
    if warnings and not confirm_warnings:
        raise NeedsConfirmation(warnings[0] + ": confirm you want to book it on this day", reasons=warnings)
    facilitators = [f for f in (plan.lead, plan.co) if f is not None]
    keys = [f"facilitator:{f.id}" for f in facilitators] + [f"party:{p.id}" for p in plan.parties]
    if plan.room is not None and plan.mode is MeetingMode.IN_PERSON:
        keys.append(f"room:{plan.room.id}")
    lock_resources(keys)
    clashes = find_clashes(starts_at=plan.starts_at, ends_at=plan.ends_at, facilitators=facilitators,
                           parties=plan.parties, room=plan.room if plan.mode is MeetingMode.IN_PERSON else None,
                           exclude_meeting_id=meeting.id if meeting else None)
    if clashes:
        messages = [c.message for c in clashes]
        raise DoubleBooking(messages[0], reasons=messages)


def book_meeting(case, *, kind: MeetingKind, starts_at: datetime, ends_at: datetime, actor,
                 mode: MeetingMode = MeetingMode.IN_PERSON, room: Room | None = None, parties=(),
                 lead=None, co=None, status: MeetingStatus = MeetingStatus.BOOKED, joining_notes: str | None = None,
                 confirm_warnings: bool = False, now: datetime | None = None) -> Meeting:
    """Book a meeting: consent gate, facilitator eligibility and availability, venue rules, then
    (under the booking lock) no double-booking. Every reason it cannot be booked is raised at once.
    Lead and co default to the case team. Call through run_booking so the lock is held to the commit."""
    now = now or now_utc()
    if lead is None and co is None:
        lead, co = default_team(case)
    if mode is not MeetingMode.IN_PERSON:
        room = None
    plan = MeetingPlan(kind=kind, starts_at=starts_at, ends_at=ends_at, mode=mode, room=room,
                       parties=list(parties), lead=lead, co=co)
    _check(case, plan, now=now, confirm_warnings=confirm_warnings)
    meeting = Meeting(
        case_id=case.id, kind=kind, status=status, starts_at=starts_at, ends_at=ends_at, mode=mode,
        venue_id=room.venue_id if room else None, room_id=room.id if room else None,
        joining_notes=joining_notes or None, ical_uid=secrets.token_hex(16) + "@rj", ical_sequence=0,
        created_by_id=getattr(actor, "id", None), created_at=now,
    )
    meeting.case = case
    meeting.parties = [MeetingParty(party_id=p.id) for p in plan.parties]
    meeting.facilitators = [MeetingFacilitator(facilitator_id=f.id, role=r) for f, r in
                            ((lead, FacilitatorRole.LEAD), (co, FacilitatorRole.CO)) if f is not None]
    db.session.add(meeting)
    db.session.flush()
    record("meeting.booked", meeting, actor=actor, case_id=case.id, now=now,
           detail={"kind": kind.value, "status": status.value, "mode": mode.value, "room_id": meeting.room_id,
                   "party_ids": [p.id for p in plan.parties],
                   "facilitator_ids": [mf.facilitator_id for mf in meeting.facilitators]})
    if status is MeetingStatus.BOOKED:
        if kind is MeetingKind.RESTORATIVE:
            _move_case(case, CaseStatus.MEETING_BOOKED, actor=actor, now=now)
        elif kind is MeetingKind.PREPARATION and case.status is CaseStatus.ACCEPTED:
            _move_case(case, CaseStatus.PREPARATION, actor=actor, now=now)
    _notify(meeting, "booked", actor)
    return meeting


def _require_active(meeting: Meeting) -> None:
    if not (meeting.is_active or meeting.status is MeetingStatus.RESCHEDULED):
        raise DomainError(f"This meeting is {meeting.status.label.lower()} and can no longer be changed")


def reschedule_meeting(meeting: Meeting, *, actor, starts_at: datetime | None = None, ends_at: datetime | None = None,
                       mode: MeetingMode | None = None, room: Room | None = None, parties=None, lead=None, co=None,
                       joining_notes: str | None = None, version=None, confirm_warnings: bool = False,
                       keep_room: bool = True, now: datetime | None = None) -> Meeting:
    """Change a meeting's time, place or people, under the same rules as booking it. The calendar
    invite keeps its UID; its sequence goes up by one when the time or place changes. A postponed
    (rescheduled) meeting given a new time is booked again."""
    now = now or now_utc()
    if version is not None:
        check_version(meeting, version)
    _require_active(meeting)
    case = meeting.case
    new_mode = mode or meeting.mode
    new_room = room if room is not None else (meeting.room if keep_room else None)
    if new_mode is not MeetingMode.IN_PERSON:
        new_room = None
    new_parties = list(parties) if parties is not None else [mp.party for mp in meeting.parties]
    new_lead = lead if lead is not None else meeting.lead
    new_co = co if co is not None else (meeting.co_facilitator if lead is None else None)
    plan = MeetingPlan(kind=meeting.kind, starts_at=starts_at or meeting.starts_at, ends_at=ends_at or meeting.ends_at,
                       mode=new_mode, room=new_room, parties=new_parties, lead=new_lead, co=new_co)
    _check(case, plan, now=now, confirm_warnings=confirm_warnings, meeting=meeting)

    moved = (plan.starts_at != meeting.starts_at or plan.ends_at != meeting.ends_at or plan.mode is not meeting.mode
             or (new_room.id if new_room else None) != meeting.room_id)
    changed = []
    if plan.starts_at != meeting.starts_at or plan.ends_at != meeting.ends_at:
        changed += ["starts_at", "ends_at"]
    if plan.mode is not meeting.mode:
        changed.append("mode")
    if (new_room.id if new_room else None) != meeting.room_id:
        changed += ["room_id", "venue_id"]
    meeting.starts_at, meeting.ends_at, meeting.mode = plan.starts_at, plan.ends_at, plan.mode
    meeting.room_id = new_room.id if new_room else None
    meeting.venue_id = new_room.venue_id if new_room else None
    meeting.room = new_room
    meeting.venue = new_room.venue if new_room else None
    if joining_notes is not None and (joining_notes or None) != meeting.joining_notes:
        meeting.joining_notes = joining_notes or None
        changed.append("joining_notes")

    old_party_ids = {mp.party_id for mp in meeting.parties}
    new_party_ids = {p.id for p in new_parties}
    removed_party_ids = sorted(old_party_ids - new_party_ids)
    if old_party_ids != new_party_ids:
        meeting.parties = [mp for mp in meeting.parties if mp.party_id in new_party_ids] + [
            MeetingParty(party_id=pid) for pid in sorted(new_party_ids - old_party_ids)]
        changed.append("parties")
    old_fac = {mf.facilitator_id: mf.role for mf in meeting.facilitators}
    new_fac = {f.id: r for f, r in ((new_lead, FacilitatorRole.LEAD), (new_co, FacilitatorRole.CO)) if f is not None}
    removed_facilitator_ids = sorted(set(old_fac) - set(new_fac))
    if old_fac != new_fac:
        keep = [mf for mf in meeting.facilitators if mf.facilitator_id in new_fac]
        for mf in keep:
            mf.role = new_fac[mf.facilitator_id]
        meeting.facilitators = keep + [MeetingFacilitator(facilitator_id=fid, role=r) for fid, r in new_fac.items()
                                       if fid not in old_fac]
        changed.append("facilitators")
    if meeting.status is MeetingStatus.RESCHEDULED:
        meeting.transition(MeetingStatus.BOOKED)
        changed.append("status")
        moved = True
    if moved:
        meeting.ical_sequence += 1
    if not changed:
        return meeting
    db.session.flush()
    record("meeting.rescheduled" if moved else "meeting.updated", meeting, actor=actor, case_id=case.id,
           fields=changed, now=now, detail={"removed_facilitator_ids": removed_facilitator_ids,
                                            "removed_party_ids": removed_party_ids})
    if meeting.status is MeetingStatus.BOOKED and meeting.kind is MeetingKind.RESTORATIVE:
        _move_case(case, CaseStatus.MEETING_BOOKED, actor=actor, now=now)
    _notify(meeting, "updated", actor, removed_facilitator_ids=removed_facilitator_ids,
            removed_party_ids=removed_party_ids)
    return meeting


def confirm_meeting(meeting: Meeting, *, actor, now=None) -> Meeting:
    """A proposed meeting becomes booked (its time is already held)."""
    now = now or now_utc()
    meeting.transition(MeetingStatus.BOOKED)
    db.session.flush()
    record("meeting.confirmed", meeting, actor=actor, case_id=meeting.case_id, fields=["status"], now=now)
    if meeting.kind is MeetingKind.RESTORATIVE:
        _move_case(meeting.case, CaseStatus.MEETING_BOOKED, actor=actor, now=now)
    _notify(meeting, "updated", actor)
    return meeting


def _after_restorative_stops(meeting: Meeting, *, actor, now) -> None:
    """If the case was waiting on this conference and no other is planned, it is ready to meet again."""
    case = meeting.case
    if meeting.kind is not MeetingKind.RESTORATIVE or case.status is not CaseStatus.MEETING_BOOKED:
        return
    other = db.session.scalar(select(Meeting.id).where(
        Meeting.case_id == case.id, Meeting.id != meeting.id, Meeting.kind == MeetingKind.RESTORATIVE,
        Meeting.status.in_(ACTIVE_MEETING_STATUSES)).limit(1))
    if other is None:
        _move_case(case, CaseStatus.READY_TO_MEET, actor=actor, now=now)


def cancel_meeting(meeting: Meeting, *, actor, reason: str, version=None, now: datetime | None = None) -> Meeting:
    """Cancel: frees everyone's time; the invite is cancelled (sequence goes up)."""
    now = now or now_utc()
    if version is not None:
        check_version(meeting, version)
    _require_active(meeting)
    meeting.transition(MeetingStatus.CANCELLED)
    meeting.cancelled_at = now
    meeting.cancel_reason = (reason or "other")[:40]
    meeting.ical_sequence += 1
    db.session.flush()
    record("meeting.cancelled", meeting, actor=actor, case_id=meeting.case_id, fields=["status"], now=now,
           detail={"reason": meeting.cancel_reason})
    _after_restorative_stops(meeting, actor=actor, now=now)
    _notify(meeting, "cancelled", actor)
    return meeting


def postpone_meeting(meeting: Meeting, *, actor, reason: str, version=None, now: datetime | None = None) -> Meeting:
    """Put off a meeting to be rearranged: it holds no one's time until reschedule_meeting gives it a new one."""
    now = now or now_utc()
    if version is not None:
        check_version(meeting, version)
    if not meeting.can_transition(MeetingStatus.RESCHEDULED):
        raise DomainError(f"This meeting is {meeting.status.label.lower()} and cannot be postponed")
    meeting.transition(MeetingStatus.RESCHEDULED)
    meeting.cancel_reason = (reason or "other")[:40]
    meeting.ical_sequence += 1
    db.session.flush()
    record("meeting.postponed", meeting, actor=actor, case_id=meeting.case_id, fields=["status"], now=now,
           detail={"reason": meeting.cancel_reason})
    _after_restorative_stops(meeting, actor=actor, now=now)
    _notify(meeting, "cancelled", actor)
    return meeting


def remove_facilitator_from_meeting(meeting: Meeting, facilitator, *, actor, reason: str,
                                    now: datetime | None = None) -> Meeting:
    """Take a facilitator off a meeting (they are told it is cancelled for them). If the lead goes,
    the co-facilitator becomes lead."""
    now = now or now_utc()
    _require_active(meeting)
    link = next((mf for mf in meeting.facilitators if mf.facilitator_id == facilitator.id), None)
    if link is None:
        raise DomainError(f"{_name(facilitator)} is not on this meeting")
    was_lead = link.role is FacilitatorRole.LEAD
    meeting.facilitators.remove(link)
    if was_lead:
        for mf in meeting.facilitators:
            mf.role = FacilitatorRole.LEAD
            break
    db.session.flush()
    record("meeting.facilitator_removed", meeting, actor=actor, case_id=meeting.case_id, fields=["facilitators"],
           now=now, detail={"facilitator_id": facilitator.id, "reason": (reason or "other")[:40]})
    _notify(meeting, "updated", actor, removed_facilitator_ids=[facilitator.id])
    return meeting


def cancel_future_meetings_for_party(party, *, actor, now: datetime | None = None, reason: str) -> list[Meeting]:
    """Consent withdrawn (or the party removed): every future proposed/booked meeting involving them is cancelled."""
    now = now or now_utc()
    meetings = db.session.scalars(
        select(Meeting).join(MeetingParty).where(
            MeetingParty.party_id == party.id, Meeting.status.in_(ACTIVE_MEETING_STATUSES), Meeting.ends_at > now)
        .order_by(Meeting.starts_at)).all()
    for meeting in meetings:
        cancel_meeting(meeting, actor=actor, reason=reason, now=now)
    return list(meetings)


def mark_meeting_held(meeting: Meeting, *, actor, absent_party_ids=(), absent_facilitator_ids=(),
                      now: datetime | None = None) -> Meeting:
    """Record that a booked meeting took place (after its start), and who attended."""
    now = now or now_utc()
    if meeting.starts_at > now:
        raise DomainError("A meeting can only be marked as held once it has started")
    meeting.transition(MeetingStatus.HELD)
    for mp in meeting.parties:
        mp.attended = mp.party_id not in set(absent_party_ids)
    for mf in meeting.facilitators:
        mf.attended = mf.facilitator_id not in set(absent_facilitator_ids)
    db.session.flush()
    record("meeting.held", meeting, actor=actor, case_id=meeting.case_id, fields=["status", "attended"], now=now)
    if meeting.kind is MeetingKind.RESTORATIVE:
        _move_case(meeting.case, CaseStatus.MEETING_HELD, actor=actor, now=now)
    return meeting


def mark_meeting_did_not_go_ahead(meeting: Meeting, *, actor, reason: str, absent_party_ids=(),
                                  absent_facilitator_ids=(), now: datetime | None = None) -> Meeting:
    """Record that a booked meeting did not go ahead, and who did not attend."""
    now = now or now_utc()
    if meeting.starts_at > now:
        raise DomainError("Only a meeting whose time has come can be recorded as not going ahead: "
                          "cancel or postpone it instead")
    meeting.transition(MeetingStatus.DID_NOT_GO_AHEAD)
    meeting.did_not_go_ahead_reason = (reason or "other")[:40]
    for mp in meeting.parties:
        mp.attended = mp.party_id not in set(absent_party_ids)
    for mf in meeting.facilitators:
        mf.attended = mf.facilitator_id not in set(absent_facilitator_ids)
    db.session.flush()
    record("meeting.did_not_go_ahead", meeting, actor=actor, case_id=meeting.case_id, fields=["status", "attended"],
           now=now, detail={"reason": meeting.did_not_go_ahead_reason,
                            "absent_party_ids": sorted(absent_party_ids),
                            "absent_facilitator_ids": sorted(absent_facilitator_ids)})
    _after_restorative_stops(meeting, actor=actor, now=now)
    return meeting


# --------------------------------------------------------------------------- finding a time

def create_slot_poll(case, *, kind: MeetingKind, starts: list[datetime], duration_minutes: int, actor,
                     mode: MeetingMode = MeetingMode.IN_PERSON, room: Room | None = None, parties=(), lead=None,
                     co=None, expires_at: datetime | None = None, now: datetime | None = None):
    """Propose a few times; each facilitator and party gets their own link (token stored hashed).

    Returns (poll, [(response, token)]): the tokens exist only here, to be emailed or copied."""
    now = now or now_utc()
    starts = sorted(set(starts))
    if not starts:
        raise DomainError("Propose at least one time", field="slot_1_date")
    if len(starts) > 8:
        raise DomainError("Propose at most 8 times")
    if any(s < now for s in starts):
        raise DomainError("Every proposed time must be in the future")
    if not 15 <= duration_minutes <= 8 * 60:
        raise DomainError("Choose a duration between 15 minutes and 8 hours", field="duration")
    if lead is None and co is None:
        lead, co = default_team(case)
    people = [f for f in (lead, co) if f is not None]
    if not people and not parties:
        raise DomainError("Choose who to ask")
    expires_at = expires_at or min(starts[0], now + timedelta(days=POLL_LINK_DAYS))
    poll = SlotPoll(case_id=case.id, kind=kind, mode=mode, room_id=room.id if room and mode is MeetingMode.IN_PERSON else None,
                    venue_id=room.venue_id if room and mode is MeetingMode.IN_PERSON else None,
                    duration_minutes=duration_minutes, party_ids=[p.id for p in parties],
                    lead_facilitator_id=lead.id if lead else None, co_facilitator_id=co.id if co else None,
                    expires_at=expires_at, created_by_id=getattr(actor, "id", None), created_at=now)
    poll.options = [SlotOption(starts_at=s, ends_at=s + timedelta(minutes=duration_minutes)) for s in starts]
    links = []
    for person in people + list(parties):
        token, hashed = new_token()
        is_fac = person in people
        response = SlotResponse(facilitator_id=person.id if is_fac else None, party_id=None if is_fac else person.id,
                                token_hash=hashed, expires_at=expires_at)
        poll.responses.append(response)
        links.append((response, token))
    db.session.add(poll)
    db.session.flush()
    record("slot_poll.created", poll, actor=actor, case_id=case.id, now=now,
           detail={"options": len(starts), "invitees": len(links)})
    _send_poll_links(poll, links)
    return poll, links


def poll_link_url(token: str) -> str:
    base = current_app.config.get("BASE_URL", "") if has_app_context() else ""
    return f"{base.rstrip('/')}/times/{token}"


def _send_poll_links(poll: SlotPoll, links) -> int:
    """Email each link through the outbox when notifications is there and the person has an email
    address; otherwise the coordinator copies the links from the page shown once after creating."""
    try:
        from rj.notifications.services import queue_email
    except ImportError:
        return 0
    sent = 0
    for response, token in links:
        person = response.facilitator if response.facilitator_id else response.party
        address = getattr(person, "email", None)
        if not address:
            continue
        body = (f"Hello {_name(person)},\n\nWe are arranging a meeting and would like to know which of a few "
                f"times you can do. Please answer here:\n\n{poll_link_url(token)}\n\n"
                "The link is just for you and stops working once a time is chosen.")
        try:
            queue_email(recipient=address, subject="Which times can you do?", text=body, kind="slot_poll",
                        case_id=poll.case_id)
        except DomainError:
            continue
        sent += 1
    return sent


def renew_slot_link(response: SlotResponse, *, actor, now: datetime | None = None) -> str:
    """A new link for one invitee (the old one stops working)."""
    now = now or now_utc()
    if response.poll.status is not SlotPollStatus.OPEN:
        raise DomainError("This poll is closed")
    token, hashed = new_token()
    response.token_hash = hashed
    response.expires_at = max(response.poll.expires_at, now + timedelta(days=1))
    db.session.flush()
    record("slot_poll.link_renewed", response, actor=actor, case_id=response.poll.case_id, now=now)
    return token


def slot_response_for_token(token: str, *, now: datetime | None = None) -> SlotResponse | None:
    """The invitee's response for a link, or None if the link is unknown, expired or the poll closed."""
    from rj.core.tokens import hash_token

    now = now or now_utc()
    if not token or len(token) > 100:
        return None
    response = db.session.scalar(select(SlotResponse).where(SlotResponse.token_hash == hash_token(token)))
    if response is None or response.expires_at <= now or response.poll.status is not SlotPollStatus.OPEN:
        return None
    return response


def answer_slot_poll(response: SlotResponse, *, option_ids, now: datetime | None = None) -> SlotResponse:
    """Record which proposed times this person can do (they may change their answer while the poll is open)."""
    now = now or now_utc()
    valid = {o.id for o in response.poll.options}
    chosen = sorted({int(i) for i in option_ids} & valid)
    response.available_option_ids = chosen
    response.answered_at = now
    db.session.flush()
    record("slot_poll.answered", response, case_id=response.poll.case_id, now=now, detail={"options": len(chosen)})
    return response


@dataclass
class PollRow:
    response: SlotResponse
    who: str
    answers: dict   # option id -> True / False / None (not answered)


def poll_table(poll: SlotPoll):
    """Answers side by side: one row per invitee, one column per option, and how many can do each."""
    rows = []
    for r in sorted(poll.responses, key=lambda r: (r.party_id is not None, r.id)):
        person = r.facilitator if r.facilitator_id else r.party
        answered = r.available_option_ids
        rows.append(PollRow(r, _name(person) if person else "?", {
            o.id: (None if answered is None else o.id in answered) for o in poll.options}))
    counts = {o.id: sum(1 for row in rows if row.answers[o.id]) for o in poll.options}
    best = max(poll.options, key=lambda o: (counts[o.id], -o.starts_at.timestamp()), default=None)
    return rows, counts, best


def book_from_poll(poll: SlotPoll, option: SlotOption, *, actor, confirm_warnings: bool = False,
                   now: datetime | None = None) -> Meeting:
    """Book the chosen slot (all the booking rules apply) and close the poll."""
    from rj.consent.models import Party
    from rj.facilitators.models import Facilitator

    if poll.status is not SlotPollStatus.OPEN:
        raise DomainError("This poll is closed: a meeting has already been booked from it")
    if option.poll_id != poll.id:
        raise DomainError("Choose one of this poll's times")
    parties = db.session.scalars(select(Party).where(Party.id.in_(poll.party_ids or []))).all()
    lead = db.session.get(Facilitator, poll.lead_facilitator_id) if poll.lead_facilitator_id else None
    co = db.session.get(Facilitator, poll.co_facilitator_id) if poll.co_facilitator_id else None
    meeting = book_meeting(poll.case, kind=poll.kind, starts_at=option.starts_at, ends_at=option.ends_at, actor=actor,
                           mode=poll.mode, room=poll.room, parties=parties, lead=lead, co=co,
                           confirm_warnings=confirm_warnings, now=now)
    poll.status = SlotPollStatus.BOOKED
    poll.meeting_id = meeting.id
    db.session.flush()
    record("slot_poll.booked", poll, actor=actor, case_id=poll.case_id, now=now, detail={"meeting_id": meeting.id})
    return meeting


def close_slot_poll(poll: SlotPoll, *, actor, now=None) -> None:
    if poll.status is SlotPollStatus.OPEN:
        poll.status = SlotPollStatus.CLOSED
        db.session.flush()
        record("slot_poll.closed", poll, actor=actor, case_id=poll.case_id, now=now)


# --------------------------------------------------------------------------- queries used by pages

def meetings_for_case(case) -> list[Meeting]:
    return list(db.session.scalars(
        select(Meeting).where(Meeting.case_id == case.id).order_by(Meeting.starts_at.desc())
        .options(selectinload(Meeting.parties).selectinload(MeetingParty.party),
                 selectinload(Meeting.facilitators).selectinload(MeetingFacilitator.facilitator),
                 selectinload(Meeting.room), selectinload(Meeting.venue))))
