"""Outcomes, agreements, follow-up, feedback and Level 1: the rules, at service level."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from rj.agreements import services as s
from rj.agreements.models import (
    AgreementItem, AgreementStatus, FeedbackResponse, ItemKind, ItemStatus, Level1Record,
)
from rj.audit.models import AuditEvent
from rj.cases.models import Case, CaseStatus, CloseReason, Scheme
from rj.core.errors import DomainError, IllegalTransition
from rj.core.time import local_today, now_utc, to_local
from rj.scheduling.models import MeetingStatus
from tests.agreements.factories import make_facilitator, make_meeting, make_party
from tests.factories import make_case


def _held(held_setup, coordinator, **kw):
    case, meeting, a, b = held_setup(**kw)
    s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id, b.id], agreement_reached=True,
                             actor=coordinator)
    return case, meeting, a, b


def _item(agreement, party, **kw):
    data = dict(kind="apology_written", description="Write a letter saying sorry for the fence",
                party_id=party.id, due_on=agreement.agreed_on + timedelta(days=14),
                check_method="Coordinator sees a copy of the letter")
    data.update(kw)
    return s.add_item(agreement, actor=kw.pop("actor", None), **{k: v for k, v in data.items() if k != "actor"})


# --- recording the meeting -------------------------------------------------------------------

def test_recording_a_held_meeting_marks_attendance_the_meeting_and_the_case(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    fac_user = make_user("facilitator")
    fac = make_facilitator(fac_user)
    case, meeting, a, b = held_setup(facilitators=[fac])
    outcome = s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id],
                                       attended_facilitator_ids=[fac.id], agreement_reached=False, actor=coordinator)
    db.session.commit()
    assert outcome.went_ahead and outcome.agreement_reached is False
    assert meeting.status is MeetingStatus.HELD
    attended = {mp.party_id: mp.attended for mp in meeting.parties}
    assert attended == {a.id: True, b.id: False}
    assert meeting.facilitators[0].attended is True
    assert case.status is CaseStatus.MEETING_HELD
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)))
    assert {"meeting_outcome.recorded", "case.status_changed"} <= actions


def test_a_meeting_that_did_not_go_ahead_needs_a_reason_and_does_not_count_as_held(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = held_setup()
    with pytest.raises(DomainError) as err:
        s.record_meeting_outcome(meeting, went_ahead=False, actor=coordinator)
    assert err.value.field == "not_held_reason"
    s.record_meeting_outcome(meeting, went_ahead=False, not_held_reason="party_did_not_attend", actor=coordinator)
    assert meeting.status is MeetingStatus.DID_NOT_GO_AHEAD
    assert meeting.did_not_go_ahead_reason == "party_did_not_attend"
    assert case.status is not CaseStatus.MEETING_HELD


def test_a_held_meeting_needs_who_attended_and_whether_there_was_an_agreement(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = held_setup()
    with pytest.raises(DomainError) as err:
        s.record_meeting_outcome(meeting, went_ahead=True, agreement_reached=True, actor=coordinator)
    assert err.value.field == "attended_parties"
    with pytest.raises(DomainError) as err:
        s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id], actor=coordinator)
    assert err.value.field == "agreement_reached"


def test_an_outcome_cannot_be_recorded_before_the_meeting_or_for_a_cancelled_one(db, make_user):
    coordinator = make_user("coordinator")
    case = make_case(status=CaseStatus.MEETING_BOOKED)
    p = make_party(case)
    future = make_meeting(case, parties=[p], starts_at=now_utc() + timedelta(days=2))
    with pytest.raises(DomainError, match="not started yet"):
        s.record_meeting_outcome(future, went_ahead=True, attended_party_ids=[p.id], agreement_reached=True,
                                 actor=coordinator)
    cancelled = make_meeting(case, parties=[p], status="cancelled")
    with pytest.raises(DomainError, match="cancelled"):
        s.record_meeting_outcome(cancelled, went_ahead=True, attended_party_ids=[p.id], agreement_reached=True,
                                 actor=coordinator)
    prep = make_meeting(case, parties=[p], kind="preparation")
    with pytest.raises(DomainError, match="restorative"):
        s.record_meeting_outcome(prep, went_ahead=True, attended_party_ids=[p.id], agreement_reached=True,
                                 actor=coordinator)


def test_correcting_an_outcome_keeps_the_row_but_cannot_flip_held_to_not_held(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    first = s.get_outcome(meeting)
    again = s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id], agreement_reached=True,
                                     actor=coordinator)
    assert again.id == first.id
    with pytest.raises(DomainError, match="already recorded as held"):
        s.record_meeting_outcome(meeting, went_ahead=False, not_held_reason="other", actor=coordinator)


def test_facilitators_may_record_only_for_meetings_they_were_on(db, make_user, held_setup):
    on, off = make_user("facilitator"), make_user("facilitator")
    fac_on = make_facilitator(on)
    make_facilitator(off)
    case, meeting, a, b = held_setup(facilitators=[fac_on])
    assert s.can_record_for_meeting(on, meeting)
    assert not s.can_record_for_meeting(off, meeting)
    assert s.can_record_for_meeting(make_user("coordinator"), meeting)
    assert not s.can_record_for_meeting(make_user("admin"), meeting)


# --- the agreement -------------------------------------------------------------------------------

def test_recording_an_agreement_moves_the_case_to_monitoring(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    assert agreement.agreed_on == to_local(meeting.starts_at).date()
    assert case.status is CaseStatus.MONITORING
    assert s.create_agreement(meeting, actor=coordinator).id == agreement.id


def test_no_agreement_without_an_outcome_saying_one_was_reached(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = held_setup()
    with pytest.raises(DomainError, match="went ahead"):
        s.create_agreement(meeting, actor=coordinator)
    s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id], agreement_reached=False,
                             actor=coordinator)
    with pytest.raises(DomainError, match="no agreement was reached"):
        s.create_agreement(meeting, actor=coordinator)


@pytest.mark.parametrize("text", [
    "Pay £50 towards the fence", "Bo will make a payment for the window", "Compensation for the damage",
    "A fine of 20 pounds", "Punishment: no going out", "Bo admits he is guilty and will say sorry",
])
def test_a_sortit_agreement_refuses_payments_fines_punishment_and_guilt_naming_the_problem(db, make_user, held_setup, text):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    with pytest.raises(DomainError) as err:
        _item(agreement, b, description=text)
    assert err.value.field == "description"
    assert "SoRT-IT agreement cannot contain a payment" in err.value.message
    assert "This mentions" in err.value.message
    assert db.session.scalar(select(func.count(AgreementItem.id))) == 0


def test_a_sortit_agreement_does_not_offer_or_accept_financial_reparation(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    assert ItemKind.FINANCIAL_REPARATION not in s.item_kinds_for(Scheme.SORTIT)
    with pytest.raises(DomainError, match="cannot contain a payment") as err:
        _item(agreement, b, kind="financial_reparation", description="Replace the glass")
    assert err.value.field == "kind"


def test_a_post_sentence_agreement_may_include_financial_reparation_but_not_a_fine(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator, scheme=Scheme.POST_SENTENCE)
    agreement = s.create_agreement(meeting, actor=coordinator)
    item = _item(agreement, b, kind="financial_reparation", description="Pay £40 towards the new lock")
    assert item.kind is ItemKind.FINANCIAL_REPARATION
    with pytest.raises(DomainError, match="never a fine"):
        _item(agreement, b, description="A fine of £100")


def test_every_item_needs_a_party_of_the_case_and_a_date_not_before_the_meeting(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    with pytest.raises(DomainError, match="every action needs a person") as err:
        _item(agreement, b, party_id=None)
    assert err.value.field == "party_id"
    other_case = make_case()
    stranger = make_party(other_case, "Someone Else")
    with pytest.raises(DomainError, match="parties of this case"):
        _item(agreement, b, party_id=stranger.id)
    with pytest.raises(DomainError, match="on or after the meeting") as err:
        _item(agreement, b, due_on=agreement.agreed_on - timedelta(days=1))
    assert err.value.field == "due_on"
    with pytest.raises(DomainError, match="how the service will check"):
        _item(agreement, b, check_method="")
    assert _item(agreement, b, due_on=agreement.agreed_on).due_on == agreement.agreed_on


# --- following it up -------------------------------------------------------------------------------

def test_item_lifecycle_done_needs_evidence_and_records_who_verified(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    item = _item(agreement, b)
    with pytest.raises(DomainError, match="evidence"):
        s.mark_item_done(item, evidence="", actor=coordinator)
    s.mark_item_done(item, evidence="Copy of letter seen", actor=coordinator)
    assert item.status is ItemStatus.DONE and item.verified_by_id == coordinator.id and item.resolved_at
    with pytest.raises(IllegalTransition):
        s.mark_item_not_kept(item, reason="changed mind", actor=coordinator)


def test_when_every_item_is_done_the_agreement_completes_and_the_case_closes_as_completed(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    one, two = _item(agreement, b), _item(agreement, a, kind="future_behaviour", description="Keep music down after 11pm")
    s.mark_item_done(one, evidence="Letter seen", actor=coordinator)
    with pytest.raises(DomainError, match="1 agreed action is still pending"):
        s.close_case_on_agreement(case, actor=coordinator)
    assert case.status is CaseStatus.MONITORING
    s.mark_item_done(two, evidence="No complaints in three months", actor=coordinator)
    assert agreement.status is AgreementStatus.COMPLETED
    s.close_case_on_agreement(case, actor=coordinator)
    db.session.commit()
    assert case.status is CaseStatus.CLOSED and case.close_reason is CloseReason.AGREEMENT_COMPLETED
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == "case.closed"))


def test_an_agreement_recorded_as_not_kept_resolves_pending_items_and_closes_as_not_kept(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    one, two = _item(agreement, b), _item(agreement, a, kind="future_behaviour", description="Keep music down")
    s.mark_item_done(one, evidence="Letter seen", actor=coordinator)
    with pytest.raises(DomainError, match="Say why"):
        s.record_agreement_not_kept(agreement, reason="", actor=coordinator)
    s.record_agreement_not_kept(agreement, reason="Moved away", actor=coordinator)
    assert two.status is ItemStatus.NOT_KEPT and two.not_kept_reason == "Moved away"
    assert one.status is ItemStatus.DONE
    s.close_case_on_agreement(case, actor=coordinator)
    assert case.close_reason is CloseReason.AGREEMENT_NOT_KEPT


def test_a_case_with_no_agreement_or_an_empty_one_is_not_closed_on_it(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = held_setup()
    s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id], agreement_reached=False,
                             actor=coordinator)
    with pytest.raises(DomainError, match="no agreement"):
        s.close_case_on_agreement(case, actor=coordinator)
    s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id], agreement_reached=True,
                             actor=coordinator)
    assert s._agreement_for_meeting(meeting) is not None
    with pytest.raises(DomainError, match="no items"):
        s.close_case_on_agreement(case, actor=coordinator)


def test_overdue_items_are_pending_and_past_their_date_with_their_case(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    late = _item(agreement, b, due_on=agreement.agreed_on)
    done = _item(agreement, b, due_on=agreement.agreed_on)
    _item(agreement, a, due_on=agreement.agreed_on + timedelta(days=30))
    s.mark_item_done(done, evidence="seen", actor=coordinator)
    db.session.commit()
    later = now_utc() + timedelta(days=3)
    overdue = s.overdue_items(later)
    assert [i.id for i in overdue] == [late.id]
    assert overdue[0].case_id == case.id
    assert s.overdue_items(now_utc() - timedelta(days=5)) == []


def test_a_follow_up_contact_defaults_to_three_months_and_must_be_in_the_future(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    agreement = s.create_agreement(meeting, actor=coordinator)
    assert s.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert s.default_follow_up_date(agreement) == s.add_months(agreement.agreed_on, 3)
    with pytest.raises(DomainError, match="future"):
        s.book_follow_up(case, due_on=local_today(), method="phone", actor=coordinator)
    contact = s.book_follow_up(case, due_on=s.default_follow_up_date(agreement), method="phone",
                               agreement=agreement, actor=coordinator)
    assert contact.id and contact.agreement_id == agreement.id


# --- indirect ------------------------------------------------------------------------------------

def test_indirect_messages_record_from_to_and_delivery(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = held_setup(kind="indirect")
    today = local_today()
    with pytest.raises(DomainError, match="two different people"):
        s.record_indirect_message(case, kind="letter", sent_on=today, from_party_id=a.id, to_party_id=a.id,
                                  delivered=False, delivered_on=None, actor=coordinator)
    with pytest.raises(DomainError, match="date it was delivered"):
        s.record_indirect_message(case, kind="letter", sent_on=today, from_party_id=a.id, to_party_id=b.id,
                                  delivered=True, delivered_on=None, actor=coordinator)
    msg = s.record_indirect_message(case, kind="letter", sent_on=today - timedelta(days=2), from_party_id=a.id,
                                    to_party_id=b.id, delivered=False, delivered_on=None, meeting=meeting,
                                    actor=coordinator)
    with pytest.raises(DomainError, match="between"):
        s.mark_message_delivered(msg, delivered_on=today - timedelta(days=5), actor=coordinator)
    s.mark_message_delivered(msg, delivered_on=today, actor=coordinator)
    assert msg.delivered and msg.delivered_on == today and msg.meeting_id == meeting.id


# --- feedback ------------------------------------------------------------------------------------

def _answer(token, **kw):
    data = dict(satisfaction=5, felt_safe="yes", felt_listened_to="yes", would_recommend="yes", comments="Thank you")
    data.update(kw)
    return s.submit_feedback(token, **data)


def test_feedback_links_are_per_party_hashed_and_emailed_when_the_party_wants_email(db, make_user, held_setup):
    from rj.notifications.models import OutboxMessage

    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    created = s.create_feedback_requests(case, stage="after_meeting", actor=coordinator)
    assert {r.party_id for r, _ in created} == {a.id, b.id}
    for req, token in created:
        assert req.token_hash != token and len(token) >= 40
        assert req.expires_at - req.created_at == timedelta(days=30)
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["alex@rj-test.org.uk"]
    assert "Alex" not in mails[0].subject and case.reference not in mails[0].subject


def test_a_survey_is_answered_once_and_a_second_answer_stores_nothing(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    (req, token), _ = s.create_feedback_requests(case, stage="after_meeting", actor=coordinator)
    response = _answer(token)
    db.session.commit()
    assert response.case_id == case.id
    with pytest.raises(s.FeedbackLinkUnusable) as err:
        _answer(token, satisfaction=1)
    assert err.value.state == "answered"
    db.session.rollback()
    assert db.session.scalar(select(func.count(FeedbackResponse.id))) == 1


def test_an_expired_survey_link_stores_nothing(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    (req, token), _ = s.create_feedback_requests(case, stage="after_meeting", actor=coordinator,
                                                 now=now_utc() - timedelta(days=31))
    assert s.find_feedback_request(token)[1] == "expired"
    with pytest.raises(s.FeedbackLinkUnusable) as err:
        _answer(token)
    assert err.value.state == "expired"
    assert db.session.scalar(select(func.count(FeedbackResponse.id))) == 0
    assert s.find_feedback_request("not-a-real-token")[1] == "unknown"


def test_a_new_link_replaces_an_unanswered_one(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    (_, old_token), _ = s.create_feedback_requests(case, stage="follow_up", actor=coordinator)
    s.create_feedback_requests(case, stage="follow_up", actor=coordinator, party_ids=[a.id])
    assert s.find_feedback_request(old_token)[1] == "expired"


def test_feedback_answers_must_be_valid(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    (req, token), _ = s.create_feedback_requests(case, stage="after_meeting", actor=coordinator)
    with pytest.raises(DomainError) as err:
        _answer(token, satisfaction=9)
    assert err.value.field == "satisfaction"
    with pytest.raises(DomainError) as err:
        _answer(token, felt_safe="maybe")
    assert err.value.field == "felt_safe"
    assert s.find_feedback_request(token)[1] == "open"


def test_feedback_summary_counts_without_names(db, make_user, held_setup):
    coordinator = make_user("coordinator")
    case, meeting, a, b = _held(held_setup, coordinator)
    (r1, t1), (r2, t2) = s.create_feedback_requests(case, stage="after_meeting", actor=coordinator)
    _answer(t1, satisfaction=5)
    _answer(t2, satisfaction=2, felt_safe="partly", would_recommend="no")
    today = local_today()
    summary = s.feedback_summary(today - timedelta(days=1), today + timedelta(days=1))
    assert summary["responses"] == 2 and summary["requests_sent"] == 2
    assert summary["satisfaction"] == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert summary["felt_safe"] == {"yes": 1, "partly": 1, "no": 0}
    assert summary["would_recommend"]["no"] == 1 and summary["satisfied"] == 1
    assert "Alex" not in repr(summary) and "Thank you" not in repr(summary)
    assert s.feedback_summary(today + timedelta(days=1), today + timedelta(days=2))["responses"] == 0


# --- Level 1 -------------------------------------------------------------------------------------

def _level1(**kw):
    data = dict(occurred_on=local_today() - timedelta(days=1), area="Edgeley",
                parties=[("JB", "harmed"), ("K", "responsible")], agreed="Apologised on the spot",
                harmed_consulted_and_agreed=True, responsible_admitted_and_agreed=True)
    actor = kw.pop("actor", None)
    data.update(kw)
    return s.record_level1(**data, actor=actor)


def test_a_level1_record_makes_a_closed_completed_level1_case(db, make_user):
    coordinator = make_user("coordinator")
    rec = _level1(actor=coordinator)
    db.session.commit()
    case = db.session.get(Case, rec.case_id)
    assert case.level == 1 and case.status is CaseStatus.CLOSED
    assert case.close_reason is CloseReason.AGREEMENT_COMPLETED
    assert [(p.name, p.side) for p in rec.parties] == [("JB", "harmed"), ("K", "responsible")]
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)))
    assert {"level1.recorded", "case.level1_recorded"} <= actions
    assert s.level1_summary(local_today() - timedelta(days=7), local_today() + timedelta(days=1))["total"] == 1


@pytest.mark.parametrize("harmed,responsible,missing", [
    (False, True, "the person harmed was consulted"), (True, False, "the person responsible admitted"),
    (False, False, "the person harmed was consulted and agreed and the person responsible"),
])
def test_a_level1_record_needs_both_basic_standards(db, make_user, harmed, responsible, missing):
    with pytest.raises(DomainError, match=missing) as err:
        _level1(harmed_consulted_and_agreed=harmed, responsible_admitted_and_agreed=responsible)
    assert err.value.field == "standards"
    assert db.session.scalar(select(func.count(Level1Record.id))) == 0
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_a_level1_record_needs_both_sides_a_date_not_in_the_future_and_what_was_agreed(db):
    with pytest.raises(DomainError, match="one person harmed and one person responsible"):
        _level1(parties=[("JB", "harmed")])
    with pytest.raises(DomainError, match="first name or initials for party 2"):
        _level1(parties=[("JB", "harmed"), ("", "responsible")])
    with pytest.raises(DomainError, match="today or in the past"):
        _level1(occurred_on=local_today() + timedelta(days=1))
    with pytest.raises(DomainError, match="what was agreed"):
        _level1(agreed="")
