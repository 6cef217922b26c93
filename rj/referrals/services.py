"""Referral rules: drafts kept on the server, submitting a referral as a new case, and triage.

Services flush; the request commits. Every change is audited in the same transaction.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from rj.audit.services import record
from rj.cases.models import Case, CaseStatus, Scheme
from rj.core.errors import ConcurrentEdit, DomainError, check_version
from rj.core.forms import clean_text
from rj.core.permissions import Perm, has_perm
from rj.core.time import local_today, now_utc, to_local
from rj.core.tokens import hash_token, new_token
from rj.extensions import db
from rj.referrals.models import (
    NO_RISK_FLAGS, RISK_FLAGS, Awareness, DeclineReason, PersonSide, Referral, ReferralCategory,
    ReferralDraft, ReferralPerson,
)

DRAFT_LIFETIME = timedelta(hours=24)
MAX_PEOPLE = 10
# No 0/O, 1/I/L or U/V lookalikes: a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
REFERENCE_LENGTH = 5
REFERENCE_ATTEMPTS = 20

# Field -> maximum length, shared by the forms and the service (the service is the last word).
LIMITS = {
    "referrer_name": 120, "referrer_organisation": 120, "referrer_role": 120, "referrer_email": 254,
    "referrer_phone": 20, "location": 200, "description": 1200, "crime_reference": 40,
    "name": 120, "contact_safely": 500, "email": 254, "phone": 20,
}


# --- drafts -------------------------------------------------------------------------------

def start_draft(*, now: datetime | None = None) -> tuple[ReferralDraft, str]:
    """A new empty draft and the raw token that finds it (the token goes in the session only)."""
    now = now or now_utc()
    token, token_hash = new_token()
    draft = ReferralDraft(token_hash=token_hash, answers={}, created_at=now, expires_at=now + DRAFT_LIFETIME)
    db.session.add(draft)
    db.session.flush()
    return draft, token


def find_draft(token: str | None, *, now: datetime | None = None) -> ReferralDraft | None:
    """The live draft for a token, or None if there is none or it has expired."""
    if not token:
        return None
    draft = db.session.scalar(select(ReferralDraft).where(ReferralDraft.token_hash == hash_token(token)))
    if draft is None or draft.expires_at <= (now or now_utc()):
        return None
    return draft


def save_draft_answers(draft: ReferralDraft, section: str, value, *, now: datetime | None = None) -> None:
    """Store one page's answers (JSON-safe values) in the draft."""
    answers = dict(draft.answers or {})
    answers[section] = value
    draft.answers = answers  # reassigned, so the JSON column sees the change
    db.session.flush()


def discard_draft(draft: ReferralDraft) -> None:
    db.session.delete(draft)
    db.session.flush()


def purge_expired_drafts(*, now: datetime | None = None) -> int:
    """Delete drafts past their expiry (idempotent sweeper)."""
    result = db.session.execute(delete(ReferralDraft).where(ReferralDraft.expires_at <= (now or now_utc())))
    return result.rowcount or 0


# --- references -----------------------------------------------------------------------------

