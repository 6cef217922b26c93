"""Case lifecycle services: status changes and closing, each audited in the same transaction."""
from __future__ import annotations

from datetime import datetime

from rj.audit.services import record
from rj.cases.models import Case, CaseStatus, CloseReason
from rj.core.errors import DomainError
from rj.core.time import now_utc


def change_case_status(case: Case, new_status: CaseStatus, *, actor, now: datetime | None = None,
                       reason: str | None = None) -> Case:
    """Move a case along its lifecycle (Case.TRANSITIONS); an illegal move raises IllegalTransition.
    Pausing remembers where the case was, so resuming can go back there."""
    now = now or now_utc()
    new_status = CaseStatus(new_status)
    if new_status is CaseStatus.CLOSED:
        raise DomainError("Close a case with a reason", field="status")
    old = case.status
    case.transition(new_status)
    if new_status is CaseStatus.PAUSED:
        case.status_before_pause = old
    elif old is CaseStatus.PAUSED:
        case.status_before_pause = None
    detail = {"from": old.value, "to": new_status.value}
    if reason:
        detail["reason"] = reason
    record("case.status_changed", case, actor=actor, case_id=case.id, fields=["status"], detail=detail, now=now)
    return case


def close_case(case: Case, *, reason: CloseReason, actor, now: datetime | None = None) -> Case:
    """Close a case with a coded reason (agreement completed, not kept, party withdrew, ...).
    A closed case holds no one's time: its future meetings are cancelled (everyone invited is
    sent a cancellation) and its facilitator team is stood down."""
    now = now or now_utc()
    try:
        reason = CloseReason(reason)
    except ValueError:
        raise DomainError("Select why the case is being closed", field="reason") from None
    if not case.can_transition(CaseStatus.CLOSED):
        raise DomainError(f"A case that is {case.status.label.lower()} cannot be closed")
    _stand_down(case, actor=actor, now=now)
    old = case.status
    case.transition(CaseStatus.CLOSED)
    case.closed_at = now
    case.close_reason = reason
    case.status_before_pause = None
    record("case.closed", case, actor=actor, case_id=case.id, fields=["status", "closed_at", "close_reason"],
           detail={"from": old.value, "to": "closed", "reason": reason.value}, now=now)
    return case


def _stand_down(case: Case, *, actor, now: datetime) -> None:
    from sqlalchemy import select

    from rj.extensions import db
    from rj.rostering.services import end_team
    from rj.scheduling.models import ACTIVE_MEETING_STATUSES, Meeting
    from rj.scheduling.services import cancel_meeting

    future = db.session.scalars(select(Meeting).where(
        Meeting.case_id == case.id, Meeting.status.in_(ACTIVE_MEETING_STATUSES), Meeting.starts_at > now))
    for meeting in list(future):
        cancel_meeting(meeting, actor=actor, reason="case_closed", now=now)
    end_team(case, actor=actor, now=now)
