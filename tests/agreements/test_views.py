"""Each page, each role: coordinators and managers allowed, facilitators only for their own
meetings' outcomes, admins refused, anonymous sent to sign in, the survey page open to all."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rj.agreements import services as s
from rj.agreements.models import AgreementItem, FeedbackResponse, Level1Record
from rj.cases.models import Case, CaseStatus, CloseReason, Scheme
from rj.core.time import local_today
from tests.agreements.factories import make_facilitator


@pytest.fixture
def agreement_setup(db, make_user, held_setup):
    def build(facilitators=(), scheme=Scheme.SORTIT):
        coordinator = make_user("coordinator")
        case, meeting, a, b = held_setup(facilitators=facilitators, scheme=scheme)
        s.record_meeting_outcome(meeting, went_ahead=True, attended_party_ids=[a.id, b.id], agreement_reached=True,
                                 actor=coordinator)
        agreement = s._agreement_for_meeting(meeting)
        item = s.add_item(agreement, kind="apology_written", description="Write a letter of apology",
                          party_id=b.id, due_on=agreement.agreed_on + timedelta(days=7),
                          check_method="Coordinator reads it", actor=coordinator)
        db.session.commit()
        return case, meeting, agreement, item, a, b

    return build


def _date(prefix, d):
    return {prefix: [str(d.day), str(d.month), str(d.year)]}


def _paths(case, meeting, agreement, item):
    return {
        "outcome": f"/agreements/meetings/{meeting.id}/outcome",
        "agreement": f"/agreements/{agreement.id}",
        "item_new": f"/agreements/{agreement.id}/items/new",
        "print": f"/agreements/{agreement.id}/print",
        "done": f"/agreements/{agreement.id}/items/{item.id}/done",
        "not_kept": f"/agreements/{agreement.id}/items/{item.id}/not-kept",
        "agreement_not_kept": f"/agreements/{agreement.id}/not-kept",
        "case": f"/agreements/cases/{case.id}",
        "close": f"/agreements/cases/{case.id}/close",
        "follow_up": f"/agreements/cases/{case.id}/follow-up",
        "message_new": f"/agreements/cases/{case.id}/messages/new",
        "feedback_new": f"/agreements/cases/{case.id}/feedback/new",
        "overdue": "/agreements/overdue",
        "level1": "/level-1",
        "level1_new": "/level-1/new",
    }


FACILITATOR_OWN = {"outcome", "agreement", "item_new", "print"}


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_coordinators_and_managers_open_every_page(agreement_setup, as_role, role):
    client, _ = as_role(role)
    for name, path in _paths(*agreement_setup()[:4]).items():
        assert client.get(path).status_code == 200, name


def test_admin_is_refused_every_page(agreement_setup, as_role):
    client, _ = as_role("admin")
    for name, path in _paths(*agreement_setup()[:4]).items():
        assert client.get(path).status_code == 403, name


def test_anonymous_is_sent_to_sign_in(agreement_setup, client):
    for name, path in _paths(*agreement_setup()[:4]).items():
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], name


def test_a_facilitator_on_the_meeting_records_its_outcome_but_not_the_follow_up(db, agreement_setup, make_user, login, client):
    user = make_user("facilitator")
    fac = make_facilitator(user)
    db.session.commit()
    paths = _paths(*agreement_setup(facilitators=[fac])[:4])
    login(user)
    for name, path in paths.items():
        expected = 200 if name in FACILITATOR_OWN else 403
        assert client.get(path).status_code == expected, name


def test_a_facilitator_not_on_the_meeting_gets_404(db, agreement_setup, make_user, login, client):
    user = make_user("facilitator")
    make_facilitator(user)
    db.session.commit()
    paths = _paths(*agreement_setup()[:4])
    login(user)
    for name in FACILITATOR_OWN:
        assert client.get(paths[name]).status_code == 404, name


def test_recording_an_outcome_through_the_page_starts_the_agreement(db, make_user, held_setup, as_role):
    client, user = as_role("coordinator")
    case, meeting, a, b = held_setup()
    response = client.post(f"/agreements/meetings/{meeting.id}/outcome", data={
        "went_ahead": "yes", "attended_parties": [str(a.id), str(b.id)], "agreement_reached": "yes"})
    assert response.status_code == 302
    agreement = s._agreement_for_meeting(meeting)
    assert response.headers["Location"].endswith(f"/agreements/{agreement.id}")
    db.session.refresh(case)
    assert case.status is CaseStatus.MONITORING


def test_an_outcome_without_attendance_shows_the_message_and_keeps_the_answers(held_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, a, b = held_setup()
    response = client.post(f"/agreements/meetings/{meeting.id}/outcome", data={"went_ahead": "yes", "agreement_reached": "yes"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Select the parties who attended" in html and "govuk-error-summary" in html


def test_the_item_form_warns_about_sortit_rules_and_refuses_a_payment_keeping_what_was_typed(agreement_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    page = client.get(f"/agreements/{agreement.id}/items/new").get_data(as_text=True)
    assert "cannot contain a payment, a fine or a punishment" in page
    assert "Financial reparation" not in page
    response = client.post(f"/agreements/{agreement.id}/items/new", data={
        "kind": "repair_damage", "description": "Pay £50 for the fence", "party_id": str(b.id),
        **_date("due_on", agreement.agreed_on + timedelta(days=10)), "check_method": "Receipt"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This mentions a sum of money or a payment" in html
    assert "Pay £50 for the fence" in html  # nothing lost
    assert AgreementItem.query.count() == 1


def test_an_item_without_a_person_or_with_an_early_date_is_refused_with_a_message(agreement_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    base = {"kind": "repair_damage", "description": "Repaint the fence", "check_method": "Photo"}
    html = client.post(f"/agreements/{agreement.id}/items/new", data={
        **base, **_date("due_on", agreement.agreed_on + timedelta(days=10))}).get_data(as_text=True)
    assert "every action needs a person" in html and "Repaint the fence" in html
    html = client.post(f"/agreements/{agreement.id}/items/new", data={
        **base, "party_id": str(b.id), **_date("due_on", agreement.agreed_on - timedelta(days=3))}).get_data(as_text=True)
    assert "must be on or after the meeting" in html
    html = client.post(f"/agreements/{agreement.id}/items/new", data={
        **base, "party_id": str(b.id), "due_on": ["31", "2", "2026"]}).get_data(as_text=True)
    assert "must be a real date" in html
    response = client.post(f"/agreements/{agreement.id}/items/new", data={
        **base, "party_id": str(b.id), **_date("due_on", agreement.agreed_on + timedelta(days=3))})
    assert response.status_code == 302
    assert AgreementItem.query.count() == 2


def test_the_printable_agreement_shows_names_and_what_was_agreed_but_no_contact_or_risk_details(agreement_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    html = client.get(f"/agreements/{agreement.id}/print").get_data(as_text=True)
    assert "Write a letter of apology" in html and "Alex Able" in html and "Bo Baker" in html
    assert "Signature" in html and "does not decide who was to blame" in html
    for secret in ("07700", "Secret Street", "SK1 1AA", "Text only after 6pm", "alex@rj-test.org.uk"):
        assert secret not in html


def test_marking_done_then_closing_the_case_through_the_pages(db, agreement_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    close = client.post(f"/agreements/cases/{case.id}/close", data={"version": case.version})
    assert close.status_code == 400 and "still pending" in close.get_data(as_text=True)
    bad = client.post(f"/agreements/{agreement.id}/items/{item.id}/done", data={"version": item.version, "evidence": ""})
    assert bad.status_code == 400 and "evidence" in bad.get_data(as_text=True)
    ok = client.post(f"/agreements/{agreement.id}/items/{item.id}/done", data={"version": item.version, "evidence": "Letter seen"})
    assert ok.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert client.post(f"/agreements/cases/{case.id}/close", data={"version": case.version}).status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status is CaseStatus.CLOSED and case.close_reason is CloseReason.AGREEMENT_COMPLETED


def test_a_stale_item_form_is_refused(db, agreement_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    response = client.post(f"/agreements/{agreement.id}/items/{item.id}/not-kept",
                           data={"version": item.version + 5, "reason": "Moved away"})
    assert response.status_code == 400 and "Someone else changed this record" in response.get_data(as_text=True)


def test_the_overdue_page_lists_late_pending_actions(db, agreement_setup, as_role):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    item.due_on = local_today() - timedelta(days=1)
    db.session.commit()
    html = client.get("/agreements/overdue").get_data(as_text=True)
    assert case.reference in html and "Bo Baker" in html


def test_survey_links_are_shown_once_and_the_public_page_takes_one_answer(db, agreement_setup, as_role, app):
    client, _ = as_role("coordinator")
    case, meeting, agreement, item, a, b = agreement_setup()
    response = client.post(f"/agreements/cases/{case.id}/feedback/new", data={
        "stage": "after_meeting", "party_ids": [str(b.id)]})
    assert response.status_code == 302
    html = client.get(f"/agreements/cases/{case.id}").get_data(as_text=True)
    link = html.split("<code>")[1].split("</code>")[0]
    assert "/feedback/" in link
    assert "<code>" not in client.get(f"/agreements/cases/{case.id}").get_data(as_text=True)
    public = app.test_client()
    path = "/feedback/" + link.rsplit("/feedback/", 1)[1]
    assert public.get(path).status_code == 200
    bad = public.post(path, data={"satisfaction": "4"})
    assert bad.status_code == 400 and "Select yes, partly or no" in bad.get_data(as_text=True)
    answers = {"satisfaction": "4", "felt_safe": "yes", "felt_listened_to": "partly", "would_recommend": "yes",
               "comments": "It helped"}
    ok = public.post(path, data=answers)
    assert ok.status_code == 200 and "Thank you" in ok.get_data(as_text=True)
    again = public.post(path, data=answers)
    assert again.status_code == 410 and "already answered" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FeedbackResponse.id))) == 1
    assert public.get("/feedback/" + "x" * 43).status_code == 404
    html = client.get(f"/agreements/cases/{case.id}").get_data(as_text=True)
    assert "It helped" in html


def test_level1_form_needs_both_standards_and_creates_a_closed_case(db, as_role):
    client, _ = as_role("manager")
    data = {**_date("occurred_on", local_today() - timedelta(days=2)), "area": "Edgeley",
            "party1_name": "JB", "party1_side": "harmed", "party2_name": "K", "party2_side": "responsible",
            "agreed": "Apologised and shook hands", "harmed_consulted": "y"}
    response = client.post("/level-1/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "the person responsible admitted it and agreed" in html
    assert "Apologised and shook hands" in html
    assert Level1Record.query.count() == 0
    response = client.post("/level-1/new", data={**data, "responsible_admitted": "y"})
    assert response.status_code == 302
    rec = Level1Record.query.one()
    assert rec.case.status is CaseStatus.CLOSED and rec.case.level == 1
    assert "Edgeley" in client.get("/level-1").get_data(as_text=True)


def test_facilitators_cannot_record_level1(as_role):
    client, _ = as_role("facilitator")
    assert client.get("/level-1/new").status_code == 403
    assert client.get("/level-1").status_code == 403
