"""The referrer's status link: the only record the reports domain keeps."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from rj.core.db import UTCDateTime
from rj.extensions import db


class ReferralStatusLink(db.Model):
    """A link emailed to a referrer that shows their referral's status and nothing else.
    Random token stored hashed; usable until expires_at (time-limited, not single use, so a
    referrer can look twice in the same day); the URL says nothing about the case."""

    __tablename__ = "referral_status_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rj_case.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
