"""Rostering rules: case teams, suggestions, offers, and the monthly auto-roster.

- A case has at most one active team, a lead and a co-facilitator, kept for all its meetings
  (continuity). A replacement is a recorded change with a coded reason, audited.
- Whether someone may facilitate is decided only by rj.facilitators.services.check_eligibility.
- A new facilitator is always paired with an experienced one (rj.facilitators.services.is_experienced).
- Offers are answered by the facilitator they were made to; an accepted lead and co pair forms the
  team; an offer not answered in time is released and the place goes to the next suggestion.
Services flush, never commit; every change is audited in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from flask import current_app, has_app_context
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from rj.audit.services import record
from rj.cases.models import Case
from rj.consent.models import RiskAssessment
from rj.core.errors import DomainError, NotAllowed, check_version
from rj.core.time import from_local, local_today, now_utc, to_local
from rj.extensions import db
from rj.rostering import solver as S
from rj.rostering.models import (
    REPLACEMENT_REASONS, CaseTeam, Offer, OfferStatus, RosterProposal, RosterRun, RosterRunStatus, TeamChange,
    TeamRole, TeamStatus,
)
from rj.rostering.queries import (
    AvailabilityBook, active_cases_by_facilitator, meetings_in_month_by_facilitator,
)

ROSTERED_LEVELS = (2, 3)  # Level 1 is an on-the-spot disposal: no conference, no rostering


def _cfg(key: str, default):
    return current_app.config.get(key, default) if has_app_context() else default


def _name(f) -> str:
    user = getattr(f, "user", None)
    return getattr(user, "name", None) or f"Facilitator {f.id}"


# --------------------------------------------------------------------------- teams

class TeamPair(NamedTuple):
    """current_team(case): (lead, co). Also readable as .lead_facilitator / .co_facilitator."""

    lead: object
    co: object

    @property
    def lead_facilitator(self):
        return self.lead

    @property
    def co_facilitator(self):
        return self.co

    @property
    def lead_facilitator_id(self):
        return self.lead.id

    @property
    def co_facilitator_id(self):
        return self.co.id


def active_team(case) -> CaseTeam | None:
    return db.session.scalar(
        select(CaseTeam).where(CaseTeam.case_id == case.id, CaseTeam.status == TeamStatus.ACTIVE)
        .options(selectinload(CaseTeam.lead_facilitator), selectinload(CaseTeam.co_facilitator)))


def current_team(case) -> TeamPair | None:
    """The case's lead and co-facilitator, or None if it has no team yet."""
    team = active_team(case)
    return TeamPair(team.lead_facilitator, team.co_facilitator) if team else None


def _experienced_map(facilitators) -> dict[int, bool]:
    from rj.facilitators.services import cases_facilitated_by_ids, is_experienced

    counts = cases_facilitated_by_ids([f.id for f in facilitators])
    return {f.id: is_experienced(f, cases=counts.get(f.id, 0)) for f in facilitators}


def _check_member(facilitator, case, *, on, field_name: str) -> None:
    from rj.facilitators.services import check_eligibility

    result = check_eligibility(facilitator, level=case.level, on=on, case=case)
    if not result.eligible:
        raise DomainError(f"{_name(facilitator)} cannot facilitate this case: " + "; ".join(result.reasons).lower(),
                          field=field_name, reasons=result.reasons)


def _check_pair(lead, co, *, field_name: str = "co_facilitator_id") -> None:
    if lead.id == co.id:
        raise DomainError("Choose two different facilitators for the lead and the co-facilitator", field=field_name)
    experienced = _experienced_map([lead, co])
    if not (experienced[lead.id] or experienced[co.id]):
        raise DomainError(f"{_name(lead)} and {_name(co)} are both new: pair a new facilitator with an "
                          "experienced one", field=field_name)


def _check_case(case) -> None:
    if not case.is_open:
        raise DomainError("This case is closed: it needs no team")
    if case.level not in ROSTERED_LEVELS:
        raise DomainError("Only Level 2 and Level 3 cases are rostered (Level 1 has no conference)")
    if db.session.scalar(select(RiskAssessment.id).where(RiskAssessment.case_id == case.id).limit(1)) is None:
        raise DomainError("Record a risk assessment for this case (risks to each party and to facilitators) "
                          "before facilitators are allocated")


