"""The public referral form and the triage pages over HTTP: every page, every role."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from rj.audit.models import AuditEvent
from rj.cases.models import Case, CaseStatus, Scheme
from rj.core.permissions import Role
from rj.core.time import now_utc
from rj.referrals import services
from rj.referrals.models import Referral, ReferralDraft
from tests.referrals.factories import FORM_PAGES, fill_form, make_referral

PUBLIC_PAGES = ["/refer", "/refer/about-you", "/refer/what-happened", "/refer/people/add", "/refer/do-they-know",
                "/refer/risks", "/refer/consent"]


def _count(db, model):
    return db.session.scalar(select(func.count(model.id)))


# --- the public form ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", [None, "coordinator", "manager", "facilitator", "admin"])
def test_the_public_form_is_open_to_everyone_and_offers_exit_this_page(client, as_role, role):
    if role:
        client, _ = as_role(role)
    for url in PUBLIC_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "govuk-exit-this-page" in response.get_data(as_text=True), url


def test_filling_in_the_form_creates_a_case_and_shows_the_reference(client, db, hooks):
    fill_form(client)
    check = client.get("/refer/check")
    html = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "Kyle Ashworth" in html and "Children at risk" in html and "3 February 2026" in html
    assert 'href="/refer/about-you"' in html and "Leave this blank" in html
    response = client.post("/refer/check", data={"website": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/refer/confirmation")
    case = db.session.scalar(select(Case))
    confirmation = client.get("/refer/confirmation").get_data(as_text=True)
    assert case.reference in confirmation and "govuk-panel" in confirmation
    assert case.referral.crime_reference == "CR/123/26" and case.referral.people[1].under_18 is True
    assert _count(db, ReferralDraft) == 0  # deleted on submit
    assert hooks["queue_referral_acknowledgement"] == [case]


def test_answers_are_kept_on_the_server_not_in_the_cookie(client, db):
    client.post(FORM_PAGES[0][0], data=FORM_PAGES[0][1])
    cookie = client.get_cookie("session")
    assert cookie is not None and "Whitworth" not in cookie.value
    import base64
    import zlib

    raw = cookie.value.lstrip(".").split(".")[0]
    payload = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    if cookie.value.startswith("."):
        payload = zlib.decompress(payload)
    assert b"Whitworth" not in payload and b"referral_draft" in payload
    assert db.session.scalar(select(ReferralDraft)).answers["about"]["referrer_name"] == "Helen Whitworth"


def test_an_empty_page_shows_an_error_summary_linking_to_each_field(client):
    response = client.post("/refer/about-you", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in html and "<title>Error:" in html
    assert 'href="#referrer_name"' in html and "Enter your full name" in html
    assert "Enter an email address or a phone number" in html


def test_what_was_typed_is_kept_when_a_page_has_an_error(client):
    data = dict(FORM_PAGES[0][1], referrer_email="helen@", referrer_phone="call me")
    html = client.post("/refer/about-you", data=data).get_data(as_text=True)
    assert "Enter an email address in the correct format" in html and "Enter a phone number, like" in html
    assert 'value="Helen Whitworth"' in html and 'value="helen@"' in html and 'value="Stockport Homes"' in html


@pytest.mark.parametrize("changes,message", [
    ({"incident_date": ["1", "1", str(date.today().year + 1)]}, "today or in the past"),
    ({"incident_date": ["31", "2", "2025"]}, "must be a real date"),
    ({"incident_date": ["", "2", "2025"]}, "must include a day"),
    ({"incident_date": ["1", "2", "25"]}, "Year must include 4 numbers"),
    ({"description": "x" * 1201}, "1200 characters or fewer"),
    ({"location": "Edgeley\x00"}, "hidden control characters"),
    ({"description": "Fence\x00 kicked"}, "hidden control characters"),
    ({"category": ""}, "Select what kind of harm"),
])
def test_bad_answers_get_a_clear_message_and_keep_the_rest(client, changes, message):
    data = dict(FORM_PAGES[1][1], **changes)
    response = client.post("/refer/what-happened", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert "A fence was kicked down" in html or "description" in changes
    assert 'value="CR/123/26"' in html


def test_a_nul_byte_in_every_field_is_an_error_not_a_crash(client, db):
    for url, data in FORM_PAGES[:3]:
        poisoned = {k: (v + "\x00" if isinstance(v, str) and v and k not in ("category", "side", "under_18", "referrer_type") else v)
                    for k, v in data.items()}
        response = client.post(url, data=poisoned)
        assert response.status_code == 400, url
    assert _count(db, Case) == 0


def test_risks_none_cannot_be_combined_with_a_risk(client):
    html = client.post("/refer/risks", data={"risk_flags": ["none", "weapons"]}).get_data(as_text=True)
    assert "not both" in html


def test_check_your_answers_sends_you_back_to_the_first_unanswered_question(client):
    assert client.get("/refer/check").headers["Location"].endswith("/refer")
    client.post(FORM_PAGES[0][0], data=FORM_PAGES[0][1])
    assert client.get("/refer/check").headers["Location"].endswith("/refer/what-happened")


def test_a_change_from_check_your_answers_returns_there(client):
    fill_form(client)
    assert 'value="Helen Whitworth"' in client.get("/refer/about-you").get_data(as_text=True)
    response = client.post("/refer/about-you", data=dict(FORM_PAGES[0][1], referrer_name="Helen W Whitworth"))
    assert response.headers["Location"].endswith("/refer/check")
    assert "Helen W Whitworth" in client.get("/refer/check").get_data(as_text=True)


def test_people_can_be_changed_and_removed(client):
    fill_form(client)
    assert 'value="Kyle Ashworth"' in client.get("/refer/people/1").get_data(as_text=True)
    client.post("/refer/people/1", data=dict(FORM_PAGES[4][1], name="Kyle Ashcroft"))
    html = client.get("/refer/people").get_data(as_text=True)
    assert "Kyle Ashcroft" in html and "You have added 2 people" in html
    assert "Are you sure" in client.get("/refer/people/0/remove").get_data(as_text=True)
    client.post("/refer/people/0/remove")
    assert "You have added 1 person" in client.get("/refer/people").get_data(as_text=True)
    assert client.get("/refer/people/5").status_code == 404


def test_the_honeypot_pretends_success_and_stores_nothing(client, db):
    fill_form(client)
    response = client.post("/refer/check", data={"website": "http://spam.example"})
    assert response.status_code == 302
    html = client.get("/refer/confirmation").get_data(as_text=True)
    assert "Referral sent" in html and "RJ-" in html
    assert _count(db, Case) == 0 and _count(db, ReferralDraft) == 0


def test_an_expired_draft_is_gone(client, db):
    fill_form(client)
    draft = db.session.scalar(select(ReferralDraft))
    draft.expires_at = now_utc() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/refer/check").headers["Location"].endswith("/refer")
    assert client.post("/refer/check").status_code == 302
    assert _count(db, Case) == 0


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_REFERRAL="2 per hour")
def test_submitting_is_rate_limited_per_client_address(app, client, db):
    fill_form(client)
    assert client.post("/refer/check").status_code == 302
    fill_form(client)
    assert client.post("/refer/check").status_code == 302
    fill_form(client)
    assert client.post("/refer/check").status_code == 429
    other = app.test_client()
    fill_form(other)
    assert other.post("/refer/check", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 302
    assert _count(db, Case) == 3
    assert client.get("/refer/about-you").status_code == 200  # only the submit is limited


# --- triage --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role,status", [
    ("coordinator", 200), ("manager", 200), ("facilitator", 403), ("admin", 403)])
def test_triage_pages_are_for_coordinators_and_managers(as_role, db, role, status):
    case = make_referral()
    client, _ = as_role(role)
    assert client.get("/referrals").status_code == status
    assert client.get(f"/referrals/{case.id}").status_code == status
    for action in ("accept", "decline", "more-information"):
        assert client.post(f"/referrals/{case.id}/{action}", data={}).status_code in ((400,) if status == 200 else (403,))


def test_anonymous_visitors_are_sent_to_sign_in_from_triage(client, db):
    case = make_referral()
    for response in (client.get("/referrals"), client.get(f"/referrals/{case.id}"),
                     client.post(f"/referrals/{case.id}/accept")):
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_case_that_is_not_a_referral_is_not_found(as_role, db):
    client, _ = as_role("coordinator")
    assert client.get("/referrals/999").status_code == 404


def test_the_triage_list_shows_new_referrals_oldest_first_with_working_days_and_flags(as_role, db):
    newer = make_referral(risk_flags=["weapons", "hate_crime"])
    older = make_referral()
    older.referred_at = now_utc() - timedelta(days=14)
    done = make_referral()
    done.status = CaseStatus.DECLINED
    db.session.commit()
    client, _ = as_role("coordinator")
    html = client.get("/referrals").get_data(as_text=True)
    assert html.index(older.reference) < html.index(newer.reference)
    assert done.reference not in html
    assert "Hate crime" in html and "Weapons" in html
    assert "2 referrals are waiting" in html


def test_the_triage_list_runs_a_fixed_number_of_queries(as_role, db):
    client, _ = as_role("coordinator")
    client.get("/referrals")

    def count():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/referrals").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    make_referral()
    one = count()
    for _ in range(8):
        make_referral()
    assert count() == one


def test_opening_a_referral_shows_everything_sent_and_is_audited(as_role, db):
    case = make_referral(crime_reference="CR/99/26", risk_flags=["domestic_abuse"])
    client, user = as_role("manager")
    html = client.get(f"/referrals/{case.id}").get_data(as_text=True)
    for text in ("Helen Whitworth", "Stockport Homes", "Castle Street, Edgeley", "CR/99/26", "Domestic abuse",
                 "Gareth Lloyd", "Dean Hurst", "Evenings only", "07700 900 123", "Both households upset"):
        assert text in html, text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.opened")).all()
    assert [(e.actor_id, e.case_id) for e in events] == [(user.id, case.id)]


def test_user_text_is_escaped_on_the_triage_page(as_role, db):
    case = make_referral(description="<script>alert(1)</script>")
    client, _ = as_role("coordinator")
    html = client.get(f"/referrals/{case.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_accepting_through_the_page(as_role, db, hooks):
    case = make_referral()
    client, user = as_role("coordinator")
    response = client.post(f"/referrals/{case.id}/accept", data={
        "accept-version": case.version, "accept-scheme": "post_sentence", "accept-level": "3",
        "accept-lead_coordinator": str(user.id)})
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status is CaseStatus.ACCEPTED and case.scheme is Scheme.POST_SENTENCE and case.level == 3
    assert case.lead_coordinator_id == user.id
    assert "Referral accepted" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_declining_and_asking_for_more_information_through_the_page(as_role, db):
    first, second = make_referral(), make_referral()
    client, _ = as_role("coordinator")
    assert client.post(f"/referrals/{first.id}/decline", data={
        "decline-version": first.version, "decline-reason": "outside_area"}).status_code == 302
    assert client.post(f"/referrals/{second.id}/more-information", data={
        "info-version": second.version, "info-note": "Which flat?"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, first.id).status is CaseStatus.DECLINED
    assert db.session.get(Case, second.id).status is CaseStatus.IN_TRIAGE
    html = client.get(f"/referrals/{first.id}").get_data(as_text=True)
    assert "Outside Stockport" in html and "Accept as a case" not in html


def test_a_mistake_on_a_triage_form_keeps_the_input(as_role, db):
    case = make_referral()
    client, _ = as_role("coordinator")
    response = client.post(f"/referrals/{case.id}/decline", data={
        "decline-version": case.version, "decline-reason": "other", "decline-note": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Explain the reason in the note" in html
    assert 'value="other" checked' in html


def test_two_coordinators_triaging_at_once_the_second_save_is_refused_and_kept(app, as_role, make_user, login, db):
    case = make_referral()
    version = case.version
    first, _ = as_role("coordinator")
    second = login(make_user(Role.COORDINATOR), c=app.test_client())
    assert first.get(f"/referrals/{case.id}").status_code == 200
    assert second.get(f"/referrals/{case.id}").status_code == 200
    assert first.post(f"/referrals/{case.id}/more-information", data={
        "info-version": version, "info-note": "Need the second address"}).status_code == 302
    response = second.post(f"/referrals/{case.id}/decline", data={
        "decline-version": version, "decline-reason": "other", "decline-note": "Looks like a civil matter"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this record" in html and "Looks like a civil matter" in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).status is CaseStatus.IN_TRIAGE
    assert db.session.scalar(select(Referral.decline_reason)) is None
    assert services.TRIAGE_STATUSES  # still triageable: the second coordinator can decide again
