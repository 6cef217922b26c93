"""Parties, the consent ledger and its gate, online consent links, suitability, risk and notes.

Decisions kept here (see also the README):
- Consent must be informed: consent can only be *given* after an "information given" record
  for the same person (the party, or their guardian). Declining never needs it. The online
  consent page gives the information itself, so it records both.
- Each answer is one ledger row per scope; the current state of a scope is its latest row.
- Consent to meet face to face covers indirect contact too; "indirect contact only" means the
  person will not meet. The two can never both be current: asking for both is refused, and a
  change from one to the other must first decline the old answer (nothing is silently replaced).
- A party under 18 needs their own consent and their parent or guardian's, scope by scope.
- Withdrawing pauses the case (remembering where it was) and cancels that party's future
  meetings; once no party has a current withdrawal, giving consent again resumes the case.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from rj.audit.services import changed_fields, record
from rj.core.tokens import hash_token, new_token
from rj.cases.models import Case, CaseStatus, Scheme
from rj.consent.models import (
    SENSITIVE_FLAGS, CaseNote, ConsentKind, ConsentLink, ConsentMethod, ConsentRecord, ConsentScope,
    ContactMethod, GivenBy, InformationHow, Party, PartyRole, RiskAssessment, RiskItem, RiskStage,
    Suitability, SuitabilityDecision,
)
from rj.core.errors import DomainError, NotAllowed, check_version
from rj.core.permissions import Perm, has_perm
from rj.core.time import add_working_days, local_today, now_utc, to_local
from rj.extensions import db

CONSENT_LINK_DAYS = 14
MEETING_KINDS = ("preparation", "restorative", "indirect", "follow_up")

# ---------------------------------------------------------------------------------------------
# Parties
# ---------------------------------------------------------------------------------------------

PARTY_FIELDS = (
    "role", "name", "date_of_birth", "under_18", "guardian_for_id", "email", "phone", "address_line",
    "postcode", "safe_contact", "preferred_contact", "interpreter_needed", "interpreter_language",
    "wheelchair_access", "hearing_loop", "separate_waiting_room", "victims_code", "enhanced_rights",
    "acknowledges_responsibility",
)


def roles_for_scheme(scheme) -> list[PartyRole]:
    """SoRT-IT has parties only; post-sentence cases have a person harmed and a person responsible."""
    if scheme is Scheme.POST_SENTENCE:
        return [PartyRole.HARMED, PartyRole.RESPONSIBLE, PartyRole.SUPPORTER, PartyRole.GUARDIAN]
    return [PartyRole.PARTY, PartyRole.SUPPORTER, PartyRole.GUARDIAN]


def active_parties(case: Case) -> list[Party]:
    return list(db.session.scalars(
        select(Party).where(Party.case_id == case.id, Party.removed_at.is_(None)).order_by(Party.id)
    ))


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _clean_party_data(case: Case, data: dict, *, party: Party | None, now: datetime) -> dict:
    data = {k: v for k, v in data.items() if k in PARTY_FIELDS}
    for key in ("email", "phone", "address_line", "postcode", "safe_contact", "interpreter_language"):
        if key in data and not data[key]:
            data[key] = None
    if data.get("postcode"):
        data["postcode"] = data["postcode"].upper()
    role = PartyRole(data.get("role") or (party.role if party else PartyRole.PARTY))
    data["role"] = role
    if role not in roles_for_scheme(case.scheme):
        raise DomainError("Choose a role used in this kind of case", field="role")
    if not (data.get("name") or (party.name if party and "name" not in data else None)):
        raise DomainError("Enter the person's name", field="name")
    if data.get("preferred_contact"):
        data["preferred_contact"] = ContactMethod(data["preferred_contact"])
    else:
        data["preferred_contact"] = None
    dob = data.get("date_of_birth")
    if dob is not None:
        today = local_today(now)
        if dob > today:
            raise DomainError("Date of birth must be in the past", field="date_of_birth")
        if _age_on(dob, today) < 18:
            data["under_18"] = True  # a date of birth settles it
    if data.get("interpreter_needed") and not data.get("interpreter_language"):
        raise DomainError("Enter the language the interpreter is needed for", field="interpreter_language")
    if not data.get("interpreter_needed"):
        data["interpreter_language"] = None
    if role is not PartyRole.RESPONSIBLE:
        data["acknowledges_responsibility"] = None
    if data.get("enhanced_rights") and not data.get("victims_code"):
        raise DomainError("Enhanced rights apply only to a victim under the Victims' Code: tick that too, "
                          "or untick enhanced rights", field="enhanced_rights")
    if role is PartyRole.GUARDIAN:
        ward_id = data.get("guardian_for_id")
        ward = db.session.get(Party, int(ward_id)) if ward_id else None
        if ward is None or ward.case_id != case.id or ward.removed_at is not None or not ward.under_18:
            raise DomainError("Choose the party under 18 this person is the parent or guardian of",
                              field="guardian_for_id")
        if party is not None and ward.id == party.id:
            raise DomainError("A person cannot be their own parent or guardian", field="guardian_for_id")
        data["guardian_for_id"] = ward.id
    else:
        data["guardian_for_id"] = None
    return data


def add_party(case: Case, *, actor, now: datetime | None = None, **fields) -> Party:
    """Add a person to a case. Roles follow the scheme: SoRT-IT has parties, never victim/offender."""
    now = now or now_utc()
    if not case.is_open:
        raise DomainError("This case is closed: people cannot be added to it")
    data = _clean_party_data(case, fields, party=None, now=now)
    party = Party(case_id=case.id, created_at=now, **data)
    db.session.add(party)
    db.session.flush()
    record("party.added", party, actor=actor, case_id=case.id, now=now,
           fields=[k for k, v in data.items() if v not in (None, False, "")],
           detail={"role": party.role.value})
    return party


def update_party(party: Party, data: dict, *, version, actor, now: datetime | None = None) -> list[str]:
    """Correct a person's details. Refused if someone else saved them since the form was opened."""
    now = now or now_utc()
    check_version(party, version)
    if party.removed_at is not None:
        raise DomainError("This person has been removed from the case")
    merged = {name: getattr(party, name) for name in PARTY_FIELDS}
    merged.update({k: v for k, v in data.items() if k in PARTY_FIELDS})  # a partial correction keeps the rest
    clean = _clean_party_data(party.case, merged, party=party, now=now)
    changed = changed_fields(party, clean)
    if changed:
        db.session.flush()
        record("party.updated", party, actor=actor, case_id=party.case_id, fields=changed, now=now)
    return changed


