"""Demo data: outcomes and agreements on some held restorative meetings (a mix of done, pending and
overdue actions), some survey answers, and about twenty Level 1 records. Rows are added in bulk
so 10,000 cases seed quickly; running it twice adds nothing new."""
from __future__ import annotations

import secrets
from datetime import time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from rj.agreements.models import (
    Agreement, AgreementItem, AgreementStatus, FeedbackRequest, FeedbackResponse, FeedbackStage, ItemKind,
    ItemStatus, Level1Party, Level1Record, MeetingOutcome,
)
from rj.core.time import from_local, to_local
from rj.extensions import db

SORTIT_ITEMS = [
    (ItemKind.APOLOGY_WRITTEN, "Write a letter of apology to the other party", "Coordinator reads the letter before it is passed on"),
    (ItemKind.APOLOGY_SPOKEN, "Say sorry in person at the end of the meeting", "Facilitators saw it at the meeting"),
    (ItemKind.REPAIR_DAMAGE, "Repaint the shared fence", "Photo of the fence, and a call to the other party"),
    (ItemKind.COMMUNITY_ACTIVITY, "Help at the community garden on two Saturdays", "Garden volunteer lead confirms"),
    (ItemKind.FUTURE_BEHAVIOUR, "Keep music down after 10pm on weeknights", "Phone call with both parties after a month"),
    (ItemKind.KEEP_INFORMED, "Let the other party know how the college course is going", "Coordinator checks in by phone"),
    (ItemKind.PROGRAMME, "Attend the youth support service drop-in", "Support worker confirms attendance"),
]
POST_SENTENCE_ITEMS = SORTIT_ITEMS + [
    (ItemKind.FINANCIAL_REPARATION, "Contribute £5 a week towards the replacement bike", "Probation officer confirms"),
]
AREAS = ["Edgeley", "Brinnington", "Reddish", "Heaton Norris", "Cheadle", "Marple", "Bramhall", "Hazel Grove",
         "Offerton", "Stockport town centre"]
LEVEL1_AGREED = [
    "Apologised on the spot and agreed to keep away from the car park",
    "Returned the bike and apologised",
    "Agreed to clear up the litter they had dropped",
    "Shook hands and agreed to use the shared path respectfully",
    "Apologised to the shop keeper and agreed not to return for a month",
]
INITIALS = ["JB", "K", "Sam", "AL", "Priya", "T", "MW", "Chris", "Dee", "RH"]


def seed_demo(ctx) -> None:
    _seed_agreements(ctx)
    _seed_level1(ctx)


def _held_meetings(ctx):
    from rj.scheduling.models import Meeting, MeetingKind, MeetingStatus

    ids = ctx.extra.get("held_meeting_ids")
    stmt = select(Meeting).options(selectinload(Meeting.parties), selectinload(Meeting.case))
    if ids:
        stmt = stmt.where(Meeting.id.in_(list(ids)))
    else:
        stmt = stmt.where(Meeting.status == MeetingStatus.HELD, Meeting.kind == MeetingKind.RESTORATIVE).limit(500)
    done = set(db.session.scalars(select(MeetingOutcome.meeting_id)))
    return [m for m in db.session.scalars(stmt.order_by(Meeting.id)) if m.id not in done and m.parties]


