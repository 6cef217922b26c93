"""The referrer's status check: same answer whatever was typed, a time-limited emailed link, and a
status that says nothing about the people involved."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from rj.cases.models import CaseStatus
from rj.core.time import now_utc
from rj.reports import services
from tests.reports.conftest import make_referred_case


def _outbox(db):
    from rj.notifications.models import OutboxMessage

    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "referral_status")))


def _ask(client, reference, email):
    return client.post("/referral-status", data={"reference": reference, "email": email})


def test_the_page_is_public(client):
    response = client.get("/referral-status")
    assert response.status_code == 200
    assert "Check the progress of a referral" in response.get_data(as_text=True)


def test_a_match_and_a_mismatch_get_exactly_the_same_answer(db, client):
    make_referred_case(reference="RJ-2026-ABCDE", email="Referrer@rj-test.org.uk")
    db.session.commit()
    answers = [
        _ask(client, "RJ-2026-ABCDE", "referrer@rj-test.org.uk"),     # matches
        _ask(client, "RJ-2026-ABCDE", "someone.else@rj-test.org.uk"),  # wrong email
        _ask(client, "RJ-2026-ZZZZZ", "referrer@rj-test.org.uk"),      # wrong reference
    ]
    assert {(r.status_code, r.headers["Location"]) for r in answers} == {(302, "/referral-status/sent")}
    page = client.get("/referral-status/sent").get_data(as_text=True)
    assert "If the details match a referral, we have emailed a link" in page
    assert len(_outbox(db)) == 1


def test_the_reference_is_matched_ignoring_case_and_spaces_and_the_email_ignoring_case(db):
    make_referred_case(reference="RJ-2026-ABCDE", email="Referrer@rj-test.org.uk")
    assert services.request_status_link(" rj-2026-abcde ", "REFERRER@rj-test.org.uk") is True
    assert services.request_status_link("RJ-2026-ABCDE", "") is False


def test_the_emailed_link_shows_only_the_status(db, client):
    case = make_referred_case(reference="RJ-2026-ABCDE", email="referrer@rj-test.org.uk", status=CaseStatus.IN_TRIAGE)
    db.session.commit()
    _ask(client, "RJ-2026-ABCDE", "referrer@rj-test.org.uk")
    (message,) = _outbox(db)
    assert message.subject == "The status of your referral"
    assert "RJ-2026" not in message.subject
    assert message.recipient == "referrer@rj-test.org.uk"
    url = re.search(r"https?://\S+/referral-status/(\S+)", message.text_body)
    assert url is not None
    response = client.get(f"/referral-status/{url.group(1)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Being assessed" in html
    assert "Alex Referrer" not in html and "Edgeley" not in html and "A dispute" not in html
    assert case.reference not in html


@pytest.mark.parametrize("status, shown", [
    (CaseStatus.REFERRED, "Received"), (CaseStatus.IN_TRIAGE, "Being assessed"),
    (CaseStatus.ACCEPTED, "Accepted"), (CaseStatus.MEETING_BOOKED, "Accepted"), (CaseStatus.PAUSED, "Accepted"),
    (CaseStatus.DECLINED, "Not taken forward"), (CaseStatus.CLOSED, "Closed"), (CaseStatus.WITHDRAWN, "Closed"),
])
def test_each_case_status_becomes_one_of_five_public_statuses(db, status, shown):
    assert services.public_status(make_referred_case(status=status)) == shown


def test_the_link_expires_after_24_hours(db, client, monkeypatch):
    make_referred_case(reference="RJ-2026-ABCDE", email="referrer@rj-test.org.uk")
    sent_at = now_utc() - timedelta(hours=25)
    services.request_status_link("RJ-2026-ABCDE", "referrer@rj-test.org.uk", now=sent_at)
    db.session.commit()
    token = re.search(r"/referral-status/(\S+)", _outbox(db)[0].text_body).group(1)
    assert services.status_for_token(token, now=sent_at + timedelta(hours=23)) == "Received"
    assert services.status_for_token(token) is None
    response = client.get(f"/referral-status/{token}")
    assert response.status_code == 404
    assert "This link has expired" in response.get_data(as_text=True)


def test_a_made_up_token_finds_nothing(client):
    assert client.get("/referral-status/" + "x" * 43).status_code == 404


def test_the_token_is_stored_hashed(db):
    from rj.reports.models import ReferralStatusLink

    make_referred_case(reference="RJ-2026-ABCDE", email="referrer@rj-test.org.uk")
    services.request_status_link("RJ-2026-ABCDE", "referrer@rj-test.org.uk")
    token = re.search(r"/referral-status/(\S+)", _outbox(db)[0].text_body).group(1)
    link = db.session.scalar(select(ReferralStatusLink))
    assert link.token_hash != token and len(link.token_hash) == 64


def test_an_invalid_form_says_how_to_fix_it(client):
    response = client.post("/referral-status", data={"reference": "", "email": "not-an-email"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your referral reference" in html
    assert "Enter an email address in the correct format" in html


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_REFERRAL_STATUS="3 per hour")
def test_asking_too_often_is_rate_limited(client):
    codes = [_ask(client, "RJ-2026-ZZZZZ", "someone@rj-test.org.uk").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