def _has_risk_assessment():
    """Risks to facilitators are assessed before anyone is allocated to a case (issue 3 / rule 7)."""
    return exists().where(RiskAssessment.case_id == Case.id)


def _future_meetings(case, now: datetime):
    from rj.scheduling.models import ACTIVE_MEETING_STATUSES, Meeting, MeetingFacilitator

    return list(db.session.scalars(
        select(Meeting).where(Meeting.case_id == case.id, Meeting.status.in_(ACTIVE_MEETING_STATUSES),
                              Meeting.starts_at > now)
        .order_by(Meeting.starts_at)
        .options(selectinload(Meeting.facilitators).selectinload(MeetingFacilitator.facilitator))))


def _apply_team_to_meetings(case, lead, co, *, actor, now: datetime) -> None:
    """Continuity: the case's future meetings are run by its team. Each change goes through the
    scheduling service, so double-booking and availability are checked there."""
    from rj.scheduling.services import reschedule_meeting

    for meeting in _future_meetings(case, now):
        have = {mf.facilitator_id: mf.role.value for mf in meeting.facilitators}
        if have == {lead.id: "lead", co.id: "co"}:
            continue
        try:
            reschedule_meeting(meeting, actor=actor, lead=lead, co=co, confirm_warnings=True, now=now)
        except DomainError as exc:
            when = to_local(meeting.starts_at).strftime("%-d %B at %H:%M")
            raise DomainError(f"The team cannot take the meeting on {when}: {exc.message}",
                              reasons=exc.reasons) from exc


def _withdraw_open_offers(case, *, actor, now, keep_ids=()) -> None:
    offers = db.session.scalars(select(Offer).where(
        Offer.case_id == case.id, Offer.status == OfferStatus.PENDING, Offer.id.not_in(list(keep_ids) or [0])))
    for offer in offers:
        offer.transition(OfferStatus.WITHDRAWN)
        offer.responded_at = now
        record("offer.withdrawn", offer, actor=actor, case_id=case.id, fields=["status"], now=now,
               detail={"facilitator_id": offer.facilitator_id, "reason": "team_formed"})


def allocate_team(case, *, lead, co, actor, now: datetime | None = None) -> CaseTeam:
    """Give a case its team. Both must be eligible for the level and free of conflicts, and at least
    one experienced. The case's future meetings are given to the team."""
    now = now or now_utc()
    _check_case(case)
    if active_team(case) is not None:
        raise DomainError("This case already has a team: replace a member instead", field="lead_facilitator_id")
    _check_pair(lead, co)
    _check_member(lead, case, on=now, field_name="lead_facilitator_id")
    _check_member(co, case, on=now, field_name="co_facilitator_id")
    team = CaseTeam(case_id=case.id, lead_facilitator_id=lead.id, co_facilitator_id=co.id,
                    status=TeamStatus.ACTIVE, formed_at=now, formed_by_id=getattr(actor, "id", None))
    team.lead_facilitator, team.co_facilitator = lead, co
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamChange(team_id=team.id, case_id=case.id, kind="formed", at=now, by_id=getattr(actor, "id", None),
                              new_facilitator_id=lead.id, role=TeamRole.LEAD))
    db.session.add(TeamChange(team_id=team.id, case_id=case.id, kind="formed", at=now, by_id=getattr(actor, "id", None),
                              new_facilitator_id=co.id, role=TeamRole.CO))
    record("case_team.formed", team, actor=actor, case_id=case.id, now=now,
           detail={"lead_facilitator_id": lead.id, "co_facilitator_id": co.id})
    _withdraw_open_offers(case, actor=actor, now=now)
    _apply_team_to_meetings(case, lead, co, actor=actor, now=now)
    db.session.flush()
    return team


