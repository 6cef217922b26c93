"""Read-only queries for rostering pages and for other domains (case visibility)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, false, func, or_, select, union
from sqlalchemy.orm import selectinload

from rj.core.time import LONDON, from_local, to_local
from rj.extensions import db
from rj.rostering.models import CaseTeam, Offer, OfferStatus, TeamStatus


def _facilitator_id_subquery(user):
    from rj.facilitators.models import Facilitator

    return select(Facilitator.id).where(Facilitator.user_id == user.id).scalar_subquery()


def rostered_case_ids_for_user(user) -> Select:
    """Case ids the user's facilitator is rostered to: on the active team, or on any meeting of the case."""
    if getattr(user, "id", None) is None:
        return select(CaseTeam.case_id).where(false())
    fid = _facilitator_id_subquery(user)
    teams = select(CaseTeam.case_id).where(
        CaseTeam.status == TeamStatus.ACTIVE,
        or_(CaseTeam.lead_facilitator_id == fid, CaseTeam.co_facilitator_id == fid))
    try:
        from rj.scheduling.models import Meeting, MeetingFacilitator
    except ImportError:
        return teams
    meetings = (select(Meeting.case_id).join(MeetingFacilitator, MeetingFacilitator.meeting_id == Meeting.id)
                .where(MeetingFacilitator.facilitator_id == fid))
    return select(union(teams, meetings).subquery().c[0])


def month_bounds(day: date) -> tuple[datetime, datetime]:
    """The local calendar month containing `day`, as UTC instants [start, end)."""
    from datetime import time

    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return from_local(first, time(0)), from_local(nxt, time(0))


def meetings_in_month_by_facilitator(facilitator_ids, day: date) -> dict[int, int]:
    """Active or held meetings each facilitator is on in the local month of `day` (one query)."""
    from rj.scheduling.models import Meeting, MeetingFacilitator, MeetingStatus

    ids = list(facilitator_ids)
    if not ids:
        return {}
    start, end = month_bounds(day)
    rows = db.session.execute(
        select(MeetingFacilitator.facilitator_id, func.count(Meeting.id))
        .join(Meeting, Meeting.id == MeetingFacilitator.meeting_id)
        .where(MeetingFacilitator.facilitator_id.in_(ids), Meeting.starts_at >= start, Meeting.starts_at < end,
               Meeting.status.in_([MeetingStatus.PROPOSED, MeetingStatus.BOOKED, MeetingStatus.HELD]))
        .group_by(MeetingFacilitator.facilitator_id))
    return {fid: n for fid, n in rows}


def active_cases_by_facilitator(facilitator_ids) -> dict[int, int]:
    """How many active case teams each facilitator is on (one query)."""
    ids = list(facilitator_ids)
    out = {i: 0 for i in ids}
    if not ids:
        return out
    rows = db.session.execute(
        select(CaseTeam.lead_facilitator_id, CaseTeam.co_facilitator_id)
        .where(CaseTeam.status == TeamStatus.ACTIVE,
               or_(CaseTeam.lead_facilitator_id.in_(ids), CaseTeam.co_facilitator_id.in_(ids))))
    for lead, co in rows:
        for fid in (lead, co):
            if fid in out:
                out[fid] += 1
    return out


# --------------------------------------------------------------------------- availability in bulk

@dataclass
class AvailabilityBook:
    """Every facilitator's weekly windows and days off, loaded in two queries, answering the same
    question as rj.scheduling.services.unavailability_reason for many people and many meetings
    (a test pins the two together). Windows are expanded on the meeting's local date."""

    windows: dict[int, list] = field(default_factory=dict)
    exceptions: dict[int, list] = field(default_factory=dict)

    @classmethod
    def load(cls, facilitator_ids, start_day: date | None = None, end_day: date | None = None) -> AvailabilityBook:
        from rj.scheduling.models import AvailabilityException, AvailabilityWindow

        ids = list(facilitator_ids)
        book = cls({i: [] for i in ids}, {i: [] for i in ids})
        if not ids:
            return book
        for w in db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.facilitator_id.in_(ids))):
            book.windows[w.facilitator_id].append((w.weekday, w.start_time, w.end_time))
        stmt = select(AvailabilityException).where(AvailabilityException.facilitator_id.in_(ids))
        if start_day is not None:
            stmt = stmt.where(AvailabilityException.ends_on >= start_day)
        if end_day is not None:
            stmt = stmt.where(AvailabilityException.starts_on <= end_day)
        for e in db.session.scalars(stmt):
            book.exceptions[e.facilitator_id].append((e.starts_on, e.ends_on, e.kind))
        return book

    def reason(self, facilitator_id: int, starts_at: datetime, ends_at: datetime) -> str | None:
        """None if available; otherwise a short reason (no names: the caller knows who)."""
        start, end = to_local(starts_at), to_local(ends_at)
        if end.date() != start.date():
            return "Not available: the meeting runs past midnight"
        day = start.date()
        for a, b, kind in self.exceptions.get(facilitator_id, []):
            if a <= day <= b:
                return f"{kind.label} on {day:%A %-d %B %Y}"
        windows = [(s, e) for wd, s, e in self.windows.get(facilitator_id, []) if wd == day.weekday()]
        if any(s <= start.time() and end.time() <= e for s, e in windows):
            return None
        if not windows:
            return f"Not available on {day:%A}s"
        offered = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in sorted(windows))
        return f"Not available {start:%H:%M}-{end:%H:%M} on {day:%A}s (available {offered})"


