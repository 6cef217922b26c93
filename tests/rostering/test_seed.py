"""Demo data for rostering: teams for most open cases, offers for the demo facilitator, idempotent."""
from __future__ import annotations

import random

from sqlalchemy import func, select

from rj.cli import SeedContext
from rj.core.permissions import Role
from rj.rostering import seed
from rj.rostering.models import CaseTeam, Offer, OfferStatus
from tests.factories import make_case
from tests.rostering.conftest import NOW


def test_seed_makes_valid_teams_and_offers_for_the_demo_facilitator_once(db, make_user, make_facilitator,
                                                                         coordinator):
    demo_user = make_user(Role.FACILITATOR, email="facilitator@rj.example")
    demo = make_facilitator(user=demo_user)
    others = [make_facilitator(experienced=i < 3) for i in range(5)]
    cases = [make_case(risk_assessed=True, level=2) for _ in range(30)]
    ctx = SeedContext(rng=random.Random(1), now=NOW, cases=30,
                      users={"facilitator@rj.example": demo_user, "coordinator@rj.example": coordinator},
                      extra={"case_ids": [c.id for c in cases], "facilitator_ids": [demo.id] + [f.id for f in others]})
    seed.seed_demo(ctx)
    teams = db.session.scalars(select(CaseTeam)).all()
    assert 15 <= len(teams) < 30
    experienced = {f.id for f in others[:3]}
    assert all(t.lead_facilitator_id in experienced and t.lead_facilitator_id != t.co_facilitator_id for t in teams)
    offers = db.session.scalars(select(Offer).where(Offer.facilitator_id == demo.id)).all()
    assert offers and all(o.status is OfferStatus.PENDING for o in offers)
    seed.seed_demo(ctx)
    assert db.session.scalar(select(func.count(CaseTeam.id))) == len(teams)
