"""The whole journey through every domain's real services: a referral becomes a case, the parties
consent, a team is allocated, meetings are booked with invites, the conference agrees actions,
they are done, and the case closes. Each step is the code a coordinator's click runs."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from rj.audit.services import case_timeline
from rj.cases.models import CaseStatus, CloseReason, Scheme
from rj.core.errors import DomainError
from rj.scheduling.models import MeetingKind, MeetingMode
from tests.referrals.factories import referral_data
from tests.scheduling.conftest import NOW, at


def test_a_referral_goes_all_the_way_to_a_closed_case_with_invites_and_an_audit_trail(
        db, coordinator, make_facilitator):
    from rj.agreements import services as agreements
    from rj.agreements.models import ItemKind
    from rj.consent import services as consent
    from rj.consent.models import ConsentKind, RiskStage, SuitabilityDecision
    from rj.notifications.models import OutboxMessage
    from rj.referrals import services as referrals
    from rj.rostering import services as rostering
    from rj.scheduling import services as scheduling

    # 1. A housing officer refers a neighbour dispute; a coordinator accepts it as a SoRT-IT case.
    case = referrals.submit_referral(
        referral_data(incident_date=(NOW.date() - timedelta(days=10)).isoformat()), now=NOW - timedelta(days=9))
    referrals.accept_referral(case, scheme=Scheme.SORTIT, level=2, lead_coordinator=coordinator,
                              actor=coordinator, now=NOW - timedelta(days=8))
    parties = consent.active_parties(case)
    assert len(parties) == 2  # carried over from the referral

    # 2. Consent is not there yet, so nothing bringing them together can be booked.
    gate = consent.check_meeting_gate(case, parties, kind="restorative", now=NOW)
    assert not gate.allowed and gate.reasons

    # 3. Each party is told what taking part means and agrees; suitability and risk are recorded.
    for p in parties:
        consent.record_information(p, how="in_person", leaflet="SoRT-IT leaflet", actor=coordinator,
                                   now=NOW - timedelta(days=7))
        consent.record_consent(p, kind=ConsentKind.CONSENT_GIVEN, scopes=["take_part", "share_details", "face_to_face"],
                               method="in_writing", actor=coordinator, now=NOW - timedelta(days=7))
    consent.record_suitability(case, flags=[], under_18s=False, decision=SuitabilityDecision.SUITABLE,
                               reasons="Both willing; no risk flags", actor=coordinator, now=NOW - timedelta(days=7))
    consent.record_risk_assessment(case, stage=RiskStage.INITIAL, items=[
        {"party_id": p.id, "risk": "none identified", "management": "none needed"} for p in parties
    ] + [{"party_id": None, "risk": "none identified", "management": "none needed"}],
        actor=coordinator, now=NOW - timedelta(days=7))
    assert consent.check_meeting_gate(case, parties, kind="restorative", now=NOW).allowed

    # 4. A team: an experienced lead and a newer co-facilitator stay with the case throughout.
    lead = make_facilitator("Vicky Moss")
    lead.experienced = True
    co = make_facilitator("Sam Newman")
    rostering.allocate_team(case, lead=lead, co=co, actor=coordinator, now=NOW)
    db.session.commit()

    # 5. The conference is booked; the team is used; everyone gets their own invite.
    start = at(date(2027, 3, 23), "18:00")
    meeting = scheduling.book_meeting(case, kind=MeetingKind.RESTORATIVE, starts_at=start,
                                      ends_at=start + timedelta(minutes=90), mode=MeetingMode.VIDEO,
                                      parties=parties, actor=coordinator, confirm_warnings=True, now=NOW)
    db.session.commit()
    assert {mf.facilitator_id for mf in meeting.facilitators} == {lead.id, co.id}
    assert case.status is CaseStatus.MEETING_BOOKED
    invites = db.session.scalars(select(OutboxMessage).where(OutboxMessage.ics_method == "REQUEST")).all()
    assert {m.recipient for m in invites} >= {lead.user.email, co.user.email}
    for m in invites:
        assert "Lloyd" not in m.subject and "Hurst" not in m.subject and "Lloyd" not in (m.ics or "")

    # 6. A second coordinator cannot double-book the lead at an overlapping time on another case.
    other = referrals.submit_referral(referral_data(), now=NOW - timedelta(days=2))
    referrals.accept_referral(other, scheme=Scheme.SORTIT, level=2, lead_coordinator=coordinator,
                              actor=coordinator, now=NOW - timedelta(days=1))
    other_party = consent.active_parties(other)[0]
    consent.record_information(other_party, how="phone", actor=coordinator, now=NOW - timedelta(days=1))
    consent.record_consent(other_party, kind=ConsentKind.CONSENT_GIVEN, scopes=["take_part"], method="verbally",
                           actor=coordinator, now=NOW - timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        scheduling.book_meeting(other, kind=MeetingKind.PREPARATION, starts_at=start + timedelta(minutes=30),
                                ends_at=start + timedelta(minutes=60), mode=MeetingMode.PHONE,
                                parties=[other_party], lead=lead, co=make_facilitator("Kasia Kowalski"),
                                actor=coordinator, confirm_warnings=True, now=NOW)
    db.session.rollback()
    assert any("Vicky Moss is already booked" in reason for reason in refused.value.reasons), refused.value.reasons

    # 7. After the conference: it went ahead and they agreed an apology and repairs.
    after = start + timedelta(hours=2)
    agreements.record_meeting_outcome(
        meeting, went_ahead=True, attended_party_ids=[p.id for p in parties],
        attended_facilitator_ids=[lead.id, co.id], agreement_reached=True, actor=coordinator, now=after)
    from rj.agreements.models import Agreement

    agreement = db.session.scalar(select(Agreement).where(Agreement.meeting_id == meeting.id))
    items = [
        agreements.add_item(agreement, kind=ItemKind.APOLOGY_WRITTEN, description="A written apology",
                            party_id=parties[1].id, due_on=date(2027, 4, 6), check_method="Copy to coordinator",
                            actor=coordinator, now=after),
        agreements.add_item(agreement, kind=ItemKind.REPAIR_DAMAGE, description="Repaint the shared fence",
                            party_id=parties[1].id, due_on=date(2027, 4, 20), check_method="Photo",
                            actor=coordinator, now=after),
    ]
    db.session.commit()
    assert case.status is CaseStatus.MONITORING

    # 8. The case cannot close while actions are pending; once done, it closes as completed.
    with pytest.raises(DomainError):
        agreements.close_case_on_agreement(case, actor=coordinator, now=after)
    for item in items:
        agreements.mark_item_done(item, evidence="Seen by the coordinator", actor=coordinator,
                                  now=after + timedelta(days=14))
    agreements.close_case_on_agreement(case, actor=coordinator, now=after + timedelta(days=30))
    db.session.commit()
    assert case.status is CaseStatus.CLOSED
    assert case.close_reason is CloseReason.AGREEMENT_COMPLETED

    # 9. The timeline holds every step, with ids and field names only.
    actions = [e.action for e in case_timeline(case.id)]
    for expected in ("referral.submitted", "case.accepted", "meeting.booked", "case.closed"):
        assert any(a == expected or a.startswith(expected.split(".")[0]) for a in actions), expected


def test_closing_a_case_cancels_its_future_meetings_and_stands_the_team_down(db, coordinator, make_facilitator,
                                                                             make_party):
    from rj.cases.services import close_case
    from rj.notifications.models import OutboxMessage
    from rj.rostering import services as rostering
    from rj.scheduling import services as scheduling
    from rj.scheduling.models import MeetingStatus
    from tests.factories import make_case

    case = make_case(level=2, risk_assessed=True)
    party = make_party(case)
    lead = make_facilitator("Vicky Moss")
    lead.experienced = True
    rostering.allocate_team(case, lead=lead, co=make_facilitator("Sam Newman"), actor=coordinator, now=NOW)
    start = at(date(2027, 3, 23), "18:00")
    meeting = scheduling.book_meeting(case, kind=MeetingKind.PREPARATION, starts_at=start,
                                      ends_at=start + timedelta(minutes=60), mode=MeetingMode.PHONE,
                                      parties=[party], actor=coordinator, confirm_warnings=True, now=NOW)
    db.session.commit()

    close_case(case, reason=CloseReason.NO_CONTACT, actor=coordinator, now=NOW + timedelta(days=1))
    db.session.commit()

    assert meeting.status is MeetingStatus.CANCELLED
    assert rostering.current_team(case) is None
    cancels = db.session.scalars(select(OutboxMessage).where(OutboxMessage.ics_method == "CANCEL")).all()
    assert {m.recipient for m in cancels} >= {lead.user.email}


def test_after_preparation_meetings_the_parties_meet_only_once_risk_is_reviewed(db, coordinator, make_party,
                                                                               make_facilitator):
    from rj.consent import services as consent
    from rj.consent.models import RiskStage
    from rj.scheduling import services as scheduling
    from tests.factories import make_case

    case = make_case(level=2, risk_assessed=True)
    a, b = make_party(case, "Jordan Example"), make_party(case, "Casey Example")
    assert consent.check_meeting_gate(case, [a, b], kind="restorative", now=NOW).allowed

    start = at(date(2027, 3, 9), "18:00")
    prep = scheduling.book_meeting(case, kind=MeetingKind.PREPARATION, starts_at=start,
                                   ends_at=start + timedelta(minutes=60), mode=MeetingMode.PHONE, parties=[a],
                                   lead=make_facilitator("Vicky Moss"), co=make_facilitator("Sam Newman"),
                                   actor=coordinator, confirm_warnings=True, now=start - timedelta(days=3))
    scheduling.mark_meeting_held(prep, actor=coordinator, now=start + timedelta(hours=2))
    gate = consent.check_meeting_gate(case, [a, b], kind="restorative", now=NOW)
    assert not gate.allowed
    assert any("after the preparation meetings" in r for r in gate.reasons)
    assert consent.check_meeting_gate(case, [a], kind="preparation", now=NOW).allowed  # only meeting together waits

    consent.record_risk_assessment(case, stage=RiskStage.AFTER_PREPARATION, items=[
        {"party_id": p.id, "risk": "none identified", "management": "none needed"} for p in (a, b)
    ] + [{"party_id": None, "risk": "none identified", "management": "none needed"}],
        actor=coordinator, now=start + timedelta(days=1))
    assert consent.check_meeting_gate(case, [a, b], kind="restorative", now=NOW).allowed