def replace_team_member(case, *, role: TeamRole, new, reason: str, actor, version=None,
                        now: datetime | None = None) -> CaseTeam:
    """Replace the lead or the co-facilitator, for a coded reason. The new member must be eligible,
    and the team must still have an experienced member. Future meetings move to the new team."""
    now = now or now_utc()
    team = active_team(case)
    if team is None:
        raise DomainError("This case has no team yet: allocate one first")
    if version is not None:
        check_version(team, version)
    if reason not in REPLACEMENT_REASONS:
        raise DomainError("Choose why the facilitator is being replaced", field="reason")
    role = TeamRole(role)
    old_id = team.lead_facilitator_id if role is TeamRole.LEAD else team.co_facilitator_id
    other = team.co_facilitator if role is TeamRole.LEAD else team.lead_facilitator
    if new.id == old_id:
        raise DomainError(f"{_name(new)} is already the {role.label.lower()}", field="facilitator_id")
    if new.id == other.id:
        raise DomainError(f"{_name(new)} is already on this team", field="facilitator_id")
    lead, co = (new, other) if role is TeamRole.LEAD else (other, new)
    _check_pair(lead, co, field_name="facilitator_id")
    _check_member(new, case, on=now, field_name="facilitator_id")
    if role is TeamRole.LEAD:
        team.lead_facilitator_id, team.lead_facilitator = new.id, new
    else:
        team.co_facilitator_id, team.co_facilitator = new.id, new
    db.session.add(TeamChange(team_id=team.id, case_id=case.id, kind="replaced", role=role, old_facilitator_id=old_id,
                              new_facilitator_id=new.id, reason=reason, at=now, by_id=getattr(actor, "id", None)))
    db.session.flush()
    record("case_team.member_replaced", team, actor=actor, case_id=case.id, now=now,
           fields=[f"{role.value}_facilitator_id"],
           detail={"role": role.value, "old_facilitator_id": old_id, "new_facilitator_id": new.id, "reason": reason})
    _apply_team_to_meetings(case, lead, co, actor=actor, now=now)
    return team


def end_team(case, *, actor, now: datetime | None = None) -> CaseTeam | None:
    """Stand the team down (the case closed or no longer needs one)."""
    now = now or now_utc()
    team = active_team(case)
    if team is None:
        return None
    team.status, team.ended_at = TeamStatus.ENDED, now
    db.session.add(TeamChange(team_id=team.id, case_id=case.id, kind="ended", at=now, by_id=getattr(actor, "id", None)))
    db.session.flush()
    record("case_team.ended", team, actor=actor, case_id=case.id, fields=["status"], now=now)
    return team


def team_history(case) -> list[TeamChange]:
    return list(db.session.scalars(
        select(TeamChange).where(TeamChange.case_id == case.id).order_by(TeamChange.at, TeamChange.id)
        .options(selectinload(TeamChange.old_facilitator), selectinload(TeamChange.new_facilitator),
                 selectinload(TeamChange.by))))


# --------------------------------------------------------------------------- suggestions

@dataclass
class Suggestion:
    facilitator: object
    experienced: bool
    meetings_this_month: int
    max_meetings: int
    active_cases: int
    reasons: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return _name(self.facilitator)


@dataclass
class Exclusion:
    facilitator: object
    reasons: list[str]

    @property
    def name(self) -> str:
        return _name(self.facilitator)


def _candidate_facilitators():
    from rj.facilitators.models import Facilitator, FacilitatorStatus
    from rj.facilitators.queries import eligibility_options

    return list(db.session.scalars(
        select(Facilitator).where(Facilitator.status != FacilitatorStatus.LEFT)
        .options(*eligibility_options()).order_by(Facilitator.id)).unique())


