"""Rule 5 under load: many coordinators booking the same facilitator and room at the same moment.
Exactly one booking wins; every other gets a clear message, never an error page."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time as _time
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta
from pathlib import Path

import pytest

from rj.core.errors import DomainError
from rj.core.time import from_local, is_working_day, now_utc, to_local
from rj.scheduling import services
from rj.scheduling.models import Meeting, MeetingKind, MeetingMode
from tests.factories import make_case

ROOT = Path(__file__).resolve().parents[2]
N = 20

pytestmark = pytest.mark.slow


def _next_working_day():
    day = to_local(now_utc()).date() + timedelta(days=7)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def race(db, make_facilitator, make_party, room, coordinator):
    """N cases, each with a consenting party, all wanting the same facilitator and room at overlapping times."""
    lead = make_facilitator("Sam Facilitator", now=now_utc())
    cases, parties = [], []
    for i in range(N):
        case = make_case(commit=False)
        cases.append(case)
        parties.append(make_party(case, f"Party {i}"))
    db.session.commit()
    day = _next_working_day()
    return {"lead_id": lead.id, "room_id": room.id, "day": day,
            "case_ids": [c.id for c in cases], "party_ids": [p.id for p in parties]}


def test_threads_booking_at_once_book_exactly_one(app, db, race, coordinator):
    """The service under real concurrent transactions (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks)."""
    from rj.cases.models import Case
    from rj.consent.models import Party
    from rj.facilitators.models import Facilitator
    from rj.scheduling.models import Room

    barrier = threading.Barrier(N, timeout=60)
    outcomes: list[str] = []

    def attempt(i: int):
        barrier.wait()   # all start together; each then holds one pooled connection while it books
        with app.app_context():
            case = db.session.get(Case, race["case_ids"][i])
            party = db.session.get(Party, race["party_ids"][i])
            lead = db.session.get(Facilitator, race["lead_id"])
            room = db.session.get(Room, race["room_id"])
            start = from_local(race["day"], time(18, i % 30))
            try:
                services.run_booking(lambda: services.book_meeting(
                    case, kind=MeetingKind.PREPARATION, starts_at=start, ends_at=start + timedelta(minutes=90),
                    mode=MeetingMode.IN_PERSON, room=room, parties=[party], lead=lead, actor=None))
                outcomes.append("booked")
            except DomainError as exc:
                outcomes.append(exc.message)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(N) as pool:
        list(pool.map(attempt, range(N)))
    assert outcomes.count("booked") == 1, outcomes
    assert all("already booked" in o for o in outcomes if o != "booked"), outcomes
    db.session.expire_all()
    assert db.session.query(Meeting).count() == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app, tmp_path):
    """gunicorn with 4 worker processes on the test database, on a free local port."""
    port = _free_port()
    env = dict(os.environ, RJ_RACE_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], PYTHONPATH=str(ROOT))
    log = open(tmp_path / "gunicorn.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "--timeout", "60",
         "tests.scheduling.concurrency_wsgi:app"],
        cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    import requests

    base = f"http://127.0.0.1:{port}"
    try:
        deadline = _time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/sign-in", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if _time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
            _time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_concurrent_http_bookings_on_a_multi_worker_server_book_exactly_one(db, race, server, make_user):
    """~20 coordinators press "Book meeting" at once through real HTTP to 4 gunicorn workers."""
    import requests

    coordinators = [make_user("coordinator") for _ in range(4)]
    sessions = []
    for i in range(N):
        s = requests.Session()
        r = s.post(server + "/sign-in", data={"email": coordinators[i % 4].email, "password": "correct horse battery"},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 302, r.text[:300]
        sessions.append(s)
    day = race["day"]
    barrier = threading.Barrier(N, timeout=60)

    def post(i: int):
        data = {"kind": "preparation", "day": [str(day.day), str(day.month), str(day.year)],
                "start": f"18:{i % 30:02d}", "duration": "90", "mode": "in_person", "room_id": str(race["room_id"]),
                "party_ids": [str(race["party_ids"][i])], "lead_id": str(race["lead_id"]), "co_id": ""}
        barrier.wait()
        r = sessions[i].post(f"{server}/cases/{race['case_ids'][i]}/meetings/new", data=data,
                             allow_redirects=False, timeout=60)
        return r.status_code, r.text

    with ThreadPoolExecutor(N) as pool:
        results = list(pool.map(post, range(N)))
    for s in sessions:
        s.close()
    codes = [c for c, _ in results]
    assert codes.count(302) == 1, [(c, t[:200]) for c, t in results if c != 400]
    assert codes.count(400) == N - 1, codes
    assert all("Sam Facilitator is already booked" in t for c, t in results if c == 400)
    db.session.expire_all()
    assert db.session.query(Meeting).count() == 1
