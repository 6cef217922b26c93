"""Facilitators and their training: the rules, and the one function that decides who may facilitate.

Every change here is audited in the same transaction (ids and field names only) and flushed, never
committed: the request or the job commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app, has_app_context
from sqlalchemy import func, select

from rj.audit.services import changed_fields, record
from rj.core.errors import DomainError, NotAllowed, check_version
from rj.core.permissions import Role
from rj.core.time import local_today, now_utc
from rj.extensions import db
from rj.facilitators.models import (
    LANGUAGES, STOCKPORT_AREAS, ConflictKind, ConflictOfInterest, Course, CourseCategory, CpdEntry, DbsCheck,
    DbsLevel, Facilitator, FacilitatorKind, FacilitatorStatus, GoalStatus, ObservationOutcome, ObservedPractice,
    PractitionerLevel, SupervisionSession, TrainingPlanGoal, TrainingRecord, add_months,
)

SUPERVISION_INTERVAL = timedelta(weeks=12)
EXPERIENCED_AFTER_CASES = 3
MAX_CPD_HOURS_PER_ENTRY = Decimal("24")
_CERTIFICATE = re.compile(r"^[0-9]{12}$")


# --------------------------------------------------------------------------- who is a facilitator

def facilitator_for_user(user) -> Facilitator | None:
    """The facilitator profile of a signed-in user, or None (coordinators, managers, admins)."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return None
    return db.session.scalar(select(Facilitator).where(Facilitator.user_id == user_id))


def cases_facilitated(facilitator: Facilitator) -> int:
    """Distinct cases with a held meeting this facilitator was on (0 until scheduling exists)."""
    return cases_facilitated_by_ids([facilitator.id]).get(facilitator.id, 0)


def cases_facilitated_by_ids(facilitator_ids) -> dict[int, int]:
    """The same count for many facilitators in one query."""
    ids = list(facilitator_ids)
    if not ids:
        return {}
    try:
        from rj.scheduling.models import Meeting, MeetingFacilitator
    except ImportError:
        return {}
    status_type = Meeting.__table__.c.status.type
    held = getattr(status_type, "enum_class", None)
    held = held("held") if held is not None else "held"
    stmt = (
        select(MeetingFacilitator.facilitator_id, func.count(func.distinct(Meeting.case_id)))
        .join(Meeting, Meeting.id == MeetingFacilitator.meeting_id)
        .where(MeetingFacilitator.facilitator_id.in_(ids), Meeting.status == held)
        .group_by(MeetingFacilitator.facilitator_id)
    )
    if hasattr(MeetingFacilitator, "attended"):
        stmt = stmt.where(MeetingFacilitator.attended.is_not(False))
    return {fid: count for fid, count in db.session.execute(stmt)}


def is_experienced(facilitator: Facilitator, *, cases: int | None = None) -> bool:
    """Experienced: a coordinator said so, or EXPERIENCED_AFTER_CASES cases facilitated here.
    A newly trained facilitator is paired with an experienced one (rostering keeps that rule)."""
    if facilitator.experienced:
        return True
    return (cases if cases is not None else cases_facilitated(facilitator)) >= EXPERIENCED_AFTER_CASES


# --------------------------------------------------------------------------- eligibility

@dataclass
class Eligibility:
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    # Stable machine-readable codes, one per reason, for rostering to filter on.
    codes: list[str] = field(default_factory=list)


def dbs_renewal_years() -> int:
    if has_app_context():
        return int(current_app.config.get("DBS_RENEWAL_YEARS", 3))
    return 3


def _as_date(on) -> date:
    if isinstance(on, datetime):
        return local_today(on)
    return on


def _fmt(day: date) -> str:
    return day.strftime("%-d %B %Y")


def qualifying_records(facilitator: Facilitator, level: int) -> list[TrainingRecord]:
    return [r for r in facilitator.training_records
            if r.course.category is CourseCategory.QUALIFYING and level in (r.course.levels or [])]


def safeguarding_records(facilitator: Facilitator) -> list[TrainingRecord]:
    return [r for r in facilitator.training_records if r.course.category is CourseCategory.SAFEGUARDING]