# --------------------------------------------------------------------------- pages

def pending_offers_for(facilitator) -> list[Offer]:
    from rj.scheduling.models import Meeting

    return list(db.session.scalars(
        select(Offer).where(Offer.facilitator_id == facilitator.id, Offer.status == OfferStatus.PENDING)
        .order_by(Offer.expires_at)
        .options(selectinload(Offer.case), selectinload(Offer.meeting).selectinload(Meeting.venue))))


def local_week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_now_date(now: datetime) -> date:
    return now.astimezone(LONDON).date()


def roster_meetings(start: datetime, end: datetime, *, venue_id: int | None = None,
                    facilitator_id: int | None = None, level: int | None = None) -> list:
    """Meetings (proposed, booked, held) starting in [start, end) with their facilitators, case and
    place, for the coordinators' roster. A fixed number of queries however many meetings."""
    from rj.cases.models import Case
    from rj.scheduling.models import Meeting, MeetingFacilitator, MeetingStatus

    stmt = (select(Meeting).join(Case, Case.id == Meeting.case_id)
            .where(Meeting.starts_at >= start, Meeting.starts_at < end,
                   Meeting.status.in_([MeetingStatus.PROPOSED, MeetingStatus.BOOKED, MeetingStatus.HELD]))
            .order_by(Meeting.starts_at, Meeting.id)
            .options(selectinload(Meeting.facilitators).selectinload(MeetingFacilitator.facilitator),
                     selectinload(Meeting.venue), selectinload(Meeting.room), selectinload(Meeting.case)))
    if venue_id:
        stmt = stmt.where(Meeting.venue_id == venue_id)
    if level:
        stmt = stmt.where(Case.level == level)
    if facilitator_id:
        stmt = stmt.where(Meeting.id.in_(select(MeetingFacilitator.meeting_id)
                                         .where(MeetingFacilitator.facilitator_id == facilitator_id)))
    return list(db.session.scalars(stmt))


@dataclass
class PartyBrief:
    """What a facilitator needs to know about a party before a meeting: a first name and access needs."""

    first_name: str
    needs: list[str]


@dataclass
class MyMeeting:
    meeting: object
    case_reference: str
    my_role: str
    other_facilitator: str | None
    place: str
    parties: list[PartyBrief]


def _access_needs(party) -> list[str]:
    needs = []
    if getattr(party, "interpreter_needed", False):
        lang = getattr(party, "interpreter_language", None)
        needs.append(f"Interpreter ({lang})" if lang else "Interpreter")
    if getattr(party, "wheelchair_access", False):
        needs.append("Wheelchair access")
    if getattr(party, "hearing_loop", False):
        needs.append("Hearing loop")
    if getattr(party, "separate_waiting_room", False):
        needs.append("Separate waiting room")
    return needs


def my_upcoming_meetings(facilitator, now: datetime) -> list[MyMeeting]:
    """The facilitator's own proposed and booked meetings that have not ended, soonest first.
    Only meetings they are on; parties reduced to first name and access needs."""
    from rj.scheduling.models import ACTIVE_MEETING_STATUSES, Meeting, MeetingFacilitator, MeetingParty

    meetings = db.session.scalars(
        select(Meeting).join(MeetingFacilitator, MeetingFacilitator.meeting_id == Meeting.id)
        .where(MeetingFacilitator.facilitator_id == facilitator.id, Meeting.status.in_(ACTIVE_MEETING_STATUSES),
               Meeting.ends_at > now)
        .order_by(Meeting.starts_at, Meeting.id)
        .options(selectinload(Meeting.facilitators).selectinload(MeetingFacilitator.facilitator),
                 selectinload(Meeting.parties).selectinload(MeetingParty.party),
                 selectinload(Meeting.venue), selectinload(Meeting.room), selectinload(Meeting.case))).all()
    out = []
    for m in meetings:
        mine = next(mf for mf in m.facilitators if mf.facilitator_id == facilitator.id)
        other = next((mf.facilitator for mf in m.facilitators if mf.facilitator_id != facilitator.id), None)
        if m.venue is not None:
            place = ", ".join(p for p in (m.venue.name, m.room.name if m.room else None, m.venue.address_line,
                                          m.venue.postcode) if p)
        else:
            place = m.mode.label
        parties = [PartyBrief((mp.party.name or "").split(" ")[0] or "Party", _access_needs(mp.party))
                   for mp in m.parties if mp.party is not None]
        out.append(MyMeeting(m, m.case.reference, mine.role.label, other.user.name if other else None, place, parties))
    return out


def roster_runs(limit: int = 10) -> list:
    from rj.rostering.models import RosterRun

    return list(db.session.scalars(select(RosterRun).order_by(RosterRun.id.desc()).limit(limit)
                                   .options(selectinload(RosterRun.items), selectinload(RosterRun.created_by))))


def case_offers(case) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.case_id == case.id).order_by(Offer.id.desc())
                                   .options(selectinload(Offer.facilitator))))