def suggest_facilitators(case, *, meeting=None, now: datetime | None = None, role: TeamRole | None = None,
                         partner=None, exclude_ids=()) -> tuple[list[Suggestion], list[Exclusion]]:
    """Who could facilitate this case (or this meeting of it), best first, each with its reasons; and
    separately who cannot, and why. `partner` is the member already chosen (by default the other
    member of the case's team when `role` is given): if they are new, only experienced people rank.
    A fixed number of queries whatever the number of facilitators."""
    from rj.facilitators.services import check_eligibility_many

    now = now or now_utc()
    team = active_team(case)
    if partner is None and team is not None and role is not None:
        partner = team.co_facilitator if TeamRole(role) is TeamRole.LEAD else team.lead_facilitator
    on_team = set(team.member_ids()) if team is not None else set()
    facilitators = _candidate_facilitators()
    ids = [f.id for f in facilitators]
    when = meeting.starts_at if meeting is not None else now
    day = to_local(when).date()
    level = case.level or 2
    eligibility = check_eligibility_many(facilitators, level=level, on=day, case=case)
    experienced = _experienced_map(facilitators + ([partner] if partner is not None and partner.id not in ids else []))
    month_meetings = meetings_in_month_by_facilitator(ids, day)
    cases_now = active_cases_by_facilitator(ids)
    busy: dict[int, str] = {}
    book = None
    if meeting is not None:
        from rj.scheduling.services import find_clashes

        for clash in find_clashes(starts_at=meeting.starts_at, ends_at=meeting.ends_at, facilitators=facilitators,
                                  exclude_meeting_id=meeting.id):
            busy.setdefault(clash.resource_id, clash.message)
        book = AvailabilityBook.load(ids, day, day)
    partner_new = partner is not None and not experienced[partner.id]
    month_name = day.strftime("%B")

    ranked: list[Suggestion] = []
    excluded: list[Exclusion] = []
    for f in facilitators:
        reasons: list[str] = []
        elig = eligibility[f.id]
        if f.id in on_team or (partner is not None and f.id == partner.id):
            excluded.append(Exclusion(f, ["Already on this case's team"]))
            continue
        if f.id in set(exclude_ids):
            excluded.append(Exclusion(f, ["Already offered this case"]))
            continue
        if not elig.eligible:
            reasons.extend(elig.reasons)
        if book is not None:
            why = book.reason(f.id, meeting.starts_at, meeting.ends_at)
            if why:
                reasons.append(why)
            if f.id in busy:
                reasons.append(busy[f.id])
        n = month_meetings.get(f.id, 0)
        if n >= f.max_meetings_per_month:
            reasons.append(f"At their monthly maximum: {n} of {f.max_meetings_per_month} meetings in {month_name}")
        if partner_new and not experienced[f.id]:
            reasons.append(f"New, and {_name(partner)} is new too: a new facilitator is paired with an experienced one")
        if reasons:
            excluded.append(Exclusion(f, reasons))
            continue
        good = [f"Qualified for Level {level}", "No conflict of interest declared for this case"]
        if meeting is not None:
            good.append("Available and free at the meeting's time")
        good.append(f"{n} of {f.max_meetings_per_month} meetings in {month_name}; "
                    f"on {cases_now.get(f.id, 0)} active case{'s' if cases_now.get(f.id, 0) != 1 else ''}")
        good.append("Experienced" if experienced[f.id] else "New: to be paired with an experienced facilitator")
        ranked.append(Suggestion(f, experienced[f.id], n, f.max_meetings_per_month, cases_now.get(f.id, 0), good))

    ranked.sort(key=lambda s: (s.meetings_this_month / max(1, s.max_meetings), s.active_cases,
                               not s.experienced, s.name.lower(), s.facilitator.id))
    excluded.sort(key=lambda e: (e.name.lower(), e.facilitator.id))
    return ranked, excluded


# --------------------------------------------------------------------------- offers

def _queue_offer(offer: Offer) -> None:
    try:
        from rj.notifications.services import queue_offer
    except ImportError:
        return
    queue_offer(offer)


