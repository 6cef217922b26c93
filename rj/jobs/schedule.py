"""The one table of periodic jobs. The worker (`flask --app rj worker`) runs exactly these.

Triggers are in Europe/London. Daily jobs run outside 01:00-02:59 local time: on the last
Sundays of March and October that hour is skipped or repeated, and a job there would run
zero or two times (tests/jobs pins this).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Job:
    name: str
    func: str                        # "module:function", taking now= and returning a dict of counts
    trigger: str                     # "interval" | "cron" (APScheduler trigger names)
    args: dict = field(default_factory=dict)

    @property
    def min_gap(self) -> timedelta:
        """Two runs closer than this are the same tick (a second worker started by mistake skips)."""
        if self.trigger == "interval":
            every = timedelta(**self.args)
            return every / 2
        return timedelta(hours=1)


JOBS: list[Job] = [
    Job("send_outbox", "rj.notifications.jobs:send_outbox", "interval", {"seconds": 30}),
    Job("meeting_reminders", "rj.notifications.jobs:meeting_reminders", "interval", {"minutes": 5}),
    Job("release_expired_offers", "rj.notifications.jobs:release_expired_offers", "interval", {"minutes": 15}),
    Job("expiring_training", "rj.notifications.jobs:expiring_training", "cron", {"hour": 7, "minute": 30}),
    Job("triage_and_victims_code", "rj.notifications.jobs:triage_and_victims_code", "cron",
        {"day_of_week": "mon-fri", "hour": 8, "minute": 0}),
    Job("overdue_agreement_actions", "rj.notifications.jobs:overdue_agreement_actions", "cron",
        {"hour": 8, "minute": 15}),
    Job("purge_expired_links", "rj.jobs.housekeeping:purge_expired_links", "cron", {"hour": 4, "minute": 10}),
]


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)
