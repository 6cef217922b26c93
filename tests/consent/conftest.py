"""Helpers for consent tests: parties, informed consent, a coordinator and a manager."""
from __future__ import annotations

import pytest

from rj.consent import services
from rj.consent.models import ConsentKind, GivenBy, PartyRole
from rj.core.permissions import Role


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


@pytest.fixture
def add_party(db, coordinator):
    def add(case, role=PartyRole.PARTY, name="Jordan Example", **fields):
        party = services.add_party(case, role=role, name=name, actor=coordinator, **fields)
        db.session.flush()
        return party

    return add


@pytest.fixture
def consent(db, coordinator):
    """Give informed consent: information first, then the scopes."""

    def give(party, scopes=("take_part", "face_to_face"), *, given_by=GivenBy.PARTY, method="in_writing", now=None):
        services.record_information(party, how="in_person", leaflet="SoRT-IT leaflet", given_by=given_by,
                                    actor=coordinator, now=now)
        return services.record_consent(party, kind=ConsentKind.CONSENT_GIVEN, scopes=list(scopes), method=method,
                                       given_by=given_by, actor=coordinator, now=now)

    return give
