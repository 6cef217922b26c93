"""Staff journeys in a real browser on the demo data: a volunteer on a phone checks their roster and
accepts an offer; a coordinator works a case on a desktop; a manager reads the reports. axe-core
checks every page, including a form's error state."""
from __future__ import annotations

import pytest

from rj.cli import DEMO_PASSWORD, seed_demo
from rj.extensions import db as _db

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def demo(app):
    seed_demo(cases=12, seed=7)
    _db.session.commit()


def sign_in(page, url: str, email: str) -> None:
    page.goto(url + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_a_volunteer_checks_their_roster_on_a_phone_and_accepts_an_offer(demo, live_server, page, axe_check,
                                                                          screenshot):
    sign_in(page, live_server.url, "facilitator@rj.example")
    page.goto(live_server.url + "/my-roster")
    assert page.get_by_role("heading", level=1).inner_text() == "My roster"
    axe_check(page, label="my roster")
    screenshot(page, "staff-01-my-roster-phone")
    offers = page.get_by_role("button", name="Accept")
    if offers.count():
        offers.first.click()
        page.locator(".govuk-notification-banner").wait_for(state="visible")
        assert page.locator(".govuk-notification-banner").is_visible()
        axe_check(page, label="my roster after accepting")
    for path in ("/me", "/my-availability", "/me/calendar"):
        page.goto(live_server.url + path)
        axe_check(page, label=path)
    screenshot(page, "staff-02-calendar-phone")


@pytest.mark.browser
def test_a_coordinator_works_a_case_on_a_desktop(demo, live_server, page, axe_check, screenshot):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "coordinator@rj.example")
    page.get_by_role("heading", level=1).wait_for(state="visible")
    assert page.get_by_role("heading", level=1).is_visible()
    axe_check(page, label="coordinator home")
    page.goto(live_server.url + "/cases")
    axe_check(page, label="case list")
    page.locator("table a").first.click()
    axe_check(page, label="case file")
    screenshot(page, "staff-03-case-file")
    case_url = page.url
    page.goto(case_url + "/meetings/new")
    page.get_by_role("button", name="Book meeting").click()
    page.locator(".govuk-error-summary").wait_for(state="visible")
    assert page.locator(".govuk-error-summary").is_visible()
    axe_check(page, label="booking form with errors")
    screenshot(page, "staff-04-booking-errors")
    for path in ("/referrals", "/roster", "/facilitators/compliance", "/venues"):
        page.goto(live_server.url + path)
        axe_check(page, label=path)


@pytest.mark.browser
def test_a_manager_reads_the_reports(demo, live_server, page, axe_check, screenshot):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "manager@rj.example")
    page.goto(live_server.url + "/reports")
    axe_check(page, label="reports")
    screenshot(page, "staff-05-reports")
    page.goto(live_server.url + "/reports/quarterly")
    axe_check(page, label="quarterly return")
