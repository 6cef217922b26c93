"""Running one job: take the job's lock, skip if this tick already ran, record a JobRun.

Two worker processes started by mistake still run each job once per tick: the lock makes runs
one at a time, and a run that finds another run of the same job started within the job's
min_gap skips. On PostgreSQL the lock is a session-level pg_try_advisory_lock held on a
dedicated connection for the run; on SQLite a JobLock row with a lease (so a crashed worker's
lock expires).
"""
from __future__ import annotations

import importlib
import os
import socket
import traceback
import zlib
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from rj.core.time import now_utc
from rj.extensions import db
from rj.jobs.models import JobLock, JobRun
from rj.jobs.schedule import Job, job_named

ADVISORY_NAMESPACE = 0x524A  # "RJ": keeps our advisory lock keys apart from anyone else's
LOCK_LEASE = timedelta(minutes=15)


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def advisory_key(name: str) -> int:
    return (ADVISORY_NAMESPACE << 32 | zlib.crc32(name.encode())) & 0x7FFFFFFFFFFFFFFF


@contextmanager
def job_lock(name: str, *, now: datetime | None = None, holder: str | None = None):
    """Yields True if this process holds the job's lock for the block, False if another does."""
    engine = db.engine
    holder = holder or holder_id()
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(name)}).scalar()
            conn.commit()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(name)})
                    conn.commit()
        finally:
            conn.close()
        return
    got = _take_lease(name, holder, now or now_utc())
    try:
        yield got
    finally:
        if got:
            with engine.begin() as conn:
                conn.execute(update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
                             .values(holder=None, expires_at=None))


def _take_lease(name: str, holder: str, now: datetime) -> bool:
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(JobLock).where(JobLock.name == name,
                                  (JobLock.holder.is_(None)) | (JobLock.expires_at < now))
            .values(holder=holder, expires_at=now + LOCK_LEASE)).rowcount
        if taken:
            return True
        exists = conn.execute(select(JobLock.name).where(JobLock.name == name)).first()
        if exists:
            return False
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(JobLock).values(name=name, holder=holder, expires_at=now + LOCK_LEASE))
        return True
    except IntegrityError:
        return False


def resolve(func: str):
    module, _, attr = func.partition(":")
    return getattr(importlib.import_module(module), attr)


def run_job(job: Job | str, *, now: datetime | None = None, **kwargs) -> JobRun | None:
    """Run a job once, if no other worker runs or just ran it. Returns its JobRun, or None if skipped."""
    job = job_named(job) if isinstance(job, str) else job
    now = now or now_utc()
    with job_lock(job.name, now=now) as got:
        if not got:
            return None
        last = db.session.scalar(select(JobRun.started_at).where(JobRun.name == job.name)
                                 .order_by(JobRun.started_at.desc()).limit(1))
        if last is not None and now - last < job.min_gap and now >= last:
            db.session.rollback()
            return None
        run = JobRun(name=job.name, started_at=now)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        try:
            counts = resolve(job.func)(now=now, **kwargs)
        except Exception as exc:  # noqa: BLE001 - recorded and logged; the next tick tries again
            db.session.rollback()
            # Where it failed, but not the exception's message: it may quote personal data.
            current_app.logger.error("job %s failed: %s\n%s", job.name, type(exc).__name__,
                                     "".join(traceback.format_tb(exc.__traceback__)))
            run = db.session.get(JobRun, run_id)
            run.ok, run.error, run.finished_at = False, type(exc).__name__[:200], now_utc()
            db.session.commit()
            return run
        run = db.session.get(JobRun, run_id)
        run.ok, run.counts, run.finished_at = True, counts if isinstance(counts, dict) else None, now_utc()
        db.session.commit()
        return run


def last_run_at() -> datetime | None:
    return db.session.scalar(select(JobRun.finished_at).where(JobRun.finished_at.is_not(None))
                             .order_by(JobRun.finished_at.desc()).limit(1))
