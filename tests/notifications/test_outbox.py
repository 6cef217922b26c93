"""The outbox: written in the causing transaction, sent by the worker over real SMTP, with
retries, a lease for crashed workers, and a failed state coordinators can see and retry."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from rj.core.errors import DomainError
from rj.notifications import services
from rj.notifications.jobs import send_outbox
from rj.notifications.models import OutboxStatus
from tests.notifications.conftest import NOW, outbox


def queue(n=1, **kw):
    for i in range(n):
        services.queue_email(recipient=kw.get("recipient", f"person{i}@rj-test.org.uk"),
                             subject=kw.get("subject", "Restorative meeting: RJ-2026-7KQ4M"),
                             text="Hello", html="<p>Hello</p>", now=kw.get("now", NOW))


def test_queueing_only_adds_a_row_and_the_worker_delivers_it_over_smtp(db, smtp_server):
    queue()
    db.session.commit()
    assert smtp_server.inbox.messages == []          # nothing is sent inline
    [row] = outbox()
    assert row.status is OutboxStatus.PENDING and row.message_id.endswith("@stockport.example>")

    counts = send_outbox(NOW)

    assert counts["sent"] == 1
    [mail] = smtp_server.inbox.parsed()
    assert mail["Message-ID"] == row.message_id
    assert mail["To"] == "person0@rj-test.org.uk"
    assert mail["Subject"] == "Restorative meeting: RJ-2026-7KQ4M"
    db.session.refresh(row)
    assert row.status is OutboxStatus.SENT and row.sent_at is not None
    assert send_outbox(NOW + timedelta(minutes=5))["claimed"] == 0   # sent once


def test_a_rolled_back_change_sends_nothing(db, smtp_server):
    queue()
    db.session.rollback()
    assert outbox() == []
    assert send_outbox(NOW)["claimed"] == 0
    assert smtp_server.inbox.messages == []


def test_the_same_dedupe_key_is_queued_once(db):
    for _ in range(2):
        services.queue_email(recipient="a@rj-test.org.uk", subject="Reminder", text="x", dedupe_key="reminder:1:x")
    db.session.commit()
    assert services.queue_email(recipient="a@rj-test.org.uk", subject="Reminder", text="x",
                                dedupe_key="reminder:1:x") is None
    assert len(outbox()) == 1


@pytest.mark.config(OUTBOX_MAX_ATTEMPTS=5, OUTBOX_BACKOFF_SECONDS=60)
def test_mail_server_down_messages_wait_with_back_off_and_go_when_it_is_back(db, smtp_server):
    queue(3)
    db.session.commit()
    smtp_server.stop()

    first = send_outbox(NOW)
    assert first == {"claimed": 3, "sent": 0, "retry": 3, "failed": 0}
    rows = outbox()
    assert all(r.status is OutboxStatus.PENDING and r.attempts == 1 for r in rows)
    assert all(r.next_attempt_at == NOW + timedelta(minutes=1) for r in rows)
    assert all(r.last_error and "@" not in r.last_error for r in rows)
    assert send_outbox(NOW + timedelta(seconds=30))["claimed"] == 0     # not due yet

    send_outbox(NOW + timedelta(minutes=1))                               # second failure: back-off doubles
    assert all(r.next_attempt_at == NOW + timedelta(minutes=3) for r in outbox())

    smtp_server.start()
    counts = send_outbox(NOW + timedelta(minutes=3))
    assert counts["sent"] == 3
    assert len(smtp_server.inbox.messages) == 3                           # nothing lost, nothing twice
    assert {m["To"] for m in smtp_server.inbox.parsed()} == {f"person{i}@rj-test.org.uk" for i in range(3)}


@pytest.mark.config(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_SECONDS=60)
def test_a_message_that_keeps_failing_is_marked_failed_shown_to_coordinators_and_can_be_retried(
        db, smtp_server, as_role, client):
    queue()
    db.session.commit()
    smtp_server.stop()
    t = NOW
    for _ in range(3):
        send_outbox(t)
        t += timedelta(hours=1)
    [row] = outbox()
    assert row.status is OutboxStatus.FAILED and row.attempts == 3
    assert send_outbox(t)["claimed"] == 0                                 # failed rows are left alone

    health = client.get("/health").get_json()
    assert health["outbox_failed"] == 1 and health["outbox_pending"] == 0

    c, _ = as_role("coordinator")
    page = c.get("/outbox").get_data(as_text=True)
    assert "person0@rj-test.org.uk" in page and "Send again" in page
    assert c.post(f"/outbox/{row.id}/retry").status_code == 302
    db.session.refresh(row)
    assert row.status is OutboxStatus.PENDING and row.attempts == 0

    smtp_server.start()
    assert send_outbox()["sent"] == 1                                     # retried now


class Crash(BaseException):
    """The worker process dying (not an Exception: nothing catches it)."""


@pytest.mark.config(OUTBOX_LEASE_MINUTES=10)
def test_a_worker_killed_between_claiming_and_sending_leaves_messages_that_go_once_after_the_lease(
        db, smtp_server):
    queue(2)
    db.session.commit()

    def die(ids):
        raise Crash()

    with pytest.raises(Crash):
        send_outbox(NOW, after_claim=die)
    db.session.rollback()
    assert all(r.status is OutboxStatus.SENDING for r in outbox())
    assert send_outbox(NOW + timedelta(minutes=5))["claimed"] == 0        # another worker leaves them: lease held

    counts = send_outbox(NOW + timedelta(minutes=11))                     # lease over: retried
    assert counts["sent"] == 2
    assert send_outbox(NOW + timedelta(minutes=30))["claimed"] == 0
    assert len(smtp_server.inbox.messages) == 2


@pytest.mark.config(OUTBOX_LEASE_MINUTES=10)
def test_a_worker_killed_after_sending_but_before_marking_sends_it_at_most_once_more_with_the_same_message_id(
        app, db, smtp_server):
    from rj.notifications.email import SMTPTransport

    queue(1)
    db.session.commit()

    class DiesAfterSend(SMTPTransport):
        def send(self, mail):
            super().send(mail)
            raise Crash()

    with pytest.raises(Crash):
        send_outbox(NOW, transport=DiesAfterSend(app.config))
    db.session.rollback()
    send_outbox(NOW + timedelta(minutes=11))
    send_outbox(NOW + timedelta(minutes=40))
    mails = smtp_server.inbox.parsed()
    assert len(mails) == 2                                                 # once more, never dropped
    assert mails[0]["Message-ID"] == mails[1]["Message-ID"]               # so clients can drop the copy


def test_two_workers_sending_at_once_deliver_each_message_once(app, db, smtp_server):
    queue(20)
    db.session.commit()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with app.app_context():
            barrier.wait()
            results.append(send_outbox(NOW, limit=20))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(r["sent"] for r in results) == 20
    assert len(smtp_server.inbox.messages) == 20
    assert len({m["Message-ID"] for m in smtp_server.inbox.parsed()}) == 20


def test_header_injection_through_a_subject_or_address_is_impossible(db, smtp_server):
    services.queue_email(recipient="a@rj-test.org.uk", subject="Hello\r\nBcc: x@rj-test.org.uk", text="x")
    with pytest.raises(DomainError):
        services.queue_email(recipient="a@rj-test.org.uk\r\nBcc: x@rj-test.org.uk", subject="Hi", text="x")
    db.session.commit()
    send_outbox()
    [(sender, rcpts, raw)] = smtp_server.inbox.messages
    assert rcpts == ["a@rj-test.org.uk"]
    [mail] = smtp_server.inbox.parsed()
    assert mail["Bcc"] is None and mail["Subject"] == "Hello Bcc: x@rj-test.org.uk"


def test_console_backend_prints_instead_of_sending(db, capsys):
    queue()
    db.session.commit()
    assert send_outbox(NOW)["sent"] == 1
    assert "Subject: Restorative meeting: RJ-2026-7KQ4M" in capsys.readouterr().out


def test_account_invitation_and_referral_acknowledgement_say_nothing_personal(db, make_user):
    from tests.factories import make_case

    user = make_user("facilitator", name="Sam Facilitator")
    services.queue_account_invitation(user, "tok-123")
    case = make_case()
    assert services.queue_referral_acknowledgement(case) is None          # no referral: nobody to tell
    [msg] = outbox()
    assert "http://localhost/set-password/tok-123" in msg.text_body or "tok-123" in msg.text_body
    assert "Sam" not in msg.subject
