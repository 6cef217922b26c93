"""Notifications: the outbox of emails and invites, calendar-feed tokens, delivery preferences
and facilitators' answers to invites.

Every email is an OutboxMessage row added in the same transaction as the change that causes it,
and sent by the worker afterwards: a rolled-back change sends nothing, a mail server that is down
loses nothing.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj.core.db import UTCDateTime, enum_column
from rj.extensions import db


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"   # claimed by a worker; reclaimed if the lease runs out (worker died)
    SENT = "sent"
    FAILED = "failed"     # gave up after the maximum attempts; a coordinator may retry it

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OutboxMessage(db.Model):
    """One email waiting to go, going, sent or failed. Rules it keeps: written only by queue_*
    functions inside the causing transaction; dedupe_key is unique, so a reminder or invite is
    queued once however often a job runs; message_id is made once, so a resend after a crash
    carries the same Message-ID; subject and last_error hold nothing personal."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # iCalendar text of an invite (REQUEST or CANCEL), sent inline and as invite.ics.
    ics: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(10))
    # Idempotency: e.g. "reminder:12:1767225600:120:fac:3". Unique so a second run adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When a worker claimed it: a 'sending' row older than the lease belongs to a dead worker.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Exception class and SMTP code only: never addresses or message text.
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Related case, for the outbox page's context (no foreign key: notifications outlive nothing).
    case_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)


class CalendarFeedToken(db.Model):
    """A user's personal calendar-feed credential. The URL token is HMAC(SECRET_KEY, nonce):
    the page can show it again, a copy of the database alone cannot rebuild it, and resetting
    the nonce revokes the old URL. Only its hash is looked up."""

    __tablename__ = "calendar_feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class Delivery(str, enum.Enum):
    INVITES = "invites"   # emailed invites, updates and cancellations (the default)
    FEED = "feed"         # subscribed calendar feed: no invite emails, or everything shows twice

    @property
    def label(self) -> str:
        return "Emailed invites" if self is Delivery.INVITES else "Calendar feed"


class FeedPreference(db.Model):
    """How a user wants meetings in their calendar: emailed invites or the feed, not both."""

    __tablename__ = "feed_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery), default=Delivery.INVITES)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InviteResponse(db.Model):
    """A facilitator's answer through the signed Accept/Decline link in an invite email (calendar
    replies do not reliably reach the organiser). The latest row per meeting and facilitator counts.
    Plain integer ids: the scheduling tables belong to another domain."""

    __tablename__ = "invite_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, index=True)
    facilitator_id: Mapped[int] = mapped_column(Integer, index=True)
    response: Mapped[str] = mapped_column(String(10))  # accepted | declined
    # The meeting's SEQUENCE the answer was given to: an answer to an older time is stale.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("meeting_id", "facilitator_id", "sequence", name="uq_invite_response_once"),)
