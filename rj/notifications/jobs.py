"""The notifications worker jobs: sending the outbox, and the idempotent reminder and chaser
sweepers. Each takes `now`, selects what is due, queues or sends, commits, and returns counts.
Running one twice does no harm: every reminder has a dedupe_key, so it is queued once."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from rj.core.time import local_today, now_utc
from rj.extensions import db
from rj.notifications.email import build_email, safe_error, transport_for
from rj.notifications.models import OutboxMessage, OutboxStatus

S = OutboxStatus


def _cfg(key, default):
    return current_app.config.get(key, default)


def _value(x):
    return getattr(x, "value", x)


# ---------------------------------------------------------------- sending

def backoff(attempts: int) -> timedelta:
    """Exponential back-off after the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most 6 hours."""
    base = int(_cfg("OUTBOX_BACKOFF_SECONDS", 60))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def claim_due(now: datetime, *, limit: int = 50) -> list[int]:
    """Claim due messages for this worker and commit, so no other worker sends them.

    Due: pending and next_attempt_at reached, or 'sending' for longer than the lease (a worker
    died between claiming and marking sent: the message goes once more, never silently dropped).
    PostgreSQL skips rows another worker has locked (FOR UPDATE SKIP LOCKED); on both databases
    the claim is a conditional UPDATE whose row count says whether this worker won it."""
    lease = timedelta(minutes=int(_cfg("OUTBOX_LEASE_MINUTES", 10)))
    due = or_(and_(OutboxMessage.status == S.PENDING, OutboxMessage.next_attempt_at <= now),
              and_(OutboxMessage.status == S.SENDING, OutboxMessage.claimed_at < now - lease))
    stmt = select(OutboxMessage.id).where(due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(stmt))
    claimed = []
    for message_id in ids:
        result = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, due)
            .values(status=S.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def send_outbox(now: datetime | None = None, *, transport=None, limit: int = 50, after_claim=None) -> dict:
    """Send what is due. Each message is marked sent (or rescheduled, or failed) in its own
    commit straight after its SMTP conversation, so a crash affects at most the one in flight."""
    now = now or now_utc()
    cfg = current_app.config
    transport = transport or transport_for(cfg)
    max_attempts = int(_cfg("OUTBOX_MAX_ATTEMPTS", 8))
    counts = {"claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    ids = claim_due(now, limit=limit)
    counts["claimed"] = len(ids)
    if after_claim is not None:   # tests: simulate the worker dying here
        after_claim(ids)
    try:
        for message_id in ids:
            message = db.session.get(OutboxMessage, message_id)
            try:
                mail = build_email(message, sender=cfg["SERVICE_MAILBOX"], sender_name=cfg["SERVICE_NAME"])
                transport.send(mail)
            except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                message.last_error = safe_error(exc)
                if message.attempts >= max_attempts:
                    message.status = S.FAILED
                    counts["failed"] += 1
                    current_app.logger.warning("outbox message %s failed after %s attempts: %s",
                                               message.id, message.attempts, message.last_error)
                else:
                    message.status = S.PENDING
                    message.next_attempt_at = now + backoff(message.attempts)
                    counts["retry"] += 1
            else:
                message.status, message.sent_at, message.last_error = S.SENT, now_utc(), None
                counts["sent"] += 1
            if message.status is not S.SENT:
                message.claimed_at = None
            db.session.commit()
    finally:
        transport.close()
    return counts


# ---------------------------------------------------------------- reminders and chasers

def meeting_reminders(now: datetime | None = None) -> dict:
    """Reminders at each REMINDER_OFFSETS_MINUTES before a booked meeting, to its facilitators
    (and parties who chose email and opted in to reminders, where that flag exists).

    A reminder is due from its moment until a quarter of its offset later (so a worker that was
    down for a while still sends it, but a meeting booked at short notice is not sent a stale
    "in two days" reminder). The dedupe_key holds the start time, so a moved meeting is reminded
    again for its new time, and a job run twice queues nothing new."""
    try:
        from rj.scheduling.models import Meeting, MeetingStatus
    except ImportError:
        return {"skipped": 1}
    from sqlalchemy.orm import selectinload

    from rj.notifications.services import _render, _when, party_wants_email, queue_email
    from rj.notifications.ical import meeting_location, meeting_title

    now = now or now_utc()
    offsets = sorted(int(o) for o in current_app.config.get("REMINDER_OFFSETS_MINUTES", [2880, 120]))
    if not offsets:
        return {"queued": 0}
    horizon = now + timedelta(minutes=max(offsets))
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.status == MeetingStatus.BOOKED, Meeting.starts_at > now,
                              Meeting.starts_at <= horizon)
        .options(selectinload(Meeting.facilitators), selectinload(Meeting.parties), selectinload(Meeting.case))
    ).all()
    queued = 0
    for meeting in meetings:
        until = meeting.starts_at - now
        due = [o for o in offsets if timedelta(minutes=o) >= until > timedelta(minutes=o) * 0.75]
        for offset in due:
            recipients = [("fac", mf.facilitator_id, mf.facilitator.user.email) for mf in meeting.facilitators
                          if mf.facilitator.user.active]
            recipients += [("party", mp.party_id, mp.party.email) for mp in meeting.parties
                           if party_wants_email(mp.party) and getattr(mp.party, "reminders_opt_in", False)]
            title = meeting_title(meeting)
            text, html = _render("reminder", title=title, when=_when(meeting), location=meeting_location(meeting),
                                 meeting=meeting)
            for kind, rid, email in recipients:
                key = f"reminder:{meeting.id}:{int(meeting.starts_at.timestamp())}:{offset}:{kind}:{rid}"
                if queue_email(recipient=email, subject=f"Reminder: {title}", text=text, html=html,
                               kind="reminder", dedupe_key=key, case_id=meeting.case_id, now=now):
                    queued += 1
    db.session.commit()
    return {"meetings": len(meetings), "queued": queued}


def release_expired_offers(now: datetime | None = None) -> dict:
    """Offers not answered in time go to the next suggested facilitator (the rostering domain's rule)."""
    try:
        from rj.rostering.services import release_expired_offers as release
    except ImportError:
        return {"skipped": 1}
    result = release(now or now_utc())
    db.session.commit()
    n = len(result) if hasattr(result, "__len__") else (result if isinstance(result, int) else 0)
    return {"released": n}


EXPIRY_THRESHOLDS = (60, 30, 7)


def expiring_training(now: datetime | None = None) -> dict:
    """Training, supervision and DBS checks expiring within 60, 30 and 7 days: the facilitator is
    told once at each threshold, and each coordinator gets one daily summary. The items come from
    the facilitators domain's compliance rules (rj.facilitators.queries.expiring_items)."""
    from rj.facilitators.queries import expiring_items
    from rj.notifications.services import _render, coordinators, queue_email

    now = now or now_utc()
    today = local_today(now)
    items = expiring_items(now, max(EXPIRY_THRESHOLDS))
    queued, summary = 0, {}
    for item in items:
        threshold = min(t for t in EXPIRY_THRESHOLDS if item.days_left <= t)
        summary[item.label] = summary.get(item.label, 0) + 1
        text, html = _render("expiring", label=item.label, expires_on=item.due, days_left=item.days_left)
        # One message per item and threshold: the same due date crossing 30 days is told once.
        key = f"expiring:{item.facilitator.id}:{item.item}:{item.due.isoformat()}:{threshold}"
        if queue_email(recipient=item.facilitator.user.email, subject="Your training record needs renewing soon",
                       text=text, html=html, kind="expiring", dedupe_key=key, now=now):
            queued += 1
    if summary:
        queued += _coordinator_digest("expiring_digest", today, now,
                                      subject="Facilitator training and checks expiring soon",
                                      lines=[f"{label}: {n} facilitator(s) within 60 days"
                                             for label, n in sorted(summary.items())],
                                      queue_email=queue_email, render=_render, coordinators=coordinators)
    db.session.commit()
    return {"items": len(items), "queued": queued}


def _coordinator_digest(kind, today, now, *, subject, lines, queue_email, render, coordinators) -> int:
    queued = 0
    text, html = render("digest", lines=lines)
    for user in coordinators():
        if queue_email(recipient=user.email, subject=subject, text=text, html=html, kind=kind,
                       dedupe_key=f"{kind}:{today.isoformat()}:{user.id}", now=now):
            queued += 1
    return queued


def triage_and_victims_code(now: datetime | None = None) -> dict:
    """Tell coordinators each morning how many referrals wait for triage and how many Victims'
    Code clocks run out soon (rj.consent.services.victims_code_clocks, when it exists). Counts and
    case references only."""
    from rj.cases.models import Case, CaseStatus
    from rj.notifications.services import _render, coordinators, queue_email

    now = now or now_utc()
    today = local_today(now)
    waiting = db.session.scalars(select(Case).where(Case.status.in_([CaseStatus.REFERRED, CaseStatus.IN_TRIAGE]))
                                 .order_by(Case.referred_at)).all()
    lines = []
    if waiting:
        lines.append(f"{len(waiting)} referral(s) waiting for triage: "
                     + ", ".join(c.reference for c in waiting[:20]) + (" and more" if len(waiting) > 20 else ""))
    clocks = []
    try:
        from rj.consent.services import victims_code_clocks
    except ImportError:
        victims_code_clocks = None
    if victims_code_clocks is not None:
        open_cases = db.session.scalars(select(Case).where(Case.status.in_(Case.ACTIVE_STATUSES + (
            CaseStatus.REFERRED, CaseStatus.IN_TRIAGE)))).all()
        clocks = [c for c in victims_code_clocks(open_cases, today=today) if _clock_due_soon(c, today)]
        if clocks:
            refs = sorted({c.case.reference for c in clocks})
            lines.append(f"{len(clocks)} Victims' Code deadline(s) within 2 working days"
                         + (": " + ", ".join(refs[:20]) if refs else ""))
    queued = 0
    if lines:
        queued = _coordinator_digest("triage_digest", today, now, subject="Referrals and Victims' Code deadlines",
                                     lines=lines, queue_email=queue_email, render=_render, coordinators=coordinators)
    db.session.commit()
    return {"waiting": len(waiting), "clocks": len(clocks), "queued": queued}


def _clock_due_soon(clock, today) -> bool:
    """A Victims' Code clock (rj.consent.services.ClockItem) not yet met and due within 2 working days."""
    from rj.core.time import add_working_days

    return clock.status != "done" and clock.due <= add_working_days(today, 2)


def overdue_agreement_actions(now: datetime | None = None) -> dict:
    """Agreement actions past their date (rj.agreements.services.overdue_items, when it exists):
    coordinators get one daily summary."""
    try:
        from rj.agreements.services import overdue_items
    except ImportError:
        return {"skipped": 1}
    from rj.notifications.services import _render, coordinators, queue_email

    now = now or now_utc()
    today = local_today(now)
    items = list(overdue_items(now))
    queued = 0
    if items:
        refs = list(dict.fromkeys(item.agreement.case.reference for item in items))
        lines = [f"{len(items)} agreed action(s) are overdue" + (": " + ", ".join(refs[:20]) if refs else "")]
        queued = _coordinator_digest("overdue_digest", today, now, subject="Agreed actions overdue", lines=lines,
                                     queue_email=queue_email, render=_render, coordinators=coordinators)
    db.session.commit()
    return {"overdue": len(items), "queued": queued}
