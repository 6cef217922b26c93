"""Outcomes and follow-up: recording what a meeting decided, checking it was kept, closing the
case, feedback surveys and Level 1 records. Services flush; the request or job commits."""
from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from rj.agreements.models import (
    Agreement, AgreementItem, AgreementStatus, FeedbackRequest, FeedbackResponse, FeedbackStage, FollowUpContact,
    IndirectMessage, ItemKind, ItemStatus, Level1Party, Level1Record, MeetingOutcome, NotHeldReason,
)
from rj.audit.services import record
from rj.cases.models import Case, CaseStatus, CloseReason, Scheme
from rj.core.errors import DomainError, check_version
from rj.core.permissions import Perm, has_perm
from rj.core.time import from_local, local_today, now_utc, to_local
from rj.core.tokens import hash_token, new_token
from rj.extensions import db

FEEDBACK_LINK_DAYS = 30
FOLLOW_UP_MONTHS = 3
ANSWERS = ("yes", "partly", "no")
OUTCOME_KINDS = ("restorative", "indirect", "follow_up")

# --- who may record ---------------------------------------------------------------------------


def _facilitator_for_user(user):
    try:
        from rj.facilitators.services import facilitator_for_user
    except ImportError:  # pragma: no cover - facilitators domain always present in the integrated app
        from rj.facilitators.models import Facilitator

        return db.session.scalar(select(Facilitator).where(Facilitator.user_id == user.id))
    return facilitator_for_user(user)


def can_record_for_meeting(user, meeting) -> bool:
    """Coordinators and managers record outcomes for any meeting; a facilitator only for a meeting
    they were on."""
    if has_perm(user, Perm.OUTCOMES_RECORD):
        return True
    if not has_perm(user, Perm.CASES_ROSTERED):
        return False
    from rj.scheduling.models import MeetingFacilitator

    facilitator = _facilitator_for_user(user)
    if facilitator is None:
        return False
    meeting_id = getattr(meeting, "id", meeting)
    return db.session.scalar(select(MeetingFacilitator.id).where(
        MeetingFacilitator.meeting_id == meeting_id, MeetingFacilitator.facilitator_id == facilitator.id)) is not None


# --- SoRT-IT and post-sentence rules ----------------------------------------------------------

_MONEY = [
    (re.compile(r"£\s*\d|\b\d+(\.\d\d)?\s*(pounds?|quid|gbp)\b", re.I), "a sum of money"),
    (re.compile(r"\b(pay|pays|paying|paid|payment|payments|repay|repays|repayment)\b", re.I), "a payment"),
    (re.compile(r"\bcompensat\w*", re.I), "compensation"),
    (re.compile(r"\b(cash|money)\b", re.I), "money"),
]
_FINE = (re.compile(r"\bfine[sd]?\b", re.I), "a fine")
_PUNISH = (re.compile(r"\bpunish\w*|\bpenalt(y|ies)\b", re.I), "a punishment")
_GUILT = (re.compile(r"\bguilt(y|ily)?\b|\bconvict(ed|ion)?\b", re.I), "guilt")


def agreement_problems(scheme: Scheme | str | None, text: str) -> list[str]:
    """What in `text` an agreement in this scheme may not hold. SoRT-IT: no payment, fine or
    punishment and no finding of guilt. Post-sentence: reparation may be financial, never a fine."""
    sortit = _scheme(scheme) is not Scheme.POST_SENTENCE
    checks = [*_MONEY, _FINE, _PUNISH, _GUILT] if sortit else [_FINE, _PUNISH]
    found = []
    for pattern, name in checks:
        if pattern.search(text or "") and name not in found:
            found.append(name)
    return found


def _scheme(scheme) -> Scheme:
    if scheme is None:
        return Scheme.SORTIT  # no scheme yet: keep the stricter rules
    return Scheme(getattr(scheme, "value", scheme))


def item_kinds_for(scheme) -> list[ItemKind]:
    """Financial reparation is offered only in post-sentence cases."""
    if _scheme(scheme) is Scheme.POST_SENTENCE:
        return list(ItemKind)
    return [k for k in ItemKind if k is not ItemKind.FINANCIAL_REPARATION]


def _refuse_problems(scheme, text: str, field: str) -> None:
    problems = agreement_problems(scheme, text)
    if not problems:
        return
    listed = " or ".join(problems)
    if _scheme(scheme) is Scheme.POST_SENTENCE:
        raise DomainError(
            f"This mentions {listed}. A post-sentence agreement may include reparation but never a fine "
            "or a punishment: the sentence deals with that. Describe the reparation instead.", field=field)
    raise DomainError(
        f"This mentions {listed}. A SoRT-IT agreement cannot contain a payment, a fine or a punishment, and "
        "does not record guilt. Describe what the parties will do instead, such as an apology or repairing "
        "the damage themselves.", field=field)


# --- recording the meeting --------------------------------------------------------------------