def _seed_agreements(ctx) -> None:
    from rj.core.tokens import hash_token
    from rj.cases.models import CaseStatus, Scheme

    rng, now = ctx.rng, ctx.now
    today = to_local(now).date()
    coordinator = ctx.users.get("coordinator@rj.example")
    actor_id = getattr(coordinator, "id", None)
    rows = []
    for meeting in _held_meetings(ctx):
        reached = rng.random() < 0.8
        rows.append(MeetingOutcome(case_id=meeting.case_id, meeting_id=meeting.id, went_ahead=True,
                                   agreement_reached=reached, recorded_by_id=actor_id,
                                   recorded_at=meeting.ends_at + timedelta(hours=2)))
        if not reached:
            continue
        case = meeting.case
        agreed_on = to_local(meeting.starts_at).date()
        agreement = Agreement(case_id=case.id, meeting_id=meeting.id, agreed_on=agreed_on,
                              status=AgreementStatus.ACTIVE, recorded_by_id=actor_id,
                              recorded_at=meeting.ends_at + timedelta(hours=2))
        choices = POST_SENTENCE_ITEMS if case.scheme is Scheme.POST_SENTENCE else SORTIT_ITEMS
        parties = [mp.party_id for mp in meeting.parties]
        for kind, description, check in rng.sample(choices, rng.randint(1, 3)):
            due = agreed_on + timedelta(days=rng.choice([7, 14, 28, 42, 60, 90]))
            item = AgreementItem(case_id=case.id, kind=kind, description=description, check_method=check,
                                 party_id=rng.choice(parties), due_on=due, status=ItemStatus.PENDING)
            if due < today and rng.random() < 0.7:
                item.status = ItemStatus.DONE
                item.evidence = "Checked as agreed"
                item.verified_by_id = actor_id
                item.resolved_at = from_local(due, time(11, 0))
            agreement.items.append(item)
        if all(i.status is ItemStatus.DONE for i in agreement.items):
            agreement.status = AgreementStatus.COMPLETED
            agreement.ended_at = max(i.resolved_at for i in agreement.items)
        if case.status is CaseStatus.MEETING_HELD:
            case.status = CaseStatus.MONITORING
        rows.append(agreement)
        if rng.random() < 0.5:
            for party_id in parties:
                sent = meeting.ends_at + timedelta(days=1)
                req = FeedbackRequest(case_id=case.id, party_id=party_id, stage=FeedbackStage.AFTER_MEETING,
                                      token_hash=hash_token(secrets.token_urlsafe(32)), created_at=sent,
                                      expires_at=sent + timedelta(days=30), created_by_id=actor_id)
                if rng.random() < 0.6 and sent + timedelta(days=3) < now:
                    at = sent + timedelta(days=rng.randint(1, 3))
                    req.answered_at = at
                    req.response = FeedbackResponse(
                        case_id=case.id, stage=FeedbackStage.AFTER_MEETING,
                        satisfaction=rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 12, 8, 5])[0],
                        felt_safe=rng.choices(["yes", "partly", "no"], weights=[85, 12, 3])[0],
                        felt_listened_to=rng.choices(["yes", "partly", "no"], weights=[80, 15, 5])[0],
                        would_recommend=rng.choices(["yes", "partly", "no"], weights=[75, 15, 10])[0],
                        comments=rng.choice([None, None, "It helped to talk it through", "Glad it is sorted"]),
                        submitted_at=at)
                rows.append(req)
    db.session.add_all(rows)
    db.session.flush()


def _seed_level1(ctx, count: int = 20) -> None:
    from rj.cases.models import Case, CaseStatus, CloseReason
    from rj.referrals.services import new_reference

    if db.session.scalar(select(func.count(Level1Record.id))):
        return
    rng, now = ctx.rng, ctx.now
    today = to_local(now).date()
    actor_id = getattr(ctx.users.get("coordinator@rj.example"), "id", None)
    for _ in range(count):
        day = today - timedelta(days=rng.randint(1, 360))
        noon = from_local(day, time(12, 0))
        case = Case(reference=new_reference(now=now), status=CaseStatus.CLOSED, level=1, referred_at=noon,
                    accepted_at=noon, closed_at=noon + timedelta(days=rng.randint(0, 5)),
                    close_reason=CloseReason.AGREEMENT_COMPLETED, lead_coordinator_id=actor_id)
        db.session.add(case)
        db.session.flush()
        harmed, responsible = rng.sample(INITIALS, 2)
        rec = Level1Record(case_id=case.id, occurred_on=day, area=rng.choice(AREAS), agreed=rng.choice(LEVEL1_AGREED),
                           harmed_consulted_and_agreed=True, responsible_admitted_and_agreed=True,
                           recorded_by_id=actor_id, recorded_at=case.closed_at)
        rec.parties = [Level1Party(name=harmed, side="harmed"), Level1Party(name=responsible, side="responsible")]
        db.session.add(rec)
    db.session.flush()