def remove_party(party: Party, *, actor, now: datetime | None = None) -> Party:
    """Take a person off the case. The row stays (removed_at) so the ledger and audit keep their link."""
    now = now or now_utc()
    if party.removed_at is not None:
        return party
    party.removed_at = now
    db.session.flush()
    record("party.removed", party, actor=actor, case_id=party.case_id, fields=["removed_at"], now=now)
    return party


def record_first_contact(party: Party, *, at: datetime | None = None, actor, now: datetime | None = None) -> Party:
    """First contact made with the person (Victims' Code: within 2 working days of referral)."""
    now = now or now_utc()
    if party.first_contact_at is not None:
        raise DomainError("First contact is already recorded for this person")
    at = at or now
    if at > now + timedelta(minutes=5):
        raise DomainError("First contact cannot be in the future", field="at")
    party.first_contact_at = at
    db.session.flush()
    record("party.first_contact", party, actor=actor, case_id=party.case_id, fields=["first_contact_at"], now=now)
    return party


def parties_from_referral(case: Case, referral, *, actor, now: datetime | None = None) -> list[Party]:
    """Carry the people named in a referral into the accepted case. SoRT-IT makes everyone harmed or
    responsible a "party"; the person reported as harmed keeps Victims' Code clocks either way."""
    now = now or now_utc()
    existing = {(p.name or "").casefold() for p in active_parties(case)}
    added = []
    for person in getattr(referral, "people", []) or []:
        side = getattr(getattr(person, "side", None), "value", getattr(person, "side", None)) or "other"
        name = (getattr(person, "name", "") or "").strip()
        if not name or name.casefold() in existing:
            continue
        if side == "other":
            role = PartyRole.SUPPORTER
        elif case.scheme is Scheme.POST_SENTENCE:
            role = PartyRole.HARMED if side == "harmed" else PartyRole.RESPONSIBLE
        else:
            role = PartyRole.PARTY
        party = Party(
            case_id=case.id, role=role, name=name[:120], under_18=bool(getattr(person, "under_18", False)),
            safe_contact=getattr(person, "contact_safely", None) or None,
            email=getattr(person, "email", None) or None, phone=getattr(person, "phone", None) or None,
            victims_code=(side == "harmed"), created_at=now,
        )
        db.session.add(party)
        db.session.flush()
        record("party.added", party, actor=actor, case_id=case.id, now=now,
               detail={"role": role.value, "source": "referral"})
        existing.add(name.casefold())
        added.append(party)
    return added


def guardians_of(party: Party) -> list[Party]:
    return list(db.session.scalars(
        select(Party).where(Party.guardian_for_id == party.id, Party.removed_at.is_(None)).order_by(Party.id)
    ))


# ---------------------------------------------------------------------------------------------
# The consent ledger and its current state
# ---------------------------------------------------------------------------------------------

@dataclass
class ConsentState:
    """The current answer of one person (the party, or their guardian) per scope."""

    informed_at: datetime | None = None
    scopes: dict = field(default_factory=dict)   # ConsentScope -> ConsentRecord (latest)

    def kind(self, scope: ConsentScope) -> ConsentKind | None:
        rec = self.scopes.get(scope)
        return rec.kind if rec else None

    def given(self, scope: ConsentScope) -> bool:
        return self.kind(scope) is ConsentKind.CONSENT_GIVEN

    @property
    def withdrawn(self) -> bool:
        return self.kind(ConsentScope.TAKE_PART) is ConsentKind.CONSENT_WITHDRAWN


