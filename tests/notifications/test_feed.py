"""Personal calendar feeds, the facilitator's calendar page, and the outbox page's permissions."""
from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from rj.core.time import now_utc
from rj.notifications import services
from rj.notifications.models import Delivery, FeedPreference
from tests.notifications.conftest import NOW


def feed_path(user):
    token = services.feed_token_for(user)
    return f"/feeds/{token}.ics"


def test_a_feed_serves_only_the_facilitators_own_meetings_with_cancelled_ones_marked(
        db, client, make_facilitator, make_meeting):
    from rj.scheduling.models import MeetingStatus

    me, other = make_facilitator(), make_facilitator()
    soon = now_utc() + timedelta(days=5)
    mine = make_meeting(facilitators=[me], starts_at=soon)
    cancelled = make_meeting(facilitators=[me, other], starts_at=soon + timedelta(days=1))
    cancelled.status = MeetingStatus.CANCELLED
    cancelled.ical_sequence = 1
    theirs = make_meeting(facilitators=[other], starts_at=soon + timedelta(days=2))
    path = feed_path(me.user)
    db.session.commit()

    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "private" in response.headers["Cache-Control"] and "max-age" in response.headers["Cache-Control"]
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    cal = Calendar.from_ical(response.data)
    assert "METHOD" not in cal                       # a subscription, not a scheduling message
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {mine.ical_uid, cancelled.ical_uid}
    assert theirs.ical_uid not in events
    assert str(events[cancelled.ical_uid]["STATUS"]) == "CANCELLED"
    assert str(events[mine.ical_uid]["STATUS"]) == "CONFIRMED"
    assert "ATTENDEE" not in response.get_data(as_text=True)


def test_an_unchanged_feed_answers_304_so_calendar_apps_poll_cheaply(db, client, make_facilitator, make_meeting):
    me = make_facilitator()
    meeting = make_meeting(facilitators=[me], starts_at=now_utc() + timedelta(days=5))
    path = feed_path(me.user)
    db.session.commit()
    first = client.get(path)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    meeting.starts_at += timedelta(hours=1)
    meeting.ends_at += timedelta(hours=1)
    meeting.ical_sequence += 1
    db.session.commit()
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_resetting_the_feed_address_revokes_the_old_one(db, client, make_facilitator):
    me = make_facilitator()
    old = feed_path(me.user)
    db.session.commit()
    assert client.get(old).status_code == 200
    new = services.reset_feed_token(me.user, actor=me.user)
    db.session.commit()
    assert client.get(old).status_code == 404
    assert client.get(f"/feeds/{new}.ics").status_code == 200
    assert client.get("/feeds/not-a-real-token.ics").status_code == 404


def test_the_feed_token_is_not_stored_in_the_clear(db, make_facilitator):
    from rj.notifications.models import CalendarFeedToken

    me = make_facilitator()
    token = services.feed_token_for(me.user)
    row = db.session.query(CalendarFeedToken).one()
    assert token not in (row.nonce, row.token_hash)
    assert services.feed_token_for(me.user) == token           # the page can show it again


def test_my_calendar_page_shows_the_address_how_to_subscribe_and_the_choice(db, login, client, make_facilitator):
    me = make_facilitator()
    login(me.user)
    page = client.get("/me/calendar")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for words in ("Outlook", "Google Calendar", "Apple Calendar", "every few hours", "/feeds/", "webcal://",
                  "shows twice"):
        assert words in html

    assert client.post("/me/calendar/delivery", data={"delivery": "feed"}).status_code == 302
    assert db.session.get(FeedPreference, me.user.id).delivery is Delivery.FEED
    assert client.post("/me/calendar/delivery", data={"delivery": "nonsense"}).status_code == 400

    before = services.feed_token_for(me.user)
    assert client.post("/me/calendar/reset").status_code == 302
    db.session.expire_all()
    assert services.feed_token_for(me.user) != before


def test_calendar_and_outbox_pages_are_denied_to_the_wrong_roles(client, as_role):
    assert client.get("/me/calendar").status_code == 302                  # anonymous: to sign in
    assert client.get("/outbox").status_code == 302
    c, _ = as_role("coordinator")
    assert c.get("/me/calendar").status_code == 403
    assert c.get("/outbox").status_code == 200


def test_facilitators_and_admins_cannot_see_or_retry_the_outbox(as_role, client):
    c, _ = as_role("facilitator")
    assert c.get("/outbox").status_code == 403
    assert c.post("/outbox/1/retry").status_code == 403


def test_admin_cannot_see_the_outbox(as_role):
    c, _ = as_role("admin")
    assert c.get("/outbox").status_code == 403


def test_retrying_a_message_that_does_not_exist_is_404(as_role):
    c, _ = as_role("manager")
    assert c.post("/outbox/9999/retry").status_code == 404


def test_health_reports_the_worker_and_the_outbox_backlog(db, client):
    services.queue_email(recipient="a@rj-test.org.uk", subject="x", text="x", now=NOW)
    db.session.commit()
    body = client.get("/health").get_json()
    assert body["outbox_pending"] == 1 and body["outbox_failed"] == 0
    assert "worker_last_run" in body