def _meeting_date(meeting) -> date:
    return to_local(meeting.starts_at).date()


def get_outcome(meeting) -> MeetingOutcome | None:
    return db.session.scalar(select(MeetingOutcome).where(MeetingOutcome.meeting_id == meeting.id))


def record_meeting_outcome(meeting, *, went_ahead: bool, attended_party_ids=(), attended_facilitator_ids=(),
                           agreement_reached: bool | None = None, not_held_reason=None, actor,
                           now: datetime | None = None, version=None) -> MeetingOutcome:
    """Record whether a restorative meeting or indirect session went ahead, who attended and whether
    an agreement was reached. The meeting becomes held / did not go ahead (through scheduling's
    service) and a held meeting moves the case to "meeting held"; an agreement reached is started
    at once (create_agreement), ready for its items."""
    from rj.scheduling.models import MeetingStatus

    now = now or now_utc()
    kind = getattr(meeting.kind, "value", meeting.kind)
    if kind not in OUTCOME_KINDS:
        raise DomainError("Outcomes are recorded for restorative meetings, indirect sessions and follow-ups only")
    if meeting.starts_at > now:
        raise DomainError("This meeting has not started yet: record its outcome after it has taken place")
    outcome = get_outcome(meeting)
    if outcome is not None and version is not None:
        check_version(outcome, version)
    if meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.RESCHEDULED, MeetingStatus.PROPOSED):
        raise DomainError(f"This meeting is {meeting.status.label.lower()}, so it has no outcome to record")
    attended_party_ids = {int(i) for i in attended_party_ids}
    attended_facilitator_ids = {int(i) for i in attended_facilitator_ids}
    if went_ahead:
        if not attended_party_ids:
            raise DomainError("Select the parties who attended", field="attended_parties")
        if agreement_reached is None:
            raise DomainError("Select whether an agreement was reached", field="agreement_reached")
        not_held_reason = None
    else:
        agreement_reached = None
        if not_held_reason in (None, ""):
            raise DomainError("Select why the meeting did not go ahead", field="not_held_reason")
        try:
            not_held_reason = NotHeldReason(not_held_reason)
        except ValueError:
            raise DomainError("Select why the meeting did not go ahead", field="not_held_reason") from None
    if outcome is not None and outcome.went_ahead != went_ahead:
        raise DomainError("This meeting is already recorded as "
                          + ("held" if outcome.went_ahead else "not going ahead")
                          + ". That cannot be changed here: ask a manager to correct it", field="went_ahead")
    if outcome is not None and outcome.went_ahead and agreement_reached is False and _agreement_for_meeting(meeting):
        raise DomainError("An agreement is already recorded for this meeting", field="agreement_reached")

    for mp in meeting.parties:
        mp.attended = mp.party_id in attended_party_ids
    for mf in meeting.facilitators:
        mf.attended = mf.facilitator_id in attended_facilitator_ids

    if meeting.status is MeetingStatus.BOOKED:
        _mark_meeting(meeting, went_ahead=went_ahead, reason=not_held_reason, actor=actor, now=now)
    if went_ahead:
        _move_case(meeting.case, CaseStatus.MEETING_HELD, actor=actor, now=now)

    fields = ["went_ahead", "agreement_reached", "not_held_reason", "attended"]
    if outcome is None:
        outcome = MeetingOutcome(case_id=meeting.case_id, meeting_id=meeting.id, recorded_at=now)
        db.session.add(outcome)
        action = "meeting_outcome.recorded"
    else:
        action = "meeting_outcome.updated"
    outcome.went_ahead = went_ahead
    outcome.agreement_reached = agreement_reached
    outcome.not_held_reason = not_held_reason
    outcome.recorded_by_id = actor.id if actor else None
    db.session.flush()
    record(action, outcome, actor=actor, case_id=meeting.case_id, fields=fields, now=now,
           detail={"meeting_id": meeting.id, "went_ahead": went_ahead, "agreement_reached": agreement_reached,
                   "parties_attended": len(attended_party_ids), "parties_invited": len(meeting.parties)})
    if agreement_reached and meeting.case.is_open:
        create_agreement(meeting, actor=actor, now=now)
    return outcome