@dataclass
class PartyConsent:
    party: Party
    own: ConsentState
    guardian: ConsentState
    needs_guardian: bool
    has_guardian: bool

    def given(self, scope: ConsentScope) -> bool:
        return self.own.given(scope) and (not self.needs_guardian or self.guardian.given(scope))

    @property
    def withdrawn(self) -> bool:
        return self.own.withdrawn or self.guardian.withdrawn

    @property
    def summary(self) -> str:
        """At a glance: withdrawn / declined / agreed / partly agreed / to ask."""
        if self.withdrawn:
            return "withdrawn"
        if ConsentKind.CONSENT_DECLINED in (self.own.kind(ConsentScope.TAKE_PART), self.guardian.kind(ConsentScope.TAKE_PART)):
            return "declined"
        if self.given(ConsentScope.TAKE_PART):
            return "agreed"
        if self.own.given(ConsentScope.TAKE_PART) or self.guardian.given(ConsentScope.TAKE_PART):
            return "partly_agreed"
        return "to_ask"

    @property
    def summary_label(self) -> str:
        return {"withdrawn": "Withdrawn", "declined": "Declined", "agreed": "Agreed to take part",
                "partly_agreed": "Waiting for parent or guardian", "to_ask": "Still to be asked"}[self.summary]

    def answer(self, who: GivenBy, scope: ConsentScope) -> str:
        state = self.own if who is GivenBy.PARTY else self.guardian
        kind = state.kind(scope)
        return {None: "Not asked", ConsentKind.CONSENT_GIVEN: "Yes", ConsentKind.CONSENT_DECLINED: "No",
                ConsentKind.CONSENT_WITHDRAWN: "Withdrawn"}[kind]


def _records_for(party_ids) -> list[ConsentRecord]:
    if not party_ids:
        return []
    return list(db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.party_id.in_(list(party_ids)))
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    ))


def consent_states(parties: list[Party], *, guardian_ids: dict | None = None) -> dict[int, PartyConsent]:
    """Current consent of each party, derived from the ledger in one query (plus one for guardians)."""
    parties = list(parties)
    ids = [p.id for p in parties]
    if guardian_ids is None:
        guardian_ids = defaultdict(list)
        if ids:
            for g_id, ward_id in db.session.execute(
                select(Party.id, Party.guardian_for_id).where(Party.guardian_for_id.in_(ids), Party.removed_at.is_(None))
            ):
                guardian_ids[ward_id].append(g_id)
    own: dict[int, ConsentState] = defaultdict(ConsentState)
    guard: dict[int, ConsentState] = defaultdict(ConsentState)
    for rec in _records_for(ids):
        state = (own if rec.given_by is GivenBy.PARTY else guard)[rec.party_id]
        if rec.kind is ConsentKind.INFORMATION_GIVEN:
            state.informed_at = state.informed_at or rec.recorded_at
        elif rec.scope is not None:
            state.scopes[rec.scope] = rec
    return {
        p.id: PartyConsent(party=p, own=own[p.id], guardian=guard[p.id], needs_guardian=bool(p.under_18),
                           has_guardian=bool(guardian_ids.get(p.id)))
        for p in parties
    }


def party_consent(party: Party) -> PartyConsent:
    return consent_states([party])[party.id]


def consent_history(case: Case) -> list[ConsentRecord]:
    return list(db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.case_id == case.id)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
    ))


def _method_for(how: InformationHow) -> ConsentMethod:
    if how is InformationHow.ONLINE:
        return ConsentMethod.ONLINE
    if how in (InformationHow.LETTER, InformationHow.EMAIL):
        return ConsentMethod.IN_WRITING
    return ConsentMethod.VERBALLY


def _guardian_for_answer(party: Party, given_by: GivenBy, guardian: Party | None) -> Party | None:
    if given_by is not GivenBy.GUARDIAN:
        return None
    if not party.under_18:
        raise DomainError("Only a party under 18 has a parent or guardian answer for them", field="given_by")
    if guardian is not None:
        if guardian.guardian_for_id != party.id or guardian.removed_at is not None:
            raise DomainError("Choose a parent or guardian recorded for this person", field="given_by")
        return guardian
    found = guardians_of(party)
    if not found:
        raise DomainError("Add the parent or guardian to the case before recording their answer", field="given_by")
    return found[0]


def _check_open(party: Party) -> None:
    if party.removed_at is not None:
        raise DomainError("This person has been removed from the case")
    if not party.case.is_open:
        raise DomainError("This case is closed: consent can no longer be recorded")


def record_information(party: Party, *, how, leaflet: str | None = None, given_by=GivenBy.PARTY,
                       guardian: Party | None = None, actor, now: datetime | None = None) -> ConsentRecord:
    """Record that the person (or their guardian) was told what taking part means: how, and with
    which leaflet or conversation. Consent given afterwards is informed consent."""
    now = now or now_utc()
    _check_open(party)
    given_by = GivenBy(given_by)
    try:
        how = InformationHow(how)
    except ValueError:
        raise DomainError("Select how the information was given", field="how") from None
    guardian = _guardian_for_answer(party, given_by, guardian)
    rec = ConsentRecord(
        case_id=party.case_id, party_id=party.id, kind=ConsentKind.INFORMATION_GIVEN, scope=None,
        method=_method_for(how), given_by=given_by, guardian_party_id=getattr(guardian, "id", None),
        information_how=how, leaflet=(leaflet or None), recorded_by_id=getattr(actor, "id", None), recorded_at=now,
    )
    db.session.add(rec)
    db.session.flush()
    record("consent.information_given", rec, actor=actor, case_id=party.case_id, now=now,
           detail={"party_id": party.id, "given_by": given_by.value, "how": how.value})
    return rec


