from datetime import timedelta

from sqlalchemy import func, select

from rj.core.time import now_utc
from rj.jobs.housekeeping import purge_expired_links
from rj.referrals.models import ReferralDraft


def test_expired_referral_drafts_are_deleted_and_a_second_run_finds_nothing(db):
    now = now_utc()
    db.session.add_all([
        ReferralDraft(token_hash="a" * 64, answers={"about": {"name": "x"}}, created_at=now - timedelta(days=2),
                      expires_at=now - timedelta(days=1)),
        ReferralDraft(token_hash="b" * 64, answers={}, created_at=now, expires_at=now + timedelta(hours=23)),
    ])
    db.session.commit()
    assert purge_expired_links(now)["drafts"] == 1
    assert purge_expired_links(now)["drafts"] == 0
    assert db.session.scalar(select(func.count(ReferralDraft.id))) == 1
