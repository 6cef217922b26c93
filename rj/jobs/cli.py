"""`flask --app rj worker`: the scheduler process. Never started inside web workers."""
from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run every job once now and exit (e.g. from cron)")
    @click.option("--job", "only", default=None, help="With --once: run just this job")
    def worker_command(once, only):
        """Run the periodic jobs (outbox, reminders, chasers) on their schedule."""
        from rj.jobs.runner import run_job
        from rj.jobs.schedule import JOBS

        if once:
            for job in JOBS:
                if only and job.name != only:
                    continue
                run = run_job(job)
                click.echo(f"{job.name}: " + ("skipped (another worker has it)" if run is None
                                               else f"{'ok' if run.ok else 'failed'} {run.counts or run.error}"))
            return
        scheduler = build_scheduler(app)
        click.echo(f"Worker running {len(JOBS)} jobs; mail backend: {app.config['MAIL_BACKEND']}. Ctrl-C stops it.")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass


def build_scheduler(app: Flask, scheduler_cls=None):
    """A BlockingScheduler holding every job in rj.jobs.schedule.JOBS, times in Europe/London."""
    from datetime import datetime

    from apscheduler.schedulers.blocking import BlockingScheduler

    from rj.core.time import LONDON
    from rj.jobs.runner import run_job
    from rj.jobs.schedule import JOBS

    scheduler = (scheduler_cls or BlockingScheduler)(timezone=LONDON)

    def make_runner(job):
        def run():
            with app.app_context():
                run_job(job)
        return run

    started = datetime.now(LONDON)
    for job in JOBS:
        # Interval jobs also run at start-up, so a restarted worker sends what waited at once.
        first = {"next_run_time": started} if job.trigger == "interval" else {}
        scheduler.add_job(make_runner(job), job.trigger, id=job.name, name=job.name, max_instances=1,
                          coalesce=True, misfire_grace_time=300, **first, **job.args)
    return scheduler
