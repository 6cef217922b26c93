"""Helpers for reports tests: rows of every domain made directly (reports only read them), and a
query counter on the engine."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from rj.cases.models import Case, CaseStatus, Scheme
from rj.core.time import now_utc
from rj.extensions import db as _db


@pytest.fixture
def count_queries(db):
    """with count_queries() as n: ...; n["n"] is how many SQL statements ran."""

    @contextmanager
    def counting():
        counter = {"n": 0, "sql": []}

        def before(conn, cursor, statement, parameters, context, executemany):
            counter["n"] += 1
            counter["sql"].append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def make_referred_case(*, referred_at: datetime | None = None, status: CaseStatus = CaseStatus.REFERRED,
                       level: int | None = 2, public: bool = False, organisation: str | None = "Stockport Homes",
                       email: str = "referrer@rj-test.org.uk", category: str = "neighbour_dispute",
                       reference: str | None = None) -> Case:
    from rj.referrals.models import Awareness, Referral, ReferralCategory

    referred_at = referred_at or now_utc()
    case = Case(reference=reference or f"RJ-2026-{secrets.token_hex(3).upper()[:5]}", status=status,
                scheme=Scheme.SORTIT if level != 3 else Scheme.POST_SENTENCE, level=level, referred_at=referred_at)
    if status not in (CaseStatus.REFERRED, CaseStatus.IN_TRIAGE, CaseStatus.DECLINED):
        case.accepted_at = referred_at + timedelta(days=1)
    if status in (CaseStatus.DECLINED,):
        case.triaged_at = referred_at + timedelta(days=1)
    _db.session.add(case)
    _db.session.flush()
    _db.session.add(Referral(
        case_id=case.id, referrer_name="Alex Referrer", referrer_is_public=public,
        referrer_organisation=None if public else organisation, referrer_email=email,
        category=ReferralCategory(category), incident_date=referred_at.date() - timedelta(days=3),
        location="Edgeley", description="A dispute", parties_aware=Awareness.YES, parties_willing=Awareness.YES,
        risk_flags=[], consent_to_share=True, submitted_at=referred_at))
    _db.session.flush()
    return case


def add_party(case, *, victims_code=False, first_contact_at=None, role="party", name="Jordan Example"):
    from rj.consent.models import Party, PartyRole

    party = Party(case_id=case.id, role=PartyRole(role), name=name, victims_code=victims_code,
                  first_contact_at=first_contact_at, created_at=now_utc())
    _db.session.add(party)
    _db.session.flush()
    return party


def add_consent(party, kind="consent_given", *, at=None, scope="take_part"):
    from rj.consent.models import ConsentKind, ConsentMethod, ConsentRecord, ConsentScope, GivenBy

    kind = ConsentKind(kind)
    rec = ConsentRecord(case_id=party.case_id, party_id=party.id, kind=kind,
                        scope=None if kind is ConsentKind.INFORMATION_GIVEN else ConsentScope(scope),
                        method=ConsentMethod.VERBALLY, given_by=GivenBy.PARTY, recorded_at=at or now_utc())
    _db.session.add(rec)
    _db.session.flush()
    return rec


def make_facilitator(user):
    from rj.facilitators.models import Facilitator

    f = Facilitator(user_id=user.id, languages=[], areas=[], created_at=now_utc())
    _db.session.add(f)
    _db.session.flush()
    return f


def add_meeting(case, *, starts_at, hours=2, kind="restorative", status="booked", facilitators=()):
    from rj.scheduling.models import FacilitatorRole, Meeting, MeetingFacilitator, MeetingKind, MeetingStatus

    m = Meeting(case_id=case.id, kind=MeetingKind(kind), status=MeetingStatus(status), starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours), ical_uid=secrets.token_hex(16), created_at=now_utc())
    _db.session.add(m)
    _db.session.flush()
    for i, f in enumerate(facilitators):
        _db.session.add(MeetingFacilitator(meeting_id=m.id, facilitator_id=f.id,
                                           role=FacilitatorRole.LEAD if i == 0 else FacilitatorRole.CO))
    _db.session.flush()
    return m


def add_agreement(case, meeting, party, *, due_on: date, agreed_on: date | None = None, status="active"):
    from rj.agreements.models import Agreement, AgreementItem, AgreementStatus, ItemKind

    a = Agreement(case_id=case.id, meeting_id=meeting.id, status=AgreementStatus(status),
                  agreed_on=agreed_on or due_on - timedelta(days=30), recorded_at=now_utc())
    _db.session.add(a)
    _db.session.flush()
    _db.session.add(AgreementItem(agreement_id=a.id, case_id=case.id, kind=ItemKind.APOLOGY_WRITTEN,
                                  description="A letter", party_id=party.id, due_on=due_on, check_method="Copy seen"))
    _db.session.flush()
    return a


def add_feedback(case, party, *, satisfaction=5, at=None):
    from rj.agreements.models import FeedbackRequest, FeedbackResponse, FeedbackStage

    at = at or now_utc()
    req = FeedbackRequest(case_id=case.id, party_id=party.id, stage=FeedbackStage.AFTER_MEETING,
                          token_hash=secrets.token_hex(32), created_at=at, expires_at=at + timedelta(days=30),
                          answered_at=at)
    _db.session.add(req)
    _db.session.flush()
    _db.session.add(FeedbackResponse(request_id=req.id, case_id=case.id, stage=FeedbackStage.AFTER_MEETING,
                                     satisfaction=satisfaction, felt_safe="yes", felt_listened_to="yes",
                                     would_recommend="yes", submitted_at=at))
    _db.session.flush()


def add_failed_message():
    from rj.notifications.models import OutboxMessage, OutboxStatus

    now = now_utc()
    _db.session.add(OutboxMessage(kind="general", recipient="x@rj-test.org.uk", subject="A message", text_body="x",
                                  dedupe_key=secrets.token_hex(8), message_id=secrets.token_hex(8) + "@rj",
                                  status=OutboxStatus.FAILED, attempts=5, next_attempt_at=now, created_at=now))
    _db.session.flush()


def add_offer(case, facilitator, *, expires_at=None):
    from rj.rostering.models import Offer, OfferStatus, TeamRole

    now = now_utc()
    offer = Offer(facilitator_id=facilitator.id, case_id=case.id, role=list(TeamRole)[0], status=OfferStatus.PENDING,
                  expires_at=expires_at or now + timedelta(hours=48), created_at=now)
    _db.session.add(offer)
    _db.session.flush()
    return offer


def populate(n: int, *, facilitators, now: datetime | None = None):
    """n cases with something in every dashboard section and every report."""
    now = now or now_utc()
    for i in range(n):
        referred = now - timedelta(days=10 + i % 200, hours=3)
        status = [CaseStatus.REFERRED, CaseStatus.ACCEPTED, CaseStatus.MEETING_HELD, CaseStatus.CLOSED,
                  CaseStatus.DECLINED][i % 5]
        case = make_referred_case(referred_at=referred, status=status, level=[2, 3, 2][i % 3], public=i % 4 == 0,
                                  organisation=["Police", "Housing", "School"][i % 3])
        if status is CaseStatus.CLOSED:
            from rj.cases.models import CloseReason

            case.closed_at = now - timedelta(days=1)
            case.close_reason = CloseReason.AGREEMENT_COMPLETED
        p1 = add_party(case, victims_code=True, first_contact_at=referred + timedelta(days=1) if i % 2 else None)
        p2 = add_party(case, name="Sam Example")
        add_consent(p1, "information_given", at=referred + timedelta(days=2))
        add_consent(p1, "consent_given", at=referred + timedelta(days=2))
        if i % 3:
            add_consent(p2, "consent_declined", at=referred + timedelta(days=3))
        held = add_meeting(case, starts_at=referred + timedelta(days=5), status="held", facilitators=facilitators)
        add_meeting(case, starts_at=now + timedelta(hours=1 + i), status="booked", facilitators=facilitators[:1])
        add_agreement(case, held, p1, due_on=now.date() - timedelta(days=2))
        add_feedback(case, p1, satisfaction=1 + i % 5)
        add_failed_message()
        add_offer(case, facilitators[0])
    _db.session.commit()