def _mark_meeting(meeting, *, went_ahead: bool, reason, actor, now) -> None:
    """Scheduling owns the meeting lifecycle: use its service (which records attendance too)."""
    from rj.scheduling.models import MeetingStatus

    try:
        from rj.scheduling import services as scheduling
    except ImportError:  # pragma: no cover - scheduling is part of the integrated app
        scheduling = None
    reason_code = getattr(reason, "value", reason)
    absent_parties = [mp.party_id for mp in meeting.parties if not mp.attended]
    absent_facilitators = [mf.facilitator_id for mf in meeting.facilitators if not mf.attended]
    if went_ahead and hasattr(scheduling, "mark_meeting_held"):
        scheduling.mark_meeting_held(meeting, actor=actor, now=now, absent_party_ids=absent_parties,
                                     absent_facilitator_ids=absent_facilitators)
        return
    if not went_ahead and hasattr(scheduling, "mark_meeting_did_not_go_ahead"):
        scheduling.mark_meeting_did_not_go_ahead(meeting, actor=actor, now=now, reason=reason_code,
                                                 absent_party_ids=absent_parties,
                                                 absent_facilitator_ids=absent_facilitators)
        return
    old = meeting.status  # pragma: no cover - fallback while scheduling had no such service
    meeting.transition(MeetingStatus.HELD if went_ahead else MeetingStatus.DID_NOT_GO_AHEAD)  # pragma: no cover
    if not went_ahead:  # pragma: no cover
        meeting.did_not_go_ahead_reason = reason_code
    record("meeting.held" if went_ahead else "meeting.did_not_go_ahead", meeting, actor=actor,  # pragma: no cover
           case_id=meeting.case_id, fields=["status"], now=now,
           detail={"from": old.value, "to": meeting.status.value, **({"reason": reason_code} if reason_code else {})})


def _move_case(case: Case, status: CaseStatus, *, actor, now) -> None:
    """Move the case along if its lifecycle allows; otherwise leave it where it is."""
    if case.status is status or not case.can_transition(status):
        return
    from rj.cases.services import change_case_status

    change_case_status(case, status, actor=actor, now=now)


# --- the agreement -------------------------------------------------------------------------------


def _agreement_for_meeting(meeting) -> Agreement | None:
    return db.session.scalar(select(Agreement).where(Agreement.meeting_id == meeting.id))


def create_agreement(meeting, *, actor, now: datetime | None = None) -> Agreement:
    """Start the agreement reached at a meeting (items are added one by one). The case moves to
    "monitoring agreement" where its lifecycle allows."""
    now = now or now_utc()
    case = meeting.case
    if not case.is_open:
        raise DomainError("This case is closed: an agreement cannot be added to it")
    outcome = get_outcome(meeting)
    if outcome is None:
        raise DomainError("Record whether the meeting went ahead before recording the agreement")
    if not outcome.agreement_reached:
        raise DomainError("The outcome says no agreement was reached: change the outcome first if one was")
    existing = _agreement_for_meeting(meeting)
    if existing is not None:
        return existing
    agreement = Agreement(case_id=case.id, meeting_id=meeting.id, agreed_on=_meeting_date(meeting),
                          status=AgreementStatus.ACTIVE, recorded_by_id=getattr(actor, "id", None), recorded_at=now)
    db.session.add(agreement)
    db.session.flush()
    record("agreement.created", agreement, actor=actor, case_id=case.id, now=now,
           detail={"meeting_id": meeting.id})
    _move_case(case, CaseStatus.MONITORING, actor=actor, now=now)
    return agreement


def add_item(agreement: Agreement, *, kind, description: str | None, party_id, due_on: date | None,
             check_method: str | None, actor, now: datetime | None = None) -> AgreementItem:
    """Add one agreed action: what, who (an active party of the case), by when (not before the
    meeting) and how it will be checked. SoRT-IT and post-sentence rules are enforced here."""
    from rj.consent.models import Party

    now = now or now_utc()
    case = agreement.case
    if agreement.status is not AgreementStatus.ACTIVE or not case.is_open:
        raise DomainError("This agreement is no longer being followed up, so items cannot be added")
    scheme = case.scheme
    try:
        kind = ItemKind(kind)
    except ValueError:
        raise DomainError("Select what kind of action this is", field="kind") from None
    if kind not in item_kinds_for(scheme):
        raise DomainError("A SoRT-IT agreement cannot include financial reparation: it cannot contain a payment",
                          field="kind")
    if not description:
        raise DomainError("Describe what will be done", field="description")
    _refuse_problems(scheme, description, "description")
    if not party_id:
        raise DomainError("Select who will do this: every action needs a person responsible for it", field="party_id")
    party = db.session.get(Party, int(party_id))
    if party is None or party.case_id != case.id or party.removed_at is not None:
        raise DomainError("Select who will do this from the parties of this case", field="party_id")
    if due_on is None:
        raise DomainError("Enter the date it will be done by", field="due_on")
    if due_on < agreement.agreed_on:
        raise DomainError(f"The date it will be done by must be on or after the meeting on "
                          f"{agreement.agreed_on:%-d %B %Y}", field="due_on")
    if not check_method:
        raise DomainError("Say how the service will check it was done", field="check_method")
    _refuse_problems(scheme, check_method, "check_method")
    item = AgreementItem(agreement=agreement, case_id=case.id, kind=kind, description=description,
                         party_id=party.id, due_on=due_on, check_method=check_method, status=ItemStatus.PENDING)
    db.session.add(item)
    db.session.flush()
    record("agreement_item.added", item, actor=actor, case_id=case.id, now=now,
           fields=["kind", "description", "party_id", "due_on", "check_method"],
           detail={"agreement_id": agreement.id, "kind": kind.value})
    return item