def make_offer(facilitator, case, role: TeamRole, *, actor, meeting=None, expires_in: float | None = None,
               roster_run_id: int | None = None, now: datetime | None = None) -> Offer:
    """Offer a place on a case's team (lead or co) to a facilitator, to answer within
    OFFER_RESPONSE_HOURS. Only eligible people are offered; a new facilitator is never offered a
    place beside another new one."""
    now = now or now_utc()
    role = TeamRole(role)
    _check_case(case)
    if active_team(case) is not None:
        raise DomainError("This case already has a team: replace a member instead")
    _check_member(facilitator, case, on=now, field_name="facilitator_id")
    open_offers = list(db.session.scalars(select(Offer).where(
        Offer.case_id == case.id, Offer.status.in_([OfferStatus.PENDING, OfferStatus.ACCEPTED]))))
    if any(o.facilitator_id == facilitator.id for o in open_offers):
        raise DomainError(f"{_name(facilitator)} already has an offer for this case", field="facilitator_id")
    if any(o.role is role for o in open_offers):
        raise DomainError(f"The {role.label.lower()} place is already offered", field="facilitator_id")
    others = [o for o in open_offers if o.role is role.other]
    if others:
        experienced = _experienced_map([facilitator] + [o.facilitator for o in others])
        if not experienced[facilitator.id] and not any(experienced[o.facilitator_id] for o in others):
            raise DomainError(f"{_name(facilitator)} is new, and so is the {role.other.label.lower()} offered: "
                              "offer this place to an experienced facilitator", field="facilitator_id")
    hours = expires_in if expires_in is not None else _cfg("OFFER_RESPONSE_HOURS", 48)
    offer = Offer(facilitator_id=facilitator.id, case_id=case.id, meeting_id=getattr(meeting, "id", None), role=role,
                  status=OfferStatus.PENDING, expires_at=now + timedelta(hours=float(hours)), created_at=now,
                  created_by_id=getattr(actor, "id", None), roster_run_id=roster_run_id)
    offer.facilitator, offer.case = facilitator, case
    if meeting is not None:
        offer.meeting = meeting
    db.session.add(offer)
    db.session.flush()
    record("offer.made", offer, actor=actor, case_id=case.id, now=now,
           detail={"facilitator_id": facilitator.id, "role": role.value, "roster_run_id": roster_run_id})
    _queue_offer(offer)
    return offer


def _own(offer: Offer, actor) -> None:
    if getattr(offer.facilitator, "user_id", None) != getattr(actor, "id", None):
        raise NotAllowed("Only the facilitator it was offered to can answer this offer")


def _still_open(offer: Offer, now: datetime) -> None:
    if offer.status is not OfferStatus.PENDING:
        raise DomainError(f"This offer has already been {offer.status.label.lower()}")
    if offer.expires_at <= now:
        raise DomainError("This offer has expired: the place may have gone to someone else. Ask your coordinator.")


def accept_offer(offer: Offer, *, actor, version=None, now: datetime | None = None) -> Offer:
    """The facilitator accepts their own pending offer. When the lead and co places are both
    accepted, the pair becomes the case's team."""
    now = now or now_utc()
    _own(offer, actor)
    if version is not None:
        check_version(offer, version)
    _still_open(offer, now)
    offer.transition(OfferStatus.ACCEPTED)
    offer.responded_at = now
    db.session.flush()
    record("offer.accepted", offer, actor=actor, case_id=offer.case_id, fields=["status"], now=now,
           detail={"facilitator_id": offer.facilitator_id, "role": offer.role.value})
    partner = db.session.scalar(select(Offer).where(
        Offer.case_id == offer.case_id, Offer.role == offer.role.other, Offer.status == OfferStatus.ACCEPTED))
    if partner is not None and active_team(offer.case) is None:
        lead, co = (offer, partner) if offer.role is TeamRole.LEAD else (partner, offer)
        allocate_team(offer.case, lead=lead.facilitator, co=co.facilitator, actor=actor, now=now)
    return offer


def decline_offer(offer: Offer, *, actor, version=None, now: datetime | None = None) -> Offer:
    """The facilitator declines their own pending offer; the place goes to the next suggestion."""
    now = now or now_utc()
    _own(offer, actor)
    if version is not None:
        check_version(offer, version)
    _still_open(offer, now)
    offer.transition(OfferStatus.DECLINED)
    offer.responded_at = now
    db.session.flush()
    record("offer.declined", offer, actor=actor, case_id=offer.case_id, fields=["status"], now=now,
           detail={"facilitator_id": offer.facilitator_id, "role": offer.role.value})
    offer_next(offer.case, offer.role, actor=None, now=now, roster_run_id=offer.roster_run_id)
    return offer


def withdraw_offer(offer: Offer, *, actor, now: datetime | None = None) -> Offer:
    """The coordinator takes back a pending offer."""
    now = now or now_utc()
    if offer.status is not OfferStatus.PENDING:
        raise DomainError(f"This offer has already been {offer.status.label.lower()}")
    offer.transition(OfferStatus.WITHDRAWN)
    offer.responded_at = now
    db.session.flush()
    record("offer.withdrawn", offer, actor=actor, case_id=offer.case_id, fields=["status"], now=now,
           detail={"facilitator_id": offer.facilitator_id, "reason": "coordinator"})
    return offer


