"""Queueing emails and invites, calendar feeds and invite answers.

queue_* functions only add OutboxMessage rows to the current transaction; the worker sends them
after the commit (rj.notifications.jobs.send_outbox). Nothing here talks to a mail server.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from rj.audit.services import record
from rj.auth.models import User
from rj.core.tokens import hash_token
from rj.core.errors import DomainError
from rj.core.permissions import Role
from rj.core.time import format_local, now_utc
from rj.extensions import db
from rj.notifications.email import BadAddress, check_address, new_message_id
from rj.notifications.ical import build_invite, meeting_location, meeting_title, one_line
from rj.notifications.models import (
    CalendarFeedToken, Delivery, FeedPreference, InviteResponse, OutboxMessage, OutboxStatus,
)

RESPONSE_SALT = "rj-invite-response"
RESPONSE_MAX_AGE = 60 * 24 * 3600  # an invite answered two months later is stale anyway
FEED_SALT = b"rj-calendar-feed:"


def _cfg():
    return current_app.config


def _value(x):
    return getattr(x, "value", x)


def mail_domain() -> str:
    return _cfg()["SERVICE_MAILBOX"].rsplit("@", 1)[-1]


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email, from BASE_URL, without needing a request."""
    base = urlsplit(_cfg()["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def _endpoint_with_token(blueprint: str, preferred: tuple[str, ...]) -> str | None:
    """The first of `preferred` that exists, else any route of `blueprint` taking a token."""
    endpoints = current_app.view_functions
    for name in preferred:
        if name in endpoints:
            return name
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.startswith(blueprint + ".") and "token" in rule.arguments:
            return rule.endpoint
    return None


def _render(kind: str, **context) -> tuple[str, str]:
    context.setdefault("service_name", _cfg()["SERVICE_NAME"])
    return (render_template(f"emails/{kind}.txt", **context),
            render_template(f"emails/{kind}.html", **context))


def queue_email(*, recipient: str, subject: str, text: str, html: str | None = None, kind: str = "general",
                dedupe_key: str | None = None, ics: str | None = None, ics_method: str | None = None,
                case_id: int | None = None, now: datetime | None = None) -> OutboxMessage | None:
    """Add one email to the outbox in the current transaction. Returns None when a message with
    the same dedupe_key was already queued (the idempotency that makes every reminder go once).
    The subject is reduced to one clean line: typed text can never add a header."""
    try:
        recipient = check_address(recipient)
    except BadAddress as exc:
        raise DomainError("The email address cannot be used for sending", field="recipient") from exc
    now = now or now_utc()
    key = dedupe_key or f"{kind}:{secrets.token_hex(12)}"
    if dedupe_key is not None:
        pending = next((m for m in db.session.new if isinstance(m, OutboxMessage) and m.dedupe_key == key), None)
        if pending is not None or db.session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
            return None
    message = OutboxMessage(
        kind=kind, recipient=recipient, subject=one_line(subject, 200), text_body=text, html_body=html,
        ics=ics, ics_method=ics_method, dedupe_key=key[:200], message_id=new_message_id(mail_domain()),
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, case_id=case_id, created_at=now,
    )
    db.session.add(message)
    return message


# ---------------------------------------------------------------- meeting invites

def _facilitator_model():
    from rj.facilitators.models import Facilitator

    return Facilitator


def _party_model():
    from rj.consent.models import Party

    return Party


def delivery_for(user_id: int) -> Delivery:
    pref = db.session.get(FeedPreference, user_id)
    return pref.delivery if pref else Delivery.INVITES


def party_wants_email(party) -> bool:
    return (_value(getattr(party, "preferred_contact", None)) == "email" and bool(getattr(party, "email", None))
            and getattr(party, "removed_at", None) is None)


@dataclass
class _Recipient:
    kind: str            # facilitator | party
    id: int
    email: str
    facilitator: object = None


def _facilitator_recipients(facilitators) -> list[_Recipient]:
    out = []
    for f in facilitators:
        user = getattr(f, "user", None)
        if user is None or not user.email or not getattr(user, "active", True):
            continue
        if delivery_for(user.id) is Delivery.FEED:
            continue  # they see it through their feed; an invite too would show it twice
        out.append(_Recipient("facilitator", f.id, user.email, f))
    return out


def _party_recipients(parties) -> list[_Recipient]:
    return [_Recipient("party", p.id, p.email) for p in parties if party_wants_email(p)]


def meeting_changed(meeting, *, change: str, actor, removed_facilitator_ids=(), removed_party_ids=(),
                    now: datetime | None = None) -> list[OutboxMessage]:
    """Queue one invite email per person for a booking change.

    'booked' and 'updated' send METHOD:REQUEST to everyone now on the meeting; 'cancelled' sends
    METHOD:CANCEL to all of them; people just removed get METHOD:CANCEL. Each invite lists only
    its own recipient, so people on different sides of the harm never share one. Facilitators
    who chose the calendar feed get no invite email; parties only if they chose email."""
    if change not in ("booked", "updated", "cancelled"):
        raise ValueError(f"unknown meeting change {change!r}")
    now = now or now_utc()
    current_f = [mf.facilitator for mf in meeting.facilitators]
    current_p = [mp.party for mp in meeting.parties]
    removed_f = [f for f in (db.session.get(_facilitator_model(), i) for i in removed_facilitator_ids) if f]
    removed_p = [p for p in (db.session.get(_party_model(), i) for i in removed_party_ids) if p]
    current_f = [f for f in current_f if f.id not in set(removed_facilitator_ids)]
    current_p = [p for p in current_p if p.id not in set(removed_party_ids)]
    cancelled = change == "cancelled" or _value(meeting.status) == "cancelled"

    plan: list[tuple[_Recipient, str, str]] = []   # (recipient, METHOD, reason)
    for who in _facilitator_recipients(current_f) + _party_recipients(current_p):
        plan.append((who, "CANCEL" if cancelled else "REQUEST", "cancelled" if cancelled else change))
    for who in _facilitator_recipients(removed_f) + _party_recipients(removed_p):
        plan.append((who, "CANCEL", "removed"))

    nonce = secrets.token_hex(6)  # one meeting_changed call: one message per person
    queued = []
    for who, method, reason in plan:
        msg = _queue_invite(meeting, who, method=method, reason=reason, now=now, nonce=nonce)
        if msg is not None:
            queued.append(msg)
    if queued:
        record("invites_queued", meeting, actor=actor, case_id=meeting.case_id,
               detail={"change": change, "request": sum(m.ics_method == "REQUEST" for m in queued),
                       "cancel": sum(m.ics_method == "CANCEL" for m in queued)}, now=now)
    return queued


def _queue_invite(meeting, who: _Recipient, *, method: str, reason: str, now: datetime, nonce: str):
    cfg = _cfg()
    # A person taken off a meeting that goes on: their CANCEL must outrank the REQUEST they hold
    # even when the meeting's own sequence did not move (its time and place did not change).
    sequence = meeting.ical_sequence + 1 if reason == "removed" else meeting.ical_sequence
    ics = build_invite(meeting, method=method, attendee_email=who.email, service_name=cfg["SERVICE_NAME"],
                       organizer_email=cfg["SERVICE_MAILBOX"], sequence=sequence, now=now)
    title = meeting_title(meeting)
    links = {}
    if who.kind == "facilitator" and method == "REQUEST":
        links = {"accept_url": external_url("notifications.invite_response",
                                            token=response_token(meeting, who.facilitator, "accept")),
                 "decline_url": external_url("notifications.invite_response",
                                             token=response_token(meeting, who.facilitator, "decline"))}
    text, html = _render(
        "invite", meeting=meeting, title=title, location=meeting_location(meeting), method=method,
        reason=reason, when=_when(meeting), for_facilitator=who.kind == "facilitator", **links,
    )
    prefix = {"booked": "Invitation", "updated": "Updated", "cancelled": "Cancelled",
              "removed": "Cancelled"}[reason]
    return queue_email(
        recipient=who.email, subject=f"{prefix}: {title}", text=text, html=html, kind=f"invite_{method.lower()}",
        dedupe_key=f"invite:{meeting.id}:s{meeting.ical_sequence}:{method}:{who.kind}:{who.id}:{nonce}",
        ics=ics, ics_method=method, case_id=meeting.case_id, now=now,
    )


def _when(meeting) -> str:
    start = format_local(meeting.starts_at, "%A %-d %B %Y, %-I:%M%p")
    end = format_local(meeting.ends_at, "%-I:%M%p")
    return f"{start} to {end} (UK time)"


# ---------------------------------------------------------------- signed accept / decline links

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_cfg()["SECRET_KEY"], salt=RESPONSE_SALT)


def response_token(meeting, facilitator, answer: str) -> str:
    if answer not in ("accept", "decline"):
        raise ValueError("answer is accept or decline")
    return _serializer().dumps({"m": meeting.id, "f": facilitator.id, "s": meeting.ical_sequence, "a": answer})


@dataclass
class ResponseLink:
    meeting: object
    facilitator: object
    sequence: int
    answer: str


def read_response_token(token: str) -> ResponseLink | None:
    """The meeting, facilitator and answer a link stands for; None if forged, expired, or the
    facilitator is no longer on the meeting."""
    try:
        data = _serializer().loads(token, max_age=RESPONSE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    from rj.scheduling.models import Meeting

    meeting = db.session.get(Meeting, data.get("m"))
    if meeting is None:
        return None
    facilitator = next((mf.facilitator for mf in meeting.facilitators if mf.facilitator_id == data.get("f")), None)
    if facilitator is None or data.get("a") not in ("accept", "decline"):
        return None
    return ResponseLink(meeting, facilitator, int(data.get("s", 0)), data["a"])


def record_invite_response(link: ResponseLink, *, now: datetime | None = None) -> InviteResponse:
    """Record a facilitator's answer and, when the rostering domain has a pending offer for this
    meeting, accept or decline it through rj.rostering.services. Answering twice keeps the first
    answer for that version of the meeting (the link is single-purpose and idempotent)."""
    now = now or now_utc()
    answer = "accepted" if link.answer == "accept" else "declined"
    existing = db.session.scalar(select(InviteResponse).where(
        InviteResponse.meeting_id == link.meeting.id, InviteResponse.facilitator_id == link.facilitator.id,
        InviteResponse.sequence == link.sequence))
    if existing is not None:
        return existing
    response = InviteResponse(meeting_id=link.meeting.id, facilitator_id=link.facilitator.id, response=answer,
                              sequence=link.sequence, at=now)
    db.session.add(response)
    actor = getattr(link.facilitator, "user", None)
    record("invite_" + answer, link.meeting, actor=actor, case_id=link.meeting.case_id,
           detail={"facilitator_id": link.facilitator.id, "sequence": link.sequence}, now=now)
    _answer_offer(link, accept=link.answer == "accept", actor=actor, now=now)
    db.session.flush()
    return response


def _answer_offer(link: ResponseLink, *, accept: bool, actor, now) -> bool:
    try:
        from rj.rostering import services as rostering
        from rj.rostering.models import Offer
    except ImportError:
        return False
    fn = getattr(rostering, "accept_offer" if accept else "decline_offer", None)
    meeting_col = getattr(Offer, "meeting_id", None)
    if fn is None or meeting_col is None:
        return False
    offers = db.session.scalars(select(Offer).where(Offer.facilitator_id == link.facilitator.id,
                                                    meeting_col == link.meeting.id))
    offer = next((o for o in offers if _value(o.status) == "pending"), None)
    if offer is None:
        return False
    try:
        fn(offer, actor=actor, now=now)
    except DomainError:
        return False  # e.g. the offer expired meanwhile: the answer is still recorded above
    return True


# ---------------------------------------------------------------- other emails (CONTRACT)

def queue_account_invitation(user, token: str, *, now: datetime | None = None) -> OutboxMessage | None:
    """The set-password link for a new account or a reset."""
    link = external_url("auth.set_password", token=token)
    text, html = _render("account_invitation", user=user, link=link, hours=_cfg()["SET_PASSWORD_TOKEN_HOURS"])
    return queue_email(recipient=user.email, subject=f"Set your password for {_cfg()['SERVICE_NAME']}",
                       text=text, html=html, kind="account_invitation", now=now)


def queue_referral_acknowledgement(case, *, now: datetime | None = None) -> OutboxMessage | None:
    """Thanks the referrer with the case reference, and nothing about the people in it."""
    referral = getattr(case, "referral", None)
    address = getattr(referral, "referrer_email", None)
    if not address:
        return None
    text, html = _render("referral_acknowledgement", reference=case.reference)
    return queue_email(recipient=address, subject=f"Referral received: {case.reference}", text=text, html=html,
                       kind="referral_acknowledgement", dedupe_key=f"referral_ack:{case.id}", case_id=case.id,
                       now=now)


def queue_consent_link(party, token: str, *, now: datetime | None = None) -> OutboxMessage | None:
    """A party's own link to give or withdraw consent online."""
    if not getattr(party, "email", None):
        return None
    endpoint = _endpoint_with_token("consent", ("consent.consent_link", "consent.respond", "consent.link"))
    link = external_url(endpoint, token=token) if endpoint else _cfg()["BASE_URL"]
    reference = getattr(getattr(party, "case", None), "reference", "")
    text, html = _render("consent_link", link=link, reference=reference)
    return queue_email(recipient=party.email, subject=f"Your restorative justice case {reference}".strip(),
                       text=text, html=html, kind="consent_link", case_id=getattr(party, "case_id", None), now=now)


def queue_offer(offer, *, now: datetime | None = None) -> OutboxMessage | None:
    """Tell a facilitator they have been offered a meeting or case, and by when to answer."""
    facilitator = offer.facilitator
    meeting = getattr(offer, "meeting", None)
    case = getattr(offer, "case", None) or getattr(meeting, "case", None)
    link = (external_url("rostering.my_roster") if "rostering.my_roster" in current_app.view_functions
            else _cfg()["BASE_URL"])
    title = meeting_title(meeting) if meeting is not None else "Restorative justice case"
    if meeting is None and case is not None:
        title += f": {case.reference}"
    text, html = _render("offer", title=title, meeting=meeting, when=_when(meeting) if meeting else None,
                         expires=format_local(getattr(offer, "expires_at", None)), link=link)
    return queue_email(recipient=facilitator.user.email, subject=f"Offer: {title}", text=text, html=html,
                       kind="offer", dedupe_key=f"offer:{offer.id}", case_id=getattr(case, "id", None), now=now)


def coordinators() -> list:
    """Everyone who should hear about service-wide chasers: active coordinators, else managers."""
    users = list(db.session.scalars(select(User).where(User.role == Role.COORDINATOR, User.active.is_(True))))
    return users or list(db.session.scalars(select(User).where(User.role == Role.MANAGER, User.active.is_(True))))


# ---------------------------------------------------------------- calendar feeds and preference

def _feed_token_value(nonce: str) -> str:
    digest = hmac.new(_cfg()["SECRET_KEY"].encode(), FEED_SALT + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def feed_token_for(user, *, now: datetime | None = None) -> str:
    """The user's feed token, creating it the first time."""
    row = db.session.scalar(select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id))
    if row is None:
        nonce = secrets.token_urlsafe(32)
        token = _feed_token_value(nonce)
        db.session.add(CalendarFeedToken(user_id=user.id, nonce=nonce, token_hash=hash_token(token),
                                         created_at=now or now_utc()))
        db.session.flush()
        return token
    return _feed_token_value(row.nonce)


def reset_feed_token(user, *, actor, now: datetime | None = None) -> str:
    """A new subscription URL; the old one stops working at once."""
    now = now or now_utc()
    row = db.session.scalar(select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id))
    nonce = secrets.token_urlsafe(32)
    token = _feed_token_value(nonce)
    if row is None:
        row = CalendarFeedToken(user_id=user.id, created_at=now)
        db.session.add(row)
    row.nonce, row.token_hash, row.created_at, row.last_used_at = nonce, hash_token(token), now, None
    record("calendar_feed_reset", object_type="user_account", object_id=user.id, actor=actor, now=now)
    db.session.flush()
    return token


def user_for_feed_token(token: str):
    row = db.session.scalar(select(CalendarFeedToken).where(CalendarFeedToken.token_hash == hash_token(token)))
    if row is None or not row.user.active:
        return None
    return row.user


def set_delivery(user, delivery: Delivery, *, actor, now: datetime | None = None) -> None:
    """Feed or emailed invites: one or the other, or the calendar shows everything twice."""
    now = now or now_utc()
    pref = db.session.get(FeedPreference, user.id)
    if pref is None:
        pref = FeedPreference(user_id=user.id, delivery=delivery, updated_at=now)
        db.session.add(pref)
    elif pref.delivery is not delivery:
        pref.delivery, pref.updated_at = delivery, now
    record("calendar_delivery_set", object_type="user_account", object_id=user.id, actor=actor,
           fields=["delivery"], detail={"delivery": delivery.value}, now=now)
    db.session.flush()


def feed_meetings(user, *, now: datetime | None = None, days_back: int = 90) -> list:
    """The meetings a facilitator is on, from three months ago, cancelled ones included."""
    from datetime import timedelta

    from sqlalchemy.orm import selectinload

    from rj.scheduling.models import Meeting, MeetingFacilitator

    Facilitator = _facilitator_model()
    now = now or now_utc()
    stmt = (select(Meeting).join(MeetingFacilitator, MeetingFacilitator.meeting_id == Meeting.id)
            .join(Facilitator, Facilitator.id == MeetingFacilitator.facilitator_id)
            .where(Facilitator.user_id == user.id, Meeting.ends_at >= now - timedelta(days=days_back))
            .options(selectinload(Meeting.case), selectinload(Meeting.venue), selectinload(Meeting.room))
            .order_by(Meeting.starts_at, Meeting.id))
    return list(db.session.scalars(stmt).unique())


# ---------------------------------------------------------------- outbox page

def retry_message(message: OutboxMessage, *, actor, now: datetime | None = None) -> None:
    """A coordinator sends a failed message again: back to pending, attempts from zero."""
    if message.status is not OutboxStatus.FAILED:
        raise DomainError("Only a failed message can be sent again")
    now = now or now_utc()
    message.status, message.attempts, message.next_attempt_at, message.claimed_at = OutboxStatus.PENDING, 0, now, None
    record("outbox_retry", message, actor=actor, case_id=message.case_id, now=now)
    db.session.flush()


def outbox_counts() -> dict:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {_value(s): n for s, n in rows}
    return {"pending": counts.get("pending", 0) + counts.get("sending", 0), "failed": counts.get("failed", 0)}
