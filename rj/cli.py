"""Service-wide commands: the first admin account, demo data and its log-ins."""
from __future__ import annotations

import getpass
import random
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask import Flask
from sqlalchemy import func, select

from rj.core.permissions import Role
from rj.core.time import now_utc

DEMO_PASSWORD = "demo-password-123"
DEMO_USERS = [
    ("coordinator@rj.example", "Priya Coordinator", Role.COORDINATOR),
    ("manager@rj.example", "Morgan Manager", Role.MANAGER),
    ("facilitator@rj.example", "Sam Facilitator", Role.FACILITATOR),
    ("admin@rj.example", "Alex Admin", Role.ADMIN),
]


@dataclass
class SeedContext:
    """Shared state for the domains' seed_demo(ctx) functions, called in dependency order."""

    rng: random.Random
    now: datetime
    cases: int
    users: dict = field(default_factory=dict)       # email -> User
    extra: dict = field(default_factory=dict)       # anything a later domain's seeder needs


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value)
    @click.option("--password", default=None, help="Prompted for if not given")
    def create_user_command(email, name, role, password):
        """Create an account (the first admin, for example)."""
        from rj.auth.services import create_user
        from rj.core.errors import DomainError
        from rj.extensions import db

        if password is None:
            password = getpass.getpass("Password (12 characters or more): ")
        try:
            create_user(email=email, name=name, role=Role(role), password=password)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.session.commit()
        click.echo(f"Created {role} account for {email}")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing if there are already accounts")
    @click.option("--cases", default=40, show_default=True, help="How many cases to generate")
    @click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data)")
    def seed_demo_command(if_empty, cases, seed):
        """Load realistic, fictional demo data. Idempotent: demo accounts are created once."""
        from rj.extensions import db

        n = seed_demo(cases=cases, seed=seed, if_empty=if_empty)
        db.session.commit()
        click.echo("Demo data already present" if n is None else f"Demo data loaded ({cases} cases requested)")

    @app.cli.command("demo-logins")
    def demo_logins_command():
        """Print the demo log-ins, one per role."""
        click.echo("Demo log-ins (password for all: %s)" % DEMO_PASSWORD)
        for email, name, role in DEMO_USERS:
            click.echo(f"  {role.value:<12} {email}")


def seed_demo(*, cases: int = 40, seed: int = 2026, if_empty: bool = False, now: datetime | None = None):
    from rj.app import DOMAINS, _domain_module
    from rj.auth.models import User
    from rj.auth.services import create_user
    from rj.extensions import db

    existing = db.session.scalar(select(func.count(User.id)))
    if if_empty and existing:
        return None
    ctx = SeedContext(rng=random.Random(seed), now=now or now_utc(), cases=cases)
    for email, name, role in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, now=ctx.now)
        ctx.users[email] = user
    if ctx.extra.get("_seeded"):
        return ctx
    for domain in DOMAINS:
        mod = _domain_module(domain, "seed")
        if mod is not None and hasattr(mod, "seed_demo"):
            mod.seed_demo(ctx)
            db.session.flush()
    return ctx