def validate_consent_answer(party: Party, *, kind, scopes, given_by, state: PartyConsent | None = None,
                            assume_informed: bool = False) -> tuple[ConsentKind, list[ConsentScope], GivenBy]:
    """Refuse incomplete or contradictory answers with a message that says how to fix them."""
    try:
        kind = ConsentKind(kind)
    except ValueError:
        raise DomainError("Select whether consent was given or declined", field="kind") from None
    if kind not in (ConsentKind.CONSENT_GIVEN, ConsentKind.CONSENT_DECLINED):
        raise DomainError("Select whether consent was given or declined", field="kind")
    try:
        scopes = [ConsentScope(s) for s in (scopes or [])]
    except ValueError:
        raise DomainError("Select what the answer covers from the list", field="scopes") from None
    scopes = list(dict.fromkeys(scopes))
    if not scopes:
        raise DomainError("Select what the person agreed or did not agree to", field="scopes")
    given_by = GivenBy(given_by)
    state = state or party_consent(party)
    current = state.own if given_by is GivenBy.PARTY else state.guardian
    who = "their parent or guardian" if given_by is GivenBy.GUARDIAN else "the person"
    if kind is ConsentKind.CONSENT_GIVEN:
        if ConsentScope.FACE_TO_FACE in scopes and ConsentScope.INDIRECT_ONLY in scopes:
            raise DomainError("Consent to meet face to face and to indirect contact only cannot both be given: "
                              "choose one of them", field="scopes")
        if ConsentScope.FACE_TO_FACE in scopes and current.given(ConsentScope.INDIRECT_ONLY):
            raise DomainError("The current answer is indirect contact only. If they now want to meet face to face, "
                              "first record that they decline indirect contact only, then record this", field="scopes")
        if ConsentScope.INDIRECT_ONLY in scopes and current.given(ConsentScope.FACE_TO_FACE):
            raise DomainError("The current answer is to meet face to face. If they now want indirect contact only, "
                              "first record that they decline meeting face to face, then record this", field="scopes")
        if ConsentScope.TAKE_PART not in scopes and not current.given(ConsentScope.TAKE_PART):
            raise DomainError("Consent to take part is needed before anything else: select 'Take part' as well",
                              field="scopes")
        if not assume_informed and current.informed_at is None:
            raise DomainError(f"Record the information given to {who} first: consent must be informed", field="kind")
    return kind, scopes, given_by


def record_consent(party: Party, *, kind, scopes, method, given_by=GivenBy.PARTY, guardian: Party | None = None,
                   actor, now: datetime | None = None, _online: bool = False) -> list[ConsentRecord]:
    """Add consent given or declined to the ledger, one row per scope. Giving consent again after a
    withdrawal resumes a paused case once nobody on it has a current withdrawal."""
    now = now or now_utc()
    _check_open(party)
    try:
        method = ConsentMethod(method)
    except ValueError:
        raise DomainError("Select how the answer was given", field="method") from None
    kind, scopes, given_by = validate_consent_answer(party, kind=kind, scopes=scopes, given_by=given_by)
    guardian = _guardian_for_answer(party, given_by, guardian)
    rows = [ConsentRecord(case_id=party.case_id, party_id=party.id, kind=kind, scope=s, method=method,
                          given_by=given_by, guardian_party_id=getattr(guardian, "id", None),
                          recorded_by_id=getattr(actor, "id", None), recorded_at=now) for s in scopes]
    db.session.add_all(rows)
    db.session.flush()
    record("consent.given" if kind is ConsentKind.CONSENT_GIVEN else "consent.declined", party, actor=actor,
           case_id=party.case_id, now=now,
           detail={"party_id": party.id, "scopes": [s.value for s in scopes], "given_by": given_by.value,
                   "method": method.value})
    if kind is ConsentKind.CONSENT_GIVEN:
        resume_case_if_clear(party.case, actor=actor, now=now)
    return rows


def withdraw_consent(party: Party, *, method, given_by=GivenBy.PARTY, guardian: Party | None = None,
                     actor, now: datetime | None = None) -> list[ConsentRecord]:
    """A party (or their guardian) withdraws: every scope they had agreed to is withdrawn, the case
    is paused, the coordinator is told, and every future meeting involving the party is cancelled."""
    now = now or now_utc()
    _check_open(party)
    try:
        method = ConsentMethod(method)
    except ValueError:
        raise DomainError("Select how the withdrawal was made", field="method") from None
    given_by = GivenBy(given_by)
    guardian = _guardian_for_answer(party, given_by, guardian)
    state = party_consent(party)
    current = state.own if given_by is GivenBy.PARTY else state.guardian
    scopes = [s for s in ConsentScope if current.given(s)] or [ConsentScope.TAKE_PART]
    if ConsentScope.TAKE_PART not in scopes:
        scopes.insert(0, ConsentScope.TAKE_PART)
    rows = [ConsentRecord(case_id=party.case_id, party_id=party.id, kind=ConsentKind.CONSENT_WITHDRAWN, scope=s,
                          method=method, given_by=given_by, guardian_party_id=getattr(guardian, "id", None),
                          recorded_by_id=getattr(actor, "id", None), recorded_at=now) for s in scopes]
    db.session.add_all(rows)
    db.session.flush()
    record("consent.withdrawn", party, actor=actor, case_id=party.case_id, now=now,
           detail={"party_id": party.id, "scopes": [s.value for s in scopes], "given_by": given_by.value,
                   "method": method.value})
    case = party.case
    if case.status in Case.ACTIVE_STATUSES and case.can_transition(CaseStatus.PAUSED):
        from rj.cases.services import change_case_status

        change_case_status(case, CaseStatus.PAUSED, actor=actor, now=now, reason="consent_withdrawn")
    _tell_coordinator_of_withdrawal(case, actor=actor, now=now)
    _cancel_future_meetings(party, actor=actor, now=now)
    return rows


