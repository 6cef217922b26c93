"""The worker's own records: one JobRun per run of a periodic job, and JobLock leases so two
worker processes started by mistake still run each job once per tick (SQLite; PostgreSQL uses
advisory locks instead)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rj.core.db import UTCDateTime
from rj.extensions import db


class JobRun(db.Model):
    """A run of a scheduled job: when, whether it worked, and what it did (counts, never names)."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    counts: Mapped[dict | None] = mapped_column(JSON)
    # Exception class name only.
    error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_job_run_name_started", "name", "started_at"),)


class JobLock(db.Model):
    """A lease on a job name: held by one worker until it finishes or the lease expires."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
