"""Consent pages: each role allowed or denied, forms that keep what was typed, the public link page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from rj.cases.models import CaseStatus, Scheme
from rj.consent import services
from rj.consent.models import ConsentLink, ConsentRecord, Party, PartyRole, RiskAssessment
from tests.factories import make_case


def party_urls(case, party):
    base = f"/cases/{case.id}/parties/{party.id}"
    return [f"{base}/edit", f"{base}/remove", f"{base}/information", f"{base}/consent", f"{base}/withdraw"]


def case_urls(case):
    return [f"/cases/{case.id}/parties/new", f"/cases/{case.id}/suitability", f"/cases/{case.id}/risk/new"]


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_coordinators_and_managers_open_every_consent_page(as_role, db, add_party, role):
    case = make_case()
    party = add_party(case)
    db.session.commit()
    client, _ = as_role(role)
    for url in case_urls(case) + party_urls(case, party):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role,code", [("facilitator", 403), ("admin", 403)])
def test_facilitators_and_admins_cannot_record_consent(as_role, db, add_party, role, code):
    case = make_case()
    party = add_party(case)
    db.session.commit()
    client, _ = as_role(role)
    for url in case_urls(case) + party_urls(case, party):
        assert client.get(url).status_code == code, url
    assert client.post(f"/cases/{case.id}/parties/{party.id}/link").status_code == code


def test_anonymous_people_are_sent_to_sign_in_from_consent_pages(client, db, add_party):
    case = make_case()
    party = add_party(case)
    db.session.commit()
    for url in case_urls(case) + party_urls(case, party):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url


def test_a_party_of_another_case_is_not_found_through_this_case(as_role, db, add_party):
    case, other = make_case(), make_case()
    stranger = add_party(other)
    db.session.commit()
    client, _ = as_role("coordinator")
    assert client.get(f"/cases/{case.id}/parties/{stranger.id}/consent").status_code == 404


def test_adding_a_party_through_the_form(as_role, db):
    case = make_case(scheme=Scheme.POST_SENTENCE, level=3)
    client, _ = as_role("coordinator")
    page = client.get(f"/cases/{case.id}/parties/new").get_data(as_text=True)
    assert "Person harmed" in page and "Person responsible" in page
    response = client.post(f"/cases/{case.id}/parties/new", data={
        "role": "responsible", "name": "Rob Responsible", "phone": "07700 900982", "preferred_contact": "phone",
        "safe_contact": "Call the probation officer first", "acknowledges_responsibility": "yes",
        "date_of_birth": ["", "", ""]})
    assert response.status_code == 302, response.get_data(as_text=True)
    party = db.session.scalars(select(Party)).one()
    assert party.acknowledges_responsibility is True and party.role is PartyRole.RESPONSIBLE


def test_the_sortit_party_form_never_offers_victim_or_offender_roles(as_role, db):
    case = make_case(scheme=Scheme.SORTIT)
    client, _ = as_role("coordinator")
    page = client.get(f"/cases/{case.id}/parties/new").get_data(as_text=True).lower()
    assert "person harmed" not in page and "person responsible" not in page and "offender" not in page


def test_a_bad_party_form_keeps_what_was_typed(as_role, db):
    case = make_case()
    client, _ = as_role("coordinator")
    response = client.post(f"/cases/{case.id}/parties/new", data={
        "role": "party", "name": "Kept Name", "interpreter_needed": "y", "email": "not-an-email",
        "date_of_birth": ["31", "2", "2010"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter an email address in the correct format" in html
    assert "Date of birth must be a real date" in html
    assert 'value="Kept Name"' in html


def test_contradictory_consent_is_refused_with_a_clear_message_and_keeps_the_answers(as_role, db, add_party, coordinator):
    case = make_case()
    party = add_party(case)
    services.record_information(party, how="phone", actor=coordinator)
    db.session.commit()
    client, _ = as_role("coordinator")
    response = client.post(f"/cases/{case.id}/parties/{party.id}/consent", data={
        "given_by": "party", "kind": "consent_given", "scopes": ["take_part", "face_to_face", "indirect_only"],
        "method": "verbally"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "cannot both be given" in html
    assert 'value="indirect_only" checked' in html
    assert db.session.scalars(select(ConsentRecord).where(ConsentRecord.scope.is_not(None))).all() == []


def test_recording_information_then_consent_then_withdrawal_through_the_forms(as_role, db, add_party):
    case = make_case(status=CaseStatus.PREPARATION)
    party = add_party(case)
    db.session.commit()
    client, _ = as_role("coordinator")
    base = f"/cases/{case.id}/parties/{party.id}"
    assert client.post(f"{base}/information", data={"given_by": "party", "how": "in_person",
                                                    "leaflet": "SoRT-IT leaflet"}).status_code == 302
    assert client.post(f"{base}/consent", data={"given_by": "party", "kind": "consent_given",
                                                "scopes": ["take_part"], "method": "in_writing"}).status_code == 302
    assert client.post(f"{base}/withdraw", data={"given_by": "party", "method": "verbally"}).status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.PAUSED
    assert services.party_consent(party).summary == "withdrawn"


def test_a_link_is_shown_once_for_copying_and_the_public_page_records_online_consent(as_role, app, db, add_party):
    case = make_case()
    party = add_party(case)
    db.session.commit()
    client, _ = as_role("coordinator")
    response = client.post(f"/cases/{case.id}/parties/{party.id}/link")
    assert response.status_code == 302
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    url = html.split('<code class="rj-copy">')[1].split("</code>")[0]
    token = url.rsplit("/consent/", 1)[1]
    assert case.reference not in url and url == f"http://localhost/consent/{token}" and len(token) >= 40
    assert "rj-copy" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    public = app.test_client()
    page = public.get(f"/consent/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "It is your choice" in text
    assert case.reference not in text and party.name not in text
    bad = public.post(f"/consent/{token}", data={"agree": "yes", "scopes": ["face_to_face", "indirect_only"]})
    assert bad.status_code == 200 and "cannot both be given" in bad.get_data(as_text=True)
    ok = public.post(f"/consent/{token}", data={"agree": "yes", "scopes": ["face_to_face"]})
    assert ok.status_code == 200 and "your answer has been sent" in ok.get_data(as_text=True)
    assert public.get(f"/consent/{token}").status_code == 404
    assert services.party_consent(party).own.given("face_to_face")


def test_an_unknown_consent_token_is_not_found(client, db):
    assert client.get("/consent/" + "x" * 43).status_code == 404


def test_a_consent_link_for_a_party_with_email_goes_to_the_outbox(as_role, db, add_party):
    notifications = pytest.importorskip("rj.notifications.models")
    case = make_case()
    party = add_party(case, email="party@rj-test.org.uk")
    db.session.commit()
    client, _ = as_role("coordinator")
    client.post(f"/cases/{case.id}/parties/{party.id}/link")
    messages = db.session.scalars(select(notifications.OutboxMessage)).all()
    assert len(messages) == 1 and party.name not in messages[0].subject
    assert db.session.scalars(select(ConsentLink)).one().used_at is None


def test_only_a_manager_can_sign_off_a_risk_assessment(as_role, db, add_party, coordinator, make_user, login, app):
    case = make_case(scheme=Scheme.POST_SENTENCE, level=3)
    harmed = add_party(case, role=PartyRole.HARMED, name="Harriet H")
    ra = services.record_risk_assessment(case, stage="initial", actor=coordinator, items=[
        {"party_id": harmed.id, "risk": "none identified"}, {"party_id": None, "risk": "none identified"}])
    db.session.commit()
    client, _ = as_role("coordinator")
    assert client.post(f"/cases/{case.id}/risk/{ra.id}/sign-off", data={"version": ra.version}).status_code == 403
    assert "Sign off this risk assessment" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    manager_client = app.test_client()
    login(make_user("manager"), c=manager_client)
    assert "Sign off this risk assessment" in manager_client.get(f"/cases/{case.id}").get_data(as_text=True)
    response = manager_client.post(f"/cases/{case.id}/risk/{ra.id}/sign-off", data={"version": ra.version})
    assert response.status_code == 302
    assert db.session.scalars(select(RiskAssessment)).one().signed_off_at is not None


def test_the_risk_form_asks_about_each_party_and_the_facilitators(as_role, db, add_party):
    case = make_case()
    a = add_party(case, name="Ann A")
    db.session.commit()
    client, _ = as_role("coordinator")
    html = client.get(f"/cases/{case.id}/risk/new").get_data(as_text=True)
    assert "Risks to Ann A (Party)" in html and "Risks to the facilitators" in html
    bad = client.post(f"/cases/{case.id}/risk/new", data={"stage": "initial", f"risk_p{a.id}": "Retaliation",
                                                          "risk_facilitators": "none identified"})
    assert "Say how the risks to Ann A (Party) will be managed" in bad.get_data(as_text=True)
    assert "Retaliation" in bad.get_data(as_text=True)
    ok = client.post(f"/cases/{case.id}/risk/new", data={"stage": "initial", f"risk_p{a.id}": "Retaliation",
                                                         f"management_p{a.id}": "Separate arrival times",
                                                         "risk_facilitators": "none identified"})
    assert ok.status_code == 302


def test_the_suitability_form_refuses_a_missing_decision(as_role, db):
    case = make_case()
    client, _ = as_role("coordinator")
    bad = client.post(f"/cases/{case.id}/suitability", data={"flags": ["hate_crime"], "reasons": "Some reasons"})
    assert "Select whether the case is suitable" in bad.get_data(as_text=True)
    ok = client.post(f"/cases/{case.id}/suitability", data={
        "flags": ["hate_crime"], "decision": "suitable",
        "reasons": "Both parties want to meet; hate-crime trained facilitator required"})
    assert ok.status_code == 302