def remove_item(item: AgreementItem, *, actor, now: datetime | None = None, version=None) -> None:
    """A pending item entered by mistake can be removed while the agreement is followed up."""
    now = now or now_utc()
    if version is not None:
        check_version(item, version)
    if item.status is not ItemStatus.PENDING or item.agreement.status is not AgreementStatus.ACTIVE:
        raise DomainError("Only a pending item can be removed")
    agreement = item.agreement
    agreement.items.remove(item)
    record("agreement_item.removed", object_type="agreement_item", object_id=item.id, actor=actor,
           case_id=item.case_id, now=now, detail={"agreement_id": agreement.id})
    db.session.flush()


def mark_item_done(item: AgreementItem, *, evidence: str | None, actor, now: datetime | None = None,
                   version=None) -> AgreementItem:
    """An item is done only with evidence, verified by the person recording it."""
    now = now or now_utc()
    if version is not None:
        check_version(item, version)
    if not evidence:
        raise DomainError("Say how you know it was done (the evidence)", field="evidence")
    _check_item_open(item)
    old = item.status
    item.transition(ItemStatus.DONE)
    item.evidence = evidence
    item.verified_by_id = getattr(actor, "id", None)
    item.resolved_at = now
    record("agreement_item.done", item, actor=actor, case_id=item.case_id, now=now,
           fields=["status", "evidence", "verified_by_id", "resolved_at"],
           detail={"from": old.value, "to": "done"})
    _refresh_agreement(item.agreement, actor=actor, now=now)
    return item


def mark_item_not_kept(item: AgreementItem, *, reason: str | None, actor, now: datetime | None = None,
                       version=None) -> AgreementItem:
    now = now or now_utc()
    if version is not None:
        check_version(item, version)
    if not reason:
        raise DomainError("Say why it was not kept", field="reason")
    _check_item_open(item)
    old = item.status
    item.transition(ItemStatus.NOT_KEPT)
    item.not_kept_reason = reason
    item.resolved_at = now
    record("agreement_item.not_kept", item, actor=actor, case_id=item.case_id, now=now,
           fields=["status", "not_kept_reason", "resolved_at"], detail={"from": old.value, "to": "not_kept"})
    _refresh_agreement(item.agreement, actor=actor, now=now)
    return item


def _check_item_open(item: AgreementItem) -> None:
    if not item.agreement.case.is_open:
        raise DomainError("This case is closed: its agreement can no longer be changed")


def _refresh_agreement(agreement: Agreement, *, actor, now) -> None:
    """All items done: completed. All resolved with some not kept: not kept."""
    if agreement.status is not AgreementStatus.ACTIVE or not agreement.all_resolved:
        return
    new = (AgreementStatus.COMPLETED if all(i.status is ItemStatus.DONE for i in agreement.items)
           else AgreementStatus.NOT_KEPT)
    agreement.transition(new)
    agreement.ended_at = now
    record("agreement." + new.value, agreement, actor=actor, case_id=agreement.case_id, now=now,
           fields=["status", "ended_at"], detail={"from": "active", "to": new.value})


def record_agreement_not_kept(agreement: Agreement, *, reason: str | None, actor, now: datetime | None = None,
                              version=None) -> Agreement:
    """The coordinator records the agreement as not kept: every pending item becomes not kept with
    the same reason, so the case can close with reason "agreement not kept"."""
    now = now or now_utc()
    if version is not None:
        check_version(agreement, version)
    if not reason:
        raise DomainError("Say why the agreement was not kept", field="reason")
    if agreement.status is not AgreementStatus.ACTIVE:
        raise DomainError(f"This agreement is already {agreement.status.label.lower()}")
    if not agreement.items:
        raise DomainError("This agreement has no items yet: add what was agreed first")
    for item in agreement.items:
        if item.status is ItemStatus.PENDING:
            item.transition(ItemStatus.NOT_KEPT)
            item.not_kept_reason = reason
            item.resolved_at = now
            record("agreement_item.not_kept", item, actor=actor, case_id=item.case_id, now=now,
                   fields=["status", "not_kept_reason", "resolved_at"], detail={"from": "pending", "to": "not_kept"})
    agreement.transition(AgreementStatus.NOT_KEPT)
    agreement.not_kept_reason = reason
    agreement.ended_at = now
    record("agreement.not_kept", agreement, actor=actor, case_id=agreement.case_id, now=now,
           fields=["status", "not_kept_reason", "ended_at"], detail={"from": "active", "to": "not_kept"})
    return agreement


def agreements_for_case(case: Case) -> list[Agreement]:
    return list(db.session.scalars(
        select(Agreement).where(Agreement.case_id == case.id).options(selectinload(Agreement.items))
        .order_by(Agreement.agreed_on, Agreement.id)))