def _tell_coordinator_of_withdrawal(case: Case, *, actor, now: datetime) -> None:
    """Tell the lead coordinator (or, with none, every coordinator) through the outbox. The email
    says only that a party withdrew on a case reference: no names, nothing else."""
    try:
        from rj.notifications import services as notifications
    except ImportError:
        notifications = None
    coordinator = case.lead_coordinator
    told = []
    if notifications is not None and hasattr(notifications, "queue_email"):
        recipients = [coordinator] if coordinator is not None else list(getattr(notifications, "coordinators", list)())
        for user in recipients:
            if not getattr(user, "email", None) or not getattr(user, "active", True):
                continue
            notifications.queue_email(
                recipient=user.email, subject=f"Consent withdrawn: case {case.reference}",
                text=(f"A party on case {case.reference} has withdrawn consent, so the case is paused and "
                      "their future meetings are cancelled. Sign in to see the case file."),
                kind="consent_withdrawn", case_id=case.id, now=now)
            told.append(user.id)
    record("case.coordinator_told", case, actor=actor, case_id=case.id, now=now,
           detail={"why": "consent_withdrawn", "user_ids": told})


def _cancel_future_meetings(party: Party, *, actor, now: datetime) -> None:
    try:
        from rj.scheduling.services import cancel_future_meetings_for_party
    except ImportError:
        return
    cancel_future_meetings_for_party(party, actor=actor, now=now, reason="consent_withdrawn")


# Where a paused case goes back to: meetings were cancelled on withdrawal, so a case that had one
# booked goes back to being ready to meet; later stages return to preparation.
_RESUME_TO = {
    CaseStatus.ACCEPTED: CaseStatus.ACCEPTED, CaseStatus.PREPARATION: CaseStatus.PREPARATION,
    CaseStatus.READY_TO_MEET: CaseStatus.READY_TO_MEET, CaseStatus.MEETING_BOOKED: CaseStatus.READY_TO_MEET,
}


def resume_case_if_clear(case: Case, *, actor, now: datetime | None = None) -> bool:
    """Resume a paused case once no party on it has a current withdrawal."""
    if case.status is not CaseStatus.PAUSED:
        return False
    states = consent_states(active_parties(case))
    if any(s.withdrawn for s in states.values()):
        return False
    target = _RESUME_TO.get(case.status_before_pause, CaseStatus.PREPARATION)
    from rj.cases.services import change_case_status

    change_case_status(case, target, actor=actor, now=now, reason="consent_given_again")
    return True


# ---------------------------------------------------------------------------------------------
# The consent gate
# ---------------------------------------------------------------------------------------------

@dataclass
class GateResult:
    allowed: bool
    reasons: list[str]


