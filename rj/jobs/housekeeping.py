"""Housekeeping sweepers: personal data that has outlived its purpose is deleted (retention)."""
from __future__ import annotations

from datetime import datetime

from rj.core.time import now_utc
from rj.extensions import db


def purge_expired_links(now: datetime | None = None) -> dict:
    """Delete expired referral drafts (what a referrer typed but never sent) and referral-status
    links. Idempotent: a second run finds nothing left to delete."""
    from rj.referrals.services import purge_expired_drafts
    from rj.reports.services import purge_expired_status_links

    now = now or now_utc()
    counts = {"drafts": purge_expired_drafts(now=now), "status_links": purge_expired_status_links(now=now)}
    db.session.commit()
    return counts
