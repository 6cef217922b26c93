"""The referral flow with the real consent and notification hooks, when those domains exist."""
from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import select

from rj.cases.models import Scheme
from rj.core.permissions import Role
from rj.referrals import services
from tests.referrals.factories import fill_form, make_referral


@pytest.fixture(autouse=True)
def _isolated_hooks():
    """Overrides the stand-ins from conftest.py: the real hooks run here."""
    return None


def _needs(module: str, name: str):
    if importlib.util.find_spec(module) is None or not hasattr(importlib.import_module(module), name):
        pytest.skip(f"{module}.{name} is not there yet")


def test_accepting_turns_the_referral_people_into_case_parties(db, make_user):
    _needs("rj.consent.services", "parties_from_referral")
    from rj.consent.models import Party

    user = make_user(Role.COORDINATOR)
    case = make_referral()
    services.accept_referral(case, scheme=Scheme.SORTIT, level=2, lead_coordinator=user, actor=user)
    db.session.commit()
    names = set(db.session.scalars(select(Party.name).where(Party.case_id == case.id)))
    assert {"Gareth Lloyd", "Dean Hurst"} <= names


def test_a_referrer_with_an_email_gets_an_acknowledgement_queued_with_the_reference(client, db):
    _needs("rj.notifications.services", "queue_referral_acknowledgement")
    from rj.notifications.models import OutboxMessage

    fill_form(client)
    assert client.post("/refer/check").status_code == 302
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    html = client.get("/refer/confirmation").get_data(as_text=True)
    reference = html.split("<strong>")[1].split("</strong>")[0]
    assert reference in message.subject and "Whitworth" not in message.subject