def check_meeting_gate(case: Case, parties, *, kind: str, now: datetime | None = None) -> GateResult:
    """May a meeting of this kind, with these parties, be booked? If not, every reason in plain words.

    Everyone in it needs current consent to take part (and, under 18, a parent's or guardian's too);
    a meeting bringing parties together ('restorative') needs every party's consent to meet face to
    face, nobody on indirect contact only, a post-sentence person responsible who accepts
    responsibility, and for Level 3 a manager-signed risk assessment; 'indirect' needs consent to
    contact. A withdrawn party, or a case not open or paused, blocks everything.
    """
    if kind not in MEETING_KINDS:
        raise ValueError(f"unknown meeting kind {kind!r}")
    reasons: list[str] = []
    scheme = case.scheme
    if case.status is CaseStatus.PAUSED:
        reasons.append("The case is paused because a party withdrew consent")
    elif case.status in (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE):
        reasons.append("The case has not been accepted yet")
    elif not case.is_open:
        reasons.append(f"The case is {case.status.label.lower()}: no meetings can be booked")
    latest_suitability = latest_suitability_for(case)
    if latest_suitability is not None and latest_suitability.decision is SuitabilityDecision.UNSUITABLE:
        reasons.append("The case was screened as unsuitable for restorative justice")

    parties = list(parties)
    if not parties:
        reasons.append("Choose who will take part in the meeting")
    wards = {p.guardian_for_id for p in parties if p.role is PartyRole.GUARDIAN and p.guardian_for_id}
    ward_parties = {p.id: p for p in db.session.scalars(select(Party).where(Party.id.in_(wards)))} if wards else {}
    states = consent_states(parties + [w for w in ward_parties.values() if w not in parties])
    principals = 0
    for party in parties:
        who = party.display(scheme)
        if party.case_id != case.id:
            reasons.append(f"{who} is not part of this case")
            continue
        if party.removed_at is not None:
            reasons.append(f"{who} has been removed from the case")
            continue
        st = states[party.id]
        if party.role.is_principal:
            principals += 1
        if party.role is PartyRole.GUARDIAN and party.guardian_for_id in ward_parties:
            ward_state = states[party.guardian_for_id]
            if ward_state.guardian.withdrawn or st.own.withdrawn:
                reasons.append(f"{who} has withdrawn consent")
            elif not (st.own.given(ConsentScope.TAKE_PART) or ward_state.guardian.given(ConsentScope.TAKE_PART)):
                reasons.append(f"{who} has not consented to take part")
            continue
        if st.withdrawn:
            reasons.append(f"{who} has withdrawn consent")
            continue
        if not st.own.given(ConsentScope.TAKE_PART):
            verb = "declined" if st.own.kind(ConsentScope.TAKE_PART) is ConsentKind.CONSENT_DECLINED else "not consented"
            reasons.append(f"{who} has {verb} to take part")
        if st.needs_guardian:
            if not st.has_guardian:
                reasons.append(f"{who} is under 18 and no parent or guardian is recorded on the case")
            elif not st.guardian.given(ConsentScope.TAKE_PART):
                reasons.append(f"{who} is under 18: their parent or guardian has not consented to them taking part")
        if not party.role.is_principal:
            continue
        if kind == "restorative":
            if st.own.given(ConsentScope.INDIRECT_ONLY) or (st.needs_guardian and st.guardian.given(ConsentScope.INDIRECT_ONLY)):
                reasons.append(f"{who} wants indirect contact only")
            elif not st.own.given(ConsentScope.FACE_TO_FACE):
                reasons.append(f"{who} has not consented to meet face to face")
            elif st.needs_guardian and st.has_guardian and not st.guardian.given(ConsentScope.FACE_TO_FACE):
                reasons.append(f"{who} is under 18: their parent or guardian has not consented to a face-to-face meeting")
            if (scheme is Scheme.POST_SENTENCE and party.role is PartyRole.RESPONSIBLE
                    and party.acknowledges_responsibility is not True):
                reasons.append(f"{who} has not acknowledged the basic facts and accepted responsibility")
        elif kind == "indirect":
            ok_own = st.own.given(ConsentScope.INDIRECT_ONLY) or st.own.given(ConsentScope.FACE_TO_FACE)
            ok_guard = st.guardian.given(ConsentScope.INDIRECT_ONLY) or st.guardian.given(ConsentScope.FACE_TO_FACE)
            if not ok_own:
                reasons.append(f"{who} has not consented to indirect contact")
            elif st.needs_guardian and st.has_guardian and not ok_guard:
                reasons.append(f"{who} is under 18: their parent or guardian has not consented to indirect contact")
    if kind == "restorative":
        if parties and principals < 2:
            reasons.append("A meeting that brings parties together needs at least two parties")
        if case.level == 3:
            ra = latest_risk_assessment(case)
            if ra is None:
                reasons.append("This is a Level 3 case: a risk assessment signed off by a manager is needed "
                               "before any face-to-face meeting, and none is recorded")
            elif ra.signed_off_at is None:
                reasons.append("This is a Level 3 case: a manager must sign off the latest risk assessment "
                               "before any face-to-face meeting")
        reason = _risk_review_after_preparation(case)
        if reason:
            reasons.append(reason)
    return GateResult(allowed=not reasons, reasons=reasons)


def _risk_review_after_preparation(case: Case) -> str | None:
    """Risk is assessed again after the preparation meetings: once any preparation meeting has been
    held, the parties meet only after a risk assessment at the 'after preparation' stage recorded
    since the last of them."""
    from sqlalchemy import func

    from rj.scheduling.models import Meeting, MeetingKind, MeetingStatus

    last_prep = db.session.scalar(select(func.max(Meeting.ends_at)).where(
        Meeting.case_id == case.id, Meeting.kind == MeetingKind.PREPARATION, Meeting.status == MeetingStatus.HELD))
    if last_prep is None:
        return None
    if last_prep.tzinfo is None:  # SQLite's max() returns the stored naive UTC value
        from rj.core.time import UTC

        last_prep = last_prep.replace(tzinfo=UTC)
    reviewed = db.session.scalar(select(RiskAssessment.id).where(
        RiskAssessment.case_id == case.id, RiskAssessment.stage == RiskStage.AFTER_PREPARATION,
        RiskAssessment.assessed_at >= last_prep).limit(1))
    if reviewed is None:
        return ("The risk assessment must be reviewed after the preparation meetings "
                "(record one at the 'after preparation' stage) before the parties meet")
    return None


# ---------------------------------------------------------------------------------------------
# Online consent links
# ---------------------------------------------------------------------------------------------

