"""Demo referrals: realistic mix, deterministic, repeatable without crashing, fast at scale."""
from __future__ import annotations

import random
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from rj.cases.models import Case, CaseStatus, Scheme
from rj.cli import SeedContext
from rj.core.permissions import Role
from rj.referrals.models import Referral, ReferralPerson
from rj.referrals.seed import seed_demo

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def ctx_for(make_user):
    users = {u.email: u for u in (make_user(Role.COORDINATOR), make_user(Role.MANAGER), make_user(Role.FACILITATOR))}

    def make(cases: int, seed: int = 2026) -> SeedContext:
        return SeedContext(rng=random.Random(seed), now=NOW, cases=cases, users=users)

    return make


def test_seeding_makes_a_realistic_mix_of_referrals_each_with_two_or_three_people(db, ctx_for):
    ctx = ctx_for(300)
    seed_demo(ctx)
    db.session.commit()
    assert len(ctx.extra["case_ids"]) == 300
    statuses = Counter(db.session.scalars(select(Case.status)))
    assert statuses[CaseStatus.ACCEPTED] > 120 and statuses[CaseStatus.REFERRED] > 10
    assert statuses[CaseStatus.IN_TRIAGE] > 5 and statuses[CaseStatus.DECLINED] > 10
    schemes = Counter(db.session.execute(select(Case.scheme, Case.level).where(Case.status == CaseStatus.ACCEPTED)).all())
    assert schemes[(Scheme.SORTIT, 2)] > schemes[(Scheme.POST_SENTENCE, 3)] > 0
    people = Counter(db.session.scalars(select(func.count(ReferralPerson.id)).group_by(ReferralPerson.referral_id)))
    assert set(people) <= {2, 3}
    assert db.session.scalar(select(func.count(Referral.id))) == 300
    accepted = db.session.scalar(select(Case).where(Case.status == CaseStatus.ACCEPTED).limit(1))
    assert accepted.lead_coordinator_id and accepted.accepted_at and accepted.referral.people


def test_the_same_seed_gives_the_same_data(app, db, ctx_for):
    from tests.conftest import _clean

    seed_demo(ctx_for(50, seed=7))
    db.session.commit()
    first = db.session.execute(select(Case.reference, Case.status).order_by(Case.id)).all()
    names = list(db.session.scalars(select(ReferralPerson.name).order_by(ReferralPerson.id)))
    # keep the users, drop the cases
    for model in (ReferralPerson, Referral, Case):
        db.session.query(model).delete()
    db.session.commit()
    seed_demo(ctx_for(50, seed=7))
    db.session.commit()
    assert db.session.execute(select(Case.reference, Case.status).order_by(Case.id)).all() == first
    assert list(db.session.scalars(select(ReferralPerson.name).order_by(ReferralPerson.id))) == names
    assert _clean  # the app fixture cleans up afterwards


def test_seeding_twice_does_not_crash_and_references_stay_unique(db, ctx_for):
    seed_demo(ctx_for(100))
    db.session.commit()
    seed_demo(ctx_for(100))  # same seed: every reference collides and is drawn again
    db.session.commit()
    refs = list(db.session.scalars(select(Case.reference)))
    assert len(refs) == 200 == len(set(refs))


@pytest.mark.slow
def test_ten_thousand_cases_seed_in_well_under_a_minute(db, ctx_for):
    started = time.monotonic()
    seed_demo(ctx_for(10000))
    db.session.commit()
    assert time.monotonic() - started < 30
    assert db.session.scalar(select(func.count(Case.id))) == 10000
