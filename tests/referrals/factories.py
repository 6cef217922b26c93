"""Referral test data: a complete, valid submission and a referred case built through the service."""
from __future__ import annotations

from datetime import date, timedelta

from rj.extensions import db


def referral_data(**overrides) -> dict:
    data = {
        "referrer_name": "Helen Whitworth",
        "referrer_is_public": False,
        "referrer_organisation": "Stockport Homes",
        "referrer_role": "Housing officer",
        "referrer_email": "helen.whitworth@rj-test.org.uk",
        "referrer_phone": "0161 496 0000",
        "category": "neighbour_dispute",
        "incident_date": (date.today() - timedelta(days=10)).isoformat(),
        "location": "Castle Street, Edgeley",
        "description": "Ongoing noise and parking dispute between neighbours.\nBoth households upset.",
        "crime_reference": "",
        "parties_aware": "yes",
        "parties_willing": "some",
        "risk_flags": ["none"],
        "consent_to_share": "yes",
        "people": [
            {"name": "Gareth Lloyd", "side": "harmed", "under_18": False, "contact_safely": "Evenings only",
             "email": "", "phone": "07700 900 123"},
            {"name": "Dean Hurst", "side": "responsible", "under_18": False, "contact_safely": "", "email": "",
             "phone": ""},
        ],
    }
    data.update(overrides)
    return data


def make_referral(commit: bool = True, **overrides):
    from rj.referrals.services import submit_referral

    case = submit_referral(referral_data(**overrides))
    if commit:
        db.session.commit()
    return case


# What the public form pages post, page by page, for the view tests.
FORM_PAGES = [
    ("/refer/about-you", {"referrer_name": "Helen Whitworth", "referrer_type": "professional",
                          "referrer_organisation": "Stockport Homes", "referrer_role": "Housing officer",
                          "referrer_email": "helen.whitworth@rj-test.org.uk", "referrer_phone": "0161 496 0000"}),
    ("/refer/what-happened", {"category": "criminal_damage", "incident_date": ["3", "2", "2026"],
                              "location": "Reddish", "description": "A fence was kicked down.", "crime_reference": "CR/123/26"}),
    ("/refer/people/add", {"name": "Gareth Lloyd", "side": "harmed", "under_18": "no", "contact_safely": "Evenings",
                           "email": "", "phone": ""}),
    ("/refer/people", {"add_another": "yes"}),
    ("/refer/people/add", {"name": "Kyle Ashworth", "side": "responsible", "under_18": "yes", "contact_safely": "",
                           "email": "", "phone": ""}),
    ("/refer/people", {"add_another": "no"}),
    ("/refer/do-they-know", {"parties_aware": "some", "parties_willing": "not_sure"}),
    ("/refer/risks", {"risk_flags": ["children_at_risk"]}),
    ("/refer/consent", {"consent_to_share": "yes"}),
]


def fill_form(client, pages=FORM_PAGES):
    for url, data in pages:
        response = client.post(url, data=data)
        assert response.status_code == 302, (url, response.get_data(as_text=True)[:3000])
    return response