def issue_consent_link(party: Party, *, actor, now: datetime | None = None, days: int = CONSENT_LINK_DAYS) -> str:
    """A one-time link to the online consent page: random, stored hashed, expiring, single use.
    Sent through the outbox when the person has an email address; the coordinator can also copy it.
    For a parent or guardian, their answer is recorded as the guardian's consent for the child."""
    now = now or now_utc()
    _check_open(party)
    if party.role is PartyRole.GUARDIAN and (party.guardian_for is None or party.guardian_for.removed_at is not None):
        raise DomainError("This parent or guardian is not linked to a party under 18")
    token, token_hash = new_token()
    link = ConsentLink(case_id=party.case_id, party_id=party.id, token_hash=token_hash,
                       created_by_id=getattr(actor, "id", None), created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(link)
    db.session.flush()
    record("consent.link_issued", link, actor=actor, case_id=party.case_id, now=now,
           detail={"party_id": party.id, "emailed": bool(party.email)})
    if party.email:
        try:
            from rj.notifications.services import queue_consent_link
        except ImportError:
            queue_consent_link = None
        if queue_consent_link is not None:
            queue_consent_link(party, token)
    return token


def find_consent_link(token: str, *, now: datetime | None = None) -> ConsentLink | None:
    """The link behind a token, if it is unused, unexpired and its case and party are still live."""
    now = now or now_utc()
    link = db.session.scalar(select(ConsentLink).where(ConsentLink.token_hash == hash_token(token or "")))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    party = link.party
    if party.removed_at is not None or not party.case.is_open:
        return None
    return link


def answer_consent_link(token: str, *, agree: bool, scopes, now: datetime | None = None) -> list[ConsentRecord]:
    """Record a person's online answer: the page gave them the information, so that is recorded too,
    then their consent given or declined (method online, recorded by nobody). The link is used up."""
    now = now or now_utc()
    link = find_consent_link(token, now=now)
    if link is None:
        raise DomainError("This link has expired or has already been used")
    person = link.party
    if person.role is PartyRole.GUARDIAN:
        subject, given_by, guardian = person.guardian_for, GivenBy.GUARDIAN, person
    else:
        subject, given_by, guardian = person, GivenBy.PARTY, None
    scopes = list(scopes or [])
    if agree and ConsentScope.TAKE_PART.value not in scopes:
        scopes.insert(0, ConsentScope.TAKE_PART.value)
    if not agree:
        scopes = [ConsentScope.TAKE_PART.value]
    kind = ConsentKind.CONSENT_GIVEN if agree else ConsentKind.CONSENT_DECLINED
    validate_consent_answer(subject, kind=kind, scopes=scopes, given_by=given_by, assume_informed=True)
    record_information(subject, how=InformationHow.ONLINE, leaflet="Online consent page", given_by=given_by,
                       guardian=guardian, actor=None, now=now)
    rows = record_consent(subject, kind=kind, scopes=scopes, method=ConsentMethod.ONLINE, given_by=given_by,
                          guardian=guardian, actor=None, now=now)
    link.used_at = now
    record("consent.link_used", link, actor=None, case_id=link.case_id, fields=["used_at"], now=now)
    return rows


# ---------------------------------------------------------------------------------------------
# Suitability and risk
# ---------------------------------------------------------------------------------------------

def latest_suitability_for(case: Case) -> Suitability | None:
    return db.session.scalar(select(Suitability).where(Suitability.case_id == case.id)
                             .order_by(Suitability.decided_at.desc(), Suitability.id.desc()).limit(1))


def record_suitability(case: Case, *, flags, under_18s: bool, decision, reasons: str, actor,
                       now: datetime | None = None) -> Suitability:
    """The coordinator's screening on accepting a case: sensitive flags, under-18s, decision and why."""
    now = now or now_utc()
    flags = list(dict.fromkeys(flags or []))
    unknown = [f for f in flags if f not in SENSITIVE_FLAGS]
    if unknown:
        raise DomainError("Select sensitive-case flags from the list", field="flags")
    try:
        decision = SuitabilityDecision(decision)
    except ValueError:
        raise DomainError("Select whether the case is suitable", field="decision") from None
    if not (reasons or "").strip():
        raise DomainError("Give the reasons for the decision", field="reasons")
    if flags and decision is SuitabilityDecision.SUITABLE and len(reasons.strip()) < 20:
        raise DomainError("This case has sensitive flags: explain why it is still suitable and how it will be "
                          "handled safely", field="reasons")
    s = Suitability(case_id=case.id, flags=flags, under_18s=bool(under_18s), decision=decision,
                    reasons=reasons.strip(), decided_by_id=getattr(actor, "id", None), decided_at=now)
    db.session.add(s)
    db.session.flush()
    record("suitability.recorded", s, actor=actor, case_id=case.id, now=now,
           fields=["flags", "under_18s", "decision", "reasons"], detail={"decision": decision.value, "flags": flags})
    return s


def latest_risk_assessment(case: Case) -> RiskAssessment | None:
    return db.session.scalar(select(RiskAssessment).where(RiskAssessment.case_id == case.id)
                             .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()).limit(1))


def _is_none(text: str) -> bool:
    return text.strip().lower().rstrip(".") in ("none", "none identified", "no risks identified", "no risks", "n/a")


