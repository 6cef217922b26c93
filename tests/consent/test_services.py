"""Parties, the consent ledger, the consent gate, withdrawal, links, suitability and risk."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from rj.audit.models import AuditEvent
from rj.cases.models import CaseStatus, Scheme
from rj.consent import services
from rj.consent.models import ConsentKind, ConsentRecord, GivenBy, Party, PartyRole, role_label
from rj.core.errors import ConcurrentEdit, DomainError, NotAllowed
from rj.core.time import UTC, now_utc
from tests.factories import make_case


def actions(db, case):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                                  .order_by(AuditEvent.id))]


# --- parties -------------------------------------------------------------------------------------

def test_sortit_labels_never_say_victim_or_offender_harmed_or_responsible():
    for role in PartyRole:
        label = role_label(Scheme.SORTIT, role).lower()
        assert not any(word in label for word in ("victim", "offender", "harmed", "responsible"))
    assert role_label(Scheme.POST_SENTENCE, "harmed") == "Person harmed"
    assert role_label(Scheme.POST_SENTENCE, "responsible") == "Person responsible"


def test_a_sortit_case_refuses_post_sentence_roles(db, add_party):
    case = make_case(scheme=Scheme.SORTIT)
    with pytest.raises(DomainError) as err:
        add_party(case, role=PartyRole.HARMED)
    assert err.value.field == "role"


def test_parties_are_carried_from_the_referral_with_roles_for_the_scheme(db, coordinator):
    case = make_case(scheme=Scheme.SORTIT)
    referral = SimpleNamespace(people=[
        SimpleNamespace(name="Ann Harmed", side="harmed", under_18=False, contact_safely="text only, after 6pm",
                        email="ann@rj-test.org.uk", phone=None),
        SimpleNamespace(name="Ben Other", side="responsible", under_18=True, contact_safely=None, email=None,
                        phone="07700 900982"),
        SimpleNamespace(name="Cal Witness", side="other", under_18=False, contact_safely=None, email=None, phone=None),
    ])
    parties = services.parties_from_referral(case, referral, actor=coordinator)
    assert [p.role for p in parties] == [PartyRole.PARTY, PartyRole.PARTY, PartyRole.SUPPORTER]
    assert parties[0].safe_contact == "text only, after 6pm" and parties[0].victims_code
    assert parties[1].under_18 and not parties[1].victims_code
    # running it twice adds nobody twice
    assert services.parties_from_referral(case, referral, actor=coordinator) == []
    post = make_case(scheme=Scheme.POST_SENTENCE, level=3)
    roles = [p.role for p in services.parties_from_referral(post, referral, actor=coordinator)]
    assert roles == [PartyRole.HARMED, PartyRole.RESPONSIBLE, PartyRole.SUPPORTER]


def test_parties_from_a_real_referral_if_the_referrals_domain_exists(db, coordinator):
    models = pytest.importorskip("rj.referrals.models")
    if not hasattr(models, "ReferralPerson"):
        pytest.skip("referrals domain not there yet")
    case = make_case()
    referral = SimpleNamespace(people=[models.ReferralPerson(name="Dee Person", side="harmed", under_18=False)])
    assert [p.name for p in services.parties_from_referral(case, referral, actor=coordinator)] == ["Dee Person"]


def test_correcting_a_party_is_audited_with_field_names_and_refuses_stale_forms(db, add_party, coordinator):
    case = make_case()
    party = add_party(case, phone="0161 000 0000")
    version = party.version
    changed = services.update_party(party, {"role": "party", "name": "Jordan Example", "phone": "0161 111 1111",
                                            "wheelchair_access": True}, version=version, actor=coordinator)
    assert sorted(changed) == ["phone", "wheelchair_access"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "party.updated")).one()
    assert event.fields == ["phone", "wheelchair_access"] and "0161" not in str(event.detail)
    with pytest.raises(ConcurrentEdit):
        services.update_party(party, {"name": "Someone Else"}, version=version, actor=coordinator)


def test_removing_a_party_keeps_them_on_record(db, add_party, coordinator):
    case = make_case()
    party = add_party(case)
    services.remove_party(party, actor=coordinator)
    assert party.removed_at is not None
    assert services.active_parties(case) == []
    assert db.session.get(Party, party.id) is not None
    assert "party.removed" in actions(db, case)


def test_a_guardian_must_be_linked_to_a_party_under_18(db, add_party):
    case = make_case()
    adult = add_party(case, name="Adult Party")
    with pytest.raises(DomainError) as err:
        add_party(case, role=PartyRole.GUARDIAN, name="Parent", guardian_for_id=adult.id)
    assert err.value.field == "guardian_for_id"


def test_a_date_of_birth_under_18_marks_the_party_under_18(db, add_party):
    case = make_case()
    today = date.today()
    party = add_party(case, date_of_birth=date(today.year - 15, 1, 1))
    assert party.under_18


def test_an_interpreter_needs_a_language(db, add_party):
    with pytest.raises(DomainError) as err:
        add_party(make_case(), interpreter_needed=True)
    assert err.value.field == "interpreter_language"


# --- the ledger ----------------------------------------------------------------------------------

def test_consent_records_can_never_be_edited_or_deleted(db, add_party, consent):
    case = make_case()
    party = add_party(case)
    rows = consent(party)
    db.session.commit()
    rows[0].kind = ConsentKind.CONSENT_DECLINED
    with pytest.raises(RuntimeError, match="never edited"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ConsentRecord, rows[0].id))
    with pytest.raises(RuntimeError, match="never deleted"):
        db.session.flush()
    db.session.rollback()


def test_consent_needs_information_given_first(db, add_party, coordinator):
    party = add_party(make_case())
    with pytest.raises(DomainError, match="information given"):
        services.record_consent(party, kind="consent_given", scopes=["take_part"], method="verbally", actor=coordinator)
    # declining never needs it
    services.record_consent(party, kind="consent_declined", scopes=["take_part"], method="verbally", actor=coordinator)
    assert services.party_consent(party).summary == "declined"


def test_face_to_face_together_with_indirect_only_is_refused_and_nothing_is_written(db, add_party, coordinator):
    party = add_party(make_case())
    services.record_information(party, how="phone", actor=coordinator)
    with pytest.raises(DomainError, match="cannot both be given") as err:
        services.record_consent(party, kind="consent_given", scopes=["take_part", "face_to_face", "indirect_only"],
                                method="verbally", actor=coordinator)
    assert err.value.field == "scopes"
    assert db.session.scalars(select(ConsentRecord).where(ConsentRecord.kind != ConsentKind.INFORMATION_GIVEN)).all() == []


def test_switching_from_indirect_only_to_face_to_face_needs_the_old_answer_declined_first(db, add_party, consent, coordinator):
    party = add_party(make_case())
    consent(party, ["take_part", "indirect_only"])
    with pytest.raises(DomainError, match="indirect contact only"):
        services.record_consent(party, kind="consent_given", scopes=["face_to_face"], method="verbally", actor=coordinator)
    services.record_consent(party, kind="consent_declined", scopes=["indirect_only"], method="verbally", actor=coordinator)
    services.record_consent(party, kind="consent_given", scopes=["face_to_face"], method="verbally", actor=coordinator)
    state = services.party_consent(party)
    assert state.own.given("face_to_face") and not state.own.given("indirect_only")


def test_other_scopes_need_consent_to_take_part(db, add_party, coordinator):
    party = add_party(make_case())
    services.record_information(party, how="phone", actor=coordinator)
    with pytest.raises(DomainError, match="Take part"):
        services.record_consent(party, kind="consent_given", scopes=["share_details"], method="verbally", actor=coordinator)


def test_current_state_is_the_latest_record_per_scope(db, add_party, consent, coordinator):
    party = add_party(make_case())
    t0 = now_utc() - timedelta(days=3)
    consent(party, ["take_part", "share_details"], now=t0)
    services.record_consent(party, kind="consent_declined", scopes=["share_details"], method="verbally",
                            actor=coordinator, now=t0 + timedelta(days=1))
    state = services.party_consent(party)
    assert state.own.given("take_part") and not state.own.given("share_details")
    assert state.answer(GivenBy.PARTY, "share_details") == "No"
    assert state.answer(GivenBy.PARTY, "face_to_face") == "Not asked"


# --- minors --------------------------------------------------------------------------------------

def test_a_party_under_18_needs_their_own_and_a_guardians_consent(db, add_party, consent):
    case = make_case()
    adult = add_party(case, name="Adult Party")
    child = add_party(case, name="Young Party", under_18=True)
    consent(adult)
    consent(child)
    gate = services.check_meeting_gate(case, [adult, child], kind="restorative")
    assert not gate.allowed
    assert gate.reasons == ["Young Party (Party) is under 18 and no parent or guardian is recorded on the case"]
    guardian = add_party(case, role=PartyRole.GUARDIAN, name="Parent Person", guardian_for_id=child.id)
    gate = services.check_meeting_gate(case, [adult, child], kind="restorative")
    assert "Young Party (Party) is under 18: their parent or guardian has not consented to them taking part" in gate.reasons
    assert services.party_consent(child).summary == "partly_agreed"
    consent(child, ["take_part"], given_by=GivenBy.GUARDIAN)
    gate = services.check_meeting_gate(case, [adult, child, guardian], kind="restorative")
    assert gate.reasons == ["Young Party (Party) is under 18: their parent or guardian has not consented to a face-to-face meeting"]
    consent(child, ["face_to_face"], given_by=GivenBy.GUARDIAN)
    assert services.check_meeting_gate(case, [adult, child, guardian], kind="restorative").allowed
    rec = db.session.scalars(select(ConsentRecord).where(ConsentRecord.given_by == GivenBy.GUARDIAN)).first()
    assert rec.guardian_party_id == guardian.id


def test_guardian_consent_is_refused_for_an_adult(db, add_party, coordinator):
    party = add_party(make_case())
    with pytest.raises(DomainError, match="under 18"):
        services.record_information(party, how="phone", given_by=GivenBy.GUARDIAN, actor=coordinator)


# --- the gate ------------------------------------------------------------------------------------

def test_the_gate_lists_every_reason_in_plain_words(db, add_party, consent):
    case = make_case()
    a = add_party(case, name="Ann A")
    b = add_party(case, name="Bo B")
    consent(a, ["take_part", "indirect_only"])
    gate = services.check_meeting_gate(case, [a, b], kind="restorative")
    assert not gate.allowed
    assert gate.reasons == ["Ann A (Party) wants indirect contact only", "Bo B (Party) has not consented to take part",
                            "Bo B (Party) has not consented to meet face to face"]
    assert all("victim" not in r.lower() and "offender" not in r.lower() for r in gate.reasons)


def test_indirect_contact_is_allowed_on_indirect_or_face_to_face_consent(db, add_party, consent):
    case = make_case()
    a, b = add_party(case, name="Ann A"), add_party(case, name="Bo B")
    consent(a, ["take_part", "indirect_only"])
    consent(b, ["take_part", "face_to_face"])
    assert services.check_meeting_gate(case, [a, b], kind="indirect").allowed
    assert not services.check_meeting_gate(case, [a, b], kind="restorative").allowed


def test_preparation_needs_consent_to_take_part_only(db, add_party, consent):
    case = make_case()
    a = add_party(case)
    assert services.check_meeting_gate(case, [a], kind="preparation").reasons == [
        "Jordan Example (Party) has not consented to take part"]
    consent(a, ["take_part"])
    assert services.check_meeting_gate(case, [a], kind="preparation").allowed


def test_post_sentence_needs_responsibility_accepted_before_a_restorative_meeting(db, add_party, consent):
    case = make_case(scheme=Scheme.POST_SENTENCE, level=2)
    harmed = add_party(case, role=PartyRole.HARMED, name="Harriet H", victims_code=True)
    resp = add_party(case, role=PartyRole.RESPONSIBLE, name="Rob R")
    consent(harmed)
    consent(resp)
    gate = services.check_meeting_gate(case, [harmed, resp], kind="restorative")
    assert gate.reasons == ["Rob R (Person responsible) has not acknowledged the basic facts and accepted responsibility"]
    resp.acknowledges_responsibility = True
    assert services.check_meeting_gate(case, [harmed, resp], kind="restorative").allowed


def test_level_3_needs_a_manager_signed_risk_assessment_before_meeting_face_to_face(db, add_party, consent,
                                                                                    coordinator, manager):
    case = make_case(scheme=Scheme.POST_SENTENCE, level=3)
    harmed = add_party(case, role=PartyRole.HARMED, name="Harriet H")
    resp = add_party(case, role=PartyRole.RESPONSIBLE, name="Rob R", acknowledges_responsibility=True)
    consent(harmed)
    consent(resp)
    assert "none is recorded" in services.check_meeting_gate(case, [harmed, resp], kind="restorative").reasons[0]
    items = [{"party_id": harmed.id, "risk": "Anxiety on meeting", "management": "Separate waiting room"},
             {"party_id": resp.id, "risk": "none identified"},
             {"party_id": None, "risk": "Verbal aggression", "management": "Two facilitators, exit plan"}]
    ra = services.record_risk_assessment(case, stage="initial", items=items, actor=coordinator)
    gate = services.check_meeting_gate(case, [harmed, resp], kind="restorative")
    assert gate.reasons == ["This is a Level 3 case: a manager must sign off the latest risk assessment before any "
                            "face-to-face meeting"]
    # indirect contact is not face to face
    assert services.check_meeting_gate(case, [harmed, resp], kind="indirect").allowed
    with pytest.raises(NotAllowed):
        services.sign_off_risk_assessment(ra, actor=coordinator)
    services.sign_off_risk_assessment(ra, actor=manager)
    assert services.check_meeting_gate(case, [harmed, resp], kind="restorative").allowed
    # a newer assessment after preparation needs signing again
    services.record_risk_assessment(case, stage="after_preparation", items=items, actor=coordinator,
                                    now=now_utc() + timedelta(minutes=1))
    assert not services.check_meeting_gate(case, [harmed, resp], kind="restorative").allowed


def test_a_risk_needs_how_it_is_managed_and_every_party_is_covered(db, add_party, coordinator):
    case = make_case()
    a = add_party(case, name="Ann A")
    with pytest.raises(DomainError) as err:
        services.record_risk_assessment(case, stage="initial", actor=coordinator,
                                        items=[{"party_id": a.id, "risk": "Retaliation"}])
    assert err.value.field == f"management_p{a.id}"
    with pytest.raises(DomainError) as err:
        services.record_risk_assessment(case, stage="initial", actor=coordinator,
                                        items=[{"party_id": a.id, "risk": "none identified"}])
    assert err.value.field == "risk_facilitators"


def test_the_gate_blocks_a_case_not_yet_accepted_or_closed(db, add_party, consent):
    case = make_case(status=CaseStatus.IN_TRIAGE)
    a = add_party(case)
    consent(a, ["take_part"])
    assert services.check_meeting_gate(case, [a], kind="preparation").reasons == ["The case has not been accepted yet"]


def test_the_gate_refuses_a_party_from_another_case_and_an_empty_meeting(db, add_party, consent):
    case, other = make_case(), make_case()
    stranger = add_party(other, name="Stranger")
    assert services.check_meeting_gate(case, [], kind="preparation").reasons == ["Choose who will take part in the meeting"]
    assert services.check_meeting_gate(case, [stranger], kind="preparation").reasons == [
        "Stranger (Party) is not part of this case"]


def test_an_unsuitable_screening_blocks_meetings(db, add_party, consent, coordinator):
    case = make_case()
    a = add_party(case)
    consent(a, ["take_part"])
    services.record_suitability(case, flags=["stalking"], under_18s=False, decision="unsuitable",
                                reasons="Ongoing stalking", actor=coordinator)
    assert "unsuitable" in services.check_meeting_gate(case, [a], kind="preparation").reasons[0]


def test_suitability_with_sensitive_flags_needs_reasons(db, coordinator):
    case = make_case()
    with pytest.raises(DomainError) as err:
        services.record_suitability(case, flags=["hate_crime"], under_18s=False, decision="suitable", reasons="ok",
                                    actor=coordinator)
    assert err.value.field == "reasons"
    with pytest.raises(DomainError):
        services.record_suitability(case, flags=["made_up"], under_18s=False, decision="suitable",
                                    reasons="A long enough reason here", actor=coordinator)


# --- withdrawal ----------------------------------------------------------------------------------

def test_withdrawal_mid_process_pauses_the_case_and_giving_again_resumes_it_all_on_record(db, add_party, consent,
                                                                                           coordinator, monkeypatch):
    cancelled = []
    import rj.consent.services as svc

    monkeypatch.setattr(svc, "_cancel_future_meetings",
                        lambda party, *, actor, now: cancelled.append(party.id))
    case = make_case(status=CaseStatus.PREPARATION, lead_coordinator=coordinator)
    a, b = add_party(case, name="Ann A"), add_party(case, name="Bo B")
    consent(a)
    consent(b)
    from rj.cases.services import change_case_status

    change_case_status(case, CaseStatus.READY_TO_MEET, actor=coordinator)
    assert services.check_meeting_gate(case, [a, b], kind="restorative").allowed

    services.withdraw_consent(a, method="verbally", actor=coordinator)
    assert case.status is CaseStatus.PAUSED and case.status_before_pause is CaseStatus.READY_TO_MEET
    assert cancelled == [a.id]
    gate = services.check_meeting_gate(case, [a, b], kind="restorative")
    assert gate.reasons == ["The case is paused because a party withdrew consent", "Ann A (Party) has withdrawn consent"]
    assert services.party_consent(a).summary == "withdrawn"

    services.record_consent(a, kind="consent_given", scopes=["take_part", "face_to_face"], method="verbally",
                            actor=coordinator)
    assert case.status is CaseStatus.READY_TO_MEET and case.status_before_pause is None
    assert services.check_meeting_gate(case, [a, b], kind="restorative").allowed

    kinds = [r.kind for r in db.session.scalars(select(ConsentRecord).where(ConsentRecord.party_id == a.id)
                                                .order_by(ConsentRecord.id))]
    assert kinds.count(ConsentKind.CONSENT_WITHDRAWN) == 2 and kinds.count(ConsentKind.CONSENT_GIVEN) == 4
    trail = actions(db, case)
    assert trail.count("case.status_changed") == 3
    assert "consent.withdrawn" in trail and "case.coordinator_told" in trail
    assert trail.index("consent.withdrawn") < trail.index("consent.given", trail.index("consent.withdrawn"))


def test_the_case_stays_paused_while_another_party_is_still_withdrawn(db, add_party, consent, coordinator):
    case = make_case(status=CaseStatus.PREPARATION)
    a, b = add_party(case, name="Ann A"), add_party(case, name="Bo B")
    consent(a)
    consent(b)
    services.withdraw_consent(a, method="verbally", actor=coordinator)
    services.withdraw_consent(b, method="in_writing", actor=coordinator)
    services.record_consent(a, kind="consent_given", scopes=["take_part"], method="verbally", actor=coordinator)
    assert case.status is CaseStatus.PAUSED
    services.record_consent(b, kind="consent_given", scopes=["take_part"], method="verbally", actor=coordinator)
    assert case.status is CaseStatus.PREPARATION


def test_withdrawal_calls_scheduling_to_cancel_future_meetings_when_it_exists(db, add_party, consent, coordinator,
                                                                              monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("rj.scheduling.services")
    fake.cancel_future_meetings_for_party = lambda party, *, actor, now, reason: calls.append((party.id, reason))
    monkeypatch.setitem(sys.modules, "rj.scheduling.services", fake)
    case = make_case()
    a = add_party(case)
    consent(a, ["take_part"])
    services.withdraw_consent(a, method="verbally", actor=coordinator)
    assert calls == [(a.id, "consent_withdrawn")]


# --- online consent links ------------------------------------------------------------------------

def test_a_consent_link_is_random_hashed_single_use_and_says_nothing_about_the_case(db, add_party, coordinator):
    case = make_case()
    party = add_party(case)
    token = services.issue_consent_link(party, actor=coordinator)
    assert len(token) >= 40 and case.reference not in token and str(case.id) != token
    from rj.consent.models import ConsentLink

    link = db.session.scalars(select(ConsentLink)).one()
    assert link.token_hash != token
    rows = services.answer_consent_link(token, agree=True, scopes=["face_to_face"])
    assert {r.scope.value for r in rows} == {"take_part", "face_to_face"}
    assert all(r.method.value == "online" and r.recorded_by_id is None for r in rows)
    assert services.party_consent(party).own.informed_at is not None
    assert services.find_consent_link(token) is None
    with pytest.raises(DomainError, match="expired or has already been used"):
        services.answer_consent_link(token, agree=False, scopes=[])


def test_a_consent_link_expires(db, add_party, coordinator):
    party = add_party(make_case())
    issued = datetime(2026, 3, 1, 12, tzinfo=UTC)
    token = services.issue_consent_link(party, actor=coordinator, now=issued)
    assert services.find_consent_link(token, now=issued + timedelta(days=13)) is not None
    assert services.find_consent_link(token, now=issued + timedelta(days=14)) is None


def test_a_contradictory_online_answer_is_refused_and_the_link_still_works(db, add_party, coordinator):
    party = add_party(make_case())
    token = services.issue_consent_link(party, actor=coordinator)
    with pytest.raises(DomainError, match="cannot both be given"):
        services.answer_consent_link(token, agree=True, scopes=["face_to_face", "indirect_only"])
    assert services.find_consent_link(token) is not None
    assert db.session.scalars(select(ConsentRecord)).all() == []


def test_a_guardians_link_records_the_guardians_consent_for_the_child(db, add_party, coordinator):
    case = make_case()
    child = add_party(case, name="Young Party", under_18=True)
    parent = add_party(case, role=PartyRole.GUARDIAN, name="Parent", guardian_for_id=child.id,
                       email="parent@rj-test.org.uk")
    token = services.issue_consent_link(parent, actor=coordinator)
    services.answer_consent_link(token, agree=True, scopes=[])
    state = services.party_consent(child)
    assert state.guardian.given("take_part") and not state.own.given("take_part")


def test_declining_online_is_recorded(db, add_party, coordinator):
    party = add_party(make_case())
    token = services.issue_consent_link(party, actor=coordinator)
    services.answer_consent_link(token, agree=False, scopes=["face_to_face"])
    assert services.party_consent(party).summary == "declined"


# --- notes ---------------------------------------------------------------------------------------

def test_a_note_keeps_its_author_and_the_audit_keeps_no_text(db, coordinator):
    case = make_case()
    note = services.add_case_note(case, body="Met Ann at home; she is anxious", actor=coordinator)
    assert note.author_id == coordinator.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "note.added")).one()
    assert "anxious" not in str(event.detail)


def test_a_partial_correction_keeps_the_other_details(db, add_party, coordinator):
    party = add_party(make_case(), preferred_contact="text", interpreter_needed=True, interpreter_language="Urdu")
    services.update_party(party, {"phone": "0161 222 2222"}, version=party.version, actor=coordinator)
    assert party.preferred_contact.value == "text" and party.interpreter_language == "Urdu"
