"""Benchmark the dashboards and reports against the demo data's large option.

    .venv/bin/python -m bench.pages_bench [--cases 10000] [--repeat 20] [--database-url URL] [--migrations]

Builds a fresh database (an SQLite file in a temporary directory by default; a PostgreSQL URL
must point at an empty database, or pass --reset to drop every table in it first), creates the
schema (create_all, or the Alembic migrations with --migrations), loads seed_demo(cases=N) timing
each domain's seeder, then requests each page through the test client signed in as the right role
and prints each page's median and 95th-percentile time and its query count.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

PAGES = [
    ("coordinator", "/home"),
    ("manager", "/home"),
    ("facilitator", "/me/home"),
    ("manager", "/reports"),
    ("manager", "/reports/quarterly"),
    ("manager", "/reports/quarterly.csv"),
    *[("manager", f"/reports/{name}.csv") for name in (
        "referrals-by-month", "referrals-by-source", "referrals-by-category", "cases-by-level", "conversion",
        "time-to-contact", "consent", "agreements", "satisfaction", "victims-code", "facilitator-activity",
        "training-compliance")],
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def build_app(url: str):
    from rj import create_app

    return create_app({
        "ENV_NAME": "test", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False, "SERVER_NAME": "localhost",
        "BASE_URL": "http://localhost",
    })


def create_schema(app, *, migrations: bool, reset: bool) -> None:
    from rj.extensions import db

    with app.app_context():
        if reset:
            db.drop_all()
        if migrations:
            from flask_migrate import upgrade

            upgrade()
        else:
            db.create_all()


def seed(app, cases: int) -> dict[str, float]:
    """seed_demo(cases=N), with each domain's seeder timed (to name a slow one)."""
    from rj.app import DOMAINS
    from rj.cli import seed_demo
    from rj.extensions import db

    timings: dict[str, float] = {}
    originals = {}
    with app.app_context():
        for domain in DOMAINS:
            try:
                mod = importlib.import_module(f"rj.{domain}.seed")
            except ImportError:
                continue
            if not hasattr(mod, "seed_demo"):
                continue
            original = originals[mod] = mod.seed_demo

            def timed(ctx, _original=original, _domain=domain):
                start = time.perf_counter()
                try:
                    return _original(ctx)
                finally:
                    timings[_domain] = time.perf_counter() - start
                    print(f"  seeded {_domain:<14} {timings[_domain]:8.1f}s", flush=True)

            mod.seed_demo = timed
        try:
            start = time.perf_counter()
            seed_demo(cases=cases)
            db.session.commit()
            timings["total"] = time.perf_counter() - start
        finally:
            for mod, original in originals.items():
                mod.seed_demo = original
    return timings


def sign_in(app, role: str):
    from rj.cli import DEMO_PASSWORD, DEMO_USERS

    email = next(e for e, _, r in DEMO_USERS if r.value == role)
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {role}: {response.status_code}")
    return client


def measure(app, repeat: int) -> list[dict]:
    from rj.extensions import db

    results = []
    clients: dict[str, object] = {}
    # Requests run outside any app context, as in production: each gets its own context and
    # database session, so nothing loaded by one request is reused by the next.
    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        for role, url in PAGES:
            client = clients.get(role) or clients.setdefault(role, sign_in(app, role))
            client.get(url)  # warm caches (templates, bank holidays) once
            times, queries, status = [], set(), None
            for _ in range(repeat):
                counter["n"] = 0
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                queries.add(counter["n"])
                status = response.status_code
            results.append({"role": role, "url": url, "status": status, "median": statistics.median(times),
                            "p95": percentile(times, 95), "queries": sorted(queries)})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10000, help="demo cases to load (default 10000)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (default 20)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL of an empty database (default: SQLite)")
    parser.add_argument("--migrations", action="store_true", help="build the schema with the migrations")
    parser.add_argument("--reset", action="store_true", help="drop every table in the database first")
    parser.add_argument("--keep", metavar="PATH", default=None,
                        help="SQLite file to keep: seeded on the first run, reused as it is on later runs")
    args = parser.parse_args(argv)

    tmp = None
    url = args.database_url
    reuse = False
    if url is None and args.keep:
        reuse = Path(args.keep).exists()
        url = f"sqlite:///{Path(args.keep).resolve()}"
    elif url is None:
        tmp = tempfile.TemporaryDirectory(prefix="rj-bench-")
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    app = build_app(url)
    print(f"Database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    if reuse:
        print("Reusing the seeded database as it is")
    else:
        create_schema(app, migrations=args.migrations, reset=args.reset)
        print(f"Seeding {args.cases} demo cases ...", flush=True)
        timings = seed(app, args.cases)
        print(f"  seeding took {timings.get('total', 0):.1f}s in all")
    results = measure(app, args.repeat)
    print()
    print(f"{'role':<12} {'page':<40} {'status':>6} {'median ms':>10} {'p95 ms':>9} {'queries':>8}")
    for r in results:
        q = "/".join(str(n) for n in r["queries"])
        print(f"{r['role']:<12} {r['url']:<40} {r['status']:>6} {r['median']:>10.1f} {r['p95']:>9.1f} {q:>8}")
    if tmp is not None:
        from rj.extensions import db

        with app.app_context():
            db.engine.dispose()
        tmp.cleanup()
    return 0 if all(r["status"] == 200 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