def close_reason_for(case: Case) -> CloseReason:
    """The coded reason the case would close with, or a DomainError saying what is still open."""
    agreements = agreements_for_case(case)
    if not agreements:
        raise DomainError("This case has no agreement to close it on: close it from the case page with another reason")
    pending = sum(1 for a in agreements for i in a.items if i.status is ItemStatus.PENDING)
    if pending:
        raise DomainError(
            f"{pending} agreed {'action is' if pending == 1 else 'actions are'} still pending. Record each as done "
            "or not kept, or record the agreement as not kept, before closing the case")
    if any(not a.items for a in agreements):
        raise DomainError("An agreement has no items: add what was agreed, or record it as not kept")
    if all(a.status is AgreementStatus.COMPLETED for a in agreements):
        return CloseReason.AGREEMENT_COMPLETED
    return CloseReason.AGREEMENT_NOT_KEPT


def close_case_on_agreement(case: Case, *, actor, now: datetime | None = None, version=None) -> Case:
    """Close the case when every agreed action is done (agreement completed) or the agreement is
    recorded as not kept. Refused, saying why, while anything is still pending."""
    from rj.cases.services import close_case

    now = now or now_utc()
    if version is not None:
        check_version(case, version)
    if not case.is_open:
        raise DomainError("This case is already closed")
    reason = close_reason_for(case)
    close_case(case, reason=reason, actor=actor, now=now)
    return case


def overdue_items(now: datetime | None = None) -> list[AgreementItem]:
    """Agreed actions past their date and still pending, oldest first, each with its case_id.
    Used by the overdue page and the worker's reminder job."""
    today = local_today(now or now_utc())
    return list(db.session.scalars(
        select(AgreementItem)
        .join(Agreement, Agreement.id == AgreementItem.agreement_id)
        .where(AgreementItem.status == ItemStatus.PENDING, AgreementItem.due_on < today,
               Agreement.status == AgreementStatus.ACTIVE)
        .options(selectinload(AgreementItem.agreement).selectinload(Agreement.case), selectinload(AgreementItem.party))
        .order_by(AgreementItem.due_on, AgreementItem.id)))


def mark_reminded(item: AgreementItem, *, now: datetime | None = None) -> None:
    """For the reminder job: remember that a reminder went out, so it is not repeated every run."""
    item.reminded_at = now or now_utc()


# --- follow-up contact -------------------------------------------------------------------------


