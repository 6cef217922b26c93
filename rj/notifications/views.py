"""Calendar feeds, the facilitator's calendar page, signed invite answers, and the outbox page."""
from __future__ import annotations

import hashlib
from email.utils import format_datetime

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from rj.core.permissions import Perm, public, require
from rj.core.time import now_utc
from rj.extensions import db
from rj.notifications import services
from rj.notifications.forms import ConfirmForm, DeliveryForm
from rj.notifications.ical import build_feed
from rj.notifications.models import Delivery, OutboxMessage, OutboxStatus

bp = Blueprint("notifications", __name__)

FEED_CACHE_SECONDS = 900


def health() -> dict:
    """Added to /health: the worker's last run and the outbox backlog (counts only)."""
    try:
        from rj.jobs.runner import last_run_at

        last = last_run_at()
        counts = services.outbox_counts()
    except Exception:  # noqa: BLE001 - health reports, never raises
        db.session.rollback()
        return {"worker_last_run": None, "outbox_pending": None, "outbox_failed": None}
    return {"worker_last_run": last.isoformat() if last else None,
            "outbox_pending": counts["pending"], "outbox_failed": counts["failed"]}


@bp.record_once
def _register_health(state):
    state.app.extensions.setdefault("rj_health", []).append(health)


@bp.get("/feeds/<token>.ics")
@public
def feed(token: str):
    """A facilitator's subscription feed. The token is the credential; a reset revokes it."""
    user = services.user_for_feed_token(token)
    if user is None:
        abort(404)
    body = build_feed(services.feed_meetings(user), name=f"{current_app.config['SERVICE_NAME']} meetings",
                      service_name=current_app.config["SERVICE_NAME"],
                      organizer_email=current_app.config["SERVICE_MAILBOX"])
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="meetings.ics"'
    response.set_etag(etag)
    # Private: a shared cache must not keep one person's meetings.
    response.headers["Cache-Control"] = f"private, max-age={FEED_CACHE_SECONDS}"
    last_modified = _last_modified(body)
    if last_modified:
        response.headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    return response.make_conditional(request)


def _last_modified(body: str):
    """The newest DTSTAMP in the feed (each is its meeting's last change)."""
    from datetime import datetime, timezone

    stamps = [line[8:] for line in body.splitlines() if line.startswith("DTSTAMP:")]
    if not stamps:
        return None
    return max(datetime.strptime(s.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) for s in stamps)


@bp.get("/me/calendar")
@require(Perm.ROSTER_OWN)
def my_calendar():
    token = services.feed_token_for(current_user)
    db.session.commit()
    form = DeliveryForm(data={"delivery": services.delivery_for(current_user.id).value})
    feed_url = services.external_url("notifications.feed", token=token)
    webcal_url = "webcal://" + feed_url.split("://", 1)[1]
    return render_template("notifications/my_calendar.html", feed_url=feed_url, webcal_url=webcal_url,
                           form=form, reset_form=ConfirmForm())


@bp.post("/me/calendar/reset")
@require(Perm.ROSTER_OWN)
def reset_feed():
    ConfirmForm().validate_on_submit() or abort(400)
    services.reset_feed_token(current_user, actor=current_user)
    db.session.commit()
    flash("Your calendar address has been changed. The old one no longer works: subscribe again with the new one.",
          "success")
    return redirect(url_for("notifications.my_calendar"))


@bp.post("/me/calendar/delivery")
@require(Perm.ROSTER_OWN)
def set_delivery():
    form = DeliveryForm()
    if not form.validate_on_submit():
        token = services.feed_token_for(current_user)
        feed_url = services.external_url("notifications.feed", token=token)
        return render_template("notifications/my_calendar.html", feed_url=feed_url,
                               webcal_url="webcal://" + feed_url.split("://", 1)[1], form=form,
                               reset_form=ConfirmForm()), 400
    services.set_delivery(current_user, Delivery(form.delivery.data), actor=current_user)
    db.session.commit()
    flash("Saved: " + Delivery(form.delivery.data).label.lower() + ".", "success")
    return redirect(url_for("notifications.my_calendar"))


@bp.route("/invites/<token>", methods=["GET", "POST"])
@public
def invite_response(token: str):
    """The Accept / Decline link in an invite email. GET only shows a button: mail scanners
    open links, so only a deliberate POST records the answer."""
    link = services.read_response_token(token)
    if link is None:
        return render_template("notifications/invite_link_invalid.html"), 404
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if link.meeting.starts_at <= now_utc():
            return render_template("notifications/invite_link_invalid.html"), 410
        services.record_invite_response(link)
        db.session.commit()
        return render_template("notifications/invite_answered.html", link=link)
    return render_template("notifications/invite_response.html", link=link, form=form,
                           title=services.meeting_title(link.meeting), when=services._when(link.meeting),
                           location=services.meeting_location(link.meeting))


@bp.get("/outbox")
@require(Perm.OUTBOX_VIEW)
def outbox():
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
                                .order_by(OutboxMessage.created_at.desc()).limit(200)).all()
    return render_template("notifications/outbox.html", failed=failed, counts=services.outbox_counts(),
                           form=ConfirmForm())


@bp.post("/outbox/<int:message_id>/retry")
@require(Perm.OUTBOX_VIEW)
def outbox_retry(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        services.retry_message(message, actor=current_user)
    except services.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("notifications.outbox"))
    db.session.commit()
    flash("The message will be sent again within a minute.", "success")
    return redirect(url_for("notifications.outbox"))