def offer_next(case, role: TeamRole, *, actor, now: datetime, roster_run_id: int | None = None) -> Offer | None:
    """Offer a place to the best suggestion who has not been offered this case before, or nobody
    (the coordinator sees the place unfilled) if there is no one."""
    if not case.is_open or case.level not in ROSTERED_LEVELS or active_team(case) is not None:
        return None
    previous = list(db.session.scalars(select(Offer).where(Offer.case_id == case.id)))
    if any(o.role is role and o.status in (OfferStatus.PENDING, OfferStatus.ACCEPTED) for o in previous):
        return None
    partner_offer = next((o for o in previous if o.role is role.other
                          and o.status in (OfferStatus.PENDING, OfferStatus.ACCEPTED)), None)
    ranked, _ = suggest_facilitators(case, now=now, partner=partner_offer.facilitator if partner_offer else None,
                                     exclude_ids={o.facilitator_id for o in previous})
    if not ranked:
        record("offer.no_one_to_offer", object_type="rj_case", object_id=case.id, actor=actor, case_id=case.id,
               now=now, detail={"role": role.value})
        return None
    return make_offer(ranked[0].facilitator, case, role, actor=actor, now=now, roster_run_id=roster_run_id)


def release_expired_offers(now: datetime | None = None) -> list[Offer]:
    """Sweeper (the notifications worker runs it): pending offers past their time are released and
    the place is offered to the next suggestion. Running it twice does nothing more."""
    now = now or now_utc()
    due = list(db.session.scalars(
        select(Offer).where(Offer.status == OfferStatus.PENDING, Offer.expires_at <= now).order_by(Offer.id)))
    for offer in due:
        offer.transition(OfferStatus.RELEASED)
        offer.responded_at = now
        db.session.flush()
        record("offer.released", offer, actor=None, case_id=offer.case_id, fields=["status"], now=now,
               detail={"facilitator_id": offer.facilitator_id, "role": offer.role.value})
    for offer in due:
        try:
            with db.session.begin_nested():
                offer_next(offer.case, offer.role, actor=None, now=now, roster_run_id=offer.roster_run_id)
        except DomainError:
            # No one suitable could be offered: the coordinator sees the place unfilled.
            pass
    return due


# --------------------------------------------------------------------------- auto-roster

