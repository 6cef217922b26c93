"""The audit trail: append-only, written in the same transaction as the change it records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from rj.core.db import UTCDateTime
from rj.extensions import db


class AuditEvent(db.Model):
    """Who did what to which object, and when. Holds ids and field names, never narratives
    about people, so the trail itself does not spread personal data."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "case.accepted", "case.opened"
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    # The case this event belongs to, so a case timeline is one indexed query.
    case_id: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[list | None] = mapped_column(JSON)  # names of changed fields, no values
    detail: Mapped[dict | None] = mapped_column(JSON)  # coded values only (statuses, reasons), never free text


@event.listens_for(AuditEvent, "before_update")
def _audit_is_append_only(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _audit_is_never_deleted(mapper, connection, target):
    raise RuntimeError("audit events are append-only")