def generate_reference(*, now: datetime | None = None, choice: Callable[[str], str] = secrets.choice) -> str:
    year = to_local(now or now_utc()).year
    return f"RJ-{year}-" + "".join(choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_reference(*, now: datetime | None = None, choice: Callable[[str], str] = secrets.choice) -> str:
    """A random reference not used by any case: random so it does not reveal case volume;
    a collision simply draws again."""
    for _ in range(REFERENCE_ATTEMPTS):
        ref = generate_reference(now=now, choice=choice)
        if db.session.scalar(select(Case.id).where(Case.reference == ref)) is None:
            return ref
    raise DomainError("Could not allocate a reference: try again")


# --- submitting -------------------------------------------------------------------------------

def _text(data: dict, key: str, *, required: bool = False, multiline: bool = False, message: str = "") -> str | None:
    value = clean_text(data.get(key), multiline=multiline) if isinstance(data.get(key), str) else data.get(key)
    if value in ("", None):
        if required:
            raise DomainError(message or "Answer this question", field=key)
        return None
    if not isinstance(value, str):
        raise DomainError("This answer is not valid", field=key)
    limit = LIMITS.get(key)
    if limit and len(value) > limit:
        raise DomainError(f"This answer must be {limit} characters or fewer", field=key)
    return value


def _enum(enum_cls, value, field: str, message: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise DomainError(message, field=field) from None


def _incident_date(value, *, now: datetime) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise DomainError("Enter the date it happened, like 27 3 2026", field="incident_date") from None
    if not isinstance(value, date):
        raise DomainError("Enter the date it happened", field="incident_date")
    if value > local_today(now):
        raise DomainError("The date it happened must be today or in the past", field="incident_date")
    return value


def _risk_flags(flags) -> list[str]:
    flags = list(flags or [])
    if not flags:
        raise DomainError("Select any risks that apply, or select 'None of these'", field="risk_flags")
    if NO_RISK_FLAGS in flags:
        if len(flags) > 1:
            raise DomainError("Select the risks that apply, or 'None of these', not both", field="risk_flags")
        return []
    unknown = [f for f in flags if f not in RISK_FLAGS]
    if unknown:
        raise DomainError("Select risks from the list", field="risk_flags")
    return [f for f in RISK_FLAGS if f in flags]  # stored in a stable order


def submit_referral(data: dict, *, now: datetime | None = None, actor=None,
                    choice: Callable[[str], str] = secrets.choice) -> Case:
    """A referral becomes a new case (status REFERRED) with its referral and people, in one
    transaction, audited. Every text is cleaned (control characters, NUL included, never reach
    the database) and checked again here, whatever the form did."""
    now = now or now_utc()
    is_public = bool(data.get("referrer_is_public"))
    referral = Referral(
        referrer_name=_text(data, "referrer_name", required=True, message="Enter your full name"),
        referrer_is_public=is_public,
        referrer_organisation=None if is_public else _text(
            data, "referrer_organisation", required=True, message="Enter the organisation you work for"),
        referrer_role=None if is_public else _text(data, "referrer_role"),
        referrer_email=_text(data, "referrer_email"),
        referrer_phone=_text(data, "referrer_phone"),
        category=_enum(ReferralCategory, data.get("category"), "category", "Select what kind of harm or dispute it is"),
        incident_date=_incident_date(data.get("incident_date"), now=now),
        location=_text(data, "location", required=True, message="Enter where it happened"),
        description=_text(data, "description", required=True, multiline=True, message="Describe what happened"),
        crime_reference=_text(data, "crime_reference"),
        parties_aware=_enum(Awareness, data.get("parties_aware"), "parties_aware",
                            "Select whether the people involved know about this referral"),
        parties_willing=_enum(Awareness, data.get("parties_willing"), "parties_willing",
                              "Select whether the people involved seem willing to take part"),
        risk_flags=_risk_flags(data.get("risk_flags")),
        consent_to_share=_consent(data.get("consent_to_share")),
        submitted_at=now,
    )
    if not (referral.referrer_email or referral.referrer_phone):
        raise DomainError("Enter an email address or a phone number so we can contact you", field="referrer_email")
    people = data.get("people") or []
    if not people:
        raise DomainError("Add at least one person involved", field="people")
    if len(people) > MAX_PEOPLE:
        raise DomainError(f"You can add up to {MAX_PEOPLE} people", field="people")
    for position, person in enumerate(people):
        referral.people.append(ReferralPerson(
            position=position,
            name=_text(person, "name", required=True, message="Enter the person's name"),
            side=_enum(PersonSide, person.get("side"), "side", "Select which side of the harm they are on"),
            under_18=bool(person.get("under_18")),
            contact_safely=_text(person, "contact_safely", multiline=True),
            email=_text(person, "email"),
            phone=_text(person, "phone"),
        ))

    case = Case(reference=new_reference(now=now, choice=choice), status=CaseStatus.REFERRED, referred_at=now)
    referral.case = case
    db.session.add_all([case, referral])
    db.session.flush()
    record("referral.submitted", referral, actor=actor, case_id=case.id, now=now,
           detail={"category": referral.category.value, "people": len(referral.people),
                   "risk_flags": list(referral.risk_flags)})
    return case


def _consent(value) -> bool:
    if value in (True, "yes"):
        return True
    if value in (False, "no"):
        return False
    raise DomainError("Select whether you have consent to share these details", field="consent_to_share")


def acknowledge_referral(case: Case) -> None:
    """Queue the referrer's acknowledgement email, when they gave an address and notifications exist."""
    if not (case.referral and case.referral.referrer_email):
        return
    try:
        from rj.notifications.services import queue_referral_acknowledgement
    except ImportError:
        return
    queue_referral_acknowledgement(case)


# --- triage ------------------------------------------------------------------------------------

TRIAGE_STATUSES = (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE)


def _check(case: Case, expected_version) -> None:
    if expected_version is not None:
        check_version(case, expected_version)


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise ConcurrentEdit() from None


def record_case_opened(case: Case, *, actor, now: datetime | None = None) -> None:
    """Opening a case file is audited: who saw which case, when."""
    record("case.opened", case, actor=actor, case_id=case.id, now=now)


def eligible_lead_coordinators():
    """Active staff who may lead a case: coordinators and managers."""
    from rj.auth.models import User

    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if has_perm(u, Perm.TRIAGE)]


def accept_referral(case: Case, *, scheme: Scheme, level: int, lead_coordinator, actor,
                    now: datetime | None = None, expected_version=None) -> Case:
    """Accept a referral as a case: scheme, RJ level (1, 2 or 3) and a lead coordinator who may
    triage. Then the consent domain (if present) turns the referral's people into parties."""
    now = now or now_utc()
    _check(case, expected_version)
    scheme = Scheme(scheme)
    if level not in (1, 2, 3):
        raise DomainError("Select RJ level 1, 2 or 3", field="level")
    if lead_coordinator is None or not getattr(lead_coordinator, "active", False) \
            or not has_perm(lead_coordinator, Perm.TRIAGE):
        raise DomainError("Select a lead coordinator from the list", field="lead_coordinator")
    old = case.status
    case.transition(CaseStatus.ACCEPTED)
    case.scheme = scheme
    case.level = level
    case.lead_coordinator_id = lead_coordinator.id
    case.accepted_at = now
    case.triaged_at = now
    _flush()
    record("case.accepted", case, actor=actor, case_id=case.id, now=now,
           fields=["status", "scheme", "level", "lead_coordinator_id", "accepted_at", "triaged_at"],
           detail={"from": old.value, "to": case.status.value, "scheme": scheme.value, "level": level})
    try:
        from rj.consent.services import parties_from_referral
    except ImportError:
        parties_from_referral = None
    if parties_from_referral is not None and case.referral is not None:
        parties_from_referral(case, case.referral, actor=actor)
    return case


def decline_referral(case: Case, *, reason: DeclineReason | str, actor, note: str | None = None,
                     now: datetime | None = None, expected_version=None) -> Case:
    """Decline with a coded reason (and an optional staff note). Declined cases never reopen."""
    now = now or now_utc()
    _check(case, expected_version)
    reason = _enum(DeclineReason, reason, "reason", "Select why the referral is declined")
    note = clean_text(note, multiline=True) or None
    if note and len(note) > 1000:
        raise DomainError("The note must be 1000 characters or fewer", field="note")
    if reason is DeclineReason.OTHER and not note:
        raise DomainError("Explain the reason in the note", field="note")
    old = case.status
    case.transition(CaseStatus.DECLINED)
    case.triaged_at = now
    case.triage_note = note
    if case.referral is not None:
        case.referral.decline_reason = reason
    _flush()
    record("case.declined", case, actor=actor, case_id=case.id, now=now,
           fields=["status", "triaged_at", "triage_note"],
           detail={"from": old.value, "to": case.status.value, "reason": reason.value})
    return case


def request_more_information(case: Case, *, note: str, actor, now: datetime | None = None,
                             expected_version=None) -> Case:
    """Mark a referral as needing more information: it waits in triage with a staff note."""
    now = now or now_utc()
    _check(case, expected_version)
    note = clean_text(note, multiline=True)
    if not note:
        raise DomainError("Say what information is needed", field="note")
    if len(note) > 1000:
        raise DomainError("The note must be 1000 characters or fewer", field="note")
    old = case.status
    if case.status is not CaseStatus.IN_TRIAGE:
        case.transition(CaseStatus.IN_TRIAGE)
    case.triage_note = note
    case.triaged_at = now
    _flush()
    record("case.more_information_requested", case, actor=actor, case_id=case.id, now=now,
           fields=["status", "triage_note", "triaged_at"], detail={"from": old.value, "to": case.status.value})
    return case


def referral_data_from_answers(answers: dict) -> dict:
    """Flatten a draft's pages into the plain data submit_referral takes."""
    about = answers.get("about") or {}
    what = answers.get("what") or {}
    awareness = answers.get("awareness") or {}
    data = {
        "referrer_name": about.get("referrer_name"),
        "referrer_is_public": about.get("referrer_type") == "public",
        "referrer_organisation": about.get("referrer_organisation"),
        "referrer_role": about.get("referrer_role"),
        "referrer_email": about.get("referrer_email"),
        "referrer_phone": about.get("referrer_phone"),
        "category": what.get("category"),
        "incident_date": what.get("incident_date"),
        "location": what.get("location"),
        "description": what.get("description"),
        "crime_reference": what.get("crime_reference"),
        "parties_aware": awareness.get("parties_aware"),
        "parties_willing": awareness.get("parties_willing"),
        "risk_flags": (answers.get("risks") or {}).get("risk_flags"),
        "consent_to_share": (answers.get("consent") or {}).get("consent_to_share"),
        "people": [
            {**p, "under_18": p.get("under_18") == "yes"} for p in (answers.get("people") or [])
        ],
    }
    return data