def default_follow_up_date(agreement: Agreement) -> date:
    return add_months(agreement.agreed_on, FOLLOW_UP_MONTHS)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 May + 3 months = 31 August;
    30 November + 3 months = 28 or 29 February)."""
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def book_follow_up(case: Case, *, due_on: date | None, method: str, agreement: Agreement | None = None, actor,
                   now: datetime | None = None) -> FollowUpContact:
    """Plan a follow-up contact with the parties (say three months on). A follow-up meeting at a
    venue is booked through scheduling as usual; this keeps the date the service promised."""
    now = now or now_utc()
    if not case.is_open:
        raise DomainError("This case is closed: a follow-up cannot be booked")
    if due_on is None:
        raise DomainError("Enter the date of the follow-up contact", field="due_on")
    if due_on <= local_today(now):
        raise DomainError("The follow-up date must be in the future", field="due_on")
    if method not in FOLLOW_UP_METHODS:
        raise DomainError("Select how the follow-up will be made", field="method")
    contact = FollowUpContact(case_id=case.id, agreement_id=getattr(agreement, "id", None), due_on=due_on,
                              method=method, booked_by_id=getattr(actor, "id", None), booked_at=now)
    db.session.add(contact)
    db.session.flush()
    record("follow_up.booked", contact, actor=actor, case_id=case.id, now=now, fields=["due_on", "method"])
    return contact


FOLLOW_UP_METHODS = {"phone": "Phone call", "visit": "Visit", "email": "Email", "letter": "Letter",
                     "meeting": "Follow-up meeting"}


def complete_follow_up(contact: FollowUpContact, *, actor, now: datetime | None = None) -> FollowUpContact:
    now = now or now_utc()
    if contact.done_at is not None:
        raise DomainError("This follow-up is already recorded as done")
    contact.done_at = now
    record("follow_up.done", contact, actor=actor, case_id=contact.case_id, now=now, fields=["done_at"])
    return contact


# --- indirect restorative justice ---------------------------------------------------------------

MESSAGE_KINDS = {"letter": "Letter", "message": "Message passed on by a facilitator", "recording": "Audio or video recording"}


def record_indirect_message(case: Case, *, kind: str, sent_on: date | None, from_party_id, to_party_id,
                            delivered: bool, delivered_on: date | None, meeting=None, actor,
                            now: datetime | None = None) -> IndirectMessage:
    """A letter or message passed between parties in an indirect process: only the fact of it
    (date, from, to, delivered), not what it said."""
    from rj.consent.models import Party

    now = now or now_utc()
    today = local_today(now)
    if kind not in MESSAGE_KINDS:
        raise DomainError("Select what was passed on", field="kind")
    if sent_on is None:
        raise DomainError("Enter the date it was passed on", field="sent_on")
    if sent_on > today:
        raise DomainError("The date it was passed on must be today or in the past", field="sent_on")
    parties = {}
    for field, pid in (("from_party_id", from_party_id), ("to_party_id", to_party_id)):
        party = db.session.get(Party, int(pid)) if pid else None
        if party is None or party.case_id != case.id or party.removed_at is not None:
            raise DomainError("Select " + ("who it was from" if field == "from_party_id" else "who it was for")
                              + " from the parties of this case", field=field)
        parties[field] = party
    if parties["from_party_id"].id == parties["to_party_id"].id:
        raise DomainError("A message goes from one party to another: choose two different people", field="to_party_id")
    if delivered:
        if delivered_on is None:
            raise DomainError("Enter the date it was delivered", field="delivered_on")
        if delivered_on < sent_on or delivered_on > today:
            raise DomainError("The delivery date must be between the date it was passed on and today", field="delivered_on")
    else:
        delivered_on = None
    message = IndirectMessage(case_id=case.id, meeting_id=getattr(meeting, "id", None), kind=kind, sent_on=sent_on,
                              from_party_id=parties["from_party_id"].id, to_party_id=parties["to_party_id"].id,
                              delivered=bool(delivered), delivered_on=delivered_on,
                              recorded_by_id=getattr(actor, "id", None), recorded_at=now)
    db.session.add(message)
    db.session.flush()
    record("indirect_message.recorded", message, actor=actor, case_id=case.id, now=now,
           fields=["kind", "sent_on", "from_party_id", "to_party_id", "delivered", "delivered_on"])
    return message


def mark_message_delivered(message: IndirectMessage, *, delivered_on: date | None, actor,
                           now: datetime | None = None, version=None) -> IndirectMessage:
    now = now or now_utc()
    if version is not None:
        check_version(message, version)
    if message.delivered:
        raise DomainError("This is already recorded as delivered")
    if delivered_on is None:
        raise DomainError("Enter the date it was delivered", field="delivered_on")
    if delivered_on < message.sent_on or delivered_on > local_today(now):
        raise DomainError("The delivery date must be between the date it was passed on and today", field="delivered_on")
    message.delivered = True
    message.delivered_on = delivered_on
    record("indirect_message.delivered", message, actor=actor, case_id=message.case_id, now=now,
           fields=["delivered", "delivered_on"])
    return message


# --- feedback ----------------------------------------------------------------------------------


class FeedbackLinkUnusable(DomainError):
    """The survey link was already used or has expired: nothing is stored."""

    def __init__(self, state: str):
        self.state = state
        super().__init__("This survey has already been answered" if state == "answered"
                         else "This survey link has expired")


def survey_parties(case: Case):
    """Who is asked: the active principal parties and supporters of the case (not guardians)."""
    from rj.consent.models import Party, PartyRole

    return list(db.session.scalars(select(Party).where(
        Party.case_id == case.id, Party.removed_at.is_(None), Party.role != PartyRole.GUARDIAN).order_by(Party.id)))


def create_feedback_requests(case: Case, *, stage, actor, now: datetime | None = None,
                             party_ids=None) -> list[tuple[FeedbackRequest, str]]:
    """One single-use survey link per party, valid for 30 days. A new link replaces an unanswered
    one for the same party and stage. Parties with an email address are sent it through the outbox
    (when notifications has queue_email); the raw tokens are returned once for copyable links."""
    now = now or now_utc()
    try:
        stage = FeedbackStage(stage)
    except ValueError:
        raise DomainError("Select when the survey is being sent", field="stage") from None
    parties = survey_parties(case)
    if party_ids is not None:
        wanted = {int(p) for p in party_ids}
        parties = [p for p in parties if p.id in wanted]
    if not parties:
        raise DomainError("Select at least one party to send the survey to", field="party_ids")
    old = db.session.scalars(select(FeedbackRequest).where(
        FeedbackRequest.case_id == case.id, FeedbackRequest.stage == stage,
        FeedbackRequest.party_id.in_([p.id for p in parties]),
        FeedbackRequest.answered_at.is_(None), FeedbackRequest.expires_at > now))
    for req in old:
        req.expires_at = now
    created = []
    for party in parties:
        token, token_hash = new_token()
        req = FeedbackRequest(case_id=case.id, party_id=party.id, stage=stage, token_hash=token_hash,
                              created_at=now, expires_at=now + timedelta(days=FEEDBACK_LINK_DAYS),
                              created_by_id=getattr(actor, "id", None))
        db.session.add(req)
        db.session.flush()
        record("feedback.requested", req, actor=actor, case_id=case.id, now=now, detail={"stage": stage.value})
        _send_feedback_email(party, token, now=now)
        created.append((req, token))
    return created


def _send_feedback_email(party, token: str, *, now) -> bool:
    """Queue the survey link in the outbox if notifications can; otherwise the coordinator copies it."""
    try:
        from rj.notifications.services import party_wants_email, queue_email
    except ImportError:
        return False
    if not party_wants_email(party):
        return False
    from flask import current_app, url_for

    try:
        link = url_for("agreements.feedback_form", token=token, _external=True)
    except RuntimeError:
        link = current_app.config["BASE_URL"].rstrip("/") + f"/feedback/{token}"
    name = current_app.config["SERVICE_NAME"]
    body = (f"Hello,\n\nThank you for taking part in restorative justice with {name}. We would like to know "
            f"how it went for you. The survey takes about two minutes and your answers are confidential:\n\n{link}\n\n"
            f"The link works once and for {FEEDBACK_LINK_DAYS} days.\n")
    queue_email(recipient=party.email, subject=f"{name}: how did it go?", text=body, kind="feedback_survey",
                case_id=party.case_id, now=now)
    return True


def find_feedback_request(token: str, *, now: datetime | None = None) -> tuple[FeedbackRequest | None, str]:
    """The request for a token and its state: "open", "answered", "expired" or "unknown"."""
    now = now or now_utc()
    if not token or len(token) > 100:
        return None, "unknown"
    req = db.session.scalar(select(FeedbackRequest).where(FeedbackRequest.token_hash == hash_token(token)))
    if req is None:
        return None, "unknown"
    if req.answered_at is not None:
        return req, "answered"
    if req.expires_at <= now:
        return req, "expired"
    return req, "open"


def submit_feedback(token: str, *, satisfaction, felt_safe: str, felt_listened_to: str, would_recommend: str,
                    comments: str | None, now: datetime | None = None) -> FeedbackResponse:
    """Store one party's answers once. A second answer or an expired link raises and stores nothing;
    the single use holds even when two answers arrive at the same moment."""
    now = now or now_utc()
    req, state = find_feedback_request(token, now=now)
    if req is None:
        raise FeedbackLinkUnusable("expired")
    if state != "open":
        raise FeedbackLinkUnusable(state)
    try:
        satisfaction = int(satisfaction)
    except (TypeError, ValueError):
        satisfaction = 0
    if satisfaction not in range(1, 6):
        raise DomainError("Select how satisfied you are, from 1 to 5", field="satisfaction")
    for field, value in (("felt_safe", felt_safe), ("felt_listened_to", felt_listened_to),
                         ("would_recommend", would_recommend)):
        if value not in ANSWERS:
            raise DomainError("Select yes, partly or no", field=field)
    claimed = db.session.execute(
        update(FeedbackRequest).where(FeedbackRequest.id == req.id, FeedbackRequest.answered_at.is_(None))
        .values(answered_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise FeedbackLinkUnusable("answered")
    db.session.refresh(req)
    response = FeedbackResponse(request_id=req.id, case_id=req.case_id, stage=req.stage, satisfaction=satisfaction,
                                felt_safe=felt_safe, felt_listened_to=felt_listened_to,
                                would_recommend=would_recommend, comments=comments or None, submitted_at=now)
    db.session.add(response)
    db.session.flush()
    record("feedback.answered", response, actor=None, case_id=req.case_id, now=now, detail={"stage": req.stage.value})
    return response


def feedback_for_case(case: Case) -> list[FeedbackRequest]:
    return list(db.session.scalars(
        select(FeedbackRequest).where(FeedbackRequest.case_id == case.id)
        .options(selectinload(FeedbackRequest.response), selectinload(FeedbackRequest.party))
        .order_by(FeedbackRequest.created_at.desc(), FeedbackRequest.id)))


def _instant(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return from_local(value, time(0, 0))


def feedback_summary(start, end) -> dict:
    """Counts of survey answers submitted in [start, end) for reports: no names, no comments, no
    case ids. Dates are local days (end exclusive); datetimes are instants."""
    start_at, end_at = _instant(start), _instant(end)
    rows = db.session.execute(
        select(FeedbackResponse.satisfaction, FeedbackResponse.felt_safe, FeedbackResponse.felt_listened_to,
               FeedbackResponse.would_recommend, FeedbackResponse.stage)
        .where(FeedbackResponse.submitted_at >= start_at, FeedbackResponse.submitted_at < end_at)).all()
    sent = db.session.scalar(select(func.count(FeedbackRequest.id)).where(
        FeedbackRequest.created_at >= start_at, FeedbackRequest.created_at < end_at)) or 0
    sat = Counter(r[0] for r in rows)
    summary = {
        "requests_sent": sent,
        "responses": len(rows),
        "satisfaction": {score: sat.get(score, 0) for score in range(1, 6)},
        "satisfied": sum(1 for r in rows if r[0] >= 4),
        "by_stage": {s.value: sum(1 for r in rows if r[4] is s) for s in FeedbackStage},
    }
    for index, key in ((1, "felt_safe"), (2, "felt_listened_to"), (3, "would_recommend")):
        counts = Counter(r[index] for r in rows)
        summary[key] = {answer: counts.get(answer, 0) for answer in ANSWERS}
    return summary


# --- Level 1 -----------------------------------------------------------------------------------

LEVEL1_SIDES = {"harmed": "Person harmed", "responsible": "Person responsible", "other": "Other"}


@dataclass
class Level1PartyInput:
    name: str | None
    side: str | None


def record_level1(*, occurred_on: date | None, area: str | None, parties: list, agreed: str | None,
                  harmed_consulted_and_agreed: bool, responsible_admitted_and_agreed: bool, actor,
                  now: datetime | None = None) -> Level1Record:
    """Record a Level 1 (on-the-spot) resolution after the fact. Only when the basic standards were
    met; it gets its own case, closed as "agreement completed", so it counts in reports. No meetings,
    no rostering."""
    now = now or now_utc()
    if occurred_on is None:
        raise DomainError("Enter the date it happened", field="occurred_on")
    if occurred_on > local_today(now):
        raise DomainError("The date it happened must be today or in the past", field="occurred_on")
    if not area:
        raise DomainError("Enter where it happened (the area)", field="area")
    rows = [Level1PartyInput(getattr(p, "name", None) if not isinstance(p, (tuple, list)) else p[0],
                             getattr(p, "side", None) if not isinstance(p, (tuple, list)) else p[1])
            for p in parties]
    rows = [r for r in rows if r.name or r.side]
    for index, row in enumerate(rows):
        if not row.name:
            raise DomainError(f"Enter a first name or initials for party {index + 1}", field="parties")
        if row.side not in LEVEL1_SIDES:
            raise DomainError(f"Select the side of party {index + 1}", field="parties")
    sides = {r.side for r in rows}
    if "harmed" not in sides or "responsible" not in sides:
        raise DomainError("Enter at least one person harmed and one person responsible", field="parties")
    if not agreed:
        raise DomainError("Enter what was agreed", field="agreed")
    missing = []
    if not harmed_consulted_and_agreed:
        missing.append("the person harmed was consulted and agreed")
    if not responsible_admitted_and_agreed:
        missing.append("the person responsible admitted it and agreed")
    if missing:
        raise DomainError("A Level 1 resolution can only be recorded when the basic standards were met: confirm that "
                          + " and ".join(missing) + ". If they were not, make a referral instead.",
                          field="standards")
    noon = from_local(occurred_on, time(12, 0))
    case = Case(reference=_new_reference(now), status=CaseStatus.CLOSED, scheme=None, level=1, referred_at=noon,
                accepted_at=noon, closed_at=now, close_reason=CloseReason.AGREEMENT_COMPLETED,
                lead_coordinator_id=getattr(actor, "id", None))
    db.session.add(case)
    db.session.flush()
    rec = Level1Record(case_id=case.id, occurred_on=occurred_on, area=area, agreed=agreed,
                       harmed_consulted_and_agreed=True, responsible_admitted_and_agreed=True,
                       recorded_by_id=getattr(actor, "id", None), recorded_at=now)
    rec.parties = [Level1Party(name=r.name, side=r.side) for r in rows]
    db.session.add(rec)
    db.session.flush()
    record("case.level1_recorded", case, actor=actor, case_id=case.id, now=now,
           detail={"level": 1, "to": "closed", "reason": CloseReason.AGREEMENT_COMPLETED.value})
    record("level1.recorded", rec, actor=actor, case_id=case.id, now=now,
           fields=["occurred_on", "area", "agreed", "parties"], detail={"parties": len(rows)})
    return rec


def _new_reference(now) -> str:
    try:
        from rj.referrals.services import new_reference
    except ImportError:  # pragma: no cover
        new_reference = None
    if new_reference is not None:
        return new_reference(now=now)
    for _ in range(20):  # pragma: no cover - referrals domain provides references
        ref = f"RJ-{to_local(now).year}-{secrets.token_hex(3).upper()[:5]}"
        if db.session.scalar(select(Case.id).where(Case.reference == ref)) is None:
            return ref
    raise DomainError("Could not allocate a reference: try again")  # pragma: no cover


def level1_summary(start, end) -> dict:
    """Counts of Level 1 resolutions by date it happened, for reports (no names)."""
    start_day = start.date() if isinstance(start, datetime) else start
    end_day = end.date() if isinstance(end, datetime) else end
    rows = db.session.execute(select(Level1Record.area, func.count(Level1Record.id))
                              .where(Level1Record.occurred_on >= start_day, Level1Record.occurred_on < end_day)
                              .group_by(Level1Record.area)).all()
    return {"total": sum(n for _, n in rows), "by_area": {area: n for area, n in rows}}
