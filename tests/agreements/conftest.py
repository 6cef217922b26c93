from __future__ import annotations

from datetime import timedelta

import pytest

from rj.cases.models import CaseStatus, Scheme
from rj.core.time import now_utc
from tests.agreements.factories import make_meeting, make_party
from tests.factories import make_case


@pytest.fixture
def held_setup(db, make_user):
    """A SoRT-IT case with two parties and a restorative meeting yesterday, outcome not yet recorded."""

    def build(*, scheme=Scheme.SORTIT, status=CaseStatus.MEETING_BOOKED, facilitators=(), kind="restorative"):
        case = make_case(scheme=scheme, level=2 if scheme is Scheme.SORTIT else 3, status=status)
        a = make_party(case, "Alex Able", role="party" if scheme is Scheme.SORTIT else "harmed",
                       email="alex@rj-test.org.uk")
        b = make_party(case, "Bo Baker", role="party" if scheme is Scheme.SORTIT else "responsible")
        meeting = make_meeting(case, parties=[a, b], facilitators=facilitators, kind=kind,
                               starts_at=now_utc() - timedelta(days=1))
        return case, meeting, a, b

    return build