def _training_reason(records: list[TrainingRecord], on: date, what: str, code: str):
    """None if one record is valid on `on`; otherwise (code, reason) saying missing or expired."""
    done = [r for r in records if r.completed_on <= on]
    if any(r.valid_on(on) for r in done):
        return None
    if done:
        last = max(done, key=lambda r: r.expires_on or date.max)
        return f"{code}_expired", f"{what} expired on {_fmt(last.expires_on)}"
    return f"{code}_missing", f"No {what[0].lower()}{what[1:]} on record"


def current_dbs(facilitator: Facilitator, on: date | None = None) -> DbsCheck | None:
    checks = [c for c in facilitator.dbs_checks if on is None or c.issued_on <= on]
    return max(checks, key=lambda c: (c.issued_on, c.id or 0)) if checks else None


def supervision_due(facilitator: Facilitator, on: date | None = None) -> date | None:
    """The last day supervision is in time: 12 weeks after the last session, or, for a new
    facilitator not yet supervised, 12 weeks after their first qualifying training."""
    sessions = [s.held_on for s in facilitator.supervision_sessions if on is None or s.held_on <= on]
    firsts = [r.completed_on for r in facilitator.training_records
              if r.course.category is CourseCategory.QUALIFYING and (on is None or r.completed_on <= on)]
    starts = []
    if sessions:
        starts.append(max(sessions))
    if firsts:
        starts.append(min(firsts))
    if not starts:
        return None
    return max(starts) + SUPERVISION_INTERVAL


def conflict_terms_for_case(case) -> dict[ConflictKind, list[str]]:
    """What a case's conflicts are checked against: party names, addresses and postcodes, and the
    referrer's organisation. Domains that are not there yet contribute nothing."""
    terms: dict[ConflictKind, list[str]] = {k: [] for k in ConflictKind}
    if case is None:
        return terms
    try:
        from rj.consent.models import Party
    except ImportError:
        Party = None
    if Party is not None:
        stmt = select(Party).where(Party.case_id == case.id)
        if hasattr(Party, "removed_at"):
            stmt = stmt.where(Party.removed_at.is_(None))
        for party in db.session.scalars(stmt):
            for attr, kind in (("name", ConflictKind.PERSON), ("address_line", ConflictKind.ADDRESS),
                               ("postcode", ConflictKind.ADDRESS)):
                value = getattr(party, attr, None)
                if value:
                    terms[kind].append(value)
    referral = getattr(case, "referral", None)
    if referral is not None:
        if getattr(referral, "referrer_organisation", None):
            terms[ConflictKind.ORGANISATION].append(referral.referrer_organisation)
        if getattr(referral, "referrer_name", None):
            terms[ConflictKind.PERSON].append(referral.referrer_name)
    return terms


