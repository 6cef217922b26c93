"""The referral rules: references, clean text, dates, drafts, and triage's lifecycle and audit."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from rj.audit.models import AuditEvent
from rj.cases.models import Case, CaseStatus, Scheme
from rj.core.errors import ConcurrentEdit, DomainError, IllegalTransition
from rj.core.permissions import Role
from rj.core.time import now_utc
from rj.referrals import services
from rj.referrals.models import DeclineReason, Referral, ReferralDraft, ReferralPerson
from tests.factories import make_case
from tests.referrals.factories import make_referral, referral_data

REFERENCE = re.compile(r"^RJ-\d{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{5}$")


def _events(db, action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- submitting -------------------------------------------------------------------------------

def test_submitting_creates_a_referred_case_with_its_referral_and_people_and_audits_it(db):
    case = make_referral()
    assert case.status is CaseStatus.REFERRED and case.referred_at is not None
    assert REFERENCE.match(case.reference)
    referral = db.session.scalar(select(Referral).where(Referral.case_id == case.id))
    assert referral.referrer_organisation == "Stockport Homes" and referral.risk_flags == []
    assert [p.name for p in referral.people] == ["Gareth Lloyd", "Dean Hurst"]
    assert referral.people[0].side.value == "harmed"
    assert case.referral is referral
    (event,) = _events(db, "referral.submitted")
    assert event.actor_id is None and event.case_id == case.id
    assert "Gareth" not in str(event.detail)


def test_references_are_random_unambiguous_and_unique(db):
    refs = {make_referral(commit=False).reference for _ in range(40)}
    assert len(refs) == 40
    assert all(REFERENCE.match(r) for r in refs)
    assert not any(ch in r[8:] for r in refs for ch in "01OIL")


def test_a_reference_collision_draws_again(db):
    year = now_utc().year
    make_case(status=CaseStatus.REFERRED).reference  # some other case
    taken = make_case(status=CaseStatus.REFERRED)
    taken.reference = f"RJ-{year}-AAAAA"
    db.session.commit()
    draws = iter("AAAAA" + "BBBBB")
    case = services.submit_referral(referral_data(), choice=lambda alphabet: next(draws))
    assert case.reference == f"RJ-{year}-BBBBB"


def test_control_characters_and_nul_bytes_never_reach_the_database(db):
    case = make_referral(description="Bins\x00 set on fire\x07\nTwice.", location="Marple\x00",
                         referrer_name="Helen\x1b Whitworth")
    db.session.expire_all()
    referral = db.session.get(Case, case.id).referral
    assert referral.description == "Bins set on fire\nTwice."
    assert referral.location == "Marple"
    assert referral.referrer_name == "Helen Whitworth"


def test_a_date_in_the_future_is_refused(db):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    with pytest.raises(DomainError) as err:
        services.submit_referral(referral_data(incident_date=tomorrow))
    assert err.value.field == "incident_date" and "today or in the past" in err.value.message
    assert db.session.scalar(select(Case.id)) is None


@pytest.mark.parametrize("overrides,field", [
    ({"referrer_email": "", "referrer_phone": ""}, "referrer_email"),
    ({"referrer_name": "  "}, "referrer_name"),
    ({"description": "x" * 1201}, "description"),
    ({"category": "burglary"}, "category"),
    ({"risk_flags": ["none", "weapons"]}, "risk_flags"),
    ({"risk_flags": []}, "risk_flags"),
    ({"people": []}, "people"),
    ({"consent_to_share": None}, "consent_to_share"),
    ({"referrer_is_public": False, "referrer_organisation": ""}, "referrer_organisation"),
])
def test_incomplete_or_bad_answers_are_refused_with_the_field_named(db, overrides, field):
    with pytest.raises(DomainError) as err:
        services.submit_referral(referral_data(**overrides))
    assert err.value.field == field


def test_a_member_of_the_public_needs_no_organisation(db):
    case = make_referral(referrer_is_public=True, referrer_organisation="ignored", referrer_role="ignored")
    assert case.referral.referrer_is_public and case.referral.referrer_organisation is None


def test_the_referrer_is_acknowledged_only_when_they_gave_an_email(db, hooks):
    with_email = make_referral()
    services.acknowledge_referral(with_email)
    without = make_referral(referrer_email="")
    services.acknowledge_referral(without)
    assert hooks["queue_referral_acknowledgement"] == [with_email]


# --- drafts ------------------------------------------------------------------------------------

def test_drafts_are_found_by_token_stored_hashed_and_expire_after_a_day(db):
    now = now_utc()
    draft, token = services.start_draft(now=now)
    services.save_draft_answers(draft, "about", {"referrer_name": "Helen"})
    db.session.commit()
    assert draft.token_hash != token and token not in draft.token_hash
    assert services.find_draft(token, now=now).answers == {"about": {"referrer_name": "Helen"}}
    assert services.find_draft("not-a-token", now=now) is None
    assert services.find_draft(token, now=now + timedelta(hours=24, seconds=1)) is None
    assert services.purge_expired_drafts(now=now + timedelta(hours=25)) == 1
    assert db.session.scalar(select(ReferralDraft.id)) is None


# --- triage ------------------------------------------------------------------------------------

def test_accepting_moves_the_case_on_records_who_leads_and_hands_people_to_consent(db, make_user, hooks):
    coordinator = make_user(Role.COORDINATOR)
    case = make_referral()
    services.accept_referral(case, scheme=Scheme.SORTIT, level=2, lead_coordinator=coordinator, actor=coordinator)
    db.session.commit()
    assert case.status is CaseStatus.ACCEPTED and case.scheme is Scheme.SORTIT and case.level == 2
    assert case.lead_coordinator_id == coordinator.id and case.accepted_at and case.triaged_at
    (event,) = _events(db, "case.accepted")
    assert event.actor_id == coordinator.id and event.case_id == case.id
    assert event.detail == {"from": "referred", "to": "accepted", "scheme": "sortit", "level": 2}
    assert [(c, r) for c, r, _ in hooks["parties_from_referral"]] == [(case, case.referral)]


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.ADMIN])
def test_only_a_coordinator_or_manager_can_lead_a_case(db, make_user, role):
    case = make_referral()
    with pytest.raises(DomainError) as err:
        services.accept_referral(case, scheme=Scheme.SORTIT, level=2, lead_coordinator=make_user(role),
                                 actor=make_user(Role.MANAGER))
    assert err.value.field == "lead_coordinator"


def test_level_must_be_one_two_or_three(db, make_user):
    manager = make_user(Role.MANAGER)
    with pytest.raises(DomainError):
        services.accept_referral(make_referral(), scheme=Scheme.POST_SENTENCE, level=4, lead_coordinator=manager,
                                 actor=manager)


def test_declining_records_a_coded_reason_and_never_the_note_in_the_audit(db, make_user):
    manager = make_user(Role.MANAGER)
    case = make_referral()
    services.decline_referral(case, reason=DeclineReason.OUTSIDE_AREA, note="Lives in Tameside", actor=manager)
    db.session.commit()
    assert case.status is CaseStatus.DECLINED and case.referral.decline_reason is DeclineReason.OUTSIDE_AREA
    assert case.triage_note == "Lives in Tameside"
    (event,) = _events(db, "case.declined")
    assert event.detail["reason"] == "outside_area" and "Tameside" not in str(event.detail)


def test_declining_for_another_reason_needs_a_note(db, make_user):
    with pytest.raises(DomainError) as err:
        services.decline_referral(make_referral(), reason="other", note="", actor=make_user())
    assert err.value.field == "note"


def test_asking_for_more_information_keeps_it_in_triage(db, make_user):
    user = make_user()
    case = make_referral()
    services.request_more_information(case, note="Need the address of the second household", actor=user)
    assert case.status is CaseStatus.IN_TRIAGE
    services.request_more_information(case, note="Still waiting", actor=user)
    assert case.status is CaseStatus.IN_TRIAGE and case.triage_note == "Still waiting"
    assert len(_events(db, "case.more_information_requested")) == 2
    services.accept_referral(case, scheme=Scheme.POST_SENTENCE, level=3, lead_coordinator=user, actor=user)
    assert case.status is CaseStatus.ACCEPTED


def test_illegal_triage_moves_raise(db, make_user):
    user = make_user()
    declined = make_referral()
    services.decline_referral(declined, reason="duplicate", actor=user)
    with pytest.raises(IllegalTransition):
        services.accept_referral(declined, scheme=Scheme.SORTIT, level=2, lead_coordinator=user, actor=user)
    accepted = make_referral()
    services.accept_referral(accepted, scheme=Scheme.SORTIT, level=2, lead_coordinator=user, actor=user)
    with pytest.raises(IllegalTransition):
        services.decline_referral(accepted, reason="duplicate", actor=user)
    with pytest.raises(IllegalTransition):
        services.request_more_information(accepted, note="?", actor=user)


def test_a_save_from_a_stale_version_is_refused(db, make_user):
    user = make_user()
    case = make_referral()
    opened_at = case.version
    services.request_more_information(case, note="First", actor=user)
    db.session.commit()
    with pytest.raises(ConcurrentEdit):
        services.decline_referral(case, reason="duplicate", actor=user, expected_version=opened_at)
    assert case.status is CaseStatus.IN_TRIAGE


def test_the_people_are_stored_in_the_order_given(db):
    case = make_referral(people=[{"name": n, "side": "other", "under_18": True} for n in ("C", "A", "B")])
    names = db.session.scalars(select(ReferralPerson.name).where(ReferralPerson.referral_id == case.referral.id)
                               .order_by(ReferralPerson.position))
    assert list(names) == ["C", "A", "B"]