def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local dates [start, end] inclusive as UTC instants [from, to)."""
    return from_local(start, time(0)), from_local(end + timedelta(days=1), time(0))


def _local_month(dt: datetime) -> tuple[int, int]:
    local = to_local(dt)
    return (local.year, local.month)


@dataclass
class RosterInput:
    problem: S.Problem
    cases: dict[int, Case]
    facilitators: dict[int, object]


def build_roster_input(start: date, end: date, *, now: datetime | None = None) -> RosterInput:
    """Read the period from the database into the solver's plain data: unallocated open Level 2/3
    cases (with their active meetings in the period; a case with none yet counts as one expected
    meeting this month), active facilitators with eligibility per case (check_eligibility, on the
    first and the last meeting day), availability per meeting, existing bookings and monthly loads."""
    from rj.facilitators.services import check_eligibility_many
    from rj.scheduling.models import ACTIVE_MEETING_STATUSES, Meeting, MeetingFacilitator, MeetingStatus
    from rj.scheduling.services import travel_gap

    from rj.facilitators.models import Facilitator, FacilitatorStatus
    from rj.facilitators.queries import eligibility_options

    now = now or now_utc()
    t0, t1 = period_bounds(start, end)
    has_team = exists().where(CaseTeam.case_id == Case.id, CaseTeam.status == TeamStatus.ACTIVE)
    has_offer = exists().where(Offer.case_id == Case.id, Offer.status.in_([OfferStatus.PENDING, OfferStatus.ACCEPTED]))
    cases = list(db.session.scalars(
        select(Case).where(Case.status.in_(Case.ACTIVE_STATUSES), Case.level.in_(ROSTERED_LEVELS), ~has_team,
                           ~has_offer, _has_risk_assessment()).order_by(Case.id)))
    case_ids = [c.id for c in cases]
    meetings = list(db.session.scalars(
        select(Meeting).where(Meeting.case_id.in_(case_ids or [0]), Meeting.status.in_(ACTIVE_MEETING_STATUSES),
                              Meeting.starts_at >= t0, Meeting.starts_at < t1).order_by(Meeting.starts_at)))
    any_meeting = set(db.session.scalars(
        select(Meeting.case_id).where(Meeting.case_id.in_(case_ids or [0]),
                                      Meeting.status.in_(ACTIVE_MEETING_STATUSES)).distinct()))
    by_case: dict[int, list] = {}
    for m in meetings:
        by_case.setdefault(m.case_id, []).append(m)
    # In the period: cases with meetings in it, and cases with no meeting booked at all yet.
    cases = [c for c in cases if c.id in by_case or c.id not in any_meeting]

    facilitators = list(db.session.scalars(
        select(Facilitator).where(Facilitator.status == FacilitatorStatus.ACTIVE)
        .options(*eligibility_options()).order_by(Facilitator.id)).unique())
    fids = [f.id for f in facilitators]
    experienced = _experienced_map(facilitators)
    eligible: dict[int, set[int]] = {f.id: set() for f in facilitators}
    start_month = _local_month(t0)
    for case in cases:
        days = sorted({to_local(m.starts_at).date() for m in by_case.get(case.id, [])}) or [max(start, local_today(now))]
        ok = None
        for day in {days[0], days[-1]}:
            result = check_eligibility_many(facilitators, level=case.level, on=day, case=case)
            passing = {fid for fid, e in result.items() if e.eligible}
            ok = passing if ok is None else ok & passing
        for fid in ok or ():
            eligible[fid].add(case.id)

    # Existing bookings: the months the period touches count against each person's maximum, and
    # meetings they are already on (other cases) are busy time.
    gap = travel_gap()
    m0 = from_local(start.replace(day=1), time(0))
    last = (end.replace(day=1) + timedelta(days=32)).replace(day=1)
    m1 = from_local(last, time(0))
    rows = db.session.execute(
        select(MeetingFacilitator.facilitator_id, Meeting.case_id, Meeting.starts_at, Meeting.ends_at, Meeting.status)
        .join(Meeting, Meeting.id == MeetingFacilitator.meeting_id)
        .where(MeetingFacilitator.facilitator_id.in_(fids or [0]), Meeting.starts_at >= m0 - gap,
               Meeting.starts_at < m1 + gap,
               Meeting.status.in_([*ACTIVE_MEETING_STATUSES, MeetingStatus.HELD]))).all()
    rostering = {c.id for c in cases}
    existing: dict[int, dict] = {fid: {} for fid in fids}
    busy: dict[int, list] = {fid: [] for fid in fids}
    for fid, cid, s, e, status in rows:
        if cid in rostering:
            continue  # their places are being rostered now
        if m0 <= s < m1:
            key = _local_month(s)
            existing[fid][key] = existing[fid].get(key, 0) + 1
        if status in ACTIVE_MEETING_STATUSES:
            busy[fid].append((s, e))

    book = AvailabilityBook.load(fids, start, end)
    s_cases = []
    for case in cases:
        ms = tuple(S.SMeeting(id=m.id, case_id=case.id, starts_at=m.starts_at, ends_at=m.ends_at,
                              month=_local_month(m.starts_at)) for m in by_case.get(case.id, []))
        s_cases.append(S.SCase(id=case.id, level=case.level, meetings=ms,
                               placeholder_month=None if ms else start_month))
    s_facs = []
    for f in facilitators:
        unavailable = frozenset(m.id for m in meetings if book.reason(f.id, m.starts_at, m.ends_at))
        s_facs.append(S.SFacilitator(id=f.id, eligible_case_ids=frozenset(eligible[f.id]),
                                     max_per_month=f.max_meetings_per_month, experienced=experienced[f.id],
                                     unavailable_meeting_ids=unavailable, existing_by_month=existing[f.id],
                                     busy=tuple(busy[f.id])))
    problem = S.Problem(cases=tuple(s_cases), facilitators=tuple(s_facs), travel_gap=gap)
    return RosterInput(problem, {c.id: c for c in cases}, {f.id: f for f in facilitators})


def auto_roster(start: date, end: date, *, actor, now: datetime | None = None,
                time_limit: float | None = None) -> RosterRun:
    """Propose teams for every unallocated case in the period at once (CP-SAT, started from the
    greedy plan, greedy as fallback) and keep the proposal as a draft for the coordinator to review.
    Nothing is offered until confirm_roster_run."""
    now = now or now_utc()
    if end < start:
        raise DomainError("The end of the period must be on or after its start", field="end")
    if (end - start).days > 62:
        raise DomainError("Roster at most two months at a time", field="end")
    data = build_roster_input(start, end, now=now)
    limit = time_limit if time_limit is not None else float(_cfg("AUTO_ROSTER_SECONDS", 10))
    plan = S.solve(data.problem, time_limit=limit)
    candidates = S.candidates_for(data.problem)
    run = RosterRun(period_start=start, period_end=end, status=RosterRunStatus.DRAFT, method=plan.method,
                    solver_status=plan.status[:60], solve_seconds=round(plan.solve_seconds, 3), created_at=now,
                    created_by_id=getattr(actor, "id", None))
    for case in data.problem.cases:
        team = plan.teams.get(case.id)
        reason = None
        if team is None:
            cands = candidates[case.id]
            reason = ("too_few_candidates" if len(cands) < 2 else
                      "no_experienced_candidate" if not any(f.experienced for f in cands) else "no_room_in_roster")
        run.items.append(RosterProposal(case_id=case.id, lead_facilitator_id=team[0] if team else None,
                                        co_facilitator_id=team[1] if team else None,
                                        meetings=len(case.meetings), unfilled_reason=reason))
    db.session.add(run)
    db.session.flush()
    record("roster_run.proposed", run, actor=actor, now=now,
           detail={"cases": len(run.items), "filled": len(plan.teams), "method": plan.method,
                   "start": start.isoformat(), "end": end.isoformat()})
    return run


UNFILLED_REASONS = {
    "too_few_candidates": "Fewer than two eligible facilitators are free for all its meetings",
    "no_experienced_candidate": "No experienced facilitator is eligible and free for all its meetings",
    "no_room_in_roster": "The people who could take it are needed for other cases or at their maximum",
}


def confirm_roster_run(run: RosterRun, *, actor, version=None, now: datetime | None = None) -> list[Offer]:
    """Turn a reviewed proposal into offers (lead and co for each filled case). Cases that got a
    team or offers since the proposal was made are left alone."""
    now = now or now_utc()
    if version is not None:
        check_version(run, version)
    if run.status is not RosterRunStatus.DRAFT:
        raise DomainError(f"This proposal has already been {run.status.label.lower()}")
    offers: list[Offer] = []
    skipped = 0
    for item in run.items:
        if not item.filled:
            continue
        case = item.case
        try:
            with db.session.begin_nested():
                made = [make_offer(item.lead_facilitator, case, TeamRole.LEAD, actor=actor, now=now,
                                   roster_run_id=run.id),
                        make_offer(item.co_facilitator, case, TeamRole.CO, actor=actor, now=now,
                                   roster_run_id=run.id)]
            offers.extend(made)
        except DomainError:
            skipped += 1
    run.status, run.decided_at = RosterRunStatus.CONFIRMED, now
    db.session.flush()
    record("roster_run.confirmed", run, actor=actor, fields=["status"], now=now,
           detail={"offers": len(offers), "skipped_cases": skipped})
    return offers


def discard_roster_run(run: RosterRun, *, actor, version=None, now: datetime | None = None) -> RosterRun:
    now = now or now_utc()
    if version is not None:
        check_version(run, version)
    if run.status is not RosterRunStatus.DRAFT:
        raise DomainError(f"This proposal has already been {run.status.label.lower()}")
    run.status, run.decided_at = RosterRunStatus.DISCARDED, now
    db.session.flush()
    record("roster_run.discarded", run, actor=actor, fields=["status"], now=now)
    return run
