"""Reminder and chaser sweepers: each reminder once, however often the job runs; each tolerates
another domain being absent."""
from __future__ import annotations

import sys
import types
from datetime import date, timedelta

import pytest

from rj.notifications import jobs
from tests.factories import make_case
from tests.notifications.conftest import NOW, outbox


def test_meeting_reminders_go_two_days_and_two_hours_before_once_each(db, make_facilitator, make_meeting):
    f1, f2 = make_facilitator(), make_facilitator()
    start = NOW + timedelta(days=5)
    make_meeting(facilitators=[f1, f2], starts_at=start)

    assert jobs.meeting_reminders(NOW)["queued"] == 0                          # too early
    assert jobs.meeting_reminders(start - timedelta(days=2))["queued"] == 2
    assert jobs.meeting_reminders(start - timedelta(days=2) + timedelta(minutes=5))["queued"] == 0   # twice: once
    assert jobs.meeting_reminders(start - timedelta(hours=3))["queued"] == 0
    assert jobs.meeting_reminders(start - timedelta(hours=2))["queued"] == 2
    assert jobs.meeting_reminders(start - timedelta(hours=1))["queued"] == 0
    reminders = outbox(kind="reminder")
    assert len(reminders) == 4 and all(m.subject.startswith("Reminder: Restorative meeting") for m in reminders)


def test_a_meeting_booked_at_short_notice_does_not_get_a_stale_two_day_reminder(db, make_facilitator, make_meeting):
    f = make_facilitator()
    start = NOW + timedelta(hours=20)
    make_meeting(facilitators=[f], starts_at=start)
    assert jobs.meeting_reminders(NOW)["queued"] == 0
    assert jobs.meeting_reminders(start - timedelta(hours=2))["queued"] == 1


def test_a_moved_meeting_is_reminded_again_for_its_new_time_and_a_cancelled_one_not_at_all(
        db, make_facilitator, make_meeting):
    from rj.scheduling.models import MeetingStatus

    f = make_facilitator()
    start = NOW + timedelta(days=3)
    meeting = make_meeting(facilitators=[f], starts_at=start)
    jobs.meeting_reminders(start - timedelta(days=2))
    meeting.starts_at += timedelta(days=1)
    meeting.ends_at += timedelta(days=1)
    db.session.commit()
    assert jobs.meeting_reminders(meeting.starts_at - timedelta(days=2))["queued"] == 1
    meeting.status = MeetingStatus.CANCELLED
    db.session.commit()
    assert jobs.meeting_reminders(meeting.starts_at - timedelta(hours=2))["queued"] == 0


@pytest.mark.config(REMINDER_OFFSETS_MINUTES=[60 * 24])
def test_reminder_offsets_come_from_configuration(db, make_facilitator, make_meeting):
    f = make_facilitator()
    start = NOW + timedelta(days=3)
    make_meeting(facilitators=[f], starts_at=start)
    assert jobs.meeting_reminders(start - timedelta(days=2))["queued"] == 0
    assert jobs.meeting_reminders(start - timedelta(days=1))["queued"] == 1


def test_triage_chaser_tells_each_coordinator_once_a_day_with_references_only(db, coordinator, make_user):
    from rj.cases.models import CaseStatus

    second = make_user("coordinator")
    case = make_case(status=CaseStatus.REFERRED)
    counts = jobs.triage_and_victims_code(NOW)
    assert counts["waiting"] == 1 and counts["queued"] == 2
    assert jobs.triage_and_victims_code(NOW + timedelta(hours=1))["queued"] == 0
    messages = outbox(kind="triage_digest")
    assert {m.recipient for m in messages} == {coordinator.email, second.email}
    assert case.reference in messages[0].text_body


def test_expiring_training_tells_the_facilitator_at_60_30_and_7_days_and_coordinators_daily(
        db, coordinator, make_facilitator):
    from rj.facilitators import services as fs
    from rj.facilitators.models import CourseCategory, DbsLevel

    f = make_facilitator()
    today = date(2026, 3, 16)  # NOW's date in Stockport
    course = fs.add_course(name="Safeguarding adults and children", provider="Stockport",
                           category=CourseCategory.SAFEGUARDING, levels=[], validity_months=36,
                           actor=coordinator, now=NOW)
    fs.add_training_record(f, course=course, completed_on=today - timedelta(days=300),
                           expires_on=today + timedelta(days=45), actor=coordinator, now=NOW)
    fs.add_dbs_check(f, level=DbsLevel.ENHANCED, certificate_number="001234567890",
                     issued_on=today - timedelta(days=400), update_service=False, actor=coordinator, now=NOW)
    db.session.commit()

    first = jobs.expiring_training(NOW)
    assert first["queued"] == 2                                         # the facilitator, and the coordinator
    assert jobs.expiring_training(NOW + timedelta(hours=2))["queued"] == 0
    to_facilitator = outbox(kind="expiring")
    assert len(to_facilitator) == 1 and "Safeguarding" in to_facilitator[0].text_body
    assert to_facilitator[0].recipient == f.user.email
    assert "Safeguarding" not in to_facilitator[0].subject

    jobs.expiring_training(NOW + timedelta(days=16))                    # now 29 days left: crossed 30
    assert len(outbox(kind="expiring")) == 2
    jobs.expiring_training(NOW + timedelta(days=17))                    # same threshold: not told again
    assert len(outbox(kind="expiring")) == 2
    assert len(outbox(kind="expiring_digest")) == 3                     # one summary a day


def test_victims_code_deadlines_due_soon_are_in_the_coordinators_morning_summary(db, coordinator):
    from rj.consent import services as consent
    from rj.consent.models import PartyRole

    case = make_case(referred_at=NOW - timedelta(days=1))
    consent.add_party(case, role=PartyRole.PARTY, name="Jordan Example", victims_code=True, actor=coordinator,
                      now=NOW - timedelta(days=1))
    db.session.commit()
    counts = jobs.triage_and_victims_code(NOW)
    assert counts["clocks"] >= 1 and counts["queued"] == 1
    [message] = outbox(kind="triage_digest")
    assert "Victims' Code deadline" in message.text_body and case.reference in message.text_body
    assert "Jordan" not in message.text_body


def test_each_sweeper_tolerates_the_other_domain_being_absent(db, monkeypatch):
    for name in ("rj.rostering.services", "rj.agreements.services"):
        monkeypatch.setitem(sys.modules, name, None)                   # import raises ImportError
    assert jobs.release_expired_offers(NOW) == {"skipped": 1}
    assert jobs.overdue_agreement_actions(NOW) == {"skipped": 1}
    monkeypatch.setitem(sys.modules, "rj.consent.services", None)
    assert jobs.triage_and_victims_code(NOW)["clocks"] == 0


def test_overdue_agreement_actions_are_summarised_for_coordinators(db, coordinator, monkeypatch):
    case = make_case()
    fake = types.ModuleType("rj.agreements.services")
    agreement = types.SimpleNamespace(case=case)
    fake.overdue_items = lambda now: [types.SimpleNamespace(agreement=agreement, id=1),
                                      types.SimpleNamespace(agreement=agreement, id=2)]
    monkeypatch.setitem(sys.modules, "rj.agreements.services", fake)
    assert jobs.overdue_agreement_actions(NOW) == {"overdue": 2, "queued": 1}
    [m] = outbox(kind="overdue_digest")
    assert "2 agreed action(s) are overdue: " + case.reference in m.text_body
