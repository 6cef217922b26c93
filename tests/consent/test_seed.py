"""Demo data: parties and consent histories land on the accepted cases, consistent with the rules."""
from __future__ import annotations

from sqlalchemy import func, select

from rj.cases.models import Case, CaseStatus
from rj.consent import services
from rj.consent.models import ConsentRecord, Party
from tests.factories import make_case


def test_seed_adds_parties_and_consent_histories_to_accepted_cases(app, db):
    import random
    from datetime import timedelta

    from rj.cli import SeedContext
    from rj.consent.seed import seed_demo
    from rj.core.time import now_utc

    cases = [make_case(status=CaseStatus.ACCEPTED, referred_at=now_utc() - timedelta(days=30), commit=False)
             for _ in range(60)]
    waiting = make_case(status=CaseStatus.IN_TRIAGE, commit=False)
    db.session.commit()
    ctx = SeedContext(rng=random.Random(7), now=now_utc(), cases=61,
                      extra={"case_ids": [c.id for c in cases] + [waiting.id]})
    seed_demo(ctx)
    db.session.commit()
    assert db.session.scalar(select(func.count(Party.id)).where(Party.case_id == waiting.id)) == 0
    assert db.session.scalar(select(func.count(Party.id))) >= 120
    assert db.session.scalar(select(func.count(ConsentRecord.id))) > 100
    statuses = set(db.session.scalars(select(Case.status)))
    assert CaseStatus.PREPARATION in statuses or CaseStatus.READY_TO_MEET in statuses
    for case in db.session.scalars(select(Case).where(Case.status == CaseStatus.PAUSED)):
        assert any(s.withdrawn for s in services.consent_states(services.active_parties(case)).values())
