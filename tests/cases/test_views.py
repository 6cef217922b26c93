"""The case list and case file: each role allowed or denied, filters, fixed queries, status and closing."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, select

from rj.audit.models import AuditEvent
from rj.cases.models import CaseStatus, CloseReason, Scheme
from rj.cases.services import change_case_status, close_case
from rj.consent import services as consent_services
from rj.consent.models import PartyRole
from rj.core.errors import DomainError, IllegalTransition
from rj.core.permissions import Role
from rj.core.time import UTC
from tests.factories import make_case


# --- services ------------------------------------------------------------------------------------

def test_status_changes_follow_the_allowed_transitions_and_are_audited(db, make_user):
    user = make_user(Role.COORDINATOR)
    case = make_case(status=CaseStatus.ACCEPTED)
    change_case_status(case, CaseStatus.PREPARATION, actor=user)
    with pytest.raises(IllegalTransition):
        change_case_status(case, CaseStatus.MONITORING, actor=user)
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status_changed")).one()
    assert event_.detail == {"from": "accepted", "to": "preparation"} and event_.case_id == case.id


def test_closing_needs_a_coded_reason_and_closing_is_final(db, make_user):
    user = make_user(Role.COORDINATOR)
    case = make_case(status=CaseStatus.PREPARATION)
    with pytest.raises(DomainError):
        change_case_status(case, CaseStatus.CLOSED, actor=user)
    with pytest.raises(DomainError):
        close_case(case, reason="because", actor=user)
    close_case(case, reason=CloseReason.PARTY_WITHDREW, actor=user)
    assert case.status is CaseStatus.CLOSED and case.close_reason is CloseReason.PARTY_WITHDREW and case.closed_at
    with pytest.raises(IllegalTransition):
        change_case_status(case, CaseStatus.PREPARATION, actor=user)


# --- the list ------------------------------------------------------------------------------------

def test_anonymous_people_are_sent_to_sign_in(client, db):
    case = make_case()
    for url in ("/cases", f"/cases/{case.id}", "/cases/victims-code", f"/cases/{case.id}/status"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_coordinators_and_managers_see_every_case(as_role, db, role):
    a, b = make_case(), make_case(scheme=Scheme.POST_SENTENCE, level=3)
    client, _ = as_role(role)
    html = client.get("/cases").get_data(as_text=True)
    assert a.reference in html and b.reference in html
    assert client.get(f"/cases/{a.id}").status_code == 200
    assert client.get("/cases/victims-code").status_code == 200


def test_a_facilitator_sees_an_empty_list_and_no_case_they_are_not_rostered_to(as_role, db):
    case = make_case()
    client, _ = as_role("facilitator")
    response = client.get("/cases")
    assert response.status_code == 200 and case.reference not in response.get_data(as_text=True)
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get("/cases/victims-code").status_code == 403
    assert client.get(f"/cases/{case.id}/status").status_code == 403
    assert client.get(f"/cases/{case.id}/notes/new").status_code == 403


def test_an_admin_has_no_casework(as_role, db):
    case = make_case()
    client, _ = as_role("admin")
    for url in ("/cases", f"/cases/{case.id}", "/cases/victims-code", f"/cases/{case.id}/close"):
        assert client.get(url).status_code == 403


def test_the_list_filters_by_status_scheme_level_and_searches_names(as_role, db, make_user):
    coordinator = make_user(Role.COORDINATOR)
    sortit = make_case(status=CaseStatus.PREPARATION)
    post = make_case(scheme=Scheme.POST_SENTENCE, level=3, status=CaseStatus.ACCEPTED)
    consent_services.add_party(post, role=PartyRole.HARMED, name="Zebedee Quill", actor=coordinator)
    db.session.commit()
    client, _ = as_role("coordinator")
    html = client.get("/cases?status=preparation").get_data(as_text=True)
    assert sortit.reference in html and post.reference not in html
    html = client.get("/cases?scheme=post_sentence&level=3").get_data(as_text=True)
    assert post.reference in html and sortit.reference not in html
    html = client.get("/cases?q=zebedee").get_data(as_text=True)
    assert post.reference in html and sortit.reference not in html
    assert client.get("/cases?status=nonsense").status_code == 200


def test_the_list_is_paginated_with_a_fixed_number_of_queries(as_role, db, app):
    client, _ = as_role("coordinator")

    def count_queries(url):
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    for _ in range(3):
        make_case()
    few = count_queries("/cases")
    for _ in range(30):
        make_case(commit=False)
    db.session.commit()
    many = count_queries("/cases")
    assert many == few
    assert "Next" in client.get("/cases").get_data(as_text=True)
    assert client.get("/cases?page=2").status_code == 200


# --- the case file -------------------------------------------------------------------------------

def test_opening_a_case_file_is_audited(as_role, db):
    case = make_case()
    client, user = as_role("coordinator")
    client.get(f"/cases/{case.id}")
    opened = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.opened")).one()
    assert opened.actor_id == user.id and opened.case_id == case.id


def test_the_case_file_shows_parties_consent_risk_notes_clocks_and_a_readable_timeline(as_role, db, make_user):
    coordinator = make_user(Role.COORDINATOR)
    case = make_case(scheme=Scheme.SORTIT, referred_at=datetime(2026, 4, 2, 10, tzinfo=UTC))
    a = consent_services.add_party(case, name="Ann Able", actor=coordinator, victims_code=True,
                                   safe_contact="text only, after 6pm", interpreter_needed=True,
                                   interpreter_language="Polish")
    b = consent_services.add_party(case, name="Ben Bold", actor=coordinator)
    consent_services.record_information(a, how="phone", actor=coordinator)
    consent_services.record_consent(a, kind="consent_given", scopes=["take_part", "face_to_face"], method="verbally",
                                    actor=coordinator)
    consent_services.withdraw_consent(b, method="verbally", actor=coordinator)
    consent_services.add_case_note(case, body="Prep call went well", actor=coordinator)
    consent_services.record_suitability(case, flags=[], under_18s=False, decision="suitable",
                                        reasons="Neighbours keen to resolve", actor=coordinator)
    db.session.commit()
    client, _ = as_role("coordinator")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for text in ("Ann Able", "Ben Bold", "text only, after 6pm", "Interpreter (Polish)", "Agreed to take part",
                 "Withdrawn", "Prep call went well", coordinator.name, "Neighbours keen to resolve",
                 "Consent withdrawn", "Person added", "First contact", "Overdue", "Paused"):
        assert text in html, text
    assert "victim" not in html.lower().replace("victims' code", "").replace("victims&#39; code", "")
    assert "offender" not in html.lower()


def test_a_coordinator_changes_status_and_closes_through_forms(as_role, db):
    case = make_case(status=CaseStatus.ACCEPTED)
    client, _ = as_role("coordinator")
    page = client.get(f"/cases/{case.id}/status").get_data(as_text=True)
    assert "Preparation" in page
    response = client.post(f"/cases/{case.id}/status", data={"status": "preparation", "version": case.version})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.PREPARATION
    stale = client.post(f"/cases/{case.id}/status", data={"status": "ready_to_meet", "version": 1})
    assert "Someone else changed this record" in stale.get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/close", data={"reason": "no_contact", "version": case.version})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.CLOSED and case.close_reason is CloseReason.NO_CONTACT


def test_a_coordinator_adds_a_note_and_an_empty_note_is_refused(as_role, db):
    case = make_case()
    client, user = as_role("coordinator")
    bad = client.post(f"/cases/{case.id}/notes/new", data={"kind": "preparation", "body": "  "})
    assert bad.status_code == 200 and "Enter the note" in bad.get_data(as_text=True)
    ok = client.post(f"/cases/{case.id}/notes/new", data={"kind": "preparation", "body": "Visited at home"})
    assert ok.status_code == 302
    assert "Visited at home" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_missing_case_is_not_found(as_role, db):
    client, _ = as_role("coordinator")
    assert client.get("/cases/999999").status_code == 404


def test_victims_code_page_lists_overdue_clocks(as_role, db, make_user):
    coordinator = make_user(Role.COORDINATOR)
    case = make_case(referred_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
    consent_services.add_party(case, name="Vic Tim", actor=coordinator, victims_code=True)
    db.session.commit()
    client, _ = as_role("coordinator")
    html = client.get("/cases/victims-code").get_data(as_text=True)
    assert case.reference in html and "Overdue" in html


def test_a_rostered_facilitator_reads_the_case_file_but_cannot_change_it(as_role, db, monkeypatch):
    from sqlalchemy import select as sa_select

    import rj.cases.visibility as visibility
    from rj.cases.models import Case

    case, other = make_case(), make_case()
    monkeypatch.setattr(visibility, "rostered_case_ids", lambda user: sa_select(Case.id).where(Case.id == case.id))
    client, _ = as_role("facilitator")
    html = client.get("/cases").get_data(as_text=True)
    assert case.reference in html and other.reference not in html
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Add a person" not in text and "Change status" not in text and "Record an answer" not in text
    assert client.get(f"/cases/{other.id}").status_code == 404
    assert client.get(f"/cases/{case.id}/parties/new").status_code == 403


def test_a_post_sentence_case_file_with_a_minor_guardian_and_risk_renders(as_role, db, make_user):
    coordinator = make_user(Role.COORDINATOR)
    manager = make_user(Role.MANAGER)
    case = make_case(scheme=Scheme.POST_SENTENCE, level=3, lead_coordinator=coordinator)
    harmed = consent_services.add_party(case, role=PartyRole.HARMED, name="Hana Harmed", under_18=True,
                                        victims_code=True, enhanced_rights=True, actor=coordinator)
    consent_services.add_party(case, role=PartyRole.GUARDIAN, name="Gail Guardian", guardian_for_id=harmed.id,
                               actor=coordinator)
    resp = consent_services.add_party(case, role=PartyRole.RESPONSIBLE, name="Rick Resp", actor=coordinator,
                                      acknowledges_responsibility=False)
    consent_services.record_information(harmed, how="in_person", given_by="guardian", actor=coordinator)
    consent_services.record_consent(harmed, kind="consent_given", scopes=["take_part"], method="in_writing",
                                    given_by="guardian", actor=coordinator)
    ra = consent_services.record_risk_assessment(case, stage="initial", actor=coordinator, items=[
        {"party_id": harmed.id, "risk": "Distress", "management": "Guardian present"},
        {"party_id": resp.id, "risk": "none identified"}, {"party_id": None, "risk": "none identified"}])
    consent_services.sign_off_risk_assessment(ra, actor=manager)
    consent_services.remove_party(resp, actor=coordinator)
    db.session.commit()
    client, _ = as_role("manager")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for text in ("Person harmed", "Parent or guardian", "Guardian: Yes", "Waiting for parent or guardian",
                 "Signed off", manager.name, "Removed", "Distress", "enhanced rights"):
        assert text in html, text
    close_case(case, reason=CloseReason.OTHER, actor=coordinator)
    db.session.commit()
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Other" in html and "Add a person" not in html
