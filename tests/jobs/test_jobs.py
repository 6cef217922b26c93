"""The one schedule table and the runner: each run recorded, one run per tick even with two
workers, daily jobs clear of the clock-change hours."""
from __future__ import annotations

import threading
import time as _time
from datetime import datetime, time, timedelta

import pytest

from rj.core.time import LONDON, UTC
from rj.jobs import runner
from rj.jobs.models import JobLock, JobRun
from rj.jobs.schedule import JOBS, Job

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
CALLS = []


def counting_job(now):
    CALLS.append(now)
    return {"done": 1}


def slow_job(now):
    CALLS.append(now)
    _time.sleep(0.5)
    return {"done": 1}


def failing_job(now):
    raise RuntimeError("Jordan's address is wrong")   # a message with personal data must not be stored


COUNTING = Job("test_counting", "tests.jobs.test_jobs:counting_job", "interval", {"minutes": 5})
SLOW = Job("test_slow", "tests.jobs.test_jobs:slow_job", "interval", {"minutes": 5})
FAILING = Job("test_failing", "tests.jobs.test_jobs:failing_job", "interval", {"minutes": 5})


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def test_every_job_in_the_table_points_at_a_real_function_and_names_are_unique():
    assert len({j.name for j in JOBS}) == len(JOBS)
    for job in JOBS:
        assert callable(runner.resolve(job.func))
        assert job.trigger in ("interval", "cron")


def test_daily_jobs_run_outside_the_clock_change_hours(app):
    """01:00-02:59 local is skipped in March and repeated in October: a job there runs 0 or 2 times."""
    from apscheduler.triggers.cron import CronTrigger

    for job in JOBS:
        if job.trigger != "cron":
            continue
        trigger = CronTrigger(timezone=LONDON, **job.args)
        # fire times across both 2026 and 2027 clock changes
        for start in (datetime(2026, 3, 27, tzinfo=LONDON), datetime(2026, 10, 23, tzinfo=LONDON),
                      datetime(2027, 3, 26, tzinfo=LONDON), datetime(2027, 10, 29, tzinfo=LONDON)):
            fire, previous = start, None
            for _ in range(6):
                fire = trigger.get_next_fire_time(previous, fire)
                local = fire.astimezone(LONDON).time()
                assert not (time(1, 0) <= local < time(3, 0)), (job.name, fire)
                previous = fire
                fire = fire + timedelta(minutes=1)


def test_the_scheduler_holds_every_job_in_london_time(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from rj.jobs.cli import build_scheduler

    scheduler = build_scheduler(app, scheduler_cls=BackgroundScheduler)
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(j.name for j in JOBS)
    assert str(scheduler.timezone) == "Europe/London"


def test_a_run_is_recorded_with_its_counts(db):
    run = runner.run_job(COUNTING, now=NOW)
    assert run.ok and run.counts == {"done": 1} and run.finished_at is not None
    assert db.session.query(JobRun).count() == 1


def test_a_failing_job_is_recorded_without_its_message(db):
    run = runner.run_job(FAILING, now=NOW)
    assert run.ok is False and run.error == "RuntimeError"
    assert runner.run_job(FAILING, now=NOW + timedelta(minutes=5)) is not None   # next tick tries again


def test_a_second_run_in_the_same_tick_is_skipped(db):
    assert runner.run_job(COUNTING, now=NOW) is not None
    assert runner.run_job(COUNTING, now=NOW + timedelta(seconds=20)) is None
    assert runner.run_job(COUNTING, now=NOW + timedelta(minutes=5)) is not None
    assert len(CALLS) == 2


def test_two_workers_at_the_same_tick_run_the_job_once(app, db):
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with app.app_context():
            barrier.wait()
            run = runner.run_job(SLOW, now=NOW)
            results.append(None if run is None else run.id)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(CALLS) == 1
    assert sorted(results, key=lambda r: r is None) [1] is None
    assert db.session.query(JobRun).filter_by(name="test_slow").count() == 1


def test_the_lock_is_held_while_a_job_runs(app, db):
    with runner.job_lock("test_counting", now=NOW) as got:
        assert got
        with runner.job_lock("test_counting", now=NOW, holder="another-worker") as other:
            assert not other
    with runner.job_lock("test_counting", now=NOW) as again:
        assert again


def test_a_crashed_workers_sqlite_lease_expires(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL advisory locks end with the dead worker's connection")
    db.session.add(JobLock(name="test_counting", holder="dead:1", expires_at=NOW + timedelta(minutes=1)))
    db.session.commit()
    assert runner.run_job(COUNTING, now=NOW) is None
    assert runner.run_job(COUNTING, now=NOW + timedelta(minutes=2)) is not None


def test_worker_once_runs_every_job_from_the_command_line(app, db):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    for job in JOBS:
        assert job.name in result.output
    body = app.test_client().get("/health").get_json()
    assert body["worker_last_run"] is not None
