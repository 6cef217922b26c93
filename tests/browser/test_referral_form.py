"""A referrer fills in the public form on a phone, as a person would, and gets a reference."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rj.cases.models import Case, CaseStatus


@pytest.mark.browser
def test_a_referrer_completes_the_form_on_a_phone_and_gets_a_reference(live_server, page, axe_check, screenshot, db):
    page.goto(live_server.url + "/refer")
    assert page.get_by_role("heading", level=1).inner_text() == "Refer a case for restorative justice"
    assert page.locator(".govuk-exit-this-page").count() == 1
    axe_check(page, label="start page")
    screenshot(page, "referral-01-start")
    page.get_by_role("button", name="Start now").click()

    # About you: submitted empty first, to see the error state.
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for(state="visible")
    assert summary.is_visible()
    assert "Enter your full name" in summary.inner_text()
    assert page.title().startswith("Error:")
    axe_check(page, label="about you, with errors")
    screenshot(page, "referral-02-about-you-errors")
    summary.get_by_role("link", name="Enter your full name").click()
    assert page.evaluate("document.activeElement.id") == "referrer_name"
    page.get_by_label("Your full name").fill("Helen Whitworth")
    page.get_by_label("Yes, I work for an organisation").check()
    page.get_by_label("Organisation", exact=True).fill("Stockport Homes")
    page.get_by_label("Your role").fill("Housing officer")
    page.get_by_label("Email address", exact=True).fill("helen.whitworth@rj-test.org.uk")
    page.get_by_label("Phone number", exact=True).fill("0161 496 0000")
    page.get_by_role("button", name="Continue").click()

    # What happened: a question page with a date input and a character count.
    page.get_by_role("heading", name="What happened").wait_for()
    axe_check(page, label="what happened")
    page.get_by_label("Neighbour dispute").check()
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Where did it happen?").fill("Castle Street, Edgeley")
    page.get_by_label("Briefly, what happened?").fill("Noise late at night and parking across a shared drive.")
    assert "characters remaining" in page.locator(".govuk-character-count__status").inner_text()
    screenshot(page, "referral-03-what-happened")
    page.get_by_role("button", name="Continue").click()

    # People, with the add-another loop.
    page.get_by_label("Their name").fill("Gareth Lloyd")
    page.get_by_label("Harmed or affected").check()
    page.get_by_role("group", name="Are they under 18?").get_by_label("No").check()
    page.get_by_label("How can we contact them safely? (optional)").fill("Evenings only")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="You have added 1 person").wait_for()
    page.get_by_role("group", name="Do you need to add another person?").get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Their name").fill("Dean Hurst")
    page.get_by_label("Responsible for the harm").check()
    page.get_by_role("group", name="Are they under 18?").get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="You have added 2 people").wait_for()
    screenshot(page, "referral-04-people")
    page.get_by_role("group", name="Do you need to add another person?").get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("group", name="Do the people involved know about this referral?").get_by_label("Yes, all of them").check()
    page.get_by_role("group", name="Do they seem willing to take part?").get_by_label("Some of them").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("None of these").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("group", name="Do you have consent to share these details with us?").get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()

    # Check your answers, then send.
    page.get_by_role("heading", name="Check your answers before sending your referral").wait_for()
    body = page.locator("main").inner_text()
    for text in ("Helen Whitworth", "Stockport Homes", "14 February 2026", "Castle Street, Edgeley", "Gareth Lloyd",
                 "Dean Hurst", "None of these"):
        assert text in body, text
    honeypot = page.get_by_label("Leave this blank")
    assert honeypot.get_attribute("tabindex") == "-1" and honeypot.get_attribute("autocomplete") == "off"
    assert page.locator(".govuk-visually-hidden:has(#website)").bounding_box()["width"] <= 1  # not seen
    axe_check(page, label="check your answers")
    screenshot(page, "referral-05-check-answers")
    page.get_by_role("button", name="Send referral").click()

    page.get_by_role("heading", name="Referral sent").wait_for()
    reference = page.locator(".govuk-panel__body strong").inner_text().strip()
    assert re.fullmatch(r"RJ-\d{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{5}", reference)
    axe_check(page, label="confirmation")
    screenshot(page, "referral-06-confirmation")

    db.session.expire_all()
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None and case.status is CaseStatus.REFERRED
    assert [p.name for p in case.referral.people] == ["Gareth Lloyd", "Dean Hurst"]