def record_risk_assessment(case: Case, *, stage, items: list[dict], actor, now: datetime | None = None) -> RiskAssessment:
    """Risks to every party and to the facilitators, each with how it is managed. `items` holds one
    dict per subject: party_id (None for facilitators), risk, management. Write "none identified"
    where there is no risk; every risk named needs its management."""
    now = now or now_utc()
    try:
        stage = RiskStage(stage)
    except ValueError:
        raise DomainError("Select the stage of this assessment", field="stage") from None
    parties = {p.id: p for p in active_parties(case) if p.role.is_principal}
    by_subject = {item.get("party_id"): item for item in items}
    for subject in [*parties, None]:
        item = by_subject.get(subject) or {}
        key = f"p{subject}" if subject else "facilitators"
        name = parties[subject].display(case.scheme) if subject else "the facilitators"
        risk = (item.get("risk") or "").strip()
        management = (item.get("management") or "").strip()
        if not risk:
            raise DomainError(f"Describe the risks to {name}, or write 'none identified'", field=f"risk_{key}")
        if not management and not _is_none(risk):
            raise DomainError(f"Say how the risks to {name} will be managed", field=f"management_{key}")
    ra = RiskAssessment(case_id=case.id, stage=stage, assessed_by_id=getattr(actor, "id", None), assessed_at=now)
    for subject in [*parties, None]:
        item = by_subject.get(subject) or {}
        ra.items.append(RiskItem(party_id=subject, risk=item["risk"].strip(),
                                 management=(item.get("management") or "").strip() or "No action needed"))
    db.session.add(ra)
    db.session.flush()
    record("risk.assessed", ra, actor=actor, case_id=case.id, now=now, detail={"stage": stage.value})
    return ra


def sign_off_risk_assessment(ra: RiskAssessment, *, actor, version=None, now: datetime | None = None) -> RiskAssessment:
    """A manager signs off a risk assessment (needed for Level 3 before any face-to-face meeting).
    A coordinator cannot."""
    now = now or now_utc()
    if not has_perm(actor, Perm.RISK_SIGNOFF):
        raise NotAllowed("Only a manager can sign off a risk assessment")
    if version is not None:
        check_version(ra, version)
    if ra.signed_off_at is not None:
        raise DomainError("This risk assessment is already signed off")
    ra.signed_off_by_id = actor.id
    ra.signed_off_at = now
    db.session.flush()
    record("risk.signed_off", ra, actor=actor, case_id=ra.case_id, fields=["signed_off_by_id", "signed_off_at"], now=now)
    return ra


# ---------------------------------------------------------------------------------------------
# Notes
# ---------------------------------------------------------------------------------------------

def add_case_note(case: Case, *, body: str, kind: str = "preparation", actor, now: datetime | None = None) -> CaseNote:
    """A note on the case file, with who wrote it. The audit trail records that a note was added,
    never what it says."""
    now = now or now_utc()
    body = (body or "").strip()
    if not body:
        raise DomainError("Enter the note", field="body")
    if kind not in ("preparation", "general"):
        raise DomainError("Select the kind of note", field="kind")
    note = CaseNote(case_id=case.id, kind=kind, body=body, author_id=getattr(actor, "id", None), created_at=now)
    db.session.add(note)
    db.session.flush()
    record("note.added", note, actor=actor, case_id=case.id, now=now, detail={"kind": kind})
    return note


# ---------------------------------------------------------------------------------------------
# Victims' Code clocks
# ---------------------------------------------------------------------------------------------

@dataclass
class ClockItem:
    case: Case
    party: Party
    clock: str               # first_contact | rj_information
    due: date
    done_at: datetime | None
    status: str              # done | due | overdue

    @property
    def label(self) -> str:
        return "First contact" if self.clock == "first_contact" else "Information about restorative justice"


def victims_code_clocks(cases, *, today: date | None = None, include_done: bool = False) -> list[ClockItem]:
    """For each person a Victims' Code applies to: first contact within 2 working days of the
    referral, information about RJ within 5 working days (1 with enhanced rights). Weekends and
    England and Wales bank holidays do not count. Two queries however many cases."""
    today = today or local_today()
    cases = {c.id: c for c in cases}
    if not cases:
        return []
    parties = list(db.session.scalars(
        select(Party).where(Party.case_id.in_(list(cases)), Party.victims_code.is_(True), Party.removed_at.is_(None))
        .order_by(Party.case_id, Party.id)
    ))
    informed = dict(db.session.execute(
        select(ConsentRecord.party_id, func.min(ConsentRecord.recorded_at))
        .where(ConsentRecord.party_id.in_([p.id for p in parties]),
               ConsentRecord.kind == ConsentKind.INFORMATION_GIVEN, ConsentRecord.given_by == GivenBy.PARTY)
        .group_by(ConsentRecord.party_id)
    ).all()) if parties else {}
    items = []
    for p in parties:
        case = cases[p.case_id]
        start = to_local(case.referred_at).date()
        for clock, days, done_at in (
            ("first_contact", 2, p.first_contact_at),
            ("rj_information", 1 if p.enhanced_rights else 5, informed.get(p.id)),
        ):
            if done_at is not None and done_at.tzinfo is None:
                from rj.core.time import UTC

                done_at = done_at.replace(tzinfo=UTC)
            due = add_working_days(start, days)
            if done_at is not None:
                status = "done"
            else:
                status = "overdue" if today > due else "due"
            if status != "done" or include_done:
                items.append(ClockItem(case=case, party=p, clock=clock, due=due, done_at=done_at, status=status))
    items.sort(key=lambda i: (i.status != "overdue", i.due, i.case.id, i.party.id))
    return items
