"""Each page for each role, the charts and the CSV downloads."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from rj.core.time import now_utc
from tests.reports.conftest import make_facilitator, make_referred_case, populate

ROLES = ["coordinator", "manager", "facilitator", "admin"]
ALLOWED = {
    "/home": {"coordinator", "manager"},
    "/me/home": {"facilitator"},
    "/reports": {"manager"},
    "/reports/quarterly": {"manager"},
    "/reports/referrals-by-month.csv": {"manager"},
    "/reports/quarterly.csv": {"manager"},
}


@pytest.mark.parametrize("url", list(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_pages_its_permissions_allow_and_403_otherwise(app, db, make_user, login, role, url):
    client = app.test_client()
    login(make_user(role), c=client)
    response = client.get(url)
    assert response.status_code == (200 if role in ALLOWED[url] else 403)


@pytest.mark.parametrize("url", list(ALLOWED))
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_coordinators_and_managers_land_on_the_coordinator_home(app, make_user, login):
    for role in ("coordinator", "manager"):
        client = app.test_client()
        login(make_user(role), c=client)
        assert client.get("/").headers["Location"].endswith("/home")


def test_facilitators_land_on_their_own_home(app, make_user, login):
    client = app.test_client()
    login(make_user("facilitator"), c=client)
    assert client.get("/").headers["Location"].endswith("/me/home")


def test_the_coordinator_home_shows_each_section_with_its_count(db, as_role, make_user):
    facilitators = [make_facilitator(make_user("facilitator"))]
    populate(5, facilitators=facilitators)
    client, _ = as_role("coordinator")
    html = client.get("/home").get_data(as_text=True)
    assert "Referrals waiting for triage: 1" in html
    assert "Working days waited" in html
    assert "Victims&#39; Code clocks overdue or due" in html or "Victims' Code clocks overdue or due" in html
    assert "Cases waiting for consent: 1" in html
    assert "Upcoming meetings without two facilitators: 5" in html
    assert "Offers waiting for an answer: 5" in html
    assert "Overdue agreement actions: 5" in html
    assert "Messages that could not be sent: 5" in html


def test_an_empty_service_shows_a_calm_coordinator_home(as_role):
    client, _ = as_role("manager")
    response = client.get("/home")
    assert response.status_code == 200
    assert "No referrals are waiting." in response.get_data(as_text=True)


def test_the_facilitator_home_shows_only_their_own_meetings(db, app, make_user, login):
    from tests.reports.conftest import add_meeting

    me, other = make_user("facilitator"), make_user("facilitator")
    mine, theirs = make_facilitator(me), make_facilitator(other)
    case = make_referred_case(reference="RJ-2026-MINE1")
    case2 = make_referred_case(reference="RJ-2026-THEM1")
    add_meeting(case, starts_at=now_utc() + timedelta(days=2), facilitators=[mine])
    add_meeting(case2, starts_at=now_utc() + timedelta(days=2), facilitators=[theirs])
    db.session.commit()
    client = app.test_client()
    login(me, c=client)
    html = client.get("/me/home").get_data(as_text=True)
    assert "RJ-2026-MINE1" in html
    assert "RJ-2026-THEM1" not in html
    assert "Due in your training record" in html


def test_the_reports_page_draws_accessible_charts_without_inline_styles(db, as_role, make_user):
    populate(6, facilitators=[make_facilitator(make_user("facilitator"))])
    client, _ = as_role("manager")
    html = client.get("/reports").get_data(as_text=True)
    assert html.count("<svg") >= 5
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert "style=" not in html
    assert "<script>" not in html
    # The figures are also in a table.
    assert "<caption class=\"govuk-table__caption govuk-table__caption--s\">Referrals by month</caption>" in html


def test_an_invalid_period_is_shown_as_a_form_error(as_role):
    client, _ = as_role("manager")
    response = client.get("/reports?start=2&start=5&start=2026&end=1&end=5&end=2026")
    assert response.status_code == 400
    assert "The start date must be before the end date" in response.get_data(as_text=True)
    response = client.get("/reports?start=31&start=2&start=2026&end=1&end=5&end=2026")
    assert "The start date must be a real date" in response.get_data(as_text=True)


def test_a_csv_download_is_an_attachment_with_a_safe_name_and_suppressed_small_counts(db, as_role):
    make_referred_case(organisation="=HYPERLINK(\"http://x\")")
    for _ in range(6):
        make_referred_case(organisation="Police")
    db.session.commit()
    client, _ = as_role("manager")
    response = client.get("/reports/referrals-by-source.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="rj-referrals-by-source-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"',
                        response.headers["Content-Disposition"])
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",<5" in text
    # 7 - 6 would reveal the hidden 1, so the next smallest figure is withheld too.
    assert "Police,[c]" in text
    assert "Total,7" in text


def test_an_unknown_report_is_404(as_role):
    client, _ = as_role("manager")
    assert client.get("/reports/nothing.csv").status_code == 404


def test_downloads_are_audited(db, as_role):
    from sqlalchemy import select

    from rj.audit.models import AuditEvent

    client, user = as_role("manager")
    client.get("/reports/cases-by-level.csv")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.downloaded"))
    assert event is not None and event.actor_id == user.id and event.detail["report"] == "cases-by-level"


def test_the_quarterly_return_suppresses_small_counts(db, as_role):
    from datetime import datetime, timezone

    at = datetime(2025, 5, 10, 12, tzinfo=timezone.utc)
    for _ in range(6):
        make_referred_case(referred_at=at, level=2, public=False)
    make_referred_case(referred_at=at, level=2, public=True)
    db.session.commit()
    client, _ = as_role("manager")
    html = client.get("/reports/quarterly?year=2025&quarter=1").get_data(as_text=True)
    assert "Quarter 1 of 2025 to 26" in html
    assert "&lt;5" in html
    text = client.get("/reports/quarterly.csv?year=2025&quarter=1").get_data(as_text=True)
    # 1 victim-initiated, 6 agency-initiated: the 6 is withheld so 7 - 6 cannot reveal the 1.
    assert "Level 2,<5,[c],7" in text
    assert "Total,<5,[c],7" in text


def test_an_impossible_quarter_is_refused(as_role):
    client, _ = as_role("manager")
    assert client.get("/reports/quarterly?year=2025&quarter=7").status_code == 400
    assert client.get("/reports/quarterly.csv?year=2025&quarter=7").status_code == 404


def test_the_download_links_carry_the_chosen_period(db, as_role):
    import html as htmllib

    from datetime import datetime, timezone

    make_referred_case(referred_at=datetime(2025, 3, 10, 12, tzinfo=timezone.utc))
    db.session.commit()
    client, _ = as_role("manager")
    page = client.get("/reports?start=1&start=1&start=2025&end=31&end=3&end=2025").get_data(as_text=True)
    assert "1 January 2025 to 31 March 2025" in page
    href = htmllib.unescape(re.search(r'href="(/reports/referrals-by-month\.csv\?[^"]+)"', page).group(1))
    response = client.get(href)
    assert response.status_code == 200
    assert 'filename="rj-referrals-by-month-2025-01-01-2025-03-31.csv"' in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines() == [
        "Month,Referrals", "Jan 2025,0", "Feb 2025,0", "Mar 2025,<5", "Total,<5"]


def test_a_facilitator_without_a_profile_is_told_to_ask_their_coordinator(as_role):
    client, _ = as_role("facilitator")
    response = client.get("/me/home")
    assert response.status_code == 200
    assert "profile has not been set up" in response.get_data(as_text=True)