def _norm(value: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", value.casefold()).split())


def conflict_matches(conflict: ConflictOfInterest, terms: dict[ConflictKind, list[str]]) -> bool:
    """Case-insensitive: a person by their whole name; an address or street, or an organisation,
    where the declared words appear in the case's address, postcode or organisation."""
    wanted = _norm(conflict.value)
    if not wanted:
        return False
    for term in terms.get(conflict.kind, []):
        have = _norm(term)
        if conflict.kind is ConflictKind.PERSON:
            if have == wanted:
                return True
        elif have == wanted or f" {wanted} " in f" {have} " or (
                conflict.kind is ConflictKind.ORGANISATION and f" {have} " in f" {wanted} "):
            return True
        elif conflict.kind is ConflictKind.ADDRESS and wanted.replace(" ", "") == have.replace(" ", ""):
            return True  # postcodes typed with or without the space
    return False


def check_eligibility(facilitator: Facilitator, *, level: int, on, case=None,
                      _terms: dict | None = None) -> Eligibility:
    """Whether `facilitator` may facilitate a case of RJ `level` on day `on`, and every reason if not.

    The rule (domain rule 4), each item valid up to and including its expiry day:
    - status is active (not paused, not left);
    - a qualifying course for the level, completed on or before `on` and not expired on `on`;
    - safeguarding training in date (data protection and other courses are supplementary);
    - a DBS check issued on or before `on` whose renewal date (issue + DBS_RENEWAL_YEARS) is not past;
    - supervision within the last 12 weeks (84 days): the last session, or for someone never yet
      supervised their first qualifying course, is at most 84 days before `on`;
    - no declared conflict of interest matching the case's parties or referrer (when a case is given).
    Rostering asks this and nothing else.
    """
    on = _as_date(on)
    codes: list[str] = []
    reasons: list[str] = []

    def add(code, reason):
        codes.append(code)
        reasons.append(reason)

    if facilitator.status is FacilitatorStatus.PAUSED:
        add("paused", "Paused: not taking cases at the moment")
    elif facilitator.status is FacilitatorStatus.LEFT:
        add("left", "Has left the service")

    if level not in (1, 2, 3):
        add("level_unknown", f"Level {level} is not an RJ level")
    else:
        found = _training_reason(qualifying_records(facilitator, level), on,
                                 f"Qualifying training for Level {level}", "training")
        if found:
            add(*found)
    found = _training_reason(safeguarding_records(facilitator), on, "Safeguarding training", "safeguarding")
    if found:
        add(*found)

    dbs = current_dbs(facilitator, on)
    if dbs is None:
        add("dbs_missing", "No DBS check on record")
    else:
        due = dbs.renewal_due(dbs_renewal_years())
        if due < on:
            add("dbs_due", f"DBS check was due for renewal on {_fmt(due)}")

    due = supervision_due(facilitator, on)
    if due is None:
        add("supervision_missing", "No supervision on record")
    elif due < on:
        add("supervision_overdue", f"Supervision overdue since {_fmt(due)} (needed every 12 weeks)")

    if case is not None:
        terms = _terms if _terms is not None else conflict_terms_for_case(case)
        kinds = sorted({c.kind.value for c in facilitator.conflicts if conflict_matches(c, terms)})
        for kind in kinds:
            add(f"conflict_{kind}", f"Declared conflict of interest ({ConflictKind(kind).label.lower()})")

    return Eligibility(eligible=not codes, reasons=reasons, codes=codes)


def check_eligibility_many(facilitators, *, level: int, on, case=None) -> dict[int, Eligibility]:
    """check_eligibility for a list, reading the case's parties once. Load the facilitators with
    queries.eligibility_options() to keep the query count fixed."""
    terms = conflict_terms_for_case(case) if case is not None else None
    return {f.id: check_eligibility(f, level=level, on=on, case=case, _terms=terms) for f in facilitators}


# --------------------------------------------------------------------------- CPD

@dataclass
class CpdTotals:
    window_start: date      # exclusive: entries after this day and up to `on` count
    on: date
    total: Decimal
    approved: Decimal
    target: int

    @property
    def approved_needed(self) -> Decimal:
        return Decimal(self.target) / 2

    @property
    def met(self) -> bool:
        return self.total >= self.target and self.approved >= self.approved_needed

    @property
    def hours_short(self) -> Decimal:
        return max(Decimal(self.target) - self.total, Decimal(0))


def cpd_totals(facilitator: Facilitator, *, on) -> CpdTotals:
    """Rolling 12 months ending on `on` (inclusive), against the practitioner level's target
    (6 / 12 / 16 hours), at least half RJC-approved."""
    on = _as_date(on)
    start = add_months(on, -12)
    entries = [e for e in facilitator.cpd_entries if start < e.done_on <= on]
    total = sum((Decimal(e.hours) for e in entries), Decimal(0))
    approved = sum((Decimal(e.hours) for e in entries if e.rjc_approved), Decimal(0))
    return CpdTotals(window_start=start, on=on, total=total, approved=approved,
                     target=facilitator.practitioner_level.cpd_target_hours)


# --------------------------------------------------------------------------- profiles

def _check_choices(values, allowed: list[str], field_name: str, what: str) -> list[str]:
    values = list(dict.fromkeys(values or []))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise DomainError(f"Choose {what} from the list", field=field_name)
    return values


def _check_max_meetings(n) -> int:
    if n is None or not 0 <= int(n) <= 31:
        raise DomainError("Enter the most meetings a month as a number from 0 to 31", field="max_meetings_per_month")
    return int(n)


def create_facilitator(*, name: str, email: str, kind: FacilitatorKind,
                       practitioner_level: PractitionerLevel = PractitionerLevel.FOUNDATION,
                       status: FacilitatorStatus = FacilitatorStatus.ACTIVE, phone: str | None = None,
                       languages=(), areas=(), max_meetings_per_month: int = 4, experienced: bool = False,
                       joined_on: date | None = None, actor, invite: bool = True, password: str | None = None,
                       now: datetime | None = None) -> tuple[Facilitator, str | None]:
    """A facilitator account and profile together. With `invite`, a single-use set-password link is
    issued (returned, to show once) and the invitation email queued when notifications exist."""
    from rj.auth.services import create_user, issue_account_token

    now = now or now_utc()
    languages = _check_choices(languages, LANGUAGES, "languages", "languages")
    areas = _check_choices(areas, STOCKPORT_AREAS, "areas", "areas")
    user = create_user(email=email, name=name, role=Role.FACILITATOR, actor=actor, password=password, now=now)
    facilitator = Facilitator(
        user=user, kind=kind, status=status, phone=phone or None, languages=languages, areas=areas,
        max_meetings_per_month=_check_max_meetings(max_meetings_per_month), practitioner_level=practitioner_level,
        experienced=experienced, joined_on=joined_on or local_today(now), created_at=now,
    )
    db.session.add(facilitator)
    db.session.flush()
    record("facilitator.created", facilitator, actor=actor, now=now,
           detail={"user_id": user.id, "kind": kind.value})
    token = None
    if invite:
        hours = current_app.config["SET_PASSWORD_TOKEN_HOURS"] if has_app_context() else 72
        token = issue_account_token(user, actor=actor, hours=hours, now=now)
        try:
            from rj.notifications.services import queue_account_invitation
        except ImportError:
            pass
        else:
            queue_account_invitation(user, token)
    return facilitator, token


PROFILE_FIELDS = ("kind", "status", "phone", "languages", "areas", "max_meetings_per_month",
                  "practitioner_level", "experienced", "joined_on")


def update_facilitator(facilitator: Facilitator, *, version, actor, now: datetime | None = None,
                       name: str | None = None, **data) -> list[str]:
    """A coordinator's edit of a profile; refused if someone saved it since the form was opened."""
    check_version(facilitator, version)
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    if "languages" in data:
        data["languages"] = _check_choices(data["languages"], LANGUAGES, "languages", "languages")
    if "areas" in data:
        data["areas"] = _check_choices(data["areas"], STOCKPORT_AREAS, "areas", "areas")
    if "max_meetings_per_month" in data:
        data["max_meetings_per_month"] = _check_max_meetings(data["max_meetings_per_month"])
    if "phone" in data:
        data["phone"] = data["phone"] or None
    fields = changed_fields(facilitator, data)
    if name and name != facilitator.user.name:
        facilitator.user.name = name
        fields.append("name")
    if fields:
        record("facilitator.updated", facilitator, actor=actor, fields=fields, now=now)
    return fields


def update_own_details(facilitator: Facilitator, *, version, phone, languages, areas, actor,
                       now: datetime | None = None) -> list[str]:
    """What a facilitator may change about themselves: phone, languages and travel areas."""
    return update_facilitator(facilitator, version=version, actor=actor, now=now,
                              phone=phone, languages=languages, areas=areas)


def add_conflict(facilitator: Facilitator, *, kind: ConflictKind, value: str, private_note: str | None = None,
                 actor, now: datetime | None = None) -> ConflictOfInterest:
    """Declare a conflict of interest. The same thing twice is refused."""
    now = now or now_utc()
    value = (value or "").strip()
    if not value:
        raise DomainError("Enter the name, address or organisation", field="value")
    if any(c.kind is kind and _norm(c.value) == _norm(value) for c in facilitator.conflicts):
        raise DomainError("This conflict of interest is already declared", field="value")
    conflict = ConflictOfInterest(facilitator=facilitator, kind=kind, value=value,
                                  private_note=private_note or None, created_at=now)
    db.session.add(conflict)
    db.session.flush()
    record("facilitator.conflict_added", conflict, actor=actor, now=now,
           detail={"facilitator_id": facilitator.id, "kind": kind.value})
    return conflict


def remove_conflict(conflict: ConflictOfInterest, *, actor, now: datetime | None = None) -> None:
    record("facilitator.conflict_removed", conflict, actor=actor, now=now,
           detail={"facilitator_id": conflict.facilitator_id})
    facilitator = conflict.facilitator
    facilitator.conflicts.remove(conflict)
    db.session.delete(conflict)
    db.session.flush()


# --------------------------------------------------------------------------- course catalogue

def _course_data(name, provider, category, levels, validity_months) -> dict:
    levels = sorted({int(n) for n in (levels or [])})
    if any(n not in (1, 2, 3) for n in levels):
        raise DomainError("Choose RJ levels 1, 2 or 3", field="levels")
    if category is CourseCategory.QUALIFYING and not levels:
        raise DomainError("Choose the RJ levels this course qualifies someone for", field="levels")
    if category is not CourseCategory.QUALIFYING:
        levels = []
    if validity_months is not None and not 1 <= int(validity_months) <= 120:
        raise DomainError("Enter how many months the course stays valid, from 1 to 120, or leave it empty "
                          "if it does not expire", field="validity_months")
    return {"name": (name or "").strip(), "provider": (provider or "").strip(), "category": category,
            "levels": levels, "validity_months": int(validity_months) if validity_months is not None else None}


def _check_course_name(name: str, exclude_id: int | None = None) -> None:
    stmt = select(Course.id).where(func.lower(Course.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Course.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise DomainError("A course with this name is already in the catalogue", field="name")


def add_course(*, name: str, provider: str, category: CourseCategory, levels=(), validity_months: int | None,
               actor, now: datetime | None = None) -> Course:
    """Add a course to the catalogue (managers). Only qualifying courses carry RJ levels."""
    data = _course_data(name, provider, category, levels, validity_months)
    _check_course_name(data["name"])
    course = Course(active=True, **data)
    db.session.add(course)
    db.session.flush()
    record("course.added", course, actor=actor, now=now)
    return course


def update_course(course: Course, *, version, name, provider, category, levels, validity_months, active: bool,
                  actor, now: datetime | None = None) -> list[str]:
    """Edit a catalogue entry. Existing records keep their expiry dates: they were set when recorded."""
    check_version(course, version)
    data = _course_data(name, provider, category, levels, validity_months)
    _check_course_name(data["name"], exclude_id=course.id)
    data["active"] = bool(active)
    fields = changed_fields(course, data)
    if fields:
        record("course.updated", course, actor=actor, fields=fields, now=now)
    return fields


# --------------------------------------------------------------------------- training records

def _not_future(day: date | None, field_name: str, what: str, now: datetime) -> None:
    if day is not None and day > local_today(now):
        raise DomainError(f"{what} must be today or in the past", field=field_name)


def _training_data(facilitator, course, completed_on, expires_on, evidence_reference, now, exclude_id=None) -> dict:
    if course is None:
        raise DomainError("Choose the course", field="course_id")
    if completed_on is None:
        raise DomainError("Enter the date the course was completed", field="completed_on")
    _not_future(completed_on, "completed_on", "The completion date", now)
    if expires_on is None:
        expires_on = course.expiry_for(completed_on)
    if expires_on is not None and expires_on < completed_on:
        raise DomainError("The expiry date must be the same as or after the completion date", field="expires_on")
    duplicate = db.session.scalar(select(TrainingRecord.id).where(
        TrainingRecord.facilitator_id == facilitator.id, TrainingRecord.course_id == course.id,
        TrainingRecord.completed_on == completed_on,
        TrainingRecord.id != (exclude_id or 0)))
    if duplicate is not None:
        raise DomainError("This course is already recorded with this completion date", field="completed_on")
    return {"course_id": course.id, "course": course, "completed_on": completed_on, "expires_on": expires_on,
            "evidence_reference": evidence_reference or None}


def add_training_record(facilitator: Facilitator, *, course: Course, completed_on: date,
                        expires_on: date | None = None, evidence_reference: str | None = None, actor,
                        verified: bool = False, now: datetime | None = None) -> TrainingRecord:
    """Record a completed course. Expiry defaults to the course's validity; it may be set by hand
    but never before the completion date. The same course on the same day is recorded once."""
    now = now or now_utc()
    data = _training_data(facilitator, course, completed_on, expires_on, evidence_reference, now)
    rec = TrainingRecord(facilitator_id=facilitator.id, created_at=now, **data)
    if verified:
        rec.verified_by_id, rec.verified_at = getattr(actor, "id", None), now
    db.session.add(rec)
    db.session.flush()
    db.session.expire(facilitator, ["training_records"])
    record("training_record.added", rec, actor=actor, now=now, detail={"facilitator_id": facilitator.id})
    return rec


def update_training_record(rec: TrainingRecord, *, version, course: Course, completed_on: date,
                           expires_on: date | None, evidence_reference: str | None, actor,
                           now: datetime | None = None) -> list[str]:
    """Correct a training record (coordinators). A change to a verified record needs verifying again."""
    now = now or now_utc()
    check_version(rec, version)
    data = _training_data(rec.facilitator, course, completed_on, expires_on, evidence_reference, now,
                          exclude_id=rec.id)
    data.pop("course")
    fields = changed_fields(rec, data)
    if fields and rec.verified_at is not None:
        rec.verified_at, rec.verified_by_id = None, None
        fields += ["verified_at", "verified_by_id"]
    if "course_id" in fields:
        rec.course = course
    if fields:
        record("training_record.updated", rec, actor=actor, fields=fields, now=now)
    return fields


def verify_training_record(rec: TrainingRecord, *, actor, now: datetime | None = None) -> None:
    """A coordinator has seen the evidence. A verified record cannot be changed by the facilitator."""
    now = now or now_utc()
    rec.verified_by_id, rec.verified_at = actor.id, now
    record("training_record.verified", rec, actor=actor, fields=["verified_at", "verified_by_id"], now=now)


# --------------------------------------------------------------------------- plan, supervision, observation

def add_plan_goal(facilitator: Facilitator, *, title: str, target_date: date | None, status: GoalStatus,
                  progress_notes: str | None, actor, now: datetime | None = None) -> TrainingPlanGoal:
    """A training-plan goal, set with the coordinator."""
    now = now or now_utc()
    if not (title or "").strip():
        raise DomainError("Enter the goal", field="title")
    goal = TrainingPlanGoal(facilitator_id=facilitator.id, title=title, target_date=target_date, status=status,
                            progress_notes=progress_notes or None, created_at=now)
    db.session.add(goal)
    db.session.flush()
    record("plan_goal.added", goal, actor=actor, now=now, detail={"facilitator_id": facilitator.id})
    return goal


def update_plan_goal(goal: TrainingPlanGoal, *, version, title: str, target_date: date | None,
                     status: GoalStatus, progress_notes: str | None, actor, now: datetime | None = None) -> list[str]:
    check_version(goal, version)
    if not (title or "").strip():
        raise DomainError("Enter the goal", field="title")
    fields = changed_fields(goal, {"title": title, "target_date": target_date, "status": status,
                                   "progress_notes": progress_notes or None})
    if fields:
        record("plan_goal.updated", goal, actor=actor, fields=fields, now=now)
    return fields


def add_supervision_session(facilitator: Facilitator, *, held_on: date, supervisor_name: str,
                            notes: str | None = None, actor, now: datetime | None = None) -> SupervisionSession:
    """Record supervision (due every 12 weeks). Notes are private to SUPERVISION_NOTES holders."""
    now = now or now_utc()
    if held_on is None:
        raise DomainError("Enter the date of the supervision session", field="held_on")
    _not_future(held_on, "held_on", "The supervision date", now)
    session = SupervisionSession(facilitator_id=facilitator.id, held_on=held_on, supervisor_name=supervisor_name,
                                 notes=notes or None, created_at=now)
    db.session.add(session)
    db.session.flush()
    db.session.expire(facilitator, ["supervision_sessions"])
    record("supervision.added", session, actor=actor, now=now, detail={"facilitator_id": facilitator.id})
    return session


def update_supervision_session(session: SupervisionSession, *, version, held_on: date, supervisor_name: str,
                               notes: str | None, actor, now: datetime | None = None,
                               keep_notes: bool = False) -> list[str]:
    """Correct a session. With `keep_notes` (an editor who may not see notes) the notes are untouched."""
    now = now or now_utc()
    check_version(session, version)
    if held_on is None:
        raise DomainError("Enter the date of the supervision session", field="held_on")
    _not_future(held_on, "held_on", "The supervision date", now)
    data = {"held_on": held_on, "supervisor_name": supervisor_name}
    if not keep_notes:
        data["notes"] = notes or None
    fields = changed_fields(session, data)
    if fields:
        record("supervision.updated", session, actor=actor, fields=fields, now=now)
    return fields


def add_observed_practice(facilitator: Facilitator, *, observed_on: date, observer_name: str,
                          outcome: ObservationOutcome, actor, now: datetime | None = None) -> ObservedPractice:
    """An observed session (one a year is expected)."""
    now = now or now_utc()
    if observed_on is None:
        raise DomainError("Enter the date of the observed session", field="observed_on")
    _not_future(observed_on, "observed_on", "The observation date", now)
    obs = ObservedPractice(facilitator_id=facilitator.id, observed_on=observed_on, observer_name=observer_name,
                           outcome=outcome, created_at=now)
    db.session.add(obs)
    db.session.flush()
    record("observed_practice.added", obs, actor=actor, now=now, detail={"facilitator_id": facilitator.id})
    return obs


def update_observed_practice(obs: ObservedPractice, *, version, observed_on: date, observer_name: str,
                             outcome: ObservationOutcome, actor, now: datetime | None = None) -> list[str]:
    now = now or now_utc()
    check_version(obs, version)
    if observed_on is None:
        raise DomainError("Enter the date of the observed session", field="observed_on")
    _not_future(observed_on, "observed_on", "The observation date", now)
    fields = changed_fields(obs, {"observed_on": observed_on, "observer_name": observer_name, "outcome": outcome})
    if fields:
        record("observed_practice.updated", obs, actor=actor, fields=fields, now=now)
    return fields


# --------------------------------------------------------------------------- CPD entries

def _cpd_data(facilitator, done_on, hours, activity, rjc_approved, now, exclude_id=None) -> dict:
    if done_on is None:
        raise DomainError("Enter the date of the activity", field="done_on")
    _not_future(done_on, "done_on", "The date of the activity", now)
    try:
        hours = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError("Enter the hours as a number, like 1.5", field="hours") from None
    if hours <= 0:
        raise DomainError("Hours must be more than 0", field="hours")
    if hours > MAX_CPD_HOURS_PER_ENTRY:
        raise DomainError("Hours must be 24 or fewer for one entry: log each day separately", field="hours")
    activity = (activity or "").strip()
    if not activity:
        raise DomainError("Enter what the activity was", field="activity")
    duplicate = db.session.scalar(select(CpdEntry.id).where(
        CpdEntry.facilitator_id == facilitator.id, CpdEntry.done_on == done_on,
        func.lower(CpdEntry.activity) == activity.lower(), CpdEntry.id != (exclude_id or 0)))
    if duplicate is not None:
        raise DomainError("This activity is already logged for this date", field="activity")
    return {"done_on": done_on, "hours": hours, "activity": activity, "rjc_approved": bool(rjc_approved)}


def add_cpd_entry(facilitator: Facilitator, *, done_on: date, hours, activity: str, rjc_approved: bool,
                  actor, now: datetime | None = None) -> CpdEntry:
    """Log CPD: more than 0 and at most 24 hours, not in the future, not logged twice."""
    now = now or now_utc()
    entry = CpdEntry(facilitator_id=facilitator.id, created_at=now,
                     **_cpd_data(facilitator, done_on, hours, activity, rjc_approved, now))
    db.session.add(entry)
    db.session.flush()
    db.session.expire(facilitator, ["cpd_entries"])
    record("cpd_entry.added", entry, actor=actor, now=now, detail={"facilitator_id": facilitator.id})
    return entry


def update_cpd_entry(entry: CpdEntry, *, version, done_on: date, hours, activity: str, rjc_approved: bool,
                     actor, by_owner: bool = False, now: datetime | None = None) -> list[str]:
    """Correct a CPD entry. The facilitator may not change one a coordinator has verified."""
    now = now or now_utc()
    if by_owner and entry.verified_at is not None:
        raise NotAllowed("This entry has been verified, so only a coordinator can change it")
    check_version(entry, version)
    facilitator = db.session.get(Facilitator, entry.facilitator_id)
    fields = changed_fields(entry, _cpd_data(facilitator, done_on, hours, activity, rjc_approved, now,
                                             exclude_id=entry.id))
    if fields and entry.verified_at is not None:
        entry.verified_at, entry.verified_by_id = None, None
        fields += ["verified_at", "verified_by_id"]
    if fields:
        record("cpd_entry.updated", entry, actor=actor, fields=fields, now=now)
    return fields


def verify_cpd_entry(entry: CpdEntry, *, actor, now: datetime | None = None) -> None:
    now = now or now_utc()
    entry.verified_by_id, entry.verified_at = actor.id, now
    record("cpd_entry.verified", entry, actor=actor, fields=["verified_at", "verified_by_id"], now=now)


# --------------------------------------------------------------------------- DBS

def normalise_certificate(number: str | None) -> str:
    number = re.sub(r"[\s-]", "", number or "")
    if not _CERTIFICATE.match(number):
        raise DomainError("Enter the 12-digit certificate number, like 001234567890", field="certificate_number")
    return number


def add_dbs_check(facilitator: Facilitator, *, level: DbsLevel, certificate_number: str, issued_on: date,
                  update_service: bool, actor, now: datetime | None = None) -> DbsCheck:
    """Record a DBS certificate seen by a coordinator (so it is verified by them). The newest counts."""
    now = now or now_utc()
    number = normalise_certificate(certificate_number)
    if issued_on is None:
        raise DomainError("Enter the date the certificate was issued", field="issued_on")
    _not_future(issued_on, "issued_on", "The issue date", now)
    if any(c.certificate_number == number for c in facilitator.dbs_checks):
        raise DomainError("This certificate is already recorded", field="certificate_number")
    check = DbsCheck(facilitator_id=facilitator.id, level=level, certificate_number=number, issued_on=issued_on,
                     update_service=bool(update_service), verified_by_id=actor.id if actor else None,
                     verified_at=now if actor else None, created_at=now)
    db.session.add(check)
    db.session.flush()
    db.session.expire(facilitator, ["dbs_checks"])
    record("dbs_check.added", check, actor=actor, now=now, detail={"facilitator_id": facilitator.id})
    return check


def update_dbs_check(check: DbsCheck, *, version, level: DbsLevel, certificate_number: str | None,
                     issued_on: date, update_service: bool, actor, now: datetime | None = None) -> list[str]:
    """Correct a DBS record. A blank certificate number keeps the one on file (the form never shows it)."""
    now = now or now_utc()
    check_version(check, version)
    data = {"level": level, "update_service": bool(update_service)}
    if certificate_number:
        data["certificate_number"] = normalise_certificate(certificate_number)
    if issued_on is None:
        raise DomainError("Enter the date the certificate was issued", field="issued_on")
    _not_future(issued_on, "issued_on", "The issue date", now)
    data["issued_on"] = issued_on
    fields = changed_fields(check, data)
    if fields:
        check.verified_by_id, check.verified_at = getattr(actor, "id", None), (now if actor else None)
        record("dbs_check.updated", check, actor=actor, fields=fields, now=now)
    return fields
